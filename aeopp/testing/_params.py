"""Parsing of request values: integers, decimals, timestamps and date keywords, the server's way."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

__all__ = ["parse_decimal", "parse_int", "parse_timestamp"]

_INT = re.compile(r"[+-]?[0-9]+\Z")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
_TIMESTAMP = re.compile(
    r"\s*([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:(?:[ T]|\s+)([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6})[0-9]*)?)?)?"
    r"\s*(Z|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)?\s*\Z",
    re.IGNORECASE,
)


def parse_int(text: str) -> int | None:
    """An integer, or None when ``text`` is not one (no decimals, no spaces)."""
    return int(text) if _INT.match(text) else None


def parse_decimal(text: str) -> Decimal | None:
    """A decimal number, or None when ``text`` is not one."""
    if not _DECIMAL.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid numbers
        return None


def _midnight(day: datetime, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def parse_timestamp(text: str, tz: ZoneInfo, now: datetime) -> datetime | None:
    """An aware datetime for a filter value, or None if it can't be read.

    Keywords, in the account time zone ``tz``: ``today`` and ``yesterday`` (midnight),
    ``last_7_days`` (now minus 7 days), ``this_month`` and ``last_month`` (midnight on the 1st).
    Custom times: ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS[.ffffff]]`` with a space or ``T``,
    optionally followed by ``Z``, ``UTC``, ``GMT`` or an offset ``+HH[:MM]``; without one the time
    is in ``tz``.
    """
    local_now = now.astimezone(tz)
    keyword = text.strip().lower()
    if keyword == "today":
        return _midnight(local_now, tz)
    if keyword == "yesterday":
        return _midnight(local_now - timedelta(days=1), tz)
    if keyword == "last_7_days":
        return now - timedelta(days=7)
    if keyword == "this_month":
        return datetime(local_now.year, local_now.month, 1, tzinfo=tz)
    if keyword == "last_month":
        first = datetime(local_now.year, local_now.month, 1)
        previous = first - timedelta(days=1)
        return datetime(previous.year, previous.month, 1, tzinfo=tz)
    m = _TIMESTAMP.match(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, micro, offset = m.groups()
    zone: timezone | ZoneInfo = tz
    if offset:
        if offset.upper() in ("Z", "UTC", "GMT"):
            zone = timezone.utc
        else:
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
            if minutes >= 24 * 60:
                return None
            zone = timezone(sign * timedelta(minutes=minutes))
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((micro or "0").ljust(6, "0")),
            tzinfo=zone,
        )
    except ValueError:
        return None
