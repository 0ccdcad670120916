"""Every set of parsers installed gives the same models and the same errors, on every kind of answer.

The ``base`` parsers (json, xmltodict over the guarded expat) are the reference; the ``speedups`` ones
(msgspec, lxml: ``pip install 'aeopp[speedups]'``) run where installed (``make unit``) and are skipped,
with the reason, where not (``make unit-base``). "The same" is exact: the same classes, the same field
values with their types (``Decimal("1.50")`` is not ``Decimal("1.5")``), the same ``extra`` in the same
order; for errors the same class and the same message.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_parse_errors import BAD_RECORDS, EXPECTED, HOSTILE, NOT_ENVELOPES

from aeopp import _envelope
from aeopp._parse import decode_envelope, parse_empty, parse_login, parse_opportunity, parse_page
from aeopp.errors import AeoppError
from aeopp.testing._data import generate
from aeopp.testing._render import Renderer, error_body
from aeopp.testing._store import OpportunityStore

SAMPLES = Path(__file__).parent / "samples"
AVAILABLE = _envelope.available_parsers()
FAST = sorted(set(AVAILABLE) - {"base"})
needs_speedups = pytest.mark.skipif(
    not FAST, reason="the speedups extra (lxml, msgspec) is not installed in this environment"
)
XML = {"Content-Type": "text/xml"}
JSON = {"Content-Type": "application/json"}
Parse = Callable[..., Any]
EVERY_PARSE: list[Parse] = [parse_page, parse_opportunity, parse_empty, parse_login, decode_envelope]


def test_the_environment_has_the_parsers_it_should() -> None:
    """``make`` says which sets each environment must have, so a failed install can't pass as a skip."""
    expected = os.environ.get("AEOPP_EXPECT_PARSERS")
    if expected is None:
        pytest.skip("AEOPP_EXPECT_PARSERS is not set (make unit and make unit-base set it)")
    assert sorted(AVAILABLE) == sorted(expected.split(","))


# -- exact comparison ---------------------------------------------------------------------------


def exact(value: Any) -> Any:
    """``value`` as nested tuples that differ wherever two values are not the very same data."""
    if attrs.has(type(value)):
        return (
            type(value).__name__,
            tuple((f.name, exact(getattr(value, f.name))) for f in attrs.fields(type(value))),
        )
    if isinstance(value, dict):
        return ("dict", tuple((exact(k), exact(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(exact(v) for v in value))
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), repr(value.tzinfo))
    return (type(value).__name__, repr(value))


def outcome(parse: Parse, status: int, headers: dict[str, str], body: bytes, **options: Any) -> Any:
    try:
        return ("ok", exact(parse(status, headers, body, **options)))
    except AeoppError as exc:
        return ("error", type(exc).__name__, str(exc), getattr(exc, "code", None))


def assert_same(parse: Parse, status: int, headers: dict[str, str], body: bytes, **options: Any) -> Any:
    """Every installed set of parsers gives ``base``'s outcome; returns it."""
    with _envelope.use_parsers("base"):
        expected = outcome(parse, status, headers, body, **options)
    for name in FAST:
        with _envelope.use_parsers(name):
            got = outcome(parse, status, headers, body, **options)
        assert got == expected, f"{name} differs from base ({parse.__name__}, {body[:120]!r})"
    return expected


# -- recorded answers ---------------------------------------------------------------------------


@needs_speedups
@pytest.mark.parametrize(
    "path", sorted(p for p in SAMPLES.iterdir() if p.suffix in (".xml", ".json")), ids=str
)
@pytest.mark.parametrize("parse", EVERY_PARSE)
def test_recorded_samples(path: Path, parse: Parse) -> None:
    body = path.read_bytes()
    assert_same(parse, 200, XML if path.suffix == ".xml" else JSON, body)
    if parse in (parse_page, parse_opportunity):
        assert_same(parse, 200, {}, body, timezone=ZoneInfo("America/New_York"))


# -- the simulator's answers --------------------------------------------------------------------


def _store(seed: int, n: int = 400) -> OpportunityStore:
    return OpportunityStore(*generate(n, seed))


def simulated_pages(seed: int) -> Iterator[tuple[str, str, bytes]]:
    """(label, format, body) of query and read answers from one seed: every output, escaped or not,
    empty, one-record, two-record and 200-record pages, reads with activities."""
    store = _store(seed)
    records = [store.get(i) for i in store.ids()]
    renderer = Renderer(store)
    for escape in (True, False):
        renderer.configure("America/Chicago" if seed % 2 else "UTC", escape)
        for fmt in ("json", "xml"):
            for output in ("full", "simple", "mobile", "bulk"):
                for size in (0, 1, 2, 200):
                    total = None if output == "bulk" else len(records)
                    page = renderer.page(records[seed : seed + size], total, fmt, output)
                    yield f"{fmt} {output} {size} escape={escape}", fmt, page.encode()
            for record in records[:3]:
                yield f"{fmt} read {record.id}", fmt, renderer.single(record, fmt, "full", True).encode()


@needs_speedups
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 5, 8, 13, 21, 42, 99])
def test_simulated_answers(seed: int) -> None:
    for label, fmt, body in simulated_pages(seed):
        headers = JSON if fmt == "json" else XML
        kind = "read" if " read " in label else "page"
        parse = parse_opportunity if kind == "read" else parse_page
        result = assert_same(parse, 200, headers, body)
        assert result[0] == "ok", label
        assert_same(decode_envelope, 200, headers, body)
        if seed % 3 == 0:
            assert_same(parse, 200, headers, body, timezone=ZoneInfo("Europe/Paris"))


