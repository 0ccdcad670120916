"""What every aeopp client shares: configuration, lifecycle and the call pipeline.

One call goes through :meth:`BaseClient._call`: the request is built once (by the caller, pure) ->
credentials -> a slot of the shared limiter -> send through the transport under a per-attempt
timeout -> parse (pure) -> on failure, :func:`~aeopp._decide.decide` says what to do next.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
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

from . import _env, _envelope, _parse, _request, _validate
from ._aiohttp import AiohttpTransport
from ._concurrency import AdaptiveLimiter
from ._config import SizeLimits, Timeout
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
    ProtocolError,
    RequestValidationError,
    TransportError,
)

if TYPE_CHECKING:
    import aiohttp

__all__ = ["BaseClient", "ClientStats"]

log = logging.getLogger("aeopp")

T = TypeVar("T")
Self = TypeVar("Self", bound="BaseClient")


def _shown_path(prepared: _request.PreparedRequest) -> str:
    """The request's path for a log line: no query string, no email address."""
    path = prepared.path
    if "prospect_email/" in path:
        path = path.split("prospect_email/", 1)[0] + "prospect_email/<email>"
    return path


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


def _check_type(name: str, value: object, kind: Any, allowed: str) -> None:
    if value is not None and not isinstance(value, kind):
        raise RequestValidationError(name, type(value).__name__, allowed)


