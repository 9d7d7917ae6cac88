"""The app's settings as Firebase params: the model key is a secret, the rest are string params."""

from __future__ import annotations

from firebase_functions import params

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
CHAT_PAUSED = params.BoolParam("CHAT_PAUSED", default=False)
"""The global switch: ``true`` stops every model call of the app (posts are refused with ``unavailable``,
runs end their turn before their next model call). Off by default."""