@needs_speedups
@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_failure_envelopes(fmt: str, code: int) -> None:
    body = error_body(code, fmt).encode()
    for parse in EVERY_PARSE:
        for status in (200, 400):
            result = assert_same(parse, status, {}, body)
            assert result[0] == "error"


# -- hostile and broken answers -----------------------------------------------------------------

PAGE_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<rsp stat="ok" version="1.0">\n<result>'
    b"<total_results>2</total_results><opportunity><id>1</id><name>A &amp;amp; B</name>"
    b"<value>1.50</value><campaign><id>3</id><name>C</name></campaign><prospects><prospect><id>4</id>"
    b"</prospect></prospects></opportunity><opportunity><id>2</id><value/><prospects/></opportunity>"
    b"</result>\n</rsp>\n"
)
PAGE_JSON = (
    b'{"@attributes":{"stat":"ok","version":1},"result":{"total_results":2,"opportunity":[{"id":1,'
    b'"name":"A &amp; B","value":1.50,"campaign":{"id":3,"name":"C"},"prospects":{"prospect":{"id":4}}},'
    b'{"id":2,"value":null,"prospects":null}]}}'
)


def _xml(old: bytes, new: bytes) -> bytes:
    assert old in PAGE_XML
    return PAGE_XML.replace(old, new, 1)


