"""The ``google-genai`` client the Gemini engine uses, configured from the environment.

- The Gemini Developer API: ``GEMINI_API_KEY`` (a secret).
- Vertex AI, with no key: ``GOOGLE_GENAI_USE_VERTEXAI=true``; the credential is the runtime's
  Application Default Credentials (a deployed function's service account), the project
  ``GOOGLE_CLOUD_PROJECT`` (set on deployed functions), the region ``GOOGLE_CLOUD_LOCATION``
  (default ``global``).
- ``GEMINI_BASE_URL``: any Gemini-compatible endpoint (a proxy, the tests' fake server); the paths
  under it are the API's own (``v1/models/…``, or ``v1beta1/projects/…/locations/…`` on Vertex AI).
- ``GEMINI_MODEL``: the default model (``settings.DEFAULT_MODEL``); ``GEMINI_TIMEOUT`` (seconds, default 60)
  and ``GEMINI_MAX_RETRIES`` (default 2) tune the SDK's own retries of 408, 429 and 5xx.
"""

from __future__ import annotations

import os

from google import genai
from google.genai import types

from .settings import DEFAULT_LOCATION, uses_vertex


def client_from_environment() -> genai.Client:
    """A client for the Gemini API or Vertex AI (see the module)."""
    retries = int(os.environ.get("GEMINI_MAX_RETRIES", "2"))
    http_options = types.HttpOptions(
        timeout=int(float(os.environ.get("GEMINI_TIMEOUT", "60")) * 1000),
        retry_options=types.HttpRetryOptions(attempts=retries + 1, initial_delay=0.5, max_delay=10),
        base_url=os.environ.get("GEMINI_BASE_URL") or None,
    )
    if uses_vertex():
        project = os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCLOUD_PROJECT")
        location = os.environ.get("GOOGLE_CLOUD_LOCATION") or DEFAULT_LOCATION
        return genai.Client(vertexai=True, project=project, location=location, http_options=http_options)
    return genai.Client(vertexai=False, api_key=os.environ.get("GEMINI_API_KEY"), http_options=http_options)
