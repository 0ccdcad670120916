"""The simulator's HTTP side: an aiohttp.web application answering like Pardot.

This module receives every request and does what comes before an operation: routing,
authentication (and the legacy login), limits and faults. The operations are in ``_operations``
and the OAuth token endpoint in ``_token_endpoint``.

Order of checks (reference §7.3, inferred): credentials in the query string (49), authentication
(184/181/201 or 1), routing (22, 2, 60), account version (88/89), the concurrency limit (66, answered
at once), the daily quota (122), scripted and random faults (after the latency sleep), the connector
lock (37/59), missing parameters (13), then values.

Parameters are merged from the query string, the form body and the path pairs; on a conflict the
body wins over the query string and a path pair wins over both.

Choices where the reference is unsure (each one a guess to revisit against the real server; those
about parameter values and records are in ``_operations``):

* Bearer checks the token (184) before the business-unit header (181, then 201). HTTP 401 goes with
  codes 1 and 184 only. Legacy login in bearer mode answers 199.
* A daily quota counts API requests that pass authentication, routing and the concurrency check.
* Every request counts in flight (and in ``max_in_flight``), including one then answered 66.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import attrs
from aiohttp import web

from .._constants import OPERATIONS
from ._call import ApiError, Call, respond, same_secret
from ._operations import Operations
from ._params import parse_int
from ._render import Renderer, error_body
from ._state import Fault, SimulatorCredentials, SimulatorSettings, SimulatorStats
from ._store import OpportunityStore
from ._token_endpoint import TokenEndpoint

__all__ = ["Server"]

#: Parameters that carry credentials; in a query string they get 49.
QUERY_CREDENTIALS = frozenset({"api_key", "user_key", "password", "access_token"})
#: Codes answered with ``settings.auth_error_http_status``.
AUTH_CODES = frozenset({1, 184})
WRITES = frozenset({"create", "update", "delete", "undelete"})
_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class _Dropped(Exception):
    """The connection was aborted on purpose."""


@attrs.define
class _Token:
    issued_at: datetime
    uses: int = 0


class Server:
    """Pardot's behaviour over one store; :meth:`app` is the aiohttp application."""

    def __init__(
        self,
        store: OpportunityStore,
        settings: SimulatorSettings,
        stats: SimulatorStats,
        credentials: Callable[[], SimulatorCredentials],
        faults: list[Fault],
    ) -> None:
        self.store = store
        self.settings = settings
        self.stats = stats
        self._credentials = credentials
        self.faults = faults
        self.renderer = Renderer(store)
        self.operations = Operations(store, self.renderer, settings)
        self.oauth = TokenEndpoint(settings, stats, credentials, self.register_token)
        self.tokens: dict[str, _Token] = {}
        self.api_key: tuple[str, datetime] | None = None
        #: Called with (operation, params) after routing, before limits; tests may change the store.
        self.before_request: Callable[[str, Mapping[str, str]], None] | None = None
        self._in_flight: dict[str, int] = {}
        self._quota_day: Any = None
        self._quota_used = 0
        self._fault_rng: random.Random | None = None
        self._fault_rng_seed: int | None = None
        self._jitter_rng = random.Random(0)

    # -- application ------------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application (API, legacy login and OAuth token routes)."""
        app = web.Application()
        app.router.add_route("*", "/services/oauth2/token", self.oauth.handle)
        app.router.add_route("*", "/api/{tail:.*}", self.api)
        return app

    @property
    def credentials(self) -> SimulatorCredentials:
        """The credentials the simulator accepts."""
        return self._credentials()

    def register_token(self, token: str) -> None:
        """Make ``token`` a valid bearer token from now on."""
        self.tokens[token] = _Token(issued_at=self.settings.clock())

    def _tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    # -- responses --------------------------------------------------------------------------------

    def _error(self, code: int, fmt: str) -> web.Response:
        self.stats.errors_by_code[code] += 1
        status = (
            self.settings.auth_error_http_status if code in AUTH_CODES else self.settings.error_http_status
        )
        return respond(error_body(code, fmt), fmt, status)

    def _html_error(self, status: int) -> web.Response:
        self.stats.http_errors_by_status[status] += 1
        reason = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}.get(
            status, "Error"
        )
        return web.Response(
            text=_HTML_PAGE.format(status=status, reason=reason), status=status, content_type="text/html"
        )

    def _drop(self, request: web.Request) -> None:
        self.stats.dropped += 1
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise _Dropped

    # -- the API ----------------------------------------------------------------------------------

    async def api(self, request: web.Request) -> web.StreamResponse:
        """Every ``/api/...`` request: counts it in flight from arrival to the end of the answer."""
        self.stats.requests += 1
        unit = request.headers.get("Pardot-Business-Unit-Id", "")
        self._in_flight[unit] = self._in_flight.get(unit, 0) + 1
        self.stats.in_flight += 1
        self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
        try:
            response = await self._api(request, self._in_flight[unit])
            await response.prepare(request)
            await response.write_eof()
            return response
        except _Dropped:
            # The transport is gone; aiohttp has nothing left to send.
            return web.Response(status=499)
        except ConnectionResetError:
            # The client went away before the answer was written (it stopped a walk early):
            # ordinary for a server, so no traceback in the user's log.
            return web.Response(status=499)
        finally:
            self._in_flight[unit] -= 1
            self.stats.in_flight -= 1

    async def _api(self, request: web.Request, in_flight: int) -> web.Response:
        s = self.settings
        try:
            call = await self._route(request)
        except ApiError as e:
            return self._error(e.code, _fmt(request.query.get("format")))
        fmt = call.fmt
        self.stats.requests_by_operation[call.operation] += 1
        try:
            if s.reject_query_credentials and QUERY_CREDENTIALS & set(request.query):
                raise ApiError(49)
            if call.kind == "login":
                if request.method != "POST":
                    raise ApiError(60)
                return self._login(call)
            self._authenticate(request)
            if call.version not in (3, 4):
                raise ApiError(22)
            if call.operation not in OPERATIONS:
                raise ApiError(2)
            allowed = ("GET", "POST", "DELETE") if call.operation == "delete" else ("GET", "POST")
            if request.method not in allowed:
                raise ApiError(60)
            if s.required_version == 4 and call.version == 3:
                raise ApiError(88)
            if s.required_version == 3 and call.version == 4:
                raise ApiError(89)
            if self.before_request is not None:
                self.before_request(call.operation, call.params)
            if s.concurrency_limit is not None and in_flight > s.concurrency_limit:
                raise ApiError(66)
            self._count_quota()
        except ApiError as e:
            return self._error(e.code, fmt)

        fault = self._next_fault(call.operation)
        delay = s.latency + (self._jitter_rng.uniform(0, s.jitter) if s.jitter > 0 else 0.0)
        if fault is not None and fault.latency is not None:
            delay += fault.latency
        if delay > 0:
            await asyncio.sleep(delay)
        if fault is not None:
            if fault.drop == "before":
                self._drop(request)
            if fault.http_status is not None:
                return self._html_error(fault.http_status)
            if fault.code is not None:
                return self._error(fault.code, fmt)
        try:
            if call.operation in WRITES and s.connector is not None:
                raise ApiError(s.connector)
            self.renderer.configure(s.timezone, s.html_escape_strings)
            response = self.operations.run(call)
        except ApiError as e:
            response = self._error(e.code, fmt)
        if fault is not None and fault.drop == "after":
            self._drop(request)
        return response

    async def _route(self, request: web.Request) -> Call:
        raw = request.raw_path.split("?", 1)[0]
        segments = [unquote(p) for p in raw.split("/")[2:]]  # after "", "api"
        while segments and segments[-1] == "":
            segments.pop()
        obj = segments[0] if segments else ""
        pairs: dict[str, str] = {}
        rest = segments[1:]
        for i in range(0, len(rest), 2):
            pairs[rest[i]] = rest[i + 1] if i + 1 < len(rest) else ""
        params: dict[str, str] = {k: v for k, v in request.query.items()}
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.can_read_body:
            if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                for k, v in (await request.post()).items():
                    if isinstance(v, str):
                        params[k] = v
            else:
                await request.read()
        version_text = pairs.pop("version", "")
        operation = pairs.pop("do", "")
        params.update(pairs)
        fmt = _fmt(params.get("format"))
        version = parse_int(version_text) if version_text else None
        if obj == "login":
            return Call("login", "login", version, params, fmt)
        if obj != "opportunity":
            raise ApiError(2)
        return Call("opportunity", operation, version, params, fmt)

    def _authenticate(self, request: web.Request) -> None:
        s = self.settings
        cred = self.credentials
        header = request.headers.get("Authorization", "")
        if s.auth == "bearer":
            scheme, _, token = header.strip().partition(" ")
            state = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            if state is None:
                raise ApiError(184)
            now = s.clock()
            if (
                s.token_expires_after_requests is not None and state.uses >= s.token_expires_after_requests
            ) or (
                s.token_expires_after_seconds is not None
                and (now - state.issued_at).total_seconds() >= s.token_expires_after_seconds
            ):
                raise ApiError(184)
            state.uses += 1
            unit = request.headers.get("Pardot-Business-Unit-Id")
            if unit is None:
                if s.require_business_unit_header:
                    raise ApiError(181)
            elif unit.strip() != cred.business_unit_id:
                raise ApiError(201)
        elif s.auth == "apikey":
            scheme, _, rest = header.strip().partition(" ")
            if scheme.lower() != "pardot":
                raise ApiError(1)
            fields: dict[str, str] = {}
            for part in rest.split(","):
                key, _, value = part.strip().partition("=")
                fields[key.strip().lower()] = value.strip()
            if not (
                self.api_key is not None
                and same_secret(fields.get("api_key", ""), self.api_key[0])
                and self._api_key_alive()
                and same_secret(fields.get("user_key", ""), cred.user_key)
            ):
                raise ApiError(1)

    def _api_key_alive(self) -> bool:
        if self.api_key is None:
            return False
        age = (self.settings.clock() - self.api_key[1]).total_seconds()
        return age < self.settings.api_key_lifetime

    def _login(self, call: Call) -> web.Response:
        s = self.settings
        if s.auth == "bearer":
            raise ApiError(199)
        cred = self.credentials
        p = call.params
        if not (
            same_secret(p.get("email", ""), cred.email)
            and same_secret(p.get("password", ""), cred.password)
            and same_secret(p.get("user_key", ""), cred.user_key)
        ):
            raise ApiError(15)
        if not self._api_key_alive():
            self.api_key = (secrets.token_hex(16), s.clock())
        assert self.api_key is not None
        version = 4 if s.required_version == 4 else None
        return respond(self.renderer.login(self.api_key[0], version, call.fmt), call.fmt)

    def _count_quota(self) -> None:
        s = self.settings
        day = s.clock().astimezone(self._tz()).date()
        if day != self._quota_day:
            self._quota_day = day
            self._quota_used = 0
        if s.daily_quota is not None and self._quota_used >= s.daily_quota:
            raise ApiError(122)
        self._quota_used += 1

    def reset_quota(self) -> None:
        """Forget today's usage."""
        self._quota_used = 0

    def _next_fault(self, operation: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(operation):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        s = self.settings
        rates = (s.busy_rate, s.internal_error_rate, s.http_error_rate, s.drop_before_rate, s.drop_after_rate)
        if not any(rates):
            return None
        if self._fault_rng is None or self._fault_rng_seed != s.fault_seed:
            self._fault_rng = random.Random(s.fault_seed)
            self._fault_rng_seed = s.fault_seed
        draw = self._fault_rng.random()
        for i, rate in enumerate(rates):
            if draw < rate:
                if i == 0:
                    return Fault(code=66)
                if i == 1:
                    return Fault(code=183)
                if i == 2:
                    return Fault(http_status=self._fault_rng.choice((502, 503)))
                return Fault(drop="before" if i == 3 else "after")
            draw -= rate
        return None


def _fmt(value: str | None) -> str:
    return "json" if (value or "").lower() == "json" else "xml"
