"""Glue between ``https_fn.on_call`` and the front API: auth, input validation, errors.

``handle_call`` turns every failure into an ``HttpsError`` a client can show:
no auth → ``unauthenticated``; input that does not fit the pydantic model →
``invalid-argument`` (naming the field); a ``ChatError`` → its own code;
anything else → ``internal`` with a generic message (details go to the log).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from firebase_functions import https_fn
from pydantic import BaseModel, ValidationError

from .errors import ChatError
from .models import ChatResult

logger = logging.getLogger(__name__)

InputT = TypeVar("InputT", bound=BaseModel)


def _invalid_argument(error: ValidationError) -> https_fn.HttpsError:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "data"
    return https_fn.HttpsError(https_fn.FunctionsErrorCode.INVALID_ARGUMENT, f"Invalid {field}: {first['msg']}.")


def handle_call(
    request: https_fn.CallableRequest[Any],
    input_model: type[InputT],
    action: Callable[[str, InputT], ChatResult],
) -> dict[str, Any]:
    """Authenticate, validate ``request.data`` as ``input_model``, run ``action(uid, input)``.

    Returns the ``ChatResult`` as the callable's JSON: ``{chatDocument, status, data}``.
    """
    if request.auth is None or not request.auth.uid:
        raise https_fn.HttpsError(https_fn.FunctionsErrorCode.UNAUTHENTICATED, "Sign in to chat.")
    try:
        payload = input_model.model_validate(request.data if request.data is not None else {})
    except ValidationError as error:
        raise _invalid_argument(error) from None
    try:
        return action(request.auth.uid, payload).to_document()
    except ChatError as error:
        raise https_fn.HttpsError(https_fn.FunctionsErrorCode(error.code.value), error.message) from None
    except Exception:
        logger.exception("callable failed")
        raise https_fn.HttpsError(
            https_fn.FunctionsErrorCode.INTERNAL, "Something went wrong. Please try again."
        ) from None
