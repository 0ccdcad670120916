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
    ``slow_start=True``, at one, growing by one per success until the first 66), but a request that
    would put more in flight than the server accepted since the last 66 is a probe: probes go one
    at a time, ``probe_gap`` apart, so a business unit that other processes already fill answers
    one 66, not one per request of a burst.

    Each 66 halves the requests this limiter had in flight (the window, or fewer if fewer were in
    flight when the answered request started), once per burst (a 66 answering a request sent
    before the last decrease belongs to the same burst), down to ``MIN_WINDOW``. Then the window
    grows by about one slot per ``patience`` request durations, with jitter so that processes don't
    rise in step; ``patience`` starts at ``recover_after`` and doubles (up to ``PATIENCE_CAP``
    times) when 66 keeps coming, and halves again after a long quiet. Several uncoordinated
    processes sharing one business unit's five slots settle this way on a few 66, at a cost in
    time (see benchmarks/README.md); a ``RedisCoordinator`` makes them share the slots instead.
    """

    #: The lowest window: one request in flight about a third of the time.
    MIN_WINDOW = 0.35
    #: While 66 came lately, each request at a window of one or more waits up to this many request
    #: durations first (uniformly drawn).
    PAUSE = 0.5
    #: How much slower than ``recover_after`` the window may come to rise when 66 keeps coming.
    PATIENCE_CAP = 8.0

    def __init__(
        self, ceiling: int, *, recover_after: int = 80, slow_start: bool = False, seed: int | None = None
    ) -> None:
        self.ceiling = ceiling
        self._slow_start = slow_start and ceiling > 1
        self._window = 1.0 if self._slow_start else float(ceiling)
        self._limiter = anyio.CapacityLimiter(int(self._window))
        self._recover_after = recover_after
        self._patience = float(recover_after)
        self._rng = random.Random(seed)
        self._decreased_at = -math.inf  # when the last decrease happened
        self._duration = 0.0  # a moving average of how long a successful request holds its slot
        self._answer_66 = 0.0  # a moving average of how long a 66 takes to come back
        self._next_start = 0.0  # below a window of one: when the next request may start
        self._active = 0  # requests started and not ended
        self._accepted = 1  # requests in flight at once the server accepted since the last 66
        self._probe = anyio.Lock()
        self._probe_at = -math.inf  # when the last probe started
        self._probe_level = 0  # and how many requests were in flight with it
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
        """Requests started and not ended (not those waiting for their pace or a probe)."""
        return self._active

    @property
    def probe_gap(self) -> float:
        """How long a probe waits for a 66 before the next one may go: twice the time a 66 takes to
        come back, or before any 66, a tenth of a request (at most a quarter of one either way)."""
        guess = 2 * self._answer_66 if self._answer_66 else 0.1 * self._duration
        return min(guess, 0.25 * self._duration)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot (wait for it first)."""
        borrower = object()
        await self._acquire(borrower)
        try:
            self._active += 1
            self.max_in_flight = max(self.max_in_flight, self._active)
            started = time.monotonic()
            _started.set(started)
            _level.set(self._active)
            try:
                yield
            finally:
                self._active -= 1
        finally:
            self._limiter.release_on_behalf_of(borrower)
        ended = time.monotonic()
        _held.set(ended - started)
        if self._window < 1:
            idle = (self._duration or ended - started) * (1 / self._window - 1)
            self._next_start = ended + idle

    async def _acquire(self, borrower: object) -> None:
        """Take a token, then wait for the pace (below one) or the probe gate (above what the server
        accepted); if the window shrank meanwhile, queue again."""
        while True:
            await self._limiter.acquire_on_behalf_of(borrower)
            try:
                if self._window < 1:
                    delay = self._next_start - time.monotonic()
                    if delay > 0:
                        await anyio.sleep(delay)
                elif self._crowded():  # a pause, so that a slot just given back may go to another process
                    await anyio.sleep(self._rng.uniform(0, self.PAUSE * self._duration))
                if self._active + 1 <= self._accepted:
                    return
                async with self._probe:  # one probe at a time
                    await anyio.sleep(max(0.0, self._probe_at + self.probe_gap - time.monotonic()))
                    if self._decreased_at < self._probe_at:  # no 66 since the last probe started
                        self._accepted = max(self._accepted, self._probe_level)
                    if self._limiter.borrowed_tokens <= self._limiter.total_tokens:
                        self._probe_at = time.monotonic()
                        self._probe_level = self._active + 1
                        return
            except BaseException:
                self._limiter.release_on_behalf_of(borrower)
                raise
            self._limiter.release_on_behalf_of(borrower)

    def _crowded(self) -> bool:
        """A 66 came lately (within the quiet after which ``patience`` would halve)."""
        return time.monotonic() - self._decreased_at < 4 * self._patience * self._duration

    def too_many(self) -> None:
        """The server answered 66: halve what was in flight (once per burst)."""
        self._slow_start = False
        held = _held.get()
        self._answer_66 = held if self._answer_66 == 0 else 0.8 * self._answer_66 + 0.2 * held
        if _started.get() < self._decreased_at:
            return  # sent before the last decrease: the same burst
        now = time.monotonic()
        if now - self._decreased_at < 2 * self._patience * self._duration:  # 66 keeps coming
            self._patience = min(self._patience * 2, self.PATIENCE_CAP * self._recover_after)
        self._decreased_at = now
        self._accepted = 1
        self._set_window(max(self.MIN_WINDOW, min(self._window, _level.get()) / 2))
        log.info("concurrency lowered to %.2f after code 66", self._window)

    def answered(self) -> None:
        """The server answered the current task's request with something other than 66: as many in
        flight as it had were accepted."""
        if _started.get() > self._decreased_at:
            self._accepted = max(self._accepted, min(_level.get(), self.ceiling))

    def success(self) -> None:
        self.answered()
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
_level: contextvars.ContextVar[int] = contextvars.ContextVar("aeopp_slot_level", default=1 << 30)
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
