"""OpportunityClient: the Opportunity operations on top of the shared client pipeline.

Each method validates its arguments by building the request (``_request``, pure, before any I/O),
sends it through :meth:`~aeopp._base.BaseClient._call` and parses the answer (``_parse``, pure).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Literal, TypeVar

import anyio

from . import _parse, _request
from ._base import BaseClient, ClientStats
from ._concurrency import ordered_map
from ._constants import MAX_LIMIT
from ._cursor import Cursor
from ._pagination import Item, WalkPlan, WalkStats, run_walk
from ._query import Query, StartWalk, WalkHandle
from ._request import PageRequest, PreparedRequest, QuerySpec
from ._spec import OPPORTUNITY
from ._transport import RawResponse
from .errors import OpportunityNotFound, RequestValidationError
from .models import Opportunity, Page
from .types import CreateFields, Output, QueryFilters, SortBy, SortOrder, UpdateFields

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["ClientStats", "OpportunityClient", "OpportunityQuery"]

T = TypeVar("T")


class OpportunityQuery(Query[Opportunity]):
    """A walk over every opportunity a query matches (see :class:`~aeopp._query.Query`)."""


class OpportunityClient(BaseClient):
    """An asyncio client for Pardot's Opportunity API (v3 and v4).

    Use it as ``async with OpportunityClient(auth=...) as client:``. One client is safe to share
    among any number of tasks; all its calls share one limit of ``max_concurrency`` requests in
    flight (Pardot allows five per business unit).
    """

    _spec = OPPORTUNITY

    # -- parsing --------------------------------------------------------------------------------

    def _parse_opportunity(self, raw: RawResponse, prepared: PreparedRequest) -> Opportunity:
        return _parse.parse_opportunity(
            raw.status, raw.headers, raw.body, timezone=self.timezone, expected_id=prepared.record_id
        )

    def _parse_page(self, raw: RawResponse, prepared: PreparedRequest) -> Page[Opportunity]:
        return _parse.parse_page(raw.status, raw.headers, raw.body, timezone=self.timezone)

    def _parse_empty(self, raw: RawResponse, prepared: PreparedRequest) -> None:
        _parse.parse_empty(raw.status, raw.headers, raw.body, expected_id=prepared.record_id)

    async def _by_id(
        self, prepared: PreparedRequest, parse: Callable[[RawResponse, PreparedRequest], T]
    ) -> T:
        """Call an operation on one id; code 35 names the id."""
        try:
            return await self._call(prepared, parse)
        except OpportunityNotFound as exc:
            raise OpportunityNotFound(
                exc.code, exc.message, exc.http_status, opportunity_id=prepared.record_id
            ) from None

    # -- single records -------------------------------------------------------------------------

    async def read(self, opportunity_id: int, *, output: Output | None = None) -> Opportunity:
        """Read one opportunity (with its campaign, prospects and visitor activities)."""
        prepared = _request.build_read(
            opportunity_id, version=self._version, wire_format=self.wire_format, output=output
        )
        return await self._by_id(prepared, self._parse_opportunity)

    async def read_many(
        self, ids: Iterable[int], *, missing: Literal["raise", "skip"] = "raise", output: Output | None = None
    ) -> list[Opportunity]:
        """Read many opportunities concurrently; results in input order, one request per distinct id.

        A missing id raises :class:`OpportunityNotFound` naming it, unless ``missing="skip"``.
        """
        if missing not in ("raise", "skip"):
            raise RequestValidationError("missing", missing, "'raise' or 'skip'")
        order = [_request.validate_id("ids", i) for i in ids]
        unique = list(dict.fromkeys(order))
        requests = [
            _request.build_read(i, version=self._version, wire_format=self.wire_format, output=output)
            for i in unique
        ]
        self._check_open()
        found: dict[int, Opportunity | None] = {}

        async def one(prepared: PreparedRequest) -> tuple[int, Opportunity | None]:
            assert prepared.record_id is not None
            try:
                return prepared.record_id, await self._by_id(prepared, self._parse_opportunity)
            except OpportunityNotFound:
                if missing == "skip":
                    return prepared.record_id, None
                raise

        async with ordered_map(one, requests, window=max(2 * self.max_concurrency, 8)) as results:
            async for opportunity_id, record in results:
                found[opportunity_id] = record
        return [r for r in (found[i] for i in order) if r is not None]

    async def create(self, **fields: Unpack[CreateFields]) -> Opportunity:
        """Create an opportunity and return it as Pardot stored it.

        Fields: ``name``, ``value`` (int, Decimal, float or decimal text) and ``probability`` (0-100)
        are required; the prospect is given by ``prospect_email``, ``prospect_id`` or both (they must
        name the same prospect); optional ``campaign_id``, ``type``, ``stage``, ``status`` (won, lost
        or open) and ``closed_at``. Anything else raises :class:`RequestValidationError`.

        Never replayed once sent: if the answer is lost, :class:`WriteOutcomeUnknown` is raised.
        """
        prepared = _request.build_create(
            version=self._version, wire_format=self.wire_format, timezone=self.timezone, **fields
        )
        return await self._call(prepared, self._parse_opportunity)

    async def update(self, opportunity_id: int, **fields: Unpack[UpdateFields]) -> Opportunity:
        """Change the given fields and return the updated opportunity.

        Editable: ``name``, ``value``, ``probability``, ``campaign_id`` (these four can't be
        cleared), ``type``, ``stage``, ``status``, ``closed_at`` (None clears them).
        """
        prepared = _request.build_update(
            opportunity_id,
            fields,
            version=self._version,
            wire_format=self.wire_format,
            timezone=self.timezone,
        )
        return await self._by_id(prepared, self._parse_opportunity)

    async def delete(self, opportunity_id: int) -> None:
        """Delete an opportunity (undelete brings it back)."""
        prepared = _request.build_delete(opportunity_id, version=self._version, wire_format=self.wire_format)
        await self._by_id(prepared, self._parse_empty)

    async def undelete(self, opportunity_id: int) -> None:
        """Restore a deleted opportunity."""
        prepared = _request.build_undelete(
            opportunity_id, version=self._version, wire_format=self.wire_format
        )
        await self._by_id(prepared, self._parse_empty)

    # -- queries --------------------------------------------------------------------------------

    async def query_page(
        self,
        *,
        offset: int = 0,
        limit: int = MAX_LIMIT,
        sort_by: SortBy = "id",
        sort_order: SortOrder | None = None,
        output: Output | None = None,
        **filters: Unpack[QueryFilters],
    ) -> Page[Opportunity]:
        """One query request: up to ``limit`` (1-200) records from ``offset``, and the total.

        Filters and sorts as for :meth:`query`.
        """
        spec = _request.query_spec(
            sort_by=sort_by, sort_order=sort_order, output=output, timezone=self.timezone, **filters
        )
        page = PageRequest.first(spec, offset=offset, limit=limit)
        prepared = _request.build_query(spec, page, version=self._version, wire_format=self.wire_format)
        return await self._call(prepared, self._parse_page)

    def query(
        self,
        *,
        sort_by: SortBy = "id",
        sort_order: SortOrder | None = None,
        output: Output | None = None,
        page_size: int = MAX_LIMIT,
        offset: int = 0,
        max_items: int | None = None,
        resume: Cursor | str | None = None,
        strategy: Literal["offset", "keyset"] = "offset",
        **filters: Unpack[QueryFilters],
    ) -> OpportunityQuery:
        """Every opportunity matching ``filters``, in the sort's order, fetched concurrently.

        Filters (Pardot's names, all strict; None leaves one out): ``created_after``,
        ``created_before`` (a datetime, a date, a timestamp string, or today, yesterday,
        last_7_days, this_month, last_month), ``id_greater_than``, ``id_less_than``,
        ``probability_greater_than``, ``probability_less_than`` (1-100), ``prospect_email``,
        ``prospect_id``, ``value_greater_than``, ``value_less_than`` (integers).

        ``sort_by`` is id (default, ascending), created_at, probability or value (descending by
        default); ``page_size`` records per request (1-200), ``max_items`` in all, ``offset``
        matches skipped, ``resume`` a cursor (or its token) to continue a walk, ``strategy``
        "offset" (concurrent pages) or "keyset" (concurrent id ranges, ``sort_by="id"``).

        Returns an :class:`OpportunityQuery`: iterate it with ``async for`` (ideally inside
        ``async with``). Arguments are validated here, before any request.
        """
        spec = _request.query_spec(
            sort_by=sort_by, sort_order=sort_order, output=output, timezone=self.timezone, **filters
        )
        plan = self._plan(spec, page_size, offset, max_items, resume, strategy)
        start = self._walk_starter(spec)
        return OpportunityQuery(plan, start, lambda: self.is_open)

    def _plan(
        self,
        spec: QuerySpec,
        page_size: object,
        offset: object,
        max_items: object,
        resume: Cursor | str | None,
        strategy: object,
    ) -> WalkPlan:
        """A walk's plan, every argument checked."""
        size = _request.validate_page_size(page_size)
        start = _request.validate_offset(offset)
        most = _request.validate_max_items(max_items)
        if strategy not in ("offset", "keyset"):
            raise RequestValidationError("strategy", strategy, "'offset' or 'keyset'")
        if strategy == "keyset" and spec.sort_by != "id":
            raise RequestValidationError("strategy", strategy, "'keyset' needs sort_by='id'")
        cursor: Cursor | None = None
        if resume is not None:
            cursor = resume if isinstance(resume, Cursor) else Cursor.from_token(resume)
            if (cursor.sort_by, cursor.sort_order) != (spec.sort_by, spec.sort_order):
                raise RequestValidationError(
                    "resume",
                    resume,
                    f"a cursor of a walk sorted by {spec.sort_by} {spec.sort_order} "
                    f"(this one is {cursor.sort_by} {cursor.sort_order})",
                )
        if size < 2 and (spec.output != "mobile"):
            raise RequestValidationError("page_size", size, "an int from 2 to 200 for a walk")
        return WalkPlan(
            sort_by=spec.sort_by,
            sort_order=spec.sort_order,
            output=spec.output,
            page_size=size,
            offset=start,
            max_items=most,
            window=max(2, 2 * self.max_concurrency),
            strategy=strategy,
            id_greater_than=spec.id_greater_than,
            id_less_than=spec.id_less_than,
            resume=cursor,
        )

    def _walk_starter(self, spec: QuerySpec) -> StartWalk[Opportunity]:
        """A function starting walks of ``spec`` in the client's task group."""

        async def fetch(page: PageRequest) -> Page[Opportunity]:
            prepared = _request.build_query(spec, page, version=self._version, wire_format=self.wire_format)
            return await self._call(prepared, self._parse_page)

        def start(plan: WalkPlan, stats: WalkStats) -> WalkHandle[Opportunity]:
            self._check_open()
            send, receive = anyio.create_memory_object_stream[Item[Opportunity]](1)
            scope = anyio.CancelScope()
            self._start_soon(run_walk, plan, fetch, send, stats, scope)
            return WalkHandle(scope, receive)

        return start
