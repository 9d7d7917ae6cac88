"""The callables a ``ChatApp`` declares (``CallableFunctions``): the chat's own (start, post, close,
stop), ``deleteMyData`` and the app's own (``callable``), each with sign-in, payload validation,
readable errors and App Check when the app asks for it."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import flask
from firebase_functions import https_fn
from pydantic import BaseModel

from ..errors import ErrorCode
from ..models import ChatDocumentInput, ChatResult, MessageInput, PostMessageInput
from ..store.deletion import DeletedData, DeleteMyDataInput
from .app_check import consume_call_token
from .app_runtime import AppRuntime
from .callables import Caller, handle_call, rejected_response
from .process import declared
from .settings import AppSettings
from .specs import CALLABLE_ERRORS, CHAT_ERRORS, LIMIT_ERRORS, CallableSpec, Catalog

PayloadT = TypeVar("PayloadT", bound=BaseModel)

DELETE_TIMEOUT = 540
"""Seconds a ``deleteMyData`` call may take (50 chats of 200 messages take far less)."""


class CallableFunctions:
    """Declares an app's callables from its settings, on its runtime; each lands in ``catalog``."""

    def __init__(self, settings: AppSettings, runtime: AppRuntime, catalog: Catalog) -> None:
        self._settings = settings
        self._runtime = runtime
        self._catalog = catalog

    def callable(
        self,
        name: str,
        payload: type[PayloadT],
        *,
        result: type[BaseModel] | None = None,
        errors: Sequence[ErrorCode | str] = (),
    ) -> Callable[[Callable[[Caller, PayloadT], BaseModel | Mapping[str, Any]]], Callable[..., Any]]:
        """Decorates ``f(caller, payload)`` as the app's own callable ``name``, with the chat callables'
        handling: sign-in required, ``payload`` validated (readable ``invalid-argument``), a
        ``ChatError`` answered with its code, anything else ``internal`` (details in the log). ``f``
        returns a model (sent as its JSON) or a mapping; ``caller.claims`` holds the ID token's claims.
        ``result`` (the model ``f`` returns) and ``errors`` (the statuses of the ``ChatError``s it
        raises: ``ErrorCode.NOT_FOUND`` or its status name ``"NOT_FOUND"``) describe it in the app's
        OpenAPI document."""

        def register(function: Callable[[Caller, PayloadT], BaseModel | Mapping[str, Any]]) -> Callable[..., Any]:
            summary = (function.__doc__ or name).strip().split("\n")[0]
            self._catalog.callables.append(
                CallableSpec(name, summary, payload, result, (*CALLABLE_ERRORS, *map(ErrorCode.of, errors)))
            )
            return self._callable(name, lambda request: handle_call(request, payload, function))

        return register

    def _callable(
        self, name: str, handler: Callable[[https_fn.CallableRequest[Any]], Any], **settings: Any
    ) -> Callable[..., Any]:
        handler = declared(name, self._checked(handler))  # App Check's replay protection, when asked
        on_call = https_fn.on_call(region=self._settings.region, **self._call_options(), **settings)
        return _object_bodies_only(on_call(handler))

    def start_function(self, name: str, *, command_meta: Mapping[str, Any] | None = None) -> Callable[..., Any]:
        """The callable ``{message, clientMessageId?}`` → ``{chatDocument, status, data}`` that starts a chat."""
        first = self._settings.first

        def start(caller: Caller, payload: MessageInput) -> ChatResult:
            return self._runtime.chat.create(
                user_id=caller.uid,
                assistant=first,
                data=self._settings.data(),
                messages=[payload.message],
                meta=self._settings.meta,
                command_meta=command_meta,
                client_message_id=payload.client_message_id,
                limits=self._runtime.limits_for(caller),
            )

        errors = (*CALLABLE_ERRORS, *LIMIT_ERRORS)
        self._catalog.callables.append(
            CallableSpec(name, "Start a chat with a first message.", MessageInput, ChatResult, errors)
        )
        return self._callable(name, lambda request: handle_call(request, MessageInput, start))

    def post_function(self, name: str, *, command_meta: Mapping[str, Any] | None = None) -> Callable[..., Any]:
        """The callable ``{chatDocument, message, clientMessageId?}`` that posts to a chat."""

        def post(caller: Caller, payload: PostMessageInput) -> ChatResult:
            return self._runtime.chat.post_message(
                user_id=caller.uid,
                chat_id=payload.in_collection(self._runtime.store.collection),
                messages=[payload.message],
                command_meta=command_meta,
                client_message_id=payload.client_message_id,
                limits=self._runtime.limits_for(caller),
            )

        errors = (*CHAT_ERRORS, ErrorCode.RESOURCE_EXHAUSTED)
        self._catalog.callables.append(
            CallableSpec(name, "Post a message to a chat.", PostMessageInput, ChatResult, errors)
        )
        return self._callable(name, lambda request: handle_call(request, PostMessageInput, post))

    def close_function(self, name: str, *, command_meta: Mapping[str, Any] | None = None) -> Callable[..., Any]:
        """The callable ``{chatDocument}`` that closes a chat."""

        def close(caller: Caller, payload: ChatDocumentInput) -> ChatResult:
            chat_id = payload.in_collection(self._runtime.store.collection)
            return self._runtime.chat.close_chat(user_id=caller.uid, chat_id=chat_id, command_meta=command_meta)

        self._catalog.callables.append(CallableSpec(name, "Close a chat.", ChatDocumentInput, ChatResult, CHAT_ERRORS))
        return self._callable(name, lambda request: handle_call(request, ChatDocumentInput, close))

    def stop_function(self, name: str) -> Callable[..., Any]:
        """The callable ``{chatDocument}`` that stops the answer in progress (the owner only): the text
        so far is kept, marked ``stopped``; the chat returns to ``userInput``. A chat that is not
        ``processing`` is returned unchanged."""

        def stop(caller: Caller, payload: ChatDocumentInput) -> ChatResult:
            return self._runtime.chat.stop(
                user_id=caller.uid, chat_id=payload.in_collection(self._runtime.store.collection)
            )

        self._catalog.callables.append(
            CallableSpec(name, "Stop the answer in progress.", ChatDocumentInput, ChatResult, CHAT_ERRORS)
        )
        return self._callable(name, lambda request: handle_call(request, ChatDocumentInput, stop))

    def delete_data_function(self, name: str = "deleteMyData") -> Callable[..., Any]:
        """The callable ``{}`` → ``{deletedChats, deletedDocuments}`` that deletes the caller's data
        (``ChatApp.delete_user_data``)."""

        def delete(caller: Caller, payload: DeleteMyDataInput) -> DeletedData:
            return self._runtime.delete_user_data(caller.uid)

        summary = "Delete every chat of the caller with everything under it."
        self._catalog.callables.append(CallableSpec(name, summary, DeleteMyDataInput, DeletedData, CALLABLE_ERRORS))
        handler = lambda request: handle_call(request, DeleteMyDataInput, delete)  # noqa: E731
        return self._callable(name, handler, timeout_sec=DELETE_TIMEOUT)

    def _call_options(self) -> dict[str, Any]:
        """What every callable of the app is declared with (``https_fn.on_call``)."""
        return {"enforce_app_check": True} if self._settings.app_check else {}

    def _checked(
        self, handler: Callable[[https_fn.CallableRequest[Any]], Any]
    ) -> Callable[[https_fn.CallableRequest[Any]], Any]:
        """``handler`` after the replay protection of App Check (when the app asks for it)."""
        app_check = self._settings.app_check

        def checked(request: https_fn.CallableRequest[Any]) -> Any:
            consume_call_token(request, app_check)
            return handler(request)

        return checked


def _object_bodies_only(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` (an ``on_call`` function), answering a POST whose body is not a JSON object with
    ``invalid-argument`` (firebase-functions 0.6.0 fails on ``false`` or ``"x"`` with HTTP 500).
    ``functools.wraps`` keeps the endpoint's manifest for ``firebase deploy``."""

    @functools.wraps(endpoint)
    def guarded(request: flask.Request) -> Any:
        if request.method == "POST" and not isinstance(request.get_json(silent=True), dict):
            return rejected_response(
                ErrorCode.INVALID_ARGUMENT, 'The request body must be a JSON object: {"data": ...}.'
            )
        return endpoint(request)

    return guarded