def _timeout(value: object) -> Timeout:
    if isinstance(value, Timeout):
        return value
    try:
        return Timeout(total=value)  # type: ignore[arg-type]
    except ValueError:
        raise RequestValidationError(
            "timeout", value, "a positive number of seconds or an aeopp.Timeout"
        ) from None


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
        timeout: float | Timeout = 30.0,
        retry: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        trust_env: bool = False,
        timezone: tzinfo | None = None,
        size_limits: SizeLimits | None = None,
        coordinator: Coordinator | None = None,
        seed: int | None = None,
    ) -> None:
        if not isinstance(auth, BearerAuth | ApiKeyAuth):
            raise RequestValidationError("auth", type(auth).__name__, "a BearerAuth or an ApiKeyAuth")
        self.base_url = _validate.check_base_url(base_url)
        self._version = _request.validate_version(version)
        self.wire_format = _request.validate_wire_format(wire_format)
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise RequestValidationError("max_concurrency", max_concurrency, "an int >= 1 (Pardot allows 5)")
        _check_type("timezone", timezone, tzinfo, "a datetime.tzinfo such as ZoneInfo(...)")
        _check_type("retry", retry, RetryPolicy, "an aeopp.RetryPolicy")
        _check_type("size_limits", size_limits, SizeLimits, "an aeopp.SizeLimits")
        _check_type("transport", transport, Transport, "an aeopp.Transport")
        _check_type("coordinator", coordinator, Coordinator, "an aeopp.RedisCoordinator")
        if transport is not None and (session is not None or trust_env):
            raise RequestValidationError(
                "transport",
                type(transport).__name__,
                "either transport, or session/trust_env (which configure the built-in one)",
            )
        self.auth = auth
        #: How long one attempt may take.
        self.timeout = _timeout(timeout)
        #: Retries, backoff and the whole call's budget.
        self.retry = retry or RetryPolicy()
        #: The account's time zone: timestamps come out aware in it, and aware filters go in it.
        self.timezone = timezone
        self.max_concurrency = max_concurrency
        #: The largest answers read, by kind (a bigger one is a ProtocolError).
        self.size_limits = size_limits or SizeLimits()
        #: Limits shared with other clients and processes (never closed by the client).
        self.coordinator = coordinator
        self._limiter = AdaptiveLimiter(max_concurrency)
        self._transport: Transport = transport or AiohttpTransport(
            session,
            max_response_bytes=self.size_limits.mobile,
            pool_size=max(10, 2 * max_concurrency),
            trust_env=trust_env,
        )
        self._rng = random.Random(seed)
        self._uses: tuple[int, int] = (-1, 0)  # the newest credentials sent, and how many requests sent them
        self._parse_limiter = anyio.CapacityLimiter(1)  # one parser thread: the GIL allows no more
        self._state = _State.UNOPENED
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self.stats = ClientStats()

    def __repr__(self) -> str:
        state = getattr(self, "_state", None)
        shown = {
            name: getattr(self, attribute, "<unset>")
            for name, attribute in (
                ("base_url", "base_url"),
                ("version", "_version"),
                ("wire_format", "wire_format"),
                ("max_concurrency", "max_concurrency"),
                ("auth", "auth"),
            )
        }
        fields = ", ".join(f"{name}={value!r}" for name, value in shown.items())
        return f"{type(self).__name__}({fields}, state={state.value if state else 'unset'})"

    @classmethod
    def from_env(cls: type[Self], environ: Mapping[str, str] | None = None, **options: Any) -> Self:
        """A client configured from the environment, as the command line is.

        ``AEOPP_ACCESS_TOKEN`` and ``AEOPP_BUSINESS_UNIT_ID`` (or the legacy ``AEOPP_EMAIL``,
        ``AEOPP_PASSWORD`` and ``AEOPP_USER_KEY``), ``AEOPP_BASE_URL`` (default
        https://pi.pardot.com), ``AEOPP_API_VERSION`` (3 or 4, default 4) and ``AEOPP_TIMEZONE``
        (the account's IANA time zone); ``options`` (``max_concurrency=3``, ...) override them::

            async with aeopp.OpportunityClient.from_env() as client: ...

        A missing or bad setting raises :class:`RequestValidationError` naming its variable.
        """
        settings = _env.from_environ(os.environ if environ is None else environ)
        return cls(**{**_env.client_options(settings), **options})

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
        """Requests allowed in flight now: ``max_concurrency`` until a code 66, which halves what was
        in flight; then it rises again slowly (see ``AdaptiveLimiter``)."""
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
        result = _parse.parse_login(raw.status, raw.headers, raw.body)
        if result.version in (3, 4) and result.version != self._version:
            log.info("the account uses API version %d; switching", result.version)
            self._version = result.version
        return result

    async def _send(
        self,
        prepared: _request.PreparedRequest,
        headers: Mapping[str, str] | None = None,
        state: CallState | None = None,
        attempt: int = 1,
    ) -> tuple[RawResponse, int]:
        """One attempt: the slots, then the request under the per-attempt timeout.

        Without ``headers``, the credentials are read once the slots are held (a token can expire
        while a request waits in line behind other processes). Returns the answer and the
        generation of the credentials sent (-1 with ``headers``); the time queued for the slots
        goes into ``state.queued``.
        """
        body = prepared.body()
        cap, limit = self.size_limits.cap(prepared.operation, prepared.output)
        # Slots first (this client's, then the business unit's): time queued is no attempt time.
        queued_from = anyio.current_time()
        async with self._limiter.slot(), self._shared_slot():
            if state is not None:
                state.queued += anyio.current_time() - queued_from
            generation = -1
            if headers is None:
                headers, generation = await self.auth.headers(self._login)
                newest, sent = self._uses
                if generation >= newest:
                    self._uses = (generation, sent + 1 if generation == newest else 1)
                if state is not None:
                    state.first_use = self._uses == (generation, 1)
            all_headers = dict(headers)
            if prepared.content_type:
                all_headers["Content-Type"] = prepared.content_type
            request = RawRequest(
                method=prepared.method,
                url=prepared.url(self.base_url),
                headers=all_headers,
                body=body,
                operation=prepared.operation,
                max_response_bytes=cap,
                timeout=self.timeout,
            )
            self.stats.requests += 1
            started = anyio.current_time()
            try:
                with anyio.fail_after(self.timeout.total):
                    raw = await self._transport.send(request)
            except TimeoutError:
                log.debug(
                    "%s %s: no answer within %g s", prepared.method, _shown_path(prepared), self.timeout.total
                )
                raise TransportError(
                    f"no answer within {self.timeout.total:g} s ({prepared.operation})", request_sent=True
                ) from None
            except AeoppError as exc:
                log.debug("%s %s: %s", prepared.method, _shown_path(prepared), type(exc).__name__)
                raise
            log.debug(
                "%s %s: HTTP %d in %.3f s (attempt %d)",
                prepared.method,
                _shown_path(prepared),
                raw.status,
                anyio.current_time() - started,
                attempt,
            )
        if 300 <= raw.status < 400:
            where = urlsplit(raw.headers.get("location", ""))
            target = f"{where.scheme}://{where.hostname}" if where.hostname else "an unnamed location"
            raise ProtocolError(
                f"HTTP {raw.status} redirect to {target} refused: aeopp never follows redirects "
                "(is base_url right?)",
                http_status=raw.status,
            )
        if len(raw.body) > cap:  # a transport that doesn't stop at the cap itself
            raise ProtocolError(
                f"the answer to {prepared.operation} is larger than the {cap:,}-byte cap for "
                f"{limit} answers (SizeLimits.{limit})",
                http_status=raw.status,
                body=raw.body,
            )
        return raw, generation

    def _shared_slot(self) -> AbstractAsyncContextManager[object]:
        if self.coordinator is None:
            return nullcontext()
        return self.coordinator.slot(self.business_unit)

    async def _call(
        self,
        prepared: _request.PreparedRequest,
        parse: Callable[[RawResponse, _request.PreparedRequest], T],
    ) -> T:
        """Send ``prepared`` (built once, for the current version), retrying as :func:`decide` says."""
        self._check_open()
        state = CallState(
            self.retry,
            idempotent=prepared.idempotent,
            legacy_auth=self.auth.legacy,
            operation=prepared.operation,
        )
        started = anyio.current_time()
        attempt = 0
        while True:
            attempt += 1
            prepared = prepared.with_version(self._version)
            retry_after: float | None = None
            generation = -1
            try:
                if self.coordinator is not None:
                    await self.coordinator.admit(self.business_unit)
                if self.auth.legacy:
                    await self.auth.headers(self._login)  # a login takes a slot: log in before taking one
                raw, generation = await self._send(prepared, None, state, attempt)
                retry_after = parse_retry_after(raw.headers.get("retry-after"))
                if _envelope.parse_in_thread(raw.body, self.wire_format):
                    # Parsing a page is CPU work: in a worker thread the event loop sends the next
                    # requests first (parsing is pure, so it is safe there; see parse_in_thread).
                    result = await anyio.to_thread.run_sync(parse, raw, prepared, limiter=self._parse_limiter)
                else:
                    result = parse(raw, prepared)
            except AeoppError as exc:
                exc._scrub(self.auth._secrets())  # a proxy may echo the request's headers
                error = exc
            else:
                self._limiter.success()
                return result
            if isinstance(error, PardotError):
                self.stats.errors_by_code[error.code] = self.stats.errors_by_code.get(error.code, 0) + 1
                if not isinstance(error, ConcurrencyLimitExceeded):
                    self._limiter.answered()
            if isinstance(error, DailyLimitExceeded) and error.http_status is not None and self.coordinator:
                await self.coordinator.daily_limit_reached(self.business_unit)
            step = decide(
                state,
                error,
                generation=generation,
                rng=self._rng,
                retry_after=retry_after,
                current_generation=self.auth.generation,
                elapsed=anyio.current_time() - started - state.queued,
            )
            if isinstance(step, Retry):
                if isinstance(error, ConcurrencyLimitExceeded):
                    self._limiter.too_many()
                self.stats.retries += 1
                log.debug("retrying %s in %.3f s after %s", prepared.operation, step.delay, error)
                await anyio.sleep(step.delay)
            elif isinstance(step, Renew):
                if not await self.auth.refresh(self._login, step.generation):
                    raise error
                self.stats.refreshes += 1
            elif isinstance(step, SwitchVersion):
                log.warning("Pardot says this account needs API version %d; switching", step.version)
                self._version = step.version
                self.stats.version_switches += 1
            else:
                assert isinstance(step, GiveUp)
                raise step.error


# Public as aeopp.ClientStats: reprs, tracebacks and pickles say so.
ClientStats.__module__ = "aeopp"