ODD = {
    # encodings: refused the same way everywhere
    "xml utf-16 bom": PAGE_XML.decode().encode("utf-16"),
    "xml utf-16 be bom": b"\xfe\xff" + PAGE_XML.decode().encode("utf-16-be"),
    "xml utf-32 bom": PAGE_XML.decode().encode("utf-32"),
    "xml utf-16 no bom": PAGE_XML.decode().encode("utf-16-le"),
    "xml declared utf-16": _xml(b"UTF-8", b"UTF-16"),
    "xml declared latin-1": _xml(b"UTF-8", b"ISO-8859-1") + b"<!-- \xe9 -->",
    "xml declared utf8": _xml(b"UTF-8", b"utf8"),
    "xml declared lower case": _xml(b"UTF-8", b"utf-8"),
    "xml no declaration": PAGE_XML.split(b"?>", 1)[1],
    "xml declaration no encoding": _xml(b' encoding="UTF-8"', b""),
    "xml standalone": _xml(b'"UTF-8"', b"'UTF-8' standalone='yes'"),
    "xml version 1.1": _xml(b'version="1.0" encoding', b'version="1.1" encoding'),
    "xml utf-8 bom": b"\xef\xbb\xbf" + PAGE_XML,
    "xml leading space": b"  \n" + PAGE_XML,
    "json utf-16 bom": PAGE_JSON.decode().encode("utf-16"),
    "json utf-16 no bom": PAGE_JSON.decode().encode("utf-16-le"),
    "json utf-32": PAGE_JSON.decode().encode("utf-32-be"),
    "json utf-8 bom": b"\xef\xbb\xbf" + PAGE_JSON,
    # what the fast XML path leaves to expat, and what it must decode exactly
    "xml comment": _xml(b"<id>1</id>", b"<id>1<!-- x --></id>"),
    "xml comment in prolog": _xml(b"\n<rsp", b"<!-- x -->\n<rsp"),
    "xml comment after root": PAGE_XML + b"<!-- x -->",
    "xml processing instruction": _xml(b"<id>1</id>", b"<id>1<?pi x?></id>"),
    "xml cdata": _xml(b"<name>C</name>", b"<name><![CDATA[<C> & D]]></name>"),
    "xml attribute below root": _xml(b"<id>1</id>", b'<id kind="x">1</id>'),
    "xml attribute spaced": _xml(b"<id>1</id>", b"<id kind = 'x' >1</id>"),
    "xml text looking like an attribute": _xml(b"<name>C</name>", b"<name>a=b c= 'd'</name>"),
    "xml namespace": _xml(b"<rsp ", b'<rsp xmlns:p="urn:x" '),
    "xml prefixed name": _xml(b"<id>1</id>", b"<p:id>1</p:id>"),
    "xml default namespace below": _xml(b"<campaign>", b'<campaign xmlns="urn:y">'),
    "xml mixed content": _xml(b"<id>1</id><name>A", b"loose<id>1</id> more <name>A"),
    "xml whitespace everywhere": PAGE_XML.replace(b"><", b">\n  \t<"),
    "xml unicode spaces": _xml(b"<name>C</name>", b"<name>\xc2\xa0C\xe2\x80\x83</name>"),
    "xml nel only": _xml(b"<name>C</name>", b"<name>\xc2\x85</name>"),
    "xml character references": _xml(
        b"<name>C</name>", b"<name>&#233;&#x1F600;&lt;&gt;&amp;&quot;&apos;</name>"
    ),
    "xml crlf": _xml(b"<name>C</name>", b"<name>a\r\nb\rc</name>"),
    "xml repeated element": _xml(b"<id>1</id>", b"<id>1</id><id>5</id>"),
    "xml repeated nested": _xml(
        b"<campaign><id>3</id><name>C</name></campaign>", b"<campaign><id>3</id></campaign>" * 3
    ),
    "xml unknown fields": _xml(b"<id>1</id>", b"<id>1</id><new_field>x</new_field><tree><a>1</a><a/></tree>"),
    "xml empty root": b'<?xml version="1.0"?><rsp stat="ok" version="1.0"/>',
    "xml root text": b'<rsp stat="ok" version="1.0"> hi </rsp>',
    "xml root text and child": b'<rsp stat="ok" version="1.0"> hi <result/></rsp>',
    "xml root no attributes": b"<rsp><result/></rsp>",
    "xml record root": b"<opportunity><id>1</id></opportunity>",
    "xml undefined entity": _xml(b"<name>C</name>", b"<name>&nbsp;</name>"),
    "xml invalid char reference": _xml(b"<name>C</name>", b"<name>&#0;</name>"),
    "xml non-character": _xml(b"<name>C</name>", b"<name>\xef\xbf\xbe</name>"),
    "xml encoded surrogate": _xml(b"<name>C</name>", b"<name>\xed\xa0\x80</name>"),
    "xml control char": _xml(b"<name>C</name>", b"<name>\x01</name>"),
    "xml cdata end in text": _xml(b"<name>C</name>", b"<name>]]></name>"),
    "xml mismatched tags": _xml(b"</name></campaign>", b"</nam></campaign>"),
    "xml doctype below root": _xml(b"<result>", b"<result><!DOCTYPE x>"),
    "xml trailing garbage": PAGE_XML + b"x",
    "xml trailing nul": PAGE_XML + b"\x00",
    "xml two roots": PAGE_XML + b"<rsp/>",
    "xml depth 32": b'<rsp stat="ok">' + b"<a>" * 31 + b"x" + b"</a>" * 31 + b"</rsp>",
    "xml depth 33": b'<rsp stat="ok">' + b"<a>" * 32 + b"x" + b"</a>" * 32 + b"</rsp>",
    "xml depth 33 then malformed": b'<rsp stat="ok">' + b"<a>" * 32 + b"x</b>",
    "xml depth 300": b'<rsp stat="ok">' + b"<a>" * 300 + b"</a>" * 300 + b"</rsp>",
    "xml non-ascii names": _xml(b"<id>1</id>", "<id>1</id><naïve>é</naïve><a\u0300>1</a\u0300>".encode()),
    "xml invalid name": _xml(b"<id>1</id>", "<id>1</id><\u00b7a>1</\u00b7a>".encode()),
    "json nan": PAGE_JSON.replace(b"1.50", b"NaN"),
    "json infinity": PAGE_JSON.replace(b"1.50", b"-Infinity"),
    "json lone surrogate": PAGE_JSON.replace(b'"C"', b'"\\udc00"'),
    "json encoded surrogate": PAGE_JSON.replace(b'"C"', b'"\xed\xa0\x80"'),
    "json big numbers": PAGE_JSON.replace(b"1.50", b"123456789012345678901234567890.123456789012345678901"),
    "json exponent": PAGE_JSON.replace(b"1.50", b"1.5E+3"),
    "json negative zero": PAGE_JSON.replace(b"1.50", b"-0.0"),
    "json big int id": PAGE_JSON.replace(b'"id":2', b'"id":123456789012345678901234567890'),
    "json duplicate keys": PAGE_JSON.replace(b'"id":2', b'"id":2,"id":7,"name":"x","name":"y"'),
    "json trailing garbage": PAGE_JSON + b"x",
    "json trailing space": PAGE_JSON + b" \n\t\r",
    "json control char": PAGE_JSON.replace(b'"C"', b'"\x01"'),
    "json escaped nul": PAGE_JSON.replace(b'"C"', b'"\\u0000"'),
    "json deep": b'{"@attributes":{"stat":"ok"},"x":' + b"[" * 5000 + b"]" * 5000 + b"}",
    "json float id": PAGE_JSON.replace(b'"id":2', b'"id":2.0'),
    "json bool value": PAGE_JSON.replace(b"1.50", b"true"),
    "json null page": b'{"@attributes":{"stat":"ok","version":1},"result":null}',
}


