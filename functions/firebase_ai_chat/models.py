"""Pydantic models for everything that crosses a boundary.

Firestore documents and task payloads use camelCase field names (what clients
and the reference TypeScript library read); Python code uses snake_case.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, WithJsonSchema, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from ._lazy_model import LazyModel
from .errors import ChatError, ErrorCode
from .status import ChatStatus

MAX_MESSAGE_LENGTH = 4000
"""Longest user message accepted by the callables, in characters."""

DOCUMENT_ID = r"(?!__.*__$)[A-Za-z0-9_-]{1,128}"
"""A document id the library accepts from outside: letters, digits, ``_`` and ``-``, never
``__…__`` (Firestore reserves those ids and rejects them)."""

CHAT_DOCUMENT_PATTERN = re.compile(rf"^({DOCUMENT_ID})/({DOCUMENT_ID})$")
"""A chat document path as clients send it: ``{collection}/{chatId}`` (``chats/{chatId}`` by default)."""
CHATS = "chats"
"""The default collection of chats."""


def chat_document_pattern(collection: str) -> str:
    """A chat of ``collection`` as clients name it, ``{collection}/{chatId}``: what the callables and
    ``chatEvents`` accept (and what the OpenAPI document states)."""
    return rf"^{collection}/({DOCUMENT_ID})$"


CLIENT_MESSAGE_ID_MAX_LENGTH = 128
CLIENT_MESSAGE_ID_PATTERN = rf"^[A-Za-z0-9_-]{{1,{CLIENT_MESSAGE_ID_MAX_LENGTH}}}$"
"""A client's idempotency key for a call (``clientMessageId``)."""

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u2800\u3164\uffa0")
"""Fillers that Unicode files as letters or symbols but that render as nothing."""


def is_blank(text: str) -> bool:
    """Whether ``text`` shows nothing: only spaces, controls, zero-width or other invisible characters."""
    return all(
        char.isspace() or char in _INVISIBLE_LETTERS or unicodedata.category(char) in _INVISIBLE_CATEGORIES
        for char in text
    )


class Model(LazyModel):
    """Base: camelCase on the wire, snake_case in Python, unknown fields ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, regex_engine="python-re")

    def to_document(self) -> dict[str, Any]:
        """The Firestore / JSON representation."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Author(StrEnum):
    """Who wrote a message."""

    USER = "user"
    AI = "ai"


class AssistantConfig(Model):
    """One assistant: which engine runs it, with what model and instructions, and whose tools."""

    engine: str
    assistant_id: str
    dispatcher_id: str
    model: str | None = None
    instructions: str = ""
    context_tokens: int | None = Field(default=None, gt=0)
    """Token budget of the history a stateless engine (Chat Completions) sends per turn."""
    message_meta: dict[str, Any] | None = None
    """Merged over the chat's ``ai_message_meta`` into this assistant's messages (e.g. its ``name``)."""


class ChatConfig(AssistantConfig):
    """The active assistant plus the hand-over stack (``stack[-1]`` is the one to hand back to)."""

    stack: list[AssistantConfig] = Field(default_factory=list)

    @property
    def assistant(self) -> AssistantConfig:
        """The active assistant alone."""
        return AssistantConfig.model_validate(self.model_dump(exclude={"stack"}))


class ChatMeta(Model):
    """Chat-wide metadata merged into every message of the given author."""

    ai_message_meta: dict[str, Any] | None = None
    user_message_meta: dict[str, Any] | None = None


class ErrorInfo(Model):
    """Why a chat failed, in words a client can show: ``chats/{id}.error``."""

    code: ErrorCode
    message: str


class RunClaim(Model):
    """A run that keeps losing its commits to posts holds the chat for its next commit (``claims.py``)."""

    dispatch_id: str
    token: str
    """Tells one claim from the next (a post waits for each claim once)."""


class ChatState(Model):
    """``chats/{chatId}``: what the owner's client reads."""

    user_id: str
    status: ChatStatus
    data: dict[str, Any] = Field(default_factory=dict)
    config: ChatConfig
    meta: ChatMeta | None = None
    latest_dispatch_id: str
    next_dispatch_id: str | None = None
    """Set while messages posted during a run wait for the next run (their ``dispatchId``)."""
    single_run: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    error: ErrorInfo | None = None
    stop_requested: str | None = None
    """The dispatch whose answer the owner asked to stop (set by ``stop``, cleared when it stopped)."""
    stopped_dispatch_id: str | None = None
    """The last dispatch whose answer the owner stopped (its messages show what was said until then)."""
    run_claim: RunClaim | None = None
    """Set by a run about to commit after losing to posts; posts wait until its commit clears it."""

    def is_running(self, dispatch_id: str) -> bool:
        """Whether ``dispatch_id`` is the live run: the chat is ``processing`` it."""
        return self.status is ChatStatus.PROCESSING and self.latest_dispatch_id == dispatch_id


