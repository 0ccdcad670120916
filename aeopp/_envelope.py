"""Sans-I/O envelopes: the bytes of an HTTP answer -> the content of a Pardot success envelope.

Pure: imports neither aiohttp nor anyio. A failure envelope (``stat="fail"``, on any HTTP status)
raises the typed :class:`~aeopp.errors.PardotError` for its code; anything that is neither a success
nor a failure envelope (HTML error pages, truncated or hostile bodies) raises
:class:`~aeopp.errors.ProtocolError`, never a ``KeyError`` or an ``ExpatError``. XML is refused
before any expansion when it declares a DOCTYPE or entities, and when it nests too deep. Answers in
another encoding than UTF-8 (UTF-16 or UTF-32, by byte order mark or by their NUL bytes; XML declaring
another encoding) are refused too.

Two sets of parsers give the same dicts, the same models and the same errors: ``base`` (``json``,
``xmltodict`` over a guarded expat: always there) and ``speedups`` (msgspec and lxml, with
``pip install 'aeopp[speedups]'``). The faster ones take only what they decode exactly as the base
ones do and leave the rest to them (:mod:`aeopp._lxml`, :func:`_msgspec_json`). Which set is used:
``speedups`` when installed, unless the environment variable ``AEOPP_PARSER`` says ``base`` (or
``speedups``, to insist).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, NoReturn
from xml.parsers import expat

import attrs
import xmltodict  # type: ignore[import-untyped,unused-ignore]

from ._constants import ERROR_MESSAGES
from ._convert import unescape
from .errors import ProtocolError, error_for_code

__all__ = [
    "MAX_XML_DEPTH",
    "PARSER_ENV",
    "Parsers",
    "available_parsers",
    "decode_envelope",
    "parse_in_thread",
    "parsers",
    "protocol_error",
    "use_parsers",
]

#: Deepest XML nesting accepted; real answers go 6 deep (rsp/result/opportunity/prospects/prospect/id).
MAX_XML_DEPTH = 32

_CODE_BY_MESSAGE = {message: code for code, message in ERROR_MESSAGES.items()}
_LEADING_SPACE = b" \t\r\n\xef\xbb\xbf"  # whitespace and the UTF-8 byte order mark
_WIDE_BOMS = (b"\x00\x00\xfe\xff", b"\xff\xfe", b"\xfe\xff")  # UTF-32 BE, UTF-16 LE (and 32 LE), 16 BE
_DECLARED_ENCODING = re.compile(
    rb"(?:\xef\xbb\xbf)?[ \t\r\n]*<\?xml[ \t\r\n][^>]*?encoding[ \t\r\n]*=[ \t\r\n]*[\"']([^\"'>]*)"
)


# -- parser sets --------------------------------------------------------------------------------

#: The environment variable that picks the parsers: ``base``, ``speedups`` or ``auto`` (the default).
PARSER_ENV = "AEOPP_PARSER"

#: Parse in a worker thread when the parse should take at least this long (microseconds).
_THREAD_FROM_US = 1000


@attrs.frozen
class Parsers:
    """A set of parsers: a JSON decoder and an XML-to-dict function that may decline (None).

    ``json`` raises ValueError (or RecursionError) for what it won't decode; the standard library's
    ``json.loads`` then decides. ``xml`` returns None for what it won't decode; the guarded
    ``xmltodict`` then decides. ``json_cost`` and ``xml_cost``: what ``parse_page`` costs with them,
    in microseconds of CPU per KiB of answer (the tight loop of benchmarks/run.py, section walk).
    """

    name: str
    json: Callable[[bytes], Any] | None = None
    xml: Callable[[bytes, Collection[str], int], dict[str, Any] | None] | None = None
    json_cost: float = 24.0
    xml_cost: float = 91.0


BASE = Parsers("base")


def _speedups() -> Parsers | None:
    """The speedups extra's parsers, from whichever of msgspec and lxml is importable."""
    fast_json: Callable[[bytes], Any] | None = None
    fast_xml: Callable[[bytes, Collection[str], int], dict[str, Any] | None] | None = None
    try:
        import msgspec
    except ImportError:
        pass
    else:
        fast_json = msgspec.json.Decoder(float_hook=Decimal).decode
    try:
        from ._lxml import xml_to_dict
    except ImportError:
        pass
    else:
        fast_xml = xml_to_dict
    if fast_json is None and fast_xml is None:
        return None
    return Parsers(
        "speedups",
        fast_json,
        fast_xml,
        json_cost=BASE.json_cost if fast_json is None else 20.0,
        xml_cost=BASE.xml_cost if fast_xml is None else 40.0,
    )


