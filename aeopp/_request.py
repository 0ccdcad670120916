"""Sans-I/O request building: caller arguments in, validated :class:`PreparedRequest` out.

Everything is checked here, before any request exists, and every problem raises
:class:`~aeopp.errors.RequestValidationError` naming the parameter, the value given and what is
allowed. Nothing in this module does I/O or imports aiohttp or anyio.

Wire layout (ref §2): ``/api/opportunity/version/{v}/do/{op}[/{id_field}/{value}]``; reads and queries
are GET with everything in the query string; writes and login are POST with the data in a form body
and ``format`` in the query string. Path segments, query strings and bodies are percent-encoded with
:func:`urllib.parse.quote` (``+`` is always ``%2B``, space ``%20``).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, InvalidOperation
from typing import Final
from urllib.parse import quote, urlencode

import attrs

from ._constants import (
    API_VERSIONS,
    DATE_KEYWORDS,
    DEFAULT_SORT_ORDER,
    EDITABLE_FIELDS,
    MAX_LIMIT,
    OUTPUTS,
    PROSPECT_EMAIL_MAX_LENGTH,
    QUERY_FILTERS,
    REQUIRED_FIELDS,
    SORT_FIELDS,
    SORT_ORDERS,
    STATUSES,
    WIRE_FORMATS,
)
from .errors import RequestValidationError

__all__ = [
    "FORM_CONTENT_TYPE",
    "PreparedRequest",
    "QuerySpec",
    "build_create",
    "build_delete",
    "build_login",
    "build_query",
    "build_read",
    "build_undelete",
    "build_update",
    "format_timestamp",
    "query_spec",
    "validate_email",
    "validate_id",
    "validate_max_items",
    "validate_offset",
    "validate_page_size",
    "validate_version",
    "validate_wire_format",
]

FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"

#: Parameter names whose values never appear in a repr or an error message.
_SECRET_KEYS: Final = frozenset({"password", "user_key", "api_key", "access_token"})
_REDACTED: Final = "<redacted>"
_IDEMPOTENT_OPERATIONS: Final = frozenset({"read", "query", "delete", "undelete"})

# Ids, offsets and bounds are 64-bit on the server; the cap also keeps ints of thousands of
# digits (which ``str()`` refuses) out of URLs.
_MAX_INT: Final = 2**63 - 1
_MAX_INT_TEXT: Final = "2**63 - 1"


def _redact_pairs(pairs: tuple[tuple[str, str], ...]) -> str:
    shown = tuple((k, _REDACTED if k in _SECRET_KEYS else v) for k, v in pairs)
    return repr(shown)


def _encode(pairs: Iterable[tuple[str, str]]) -> str:
    return urlencode(list(pairs), quote_via=quote)


@attrs.frozen
class PreparedRequest:
    """One validated HTTP request, ready for any transport.

    ``path`` is already percent-encoded; ``params`` go in the query string, ``form`` in an
    ``application/x-www-form-urlencoded`` body. The repr hides passwords and keys.
    """

    operation: str
    method: str
    path: str
    params: tuple[tuple[str, str], ...] = attrs.field(repr=_redact_pairs)
    form: tuple[tuple[str, str], ...] = attrs.field(default=(), repr=_redact_pairs)

    def url(self, base_url: str) -> str:
        """``base_url`` (trailing slash optional) + path + encoded query string."""
        url = base_url.rstrip("/") + self.path
        return f"{url}?{_encode(self.params)}" if self.params else url

    def body(self) -> bytes:
        """The form-encoded body (``b""`` when there is no form)."""
        return _encode(self.form).encode("ascii") if self.form else b""

    @property
    def content_type(self) -> str | None:
        """The body's content type, or ``None`` without a body."""
        return FORM_CONTENT_TYPE if self.form else None

    @property
    def idempotent(self) -> bool:
        """Whether sending it twice is harmless (read, query, delete, undelete)."""
        return self.operation in _IDEMPOTENT_OPERATIONS


# --- scalar validators --------------------------------------------------------------------------


