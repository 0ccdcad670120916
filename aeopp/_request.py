"""Sans-I/O request building: caller arguments in, validated :class:`PreparedRequest` out.

Everything is checked here, before any request exists, and every problem raises
:class:`~aeopp.errors.RequestValidationError` naming the parameter, the value given and what is
allowed. The rules come from the object's spec (``_spec``); nothing here does I/O or imports aiohttp
or anyio.

Wire layout (ref §2): ``/api/{object}/version/{v}/do/{op}[/{id_field}/{value}]``; reads and queries
are GET with everything in the query string; writes and login are POST with the data in a form body
and ``format`` in the query string. Path segments, query strings and bodies are percent-encoded with
:func:`urllib.parse.quote` (``+`` is always ``%2B``, space ``%20``).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote, urlencode

import attrs

from ._constants import OUTPUTS, SORT_ORDERS
from ._spec import OPPORTUNITY, ObjectSpec
from ._validate import (
    check_choice,
    format_timestamp,
    validate_email,
    validate_id,
    validate_lower_id,
    validate_max_items,
    validate_offset,
    validate_page_size,
    validate_secret,
    validate_timezone,
    validate_version,
    validate_wire_format,
)
from .errors import RequestValidationError

__all__ = [
    "FORM_CONTENT_TYPE",
    "PageRequest",
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


def _redact_pairs(pairs: tuple[tuple[str, str], ...]) -> str:
    shown = tuple((k, _REDACTED if k in _SECRET_KEYS else v) for k, v in pairs)
    return repr(shown)


def _encode(pairs: Iterable[tuple[str, str]]) -> str:
    return urlencode(list(pairs), quote_via=quote)


@attrs.frozen
class PreparedRequest:
    """One validated HTTP request, ready for any transport.

    ``params`` go in the query string, ``form`` in an ``application/x-www-form-urlencoded`` body.
    ``with_version`` gives the same request for the other API version without checking anything
    again. The repr hides passwords and keys.
    """

    operation: str
    method: str
    object_name: str
    version: int
    params: tuple[tuple[str, str], ...] = attrs.field(repr=_redact_pairs)
    form: tuple[tuple[str, str], ...] = attrs.field(default=(), repr=_redact_pairs)
    segments: tuple[str, ...] = ()
    idempotent: bool = False
    #: The id the answer must be about (single-record operations by id).
    record_id: int | None = None

    @property
    def path(self) -> str:
        """The percent-encoded path."""
        if self.operation == "login":
            return f"/api/login/version/{self.version}"
        parts = ["", "api", self.object_name, "version", str(self.version), "do", self.operation]
        parts.extend(quote(segment, safe="") for segment in self.segments)
        return "/".join(parts)

    def url(self, base_url: str) -> str:
        """``base_url`` (trailing slash optional) + path + encoded query string."""
        url = base_url.rstrip("/") + self.path
        return f"{url}?{_encode(self.params)}" if self.params else url

    def body(self) -> bytes:
        """The form-encoded body (``b""`` when there is no form)."""
        return _encode(self.form).encode("ascii") if self.form else b""

    @property
    def output(self) -> str | None:
        """Pardot's ``output`` parameter, if sent."""
        return dict(self.params).get("output")

    @property
    def content_type(self) -> str | None:
        """The body's content type, or ``None`` without a body."""
        return FORM_CONTENT_TYPE if self.form else None

    def with_version(self, version: int) -> PreparedRequest:
        """The same request for API ``version``."""
        return self if version == self.version else attrs.evolve(self, version=version)


