"""The walk algorithm against an in-memory server whose data changes between page fetches.

These tests drive ``_pagination.run_walk`` through its fetch seam (no HTTP) so that hypothesis can
explore many mutation schedules quickly; the same guarantees are checked over real HTTP against the
simulator in test_client_query.py.
"""

from __future__ import annotations

from decimal import Decimal

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aeopp._cursor import Cursor
from aeopp._pagination import DONE, Batch, Item, WalkPlan, WalkStats, run_walk
from aeopp._request import PageRequest
from aeopp.errors import PaginationStalled
from aeopp.models import Opportunity, Page

pytestmark = pytest.mark.anyio


class FakeServer:
    """Pardot's query semantics over a dict, with mutations scheduled before given fetches."""

    def __init__(self, ids: list[int], schedule: dict[int, list[tuple[str, int]]] | None = None) -> None:
        self.live = {i: Opportunity(id=i, value=Decimal(i % 7), probability=i % 101) for i in ids}
        self.deleted: dict[int, Opportunity] = {}
        self.schedule = schedule or {}
        self.fetches = 0
        self.next_id = max(ids, default=0) + 10
        self.present_throughout = set(ids)

    def mutate(self, kind: str, pick: int) -> None:
        if kind == "delete" and self.live:
            victim = sorted(self.live)[pick % len(self.live)]
            self.deleted[victim] = self.live.pop(victim)
            self.present_throughout.discard(victim)
        elif kind == "undelete" and self.deleted:
            back = sorted(self.deleted)[pick % len(self.deleted)]
            self.live[back] = self.deleted.pop(back)
        elif kind == "create":
            self.live[self.next_id] = Opportunity(id=self.next_id)
            self.next_id += 3

    async def fetch(
        self,
        *,
        offset: int,
        limit: int | None,
        id_greater_than: int | None = None,
        id_less_than: int | None = None,
        sort_order: str | None = None,
        sort_by: str | None = None,
    ) -> Page:
        for kind, pick in self.schedule.get(self.fetches, []):
            self.mutate(kind, pick)
        self.fetches += 1
        await anyio.lowlevel.checkpoint()
        rows = [
            r
            for r in self.live.values()
            if (id_greater_than is None or r.id > id_greater_than)
            and (id_less_than is None or r.id < id_less_than)
        ]
        field = sort_by or "id"
        descending = (sort_order or "ascending") == "descending"
        rows.sort(key=lambda r: r.id)
        if field != "id":
            rows.sort(key=lambda r: getattr(r, field), reverse=descending)
        elif descending:
            rows.reverse()
        chunk = rows[offset:] if limit is None else rows[offset : offset + limit]
        return Page(total_results=len(rows), records=tuple(chunk))


def plan(**overrides: object) -> WalkPlan:
    values: dict[str, object] = dict(
        sort_by="id",
        sort_order="ascending",
        output=None,
        page_size=10,
        offset=0,
        max_items=None,
        window=4,
        strategy="offset",
        id_greater_than=None,
        id_less_than=None,
    )
    values.update(overrides)
    return WalkPlan(**values)  # type: ignore[arg-type]


async def walk(server: FakeServer, walk_plan: WalkPlan) -> tuple[list[int], WalkStats]:
    send, receive = anyio.create_memory_object_stream[Item](1)
    stats = WalkStats()
    out: list[int] = []
    error: BaseException | None = None

    async def fetch(page: PageRequest) -> Page:
        # Like the request builder: the spec's sort unless the walk overrides it.
        return await server.fetch(
            offset=page.offset,
            limit=page.limit,
            id_greater_than=page.id_greater_than,
            id_less_than=page.id_less_than,
            sort_by=page.sort_by or walk_plan.sort_by,
            sort_order=page.sort_order or walk_plan.sort_order,
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(run_walk, walk_plan, fetch, send, stats, anyio.CancelScope())
        async with receive:
            async for item in receive:
                if isinstance(item, Batch):
                    out.extend(r.id for r in item.records)
                elif item is DONE:
                    break
                else:
                    assert isinstance(item, BaseException)
                    error = item
                    break
    if error is not None:
        raise error
    return out, stats


def spaced_ids(n: int) -> list[int]:
    return [1000 + 3 * k + (k % 2) for k in range(n)]


@pytest.mark.parametrize("n", [0, 1, 9, 10, 11, 19, 20, 21, 95, 500])
@pytest.mark.parametrize("strategy", ["offset", "keyset"])
@pytest.mark.parametrize("order", ["ascending", "descending"])
async def test_still_data_walks_once_in_order(n: int, strategy: str, order: str) -> None:
    server = FakeServer(spaced_ids(n))
    ids, _ = await walk(server, plan(strategy=strategy, sort_order=order))
    assert ids == sorted(spaced_ids(n), reverse=order == "descending")


async def test_offset_walk_request_count_is_pages_plus_overlap() -> None:
    server = FakeServer(spaced_ids(100))
    ids, stats = await walk(server, plan(page_size=10))
    assert len(ids) == 100
    # 10 records first, then pages of 9 new ones (one overlapping): 1 + ceil(90 / 9) = 11
    assert server.fetches == 11
    assert stats.repairs == 0


mutation = st.tuples(st.sampled_from(["delete", "undelete", "create"]), st.integers(0, 10_000))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(0, 120),
    page_size=st.integers(2, 12),
    order=st.sampled_from(["ascending", "descending"]),
    strategy=st.sampled_from(["offset", "keyset"]),
    schedule=st.dictionaries(st.integers(0, 40), st.lists(mutation, min_size=1, max_size=4), max_size=15),
)
def test_exactly_once_while_data_changes(
    n: int, page_size: int, order: str, strategy: str, schedule: dict[int, list[tuple[str, int]]]
) -> None:
    server = FakeServer(spaced_ids(n), schedule)
    ids, _ = anyio.run(walk, server, plan(page_size=page_size, sort_order=order, strategy=strategy))
    assert len(ids) == len(set(ids)), "an id was yielded twice"
    assert ids == sorted(ids, reverse=order == "descending")
    missing = server.present_throughout - set(ids)
    assert not missing, f"records present for the whole walk were skipped: {sorted(missing)}"


