"""The simulator's HTTP side: an aiohttp.web application answering like Pardot.

Order of checks (reference §7.3, inferred): credentials in the query string (49), authentication
(184/181/201 or 1), routing (22, 2, 60), account version (88/89), the concurrency limit (66, answered
at once), the daily quota (122), scripted and random faults (after the latency sleep), the connector
lock (37/59), missing parameters (13), then values.

Parameters are merged from the query string, the form body and the path pairs; on a conflict the
body wins over the query string and a path pair wins over both.

Choices where the reference is unsure (each one a guess to revisit against the real server):

* Default ``sort_by`` is ``id`` ascending; ties in any sort are broken by ascending id.
* ``created_after`` and ``created_before`` are both strict; ``last_7_days`` is now minus 7 days.
* Inverted ranges are errors only when the lower bound is strictly above the upper one.
* Probability filters accept integers 0-100 (41 otherwise); id filters any integer (16 otherwise);
  value filters any decimal (43 otherwise).
* Code 5 only when every non-control query parameter is unknown; one unknown among known ones is
  ignored. ``api_key``, ``user_key`` and ``deleted`` count as control parameters (``deleted`` has
  no effect).
* ``output=mobile`` has no 200 cap: without ``limit`` every match from ``offset`` is returned; a
  given ``limit`` must be a positive integer and is honoured. Other outputs: ``limit`` 1-200.
* An empty query parameter (``limit=``) counts as absent.
* ``output=bulk`` with no match answers ``"result": null`` (JSON) / ``<result/>`` (XML).
* Create: missing or empty ``name``, ``value``, ``probability`` or prospect -> 13; ``campaign_id``
  is optional. Update: sending a required field empty -> 36; ``type``/``stage``/``status``/
  ``closed_at`` sent empty are cleared. ``status`` takes any string. ``value`` >= 0 with decimals.
* A shared email picks, on create, the prospect with the latest activity (v3 and v4 alike); on
  query v4 matches every prospect with the email and v3 the lowest id. Emails match case-insensitively.
* Bearer checks the token (184) before the business-unit header (181, then 201). HTTP 401 goes with
  codes 1 and 184 only. Legacy login in bearer mode answers 199.
* A daily quota counts API requests that pass authentication, routing and the concurrency check.
* Every request counts in flight (and in ``max_in_flight``), including one then answered 66.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import hmac
import operator
import random
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import attrs
from aiohttp import web

from .._constants import (
    DEFAULT_SORT_ORDER,
    MAX_LIMIT,
    OPERATIONS,
    OUTPUTS,
    PROSPECT_EMAIL_MAX_LENGTH,
    QUERY_FILTERS,
    SORT_FIELDS,
    SORT_ORDERS,
)
from ._params import parse_decimal, parse_int, parse_timestamp
from ._render import Renderer, error_body
from ._state import Fault, SimulatorCredentials, SimulatorSettings, SimulatorStats
from ._store import OpportunityStore, Prospect, StoredOpportunity

__all__ = ["ApiError", "Server"]

UTC = timezone.utc
#: Parameters that carry credentials; in a query string they get 49.
QUERY_CREDENTIALS = frozenset({"api_key", "user_key", "password", "access_token"})
#: Query parameters that are not filters (they never make code 5 on their own).
QUERY_CONTROLS = frozenset(
    {"format", "output", "limit", "offset", "sort_by", "sort_order", "deleted", "api_key", "user_key"}
)
#: Codes answered with ``settings.auth_error_http_status``.
AUTH_CODES = frozenset({1, 184})
WRITES = frozenset({"create", "update", "delete", "undelete"})
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\Z")
_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class ApiError(Exception):
    """A Pardot failure answer: ``code`` with its standard message."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _Dropped(Exception):
    """The connection was aborted on purpose."""


@attrs.define
class _Token:
    issued_at: datetime
    uses: int = 0


