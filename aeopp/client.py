"""OpportunityClient: the public face of aeopp.

Every call goes through one pipeline: build the request (``_request``, pure) -> take a slot of the
shared limiter -> send (``_transport``) under a per-attempt timeout -> parse (``_parse``, pure) ->
on failure ask the retry policy (``_retry``, pure) what to do.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import logging
import random
import weakref
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit

import anyio
import anyio.abc
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream

from . import _parse, _request
from ._concurrency import AdaptiveLimiter, ordered_map
from ._constants import MAX_CONCURRENT_REQUESTS, MAX_LIMIT
from ._pagination import DONE, Batch, Cursor, Item, WalkPlan, WalkStats, run_walk
from ._retry import Action, RetryPolicy, classify, parse_retry_after
from ._transport import DEFAULT_MAX_RESPONSE_BYTES, AiohttpTransport, RawResponse, Transport
from .auth import ApiKeyAuth, BearerAuth
from .errors import (
    AeoppError,
    ClientStateError,
    ConcurrencyLimitExceeded,
    OpportunityNotFound,
    PardotError,
    RequestValidationError,
    TransportError,
    VersionMismatch,
    WriteOutcomeUnknown,
)
from .models import Opportunity, Page

if TYPE_CHECKING:
    import aiohttp

__all__ = ["ClientStats", "Cursor", "OpportunityClient", "OpportunityQuery"]

log = logging.getLogger("aeopp")

#: Answers at least this big are parsed in a worker thread (a 200-record page is about 80 KB).
PARSE_IN_THREAD_BYTES = 32 * 1024

T = TypeVar("T")


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


@attrs.define
class ClientStats:
    """Counters of what the client did: attempts sent, retries, renewals and errors by code."""

    requests: int = 0
    retries: int = 0
    refreshes: int = 0
    version_switches: int = 0
    errors_by_code: dict[int, int] = attrs.field(factory=dict)


def _check_base_url(base_url: object) -> str:
    if not isinstance(base_url, str):
        raise RequestValidationError("base_url", base_url, "an https URL such as https://pi.pardot.com")
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return base_url.rstrip("/")
    if parts.scheme == "http" and host:
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return base_url.rstrip("/")
        raise RequestValidationError("base_url", base_url, "https (plain http only for loopback hosts)")
    raise RequestValidationError("base_url", base_url, "an https URL such as https://pi.pardot.com")


class OpportunityClient:
    """An asyncio client for Pardot's Opportunity API (v3 and v4).

    Use it as ``async with OpportunityClient(auth=...) as client:``. One client is safe to share
    among any number of tasks; all its calls share one limit of ``max_concurrency`` requests in
    flight (Pardot allows five per business unit).
    """

    def __init__(
        self,
        auth: BearerAuth | ApiKeyAuth,
        *,
        base_url: str = "https://pi.pardot.com",
        version: int = 4,
        wire_format: Literal["json", "xml"] = "json",
        max_concurrency: int = MAX_CONCURRENT_REQUESTS,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        timezone: tzinfo | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        seed: int | None = None,
    ) -> None:
        if not isinstance(auth, BearerAuth | ApiKeyAuth):
            raise RequestValidationError("auth", type(auth).__name__, "a BearerAuth or an ApiKeyAuth")
        self.base_url = _check_base_url(base_url)
        self._version = _request.validate_version(version)
        self.wire_format = _request.validate_wire_format(wire_format)
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise RequestValidationError("max_concurrency", max_concurrency, "an int >= 1 (Pardot allows 5)")
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
            raise RequestValidationError("timeout", timeout, "a positive number of seconds")
        if timezone is not None and not isinstance(timezone, tzinfo):
            raise RequestValidationError("timezone", timezone, "a datetime.tzinfo such as ZoneInfo(...)")
        self.auth = auth
        self.timeout = float(timeout)
        self.retry = retry or RetryPolicy()
        self.timezone = timezone
        self.max_concurrency = max_concurrency
        self._limiter = AdaptiveLimiter(max_concurrency)
        if transport is not None and session is not None:
            raise RequestValidationError(
                "session", "<ClientSession>", "either session or transport, not both"
            )
        self._transport: Transport = transport or AiohttpTransport(
            session, max_response_bytes=max_response_bytes, pool_size=max(10, 2 * max_concurrency)
        )
        self._max_response_bytes = max_response_bytes
        self._rng = random.Random(seed)
        self._parse_limiter = anyio.CapacityLimiter(1)  # one parser thread: the GIL allows no more
        self._state = _State.UNOPENED
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self.stats = ClientStats()

    def __repr__(self) -> str:
        return (
            f"OpportunityClient(base_url={self.base_url!r}, version={self._version}, "
            f"wire_format={self.wire_format!r}, max_concurrency={self.max_concurrency}, "
            f"auth={self.auth!r}, state={self._state.value})"
        )

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """The API version in use (it changes once if the server answers 88 or 89)."""
        return self._version

    @property
    def limiter(self) -> AdaptiveLimiter:
        return self._limiter

    async def __aenter__(self) -> OpportunityClient:
        if self._state is _State.OPEN:
            raise ClientStateError("this OpportunityClient is already open")
        if self._state is _State.CLOSED:
            raise ClientStateError("an OpportunityClient can't be reopened once closed; make a new one")
        self._loop = asyncio.get_running_loop()
        if isinstance(self._transport, AiohttpTransport):
            await self._transport.open()
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        self._state = _State.OPEN
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel running walks and close the connections (call it from the task that opened the client)."""
        if self._state is not _State.OPEN:
            self._state = _State.CLOSED
            return
        self._state = _State.CLOSED
        tg, self._tg = self._tg, None
        try:
            if tg is not None:
                tg.cancel_scope.cancel()
                await tg.__aexit__(None, None, None)
        finally:
            await self._transport.aclose()

    def _check_open(self) -> None:
        if self._state is _State.UNOPENED:
            raise ClientStateError("use the client inside `async with OpportunityClient(...) as client:`")
        if self._state is _State.CLOSED:
            raise ClientStateError("this OpportunityClient is closed")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise ClientStateError("the client must be used from a running event loop") from None
        if loop is not self._loop:
            raise ClientStateError("this OpportunityClient belongs to another event loop")

    # -- the request pipeline -------------------------------------------------------------------

    async def _login(self, email: str, password: str, user_key: str) -> _parse.LoginResult:
        prepared = _request.build_login(
            email=email, password=password, user_key=user_key, version=self._version, wire_format="json"
        )
        raw = await self._send(prepared, {})
        result = _parse.parse_login(raw.status, raw.headers, raw.body, max_bytes=self._max_response_bytes)
        if result.version in (3, 4) and result.version != self._version:
            log.info("aeopp: the account uses API version %d; switching", result.version)
            self._version = result.version
        return result

    async def _send(self, prepared: _request.PreparedRequest, headers: Mapping[str, str]) -> RawResponse:
        """One attempt: a limiter slot, then the request under the per-attempt timeout."""
        all_headers = dict(headers)
        if prepared.content_type:
            all_headers["Content-Type"] = prepared.content_type
        url = prepared.url(self.base_url)
        async with self._limiter.slot():
            self.stats.requests += 1
            try:
                with anyio.fail_after(self.timeout):
                    return await self._transport.send(prepared.method, url, all_headers, prepared.body())
            except TimeoutError:
                raise TransportError(
                    f"no answer within {self.timeout:g} s ({prepared.operation})", request_sent=True
                ) from None

    async def _call(
        self,
        build: Callable[[int], _request.PreparedRequest],
        parse: Callable[[RawResponse], T],
    ) -> T:
        """Send a request built by ``build(version)``, retrying as the policy says."""
        self._check_open()
        policy = self.retry
        attempt = 0
        waited = 0.0
        refreshed = switched = False
        while True:
            attempt += 1
            prepared = build(self._version)
            retry_after: float | None = None
            try:
                auth_headers, generation = await self.auth.headers(self._login)
                raw = await self._send(prepared, auth_headers)
                retry_after = parse_retry_after(raw.headers.get("retry-after"))
                if len(raw.body) >= PARSE_IN_THREAD_BYTES:
                    # Parsing a big page is CPU work: in a worker thread the event loop stays free
                    # to send the next requests meanwhile (parsing is pure, so it is safe there).
                    result = await anyio.to_thread.run_sync(parse, raw, limiter=self._parse_limiter)
                else:
                    result = parse(raw)
            except AeoppError as exc:
                error = exc
            else:
                self._limiter.success()
                return result
            if isinstance(error, PardotError):
                self.stats.errors_by_code[error.code] = self.stats.errors_by_code.get(error.code, 0) + 1
            action = classify(error, idempotent=prepared.idempotent, legacy_auth=self.auth.legacy)
            if action is Action.RETRY:
                if isinstance(error, ConcurrencyLimitExceeded):
                    self._limiter.too_many()
                delay = policy.delay(attempt, self._rng, retry_after)
                if attempt < policy.max_attempts and waited + delay <= policy.budget:
                    self.stats.retries += 1
                    waited += delay
                    log.debug("aeopp: retrying %s in %.3f s after %s", prepared.operation, delay, error)
                    await anyio.sleep(delay)
                    continue
            elif action is Action.REFRESH and not refreshed:
                refreshed = True
                if await self.auth.refresh(self._login, generation):
                    self.stats.refreshes += 1
                    attempt -= 1
                    continue
            elif action is Action.SWITCH_VERSION and not switched and isinstance(error, VersionMismatch):
                switched = True
                new = 4 if error.code == 88 else 3
                log.warning("aeopp: Pardot says this account needs API version %d; switching", new)
                self._version = new
                self.stats.version_switches += 1
                attempt -= 1
                continue
            if isinstance(error, TransportError) and error.request_sent and not prepared.idempotent:
                raise WriteOutcomeUnknown(
                    f"{prepared.operation} was sent but no answer came back ({error.message}); "
                    "it may or may not have been applied, so it was not replayed",
                    request_sent=True,
                ) from error
            raise error

    def _parse_opportunity(self, raw: RawResponse) -> Opportunity:
        return _parse.parse_opportunity(
            raw.status, raw.headers, raw.body, timezone=self.timezone, max_bytes=self._max_response_bytes
        )

    def _parse_page(self, raw: RawResponse) -> Page:
        return _parse.parse_page(
            raw.status, raw.headers, raw.body, timezone=self.timezone, max_bytes=self._max_response_bytes
        )

    def _parse_empty(self, raw: RawResponse) -> None:
        _parse.parse_empty(raw.status, raw.headers, raw.body, max_bytes=self._max_response_bytes)

    # -- single records -------------------------------------------------------------------------

    async def read(self, opportunity_id: int, *, output: str | None = None) -> Opportunity:
        """Read one opportunity (with its campaign, prospects and visitor activities)."""
        _request.build_read(opportunity_id, output=output)  # validate before any I/O
        fmt = self.wire_format
        try:
            return await self._call(
                lambda v: _request.build_read(opportunity_id, version=v, wire_format=fmt, output=output),
                self._parse_opportunity,
            )
        except OpportunityNotFound as exc:
            raise OpportunityNotFound(
                exc.code, exc.message, exc.http_status, opportunity_id=opportunity_id
            ) from None

    async def read_many(
        self, ids: Iterable[int], *, missing: Literal["raise", "skip"] = "raise", output: str | None = None
    ) -> list[Opportunity]:
        """Read many opportunities concurrently; results in input order, one request per distinct id.

        A missing id raises :class:`OpportunityNotFound` naming it, unless ``missing="skip"``.
        """
        if missing not in ("raise", "skip"):
            raise RequestValidationError("missing", missing, "'raise' or 'skip'")
        order = [_request.validate_id("ids", i) for i in ids]
        unique = list(dict.fromkeys(order))
        self._check_open()
        found: dict[int, Opportunity | None] = {}

        async def one(opportunity_id: int) -> tuple[int, Opportunity | None]:
            try:
                return opportunity_id, await self.read(opportunity_id, output=output)
            except OpportunityNotFound:
                if missing == "skip":
                    return opportunity_id, None
                raise

        async with ordered_map(one, unique, window=max(2 * self.max_concurrency, 8)) as results:
            async for opportunity_id, record in results:
                found[opportunity_id] = record
        return [r for r in (found[i] for i in order) if r is not None]

    async def create(
        self,
        *,
        name: str,
        value: int | Decimal | float | str,
        probability: int,
        prospect_email: str | None = None,
        prospect_id: int | None = None,
        campaign_id: int | None = None,
        type: str | None = None,
        stage: str | None = None,
        status: str | None = None,
        closed_at: datetime | date | str | None = None,
    ) -> Opportunity:
        """Create an opportunity for a prospect (by email, id, or both, which must match).

        Never replayed once sent: if the answer is lost, :class:`WriteOutcomeUnknown` is raised.
        """
        fields: dict[str, Any] = dict(
            name=name,
            value=value,
            probability=probability,
            prospect_email=prospect_email,
            prospect_id=prospect_id,
            campaign_id=campaign_id,
            type=type,
            stage=stage,
            status=status,
            closed_at=closed_at,
        )
        tz = self.timezone
        _request.build_create(**fields, timezone=tz)  # validate before any I/O
        fmt = self.wire_format
        return await self._call(
            lambda v: _request.build_create(**fields, version=v, wire_format=fmt, timezone=tz),
            self._parse_opportunity,
        )

    async def update(self, opportunity_id: int, **fields: Any) -> Opportunity:
        """Change the given fields (``None`` clears one) and return the updated opportunity."""
        tz = self.timezone
        _request.build_update(opportunity_id, fields, timezone=tz)
        fmt = self.wire_format
        try:
            return await self._call(
                lambda v: _request.build_update(
                    opportunity_id, fields, version=v, wire_format=fmt, timezone=tz
                ),
                self._parse_opportunity,
            )
        except OpportunityNotFound as exc:
            raise OpportunityNotFound(
                exc.code, exc.message, exc.http_status, opportunity_id=opportunity_id
            ) from None

    async def delete(self, opportunity_id: int) -> None:
        """Delete an opportunity (undelete brings it back)."""
        await self._by_id(_request.build_delete, opportunity_id)

    async def undelete(self, opportunity_id: int) -> None:
        """Restore a deleted opportunity."""
        await self._by_id(_request.build_undelete, opportunity_id)

    async def _by_id(self, builder: Callable[..., _request.PreparedRequest], opportunity_id: int) -> None:
        builder(opportunity_id)
        fmt = self.wire_format
        try:
            await self._call(lambda v: builder(opportunity_id, version=v, wire_format=fmt), self._parse_empty)
        except OpportunityNotFound as exc:
            raise OpportunityNotFound(
                exc.code, exc.message, exc.http_status, opportunity_id=opportunity_id
            ) from None

    # -- queries --------------------------------------------------------------------------------

    async def query_page(
        self,
        *,
        offset: int = 0,
        limit: int = MAX_LIMIT,
        sort_by: str = "id",
        sort_order: str | None = None,
        output: str | None = None,
        **filters: Any,
    ) -> Page:
        """One query request: up to ``limit`` (1-200) records from ``offset``, and the total."""
        spec = _request.query_spec(
            sort_by=sort_by, sort_order=sort_order, output=output, timezone=self.timezone, **filters
        )
        _request.build_query(spec, offset=offset, limit=limit)
        fmt = self.wire_format
        return await self._call(
            lambda v: _request.build_query(spec, offset=offset, limit=limit, version=v, wire_format=fmt),
            self._parse_page,
        )

    def query(
        self,
        *,
        sort_by: str = "id",
        sort_order: str | None = None,
        output: str | None = None,
        page_size: int = MAX_LIMIT,
        offset: int = 0,
        max_items: int | None = None,
        resume: Cursor | str | None = None,
        strategy: Literal["offset", "keyset"] = "offset",
        **filters: Any,
    ) -> OpportunityQuery:
        """Every opportunity matching ``filters``, in the sort's order, fetched concurrently.

        Returns an :class:`OpportunityQuery`: iterate it with ``async for`` (ideally inside
        ``async with``). Arguments are validated here, before any request.
        """
        spec = _request.query_spec(
            sort_by=sort_by, sort_order=sort_order, output=output, timezone=self.timezone, **filters
        )
        page_size = _request.validate_page_size(page_size)
        offset = _request.validate_offset(offset)
        max_items = _request.validate_max_items(max_items)
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
        if page_size < 2 and (spec.output != "mobile"):
            raise RequestValidationError("page_size", page_size, "an int from 2 to 200 for a walk")
        plan = WalkPlan(
            sort_by=spec.sort_by,
            sort_order=spec.sort_order,
            output=spec.output,
            page_size=page_size,
            offset=offset,
            max_items=max_items,
            window=max(2, 2 * self.max_concurrency),
            strategy=strategy,
            id_greater_than=spec.id_greater_than,
            id_less_than=spec.id_less_than,
            resume=cursor,
        )
        return OpportunityQuery(self, spec, plan)

    def _fetcher(self, spec: _request.QuerySpec) -> Callable[..., Any]:
        fmt = self.wire_format

        async def fetch(
            *,
            offset: int,
            limit: int | None,
            id_greater_than: int | None = None,
            id_less_than: int | None = None,
            sort_order: str | None = None,
            sort_by: str | None = None,
        ) -> Page:
            return await self._call(
                lambda v: _request.build_query(
                    spec,
                    offset=offset,
                    limit=limit,
                    version=v,
                    wire_format=fmt,
                    id_greater_than=id_greater_than,
                    id_less_than=id_less_than,
                    sort_by=sort_by,
                    sort_order=sort_order,
                ),
                self._parse_page,
            )

        return fetch

    def _start_walk(self, plan: WalkPlan, spec: _request.QuerySpec, stats: WalkStats) -> _WalkHandle:
        self._check_open()
        assert self._tg is not None
        send, receive = anyio.create_memory_object_stream[Item](1)
        scope = anyio.CancelScope()
        self._tg.start_soon(run_walk, plan, self._fetcher(spec), send, stats, scope)
        return _WalkHandle(scope, receive)


