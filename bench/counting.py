"""One counting wrapper around the Firestore client's RPC layer, shared by the benchmarks.

``counted_client(tally)`` gives a Firestore client (on the emulator the environment names) whose
document reads, commits and transactions are reported to the ``Tally`` that ``tally()`` returns at
that moment, so a benchmark decides what one count belongs to (a turn, a phase) by swapping it.
Reads are what Firestore bills: each document a get returns (found or missing) and each document a
query returns, an empty query counting one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from google.cloud import firestore
from google.cloud.firestore_v1.types import write as write_types


class Tally(Protocol):
    """What a benchmark counts; each method is told one event of the RPC layer."""

    def on_rpc(self) -> None: ...

    def on_reads(self, documents: int) -> None: ...

    def on_commit(self, writes: Sequence[write_types.Write]) -> None: ...

    def on_transaction(self) -> None: ...


class _CountingApi:
    """Wraps the GAPIC Firestore client; every other attribute is the client's own."""

    def __init__(self, api: Any, tally: Callable[[], Tally]) -> None:
        self._api = api
        self._tally = tally

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    def batch_get_documents(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        tally = self._tally()
        tally.on_rpc()
        for response in self._api.batch_get_documents(*args, **kwargs):
            if response.found or response.missing:
                tally.on_reads(1)
            yield response

    def run_query(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        tally = self._tally()
        tally.on_rpc()
        found = 0
        for response in self._api.run_query(*args, **kwargs):
            found += 1 if response.document else 0
            yield response
        tally.on_reads(max(1, found))  # Firestore bills an empty query as one read

    def commit(self, *args: Any, **kwargs: Any) -> Any:
        tally = self._tally()
        tally.on_rpc()
        tally.on_commit([_pb(write) for write in kwargs["request"]["writes"]])
        return self._api.commit(*args, **kwargs)

    def begin_transaction(self, *args: Any, **kwargs: Any) -> Any:
        tally = self._tally()
        tally.on_rpc()
        tally.on_transaction()
        return self._api.begin_transaction(*args, **kwargs)

    def rollback(self, *args: Any, **kwargs: Any) -> Any:
        self._tally().on_rpc()
        return self._api.rollback(*args, **kwargs)


def _pb(write: Any) -> Any:
    """The protobuf message of one ``Write`` (the client hands either form)."""
    return write if hasattr(write, "WhichOneof") else write_types.Write.pb(write)


def counted_client(tally: Callable[[], Tally]) -> firestore.Client:
    """A new Firestore client, like the library's, whose RPCs are reported to ``tally()``."""
    from firebase_ai_chat.firebase.admin import firestore_client

    base = firestore_client()
    client = firestore.Client(project=base.project, credentials=base._credentials)
    client._firestore_api_internal = _CountingApi(client._firestore_api, tally)
    return client