@needs_speedups
@pytest.mark.parametrize("case", sorted(ODD))
@pytest.mark.parametrize("parse", EVERY_PARSE)
def test_odd_answers(case: str, parse: Parse) -> None:
    for headers in ({}, XML, JSON):
        assert_same(parse, 200, headers, ODD[case])


@needs_speedups
@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("parse", [parse_page, parse_opportunity, decode_envelope])
def test_hostile_xml(case: str, parse: Parse) -> None:
    result = assert_same(parse, 200, XML, HOSTILE[case])
    assert result[0] == "error"


@needs_speedups
@pytest.mark.parametrize("case", sorted(NOT_ENVELOPES))
@pytest.mark.parametrize("parse", EVERY_PARSE)
def test_not_envelopes(case: str, parse: Parse) -> None:
    assert_same(parse, *NOT_ENVELOPES[case])


@needs_speedups
@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_bad_records(case: str) -> None:
    assert_same(parse_opportunity, 200, {}, BAD_RECORDS[case])
    assert_same(parse_page, 200, {}, BAD_RECORDS[case])


# -- generated documents ------------------------------------------------------------------------

_PIECES = [*"ab &<>'\"=;#x0123456789\t\n\r \u00a0\u0085\u2003é\U0001f600]"]
_PIECES += ["&amp;", "&lt;", "&#65;", "&#x42;", "&nbsp;", "]]>"]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)
#: Well-formed text (nothing to escape, no "=" and quote): most documents then take lxml's path.
_SAFE = st.lists(
    st.sampled_from([p for p in _PIECES if p not in ("<", "&", "]]>", "&nbsp;", "=")]), max_size=12
)


@st.composite
def xml_text(draw: Any) -> str:
    return str(draw(_TEXT if draw(st.integers(0, 19)) == 0 else _SAFE.map("".join)))


_NAME = st.sampled_from(["id", "name", "value", "prospect", "opportunity", "a", "b", "x-y", "_z", "a.b"])


@st.composite
def xml_nodes(draw: Any, depth: int = 0) -> str:
    name = draw(_NAME)
    names = draw(st.lists(st.sampled_from(["k", "code", "v"]), max_size=2, unique=True))
    if draw(st.integers(0, 5)):  # mostly none: plain documents take lxml's path
        names = []
    attributes = "".join(f' {n}="{draw(xml_text()).replace(chr(34), "")}"' for n in names)
    kind = draw(st.sampled_from(["empty", "text", "children", "mixed"] if depth < 3 else ["empty", "text"]))
    if kind == "empty":
        return f"<{name}{attributes}/>"
    if kind == "text":
        return f"<{name}{attributes}>{draw(xml_text())}</{name}>"
    children = draw(st.lists(xml_nodes(depth + 1), max_size=4))
    if kind == "mixed":
        return (
            f"<{name}{attributes}>{draw(xml_text())}"
            + "".join(c + draw(xml_text()) for c in children)
            + f"</{name}>"
        )
    spacer = draw(st.sampled_from(["", "\n", "  "]))
    return f"<{name}{attributes}>{spacer}" + spacer.join(children) + f"{spacer}</{name}>"