@attrs.define
class _WalkHandle:
    scope: anyio.CancelScope
    receive: MemoryObjectReceiveStream[Item]

    def close(self) -> None:
        """Stop the walk now: synchronous, so a finalizer may call it."""
        self.scope.cancel()
        self.receive.close()


def _stop_walk(handle: _WalkHandle, loop: asyncio.AbstractEventLoop | None) -> None:
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


class OpportunityQuery:
    """A walk over every record a query matches: an async iterator and an async context manager.

    ``cursor`` is where the walk stands after the last record yielded; pass it back as
    ``query(..., resume=cursor)`` to continue with no gap and no duplicate. Errors raised mid-walk
    carry it too (``error.cursor``). Leaving the loop early (``break``, an exception, cancellation)
    stops the requests in flight at once; inside ``async with`` that happens at a known point.
    A query object walks once.
    """

    def __init__(self, client: OpportunityClient, spec: _request.QuerySpec, plan: WalkPlan) -> None:
        self._client = client
        self._spec = spec
        self.plan = plan
        self.stats = WalkStats()
        self._handle: _WalkHandle | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._buffer: list[Opportunity] = []
        self._positions: list[int] | None = None
        self._index = 0
        self._finished = False
        self._cursor: Cursor | None = plan.resume
        self._mark: int | None = None  # last id yielded (>= 0), or -1 - position (non-id sorts)

    def __repr__(self) -> str:
        state = "finished" if self._finished else ("running" if self._handle else "not started")
        return f"<OpportunityQuery sort_by={self.plan.sort_by} {self.plan.sort_order} {state}>"

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

    def _start(self) -> _WalkHandle:
        if self._handle is None:
            if self._finished:
                raise ClientStateError("this query has finished; call client.query() again to walk again")
            self._handle = self._client._start_walk(self.plan, self._spec, self.stats)
            self._finalizer = weakref.finalize(self, _stop_walk, self._handle, self._client._loop)
            self._finalizer.atexit = False
        return self._handle

    def __aiter__(self) -> OpportunityQuery:
        return self

    def __iter__(self) -> None:
        raise TypeError("OpportunityQuery is asynchronous: use `async for`, not `for`")

    async def __anext__(self) -> Opportunity:
        if self._index < len(self._buffer):
            return self._take()
        if self._finished:
            raise StopAsyncIteration
        handle = self._start()
        try:
            item = await handle.receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._finish()
            if self._client._state is not _State.OPEN:
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

    def _take(self) -> Opportunity:
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

    async def __aenter__(self) -> OpportunityQuery:
        self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def to_list(self) -> list[Opportunity]:
        """Collect the whole walk (mind the memory for large queries)."""
        async with self:
            return [record async for record in self]
