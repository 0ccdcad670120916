"""What every aeopp client shares: configuration, lifecycle and the call pipeline.

One call goes through :meth:`BaseClient._call`: the request is built once (by the caller, pure) ->
credentials -> a slot of the shared limiter -> send through the transport under a per-attempt
timeout -> parse (pure) -> on failure, :func:`~aeopp._decide.decide` says what to do next.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import logging
import random
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import tzinfo
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit

import anyio
import anyio.abc
import attrs

from . import _parse, _request
from ._aiohttp import DEFAULT_MAX_RESPONSE_BYTES, AiohttpTransport
from ._concurrency import AdaptiveLimiter
from ._constants import MAX_CONCURRENT_REQUESTS
from ._coordinator import Coordinator
from ._decide import CallState, GiveUp, Renew, Retry, SwitchVersion, decide
from ._retry import RetryPolicy, parse_retry_after
from ._transport import RawRequest, RawResponse, Transport
from .auth import ApiKeyAuth, BearerAuth
from .errors import (
    AeoppError,
    ClientStateError,
    ConcurrencyLimitExceeded,
    DailyLimitExceeded,
    PardotError,
    RequestValidationError,
    TransportError,
)

if TYPE_CHECKING:
    import aiohttp

__all__ = ["BaseClient", "ClientStats"]

log = logging.getLogger("aeopp")

#: Answers at least this big are parsed in a worker thread (a 200-record page is about 80 KB).
PARSE_IN_THREAD_BYTES = 32 * 1024

T = TypeVar("T")
Self = TypeVar("Self", bound="BaseClient")


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


def check_base_url(base_url: object) -> str:
    """``base_url`` without its trailing slash: https, or plain http for a loopback host."""
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


class BaseClient:
    """Configuration, lifecycle (``async with``, :meth:`aclose`) and the call pipeline.

    Subclasses add the operations of one Pardot object; every call they make shares one limit of
    ``max_concurrency`` requests in flight.
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
        coordinator: Coordinator | None = None,
    ) -> None:
        if not isinstance(auth, BearerAuth | ApiKeyAuth):
            raise RequestValidationError("auth", type(auth).__name__, "a BearerAuth or an ApiKeyAuth")
        self.base_url = check_base_url(base_url)
        self._version = _request.validate_version(version)
        self.wire_format = _request.validate_wire_format(wire_format)
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise RequestValidationError("max_concurrency", max_concurrency, "an int >= 1 (Pardot allows 5)")
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
            raise RequestValidationError("timeout", timeout, "a positive number of seconds")
        if timezone is not None and not isinstance(timezone, tzinfo):
            raise RequestValidationError("timezone", timezone, "a datetime.tzinfo such as ZoneInfo(...)")
        if transport is not None and session is not None:
            raise RequestValidationError(
                "session", "<ClientSession>", "either session or transport, not both"
            )
        if transport is not None and not isinstance(transport, Transport):
            raise RequestValidationError("transport", type(transport).__name__, "an aeopp.Transport")
        if coordinator is not None and not isinstance(coordinator, Coordinator):
            raise RequestValidationError(
                "coordinator", type(coordinator).__name__, "an aeopp.RedisCoordinator"
            )
        self.auth = auth
        #: Limits shared with other clients and processes (never closed by the client).
        self.coordinator = coordinator
        self.timeout = float(timeout)
        self.retry = retry or RetryPolicy()
        self.timezone = timezone
        self.max_concurrency = max_concurrency
        # A coordinator shares the slots: no need to start slowly to find them.
        self._limiter = AdaptiveLimiter(max_concurrency, slow_start=coordinator is None)
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
            f"{type(self).__name__}(base_url={self.base_url!r}, version={self._version}, "
            f"wire_format={self.wire_format!r}, max_concurrency={self.max_concurrency}, "
            f"auth={self.auth!r}, state={self._state.value})"
        )

    @property
    def version(self) -> int:
        """The API version in use (it changes once if the server answers 88 or 89)."""
        return self._version

    @property
    def business_unit(self) -> str:
        """What Pardot's limits belong to: the business unit id (the login email with legacy keys)."""
        auth = self.auth
        return auth.business_unit_id if isinstance(auth, BearerAuth) else f"legacy:{auth.email}"

    @property
    def concurrency_limit(self) -> int:
        """Requests allowed in flight now: up to ``max_concurrency``; without a coordinator it starts
        at one and grows with each success until the first code 66 (then it halves)."""
        return self._limiter.limit

    # -- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self: Self) -> Self:
        name = type(self).__name__
        if self._state is _State.OPEN:
            raise ClientStateError(f"this {name} is already open")
        if self._state is _State.CLOSED:
            raise ClientStateError(f"an {name} can't be reopened once closed; make a new one")
        self._loop = asyncio.get_running_loop()
        if self.coordinator is not None and isinstance(self.auth, BearerAuth):
            self.auth.attach(self.coordinator.token_store(self.business_unit))
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

    @property
    def is_open(self) -> bool:
        """Whether the client is open (entered and not closed)."""
        return self._state is _State.OPEN

    def _check_open(self) -> None:
        name = type(self).__name__
        if self._state is _State.UNOPENED:
            raise ClientStateError(f"use the client inside `async with {name}(...) as client:`")
        if self._state is _State.CLOSED:
            raise ClientStateError(f"this {name} is closed")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise ClientStateError("the client must be used from a running event loop") from None
        if loop is not self._loop:
            raise ClientStateError(f"this {name} belongs to another event loop")

    def _start_soon(self, func: Callable[..., Any], *args: Any) -> None:
        """Run ``func(*args)`` in the client's task group (it ends when the client closes)."""
        self._check_open()
        assert self._tg is not None
        self._tg.start_soon(func, *args)

    # -- the call pipeline ----------------------------------------------------------------------

    async def _login(self, email: str, password: str, user_key: str) -> _parse.LoginResult:
        prepared = _request.build_login(
            email=email, password=password, user_key=user_key, version=self._version, wire_format="json"
        )
        raw, _ = await self._send(prepared, {})
        result = _parse.parse_login(raw.status, raw.headers, raw.body, max_bytes=self._max_response_bytes)
        if result.version in (3, 4) and result.version != self._version:
            log.info("aeopp: the account uses API version %d; switching", result.version)
            self._version = result.version
        return result

    async def _send(
        self, prepared: _request.PreparedRequest, headers: Mapping[str, str] | None = None
    ) -> tuple[RawResponse, int]:
        """One attempt: a limiter slot, then the request under the per-attempt timeout.

        Without ``headers``, the credentials are read once the slots are held (a token can expire
        while a request waits in line behind other processes); returns the answer and the
        generation of the credentials sent (-1 with ``headers``).
        """
        body = prepared.body()
        # Slots first (this client's, then the business unit's): time queued is no attempt time.
        async with self._limiter.slot(), self._shared_slot():
            generation = -1
            if headers is None:
                headers, generation = await self.auth.headers(self._login)
            all_headers = dict(headers)
            if prepared.content_type:
                all_headers["Content-Type"] = prepared.content_type
            request = RawRequest(
                method=prepared.method,
                url=prepared.url(self.base_url),
                headers=all_headers,
                body=body,
                operation=prepared.operation,
                max_response_bytes=self._max_response_bytes,
            )
            self.stats.requests += 1
            try:
                with anyio.fail_after(self.timeout):
                    return await self._transport.send(request), generation
            except TimeoutError:
                raise TransportError(
                    f"no answer within {self.timeout:g} s ({prepared.operation})", request_sent=True
                ) from None

    def _shared_slot(self) -> AbstractAsyncContextManager[object]:
        if self.coordinator is None:
            return nullcontext()
        return self.coordinator.slot(self.business_unit)

    async def _call(self, prepared: _request.PreparedRequest, parse: Callable[[RawResponse], T]) -> T:
        """Send ``prepared`` (built once, for the current version), retrying as :func:`decide` says."""
        self._check_open()
        state = CallState(
            self.retry,
            idempotent=prepared.idempotent,
            legacy_auth=self.auth.legacy,
            operation=prepared.operation,
        )
        while True:
            prepared = prepared.with_version(self._version)
            retry_after: float | None = None
            generation = -1
            try:
                if self.coordinator is not None:
                    await self.coordinator.admit(self.business_unit)
                if self.auth.legacy:
                    await self.auth.headers(self._login)  # a login takes a slot: log in before taking one
                raw, generation = await self._send(prepared)
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
            if isinstance(error, DailyLimitExceeded) and error.http_status is not None and self.coordinator:
                await self.coordinator.daily_limit_reached(self.business_unit)
            step = decide(
                state,
                error,
                generation=generation,
                rng=self._rng,
                retry_after=retry_after,
                current_generation=self.auth.generation,
            )
            if isinstance(step, Retry):
                if isinstance(error, ConcurrencyLimitExceeded):
                    self._limiter.too_many()
                self.stats.retries += 1
                log.debug("aeopp: retrying %s in %.3f s after %s", prepared.operation, step.delay, error)
                await anyio.sleep(step.delay)
            elif isinstance(step, Renew):
                if not await self.auth.refresh(self._login, step.generation):
                    raise error
                self.stats.refreshes += 1
            elif isinstance(step, SwitchVersion):
                log.warning("aeopp: Pardot says this account needs API version %d; switching", step.version)
                self._version = step.version
                self.stats.version_switches += 1
            else:
                assert isinstance(step, GiveUp)
                raise step.error