@st.composite
def xml_documents(draw: Any) -> bytes:
    prolog = draw(
        st.sampled_from(["", '<?xml version="1.0" encoding="UTF-8"?>\n', "<?xml version='1.0'?>", "\ufeff"])
    )
    root = draw(st.sampled_from(["rsp", 'rsp stat="ok"', 'rsp stat="ok" version="1.0"', 'rsp stat="fail"']))
    children = draw(st.lists(xml_nodes(1), max_size=5))
    extra = draw(st.sampled_from(["", "", "", "", "<!-- c -->", "<![CDATA[x]]>", "<?p?>", " "]))
    where = draw(st.integers(0, len(children)))
    children.insert(where, extra)
    name = root.split()[0]
    return (prolog + f"<{root}>" + "".join(children) + f"</{name}>").encode()


@needs_speedups
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=xml_documents(), parse=st.sampled_from([decode_envelope, parse_page, parse_opportunity]))
def test_generated_xml(body: bytes, parse: Parse) -> None:
    assert_same(parse, 200, {}, body)


_JSON_SCALAR = st.one_of(
    st.sampled_from(
        [
            "1",
            "-0",
            "1.50",
            "1e5",
            "2E-3",
            "NaN",
            "Infinity",
            "true",
            "null",
            '"x"',
            '"\\u00e9"',
            '"\\ud800"',
            '"a&amp;b"',
            "123456789012345678901234",
            "0.1000000000000000055511151231257827",
        ]
    ),
    _TEXT.map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'),
)


@st.composite
def json_values(draw: Any, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["scalar", "object", "list"] if depth < 3 else ["scalar"]))
    if kind == "scalar":
        return str(draw(_JSON_SCALAR))
    if kind == "list":
        return "[" + ",".join(draw(st.lists(json_values(depth + 1), max_size=3))) + "]"
    keys = draw(
        st.lists(
            st.sampled_from(["id", "name", "value", "prospect", "opportunity", "result", "x"]), max_size=4
        )
    )
    return "{" + ",".join(f'"{k}":{draw(json_values(depth + 1))}' for k in keys) + "}"


@needs_speedups
@settings(max_examples=300, deadline=None)
@given(
    content=json_values(1),
    key=st.sampled_from(["result", "opportunity"]),
    junk=st.sampled_from(["", " ", "x", "\x00", "\ufeff"]),
    parse=st.sampled_from([decode_envelope, parse_page, parse_opportunity]),
)
def test_generated_json(content: str, key: str, junk: str, parse: Parse) -> None:
    body = '{"@attributes":{"stat":"ok","version":1},"' + key + '":' + content + "}"
    assert_same(parse, 200, {}, (body + junk).encode())


# -- the parsers themselves ---------------------------------------------------------------------


def test_base_is_always_there_and_use_parsers_restores() -> None:
    before = _envelope.parsers()
    with _envelope.use_parsers("base") as chosen:
        assert _envelope.parsers() is chosen
        assert chosen.json is None
        assert chosen.xml is None
    assert _envelope.parsers() is before


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("base", "base"), ("BASE ", "base"), ("", None), ("auto", None), ("speedups", "speedups")],
)
def test_the_environment_variable_picks_the_parsers(setting: str, expected: str | None) -> None:
    if expected == "speedups" and not FAST:
        with pytest.raises(ImportError, match="aeopp\\[speedups\\]"):
            _envelope._chosen(setting)
        return
    chosen = _envelope._chosen(setting)
    assert chosen.name == (expected or ("speedups" if FAST else "base"))


def test_a_wrong_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="AEOPP_PARSER must be"):
        _envelope._chosen("fast")


@pytest.mark.parametrize("name", sorted(AVAILABLE))
def test_parse_in_thread_for_pages_not_for_reads(name: str) -> None:
    page, read = b" " * 80_000, b" " * 3_000  # a 200-record page, one record
    with _envelope.use_parsers(name):
        for fmt in ("json", "xml"):
            assert _envelope.parse_in_thread(page, fmt) is True
            assert _envelope.parse_in_thread(read, fmt) is False


def test_parse_in_thread_from_a_millisecond_of_parsing() -> None:
    slow = _envelope.Parsers("slow", json_cost=1000.0, xml_cost=10.0)
    with _envelope.use_parsers(slow):
        assert _envelope.parse_in_thread(b" " * 1024, "json") is True
        assert _envelope.parse_in_thread(b" " * 1023, "json") is False
        assert _envelope.parse_in_thread(b" " * 102_400, "xml") is True
        assert _envelope.parse_in_thread(b" " * 102_399, "xml") is False
