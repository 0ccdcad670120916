"""The object ``query()`` returns: a walk over every matching record, fed by a supervisor task.

The walk itself runs in the client's task group (``_pagination.run_walk``); a :class:`Query` only
holds the receiving end of its memory stream and the walk's cancel scope, so the consumer's frame
owns no task group and a bare ``break`` can stop the walk at once. It knows nothing of the client
but a function that starts a walk and one that says whether the client is still open.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream

from ._cursor import Cursor
from ._pagination import DONE, Batch, Item, Record, WalkPlan, WalkStats
from .errors import AeoppError, ClientStateError

__all__ = ["Query", "WalkHandle"]

R = TypeVar("R", bound=Record)
Q = TypeVar("Q", bound="Query[Any]")


@attrs.define
class WalkHandle(Generic[R]):
    """A running walk: its cancel scope and the stream its batches arrive on."""

    scope: anyio.CancelScope
    receive: MemoryObjectReceiveStream[Item[R]]

    def close(self) -> None:
        """Stop the walk now: synchronous, so a finalizer may call it."""
        self.scope.cancel()
        self.receive.close()


#: Starts a walk of ``plan`` that counts into ``stats``.
StartWalk = Callable[[WalkPlan, WalkStats], WalkHandle[R]]


def _stop_walk(handle: WalkHandle[Any], loop: asyncio.AbstractEventLoop | None) -> None:
    """Finalizer: ask the walk to stop (from the loop's thread; a no-op once the loop is gone)."""
    if loop is None or loop.is_closed():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        handle.close()
    else:
        loop.call_soon_threadsafe(handle.close)


class Query(Generic[R]):
    """A walk over every record a query matches: an async iterator and an async context manager.

    ``cursor`` is where the walk stands after the last record yielded; pass it back as
    ``query(..., resume=cursor)`` to continue with no gap and no duplicate. Errors raised mid-walk
    carry it too (``error.cursor``). Leaving the loop early (``break``, an exception, cancellation)
    stops the requests in flight at once; inside ``async with`` that happens at a known point.
    A query object walks once.
    """

    def __init__(
        self,
        plan: WalkPlan,
        start: StartWalk[R],
        is_open: Callable[[], bool],
    ) -> None:
        self.plan = plan
        self.stats = WalkStats()
        self._start_walk = start
        self._is_open = is_open
        self._handle: WalkHandle[R] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._buffer: list[R] = []
        self._positions: list[int] | None = None
        self._index = 0
        self._finished = False
        self._cursor: Cursor | None = plan.resume
        self._mark: int | None = None  # last id yielded (>= 0), or -1 - position (non-id sorts)

    def __repr__(self) -> str:
        state = "finished" if self._finished else ("running" if self._handle else "not started")
        return f"<{type(self).__name__} sort_by={self.plan.sort_by} {self.plan.sort_order} {state}>"

    @property
    def cursor(self) -> Cursor | None:
        """Where to resume after the last record yielded (None before the first one)."""
        mark, self._mark = self._mark, None
        if mark is not None:
            plan = self.plan
            if mark >= 0:
                self._cursor = Cursor(plan.sort_by, plan.sort_order, last_id=mark)
            else:
                self._cursor = Cursor(plan.sort_by, plan.sort_order, offset=-1 - mark)
        return self._cursor

    @property
    def total_results(self) -> int | None:
        """The number of matches the first page reported (None before it, or with output=bulk)."""
        return self.stats.total_results

    def _start(self) -> WalkHandle[R]:
        if self._handle is None:
            if self._finished:
                raise ClientStateError("this query has finished; call client.query() again to walk again")
            self._handle = self._start_walk(self.plan, self.stats)
            loop = asyncio.get_running_loop()
            self._finalizer = weakref.finalize(self, _stop_walk, self._handle, loop)
            self._finalizer.atexit = False
        return self._handle

    def __aiter__(self: Q) -> Q:
        return self

    def __iter__(self) -> None:
        raise TypeError(f"{type(self).__name__} is asynchronous: use `async for`, not `for`")

    async def __anext__(self) -> R:
        if self._index < len(self._buffer):
            return self._take()
        if self._finished:
            raise StopAsyncIteration
        handle = self._start()
        try:
            item = await handle.receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._finish()
            if not self._is_open():
                raise ClientStateError("the client was closed during the walk") from None
            raise StopAsyncIteration from None
        if isinstance(item, Batch):
            self._buffer = list(item.records)
            self._positions = list(item.positions) if item.positions is not None else None
            self._index = 0
            return self._take()
        self._finish()
        if item is DONE:
            raise StopAsyncIteration
        assert isinstance(item, BaseException)
        if isinstance(item, AeoppError):
            item.cursor = self.cursor
        raise item

    def _take(self) -> R:
        record = self._buffer[self._index]
        # Where the walk stands, as plain values: the Cursor is only built when someone asks.
        self._mark = record.id if self._positions is None else -1 - self._positions[self._index]
        self._index += 1
        return record

    def _finish(self) -> None:
        self._finished = True
        if self._handle is not None:
            self._handle.close()
        if self._finalizer is not None:
            self._finalizer.detach()

    async def aclose(self) -> None:
        """Stop the walk: cancel what is in flight. Records already buffered are dropped."""
        self._buffer = []
        self._index = 0
        if self._handle is not None and not self._finished:
            self._finish()
        self._finished = True

    async def __aenter__(self: Q) -> Q:
        self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def to_list(self) -> list[R]:
        """Collect the whole walk (mind the memory for large queries)."""
        async with self:
            return [record async for record in self]
