"""Sans-I/O parsing: an HTTP answer ``(status, headers, body)`` -> aeopp models or a typed error.

Pure: imports neither aiohttp nor anyio. Every quirk of the v3/v4 wire is normalised here, the same way
for XML and JSON: one record as an object, zero records as a missing key, ``null``, ``""`` or an empty
element, numeric-looking strings sent as numbers, HTML entities inside values, ``0000-00-00`` dates.
A failure envelope raises :func:`~aeopp.errors.error_for_code` whatever the HTTP status; anything that
is neither a success nor a failure envelope (HTML error pages, truncated or hostile bodies) raises
:class:`~aeopp.errors.ProtocolError`, never a ``KeyError`` or an ``ExpatError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from decimal import Decimal
from html import unescape as _html_unescape
from types import MappingProxyType
from typing import Any, NoReturn
from xml.parsers import expat

import attrs
import xmltodict  # type: ignore[import-untyped,unused-ignore]

from ._constants import EDITABLE_FIELDS, ERROR_MESSAGES, LIST_ELEMENTS
from .errors import ProtocolError, error_for_code
from .models import (
    Campaign,
    Opportunity,
    Page,
    Prospect,
    VisitorActivity,
    build_activity,
    build_campaign,
    build_opportunity,
    build_prospect,
)

__all__ = [
    "MAX_XML_DEPTH",
    "LoginResult",
    "decode_envelope",
    "opportunity_from_wire",
    "parse_empty",
    "parse_login",
    "parse_opportunity",
    "parse_page",
]

#: Deepest XML nesting accepted; real answers go 6 deep (rsp/result/opportunity/prospects/prospect/id).
MAX_XML_DEPTH = 32

_CODE_BY_MESSAGE = {message: code for code, message in ERROR_MESSAGES.items()}

_OPPORTUNITY_KEYS = frozenset(
    {"id", *EDITABLE_FIELDS, "campaign", "created_at", "updated_at", "prospects", "opportunity_activities"}
)
_QUICK_KEYS = _OPPORTUNITY_KEYS - {"opportunity_activities"}
_CAMPAIGN_KEYS = frozenset({"id", "name"})
_PROSPECT_KEYS = frozenset({"id", "email", "first_name", "last_name", "company"})
_ACTIVITY_KEYS = frozenset(
    {"id", "prospect_id", "opportunity_id", "type", "type_name", "details", "created_at"}
)
# Errors that malformed data can raise while models are built; all become ProtocolError.
_DATA_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError, ArithmeticError, RecursionError)
_LEADING_SPACE = b" \t\r\n\xef\xbb\xbf"  # whitespace and the UTF-8 byte order mark
_API_KEY = re.compile(rb"(api_key\W{0,4})[^\"<\s,}]+", re.IGNORECASE)


@attrs.frozen
class LoginResult:
    """The answer to a legacy ``/api/login``: the API key and, for AMPSEA accounts, the version (4)."""

    api_key: str = attrs.field(repr=False)
    version: int | None


class _BadData(ValueError):
    """A record field had an impossible value (the ``parse_*`` functions make it a ProtocolError)."""


# -- envelope -----------------------------------------------------------------------------------


def decode_envelope(
    status: int, headers: Mapping[str, str], body: bytes, *, max_bytes: int | None = None
) -> dict[str, Any]:
    """The content of a success envelope as a dict (JSON: minus ``@attributes``; XML: ``<rsp>``'s children).

    Raises the typed :class:`~aeopp.errors.PardotError` for a failure envelope (on any HTTP status) and
    :class:`~aeopp.errors.ProtocolError` for anything else.
    """
    if max_bytes is not None and len(body) > max_bytes:
        _protocol(f"response larger than {max_bytes} bytes", status, body)
    stripped = body.lstrip(_LEADING_SPACE)
    first = stripped[:1]
    if first == b"{":
        return _decode_json(status, body)
    if first == b"<":
        return _decode_xml(status, body)
    if not stripped:
        _protocol("empty body where a Pardot envelope was expected", status, body)
    kind = _content_type(headers)
    if "json" in kind:
        return _decode_json(status, body)
    if "xml" in kind:
        return _decode_xml(status, body)
    _protocol("neither a JSON nor an XML Pardot envelope", status, body)


def _content_type(headers: Mapping[str, str]) -> str:
    value = headers.get("Content-Type") or headers.get("content-type")
    if value is None:
        for key, item in headers.items():
            if key.lower() == "content-type":
                value = item
                break
    return value.lower() if isinstance(value, str) else ""


def _protocol(message: str, status: int, body: bytes) -> NoReturn:
    raise ProtocolError(message, http_status=status, body=body)


def _decode_json(status: int, body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        _protocol("malformed JSON", status, body)
    if not isinstance(data, dict):
        _protocol("JSON body is not an object", status, body)
    attributes = data.get("@attributes")
    if not isinstance(attributes, dict):
        _protocol('JSON body has no "@attributes": not a Pardot envelope', status, body)
    stat = attributes.get("stat")
    if stat == "ok":
        content = dict(data)
        del content["@attributes"]
        return content
    if stat == "fail":
        codes = attributes.get("err_code")
        messages = data.get("err")
        code = codes[0] if isinstance(codes, list) and codes else codes
        texts = messages if isinstance(messages, list) else [messages]
        _fail(code, [_message_text(m) for m in texts], status, body)
    _protocol(f"JSON envelope with stat={stat!r}", status, body)


def _decode_xml(status: int, body: bytes) -> dict[str, Any]:
    try:
        data = xmltodict.parse(body, expat=_GUARDED_EXPAT, disable_entities=True, force_list=LIST_ELEMENTS)
    except _HostileXML as exc:
        _protocol(str(exc), status, body)
    except (expat.ExpatError, ValueError, RecursionError):
        _protocol("malformed XML", status, body)
    rsp = data.get("rsp") if isinstance(data, dict) else None
    if not isinstance(rsp, dict):
        _protocol("XML body has no <rsp> root: not a Pardot envelope", status, body)
    stat = rsp.get("@stat")
    if stat == "ok":
        return {key: value for key, value in rsp.items() if key[:1] != "@"}
    if stat == "fail":
        errs = rsp.get("err")
        errs = errs if isinstance(errs, list) else [errs]
        first = errs[0]
        code = first.get("@code") if isinstance(first, dict) else None
        texts = [_message_text(err.get("#text") if isinstance(err, dict) else err) for err in errs]
        _fail(code, texts, status, body)
    _protocol(f"<rsp> with stat={stat!r}", status, body)


def _message_text(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return _unescape(text) if "&" in text else text


def _fail(code: Any, texts: list[str], status: int, body: bytes) -> NoReturn:
    """Raise the typed error of a failure envelope (first error's code, every error's text)."""
    number: int | None = None
    if isinstance(code, str):
        code = code.strip()
        if code.isdecimal() and len(code) <= 9:
            number = int(code)
    elif isinstance(code, int) and not isinstance(code, bool):
        number = code
    elif isinstance(code, Decimal) and code.is_finite() and code == code.to_integral_value():
        number = int(code)
    texts = [text for text in texts if text]
    if number is None and texts:
        # The official (wrong) JSON example puts the message where the code goes; recover the code from it.
        number = _CODE_BY_MESSAGE.get(texts[0])
    if number is None:
        _protocol(f"failure envelope without a usable error code ({'; '.join(texts)!r})", status, body)
    message = "; ".join(texts) if texts else ERROR_MESSAGES.get(number, "")
    raise error_for_code(number, message, status)


# -- hostile XML --------------------------------------------------------------------------------


class _HostileXML(Exception):
    """Internal: the XML declared a DOCTYPE or entities, or nested too deep."""


def _reject_doctype(*_args: Any) -> NoReturn:
    raise _HostileXML("XML with a DOCTYPE declaration refused (entities are never expanded)")


def _reject_entity(*_args: Any) -> NoReturn:
    raise _HostileXML("XML with an entity declaration refused")


class _GuardedParser:
    """An expat parser whose element handlers xmltodict installs through a depth counter."""

    __slots__ = ("_depth", "_parser")

    def __init__(self, parser: Any) -> None:
        object.__setattr__(self, "_parser", parser)
        object.__setattr__(self, "_depth", [0])
        parser.StartDoctypeDeclHandler = _reject_doctype
        parser.EntityDeclHandler = _reject_entity
        parser.UnparsedEntityDeclHandler = _reject_entity
        parser.ExternalEntityRefHandler = _reject_entity

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "StartElementHandler":
            value = _guard_start(value, self._depth)
        elif name == "EndElementHandler":
            value = _guard_end(value, self._depth)
        elif name in ("EntityDeclHandler", "StartDoctypeDeclHandler"):
            return  # ours are stricter
        setattr(self._parser, name, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


def _guard_start(start: Callable[[str, Any], None], depth: list[int]) -> Callable[[str, Any], None]:
    def guarded(name: str, attributes: Any) -> None:
        level = depth[0] = depth[0] + 1
        if level > MAX_XML_DEPTH:
            raise _HostileXML(f"XML nested deeper than {MAX_XML_DEPTH} levels refused")
        start(name, attributes)

    return guarded


def _guard_end(end: Callable[[str], None], depth: list[int]) -> Callable[[str], None]:
    def guarded(name: str) -> None:
        depth[0] -= 1
        end(name)

    return guarded


class _GuardedExpat:
    """Stands in for the ``expat`` module given to ``xmltodict.parse``."""

    @staticmethod
    def ParserCreate(*args: Any) -> _GuardedParser:  # expat's name
        return _GuardedParser(expat.ParserCreate(*args))


_GUARDED_EXPAT = _GuardedExpat()


# -- public parsers -----------------------------------------------------------------------------


def parse_opportunity(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    timezone: tzinfo | None = None,
    max_bytes: int | None = None,
) -> Opportunity:
    """The opportunity in a read, create or update answer."""
    content = decode_envelope(status, headers, body, max_bytes=max_bytes)
    records = _as_list(content.get("opportunity"))
    if len(records) != 1:
        _protocol(f"expected one opportunity in the answer, got {len(records)}", status, body)
    try:
        return _record(records[0], timezone, None)
    except _DATA_ERRORS as exc:
        _protocol(f"malformed opportunity: {_describe(exc)}", status, body)


def parse_page(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    timezone: tzinfo | None = None,
    max_bytes: int | None = None,
) -> Page:
    """One page of a query answer; ``total_results`` is None when absent (``output=bulk``)."""
    content = decode_envelope(status, headers, body, max_bytes=max_bytes)
    if "result" in content:
        result = content["result"]
    elif "opportunity" in content:
        result = content  # tolerate records straight under the envelope
    else:
        _protocol("query answer without a result", status, body)
    if not result:  # null, "" or an empty element: zero records
        return Page(total_results=None)
    if not isinstance(result, dict):
        _protocol("query result is not an object", status, body)
    try:
        total = _int(result.get("total_results"))
        campaigns: dict[tuple[Any, Any], Campaign] = {}
        items = _as_list(result.get("opportunity"))
        records = tuple([_quick_record(item, timezone, campaigns) for item in items])
    except _DATA_ERRORS as exc:
        _protocol(f"malformed query result: {_describe(exc)}", status, body)
    return Page(total, records)


def parse_empty(
    status: int, headers: Mapping[str, str], body: bytes, *, max_bytes: int | None = None
) -> None:
    """Check a delete or undelete answer: an empty 2xx body or a ``stat="ok"`` envelope is success."""
    if not body.strip() and 200 <= status < 300:
        return
    decode_envelope(status, headers, body, max_bytes=max_bytes)


def parse_login(
    status: int, headers: Mapping[str, str], body: bytes, *, max_bytes: int | None = None
) -> LoginResult:
    """The API key (and AMPSEA version) of a legacy login answer; the key never appears in an error."""
    try:
        content = decode_envelope(status, headers, body, max_bytes=max_bytes)
    except ProtocolError as exc:
        raise ProtocolError(exc.message, http_status=status, body=_redact(body)) from None
    api_key = content.get("api_key")
    if not isinstance(api_key, str) or not api_key.strip():
        raise ProtocolError("login answer without an api_key", http_status=status, body=_redact(body))
    try:
        version = _int(content.get("version"))
    except _DATA_ERRORS:
        raise ProtocolError(
            "login answer with a malformed version", http_status=status, body=_redact(body)
        ) from None
    return LoginResult(api_key=api_key.strip(), version=version)


def _redact(body: bytes) -> bytes:
    return _API_KEY.sub(rb"\1<redacted>", body[:400])


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


def _unescape(text: str) -> str:
    """One level of HTML entities decoded, like :func:`html.unescape`, quicker for the usual five."""
    simple = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&#39;", "'")
    if "&" not in simple.replace("&amp;", ""):
        return simple.replace("&amp;", "&")
    return _html_unescape(text)


# -- records --------------------------------------------------------------------------------------
#
# Straight-line code on purpose: this runs for every record of every page, and a query's CPU budget is
# half of what json.loads spends on the same bytes. Each field takes a fast path for the common wire type
# (int in JSON, str in XML; text without "&") and falls back to the helpers below for the rest.


def _as_list(value: Any) -> list[Any]:
    """A record collection as a list: a list as is, one object as a list of one, nothing as []."""
    if value.__class__ is list:
        return value
    if value is None or value == "" or value == {}:
        return []
    return [value]


def _nested(value: Any, key: str) -> list[Any]:
    """The records of ``prospects``/``opportunity_activities``: null, "", {}, {key: one or many}, a list."""
    if value.__class__ is dict:
        if key in value:
            return _as_list(value[key])
        return [value] if value else []
    if value.__class__ is list:
        out: list[Any] = []
        for item in value:
            if item.__class__ is dict and key in item:
                out.extend(_as_list(item[key]))
            elif item:
                out.append(item)
        return out
    if not value:
        return []
    raise _BadData(f"{key} collection of type {type(value).__name__}")


def _text(value: Any) -> str | None:
    """A string field: None/"" -> None, numbers back to their text, one level of HTML entities decoded."""
    if value.__class__ is str:
        if not value:
            return None
        return _unescape(value) if "&" in value else value
    if value is None:
        return None
    if value.__class__ is bool:
        return "true" if value else "false"
    if isinstance(value, int | Decimal | float):
        return str(value)
    raise _BadData(f"expected text, got {type(value).__name__}")


def _int(value: Any) -> int | None:
    if value.__class__ is int:
        return value
    if value is None or value == "":
        return None
    if value.__class__ is str:
        return int(value)
    if value.__class__ is Decimal and value.is_finite() and value == value.to_integral_value():
        return int(value)
    raise _BadData(f"expected an integer, got {value!r}")


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if value.__class__ is str or value.__class__ is int:
        result = Decimal(value)
    elif value.__class__ is Decimal:
        result = value
    elif value.__class__ is float:
        result = Decimal(repr(value))
    else:
        raise _BadData(f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise _BadData(f"expected a finite number, got {value!r}")
    return result


def _when(value: Any, timezone: tzinfo | None) -> datetime | None:
    """``YYYY-MM-DD HH:MM:SS`` -> datetime; null, "" and ``0000-00-00 00:00:00`` -> None."""
    if not value or value.startswith("0000-00-00"):
        return None
    moment = _fromiso(value)
    if timezone is not None:
        return moment.replace(tzinfo=timezone)
    return moment


_fromiso = datetime.fromisoformat


def _plain(value: Any) -> Any:
    """An unknown field's value with HTML entities decoded in every string."""
    if value.__class__ is str:
        return _unescape(value) if "&" in value else value
    if value.__class__ is dict:
        return {key: _plain(item) for key, item in value.items()}
    if value.__class__ is list:
        return [_plain(item) for item in value]
    return value


def _extra(data: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    return {key: _plain(value) for key, value in data.items() if key not in known}


def _campaign(data: Any) -> Campaign | None:
    if not data:
        return None
    if data.__class__ is not dict:
        raise _BadData(f"campaign of type {type(data).__name__}")
    get = data.get
    extra = {} if _CAMPAIGN_KEYS.issuperset(data) else _extra(data, _CAMPAIGN_KEYS)
    return build_campaign(_int(get("id")), _text(get("name")), extra)


def _prospect(data: Any) -> Prospect:
    if data.__class__ is not dict:
        raise _BadData(f"prospect of type {type(data).__name__}")
    get = data.get
    pid = get("id")
    if pid.__class__ is not int:
        pid = _int(pid)
    email = get("email")
    if email.__class__ is not str or not email or "&" in email:
        email = _text(email)
    first = get("first_name")
    if first.__class__ is not str or not first or "&" in first:
        first = _text(first)
    last = get("last_name")
    if last.__class__ is not str or not last or "&" in last:
        last = _text(last)
    company = get("company")
    if company.__class__ is not str or not company or "&" in company:
        company = _text(company)
    extra = {} if _PROSPECT_KEYS.issuperset(data) else _extra(data, _PROSPECT_KEYS)
    return build_prospect(pid, email, first, last, company, extra)


def _activity(data: Any, timezone: tzinfo | None) -> VisitorActivity:
    if data.__class__ is not dict:
        raise _BadData(f"visitor_activity of type {type(data).__name__}")
    get = data.get
    extra = {} if _ACTIVITY_KEYS.issuperset(data) else _extra(data, _ACTIVITY_KEYS)
    return build_activity(
        _int(get("id")),
        _int(get("prospect_id")),
        _int(get("opportunity_id")),
        _int(get("type")),
        _text(get("type_name")),
        _text(get("details")),
        _when(get("created_at"), timezone),
        extra,
    )


def _record(
    data: Any, timezone: tzinfo | None, campaigns: dict[tuple[Any, Any], Campaign] | None
) -> Opportunity:
    if data.__class__ is not dict:
        raise _BadData(f"opportunity of type {type(data).__name__}")
    return _opportunity(data, timezone, campaigns)


_NONE = type(None)
#: Types of (id, probability, campaign_id, created_at, updated_at, closed_at) that the quick path takes
#: as they are; any other combination takes the careful path.
_QUICK_SIGNATURES = frozenset(
    (int, int, cid, str, str, closed) for cid in (int, _NONE) for closed in (str, _NONE)
)
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _quick_record(
    data: Any, timezone: tzinfo | None, campaigns: dict[tuple[Any, Any], Campaign]
) -> Opportunity:
    """:func:`_record` for the shape nearly every record has, checked in bulk (one type signature,
    no unknown keys, no activities); text fields still get their own checks. Anything else, or any
    surprise, takes the careful path, which decides what is an error."""
    if data.__class__ is not dict or not data.keys() <= _QUICK_KEYS:
        return _record(data, timezone, campaigns)
    get: Callable[[str], Any] = data.get
    try:
        oid = data["id"]
        probability = data["probability"]
        created = data["created_at"]
        updated = data["updated_at"]
        value = data["value"]
        name = data["name"]
    except KeyError:
        return _record(data, timezone, campaigns)
    campaign_id = get("campaign_id")
    closed = get("closed_at")
    signature = (
        oid.__class__,
        probability.__class__,
        campaign_id.__class__,
        created.__class__,
        updated.__class__,
        closed.__class__,
    )
    if signature not in _QUICK_SIGNATURES:
        return _record(data, timezone, campaigns)
    try:
        created = _fromiso(created)
        updated = _fromiso(updated)
        closed = _fromiso(closed) if closed is not None else None
    except ValueError:  # "0000-00-00 00:00:00", "" or garbage: the careful path decides
        return _record(data, timezone, campaigns)
    cls = value.__class__
    if cls is int:
        value = Decimal(value)
    elif cls is float:
        value = Decimal(repr(value))
    elif cls is not Decimal or not value.is_finite():
        return _record(data, timezone, campaigns)
    if name.__class__ is not str or not name or "&" in name:
        name = _text(name)
    kind = get("type")
    if kind.__class__ is not str or not kind or "&" in kind:
        kind = _text(kind)
    stage = get("stage")
    if stage.__class__ is not str or not stage or "&" in stage:
        stage = _text(stage)
    status = get("status")
    if status.__class__ is not str or not status or "&" in status:
        status = _text(status)
    raw = get("campaign")
    campaign = None
    if raw is not None:
        if raw.__class__ is not dict:
            return _record(data, timezone, campaigns)
        key = (raw.get("id"), raw.get("name"))
        campaign = campaigns.get(key)
        if campaign is None:
            if len(raw) != 2 or key[0].__class__ is not int:
                return _record(data, timezone, campaigns)
            campaign = campaigns[key] = build_campaign(key[0], _text(key[1]), _EMPTY)
    raw = get("prospects")
    prospects: tuple[Prospect, ...] = ()
    if raw is not None:
        if raw.__class__ is not dict or len(raw) != 1:
            return _record(data, timezone, campaigns)
        raw = raw.get("prospect")
        items = (raw,) if raw.__class__ is dict else raw
        if items.__class__ is not list and items.__class__ is not tuple:
            return _record(data, timezone, campaigns)
        built = []
        for item in items:
            if item.__class__ is not dict or not item.keys() <= _PROSPECT_KEYS:
                return _record(data, timezone, campaigns)
            item_get = item.get
            pid = item_get("id")
            if pid.__class__ is not int:
                return _record(data, timezone, campaigns)
            email = item_get("email")
            if email.__class__ is not str or not email or "&" in email:
                email = _text(email)
            first = item_get("first_name")
            if first.__class__ is not str or not first or "&" in first:
                first = _text(first)
            last = item_get("last_name")
            if last.__class__ is not str or not last or "&" in last:
                last = _text(last)
            company = item_get("company")
            if company.__class__ is not str or not company or "&" in company:
                company = _text(company)
            built.append(build_prospect(pid, email, first, last, company, _EMPTY))
        prospects = tuple(built)
    if timezone is not None:
        created = created.replace(tzinfo=timezone)
        updated = updated.replace(tzinfo=timezone)
        closed = closed.replace(tzinfo=timezone) if closed is not None else None
    if campaign_id is None and campaign is not None:
        campaign_id = campaign.id
    return build_opportunity(
        oid,
        name,
        value,
        probability,
        kind,
        stage,
        status,
        campaign_id,
        campaign,
        closed,
        created,
        updated,
        prospects,
        (),
        _EMPTY,
    )


def opportunity_from_wire(data: Mapping[str, Any], *, timezone: tzinfo | None = None) -> Opportunity:
    """One wire record (a decoded JSON object or XML element) -> :class:`~aeopp.models.Opportunity`.

    Raises ValueError (or TypeError) for a record that can't be an opportunity; the ``parse_*``
    functions turn those into :class:`~aeopp.errors.ProtocolError`.
    """
    if not isinstance(data, Mapping):
        raise _BadData(f"opportunity of type {type(data).__name__}")
    return _opportunity(data if data.__class__ is dict else dict(data), timezone, None)


def _opportunity(
    data: dict[str, Any], timezone: tzinfo | None, campaigns: dict[tuple[Any, Any], Campaign] | None
) -> Opportunity:
    """The body of :func:`opportunity_from_wire`; ``campaigns`` shares equal campaigns within a page."""
    get = data.get
    oid = get("id")
    if oid.__class__ is not int:
        oid = _int(oid)
        if oid is None:
            raise _BadData("opportunity without an id")
    name = get("name")
    if name.__class__ is not str or not name or "&" in name:
        name = _text(name)
    value = get("value")
    value = _decimal(value) if value.__class__ is not Decimal or not value.is_finite() else value
    probability = get("probability")
    if probability.__class__ is not int:
        probability = _int(probability)
    kind = get("type")
    if kind.__class__ is not str or not kind or "&" in kind:
        kind = _text(kind)
    stage = get("stage")
    if stage.__class__ is not str or not stage or "&" in stage:
        stage = _text(stage)
    status = get("status")
    if status.__class__ is not str or not status or "&" in status:
        status = _text(status)

    raw = get("campaign")
    campaign: Campaign | None = None
    if raw:
        if campaigns is not None and raw.__class__ is dict and len(raw) == 2:
            key = (raw.get("id"), raw.get("name"))
            campaign = campaigns.get(key) if key[1].__class__ is str else None
            if campaign is None:
                campaign = _campaign(raw)
                if campaign is not None and key[1].__class__ is str:
                    campaigns[key] = campaign
        else:
            campaign = _campaign(raw)
    campaign_id = get("campaign_id")
    if campaign_id.__class__ is not int:
        campaign_id = _int(campaign_id)
        if campaign_id is None and campaign is not None:
            campaign_id = campaign.id

    closed = get("closed_at")
    created = get("created_at")
    updated = get("updated_at")
    if timezone is None and created.__class__ is str and created[:1] in "12" and created:
        created = _fromiso(created)
    else:
        created = _when(created, timezone)
    if timezone is None and updated.__class__ is str and updated[:1] in "12" and updated:
        updated = _fromiso(updated)
    else:
        updated = _when(updated, timezone)
    closed = _when(closed, timezone) if closed else None

    raw = get("prospects")
    if not raw:
        prospects: tuple[Prospect, ...] = ()
    elif raw.__class__ is dict and len(raw) == 1 and "prospect" in raw:
        raw = raw["prospect"]
        if raw.__class__ is dict:
            prospects = (_prospect(raw),)
        else:
            prospects = tuple([_prospect(item) for item in _as_list(raw)])
    else:
        prospects = tuple([_prospect(item) for item in _nested(raw, "prospect")])
    raw = get("opportunity_activities")
    activities = (
        tuple([_activity(item, timezone) for item in _nested(raw, "visitor_activity")]) if raw else ()
    )
    extra = {} if _OPPORTUNITY_KEYS.issuperset(data) else _extra(data, _OPPORTUNITY_KEYS)
    return build_opportunity(
        oid,
        name,
        value,
        probability,
        kind,
        stage,
        status,
        campaign_id,
        campaign,
        closed,
        created,
        updated,
        prospects,
        activities,
        extra,
    )
