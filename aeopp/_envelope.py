"""Sans-I/O envelopes: the bytes of an HTTP answer -> the content of a Pardot success envelope.

Pure: imports neither aiohttp nor anyio. A failure envelope (``stat="fail"``, on any HTTP status)
raises the typed :class:`~aeopp.errors.PardotError` for its code; anything that is neither a success
nor a failure envelope (HTML error pages, truncated or hostile bodies) raises
:class:`~aeopp.errors.ProtocolError`, never a ``KeyError`` or an ``ExpatError``. XML is refused
before any expansion when it declares a DOCTYPE or entities, and when it nests too deep.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, NoReturn
from xml.parsers import expat

import xmltodict  # type: ignore[import-untyped,unused-ignore]

from ._constants import ERROR_MESSAGES
from ._convert import unescape
from .errors import ProtocolError, error_for_code

__all__ = ["MAX_XML_DEPTH", "decode_envelope", "protocol_error"]

#: Deepest XML nesting accepted; real answers go 6 deep (rsp/result/opportunity/prospects/prospect/id).
MAX_XML_DEPTH = 32

_CODE_BY_MESSAGE = {message: code for code, message in ERROR_MESSAGES.items()}
_LEADING_SPACE = b" \t\r\n\xef\xbb\xbf"  # whitespace and the UTF-8 byte order mark


# -- envelope -----------------------------------------------------------------------------------


def decode_envelope(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    max_bytes: int | None = None,
    list_tags: Iterable[str] = (),
) -> dict[str, Any]:
    """The content of a success envelope as a dict (JSON: minus ``@attributes``; XML: ``<rsp>``'s children).

    Raises the typed :class:`~aeopp.errors.PardotError` for a failure envelope (on any HTTP status) and
    :class:`~aeopp.errors.ProtocolError` for anything else.
    """
    if max_bytes is not None and len(body) > max_bytes:
        protocol_error(f"response larger than {max_bytes} bytes", status, body)
    stripped = body.lstrip(_LEADING_SPACE)
    first = stripped[:1]
    if first == b"{":
        return _decode_json(status, body)
    if first == b"<":
        return _decode_xml(status, body, tuple(list_tags))
    if not stripped:
        protocol_error("empty body where a Pardot envelope was expected", status, body)
    kind = _content_type(headers)
    if "json" in kind:
        return _decode_json(status, body)
    if "xml" in kind:
        return _decode_xml(status, body, tuple(list_tags))
    protocol_error("neither a JSON nor an XML Pardot envelope", status, body)


def _content_type(headers: Mapping[str, str]) -> str:
    value = headers.get("Content-Type") or headers.get("content-type")
    if value is None:
        for key, item in headers.items():
            if key.lower() == "content-type":
                value = item
                break
    return value.lower() if isinstance(value, str) else ""


def protocol_error(message: str, status: int, body: bytes) -> NoReturn:
    """Raise :class:`ProtocolError` about an answer."""
    raise ProtocolError(message, http_status=status, body=body)


def _decode_json(status: int, body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        protocol_error("malformed JSON", status, body)
    if not isinstance(data, dict):
        protocol_error("JSON body is not an object", status, body)
    attributes = data.get("@attributes")
    if not isinstance(attributes, dict):
        protocol_error('JSON body has no "@attributes": not a Pardot envelope', status, body)
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
    protocol_error(f"JSON envelope with stat={stat!r}", status, body)


def _decode_xml(status: int, body: bytes, list_tags: tuple[str, ...]) -> dict[str, Any]:
    try:
        data = xmltodict.parse(body, expat=_GUARDED_EXPAT, disable_entities=True, force_list=list_tags)
    except _HostileXML as exc:
        protocol_error(str(exc), status, body)
    except (expat.ExpatError, ValueError, RecursionError):
        protocol_error("malformed XML", status, body)
    rsp = data.get("rsp") if isinstance(data, dict) else None
    if not isinstance(rsp, dict):
        protocol_error("XML body has no <rsp> root: not a Pardot envelope", status, body)
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
    protocol_error(f"<rsp> with stat={stat!r}", status, body)


def _message_text(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return unescape(text) if "&" in text else text


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
        protocol_error(f"failure envelope without a usable error code ({'; '.join(texts)!r})", status, body)
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
