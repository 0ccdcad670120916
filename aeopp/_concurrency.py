"""Concurrency building blocks on anyio: the client's shared limiter and an ordered, bounded fan-out."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Generic, TypeVar

import anyio
import attrs

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

__all__ = ["AdaptiveLimiter", "ordered_map", "plain_errors"]

log = logging.getLogger("aeopp")

K = TypeVar("K")
V = TypeVar("V")


class AdaptiveLimiter:
    """At most ``ceiling`` requests in flight, fewer while the server says "too many" (code 66).

    Each 66 lowers the limit by one (never below 1); every ``recover_after`` successes in a row
    raise it by one again, up to ``ceiling``. Several processes sharing one business unit's five
    slots converge this way without talking to each other.
    """

    def __init__(self, ceiling: int, *, recover_after: int = 20) -> None:
        self.ceiling = ceiling
        self._limiter = anyio.CapacityLimiter(ceiling)
        self._recover_after = recover_after
        self._successes = 0
        #: The highest number of requests this limiter had in flight at once.
        self.max_in_flight = 0

    @property
    def limit(self) -> int:
        return int(self._limiter.total_tokens)

    @property
    def in_flight(self) -> int:
        return self._limiter.borrowed_tokens

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot (wait for it first)."""
        borrower = object()
        await self._limiter.acquire_on_behalf_of(borrower)
        try:
            self.max_in_flight = max(self.max_in_flight, self._limiter.borrowed_tokens)
            yield
        finally:
            self._limiter.release_on_behalf_of(borrower)

    def too_many(self) -> None:
        """The server answered 66: back off one slot."""
        self._successes = 0
        if self._limiter.total_tokens > 1:
            self._limiter.total_tokens = self._limiter.total_tokens - 1
            log.info("aeopp: concurrency lowered to %d after code 66", self.limit)

    def success(self) -> None:
        if self._limiter.total_tokens >= self.ceiling:
            return
        self._successes += 1
        if self._successes >= self._recover_after:
            self._successes = 0
            self._limiter.total_tokens = self._limiter.total_tokens + 1
            log.debug("aeopp: concurrency raised to %d", self.limit)


@contextmanager
def plain_errors() -> Iterator[None]:
    """Re-raise an exception group holding one exception as that exception (anyio wraps even one)."""
    try:
        yield
    except BaseExceptionGroup as group:
        leaves = _leaves(group)
        non_cancel = [e for e in leaves if not isinstance(e, anyio.get_cancelled_exc_class())]
        if len(non_cancel) == 1:
            raise non_cancel[0] from None
        raise


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            out.extend(_leaves(exc))
        else:
            out.append(exc)
    return out


@attrs.define
class _Slot(Generic[V]):
    index: int
    done: anyio.Event = attrs.field(factory=anyio.Event)
    scope: anyio.CancelScope = attrs.field(factory=anyio.CancelScope)
    value: V | None = None
    error: BaseException | None = None


@asynccontextmanager
async def ordered_map(
    fn: Callable[[K], Awaitable[V]], keys: Iterable[K], *, window: int
) -> AsyncIterator[AsyncIterator[V]]:
    """Run ``fn`` over ``keys`` concurrently, at most ``window`` ahead, and give the results in key order.

    A failure is raised in its position, as its own type (never an exception group), after every
    earlier result; the work after it is cancelled at once and no new work starts (its results
    could never be delivered). Leaving the ``async with`` cancels what is still running.
    """
    send, receive = anyio.create_memory_object_stream[_Slot[V]](max(0, window - 1))
    running: dict[int, _Slot[V]] = {}  # started and not yet taken by the consumer
    failed = False

    async def worker(key: K, slot: _Slot[V]) -> None:
        nonlocal failed
        try:
            with slot.scope:
                slot.value = await fn(key)
        except Exception as exc:
            slot.error = exc
            failed = True
            for later in [s for i, s in running.items() if i > slot.index]:
                later.scope.cancel()
        finally:
            slot.done.set()

    async def producer(tg: anyio.abc.TaskGroup) -> None:
        try:
            async with send:
                for index, key in enumerate(keys):
                    if failed:
                        return
                    slot: _Slot[V] = _Slot(index)
                    await send.send(slot)
                    if failed:  # never started: the consumer stops at the earlier failure
                        slot.scope.cancel()
                        slot.done.set()
                        return
                    running[index] = slot
                    tg.start_soon(worker, key, slot)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass

    async def results() -> AsyncGenerator[V, None]:
        async with receive:
            async for slot in receive:
                await slot.done.wait()
                running.pop(slot.index, None)
                if slot.error is not None:
                    raise slot.error
                if slot.scope.cancel_called:  # cancelled after an earlier failure: nothing more comes
                    return
                yield slot.value  # type: ignore[misc]

    with plain_errors():
        async with anyio.create_task_group() as tg:
            tg.start_soon(producer, tg)
            gen = results()
            try:
                yield gen
            finally:
                tg.cancel_scope.cancel()
                receive.close()
                await gen.aclose()