def available_parsers() -> dict[str, Parsers]:
    """Every set of parsers this installation has, by name (``base`` always)."""
    found = {"base": BASE}
    fast = _speedups()
    if fast is not None:
        found["speedups"] = fast
    return found


def _chosen(setting: str) -> Parsers:
    choice = setting.strip().lower() or "auto"
    if choice not in ("auto", "base", "speedups"):
        raise ValueError(f"{PARSER_ENV} must be auto, base or speedups, not {setting!r}")
    if choice == "base":
        return BASE
    fast = _speedups()
    if fast is None and choice == "speedups":
        raise ImportError(f"{PARSER_ENV}=speedups, but neither msgspec nor lxml is installed: "
                          "pip install 'aeopp[speedups]'")  # fmt: skip
    return fast or BASE


_active: Parsers = _chosen(os.environ.get(PARSER_ENV, ""))


def parsers() -> Parsers:
    """The parsers in use."""
    return _active


@contextmanager
def use_parsers(which: str | Parsers) -> Iterator[Parsers]:
    """Use another set of parsers (by name or itself) inside the ``with`` block: for tests and benchmarks."""
    global _active
    chosen = which if isinstance(which, Parsers) else available_parsers()[which]
    previous, _active = _active, chosen
    try:
        yield chosen
    finally:
        _active = previous


def parse_in_thread(body: bytes, wire_format: str) -> bool:
    """Whether to parse ``body`` in a worker thread: when the parsers in use should take 1 ms or more.

    Measured on warm walks of 200-record pages at 5 in flight (benchmarks/run.py, section walk), a
    worker thread shortens the walk with every parser: most with lxml, whose C parse releases the
    GIL, but also with those that hold it (json, msgspec, xmltodict's expat callbacks), because the
    event loop sends the next requests before the thread gets the GIL. For a small answer (a read)
    the hop to the thread costs more than the parse.
    """
    cost = _active.xml_cost if wire_format == "xml" else _active.json_cost
    return len(body) * cost >= _THREAD_FROM_US * 1024


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
    if body.startswith(_WIDE_BOMS) or b"\x00" in body[:4]:
        protocol_error("answer in UTF-16 or UTF-32 refused: aeopp reads UTF-8 answers only", status, body)
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
    data: Any = None
    fast = _active.json
    if fast is not None:
        try:
            data = fast(body)
        except Exception:  # msgspec's errors (MsgspecError, a ValueError only in later versions), any
            data = None  # other: json.loads decides (it takes a few things msgspec refuses)
    if data is None:
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
    declared = _DECLARED_ENCODING.match(body)
    if declared is not None and declared.group(1).lower() != b"utf-8":
        encoding = declared.group(1).decode("ascii", "replace")
        message = f"XML declaring encoding {encoding!r} refused: aeopp reads UTF-8 answers only"
        protocol_error(message, status, body)
    data: Any = None
    fast = _active.xml
    if fast is not None:
        data = fast(body, list_tags, MAX_XML_DEPTH)
    if data is None:
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


def _too_deep() -> NoReturn:
    raise _HostileXML(f"XML nested deeper than {MAX_XML_DEPTH} levels refused")


def _guard_start(start: Callable[[str, Any], None], depth: list[int]) -> Callable[[str, Any], None]:
    def guarded(name: str, attributes: Any) -> None:
        level = depth[0] = depth[0] + 1
        if level > MAX_XML_DEPTH:
            _too_deep()
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
