"""App Check on a ``ChatApp``'s callables and its ``chatEvents`` stream.

``ChatApp(app_check=True)`` (or ``AppCheck(...)``) declares every callable
with firebase-functions' ``enforce_app_check=True``: a call without a valid
``X-Firebase-AppCheck`` token is ``unauthenticated`` before the handler runs,
so it changes nothing. ``chatEvents`` (an ``on_request`` function, which
firebase-functions does not check) verifies the same header with
``firebase_admin.app_check.verify_token`` before any read, and refuses with
401 and the callables' error envelope.

Replay protection (``AppCheck(consume_tokens=True)``): firebase-functions
0.6.0 has no option for it (no ``consume_app_check_token``), so the handler
verifies the token again with ``consume=True`` (the Admin SDK asks App
Check's backend) and refuses a token used before. Clients must then send
limited-use tokens (``getLimitedUseToken`` in the JS SDK, e.g.
``limitedUseAppCheckTokens: true`` on ``httpsCallable``), one per call.

firebase-tools' deploy manifest has no App Check field: enforcement lives in
the functions' code (``tests/test_app_check.py`` checks it at run time).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import flask
from firebase_admin import app_check
from firebase_functions import https_fn

from ..errors import ErrorCode
from .admin import firebase_app
from .callables import rejected_response

logger = logging.getLogger(__name__)

APP_CHECK_HEADER = "X-Firebase-AppCheck"
REFUSED = "This app could not be verified (App Check). Update or reload the app and try again."


@dataclass(frozen=True)
class AppCheck:
    """How a ``ChatApp`` enforces App Check (``ChatApp(app_check=True)`` is ``AppCheck()``)."""

    consume_tokens: bool = False
    """Replay protection: each token is accepted once (clients send limited-use tokens)."""
    events: bool = True
    """Enforce it on ``chatEvents`` too (clients send ``X-Firebase-AppCheck`` with the ID token)."""


def app_check_setting(setting: bool | AppCheck | None) -> AppCheck | None:
    """``ChatApp(app_check=...)`` as options: ``None`` when it is off."""
    if isinstance(setting, AppCheck):
        return setting
    return AppCheck() if setting else None


def verified_app(headers: Any, check: AppCheck) -> dict[str, Any] | None:
    """The App Check token's claims, or ``None`` when it is missing, invalid, or (with
    ``consume_tokens``) was used before."""
    token = headers.get(APP_CHECK_HEADER)
    if not token:
        return None
    try:
        claims = app_check.verify_token(token, app=firebase_app(), consume=check.consume_tokens)
    except Exception as error:  # any failure to verify is a refusal (details in the log only)
        logger.warning("App Check token refused: %s", error)
        return None
    if claims.get("already_consumed"):
        logger.warning("App Check token refused: used before (replay protection)")
        return None
    return dict(claims)


def refused_events_request(request: flask.Request, check: AppCheck | None) -> flask.Response | None:
    """For ``chatEvents``: 401 ``unauthenticated`` without a valid token, else ``None`` (go on)."""
    if check is None or not check.events or verified_app(request.headers, check) is not None:
        return None
    return rejected_response(ErrorCode.UNAUTHENTICATED, REFUSED)


def consume_call_token(request: https_fn.CallableRequest[Any], check: AppCheck | None) -> None:
    """For a callable with replay protection: consume its token (firebase-functions verified it
    already); a token used before is ``unauthenticated``."""
    if check is None or not check.consume_tokens:
        return
    if verified_app(request.raw_request.headers, check) is None:
        raise https_fn.HttpsError(https_fn.FunctionsErrorCode.UNAUTHENTICATED, REFUSED)
