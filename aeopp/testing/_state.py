"""The simulator's knobs and counters: settings, stats, credentials and scripted faults."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Literal

import attrs

__all__ = ["Fault", "SimulatorCredentials", "SimulatorSettings", "SimulatorStats"]

AuthMode = Literal["bearer", "apikey", "none"]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@attrs.define
class SimulatorSettings:
    """Behaviour of a running simulator; every field may be changed between requests.

    Rates are fractions of requests (0 to 1) drawn from a RNG seeded with ``fault_seed``.
    """

    #: "bearer" (OAuth token + business-unit header), "apikey" (legacy login), or "none".
    auth: AuthMode = "bearer"
    #: Account time zone: timestamps are printed and date filters read in it.
    timezone: str = "America/New_York"
    #: Fixed delay of every API request, in seconds, plus a uniform random extra up to ``jitter``.
    latency: float = 0.0
    jitter: float = 0.0
    #: Returns the current time (aware); tests may replace it to pin ``today`` and token expiry.
    clock: Callable[[], datetime] = _utc_now
    #: HTTP status of validation and other failures, and of auth failures (codes 1 and 184).
    error_http_status: int = 200
    auth_error_http_status: int = 401
    #: Send ``&``, ``<``, ``>`` and ``"`` in strings as HTML entities, as Pardot does.
    html_escape_strings: bool = True
    #: Requests one business unit may have in flight; more are answered 66. None: no limit.
    concurrency_limit: int | None = 5
    #: API requests allowed per day (account time zone); more are answered 122. None: no limit.
    daily_quota: int | None = None
    #: None, or 3 / 4: the other version is answered 89 / 88.
    required_version: int | None = None
    #: None, or 37 / 59: writes are answered with that code.
    connector: int | None = None
    #: A bearer token stops working after this many requests / seconds (None: never).
    token_expires_after_requests: int | None = None
    token_expires_after_seconds: float | None = None
    #: Lifetime of a legacy api_key, in seconds.
    api_key_lifetime: float = 3600.0
    #: Answer 49 when credentials come in the query string.
    reject_query_credentials: bool = True
    #: Answer 181 when the Pardot-Business-Unit-Id header is missing (bearer mode).
    require_business_unit_header: bool = True
    #: Random faults: answered 66, answered 183, answered 502/503 with an HTML page, connection
    #: dropped before the request is processed, dropped after it was processed (write applied).
    busy_rate: float = 0.0
    internal_error_rate: float = 0.0
    http_error_rate: float = 0.0
    drop_before_rate: float = 0.0
    drop_after_rate: float = 0.0
    fault_seed: int = 0


@attrs.define
class SimulatorStats:
    """What the simulator saw since start or the last :meth:`reset`."""

    requests: int = 0
    requests_by_operation: Counter[str] = attrs.field(factory=Counter)
    errors_by_code: Counter[int] = attrs.field(factory=Counter)
    http_errors_by_status: Counter[int] = attrs.field(factory=Counter)
    dropped: int = 0
    in_flight: int = 0
    max_in_flight: int = 0

    def reset(self) -> None:
        """Zero every counter (``in_flight`` keeps counting the requests still running)."""
        self.requests = 0
        self.requests_by_operation.clear()
        self.errors_by_code.clear()
        self.http_errors_by_status.clear()
        self.dropped = 0
        self.max_in_flight = self.in_flight


@attrs.frozen(kw_only=True)
class SimulatorCredentials:
    """Everything a client needs to talk to the simulator: plain values; the repr shows no secret.

    Build the client's auth from them, e.g.
    ``aeopp.BearerAuth(creds.access_token, creds.business_unit_id)``; the legacy (``email``,
    ``password``, ``user_key``) and OAuth (``client_id``, ``client_secret``, ``refresh_token``,
    :attr:`token_url`) values are here too, for the other flows and for other clients.
    """

    base_url: str
    business_unit_id: str
    email: str
    access_token: str = attrs.field(repr=False)
    password: str = attrs.field(repr=False)
    user_key: str = attrs.field(repr=False)
    client_id: str = attrs.field(repr=False)
    client_secret: str = attrs.field(repr=False)
    refresh_token: str = attrs.field(repr=False)

    @property
    def token_url(self) -> str:
        """The OAuth token endpoint (``/services/oauth2/token``)."""
        return self.base_url + "/services/oauth2/token"

    def as_dict(self) -> dict[str, str]:
        """Every value, secrets included (for handing them to another process)."""
        return attrs.asdict(self)


@attrs.define
class Fault:
    """A scripted fault for the next ``times`` matching requests (see ``PardotSimulator.inject``)."""

    code: int | None = None
    http_status: int | None = None
    drop: Literal["before", "after"] | None = None
    latency: float | None = None
    times: int = 1
    operation: str | None = None

    def matches(self, operation: str) -> bool:
        """Whether this fault applies to a request for ``operation``."""
        return self.times > 0 and (self.operation is None or self.operation == operation)