@attrs.define
class _Call:
    """What one request asked for, once routed."""

    kind: str  # "opportunity" or "login"
    operation: str
    version: int | None
    params: dict[str, str]
    fmt: str


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
        app.router.add_route("*", "/services/oauth2/token", self.oauth_token)
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

    def _body(self, text: str, fmt: str, status: int = 200) -> web.Response:
        if fmt == "json":
            return web.Response(
                body=text.encode(), status=status, headers={"Content-Type": "application/json"}
            )
        return web.Response(
            body=text.encode(), status=status, headers={"Content-Type": "text/xml; charset=utf-8"}
        )

    def _error(self, code: int, fmt: str) -> web.Response:
        self.stats.errors_by_code[code] += 1
        status = (
            self.settings.auth_error_http_status if code in AUTH_CODES else self.settings.error_http_status
        )
        return self._body(error_body(code, fmt), fmt, status)

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

    # -- OAuth ------------------------------------------------------------------------------------

    async def oauth_token(self, request: web.Request) -> web.StreamResponse:
        """Salesforce's token endpoint: refresh_token, client_credentials and password grants."""
        self.stats.requests += 1
        self.stats.requests_by_operation["token"] += 1
        if request.method != "POST":
            return web.json_response(
                {"error": "invalid_request", "error_description": "must use HTTP POST"}, status=400
            )
        # Salesforce reads the grant from the query string or the form body, and the client from
        # the body or HTTP Basic auth (tap-pardot sends the query string and Basic auth).
        params = {k: str(v) for k, v in request.query.items()}
        if request.can_read_body:
            params.update((k, str(v)) for k, v in (await request.post()).items())
        basic = request.headers.get("Authorization", "")
        if basic[:6].lower() == "basic ":
            try:
                client_id, _, client_secret = base64.b64decode(basic[6:].strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                client_id = client_secret = ""
            params.setdefault("client_id", client_id)
            params.setdefault("client_secret", client_secret)
        cred = self.credentials
        grant = params.get("grant_type", "")

        def fail(error: str, description: str) -> web.Response:
            return web.json_response({"error": error, "error_description": description}, status=400)

        if grant not in ("refresh_token", "client_credentials", "password"):
            return fail("unsupported_grant_type", "grant type not supported")
        if not _same(params.get("client_id", ""), cred.client_id):
            return fail("invalid_client_id", "client identifier invalid")
        if not _same(params.get("client_secret", ""), cred.client_secret):
            return fail("invalid_client", "invalid client credentials")
        if grant == "refresh_token" and not _same(params.get("refresh_token", ""), cred.refresh_token):
            return fail("invalid_grant", "expired access/refresh token")
        if grant == "password" and not (
            _same(params.get("username", ""), cred.email) and _same(params.get("password", ""), cred.password)
        ):
            return fail("invalid_grant", "authentication failure")
        token = "00DSIM0000000001!" + secrets.token_urlsafe(48)
        self.register_token(token)
        issued = self.settings.clock()
        return web.json_response(
            {
                "access_token": token,
                "instance_url": cred.base_url,
                "id": cred.base_url + "/id/00DSIM0000000001AAA/005SIM0000000001AAA",
                "token_type": "Bearer",
                "issued_at": str(int(issued.timestamp() * 1000)),
                "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
            }
        )

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
            response = self._operation(call)
        except ApiError as e:
            response = self._error(e.code, fmt)
        if fault is not None and fault.drop == "after":
            self._drop(request)
        return response

    async def _route(self, request: web.Request) -> _Call:
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
            return _Call("login", "login", version, params, fmt)
        if obj != "opportunity":
            raise ApiError(2)
        return _Call("opportunity", operation, version, params, fmt)

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
                and _same(fields.get("api_key", ""), self.api_key[0])
                and self._api_key_alive()
                and _same(fields.get("user_key", ""), cred.user_key)
            ):
                raise ApiError(1)

    def _api_key_alive(self) -> bool:
        if self.api_key is None:
            return False
        age = (self.settings.clock() - self.api_key[1]).total_seconds()
        return age < self.settings.api_key_lifetime

    def _login(self, call: _Call) -> web.Response:
        s = self.settings
        if s.auth == "bearer":
            raise ApiError(199)
        cred = self.credentials
        p = call.params
        if not (
            _same(p.get("email", ""), cred.email)
            and _same(p.get("password", ""), cred.password)
            and _same(p.get("user_key", ""), cred.user_key)
        ):
            raise ApiError(15)
        if not self._api_key_alive():
            self.api_key = (secrets.token_hex(16), s.clock())
        assert self.api_key is not None
        version = 4 if s.required_version == 4 else None
        return self._body(self.renderer.login(self.api_key[0], version, call.fmt), call.fmt)

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

    # -- operations -------------------------------------------------------------------------------

    def _operation(self, call: _Call) -> web.Response:
        p = call.params
        output = p.get("output") or "full"
        if output not in OUTPUTS:
            output = "full"
        if call.operation == "query":
            return self._query(call, output)
        if call.operation == "create":
            record = self._create(call)
            return self._body(self.renderer.single(record, call.fmt, output, False), call.fmt)
        record = self._record_for(p, allow_deleted=call.operation == "undelete")
        if call.operation == "read":
            return self._body(self.renderer.single(record, call.fmt, output, True), call.fmt)
        if call.operation == "update":
            record = self._update(record, p)
            return self._body(self.renderer.single(record, call.fmt, output, False), call.fmt)
        if call.operation == "delete":
            self.store.delete(record.id)
        else:
            if not record.deleted:
                raise ApiError(35)
            self.store.undelete(record.id)
        return web.Response(status=204)

    def _record_for(self, p: Mapping[str, str], allow_deleted: bool) -> StoredOpportunity:
        text = p.get("id", "")
        if text == "":
            raise ApiError(13)
        oid = parse_int(text)
        if oid is None or oid < 0:
            raise ApiError(16)
        try:
            record = self.store.get(oid)
        except KeyError:
            raise ApiError(35) from None
        if record.deleted and not allow_deleted:
            raise ApiError(35)
        return record

    def _prospect(self, p: Mapping[str, str], version: int | None) -> list[Prospect] | None:
        """The prospects named by ``prospect_id`` / ``prospect_email`` (3, 4, 44), or None if neither."""
        pid_text = p.get("prospect_id", "")
        email = p.get("prospect_email", "")
        by_id: Prospect | None = None
        if pid_text:
            pid = parse_int(pid_text)
            by_id = self.store.prospects.get(pid) if pid is not None else None
            if by_id is None:
                raise ApiError(3)
        by_email: list[Prospect] = []
        if email:
            if len(email) > PROSPECT_EMAIL_MAX_LENGTH or not _EMAIL.match(email):
                raise ApiError(4)
            by_email = self.store.prospects_by_email(email)
            if not by_email:
                raise ApiError(4)
            if version != 4:
                by_email = by_email[:1]
        if by_id is not None and by_email:
            if by_id.id not in {q.id for q in by_email}:
                raise ApiError(44)
            return [by_id]
        if by_id is not None:
            return [by_id]
        return by_email or None

    def _query(self, call: _Call, output: str) -> web.Response:
        p = {k: v for k, v in call.params.items() if v != ""}
        others = [k for k in p if k not in QUERY_CONTROLS]
        if others and not any(k in QUERY_FILTERS for k in others):
            raise ApiError(5)
        mobile = output == "mobile"
        limit: int | None = MAX_LIMIT
        if "limit" in p:
            limit = parse_int(p["limit"])
            if limit is None or limit < 1 or (limit > MAX_LIMIT and not mobile):
                raise ApiError(23)
        elif mobile:
            limit = None
        offset = 0
        if "offset" in p:
            value = parse_int(p["offset"])
            if value is None or value < 0:
                raise ApiError(21)
            offset = value
        sort_by = p.get("sort_by", "id")  # the default sort_by is undocumented: id ascending
        if sort_by not in SORT_FIELDS:
            raise ApiError(19)
        sort_order = p.get("sort_order", DEFAULT_SORT_ORDER[sort_by])
        if sort_order not in SORT_ORDERS:
            raise ApiError(20)
        id_gt = _bound(p, "id_greater_than", 16, parse_int)
        id_lt = _bound(p, "id_less_than", 16, parse_int)
        if id_gt is not None and id_lt is not None and id_gt > id_lt:
            raise ApiError(17)
        pr_gt = _bound(p, "probability_greater_than", 41, _probability)
        pr_lt = _bound(p, "probability_less_than", 41, _probability)
        if pr_gt is not None and pr_lt is not None and pr_gt > pr_lt:
            raise ApiError(41)
        v_gt = _bound(p, "value_greater_than", 43, parse_decimal)
        v_lt = _bound(p, "value_less_than", 43, parse_decimal)
        if v_gt is not None and v_lt is not None and v_gt > v_lt:
            raise ApiError(43)
        tz = self._tz()
        now = self.settings.clock()
        after = before = None
        if "created_after" in p:
            after = parse_timestamp(p["created_after"], tz, now)
            if after is None:
                raise ApiError(7)
        if "created_before" in p:
            before = parse_timestamp(p["created_before"], tz, now)
            if before is None:
                raise ApiError(7)
        if after is not None and before is not None and after > before:
            raise ApiError(8)
        prospects = self._prospect(p, call.version)

        descending = sort_order == "descending"
        view = self.store.sorted_view(sort_by, descending)
        if sort_by == "id" and (id_gt is not None or id_lt is not None):
            view = _id_slice(view, id_gt, id_lt, descending)
            id_gt = id_lt = None
        checks: list[Callable[[StoredOpportunity], bool]] = []
        for field, compare, bound in (
            ("id", operator.gt, id_gt),
            ("id", operator.lt, id_lt),
            ("probability", operator.gt, pr_gt),
            ("probability", operator.lt, pr_lt),
            ("value", operator.gt, v_gt),
            ("value", operator.lt, v_lt),
            ("created_at", operator.gt, after),
            ("created_at", operator.lt, before),
        ):
            if bound is not None:
                checks.append(_check(field, compare, bound))
        if prospects is not None:
            wanted = frozenset(q.id for q in prospects)
            checks.append(lambda r: not wanted.isdisjoint(r.prospect_ids))
        matches = [r for r in view if all(c(r) for c in checks)] if checks else view
        page = matches[offset:] if limit is None else matches[offset : offset + limit]
        total = None if output == "bulk" else len(matches)
        return self._body(self.renderer.page(page, total, call.fmt, output), call.fmt)

    def _fields(self, p: Mapping[str, str], creating: bool) -> dict[str, Any]:
        """Editable fields present in ``p``, validated (38, 40, 42, 7; 36 when a required one is empty)."""
        out: dict[str, Any] = {}
        if "campaign_id" in p:
            text = p["campaign_id"]
            if text == "":
                if not creating:
                    raise ApiError(36)
            else:
                cid = parse_int(text)
                if cid is None or cid not in self.store.campaigns:
                    raise ApiError(38)
                out["campaign_id"] = cid
        if "probability" in p:
            probability = _probability(p["probability"]) if p["probability"] != "" else None
            if p["probability"] == "":
                raise ApiError(36)
            if probability is None:
                raise ApiError(40)
            out["probability"] = probability
        if "value" in p:
            if p["value"] == "":
                raise ApiError(36)
            value = parse_decimal(p["value"])
            if value is None or value < 0 or not value.is_finite():
                raise ApiError(42)
            out["value"] = value
        if "name" in p:
            if p["name"] == "":
                raise ApiError(36)
            out["name"] = p["name"]
        for key in ("type", "stage", "status"):
            if key in p:
                out[key] = p[key] or None
        if "closed_at" in p:
            if p["closed_at"] == "":
                out["closed_at"] = None
            else:
                closed = parse_timestamp(p["closed_at"], self._tz(), self.settings.clock())
                if closed is None:
                    raise ApiError(7)
                out["closed_at"] = closed.astimezone(UTC).replace(microsecond=0)
        return out

    def _create(self, call: _Call) -> StoredOpportunity:
        p = call.params
        if any(p.get(k, "") == "" for k in ("name", "value", "probability")):
            raise ApiError(13)
        if not p.get("prospect_id") and not p.get("prospect_email"):
            raise ApiError(13)
        prospects = self._prospect(p, 4)
        assert prospects
        # Several prospects share the email: the one with the latest activity (v4 rule; v3 too).
        prospect = max(prospects, key=lambda q: (self.store.last_activity_at(q), -q.id))
        fields = self._fields(p, creating=True)
        return self.store.create(prospect_id=prospect.id, **fields)

    def _update(self, record: StoredOpportunity, p: Mapping[str, str]) -> StoredOpportunity:
        fields = self._fields(p, creating=False)
        return self.store.update(record.id, **fields)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _fmt(value: str | None) -> str:
    return "json" if (value or "").lower() == "json" else "xml"


def _probability(text: str) -> int | None:
    value = parse_int(text)
    return value if value is not None and 0 <= value <= 100 else None


def _bound(p: Mapping[str, str], key: str, code: int, parse: Callable[[str], Any]) -> Any:
    if key not in p:
        return None
    value = parse(p[key])
    if value is None:
        raise ApiError(code)
    return value


def _check(
    field: str, compare: Callable[[Any, Any], bool], bound: Any
) -> Callable[[StoredOpportunity], bool]:
    get = operator.attrgetter(field)
    return lambda r: compare(get(r), bound)


def _id_slice(
    view: list[StoredOpportunity], gt: int | None, lt: int | None, descending: bool
) -> list[StoredOpportunity]:
    """The part of an id-sorted view strictly between the bounds (bisect, no scan)."""
    ascending = view[::-1] if descending else view
    lo = 0 if gt is None else bisect.bisect_right(ascending, gt, key=_id)
    hi = len(ascending) if lt is None else bisect.bisect_left(ascending, lt, key=_id)
    part = ascending[lo : max(lo, hi)]
    return part[::-1] if descending else part


def _id(record: StoredOpportunity) -> int:
    return record.id
