"""Walking a query past Pardot's 200-records-per-request cap: plans, drift repair, cursors.

A walk runs in one supervisor task (started in the client's task group, under the walk's own
cancel scope) and hands batches of records to the consumer through a bounded memory stream, so a
slow consumer slows the fetching and memory stays O(window x page_size).

Strategies (``sort_by="id"`` unless noted):

* ``offset`` (default): the first page gives ``total_results``; the remaining pages are fetched
  concurrently, each overlapping its predecessor by one record. A page that starts past its
  predecessor's last id means records slid out of view (a delete before it): that id interval is
  re-read by keyset. Only strictly increasing ids (decreasing when descending) are yielded, so a
  record that exists for the whole walk comes out exactly once. Other sorts use the same plan and
  never yield an id twice, but can't repair drift (see the README).
* ``keyset``: learn the id range, split it into segments, walk the segments by
  ``id_greater_than`` concurrently and yield them in order.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

import anyio
import anyio.abc
import attrs
from anyio.streams.memory import MemoryObjectSendStream

from ._concurrency import ordered_map, plain_errors
from ._cursor import Cursor
from ._request import PageRequest
from .errors import AeoppError, PaginationStalled
from .models import Page

__all__ = ["DONE", "Batch", "Fetch", "Item", "WalkPlan", "WalkStats", "run_walk"]

log = logging.getLogger("aeopp")


class Record(Protocol):
    """What a walk needs of a record: its id."""

    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=Record)

#: Fetch one page of the walk's query.
Fetch = Callable[[PageRequest], Awaitable[Page[R]]]


@attrs.frozen
class WalkPlan:
    """Everything a walk needs to know, fixed when ``query()`` is called."""

    sort_by: str
    sort_order: str
    output: str | None
    page_size: int
    offset: int
    max_items: int | None
    window: int
    strategy: str
    #: The caller's own id bounds (resume bounds come on top).
    id_greater_than: int | None
    id_less_than: int | None
    resume: Cursor | None = None


@attrs.define
class WalkStats:
    """What a walk did: pages received, keyset repairs, records yielded, drift seen."""

    pages: int = 0
    repairs: int = 0
    records: int = 0
    drift_events: int = 0
    total_results: int | None = None


@attrs.frozen
class Batch(Generic[R]):
    """Records for the consumer, each with the cursor position after it."""

    records: Sequence[R]
    positions: Sequence[int] | None  # absolute positions (non-id sorts); None for id walks


class _Done:
    """Sent after the last batch, so the consumer can tell the end from an interrupted walk."""


DONE = _Done()

Item = Batch[R] | _Done | BaseException


class _Walk(Generic[R]):
    """One walk's state, owned by its supervisor task (never references the consumer's iterator)."""

    def __init__(
        self, plan: WalkPlan, fetch: Fetch[R], send: MemoryObjectSendStream[Item[R]], stats: WalkStats
    ) -> None:
        self.plan = plan
        self._fetch = fetch
        self._send = send
        self.stats = stats
        self.asc = plan.sort_order == "ascending"
        self.by_id = plan.sort_by == "id"
        self.remaining = plan.max_items
        self.last_id: int | None = None  # last id emitted (id walks)
        self.seen: set[int] = set()  # ids emitted (other sorts)
        # What every request starts from: the caller's bounds, tightened by a resume cursor.
        base = PageRequest(0, plan.page_size, plan.id_greater_than, plan.id_less_than)
        if plan.resume is not None and plan.resume.last_id is not None:
            last = plan.resume.last_id
            base = base.within(last, None) if self.asc else base.within(None, last)
        self.base = base
        self.start = plan.offset
        if plan.resume is not None and plan.resume.offset is not None:
            self.start = plan.resume.offset

    # -- helpers ---------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.remaining is not None and self.remaining <= 0

    def beyond(self, a: int, b: int) -> bool:
        """Whether id ``a`` comes after id ``b`` in the walk's order."""
        return a > b if self.asc else a < b

    async def fetch(
        self,
        offset: int,
        limit: int | None,
        lo: int | None = None,
        hi: int | None = None,
        sort_order: str | None = None,
        sort_by: str | None = None,
    ) -> Page[R]:
        request = attrs.evolve(
            self.base.within(lo, hi), offset=offset, limit=limit, sort_by=sort_by, sort_order=sort_order
        )
        page = await self._fetch(request)
        self.stats.pages += 1  # pages answered (a cancelled request is not one)
        if self.stats.total_results is None:
            self.stats.total_results = page.total_results
        return page

    async def emit(self, records: Sequence[R], first_position: int | None = None) -> None:
        """Send the records the consumer hasn't had, in order, honouring ``max_items``."""
        if self.done:
            return
        positions: list[int] | None = None
        if self.by_id:
            out = []
            last = self.last_id
            for record in records:
                if last is None or self.beyond(record.id, last):
                    out.append(record)
                    last = record.id
        else:
            out, positions = [], []
            for index, record in enumerate(records):
                if record.id not in self.seen:
                    self.seen.add(record.id)
                    out.append(record)
                    positions.append((first_position or 0) + index + 1)
        if self.remaining is not None:
            out = out[: self.remaining]
            if positions is not None:
                positions = positions[: len(out)]
            self.remaining -= len(out)
        if not out:
            return
        if self.by_id:
            self.last_id = out[-1].id
        self.stats.records += len(out)
        await self._send.send(Batch(out, positions))

    def interval_empty(self, lo: int | None, hi: int | None) -> bool:
        return self.base.within(lo, hi).empty

    # -- keyset reads ------------------------------------------------------------------------------

    async def keyset(self, after: int | None, before: int | None = None) -> None:
        """Read ids strictly between ``after`` and ``before`` (in walk order) until a short page."""
        size = self.plan.page_size
        while not self.done:
            lo, hi = (after, before) if self.asc else (before, after)
            if self.interval_empty(lo, hi):
                return
            page = await self.fetch(0, size, lo, hi, sort_order=self.plan.sort_order, sort_by="id")
            records = page.records
            await self.emit(records)
            if len(records) < size:
                return
            newest = records[-1].id
            if after is not None and not self.beyond(newest, after):
                raise PaginationStalled(f"keyset read did not advance past id {after}")
            after = newest

    # -- strategies --------------------------------------------------------------------------------

    async def run(self) -> None:
        plan = self.plan
        if self.base.empty:  # e.g. resuming at the end of the caller's id range: nothing is left
            return
        if plan.output == "mobile":
            page = await self.fetch(self.start, None)
            await self.emit(page.records, self.start)
            return
        if self.by_id and (plan.strategy == "keyset" or plan.output == "bulk"):
            if plan.strategy == "keyset" and plan.output != "bulk" and self.start == 0:
                await self.partitioned_keyset()
            elif self.start == 0:
                await self.keyset(None)
            else:
                await self.offset_walk()
            return
        await self.offset_walk()

    async def offset_walk(self) -> None:
        plan, size = self.plan, self.plan.page_size
        first_limit = size if self.remaining is None else max(1, min(size, self.remaining))
        first = await self.fetch(self.start, first_limit)
        records = first.opportunities
        await self.emit(records, self.start)
        total = first.total_results
        if self.done or len(records) < first_limit:
            return
        if total is None:  # output=bulk: no total, read on until a short page
            await self.sequential_from(self.start + size - 1, [r.id for r in records])
            return
        if self.start + len(records) >= total:
            return
        end = total if self.remaining is None else min(total, self.start + len(records) + self.remaining)
        stride = size - 1
        count = max(0, math.ceil((end - self.start - size) / stride))
        offsets = [self.start + k * stride for k in range(1, count + 1)]
        prev_ids = [r.id for r in records]

        async def get(offset: int) -> tuple[int, Page[R]]:
            return offset, await self.fetch(offset, size)

        async with ordered_map(get, offsets, window=plan.window) as pages:
            async for offset, page in pages:
                if self.done:
                    return
                records = page.records
                ids = [r.id for r in records]
                repeated = len(ids) == size and ids == prev_ids
                if self.by_id:
                    assert self.last_id is not None
                    if not records or repeated:
                        # The end moved left (deletes), or the offsets stopped meaning anything:
                        # finish by keyset, which can't skip or repeat.
                        self.stats.repairs += 1
                        await self.keyset(self.last_id)
                        return
                    if self.beyond(records[0].id, self.last_id):
                        # Records slid out of view between the pages: read the interval by id.
                        self.stats.drift_events += 1
                        self.stats.repairs += 1
                        await self.keyset(self.last_id, records[0].id)
                else:
                    if repeated:
                        raise PaginationStalled(f"the page at offset {offset} repeats the previous page")
                    if records and prev_ids and records[0].id != prev_ids[-1]:
                        self.stats.drift_events += 1
                        log.warning("records moved between pages at offset %d while walking", offset)
                await self.emit(records, offset)
                prev_ids = ids
                total_now = page.total_results
                if len(records) < size or (total_now is not None and offset + len(records) >= total_now):
                    return
        if not self.done:
            # The planned pages ended full: records were added before the end; read on.
            await self.sequential_from(offsets[-1] + stride if offsets else self.start + stride, prev_ids)

    async def sequential_from(self, offset: int, prev_ids: list[int]) -> None:
        """Read on one page at a time until a short page (by keyset when sorted by id)."""
        if self.by_id:
            self.stats.repairs += 1
            await self.keyset(self.last_id)
            return
        size = self.plan.page_size
        while not self.done:
            page = await self.fetch(offset, size)
            ids = [r.id for r in page.records]
            if len(ids) == size and ids == prev_ids:
                raise PaginationStalled(f"the page at offset {offset} repeats the previous page")
            await self.emit(page.records, offset)
            if len(ids) < size:
                return
            prev_ids = ids
            offset += size - 1

    async def partitioned_keyset(self) -> None:
        """Split the id range into segments and walk them concurrently, yielding in id order.

        Records created after the walk began (past the last id it learnt) are not read.
        """
        size, order = self.plan.page_size, self.plan.sort_order
        results: dict[str, Page[R]] = {}

        async def get(name: str, limit: int, sort_order: str) -> None:
            results[name] = await self.fetch(0, limit, sort_order=sort_order, sort_by="id")

        with plain_errors():
            async with anyio.create_task_group() as tg:  # the first page and the far end of the range at once
                tg.start_soon(get, "first", size, order)
                tg.start_soon(get, "edge", 1, _reverse(order))
        records = results["first"].records
        await self.emit(records)
        edge = results["edge"].records
        if self.done or len(records) < size or not edge:
            return
        start, stop = records[-1].id, edge[0].id
        if not self.beyond(stop, start):
            # Nothing past the first page, or the far end moved while we looked: read on by keyset,
            # which checks its own progress.
            await self.keyset(start)
            return
        remaining = max(1, (results["first"].total_results or size) - len(records))
        if self.remaining is not None:
            remaining = min(remaining, self.remaining)
        count = max(1, math.ceil(remaining / (size * 0.9)))  # segments of ~90 % of a page: one request each
        sign = 1 if self.asc else -1
        step = max(1, math.ceil(abs(stop - start) / count))
        cuts = [start + sign * step * k for k in range(count) if self.beyond(stop, start + sign * step * k)]
        cuts.append(stop)
        # Segment k holds the ids after cuts[k] up to and including cuts[k + 1].
        segments = [(cuts[k], cuts[k + 1] + sign) for k in range(len(cuts) - 1)]

        async def read_segment(segment: tuple[int, int]) -> list[R]:
            after, before = segment
            out: list[R] = []
            while True:
                lo, hi = (after, before) if self.asc else (before, after)
                if self.interval_empty(lo, hi):
                    return out
                page = await self.fetch(0, size, lo, hi, sort_order=order, sort_by="id")
                out.extend(page.records)
                if len(page.records) < size:
                    return out
                newest = page.records[-1].id
                if not self.beyond(newest, after):
                    raise PaginationStalled(f"keyset read did not advance past id {after}")
                after = newest

        async with ordered_map(read_segment, segments, window=self.plan.window) as chunks:
            async for chunk in chunks:
                await self.emit(chunk)
                if self.done:
                    return


def _reverse(order: str) -> str:
    return "descending" if order == "ascending" else "ascending"


async def run_walk(
    plan: WalkPlan,
    fetch: Fetch[R],
    send: MemoryObjectSendStream[Item[R]],
    stats: WalkStats,
    scope: anyio.CancelScope,
) -> None:
    """The supervisor: run the walk under ``scope`` and deliver batches, the end or the error.

    Exceptions never escape (they would cancel the client's task group): they are delivered to
    the consumer in position instead.
    """
    walk = _Walk(plan, fetch, send, stats)
    with scope:
        async with send:
            try:
                await walk.run()
                await send.send(DONE)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass  # the consumer left
            except AeoppError as exc:
                await _deliver(send, exc)
            except Exception as exc:  # a bug, or the caller's transport failing oddly: still deliver it
                await _deliver(send, exc)


async def _deliver(send: MemoryObjectSendStream[Item[R]], exc: BaseException) -> None:
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
        await send.send(exc)


# Public as aeopp.WalkPlan, aeopp.WalkStats: reprs, tracebacks and pickles say so.
WalkPlan.__module__ = "aeopp"
WalkStats.__module__ = "aeopp"
