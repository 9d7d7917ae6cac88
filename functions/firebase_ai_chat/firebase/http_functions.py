"""A ``ChatApp``'s plain HTTP functions: ``chatEvents`` (a chat as Server-Sent Events) and its OpenAPI
document (``HttpFunctions``, a part of ``ChatApp``; see ``app``).

Both answer ``GET`` only: any other method is 405 with ``Allow: GET`` and the callables' error
envelope (``OPTIONS``, the browsers' CORS preflight, is answered by firebase-functions first).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import flask
from firebase_functions import https_fn, options

from .._version import __version__
from ..errors import ErrorCode
from .admin import firestore_client
from .app_check import refused_events_request
from .callables import rejected_response
from .process import declared, verify_id_token
from .settings import AppSettings
from .specs import ALLOWED_METHODS, Catalog
from .stream_slots import DEFAULT_STREAMS_PER_USER, streams_collection

DEFAULT_REGION = "us-central1"
"""Where Firebase deploys a function that names no region."""


class HttpFunctions:
    """Declares an app's ``chatEvents`` and ``openapi`` functions; its OpenAPI document lists what
    ``catalog`` holds."""

    def __init__(self, settings: AppSettings, catalog: Catalog) -> None:
        self._settings = settings
        self._catalog = catalog

    def _refused_events(self, request: flask.Request) -> flask.Response | None:
        """``chatEvents``' App Check (``app_check``): a refusal, or ``None`` to go on."""
        return refused_events_request(request, self._settings.app_check)

    def events_function(
        self,
        name: str = "chatEvents",
        *,
        max_seconds: int = 300,
        streams_per_user: int | None = DEFAULT_STREAMS_PER_USER,
    ) -> Callable[..., Any]:
        """The HTTP function that streams a chat's events (Server-Sent Events; see ``sse``); a
        connection lasts at most ``max_seconds``, then the client reconnects with ``Last-Event-ID``.
        One user may have ``streams_per_user`` streams open at once (``None``: any number), counted
        in ``{collection}Streams/{uid}`` across every events function of the app's chats
        (``stream_slots``); one more is refused with ``resource-exhausted`` (429)."""
        if streams_per_user is not None and streams_per_user < 1:
            raise ValueError(f"streams_per_user must be at least 1 (or None), not {streams_per_user}")
        timeout = max_seconds + 60

        def handler(request: flask.Request) -> flask.Response:
            # Imported on the first request (they need the Firestore SDK): not by every function's import.
            from .sse import serve_chat_events
            from .stream_lease import StreamLease

            refused = self._refused_events(request)  # App Check, before any read
            if refused is not None:
                return refused
            db = firestore_client()
            lease = None
            if streams_per_user is not None:
                slots = streams_collection(self._settings.collection)
                lease = StreamLease(db, slots, streams_per_user, lifetime=timedelta(seconds=timeout))
            return serve_chat_events(
                request,
                db=db,
                collection=self._settings.collection,
                verify=verify_id_token,
                max_seconds=max_seconds,
                lease=lease,
            )

        declared(name, handler)
        self._catalog.events = name
        cors = options.CorsOptions(cors_origins="*", cors_methods=list(ALLOWED_METHODS))
        return https_fn.on_request(region=self._settings.region, timeout_sec=timeout, cors=cors)(handler)

    def openapi(
        self, *, title: str = "firebase-ai-chat", servers: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The OpenAPI 3.1 document of the app's callables and event stream (from its pydantic models)."""
        from .openapi import document  # the event models and JSON Schema generation: on first use

        return document(
            title=title,
            version=__version__,
            callables=self._catalog.callables,
            events=self._catalog.events,
            collection=self._settings.collection,
            itself=self._catalog.openapi,
            servers=servers or [],
        )

    def openapi_function(self, name: str = "openapi", **settings: Any) -> Callable[..., Any]:
        """The HTTP function that answers ``GET`` with ``openapi(**settings)`` as JSON, its ``servers``
        led by the address the function was reached at (on the emulators: the request's host and port;
        deployed: ``https://{region}-{project}.cloudfunctions.net``)."""

        def handler(request: flask.Request) -> flask.Response:
            if request.method not in ALLOWED_METHODS:
                refused = rejected_response(ErrorCode.INVALID_ARGUMENT, "Use GET.", 405)
                refused.headers["Allow"] = ", ".join(ALLOWED_METHODS)
                return refused
            served = self._served_from(request)
            servers = [*served, *settings.get("servers", [])]
            body = json.dumps(self.openapi(**{**settings, "servers": servers}), indent=2)
            return flask.Response(body, mimetype="application/json")

        declared(name, handler)
        self._catalog.openapi = name
        cors = options.CorsOptions(cors_origins="*", cors_methods=list(ALLOWED_METHODS))
        return https_fn.on_request(region=self._settings.region, cors=cors)(handler)

    def _served_from(self, request: flask.Request) -> list[dict[str, Any]]:
        """The server this document was served from (none when the project is unknown)."""
        project = os.environ.get("GCLOUD_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT")
        if not project:
            return []
        from .openapi import deployment_url

        emulated = os.environ.get("FUNCTIONS_EMULATOR") == "true"
        url = deployment_url(
            project=project,
            region=self._settings.region or DEFAULT_REGION,
            emulator_host=request.host if emulated else None,
        )
        return [{"url": url, "description": "Where this document was served from"}]
