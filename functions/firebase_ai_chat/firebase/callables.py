"""Glue between ``https_fn.on_call`` and the front API: auth, input validation, errors.

``handle_call`` turns every failure into an ``HttpsError`` a client can show:
no auth → ``unauthenticated``; input that does not fit the pydantic model →
``invalid-argument`` (naming the field); a ``ChatError`` → its own code;
anything else → ``internal`` with a generic message (details go to the log).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import flask
from firebase_functions import https_fn
from pydantic import BaseModel, ValidationError

from ..errors import ChatError, ErrorCode
from ..models import ChatResult

logger = logging.getLogger(__name__)

InputT = TypeVar("InputT", bound=BaseModel)


def readable(error: ValidationError) -> str:
    """The first problem of ``error`` in words a person can read (no pydantic phrasing)."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    kind, context = first["type"], first.get("ctx") or {}
    if not field:
        return "The request must be an object of named fields."
    messages = {
        "extra_forbidden": f"{field} is not a field this call takes.",
        "missing": f"{field} is required.",
        "string_type": f"{field} must be text.",
        "string_too_short": f"{field} must not be empty.",
        "string_too_long": f"{field} must be at most {context.get('max_length')} characters.",
        "value_error": f"{field}: {context.get('error')}.",
        "greater_than_equal": f"{field} must be at least {context.get('ge')}.",
        "string_pattern_mismatch": f"{field} must match {context.get('pattern')}.",
    }
    return messages.get(kind, f"{field} {first['msg']}.")


@dataclass(frozen=True)
class Caller:
    """Who called: the signed-in user's id and the claims of their ID token (custom claims included)."""

    uid: str
    claims: Mapping[str, Any] = field(default_factory=dict)


def handle_call(
    request: https_fn.CallableRequest[Any],
    input_model: type[InputT],
    action: Callable[[Caller, InputT], ChatResult | BaseModel | Mapping[str, Any]],
) -> Any:
    """Authenticate, validate ``request.data`` as ``input_model``, run ``action(caller, input)``.

    Returns the result as the callable's JSON: a ``ChatResult`` as ``{chatDocument, status, data}``,
    another model as its JSON (by alias), a mapping as is.
    """
    if request.auth is None or not request.auth.uid:
        raise _rejected(https_fn.FunctionsErrorCode.UNAUTHENTICATED, "Sign in to chat.", None)
    caller = Caller(uid=request.auth.uid, claims=dict(request.auth.token or {}))
    uid = caller.uid
    try:
        payload = input_model.model_validate(request.data if request.data is not None else {})
    except ValidationError as error:
        raise _rejected(https_fn.FunctionsErrorCode.INVALID_ARGUMENT, readable(error), uid) from None
    try:
        return _answer(action(caller, payload))
    except ChatError as error:
        raise _rejected(https_fn.FunctionsErrorCode(error.code.value), error.message, uid) from None
    except Exception:
        logger.exception("callable failed", extra={"userId": uid})
        raise https_fn.HttpsError(
            https_fn.FunctionsErrorCode.INTERNAL, "Something went wrong. Please try again."
        ) from None


def _answer(result: ChatResult | BaseModel | Mapping[str, Any]) -> Any:
    if isinstance(result, ChatResult):
        return result.to_document()
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", by_alias=True)
    return dict(result)


def _rejected(code: https_fn.FunctionsErrorCode, message: str, uid: str | None) -> https_fn.HttpsError:
    """A rejected call: logged at warning level with its code, answered with an ``HttpsError``."""
    _log_rejected(code, message, uid)
    return https_fn.HttpsError(code, message)


def rejected_response(
    code: ErrorCode, message: str, http_status: int | None = None, uid: str | None = None
) -> flask.Response:
    """A request refused outside ``on_call`` (e.g. by an ``on_request`` function): logged like a
    rejected call, answered with the callable protocol's envelope ``{"error": {status, message}}`` and
    the code's HTTP status (``http_status``: another, e.g. 405 for a method not allowed)."""
    _log_rejected(https_fn.FunctionsErrorCode(code.value), message, uid)
    body = json.dumps({"error": {"status": code.status, "message": message}})
    return flask.Response(body, status=http_status or code.http_status, mimetype="application/json")


def _log_rejected(code: https_fn.FunctionsErrorCode, message: str, uid: str | None) -> None:
    logger.warning("call rejected (%s): %s", code.value, message, extra={"code": code.value, "userId": uid})
