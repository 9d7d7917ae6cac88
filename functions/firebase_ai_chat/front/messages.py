"""The user's messages of one call, as stored (ids derived from the client's key when it gave one)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..models import Author, ChatMessage, ChatMeta
from .client_keys import CREATED, message_id


def user_messages(
    *,
    new_id: Callable[[], str],
    user_id: str,
    dispatch_id: str,
    texts: Sequence[str],
    meta: ChatMeta | None,
    key: str | None,
    namespace: str = CREATED,
) -> dict[str, ChatMessage]:
    """The user's messages of one call, by id (derived from the client's key in ``namespace`` when there
    is a key)."""
    message_meta = meta.user_message_meta if meta else None
    ids = [message_id(user_id, key, index, namespace) if key else new_id() for index in range(len(texts))]
    return {
        ids[index]: ChatMessage(
            user_id=user_id,
            author=Author.USER,
            text=text,
            meta=message_meta,
            dispatch_id=dispatch_id,
            in_batch_sort_index=index,
        )
        for index, text in enumerate(texts)
    }