def _format_params(wire_format: str, *pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    head = (("format", "json"),) if validate_wire_format(wire_format) == "json" else ()
    return head + pairs


def _prepared(
    spec: ObjectSpec[Any],
    operation: str,
    version: int,
    wire_format: str,
    *,
    params: tuple[tuple[str, str], ...] = (),
    form: tuple[tuple[str, str], ...] = (),
    segments: tuple[str, ...] = (),
    record_id: int | None = None,
) -> PreparedRequest:
    op = spec.operation(operation)
    return PreparedRequest(
        operation=operation,
        method=op.method,
        object_name=spec.name,
        version=validate_version(version),
        params=_format_params(wire_format, *params),
        form=form,
        segments=segments,
        idempotent=op.idempotent,
        record_id=record_id,
    )


# --- queries ------------------------------------------------------------------------------------


@attrs.frozen
class QuerySpec:
    """One validated query; every page request (and every repair read) is rebuilt from it.

    Make it with :func:`query_spec`. ``filters`` holds the wire-ready filters sorted by name, except
    the id bounds, which stay typed in ``id_greater_than``/``id_less_than`` so pagination can
    narrow them (see :meth:`PageRequest.first`).
    """

    filters: tuple[tuple[str, str], ...]
    sort_by: str
    sort_order: str
    output: str | None
    id_greater_than: int | None
    id_less_than: int | None
    object_name: str = "opportunity"


def _tighter(a: int | None, b: int | None, pick: Callable[[int, int], int]) -> int | None:
    if a is None:
        return b
    return a if b is None else pick(a, b)


def _check_id_range(low: int | None, high: int | None) -> None:
    if low is not None and high is not None and low >= high:
        raise RequestValidationError(
            "id_greater_than",
            low,
            f"must be less than id_less_than={high}: the range is empty (Pardot answers code 17)",
        )


@attrs.frozen
class PageRequest:
    """One page of a query: where it starts, how many records, its id bounds and sort.

    ``sort_by``/``sort_order`` of None mean the query's own. Bounds are narrowed only through
    :meth:`within`, the one place where two sets of id bounds meet.
    """

    offset: int = 0
    limit: int | None = 200
    id_greater_than: int | None = None
    id_less_than: int | None = None
    sort_by: str | None = None
    sort_order: str | None = None

    @classmethod
    def first(cls, query: QuerySpec, *, offset: int = 0, limit: int | None = 200) -> PageRequest:
        """A page of ``query`` within the caller's own id bounds."""
        return cls(offset, limit, query.id_greater_than, query.id_less_than)

    def within(self, id_greater_than: int | None, id_less_than: int | None) -> PageRequest:
        """This page with its id bounds narrowed to the given ones (None: no bound)."""
        lower = _tighter(self.id_greater_than, id_greater_than, max)
        upper = _tighter(self.id_less_than, id_less_than, min)
        if (lower, upper) == (self.id_greater_than, self.id_less_than):
            return self
        return attrs.evolve(self, id_greater_than=lower, id_less_than=upper)

    @property
    def empty(self) -> bool:
        """Whether no id can lie strictly between the bounds."""
        lo, hi = self.id_greater_than, self.id_less_than
        return lo is not None and hi is not None and hi - lo <= 1


def _check_sort(spec: ObjectSpec[Any], sort_by: object, sort_order: object) -> tuple[str, str]:
    field = check_choice("sort_by", sort_by, tuple(spec.sorts))
    order = spec.sorts[field] if sort_order is None else check_choice("sort_order", sort_order, SORT_ORDERS)
    return field, order


def query_spec(
    *,
    sort_by: str = "id",
    sort_order: str | None = None,
    output: str | None = None,
    timezone: _dt.tzinfo | None = None,
    spec: ObjectSpec[Any] = OPPORTUNITY,
    **filters: object,
) -> QuerySpec:
    """Validate a query's filters and sort once, into a frozen :class:`QuerySpec`.

    Filters are Pardot's names (``created_after``, ``id_greater_than``, ``prospect_email``, ...); a
    filter given as ``None`` is left out. ``sort_order`` defaults to the field's documented default
    order. Inverted ranges are rejected as Pardot would (codes 8, 17, 41, 43).
    """
    field, order = _check_sort(spec, sort_by, sort_order)
    if output is not None:
        check_choice("output", output, OUTPUTS)
    tz = validate_timezone(timezone)
    wire: dict[str, str] = {}
    compared: dict[str, object] = {}
    bounds: dict[str, int] = {}
    for name, value in filters.items():
        if value is None:
            continue
        rule = spec.filter(name)
        if rule is None:
            raise RequestValidationError(
                name, value, "not a query filter; the filters are " + ", ".join(spec.filter_names)
            )
        text, compared[name] = rule.check(name, value, tz)
        if rule.id_bound is not None:
            assert isinstance(compared[name], int)
            bounds[rule.id_bound] = compared[name]  # type: ignore[assignment]
        else:
            wire[name] = text
    for pair in spec.ranges:
        low, high = compared.get(pair.low), compared.get(pair.high)
        if low is None or high is None:
            continue
        if _inverted(low, high) or (pair.strict and low == high):
            relation = "be less than" if pair.strict else "not be later than"
            raise RequestValidationError(
                pair.low,
                filters[pair.low],
                f"must {relation} {pair.high}={filters[pair.high]!r}: "
                f"the range is empty (Pardot answers code {pair.code})",
            )
    return QuerySpec(
        filters=tuple(sorted(wire.items())),
        sort_by=field,
        sort_order=order,
        output=output,
        id_greater_than=bounds.get("lower"),
        id_less_than=bounds.get("upper"),
        object_name=spec.name,
    )


#: How far a naive time may be from UTC (time zones run from UTC-12 to UTC+14).
_EARLIEST, _LATEST = _dt.timedelta(hours=-14), _dt.timedelta(hours=12)


def _inverted(low: object, high: object) -> bool:
    """Whether ``low`` is surely above ``high``. A naive time (the account's zone, unknown here)
    against an aware one is compared for every possible offset: inverted only if it is for all."""
    if isinstance(low, _dt.datetime) and isinstance(high, _dt.datetime):
        naive_low, naive_high = low.utcoffset() is None, high.utcoffset() is None
        if naive_low != naive_high:
            if naive_low:
                earliest = low + _EARLIEST
                return earliest > high.astimezone(_dt.timezone.utc).replace(tzinfo=None)
            latest = high + _LATEST
            return low.astimezone(_dt.timezone.utc).replace(tzinfo=None) > latest
    return low > high  # type: ignore[operator,no-any-return]


def build_query(
    query: QuerySpec,
    page: PageRequest | None = None,
    *,
    offset: int = 0,
    limit: int | None = 200,
    version: int = 4,
    wire_format: str = "json",
    id_greater_than: int | None = None,
    id_less_than: int | None = None,
    sort_by: str | None = None,
    sort_order: str | None = None,
    spec: ObjectSpec[Any] = OPPORTUNITY,
) -> PreparedRequest:
    """One page request of ``query``: GET ``do/query`` with every parameter in the query string.

    The page is ``page``, or one made of the keywords (its id bounds narrowed by the query's). An
    empty id range raises :class:`RequestValidationError` rather than sending a request Pardot would
    answer with code 17. A ``sort_by`` override without ``sort_order`` gets its field's default
    order. ``sort_by``, ``sort_order``, ``limit`` and ``offset`` are always sent, except that
    ``limit=None`` (allowed only with ``output=mobile``, which has no 200 cap) leaves ``limit`` out
    to get every match.
    """
    if not isinstance(query, QuerySpec):
        raise RequestValidationError("spec", query, "a QuerySpec made by query_spec()")
    if page is None:
        ids = (
            None if id_greater_than is None else validate_lower_id("id_greater_than", id_greater_than),
            None if id_less_than is None else validate_id("id_less_than", id_less_than),
        )
        page = PageRequest.first(query, offset=offset, limit=limit).within(*ids)
        page = attrs.evolve(page, sort_by=sort_by, sort_order=sort_order)
    start = validate_offset(page.offset)
    if page.limit is None:
        if query.output != "mobile":
            raise RequestValidationError(
                "limit", None, "an int from 1 to 200 (only output=mobile may omit it)"
            )
    else:
        validate_page_size(page.limit, parameter="limit")
    _check_id_range(page.id_greater_than, page.id_less_than)
    if page.sort_by is None:
        field = query.sort_by
        order = (
            query.sort_order
            if page.sort_order is None
            else check_choice("sort_order", page.sort_order, SORT_ORDERS)
        )
    else:
        field, order = _check_sort(spec, page.sort_by, page.sort_order)
    filters = dict(query.filters)
    if page.id_greater_than is not None:
        filters["id_greater_than"] = str(page.id_greater_than)
    if page.id_less_than is not None:
        filters["id_less_than"] = str(page.id_less_than)
    tail = sorted(filters.items())
    if query.output is not None:
        tail.append(("output", query.output))
    tail += [("sort_by", field), ("sort_order", order)]
    if page.limit is not None:
        tail.append(("limit", str(page.limit)))
    tail.append(("offset", str(start)))
    return _prepared(spec, "query", version, wire_format, params=tuple(tail))


# --- single-record operations -------------------------------------------------------------------


def build_read(
    opportunity_id: int,
    *,
    version: int = 4,
    wire_format: str = "json",
    output: str | None = None,
    spec: ObjectSpec[Any] = OPPORTUNITY,
) -> PreparedRequest:
    """GET ``do/read/id/{id}``."""
    oid = validate_id("opportunity_id", opportunity_id)
    extra = () if output is None else (("output", check_choice("output", output, OUTPUTS)),)
    return _prepared(
        spec, "read", version, wire_format, params=extra, segments=("id", str(oid)), record_id=oid
    )


def _fields_form(
    spec: ObjectSpec[Any], fields: Mapping[str, object], timezone: _dt.tzinfo | None, *, creating: bool
) -> tuple[tuple[str, str], ...]:
    """The form pairs of the editable fields given, in the spec's order; refuses unknown names."""
    editable = spec.record.editable
    names = [f.name for f in editable]
    for name in fields:
        if name not in names:
            raise RequestValidationError(
                str(name), fields[name], "not an editable field; editable: " + ", ".join(names)
            )
    form: list[tuple[str, str]] = []
    for f in editable:
        value = fields.get(f.name)
        if creating and value is None:
            if f.required and not f.optional_on_create:
                raise RequestValidationError(f.name, None, f"required to create an {spec.name}")
            continue
        if f.name not in fields:
            continue
        assert f.send is not None
        if value is not None:
            form.append((f.wire, f.send(f.name, value, timezone)))
        elif f.required:
            required = ", ".join(g.name for g in editable if g.required)
            raise RequestValidationError(
                f.name, None, f"a value: required fields ({required}) can't be cleared"
            )
        else:
            form.append((f.wire, ""))
    return tuple(form)


def build_create(
    *,
    version: int = 4,
    wire_format: str = "json",
    timezone: _dt.tzinfo | None = None,
    spec: ObjectSpec[Any] = OPPORTUNITY,
    **fields: object,
) -> PreparedRequest:
    """POST ``do/create/prospect_email/{email}`` (or ``/prospect_id/{id}``) with the fields in the body.

    ``fields`` are the editable fields plus ``prospect_email`` and/or ``prospect_id``, the prospect
    the opportunity is for. With both, the email goes in the path and ``prospect_id`` in the body, so
    Pardot checks they name the same prospect (code 44). ``timezone`` converts an aware
    ``closed_at`` to the account's time zone.
    """
    tz = validate_timezone(timezone)
    values = dict(fields)
    prospect_email = values.pop("prospect_email", None)
    prospect_id = values.pop("prospect_id", None)
    form = list(_fields_form(spec, values, tz, creating=True))
    if prospect_email is None and prospect_id is None:
        raise RequestValidationError("prospect_email", None, "a prospect_email or a prospect_id (or both)")
    email = None if prospect_email is None else validate_email(prospect_email)
    pid = None if prospect_id is None else validate_id("prospect_id", prospect_id)
    if email is not None:
        segments = ("prospect_email", email)
        if pid is not None:
            form.insert(0, ("prospect_id", str(pid)))
    else:
        segments = ("prospect_id", str(pid))
    return _prepared(spec, "create", version, wire_format, form=tuple(form), segments=segments)


def build_update(
    opportunity_id: int,
    fields: Mapping[str, object],
    *,
    version: int = 4,
    wire_format: str = "json",
    timezone: _dt.tzinfo | None = None,
    spec: ObjectSpec[Any] = OPPORTUNITY,
) -> PreparedRequest:
    """POST ``do/update/id/{id}`` with the changed fields in the body.

    Only editable fields are accepted; ``None`` clears an optional field (sent as ``field=``) and
    is refused for the required ones (name, value, probability, campaign_id). Fields go in the
    spec's order.
    """
    oid = validate_id("opportunity_id", opportunity_id)
    tz = validate_timezone(timezone)
    if not isinstance(fields, Mapping):
        raise RequestValidationError("fields", fields, "a mapping of field names to values")
    if not fields:
        names = ", ".join(f.name for f in spec.record.editable)
        raise RequestValidationError("fields", dict(fields), "at least one field to change: " + names)
    form = _fields_form(spec, fields, tz, creating=False)
    return _prepared(
        spec, "update", version, wire_format, form=form, segments=("id", str(oid)), record_id=oid
    )


def _build_by_id(
    spec: ObjectSpec[Any], operation: str, opportunity_id: object, version: int, wire_format: str
) -> PreparedRequest:
    oid = validate_id("opportunity_id", opportunity_id)
    return _prepared(spec, operation, version, wire_format, segments=("id", str(oid)), record_id=oid)


def build_delete(
    opportunity_id: int, *, version: int = 4, wire_format: str = "json", spec: ObjectSpec[Any] = OPPORTUNITY
) -> PreparedRequest:
    """POST ``do/delete/id/{id}`` (no body)."""
    return _build_by_id(spec, "delete", opportunity_id, version, wire_format)


def build_undelete(
    opportunity_id: int, *, version: int = 4, wire_format: str = "json", spec: ObjectSpec[Any] = OPPORTUNITY
) -> PreparedRequest:
    """POST ``do/undelete/id/{id}`` (no body)."""
    return _build_by_id(spec, "undelete", opportunity_id, version, wire_format)


def build_login(
    *, email: str, password: str, user_key: str, version: int = 4, wire_format: str = "json"
) -> PreparedRequest:
    """POST ``/api/login/version/{v}`` with the credentials in the body (never in the URL).

    Errors about ``password`` or ``user_key`` never show their value.
    """
    address = validate_email(email, parameter="email")
    secret = validate_secret("password", password)
    key = validate_secret("user_key", user_key)
    return PreparedRequest(
        operation="login",
        method="POST",
        object_name="login",
        version=validate_version(version),
        params=_format_params(wire_format),
        form=(("email", address), ("password", secret), ("user_key", key)),
    )