async def naive_offset_walk(server: FakeServer, page_size: int) -> list[int]:
    out: list[int] = []
    offset = 0
    while True:
        page = await server.fetch(offset=offset, limit=page_size, sort_by="id", sort_order="ascending")
        out.extend(r.id for r in page.opportunities)
        if len(page.opportunities) < page_size:
            return out
        offset += page_size


async def test_the_exactly_once_check_catches_a_naive_walk() -> None:
    """Proof the property above can fail: a plain offset walk misses a record under such a schedule."""
    schedule = {1: [("delete", 0)]}  # before page 2, delete the first record: page 2 shifts left
    server = FakeServer(spaced_ids(30), schedule)
    naive = await naive_offset_walk(server, 10)
    assert server.present_throughout - set(naive), "the naive walk should have skipped a record"
    server = FakeServer(spaced_ids(30), schedule)
    ids, stats = await walk(server, plan(page_size=10))
    assert not server.present_throughout - set(ids)
    assert stats.repairs >= 1


@pytest.mark.parametrize("max_items", [0, 1, 5, 10, 11, 37])
async def test_max_items_stops_mid_page(max_items: int) -> None:
    server = FakeServer(spaced_ids(60))
    ids, _ = await walk(server, plan(max_items=max_items))
    assert ids == spaced_ids(60)[:max_items]


async def test_resume_from_an_id_cursor_has_no_gap_and_no_duplicate() -> None:
    server = FakeServer(spaced_ids(60))
    head, _ = await walk(server, plan(max_items=23))
    cursor = Cursor("id", "ascending", last_id=head[-1])
    rest, _ = await walk(server, plan(resume=cursor))
    assert head + rest == spaced_ids(60)


async def test_resume_from_an_offset_cursor() -> None:
    server = FakeServer(spaced_ids(60))
    every, _ = await walk(server, plan(sort_by="value", sort_order="descending"))
    head, _ = await walk(server, plan(sort_by="value", sort_order="descending", max_items=17))
    resume = Cursor("value", "descending", offset=17)
    rest, _ = await walk(server, plan(sort_by="value", sort_order="descending", resume=resume))
    assert head + rest == every
    assert len(set(every)) == 60


@pytest.mark.parametrize("sort_by", ["value", "probability"])
async def test_other_sorts_never_yield_an_id_twice(sort_by: str) -> None:
    schedule = {1: [("delete", p) for p in range(0, 70, 10)], 3: [("undelete", 0), ("undelete", 2)]}
    server = FakeServer(spaced_ids(80), schedule)
    ids, stats = await walk(server, plan(sort_by=sort_by, sort_order="descending"))
    assert len(ids) == len(set(ids))
    assert stats.drift_events >= 1


class RepeatingServer(FakeServer):
    """A broken server that ignores offsets and keyset bounds: the same page every time."""

    async def fetch(self, **kwargs: object) -> Page:  # type: ignore[override]
        page = await super().fetch(offset=0, limit=kwargs.get("limit"))  # type: ignore[arg-type]
        return Page(total_results=10_000, records=page.records)


@pytest.mark.parametrize("strategy", ["offset", "keyset"])
async def test_a_server_repeating_pages_stalls_instead_of_looping(strategy: str) -> None:
    server = RepeatingServer(spaced_ids(50))
    with pytest.raises(PaginationStalled):
        await walk(server, plan(strategy=strategy))


def test_cursor_tokens_round_trip_and_reject_garbage() -> None:
    from aeopp.errors import RequestValidationError

    for cursor in (Cursor("id", "ascending", last_id=5), Cursor("value", "descending", offset=400)):
        assert Cursor.from_token(cursor.token()) == cursor
    for bad in ("", "abc", Cursor("id", "ascending", last_id=1).token()[:-3] + "!!"):
        with pytest.raises(RequestValidationError, match="resume"):
            Cursor.from_token(bad)
