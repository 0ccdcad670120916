"""Retry policy, sans I/O: which failures to retry, and how long to wait before the next attempt.

Pure functions and values: no aiohttp, no anyio, no sleeping. The client asks :func:`classify` what
to do with a failure and :meth:`RetryPolicy.delay` how long to wait.
"""

from __future__ import annotations

import enum
import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import attrs

from .errors import (
    AeoppError,
    PardotError,
    ProtocolError,
    TransportError,
    VersionMismatch,
)

__all__ = ["Action", "RetryPolicy", "classify", "parse_retry_after"]

#: Auth codes that mean "get new credentials and try once more".
REFRESH_CODES = frozenset({184})
RELOGIN_CODES = frozenset({1})


class Action(enum.Enum):
    """What to do after a failed attempt."""

    RAISE = "raise"
    RETRY = "retry"  # back off, then send the same request again
    REFRESH = "refresh"  # get new credentials (once), then replay at once
    SWITCH_VERSION = "switch_version"  # replay once with the other API version


@attrs.frozen
class RetryPolicy:
    """Bounded exponential backoff with full jitter.

    ``max_attempts`` counts every attempt of one call (the first included); ``max_delay`` caps one
    wait. ``budget`` caps the whole call, in seconds: its attempts and its waits (not the time it
    queues for a slot). No new attempt starts once the call's time plus the next wait would exceed
    it, so a server that accepts requests and never answers costs one call at most about
    ``budget`` plus one attempt's ``timeout``.
    """

    max_attempts: int = 6
    base_delay: float = 0.1
    max_delay: float = 5.0
    budget: float = 60.0

    def __attrs_post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise TypeError("max_attempts must be an int")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        for name in ("base_delay", "max_delay", "budget"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1 for the first)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        wait = rng.uniform(0.0, ceiling)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_delay))
        return wait


def classify(error: AeoppError, *, idempotent: bool, legacy_auth: bool) -> Action:
    """Decide what to do with ``error`` raised by one attempt.

    ``idempotent`` says whether replaying the request can't do harm (reads, queries, delete,
    undelete); ``legacy_auth`` whether the client logs in with api keys (code 1 then means the key
    expired).
    """
    if isinstance(error, PardotError):
        if error.is_retryable:
            return Action.RETRY
        if isinstance(error, VersionMismatch):
            return Action.SWITCH_VERSION
        if error.code in REFRESH_CODES or (legacy_auth and error.code in RELOGIN_CODES):
            return Action.REFRESH
        # Anything else, a 401 with a configuration code (181, 182, 201, 49, 199, 126) included,
        # is not fixed by waiting or by a new token.
        return Action.RAISE
    if isinstance(error, ProtocolError):
        if error.http_status == 401:
            return Action.REFRESH
        if error.http_status is not None and error.http_status >= 500:
            return Action.RETRY
        return Action.RAISE
    if isinstance(error, TransportError):
        if idempotent or not error.request_sent:
            return Action.RETRY
        return Action.RAISE
    return Action.RAISE


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date); None if absent or garbage."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


# Public as aeopp.RetryPolicy: reprs, tracebacks and pickles say so.
RetryPolicy.__module__ = "aeopp"
