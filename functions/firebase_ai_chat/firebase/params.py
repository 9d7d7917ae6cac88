"""The app's settings as Firebase params: the model key is a secret, the rest are string params."""

from __future__ import annotations

from firebase_functions import params

from ..engines.gemini import settings as gemini

OPENAI_API_KEY = params.SecretParam("OPENAI_API_KEY")
"""The model key: a Secret Manager secret when deployed, ``functions/.secret.local`` on the emulators."""
OPENAI_MODEL = params.StringParam("OPENAI_MODEL", default="gpt-4.1-mini")
"""The model of assistants that name none (``functions/.env.local`` on the emulators)."""
OPENAI_API_MODE = params.StringParam("OPENAI_API_MODE", default="responses")
"""``chat`` for Chat Completions (any OpenAI-compatible server at ``OPENAI_BASE_URL``); else the Responses API."""
OPENAI_STREAM = params.StringParam("OPENAI_STREAM", default="1")
"""``0`` turns streaming off."""
OPENAI_STORE = params.StringParam("OPENAI_STORE", default="true")
"""``false``: the Responses engine keeps no state on the server (``store: false``, the history sent
each turn), for servers that keep none and organizations with zero data retention."""
GEMINI_API_KEY = params.SecretParam("GEMINI_API_KEY")
"""The Gemini Developer API's key (Vertex AI needs none: ``GOOGLE_GENAI_USE_VERTEXAI=true``)."""
GEMINI_MODEL = params.StringParam("GEMINI_MODEL", default=gemini.DEFAULT_MODEL)
"""The Gemini model of assistants that name none."""
GEMINI_BASE_URL = params.StringParam("GEMINI_BASE_URL", default="")
"""Any Gemini-compatible endpoint (a proxy, the tests' fake server); empty: Google's."""
CHAT_ENGINE = params.StringParam("CHAT_ENGINE", default="auto")
"""The engine of assistants that name none: ``openai``, ``gemini``, ``offline``, or ``auto`` (the one whose
key is set: ``OPENAI_API_KEY``, or ``GEMINI_API_KEY`` / ``GOOGLE_GENAI_USE_VERTEXAI=true``)."""
CHAT_PAUSED = params.BoolParam("CHAT_PAUSED", default=False)
"""The global switch: ``true`` stops every model call of the app (posts are refused with ``unavailable``,
runs end their turn before their next model call). Off by default."""


def secret_params(names: tuple[str, ...]) -> list[params.SecretParam]:
    """The secrets named (the model keys above are the same objects), for a function's ``secrets``."""
    known = {secret.name: secret for secret in (OPENAI_API_KEY, GEMINI_API_KEY)}
    return [known.get(name) or params.SecretParam(name) for name in names]
