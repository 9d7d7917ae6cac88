"""Deleting a user's data: every chat of the user with everything under it.

``delete_user_chats`` pages through the user's chats (``ChatStore.chats_of``)
and deletes each one (``ChatStore.delete_chat``): the chat document first,
then the messages, runs, contexts, continuations and anything else under it.
Deleting the chat document first stops a run in progress at once (its
listener on the chat hears the deletion, ``stop.StopSignal``; failing that,
its next commit, preconditioned on the chat's update time, conflicts): the
delivery leaves as stale and deletes the partial streamed messages it wrote.
Queued tasks find no chat and are acknowledged; a continuation resumed later
returns ``False``. Idempotent: a second call finds nothing and deletes
nothing. Other users' chats are never read.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from .._lazy_model import LazyModel

if TYPE_CHECKING:
    from .port import ChatStore

logger = logging.getLogger(__name__)

PAGE = 100
"""Chats listed per query while deleting."""


class DeleteMyDataInput(LazyModel):
    """Callable input of ``deleteMyData``: nothing (the caller is the user whose data goes)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DeletedData(LazyModel):
    """What ``deleteMyData`` deleted: ``{deletedChats}``."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    deleted_chats: int = Field(description="Chats deleted with everything under them")
    deleted_documents: int = Field(description="Documents deleted in all: the chats, what was under them, usage")


def delete_user_chats(store: ChatStore, user_id: str) -> DeletedData:
    """Delete every chat of ``user_id`` (see the module); what was deleted."""
    chats = documents = 0
    while True:
        found = store.chats_of(user_id, limit=PAGE)
        if not found:
            break
        for chat_id in found:
            documents += store.delete_chat(chat_id)
        chats += len(found)
    logger.info("deleted %d chats (%d documents) of a user", chats, documents, extra={"userId": user_id})
    return DeletedData(deleted_chats=chats, deleted_documents=documents)