class ChatMessage(Model):
    """``chats/{chatId}/messages/{messageId}``."""

    user_id: str
    author: Author
    text: str
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    dispatch_id: str
    in_batch_sort_index: int = 0
    streaming: bool = False
    """True while an AI message is still being streamed (its text grows until it turns False)."""
    stopped: bool | None = None
    """True on an AI message whose answer the user stopped: the text is what was written until then."""
    created_at: datetime | None = None


class ChatResult(Model):
    """What every callable returns: ``{chatDocument, status, data}``."""

    chat_document: str
    status: ChatStatus
    data: dict[str, Any]


def chat_id_of(chat_document: str, collection: str = CHATS) -> str:
    """The id in ``{collection}/{id}``; ``invalid-argument`` for any other path."""
    match = CHAT_DOCUMENT_PATTERN.fullmatch(chat_document)  # not match: "$" also matches before a final "\n"
    if match is None or match.group(1) != collection:
        raise ChatError(ErrorCode.INVALID_ARGUMENT, f"chatDocument must look like {collection}/{{chatId}}.")
    return match.group(2)


class _Input(LazyModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, regex_engine="python-re")


class MessageInput(_Input):
    """Callable input that starts a chat: ``{message, clientMessageId?}``.

    ``clientMessageId`` makes the call idempotent for its user: a retry with the same id
    returns the first call's result and stores and runs nothing new.
    """

    message: str = Field(
        min_length=1,
        max_length=MAX_MESSAGE_LENGTH,
        description="Not blank: a message of only spaces, zero-width or other invisible characters is refused "
        "(invalid-argument), and so is one that is not valid Unicode (a lone surrogate).",
    )
    client_message_id: (
        Annotated[
            str,
            WithJsonSchema(
                {
                    "type": "string",
                    "pattern": CLIENT_MESSAGE_ID_PATTERN,
                    "minLength": 1,
                    "maxLength": CLIENT_MESSAGE_ID_MAX_LENGTH,
                    "description": "The idempotency key of the call. A key the user sent before with another "
                    "message is refused (invalid-argument: already used for another message).",
                }
            ),
        ]
        | None
    ) = Field(default=None, alias="clientMessageId")

    @field_validator("client_message_id")
    @classmethod
    def _client_id(cls, value: str | None) -> str | None:
        if value is not None and re.fullmatch(CLIENT_MESSAGE_ID_PATTERN, value) is None:
            raise PydanticCustomError("client_message_id", "must be 1 to 128 letters, digits, _ or -")
        return value

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if is_blank(value):
            raise PydanticCustomError("blank", "must not be blank")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise PydanticCustomError("unicode", "must be valid Unicode text") from None
        return value


class ChatDocumentInput(_Input):
    """Callable input naming an existing chat: ``{chatDocument}``."""

    chat_document: str = Field(alias="chatDocument", json_schema_extra={"pattern": CHAT_DOCUMENT_PATTERN.pattern})
    """The OpenAPI document states the app's own collection (``chat_document_pattern``)."""

    @field_validator("chat_document")
    @classmethod
    def _chat_path(cls, value: str) -> str:
        if CHAT_DOCUMENT_PATTERN.fullmatch(value) is None:
            raise PydanticCustomError(
                "chat_document", "must look like chats/{chatId} (letters, digits, _ and -; not __…__)"
            )
        return value

    def in_collection(self, collection: str) -> str:
        """The chat id, if the path names a chat of ``collection`` (``invalid-argument`` else)."""
        return chat_id_of(self.chat_document, collection)

    @property
    def chat_id(self) -> str:
        """The chat id inside the path, for the default collection ``chats``."""
        return chat_id_of(self.chat_document)


class PostMessageInput(ChatDocumentInput, MessageInput):
    """Callable input that posts to a chat: ``{chatDocument, message, clientMessageId?}``."""
