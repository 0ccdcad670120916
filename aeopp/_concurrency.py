"""Concurrency building blocks on anyio: the client's shared limiter and an ordered, bounded fan-out."""

from __future__ import annotations

import contextvars
import logging
import math
import random
import sys
import time
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

    The limit is a window of requests in flight, which may fall below one: requests are then paced
    (the next one starts a while after the previous one ended). It starts at ``ceiling`` (with
    ``slow_start=True``, at one, growing by one per success until the first 66). Each
    66 halves it, once per burst (a 66 answering a request sent before the last decrease belongs to
    the same burst), down to ``MIN_WINDOW``. Then it grows by about one slot per ``patience``
    request durations, with jitter so that processes don't rise in step; ``patience`` starts at
    ``recover_after`` and doubles (up to ``PATIENCE_CAP`` times) when 66 keeps coming, and halves
    again after a long quiet. Several uncoordinated processes sharing one business unit's five slots
    settle this way on a few 66 (see benchmarks/README.md); a ``RedisCoordinator`` makes them share
    the slots instead.
    """

    #: The lowest window: one request in flight half of the time.
    MIN_WINDOW = 0.5
    #: How much slower than ``recover_after`` the window may come to rise when 66 keeps coming.
    PATIENCE_CAP = 8.0

    def __init__(
        self, ceiling: int, *, recover_after: int = 40, slow_start: bool = False, seed: int | None = None
    ) -> None:
        self.ceiling = ceiling
        self._slow_start = slow_start and ceiling > 1
        self._window = 1.0 if self._slow_start else float(ceiling)
        self._limiter = anyio.CapacityLimiter(int(self._window))
        self._recover_after = recover_after
        self._patience = float(recover_after)
        self._rng = random.Random(seed)
        self._decreased_at = -math.inf  # when the last decrease happened
        self._duration = 0.0  # a moving average of how long a request holds its slot
        self._next_start = 0.0  # below a window of one: when the next request may start
        #: The highest number of requests this limiter had in flight at once.
        self.max_in_flight = 0

    @property
    def limit(self) -> int:
        """Requests allowed in flight at once now (at least one)."""
        return int(self._limiter.total_tokens)

    @property
    def window(self) -> float:
        """The limit as a fraction: below one, requests are paced."""
        return self._window

    @property
    def in_flight(self) -> int:
        return self._limiter.borrowed_tokens

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot (wait for it first)."""
        borrower = object()
        await self._limiter.acquire_on_behalf_of(borrower)
        try:
            if self._window < 1:
                delay = self._next_start - time.monotonic()
                if delay > 0:
                    await anyio.sleep(delay)
            self.max_in_flight = max(self.max_in_flight, self._limiter.borrowed_tokens)
            started = time.monotonic()
            _started.set(started)
            yield
        finally:
            self._limiter.release_on_behalf_of(borrower)
        ended = time.monotonic()
        _held.set(ended - started)
        if self._window < 1:
            idle = (self._duration or ended - started) * (1 / self._window - 1)
            self._next_start = ended + idle * self._rng.uniform(0.5, 1.5)

    def too_many(self) -> None:
        """The server answered 66: halve the window (once per burst)."""
        self._slow_start = False
        if _started.get() < self._decreased_at:
            return  # sent before the last decrease: the same burst
        now = time.monotonic()
        if now - self._decreased_at < 2 * self._patience * self._duration:  # 66 keeps coming
            self._patience = min(self._patience * 2, self.PATIENCE_CAP * self._recover_after)
        self._decreased_at = now
        self._set_window(max(self.MIN_WINDOW, self._window / 2))
        log.info("concurrency lowered to %.2f after code 66", self._window)

    def success(self) -> None:
        held = _held.get()
        self._duration = held if self._duration == 0 else 0.8 * self._duration + 0.2 * held
        if self._window >= self.ceiling or _started.get() < self._decreased_at:
            return
        if self._slow_start:  # no 66 yet: one more per success (doubling per round trip)
            self._set_window(min(float(self.ceiling), self._window + 1))
            return
        now = time.monotonic()
        if (
            self._patience > self._recover_after
            and now - self._decreased_at > 4 * self._patience * self._duration
        ):
            self._patience /= 2  # a long quiet: rise faster again
            self._decreased_at = now - 2 * self._patience * self._duration
        # About one more slot per ``patience`` request durations, whatever the window (jittered).
        step = self._rng.uniform(0.5, 1.5) / (self._patience * max(self._window, 1.0))
        self._set_window(min(float(self.ceiling), self._window + step))

    def _set_window(self, window: float) -> None:
        before = self.limit
        self._window = window
        self._limiter.total_tokens = max(1, int(window))
        if self.limit > before:
            log.debug("concurrency raised to %d", self.limit)


#: When the current task's last slot was taken, and how long it was held (a 66 or a success is
#: about that request).
_started: contextvars.ContextVar[float] = contextvars.ContextVar("aeopp_slot_started", default=math.inf)
_held: contextvars.ContextVar[float] = contextvars.ContextVar("aeopp_slot_held", default=0.0)


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