def _check_int(parameter: str, value: object, low: int, high: int, allowed: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        if isinstance(value, int) and value.bit_length() > 256:
            # Python refuses to print ints of thousands of digits; show the size instead.
            value = f"<{value.bit_length()}-bit integer>"
        raise RequestValidationError(parameter, value, allowed)
    return int(value)


def _check_choice(parameter: str, value: object, choices: tuple[str, ...]) -> str:
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
    return _check_choice("wire_format", wire_format, WIRE_FORMATS)


def validate_id(name: str, value: object) -> int:
    """A positive integer id (not a bool)."""
    return _check_int(name, value, 1, _MAX_INT, f"a positive integer (at most {_MAX_INT_TEXT})")


def validate_page_size(value: object, *, parameter: str = "page_size") -> int:
    """Records per request: an integer from 1 to 200."""
    return _check_int(parameter, value, 1, MAX_LIMIT, f"an integer from 1 to {MAX_LIMIT}")


def validate_offset(value: object) -> int:
    """A query offset: an integer >= 0."""
    return _check_int("offset", value, 0, _MAX_INT, f"an integer from 0 to {_MAX_INT_TEXT}")


def validate_max_items(value: object) -> int | None:
    """The most records a walk yields: ``None`` (no limit) or an integer >= 0."""
    if value is None:
        return None
    return _check_int("max_items", value, 0, _MAX_INT, f"None or an integer from 0 to {_MAX_INT_TEXT}")


def _validate_timezone(timezone: object) -> _dt.tzinfo | None:
    if timezone is not None and not isinstance(timezone, _dt.tzinfo):
        raise RequestValidationError("timezone", timezone, "a datetime.tzinfo or None")
    return timezone


def _validate_name(parameter: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RequestValidationError(parameter, value, "a non-empty string")
    _check_encodable(parameter, value, value)
    return value


def _validate_text(parameter: str, value: object) -> str:
    if not isinstance(value, str):
        raise RequestValidationError(parameter, value, "a string")
    _check_encodable(parameter, value, value)
    return value


def _validate_secret(parameter: str, value: object) -> str:
    shown = f"<redacted {type(value).__name__}>"
    if not isinstance(value, str) or not value:
        raise RequestValidationError(parameter, shown, "a non-empty string")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise RequestValidationError(parameter, shown, "a string without control or surrogate characters")
    return value


def _validate_probability(value: object, *, low: int = 0, parameter: str = "probability") -> int:
    return _check_int(parameter, value, low, 100, f"an integer from {low} to 100")


def _validate_status(value: object) -> str:
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


def _format_value(value: object, parameter: str = "value") -> str:
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


def _validate_value_bound(parameter: str, value: object) -> int:
    allowed = f"an integer from -{_MAX_INT_TEXT} to {_MAX_INT_TEXT}"
    return _check_int(parameter, value, -_MAX_INT, _MAX_INT, allowed)


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


def _timestamp(
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
    return _timestamp(parameter, value, _validate_timezone(timezone), keywords)[0]


# --- queries ------------------------------------------------------------------------------------


@attrs.frozen
class QuerySpec:
    """One validated query; every page request (and every repair read) is rebuilt from it.

    Make it with :func:`query_spec`. ``filters`` holds the wire-ready filters sorted by name, except
    the id bounds, which stay typed in ``id_greater_than``/``id_less_than`` so pagination can
    narrow them.
    """

    filters: tuple[tuple[str, str], ...]
    sort_by: str
    sort_order: str
    output: str | None
    id_greater_than: int | None
    id_less_than: int | None


def _check_range(low_name: str, low: int | None, high_name: str, high: int | None, code: int) -> None:
    if low is not None and high is not None and low >= high:
        raise RequestValidationError(
            low_name,
            low,
            f"must be less than {high_name}={high}: the range is empty (Pardot answers code {code})",
        )


def _check_sort(sort_by: object, sort_order: object) -> tuple[str, str]:
    field = _check_choice("sort_by", sort_by, SORT_FIELDS)
    order = (
        DEFAULT_SORT_ORDER[field]
        if sort_order is None
        else _check_choice("sort_order", sort_order, SORT_ORDERS)
    )
    return field, order


def query_spec(
    *,
    sort_by: str = "id",
    sort_order: str | None = None,
    output: str | None = None,
    timezone: _dt.tzinfo | None = None,
    **filters: object,
) -> QuerySpec:
    """Validate a query's filters and sort once, into a frozen :class:`QuerySpec`.

    Filters are Pardot's names (``created_after``, ``id_greater_than``, ``prospect_email``, ...); a
    filter given as ``None`` is left out. ``sort_order`` defaults to the field's documented default
    order. Inverted ranges are rejected as Pardot would (codes 8, 17, 41, 43).
    """
    field, order = _check_sort(sort_by, sort_order)
    if output is not None:
        _check_choice("output", output, OUTPUTS)
    tz = _validate_timezone(timezone)
    wire: dict[str, str] = {}
    ints: dict[str, int] = {}
    stamps: dict[str, _dt.datetime | None] = {}
    for name, value in filters.items():
        if value is None:
            continue
        if name not in QUERY_FILTERS:
            raise RequestValidationError(
                name, value, "not a query filter; the filters are " + ", ".join(QUERY_FILTERS)
            )
        if name in ("created_after", "created_before"):
            wire[name], stamps[name] = _timestamp(name, value, tz, keywords=True)
        elif name in ("id_greater_than", "id_less_than"):
            ints[name] = validate_id(name, value)
        elif name == "prospect_id":
            wire[name] = str(validate_id(name, value))
        elif name == "prospect_email":
            wire[name] = validate_email(value)
        elif name.startswith("probability_"):
            ints[name] = _validate_probability(value, low=1, parameter=name)
            wire[name] = str(ints[name])
        else:  # value_greater_than, value_less_than
            ints[name] = _validate_value_bound(name, value)
            wire[name] = str(ints[name])
    for low, high, code in (
        ("id_greater_than", "id_less_than", 17),
        ("probability_greater_than", "probability_less_than", 41),
        ("value_greater_than", "value_less_than", 43),
    ):
        _check_range(low, ints.get(low), high, ints.get(high), code)
    after, before = stamps.get("created_after"), stamps.get("created_before")
    if (
        after is not None
        and before is not None
        and (after.utcoffset() is None) == (before.utcoffset() is None)
        and after > before
    ):
        raise RequestValidationError(
            "created_after",
            filters["created_after"],
            f"must not be later than created_before={filters['created_before']!r} (Pardot answers code 8)",
        )
    return QuerySpec(
        filters=tuple(sorted(wire.items())),
        sort_by=field,
        sort_order=order,
        output=output,
        id_greater_than=ints.get("id_greater_than"),
        id_less_than=ints.get("id_less_than"),
    )


def _format_params(wire_format: str, *pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    head = (("format", "json"),) if validate_wire_format(wire_format) == "json" else ()
    return head + pairs


def _opportunity_path(version: int, operation: str, *segments: str) -> str:
    parts = ["", "api", "opportunity", "version", str(validate_version(version)), "do", operation]
    parts.extend(quote(segment, safe="") for segment in segments)
    return "/".join(parts)


def _tighter(a: int | None, b: int | None, pick: Callable[[int, int], int]) -> int | None:
    if a is None:
        return b
    return a if b is None else pick(a, b)


def build_query(
    spec: QuerySpec,
    *,
    offset: int = 0,
    limit: int | None = 200,
    version: int = 4,
    wire_format: str = "json",
    id_greater_than: int | None = None,
    id_less_than: int | None = None,
    sort_by: str | None = None,
    sort_order: str | None = None,
) -> PreparedRequest:
    """One page request of ``spec``: GET ``do/query`` with every parameter in the query string.

    ``id_greater_than``/``id_less_than`` are intersected with the spec's bounds (for keyset
    reads); an empty intersection raises :class:`RequestValidationError` rather than sending a
    request Pardot would answer with code 17. ``sort_by``/``sort_order`` override the spec's; an
    overriding ``sort_by`` without ``sort_order`` gets its field's default order. ``sort_by``,
    ``sort_order``, ``limit`` and ``offset`` are always sent, except that ``limit=None`` (allowed
    only with ``output=mobile``, which has no 200 cap) leaves ``limit`` out to get every match.
    """
    if not isinstance(spec, QuerySpec):
        raise RequestValidationError("spec", spec, "a QuerySpec made by query_spec()")
    offset = validate_offset(offset)
    if limit is None:
        if spec.output != "mobile":
            raise RequestValidationError(
                "limit", None, "an int from 1 to 200 (only output=mobile may omit it)"
            )
    else:
        limit = validate_page_size(limit, parameter="limit")
    lower = _tighter(
        spec.id_greater_than,
        None if id_greater_than is None else validate_id("id_greater_than", id_greater_than),
        max,
    )
    upper = _tighter(
        spec.id_less_than, None if id_less_than is None else validate_id("id_less_than", id_less_than), min
    )
    _check_range("id_greater_than", lower, "id_less_than", upper, 17)
    if sort_by is None:
        field = spec.sort_by
        order = (
            spec.sort_order if sort_order is None else _check_choice("sort_order", sort_order, SORT_ORDERS)
        )
    else:
        field, order = _check_sort(sort_by, sort_order)
    filters = dict(spec.filters)
    if lower is not None:
        filters["id_greater_than"] = str(lower)
    if upper is not None:
        filters["id_less_than"] = str(upper)
    tail = [*sorted(filters.items())]
    if spec.output is not None:
        tail.append(("output", spec.output))
    tail += [("sort_by", field), ("sort_order", order)]
    if limit is not None:
        tail.append(("limit", str(limit)))
    tail.append(("offset", str(offset)))
    return PreparedRequest(
        operation="query",
        method="GET",
        path=_opportunity_path(version, "query"),
        params=_format_params(wire_format, *tail),
    )


# --- single-record operations -------------------------------------------------------------------


def build_read(
    opportunity_id: int, *, version: int = 4, wire_format: str = "json", output: str | None = None
) -> PreparedRequest:
    """GET ``do/read/id/{id}``."""
    oid = validate_id("opportunity_id", opportunity_id)
    extra = () if output is None else (("output", _check_choice("output", output, OUTPUTS)),)
    return PreparedRequest(
        operation="read",
        method="GET",
        path=_opportunity_path(version, "read", "id", str(oid)),
        params=_format_params(wire_format, *extra),
    )


def _field_wire(name: str, value: object, timezone: _dt.tzinfo | None) -> str:
    """The wire text of one editable field's (non-None) value."""
    if name == "campaign_id":
        return str(validate_id(name, value))
    if name == "name":
        return _validate_name(name, value)
    if name == "value":
        return _format_value(value)
    if name == "probability":
        return str(_validate_probability(value))
    if name == "status":
        return _validate_status(value)
    if name == "closed_at":
        return _timestamp(name, value, timezone, keywords=False)[0]
    return _validate_text(name, value)  # type, stage


def build_create(
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
    closed_at: _dt.datetime | _dt.date | str | None = None,
    version: int = 4,
    wire_format: str = "json",
    timezone: _dt.tzinfo | None = None,
) -> PreparedRequest:
    """POST ``do/create/prospect_email/{email}`` (or ``/prospect_id/{id}``) with the fields in the body.

    With both a prospect email and id, the email goes in the path and ``prospect_id`` in the body,
    so Pardot checks they name the same prospect (code 44). ``timezone`` converts an aware
    ``closed_at`` to the account's time zone.
    """
    tz = _validate_timezone(timezone)
    if prospect_email is None and prospect_id is None:
        raise RequestValidationError("prospect_email", None, "a prospect_email or a prospect_id (or both)")
    email = None if prospect_email is None else validate_email(prospect_email)
    pid = None if prospect_id is None else validate_id("prospect_id", prospect_id)
    form: list[tuple[str, str]] = []
    if email is not None:
        segments = ("prospect_email", email)
        if pid is not None:
            form.append(("prospect_id", str(pid)))
    else:
        segments = ("prospect_id", str(pid))
    given = {
        "name": name,
        "value": value,
        "probability": probability,
        "campaign_id": campaign_id,
        "type": type,
        "stage": stage,
        "status": status,
        "closed_at": closed_at,
    }
    for field, field_value in given.items():
        if field_value is None and field in ("name", "value", "probability"):
            raise RequestValidationError(field, None, "required to create an opportunity")
        if field_value is not None:
            form.append((field, _field_wire(field, field_value, tz)))
    return PreparedRequest(
        operation="create",
        method="POST",
        path=_opportunity_path(version, "create", *segments),
        params=_format_params(wire_format),
        form=tuple(form),
    )


def build_update(
    opportunity_id: int,
    fields: Mapping[str, object],
    *,
    version: int = 4,
    wire_format: str = "json",
    timezone: _dt.tzinfo | None = None,
) -> PreparedRequest:
    """POST ``do/update/id/{id}`` with the changed fields in the body.

    Only editable fields are accepted; ``None`` clears an optional field (sent as ``field=``) and
    is refused for the required ones (name, value, probability, campaign_id). Fields go in
    :data:`~aeopp._constants.EDITABLE_FIELDS` order.
    """
    oid = validate_id("opportunity_id", opportunity_id)
    tz = _validate_timezone(timezone)
    if not isinstance(fields, Mapping):
        raise RequestValidationError("fields", fields, "a mapping of field names to values")
    if not fields:
        raise RequestValidationError(
            "fields", dict(fields), "at least one field to change: " + ", ".join(EDITABLE_FIELDS)
        )
    for field in fields:
        if field not in EDITABLE_FIELDS:
            raise RequestValidationError(
                str(field), fields[field], "not an editable field; editable: " + ", ".join(EDITABLE_FIELDS)
            )
    form: list[tuple[str, str]] = []
    for field in EDITABLE_FIELDS:
        if field not in fields:
            continue
        field_value = fields[field]
        if field_value is None:
            if field in REQUIRED_FIELDS:
                raise RequestValidationError(
                    field,
                    None,
                    "a value: required fields (" + ", ".join(REQUIRED_FIELDS) + ") can't be cleared",
                )
            form.append((field, ""))
        else:
            form.append((field, _field_wire(field, field_value, tz)))
    return PreparedRequest(
        operation="update",
        method="POST",
        path=_opportunity_path(version, "update", "id", str(oid)),
        params=_format_params(wire_format),
        form=tuple(form),
    )


def _build_by_id(operation: str, opportunity_id: object, version: int, wire_format: str) -> PreparedRequest:
    oid = validate_id("opportunity_id", opportunity_id)
    return PreparedRequest(
        operation=operation,
        method="POST",
        path=_opportunity_path(version, operation, "id", str(oid)),
        params=_format_params(wire_format),
    )


def build_delete(opportunity_id: int, *, version: int = 4, wire_format: str = "json") -> PreparedRequest:
    """POST ``do/delete/id/{id}`` (no body)."""
    return _build_by_id("delete", opportunity_id, version, wire_format)


def build_undelete(opportunity_id: int, *, version: int = 4, wire_format: str = "json") -> PreparedRequest:
    """POST ``do/undelete/id/{id}`` (no body)."""
    return _build_by_id("undelete", opportunity_id, version, wire_format)


def build_login(
    *, email: str, password: str, user_key: str, version: int = 4, wire_format: str = "json"
) -> PreparedRequest:
    """POST ``/api/login/version/{v}`` with the credentials in the body (never in the URL).

    Errors about ``password`` or ``user_key`` never show their value.
    """
    address = validate_email(email, parameter="email")
    secret = _validate_secret("password", password)
    key = _validate_secret("user_key", user_key)
    return PreparedRequest(
        operation="login",
        method="POST",
        path=f"/api/login/version/{validate_version(version)}",
        params=_format_params(wire_format),
        form=(("email", address), ("password", secret), ("user_key", key)),
    )
