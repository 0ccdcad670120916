"""Caller values -> wire text, checked: every scalar rule of the request builder.

Each function takes what a caller passed and returns the text Pardot reads, or raises
:class:`~aeopp.errors.RequestValidationError` naming the parameter, the value and what is allowed.
Pure: no I/O, no aiohttp, no anyio. The spec (``_spec``) binds these rules to fields and filters.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import math
import re
import unicodedata
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, InvalidOperation
from typing import Final
from urllib.parse import urlsplit

from ._constants import (
    API_VERSIONS,
    DATE_KEYWORDS,
    MAX_LIMIT,
    PROSPECT_EMAIL_MAX_LENGTH,
    STATUSES,
    WIRE_FORMATS,
)
from .errors import RequestValidationError

# Ids, offsets and bounds are 64-bit on the server; the cap also keeps ints of thousands of
# digits (which ``str()`` refuses) out of URLs.
MAX_INT: Final = 2**63 - 1
MAX_INT_TEXT: Final = "2**63 - 1"

# --- scalar validators --------------------------------------------------------------------------


def check_int(parameter: str, value: object, low: int, high: int, allowed: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        if isinstance(value, int) and value.bit_length() > 256:
            # Python refuses to print ints of thousands of digits; show the size instead.
            value = f"<{value.bit_length()}-bit integer>"
        raise RequestValidationError(parameter, value, allowed)
    return int(value)


def check_choice(parameter: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise RequestValidationError(parameter, value, "one of " + ", ".join(choices))
    return value


def _check_encodable(parameter: str, value: str, shown: object) -> None:
    # A lone surrogate can't be UTF-8 encoded, so it could never reach the server.
    if any(unicodedata.category(ch) == "Cs" for ch in value):
        raise RequestValidationError(parameter, shown, "a string without lone surrogate characters")


def validate_version(version: object) -> int:
    """The API version: 3 or 4 (an int, not a bool)."""
    if isinstance(version, bool) or not isinstance(version, int) or version not in API_VERSIONS:
        raise RequestValidationError("version", version, "3 or 4")
    return int(version)


def validate_wire_format(wire_format: object) -> str:
    """The response format: ``"json"`` or ``"xml"``."""
    return check_choice("wire_format", wire_format, WIRE_FORMATS)


def validate_id(name: str, value: object) -> int:
    """A positive integer id (not a bool)."""
    return check_int(name, value, 1, MAX_INT, f"a positive integer (at most {MAX_INT_TEXT})")


def validate_lower_id(name: str, value: object) -> int:
    """A lower id bound: 0 (from the start) or a positive integer."""
    return check_int(name, value, 0, MAX_INT, f"an integer from 0 to {MAX_INT_TEXT}")


def validate_page_size(value: object, *, parameter: str = "page_size") -> int:
    """Records per request: an integer from 1 to 200."""
    return check_int(parameter, value, 1, MAX_LIMIT, f"an integer from 1 to {MAX_LIMIT}")


def validate_offset(value: object) -> int:
    """A query offset: an integer >= 0."""
    return check_int("offset", value, 0, MAX_INT, f"an integer from 0 to {MAX_INT_TEXT}")


def validate_max_items(value: object) -> int | None:
    """The most records a walk yields: ``None`` (no limit) or an integer >= 0."""
    if value is None:
        return None
    return check_int("max_items", value, 0, MAX_INT, f"None or an integer from 0 to {MAX_INT_TEXT}")


def validate_timezone(timezone: object) -> _dt.tzinfo | None:
    if timezone is not None and not isinstance(timezone, _dt.tzinfo):
        raise RequestValidationError("timezone", timezone, "a datetime.tzinfo or None")
    return timezone


def validate_name(parameter: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RequestValidationError(parameter, value, "a non-empty string")
    _check_encodable(parameter, value, value)
    return value


def validate_text(parameter: str, value: object) -> str:
    if not isinstance(value, str):
        raise RequestValidationError(parameter, value, "a string")
    _check_encodable(parameter, value, value)
    return value


def validate_secret(parameter: str, value: object) -> str:
    shown = f"<redacted {type(value).__name__}>"
    if not isinstance(value, str) or not value:
        raise RequestValidationError(parameter, shown, "a non-empty string")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise RequestValidationError(parameter, shown, "a string without control or surrogate characters")
    return value


def validate_probability(value: object, *, low: int = 0, parameter: str = "probability") -> int:
    return check_int(parameter, value, low, 100, f"an integer from {low} to 100")


def validate_status(value: object) -> str:
    if isinstance(value, str) and value.lower() in STATUSES:
        return value.lower()
    raise RequestValidationError("status", value, "one of " + ", ".join(STATUSES) + " (any case)")


_DECIMAL_STRING: Final = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+", re.ASCII)
_VALUE_ALLOWED: Final = (
    "a finite number >= 0: int, Decimal, float or a decimal string such as '100' or '99.50'"
)
# Far beyond any float, so every finite float passes; only stops Decimals that would print as
# megabytes of digits.
_MAX_VALUE_EXPONENT: Final = 400


def format_value(value: object, parameter: str = "value") -> str:
    """``value`` as a canonical decimal string: no exponent, no trailing zeros."""
    number: Decimal
    if isinstance(value, bool):
        raise RequestValidationError(parameter, value, _VALUE_ALLOWED)
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise RequestValidationError(parameter, value, _VALUE_ALLOWED)
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str) and _DECIMAL_STRING.fullmatch(value.strip()):
        number = Decimal(value.strip())
    else:
        raise RequestValidationError(parameter, value, _VALUE_ALLOWED)
    if not number.is_finite() or number < 0:
        raise RequestValidationError(parameter, value, _VALUE_ALLOWED)
    if number.is_zero():
        return "0"
    digits = len(number.as_tuple().digits)
    exact = Context(prec=digits, Emax=MAX_EMAX, Emin=MIN_EMIN)
    try:
        number = number.normalize(exact)
    except InvalidOperation:  # pragma: no cover - normalize of a finite Decimal can't fail here
        raise RequestValidationError(parameter, value, _VALUE_ALLOWED) from None
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    if number.adjusted() > _MAX_VALUE_EXPONENT or exponent < -_MAX_VALUE_EXPONENT:
        raise RequestValidationError(parameter, value, f"a number between 1e-{_MAX_VALUE_EXPONENT} and 1e400")
    return format(number, "f")


def validate_value_bound(parameter: str, value: object) -> int:
    allowed = f"an integer from -{MAX_INT_TEXT} to {MAX_INT_TEXT}"
    return check_int(parameter, value, -MAX_INT, MAX_INT, allowed)


# --- email --------------------------------------------------------------------------------------

_EMAIL_ALLOWED: Final = (
    f"an email address of at most {PROSPECT_EMAIL_MAX_LENGTH} characters: one unquoted '@' between a "
    "non-empty local part and a domain of dot-separated, non-empty labels without whitespace"
)


def validate_email(value: object, *, parameter: str = "prospect_email") -> str:
    """A syntactically valid email address (local part may hold ``+``, ``&``, spaces, non-ASCII)."""
    if not isinstance(value, str) or len(value) > PROSPECT_EMAIL_MAX_LENGTH:
        raise RequestValidationError(parameter, value, _EMAIL_ALLOWED)
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise RequestValidationError(parameter, value, "an email address without control characters")
    ats: list[int] = []
    quoted = escaped = False
    for index, ch in enumerate(value):
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "@" and not quoted:
            ats.append(index)
    if quoted or len(ats) != 1:
        raise RequestValidationError(parameter, value, _EMAIL_ALLOWED)
    local, domain = value[: ats[0]], value[ats[0] + 1 :]
    labels = domain.split(".")
    if (
        not local
        or len(labels) < 2
        or any(not label for label in labels)
        or any(ch.isspace() or ch == '"' for ch in domain)
    ):
        raise RequestValidationError(parameter, value, _EMAIL_ALLOWED)
    return value


# --- timestamps ---------------------------------------------------------------------------------

_TIMESTAMP: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?)?",
    re.ASCII,
)
_TIMESTAMP_FORMS: Final = (
    "a datetime, a date, or a string 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM' or 'YYYY-MM-DD HH:MM:SS' "
    "(space or 'T', optional fraction, optional 'Z', '+HH:MM' or '+HHMM' offset)"
)


def _date_text(value: _dt.date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _datetime_text(value: _dt.datetime) -> str:
    text = f"{_date_text(value)} {value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    offset = value.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _parse_timestamp_string(parameter: str, value: str, allowed: str) -> _dt.date | _dt.datetime:
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise RequestValidationError(parameter, value, allowed)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        if hour is None:
            return _dt.date(int(year), int(month), int(day))
        tz: _dt.tzinfo | None = None
        if offset == "Z":
            tz = _dt.timezone.utc
        elif offset is not None:
            digits = offset[1:].replace(":", "")
            if int(digits[2:]) > 59:
                raise ValueError(offset)
            delta = _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            tz = _dt.timezone(-delta if offset[0] == "-" else delta)
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        return _dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tzinfo=tz
        )
    except ValueError:
        raise RequestValidationError(parameter, value, allowed) from None


def timestamp(
    parameter: str, value: object, timezone: _dt.tzinfo | None, keywords: bool
) -> tuple[str, _dt.datetime | None]:
    """The wire text of a timestamp and, when absolute, a datetime to compare it with others."""
    allowed = _TIMESTAMP_FORMS
    if keywords:
        allowed += ", or one of " + ", ".join(DATE_KEYWORDS)
    if isinstance(value, str):
        if keywords and value in DATE_KEYWORDS:
            return value, None
        value = _parse_timestamp_string(parameter, value, allowed)
    if isinstance(value, _dt.datetime):
        offset = value.utcoffset()
        if offset is not None:
            try:
                if timezone is not None:
                    value = value.astimezone(timezone).replace(tzinfo=None)
                elif offset % _dt.timedelta(minutes=1):
                    # Not whole minutes: only UTC can say it as +HH:MM.
                    value = value.astimezone(_dt.timezone.utc)
            except (OverflowError, ValueError):
                raise RequestValidationError(
                    parameter, value, "a datetime that fits after conversion"
                ) from None
        value = value.replace(microsecond=0)
        return _datetime_text(value), value
    if isinstance(value, _dt.date):
        return _date_text(value), _dt.datetime(value.year, value.month, value.day)
    raise RequestValidationError(parameter, value, allowed)


def format_timestamp(
    value: object,
    *,
    timezone: _dt.tzinfo | None = None,
    parameter: str = "timestamp",
    keywords: bool = True,
) -> str:
    """A timestamp as Pardot reads it: ``YYYY-MM-DD HH:MM:SS`` (or ``YYYY-MM-DD``).

    Naive datetimes go as they are; aware ones are converted to ``timezone`` (the account's) and
    sent naive, or sent with their ``+HH:MM`` offset when no time zone is given. Strings in the
    accepted forms are normalised the same way; the keywords ``today``, ``yesterday``,
    ``last_7_days``, ``this_month`` and ``last_month`` pass through unless ``keywords`` is false.
    Fractions of a second are dropped.
    """
    return timestamp(parameter, value, validate_timezone(timezone), keywords)[0]


# --- where to connect ----------------------------------------------------------------------------

_BASE_URL_ALLOWED = "an https URL such as https://pi.pardot.com (plain http only for loopback hosts)"


def check_base_url(base_url: object) -> str:
    """``base_url`` without its trailing slash: https, or plain http for a loopback host; no
    ``user:password@``, query string or fragment (refused without echoing a password)."""
    if not isinstance(base_url, str):
        raise RequestValidationError("base_url", type(base_url).__name__, _BASE_URL_ALLOWED)
    parts = urlsplit(base_url)
    try:
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        host = ""
    if parts.username is not None or parts.password is not None:
        shown = parts._replace(netloc=f"<redacted>@{parts.netloc.rpartition('@')[2]}").geturl()
        raise RequestValidationError(
            "base_url", shown, "no user:password@ in the URL: credentials go in auth=, never in the URL"
        )
    if parts.query or parts.fragment or "?" in base_url or "#" in base_url:
        raise RequestValidationError(
            "base_url",
            base_url,
            "scheme and host (and a path prefix) only, without a query string or fragment",
        )
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
    raise RequestValidationError("base_url", base_url, _BASE_URL_ALLOWED)


# --- the spec's rules: one signature for every field and every filter -------------------------
#
# A field rule takes (parameter, value, timezone) and returns the wire text; a filter rule returns
# the wire text and a value to compare with its range partner (None when not comparable).


def id_text(parameter: str, value: object, timezone: _dt.tzinfo | None) -> str:
    """A positive id as text."""
    return str(validate_id(parameter, value))


def name_text(parameter: str, value: object, timezone: _dt.tzinfo | None) -> str:
    """A non-empty string."""
    return validate_name(parameter, value)


def plain_text(parameter: str, value: object, timezone: _dt.tzinfo | None) -> str:
    """Any string (empty allowed)."""
    return validate_text(parameter, value)


def value_text(parameter: str, value: object, timezone: _dt.tzinfo | None) -> str:
    """A money amount as a canonical decimal string."""
    return format_value(value, parameter)


def probability_text(parameter: str, value: object, timezone: _dt.tzinfo | None) -> str:
    """A probability, 0-100."""
    return str(validate_probability(value, parameter=parameter))


def status_text(parameter: str, value: object, timezone: _dt.tzinfo | None) -> str:
    """won, lost or open, any case (sent lower-cased)."""
    return validate_status(value)


def moment_text(parameter: str, value: object, timezone: _dt.tzinfo | None) -> str:
    """An absolute timestamp (no date keywords)."""
    return timestamp(parameter, value, timezone, keywords=False)[0]


def when_filter(parameter: str, value: object, timezone: _dt.tzinfo | None) -> tuple[str, object]:
    """A timestamp or a date keyword; keywords compare with nothing."""
    return timestamp(parameter, value, timezone, keywords=True)


def id_filter(parameter: str, value: object, timezone: _dt.tzinfo | None) -> tuple[str, object]:
    """An id (or an upper id bound)."""
    number = validate_id(parameter, value)
    return str(number), number


def lower_id_filter(parameter: str, value: object, timezone: _dt.tzinfo | None) -> tuple[str, object]:
    """A lower id bound: 0 (the natural "from the start") or an id."""
    number = validate_lower_id(parameter, value)
    return str(number), number


def probability_filter(parameter: str, value: object, timezone: _dt.tzinfo | None) -> tuple[str, object]:
    """A probability bound, 1-100 as the filter is documented."""
    number = validate_probability(value, low=1, parameter=parameter)
    return str(number), number


def value_filter(parameter: str, value: object, timezone: _dt.tzinfo | None) -> tuple[str, object]:
    """A value bound: any integer."""
    number = validate_value_bound(parameter, value)
    return str(number), number


def email_filter(parameter: str, value: object, timezone: _dt.tzinfo | None) -> tuple[str, object]:
    """A prospect's email address."""
    return validate_email(value, parameter=parameter), None
