"""``RedisCoordinator``: Pardot's per-business-unit limits shared by many processes through Redis.

It implements ``aeopp._coordinator.Coordinator`` with the official redis-py client
(``redis.asyncio``), installed by ``pip install 'aeopp[redis]'``; the Lua scripts and key names
are in ``_redis_scripts``. Without the extra this module still imports: constructing a coordinator
then raises ``CoordinatorUnavailable`` naming the extra.

Per request a client makes two Redis round trips: taking a slot (which checks the daily flag too)
and giving it back; plus one for ``admit`` with a daily budget, and one reading the shared token
when the client's ``BearerAuth`` has a provider. A request that outlives a third of the lease adds
one renewal per third (one script renews all of a process's leases of a unit). A waiting process
blocks on one list with BLPOP (on a connection of its own) until a release wakes it, or until
``poll`` seconds pass so that expired leases are noticed; its other waiting tasks wait on that call.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import date, datetime, timedelta, timezone, tzinfo
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import anyio
import attrs

from . import _redis_scripts as scripts
from ._constants import MAX_CONCURRENT_REQUESTS
from ._coordinator import TokenFetch
from ._redis_scripts import UnitKeys
from .errors import CoordinatorUnavailable, DailyLimitExceeded, RequestValidationError

if TYPE_CHECKING:
    import redis.asyncio as redis_asyncio
    from redis.commands.core import AsyncScript

__all__ = ["CoordinatorStats", "RedisCoordinator"]

log = logging.getLogger("aeopp")

T = TypeVar("T")

#: How long a coordinator leaves Redis alone after a failure before trying it again (seconds).
RETRY_AFTER = 1.0
#: How long a shared token lives in Redis when its expiry is unknown (Salesforce sessions: <= 24 h).
TOKEN_TTL = 12 * 3600.0
#: How long a process may hold the token lock while its provider runs.
TOKEN_LOCK_SECONDS = 30.0


def _import_redis() -> Any:
    try:
        import redis.asyncio as redis_asyncio
    except ImportError:
        raise CoordinatorUnavailable(
            "RedisCoordinator needs the redis client, which is not installed: pip install 'aeopp[redis]'"
        ) from None
    return redis_asyncio


def redact_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = quote(unquote(parts.username or ""), safe="")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _secrets_of(url: str) -> list[str]:
    parts = urlsplit(url)
    found = {parts.password or "", unquote(parts.password or "")}
    for pair in parts.query.split("&"):
        key, _, value = pair.partition("=")
        if key.lower() in ("password", "ssl_password") and value:
            found.update({value, unquote(value)})
    return sorted((s for s in found if s), key=len, reverse=True)


def _check_timezone(value: object) -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    if isinstance(value, str):
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise RequestValidationError(
        "timezone", value, "a datetime.tzinfo or an IANA name such as 'America/Chicago'"
    )


def day_and_reset(now: datetime, tz: tzinfo) -> tuple[date, datetime]:
    """The day ``now`` falls in, in ``tz``, and the instant the next one starts (midnight in ``tz``)."""
    local = now.astimezone(tz)
    following = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return local.date(), following


@attrs.define
class CoordinatorStats:
    """What one coordinator (one process) did: slots taken, waits, fallbacks, renewals."""

    #: Slots taken through Redis, and how many of them had to wait in line first.
    acquired: int = 0
    waited: int = 0
    #: The longest and the total time spent waiting for a slot, in seconds.
    longest_wait: float = 0.0
    total_wait: float = 0.0
    #: Requests sent on this process's own limits because Redis was unavailable.
    local_fallbacks: int = 0
    #: Times Redis became unavailable (each one logged once as a warning).
    outages: int = 0
    #: Leases found lost when renewing them (expired or gone with a Redis restart).
    lost_leases: int = 0
    #: Requests refused before sending: the daily limit known reached, or the daily budget spent.
    refused: int = 0
    #: Tokens this process fetched from its provider for everyone.
    token_fetches: int = 0


@attrs.define
class _Unit:
    keys: UnitKeys
    #: Whether a task of this process is blocked on the unit's wake list; the others wait on ``woken``.
    listening: bool = False
    woken: anyio.Event = attrs.field(factory=anyio.Event)
    held: set[str] = attrs.field(factory=set)
    #: time.monotonic() until which the daily limit is known reached (kept for outages).
    daily_until: float = 0.0
    tokens: _RedisTokenStore | None = None


class RedisCoordinator:
    """Pardot's limits of each business unit shared by every client on one Redis.

    ``async with RedisCoordinator("redis://127.0.0.1:6379/0") as coordinator:`` (or call
    :meth:`aclose`), then pass it to any number of clients as ``coordinator=``; they never close it.

    - ``slots``: requests in flight at once for a business unit across every process (Pardot: 5);
      each client's ``max_concurrency`` still applies on top.
    - ``lease_seconds``: a held slot is a lease renewed while its request runs; a process that dies
      holding slots gives them back within this time.
    - ``key_prefix``: keys are ``<prefix>:{<business unit>}:...``; processes share limits when they
      share the Redis, the prefix and the business unit.
    - ``daily_budget``: at most this many requests per business unit and day through this prefix;
      past it ``DailyLimitExceeded`` is raised before sending (keeps quota for other integrations).
    - ``timezone``: where days end for the budget and for a recorded daily limit (Pardot resets at
      midnight in the account's time zone: set it to your account's). A tzinfo or an IANA name.
    - ``share_tokens``: keep a ``BearerAuth`` provider's token in Redis and renew it once for all.
      Tokens in Redis are secrets: the Redis must be private (TLS ``rediss://`` and an ACL user).
    - ``on_unavailable``: ``"local"`` falls back to each process's own limits while Redis can't be
      reached (warning once per outage) and tries again every second; ``"raise"`` raises
      ``CoordinatorUnavailable``.
    - ``timeout``: seconds for connecting to Redis and for each command.
    """

    def __init__(
        self,
        url: str,
        *,
        slots: int = MAX_CONCURRENT_REQUESTS,
        lease_seconds: float = 30.0,
        key_prefix: str = "aeopp",
        daily_budget: int | None = None,
        timezone: tzinfo | str = "UTC",
        share_tokens: bool = True,
        on_unavailable: Literal["local", "raise"] = "local",
        timeout: float = 2.0,
    ) -> None:
        if not isinstance(url, str) or urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            shown = redact_url(url) if isinstance(url, str) else type(url).__name__
            raise RequestValidationError("url", shown, "a redis://, rediss:// or unix:// URL")
        if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
            raise RequestValidationError("slots", slots, "an int >= 1 (Pardot allows 5)")
        if not _positive(lease_seconds) or lease_seconds < 0.5:
            raise RequestValidationError("lease_seconds", lease_seconds, "a number of seconds >= 0.5")
        if not isinstance(key_prefix, str) or not key_prefix or "{" in key_prefix or "}" in key_prefix:
            raise RequestValidationError("key_prefix", key_prefix, "a non-empty string without { or }")
        if daily_budget is not None and (
            isinstance(daily_budget, bool) or not isinstance(daily_budget, int) or daily_budget < 0
        ):
            raise RequestValidationError("daily_budget", daily_budget, "None or an int >= 0")
        if on_unavailable not in ("local", "raise"):
            raise RequestValidationError("on_unavailable", on_unavailable, "'local' or 'raise'")
        if not _positive(timeout):
            raise RequestValidationError("timeout", timeout, "a positive number of seconds")
        self.slots = slots
        self.lease_seconds = float(lease_seconds)
        self.key_prefix = key_prefix
        self.daily_budget = daily_budget
        self.timezone = _check_timezone(timezone)
        self.share_tokens = bool(share_tokens)
        self.on_unavailable = on_unavailable
        self.timeout = float(timeout)
        self.stats = CoordinatorStats()
        self._url = redact_url(url)
        self._secrets = _secrets_of(url)
        #: Blocking waits last at most this long, so that expired leases are noticed.
        self.poll = min(1.0, max(0.05, self.lease_seconds / 10))
        #: A waiter's place in line lapses unless it tries again within this time.
        self._place_ms = int((3 * self.poll + 0.5) * 1000)
        self._lease_ms = int(self.lease_seconds * 1000)
        self._id = secrets.token_hex(8)  # this process's (this coordinator's) name in Redis
        self._holders = itertools.count(1)
        self._units: dict[str, _Unit] = {}
        self._down_until = 0.0
        self._warned = False
        self._renewer: asyncio.Task[None] | None = None
        self._closed = False
        client = _import_redis()
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        options: dict[str, Any] = dict(
            socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 1),  # one quick retry (a stale pooled connection), then fall back
            decode_responses=True,
            health_check_interval=0,
        )
        self._redis: redis_asyncio.Redis = client.Redis.from_url(url, socket_timeout=self.timeout, **options)
        # Blocking waits get connections of their own, so they never hold up the others.
        self._blocking: redis_asyncio.Redis = client.Redis.from_url(
            url, socket_timeout=self.poll + self.timeout, **options
        )
        self._scripts: dict[str, AsyncScript] = {
            name: self._redis.register_script(getattr(scripts, name))
            for name in ("ACQUIRE", "RELEASE", "RENEW", "ADMIT", "DELETE_IF_EQUAL", "SET_IF_OWNER")
        }

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisCoordinator:
        """The same as the constructor: ``RedisCoordinator.from_url(os.environ["REDIS_URL"], slots=5)``."""
        return cls(url, **options)

    def __repr__(self) -> str:
        return (
            f"RedisCoordinator({self._url!r}, slots={self.slots}, lease_seconds={self.lease_seconds:g}, "
            f"key_prefix={self.key_prefix!r}, on_unavailable={self.on_unavailable!r})"
        )

    # -- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> RedisCoordinator:
        """Check that Redis answers (a warning, or ``CoordinatorUnavailable`` with ``"raise"``)."""
        try:
            await self._run(self._redis.ping())
        except CoordinatorUnavailable:
            if self.on_unavailable == "raise":
                await self.aclose()
                raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop renewing leases and close the connections (idempotent)."""
        if self._closed:
            return
        self._closed = True
        renewer, self._renewer = self._renewer, None
        if renewer is not None:
            renewer.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.gather(renewer, return_exceptions=True)
        with anyio.CancelScope(shield=True):
            await self._redis.aclose()
            await self._blocking.aclose()

    # -- Redis calls ----------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _skipping(self) -> bool:
        """Whether Redis is left alone for now, after a failure (``"local"`` only)."""
        return self.on_unavailable == "local" and time.monotonic() < self._down_until

    async def _run(self, call: Awaitable[T], *, limit: float | None = None) -> T:
        """Await one Redis call under a deadline; any failure becomes ``CoordinatorUnavailable``."""
        from redis.exceptions import RedisError

        if self._skipping():
            if asyncio.iscoroutine(call):
                call.close()
            raise CoordinatorUnavailable(f"Redis at {self._url} is unavailable (retrying soon)")
        try:
            with anyio.fail_after(limit if limit is not None else 2 * self.timeout + 0.5):
                result = await call
        except (RedisError, OSError, TimeoutError) as exc:
            raise self._outage(exc) from None
        if self._warned:
            self._warned = False
            log.warning("Redis at %s answers again; limits are shared again", self._url)
        return result

    def _outage(self, exc: BaseException) -> CoordinatorUnavailable:
        reason = self._scrub(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        error = CoordinatorUnavailable(f"Redis at {self._url} is unavailable: {reason}")
        if self.on_unavailable == "local":
            self._down_until = time.monotonic() + RETRY_AFTER
            if not self._warned:
                self._warned = True
                self.stats.outages += 1
                log.warning(
                    "Redis at %s is unavailable (%s); this process limits only itself until back",
                    self._url,
                    reason,
                )
        return error

    async def _script(self, name: str, keys: list[str], args: list[str | int | float]) -> Any:
        return await self._run(self._scripts[name](keys=keys, args=args))

    def _unit(self, unit: str) -> _Unit:
        state = self._units.get(unit)
        if state is None:
            state = self._units[unit] = _Unit(UnitKeys(self.key_prefix, unit))
        return state

    # -- slots ----------------------------------------------------------------------------------

    @asynccontextmanager
    async def slot(self, unit: str) -> AsyncIterator[object]:
        """Hold one of ``unit``'s slots while the body runs (waiting in line for it first)."""
        state = self._unit(unit)
        holder = await self._take(state)
        if holder is None:  # Redis unavailable: this process's own limits only
            self.stats.local_fallbacks += 1
            yield None
            return
        state.held.add(holder)
        self._start_renewing()
        try:
            yield holder
        finally:
            state.held.discard(holder)
            await self._give_back(state, holder)

    async def _take(self, state: _Unit) -> str | None:
        """A slot's holder id, or None to go on without one (Redis unavailable, ``"local"``)."""
        if self._skipping():
            return None
        holder = f"{self._id}:{next(self._holders)}"
        args: list[str | int | float] = [self.slots, holder, self._lease_ms, self._place_ms]
        started = time.monotonic()
        waited = False
        try:
            while True:
                answer = int(await self._script("ACQUIRE", state.keys.slot_keys, args))
                if answer == 1:
                    break
                if answer == -1:
                    raise self._daily_error(state.keys.unit)
                waited = True
                await self._wait_turn(state)
        except CoordinatorUnavailable:
            if self.on_unavailable == "raise":
                raise
            return None
        except BaseException:  # cancelled (or the daily limit): leave the line, give back a slot got
            await self._give_back(state, holder)
            raise
        wait = time.monotonic() - started
        self.stats.acquired += 1
        if waited:
            self.stats.waited += 1
            self.stats.total_wait += wait
            self.stats.longest_wait = max(self.stats.longest_wait, wait)
        return holder

    async def _wait_turn(self, state: _Unit) -> None:
        """Until a release wakes this process, or ``poll`` seconds pass (one BLPOP per process)."""
        if state.listening:
            await state.woken.wait()
            return
        state.listening = True
        state.woken = anyio.Event()
        try:
            await self._run(
                self._blocking.blpop([state.keys.wake(self._id)], timeout=self.poll),
                limit=self.poll + 2 * self.timeout + 0.5,
            )
        finally:
            state.listening = False
            state.woken.set()

    async def _give_back(self, state: _Unit, holder: str) -> None:
        """Release a slot or a place in line; never raises (a lease left behind expires by itself)."""
        with (
            anyio.CancelScope(shield=True),
            anyio.move_on_after(2 * self.timeout + 0.5),
            suppress(CoordinatorUnavailable),
        ):
            await self._script(
                "RELEASE",
                state.keys.slot_keys,
                [holder, self.slots, state.keys.wake_prefix, self._place_ms + 1000],
            )

    def _start_renewing(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew_leases())

    async def _renew_leases(self) -> None:
        """Every third of the lease, renew every slot this process holds (one script per unit)."""
        while any(state.held for state in self._units.values()):
            await anyio.sleep(self.lease_seconds / 3)
            for state in list(self._units.values()):
                holders = sorted(state.held)
                if not holders:
                    continue
                try:
                    lost = await self._script("RENEW", state.keys.slot_keys, [self._lease_ms, *holders])
                except CoordinatorUnavailable:
                    continue
                for holder in lost or ():
                    if holder in state.held:  # not released meanwhile
                        state.held.discard(holder)
                        self.stats.lost_leases += 1
                        log.warning("a slot lease of %s was lost (given twice?)", state.keys.unit)

    # -- daily limit ----------------------------------------------------------------------------

    def _daily_error(self, unit: str, *, budget: bool = False) -> DailyLimitExceeded:
        self.stats.refused += 1
        zone = getattr(self.timezone, "key", None) or str(self.timezone)
        if budget:
            message = (
                f"the coordinator's daily budget of {self.daily_budget} requests for business unit {unit} "
                f"is spent; refused before sending (resets at midnight {zone})"
            )
        else:
            message = (
                f"Pardot's daily API limit for business unit {unit} was reached, as recorded by another "
                f"process (or client) sharing this Redis; refused before sending (until midnight {zone})"
            )
        return DailyLimitExceeded(122, message, None)

    async def admit(self, unit: str) -> None:
        """Raise ``DailyLimitExceeded`` if the unit's daily limit is known reached or the budget spent;
        else count the request against the budget.

        Without a budget this makes no round trip: taking a slot checks the daily limit too (and
        during an outage, what this process recorded itself)."""
        state = self._unit(unit)
        if self.daily_budget is None:
            if self._skipping() and time.monotonic() < state.daily_until:
                raise self._daily_error(unit)
            return
        today, reset = day_and_reset(datetime.now(timezone.utc), self.timezone)
        counter_ms = int((reset - datetime.now(timezone.utc)).total_seconds() * 1000) + 3_600_000
        try:
            if self._skipping():
                raise CoordinatorUnavailable("skipping")
            code, left_ms = await self._script(
                "ADMIT",
                [state.keys.daily_limit, state.keys.budget(today.isoformat())],
                [self.daily_budget, counter_ms],
            )
        except CoordinatorUnavailable:
            if self.on_unavailable == "raise":
                raise
            if time.monotonic() < state.daily_until:
                raise self._daily_error(unit) from None
            return
        if int(code) == 1:
            if int(left_ms) > 0:
                state.daily_until = time.monotonic() + int(left_ms) / 1000
            raise self._daily_error(unit)
        if int(code) == 2:
            raise self._daily_error(unit, budget=True)

    async def daily_limit_reached(self, unit: str) -> None:
        """Pardot answered 122: record it until the next midnight (``timezone``) for every process."""
        state = self._unit(unit)
        now = datetime.now(timezone.utc)
        _, reset = day_and_reset(now, self.timezone)
        state.daily_until = time.monotonic() + (reset - now).total_seconds()
        try:
            await self._run(
                self._redis.set(state.keys.daily_limit, "122", pxat=int(reset.timestamp() * 1000))
            )
        except CoordinatorUnavailable as exc:
            log.warning("could not record the daily limit in Redis: %s", exc)

    # -- tokens ---------------------------------------------------------------------------------

    def token_store(self, unit: str) -> _RedisTokenStore | None:
        """The unit's shared token store, or None when ``share_tokens`` is off."""
        if not self.share_tokens:
            return None
        state = self._unit(unit)
        if state.tokens is None:
            state.tokens = _RedisTokenStore(self, state.keys)
        return state.tokens


class _RedisTokenStore:
    """A business unit's current access token in Redis, renewed single-flight across processes."""

    def __init__(self, coordinator: RedisCoordinator, keys: UnitKeys) -> None:
        self._c = coordinator
        self._keys = keys

    def __repr__(self) -> str:
        return f"<token store of {self._keys.unit} in {self._c!r}>"

    async def current(self) -> str | None:
        """The shared token, or None (none yet, expired, or Redis unavailable with ``"local"``)."""
        try:
            return await self.current_or_raise()
        except CoordinatorUnavailable:
            if self._c.on_unavailable == "raise":
                raise
            return None

    async def renew(self, rejected: str | None, fetch: TokenFetch) -> str:
        """A token other than ``rejected``: the shared one if another process renewed it already, else
        one from ``fetch()`` under a Redis lock (so one provider call serves every process)."""
        fetched: list[str] = []
        try:
            return await self._renew(rejected, fetch, fetched.append)
        except CoordinatorUnavailable:
            if self._c.on_unavailable == "raise":
                raise
            if fetched:  # Redis failed after the provider answered: keep that token
                return fetched[0]
            token, _ = await fetch()
            return token

    async def _renew(
        self,
        rejected: str | None,
        fetch: TokenFetch,
        got: Callable[[str], None],
    ) -> str:
        c, keys = self._c, self._keys
        owner = secrets.token_hex(16)
        lock_ms = int(TOKEN_LOCK_SECONDS * 1000)
        pause = 0.02
        if rejected is not None:
            # Retire it at once (unless replaced already): the others then wait for the new token
            # instead of sending the dead one meanwhile.
            await c._script("DELETE_IF_EQUAL", [keys.token], [rejected])
        while True:
            shared = await self.current_or_raise()
            if shared is not None and shared != rejected:
                return shared
            if await c._run(c._redis.set(keys.token_lock, owner, nx=True, px=lock_ms)):
                try:
                    shared = await self.current_or_raise()
                    if shared is not None and shared != rejected:
                        return shared
                    token, expires_in = await fetch()
                    got(token)
                    c.stats.token_fetches += 1
                    life = expires_in if expires_in is not None and expires_in > 0 else TOKEN_TTL
                    await c._script(
                        "SET_IF_OWNER",
                        [keys.token_lock, keys.token],
                        [owner, token, max(1, int(life * 900))],  # 90% of its life
                    )
                    return token
                finally:
                    with (
                        anyio.CancelScope(shield=True),
                        anyio.move_on_after(2 * c.timeout + 0.5),
                        suppress(CoordinatorUnavailable),
                    ):
                        await c._script("DELETE_IF_EQUAL", [keys.token_lock], [owner])
            # Another process is renewing: its token will show up (or its lock will lapse).
            await anyio.sleep(pause)
            pause = min(0.2, pause * 2)

    async def current_or_raise(self) -> str | None:
        value = await self._c._run(self._c._redis.get(self._keys.token))
        return value if isinstance(value, str) and value else None


def _positive(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value > 0


# Public classes defined in a private module say they live in ``aeopp``.
RedisCoordinator.__module__ = "aeopp"
