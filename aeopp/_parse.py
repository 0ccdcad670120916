"""Sans-I/O parsing: an HTTP answer ``(status, headers, body)`` -> aeopp models or a typed error.

Pure: imports neither aiohttp nor anyio. The envelope is decoded by ``_envelope`` (failure envelopes
raise the typed error for their code, on any HTTP status); the records inside are built by one
table-driven builder (``_records``) from the object's spec, the same way for XML and JSON. Every quirk
of the v3/v4 wire is normalised: one record as an object, zero records as a missing key, ``null``,
``""`` or an empty element, numeric-looking strings sent as numbers, HTML entities inside values,
``0000-00-00`` dates. A record that can't be a model raises :class:`~aeopp.errors.ProtocolError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import tzinfo
from typing import Any, TypeVar

import attrs

from . import _envelope
from ._convert import BadData, integer
from ._envelope import MAX_XML_DEPTH, protocol_error
from ._records import RecordBuilder, as_list, list_tags
from ._spec import OPPORTUNITY, ObjectSpec
from .errors import ProtocolError
from .models import Opportunity, Page

__all__ = [
    "MAX_XML_DEPTH",
    "LoginResult",
    "decode_envelope",
    "opportunity_from_wire",
    "parse_empty",
    "parse_login",
    "parse_opportunity",
    "parse_page",
    "parse_record",
]

R = TypeVar("R")

# Errors that malformed data can raise while models are built; all become ProtocolError.
_DATA_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError, ArithmeticError, RecursionError)
_API_KEY = re.compile(rb"(api_key\W{0,4})[^\"<\s,}]+", re.IGNORECASE)


@attrs.frozen
class _Parser:
    """What parsing one object's answers needs, made once per spec: a record builder per time zone."""

    spec: ObjectSpec[Any]
    list_tags: tuple[str, ...]
    builders: dict[tzinfo | None, RecordBuilder[Any]] = attrs.field(factory=dict)

    def builder(self, timezone: tzinfo | None) -> RecordBuilder[Any]:
        builder = self.builders.get(timezone)
        if builder is None:
            if len(self.builders) > 16:
                self.builders.clear()
            builder = self.builders[timezone] = RecordBuilder(self.spec.record, timezone)
        return builder


_PARSERS: dict[int, _Parser] = {}


def _parser(spec: ObjectSpec[Any]) -> _Parser:
    parser = _PARSERS.get(id(spec))
    if parser is None or parser.spec is not spec:
        parser = _PARSERS[id(spec)] = _Parser(spec, list_tags(spec.record, spec.name))
    return parser


def decode_envelope(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    max_bytes: int | None = None,
    spec: ObjectSpec[Any] = OPPORTUNITY,
) -> dict[str, Any]:
    """The content of a success envelope (XML collections of ``spec``'s records always as lists);
    see :func:`aeopp._envelope.decode_envelope`."""
    return _envelope.decode_envelope(
        status, headers, body, max_bytes=max_bytes, list_tags=_parser(spec).list_tags
    )


@attrs.frozen
class LoginResult:
    """The answer to a legacy ``/api/login``: the API key and, for AMPSEA accounts, the version (4)."""

    api_key: str = attrs.field(repr=False)
    version: int | None


def parse_record(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    spec: ObjectSpec[R],
    timezone: tzinfo | None = None,
    max_bytes: int | None = None,
    expected_id: int | None = None,
) -> R:
    """The one record in a read, create or update answer of ``spec``'s object.

    With ``expected_id``, an answer about another record is a :class:`ProtocolError`.
    """
    parser = _parser(spec)
    content = decode_envelope(status, headers, body, max_bytes=max_bytes, spec=spec)
    records = as_list(content.get(spec.name))
    if len(records) != 1:
        protocol_error(f"expected one {spec.name} in the answer, got {len(records)}", status, body)
    try:
        record: R = parser.builder(timezone)(records[0])
    except _DATA_ERRORS as exc:
        protocol_error(f"malformed {spec.name}: {_describe(exc)}", status, body)
    _check_id(spec, expected_id, getattr(record, "id", None), status, body)
    return record


def _check_id(spec: ObjectSpec[Any], expected: int | None, got: object, status: int, body: bytes) -> None:
    if expected is not None and got != expected:
        protocol_error(
            f"asked about {spec.name} {expected}, the answer is about {spec.name} {got}", status, body
        )


def parse_opportunity(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    timezone: tzinfo | None = None,
    max_bytes: int | None = None,
    expected_id: int | None = None,
) -> Opportunity:
    """The opportunity in a read, create or update answer (about ``expected_id``, when given)."""
    return parse_record(
        status,
        headers,
        body,
        spec=OPPORTUNITY,
        timezone=timezone,
        max_bytes=max_bytes,
        expected_id=expected_id,
    )


def parse_page(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    timezone: tzinfo | None = None,
    max_bytes: int | None = None,
    spec: ObjectSpec[Any] = OPPORTUNITY,
) -> Page[Any]:
    """One page of a query answer; ``total_results`` is None when absent (``output=bulk``)."""
    parser = _parser(spec)
    content = decode_envelope(status, headers, body, max_bytes=max_bytes, spec=spec)
    if "result" in content:
        result = content["result"]
    elif spec.name in content:
        result = content  # tolerate records straight under the envelope
    else:
        protocol_error("query answer without a result", status, body)
    if not result:  # null, "" or an empty element: zero records
        return Page(total_results=None)
    if not isinstance(result, dict):
        protocol_error("query result is not an object", status, body)
    try:
        total = integer(result.get("total_results"))
        build = parser.builder(timezone)
        records = tuple([build(item) for item in as_list(result.get(spec.name))])
    except _DATA_ERRORS as exc:
        protocol_error(f"malformed query result: {_describe(exc)}", status, body)
    return Page(total, records)


def parse_empty(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    max_bytes: int | None = None,
    expected_id: int | None = None,
    spec: ObjectSpec[Any] = OPPORTUNITY,
) -> None:
    """Check a delete or undelete answer: an empty 2xx body or a ``stat="ok"`` envelope is success
    (one naming another record than ``expected_id`` is a :class:`ProtocolError`)."""
    if not body.strip() and 200 <= status < 300:
        return
    content = decode_envelope(status, headers, body, max_bytes=max_bytes, spec=spec)
    for record in as_list(content.get(spec.name)):
        got = integer(record.get("id")) if isinstance(record, dict) else None
        _check_id(spec, expected_id, got, status, body)


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
        version = integer(content.get("version"))
    except _DATA_ERRORS:
        raise ProtocolError(
            "login answer with a malformed version", http_status=status, body=_redact(body)
        ) from None
    return LoginResult(api_key=api_key.strip(), version=version)


def opportunity_from_wire(data: Mapping[str, Any], *, timezone: tzinfo | None = None) -> Opportunity:
    """One wire record (a decoded JSON object or XML element) -> :class:`~aeopp.models.Opportunity`.

    Raises ValueError (or TypeError) for a record that can't be an opportunity; the ``parse_*``
    functions turn those into :class:`~aeopp.errors.ProtocolError`.
    """
    if not isinstance(data, Mapping):
        raise BadData(f"opportunity of type {type(data).__name__}")
    record: Opportunity = _parser(OPPORTUNITY).builder(timezone)(dict(data))
    return record


def _redact(body: bytes) -> bytes:
    return _API_KEY.sub(rb"\1<redacted>", body[:400])


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__
