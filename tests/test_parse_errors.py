"""Parser failures: each Pardot code to its class, each non-envelope to ProtocolError, hostile XML."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aeopp._parse import (
    MAX_XML_DEPTH,
    decode_envelope,
    parse_empty,
    parse_login,
    parse_opportunity,
    parse_page,
)
from aeopp.errors import (
    AuthenticationError,
    ConcurrencyLimitExceeded,
    ConnectorPresent,
    DailyLimitExceeded,
    InvalidProspect,
    OpportunityNotFound,
    PardotError,
    ProspectMismatch,
    ProtocolError,
    ServerBusy,
    VersionMismatch,
)

Parser = Callable[..., Any]
PARSERS: list[Parser] = [parse_page, parse_opportunity, parse_empty, parse_login, decode_envelope]

EXPECTED: dict[int, type[PardotError]] = {
    1: AuthenticationError,
    3: InvalidProspect,
    4: InvalidProspect,
    15: AuthenticationError,
    35: OpportunityNotFound,
    37: ConnectorPresent,
    44: ProspectMismatch,
    49: AuthenticationError,
    59: ConnectorPresent,
    66: ConcurrencyLimitExceeded,
    88: VersionMismatch,
    89: VersionMismatch,
    122: DailyLimitExceeded,
    126: AuthenticationError,
    181: AuthenticationError,
    182: AuthenticationError,
    183: ServerBusy,
    184: AuthenticationError,
    196: AuthenticationError,
    199: AuthenticationError,
    201: AuthenticationError,
    214: ServerBusy,
    9999: PardotError,  # unknown code: the plain class
}


def xml_fail(code: Any, message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rsp stat="fail" version="1.0">\n'
        f'    <err code="{code}">{message}</err>\n</rsp>\n'
    ).encode()


def json_fail(code: Any, message: Any) -> bytes:
    return json.dumps(
        {"@attributes": {"stat": "fail", "version": 1, "err_code": code}, "err": message}
    ).encode()


@pytest.mark.parametrize("status", [200, 400, 401, 500])
@pytest.mark.parametrize(("code", "cls"), sorted(EXPECTED.items()))
def test_every_code_in_both_formats_on_every_status(code: int, cls: type[PardotError], status: int) -> None:
    bodies = [
        (xml_fail(code, "Some &amp;amp; message"), {"Content-Type": "text/xml"}),
        (json_fail(code, "Some &amp; message"), {"Content-Type": "application/json"}),
        (json_fail(str(code), "Some &amp; message"), {}),  # err_code as a numeric string
    ]
    for body, headers in bodies:
        for parse in PARSERS:
            with pytest.raises(PardotError) as info:
                parse(status, headers, body)
            error = info.value
            assert type(error) is cls
            assert (error.code, error.message, error.http_status) == (code, "Some & message", status)


def test_several_err_elements_first_code_all_texts() -> None:
    body = (
        b'<rsp stat="fail" version="1.0"><err code="10000" param="name">Name is bad</err>'
        b'<err code="42">Invalid opportunity value</err></rsp>'
    )
    with pytest.raises(PardotError) as info:
        parse_page(400, {}, body)
    assert info.value.code == 10000
    assert "Name is bad" in info.value.message
    assert "Invalid opportunity value" in info.value.message


def test_json_err_list() -> None:
    body = json.dumps(
        {"@attributes": {"stat": "fail", "version": 1, "err_code": [35, 3]}, "err": ["first", "second"]}
    ).encode()
    with pytest.raises(OpportunityNotFound) as info:
        parse_opportunity(200, {}, body)
    assert info.value.message == "first; second"


def test_official_wrong_json_error_shape_recovers_the_code_from_the_message() -> None:
    # The 2021 docs put the code in "version" and the message in "err_code".
    body = (
        b'{"@attributes": {"stat": "fail", "version": 2, "err_code": "Invalid action"},'
        b' "err": "Invalid action"}'
    )
    with pytest.raises(PardotError) as info:
        parse_page(200, {}, body)
    assert (info.value.code, info.value.message) == (2, "Invalid action")


def test_failure_without_a_message_uses_the_known_text() -> None:
    with pytest.raises(OpportunityNotFound) as info:
        parse_opportunity(200, {}, b'<rsp stat="fail" version="1.0"><err code="35"/></rsp>')
    assert info.value.message == "Invalid opportunity ID"


@pytest.mark.parametrize(
    "body",
    [
        b'<rsp stat="fail" version="1.0"/>',
        b'<rsp stat="fail" version="1.0"><err>Something odd</err></rsp>',
        b'<rsp stat="fail" version="1.0"><err code="abc">Something odd</err></rsp>',
        b'{"@attributes": {"stat": "fail", "version": 1}, "err": "Something odd"}',
        b'{"@attributes": {"stat": "fail", "version": 1, "err_code": null}}',
        b'{"@attributes": {"stat": "fail", "version": 1, "err_code": 1.5}, "err": "odd"}',
        b'{"@attributes": {"stat": "fail", "version": 1, "err_code": true}, "err": "odd"}',
        b'{"@attributes": {"stat": "fail", "version": 1, "err_code": "99999999999999999999"}, "err": "x"}',
    ],
)
def test_failure_without_a_usable_code_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(ProtocolError, match="error code") as info:
        parse_page(500, {}, body)
    assert info.value.http_status == 500


def test_code_recovered_from_known_message_when_code_missing() -> None:
    with pytest.raises(ServerBusy) as info:
        parse_page(500, {}, b'<rsp stat="fail"><err>API request timed out.</err></rsp>')
    assert info.value.code == 214


# -- not an envelope ----------------------------------------------------------------------------

HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
    b"</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
NOT_ENVELOPES = {
    "html 502": (502, {"Content-Type": "text/html"}, HTML_502),
    "html doctype": (503, {}, b"<!DOCTYPE html><html><body>down</body></html>"),
    "truncated json": (200, {}, b'{"@attributes": {"stat": "ok", "version": 1}, "opportunity": {"id": 1'),
    "truncated xml": (200, {}, b'<rsp stat="ok" version="1.0"><opportunity><id>1</id>'),
    "json without @attributes": (200, {}, b'{"opportunity": {"id": 1}}'),
    "json @attributes not an object": (200, {}, b'{"@attributes": "ok"}'),
    "json list": (200, {}, b"[1, 2]"),
    "json null": (200, {"Content-Type": "application/json"}, b"null"),
    "json stat odd": (200, {}, b'{"@attributes": {"stat": "maybe"}}'),
    "rsp without stat": (200, {}, b'<rsp version="1.0"><opportunity><id>1</id></opportunity></rsp>'),
    "other root": (200, {}, b"<response><id>1</id></response>"),
    "empty body 200": (200, {}, b""),
    "blank body 200": (200, {"Content-Type": "application/json"}, b" \n "),
    "empty body 500": (500, {}, b""),
    "empty body 502": (502, {"Content-Type": "text/xml"}, b""),
    "plain text": (500, {}, b"Internal Server Error"),
    "non-utf8 json": (200, {}, b'{"@attributes": {"stat": "ok"}, "x": "\xff\xfe\xfa"}'),
    "non-utf8 xml": (200, {}, b'<rsp stat="ok" version="1.0"><x>\xff\xfe</x></rsp>'),
    "binary garbage": (200, {}, bytes(range(256)) * 4),
    "deep json": (200, {}, b'{"@attributes": {"stat": "ok"}, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    "undefined entity": (200, {}, b'<rsp stat="ok" version="1.0"><x>&nbsp;</x></rsp>'),
    "huge int": (200, {}, b'{"@attributes": {"stat": "ok"}, "x": ' + b"9" * 5000 + b"}"),
}


@pytest.mark.parametrize("case", sorted(NOT_ENVELOPES))
@pytest.mark.parametrize("parse", PARSERS)
def test_not_an_envelope_is_a_protocol_error(case: str, parse: Parser) -> None:
    status, headers, body = NOT_ENVELOPES[case]
    if parse is parse_empty and not body.strip() and status < 300:
        pytest.skip("an empty 2xx body is a successful delete")
    with pytest.raises(ProtocolError) as info:
        parse(status, headers, body)
    assert info.value.http_status == status
    assert info.value.body_start == body[:200] or parse is parse_login
    assert f"HTTP {status}" in str(info.value)


def ok_json(**content: Any) -> bytes:
    return json.dumps({"@attributes": {"stat": "ok", "version": 1}, **content}).encode()


BAD_RECORDS = {
    "no id": ok_json(opportunity={"name": "x"}),
    "null id": ok_json(opportunity={"id": None}),
    "text id": ok_json(opportunity={"id": "abc"}),
    "float id": ok_json(opportunity={"id": 1.5}),
    "list id": ok_json(opportunity={"id": [1]}),
    "bad probability": ok_json(opportunity={"id": 1, "probability": "high"}),
    "bad value": ok_json(opportunity={"id": 1, "value": "lots"}),
    "nan value": ok_json(opportunity={"id": 1, "value": "NaN"}),
    "infinite value": ok_json(opportunity={"id": 1, "value": "Infinity"}),
    "bool value": ok_json(opportunity={"id": 1, "value": True}),
    "bad timestamp": ok_json(opportunity={"id": 1, "created_at": "yesterday-ish"}),
    "numeric timestamp": ok_json(opportunity={"id": 1, "updated_at": 1600000000}),
    "name object": ok_json(opportunity={"id": 1, "name": {"first": "x"}}),
    "campaign list": ok_json(opportunity={"id": 1, "campaign": [1, 2]}),
    "prospects number": ok_json(opportunity={"id": 1, "prospects": 5}),
    "prospect text": ok_json(opportunity={"id": 1, "prospects": {"prospect": "someone"}}),
    "activity text": ok_json(opportunity={"id": 1, "opportunity_activities": {"visitor_activity": "x"}}),
    "activity bad type": ok_json(
        opportunity={"id": 1, "opportunity_activities": {"visitor_activity": {"id": 1, "type": "won"}}}
    ),
    "record is text": ok_json(opportunity="nope"),
    "two records in a read": ok_json(opportunity=[{"id": 1}, {"id": 2}]),
    "no record in a read": ok_json(opportunity=[]),
    "xml nested field": b'<rsp stat="ok"><opportunity><id>1</id><name><b>x</b></name></opportunity></rsp>',
    "xml attribute on id": b'<rsp stat="ok"><opportunity><id kind="x">1</id></opportunity></rsp>',
}


@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_malformed_record_is_a_protocol_error(case: str) -> None:
    body = BAD_RECORDS[case]
    with pytest.raises(ProtocolError) as info:
        parse_opportunity(200, {}, body)
    assert info.value.http_status == 200
    assert "malformed opportunity" in info.value.message or "expected one" in info.value.message


@pytest.mark.parametrize(
    "body",
    [
        b'{"@attributes": {"stat": "ok"}, "result": 5}',
        b'{"@attributes": {"stat": "ok"}, "result": {"total_results": "many"}}',
        b'{"@attributes": {"stat": "ok"}, "result": {"opportunity": [{"id": 1}, "x"]}}',
        b'{"@attributes": {"stat": "ok"}, "something_else": 1}',
    ],
)
def test_malformed_page_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_page(200, {}, body)


def test_max_bytes() -> None:
    body = ok_json(opportunity={"id": 1})
    assert parse_opportunity(200, {}, body, max_bytes=len(body)).id == 1
    for parse in PARSERS:
        with pytest.raises(ProtocolError, match="larger than") as info:
            parse(200, {}, body, max_bytes=len(body) - 1)
        assert info.value.http_status == 200


# -- hostile XML --------------------------------------------------------------------------------


def billion_laughs(levels: int = 9) -> bytes:
    """Entities that would expand to 3 * 10**levels bytes (9 levels: 3 GB)."""
    lines = ['<!ENTITY lol0 "lol">']
    lines += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)]
    doctype = "<!DOCTYPE rsp [\n" + "\n".join(lines) + "\n]>"
    return (
        f'<?xml version="1.0"?>\n{doctype}\n<rsp stat="ok" version="1.0"><x>&lol{levels};</x></rsp>'
    ).encode()


HOSTILE = {
    "billion laughs": billion_laughs(9),
    "50 MB equivalent bomb": billion_laughs(6).replace(b'"lol"', b'"' + b"l" * 50 + b'"'),
    "quadratic blowup": (
        b'<?xml version="1.0"?><!DOCTYPE rsp [<!ENTITY a "'
        + b"A" * 50_000
        + b'">]><rsp stat="ok" version="1.0"><x>'
        + b"&a;" * 1_000
        + b"</x></rsp>"
    ),
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE rsp [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<rsp stat="ok" version="1.0"><opportunity><id>1</id><name>&xxe;</name></opportunity></rsp>'
    ),
    "external dtd": (
        b'<?xml version="1.0"?><!DOCTYPE rsp SYSTEM "http://127.0.0.1:9/evil.dtd">'
        b'<rsp stat="ok" version="1.0"></rsp>'
    ),
    "parameter entity": (
        b'<?xml version="1.0"?><!DOCTYPE rsp [<!ENTITY % p "<!ENTITY x \'y\'>"> %p;]>'
        b'<rsp stat="ok" version="1.0"><x>&x;</x></rsp>'
    ),
    "plain doctype": b'<!DOCTYPE rsp><rsp stat="ok" version="1.0"/>',
    "deep nesting": b'<rsp stat="ok" version="1.0">' + b"<a>" * 2_000_000 + b"</a>" * 2_000_000 + b"</rsp>",
    "deep failure": b'<rsp stat="fail" version="1.0"><err code="1">' + b"<a>" * 100_000 + b"</err></rsp>",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("parse", [parse_page, parse_opportunity, decode_envelope])
def test_hostile_xml_fails_fast_and_clean(case: str, parse: Parser) -> None:
    body = HOSTILE[case]
    started = time.process_time()
    with pytest.raises(ProtocolError) as info:
        parse(200, {"Content-Type": "text/xml"}, body)
    assert time.process_time() - started < 1.0
    assert info.value.http_status == 200
    assert b"root:" not in info.value.body_start
    assert "root:" not in str(info.value)


def test_depth_cap_is_exact() -> None:
    # <rsp> is level 1, so MAX_XML_DEPTH - 1 nested elements fit inside it.
    inner = MAX_XML_DEPTH - 1
    ok = b'<rsp stat="ok" version="1.0">' + b"<a>" * inner + b"x" + b"</a>" * inner + b"</rsp>"
    content = decode_envelope(200, {}, ok)
    for _ in range(inner - 1):
        content = content["a"]
    assert content == {"a": "x"}
    deep = b'<rsp stat="ok" version="1.0">' + b"<a>" * (inner + 1) + b"x" + b"</a>" * (inner + 1) + b"</rsp>"
    with pytest.raises(ProtocolError, match="deeper than"):
        decode_envelope(200, {}, deep)


def test_real_answers_are_far_below_the_depth_cap() -> None:
    assert MAX_XML_DEPTH >= 16


# -- nothing but typed errors, whatever the bytes -----------------------------------------------

SEEDS = [
    b'{"@attributes": {"stat": "ok", "version": 1}, "result": {"total_results": 2, "opportunity": '
    b'[{"id": 1, "name": "a", "value": 5.5, "prospects": {"prospect": {"id": 2}}}, {"id": 3}]}}',
    b'<?xml version="1.0"?><rsp stat="ok" version="1.0"><result><total_results>1</total_results>'
    b"<opportunity><id>1</id><value>5</value><campaign><id>3</id></campaign><prospects/>"
    b"</opportunity></result></rsp>",
    b'{"@attributes": {"stat": "fail", "version": 1, "err_code": 49}, "err": "Access Denied"}',
    b'<rsp stat="fail" version="1.0"><err code="184">bad token</err></rsp>',
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(SEEDS),
    cuts=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 20), st.binary(max_size=8)), max_size=4),
    status=st.sampled_from([200, 204, 400, 401, 500, 502]),
    parse=st.sampled_from(PARSERS),
)
def test_mutated_bodies_raise_only_typed_errors(
    seed: bytes, cuts: list[tuple[int, int, bytes]], status: int, parse: Parser
) -> None:
    body = seed
    for at, length, insert in cuts:
        at %= len(body) + 1
        body = body[:at] + insert + body[at + length :]
    with contextlib.suppress(ProtocolError, PardotError):
        parse(status, {}, body)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=300), status=st.integers(100, 599), parse=st.sampled_from(PARSERS))
def test_random_bytes_raise_only_typed_errors(body: bytes, status: int, parse: Parser) -> None:
    with contextlib.suppress(ProtocolError, PardotError):
        parse(status, {}, body)


# -- encodings ----------------------------------------------------------------------------------

UTF8_PAGE = '<?xml version="1.0" encoding="UTF-8"?><rsp stat="ok" version="1.0"><result/></rsp>'
WIDE = {
    "xml utf-16 bom": UTF8_PAGE.replace("UTF-8", "UTF-16").encode("utf-16"),
    "xml utf-16 no bom": UTF8_PAGE.encode("utf-16-le"),
    "xml utf-32 bom": UTF8_PAGE.encode("utf-32"),
    "json utf-16 bom": b'{"@attributes":{"stat":"ok"}}'.decode().encode("utf-16"),
    "json utf-16 be no bom": b'{"@attributes":{"stat":"ok"}}'.decode().encode("utf-16-be"),
}


@pytest.mark.parametrize("case", sorted(WIDE))
@pytest.mark.parametrize("parse", PARSERS)
def test_utf16_and_utf32_answers_are_refused(case: str, parse: Parser) -> None:
    with pytest.raises(ProtocolError, match="UTF-16 or UTF-32 refused: aeopp reads UTF-8 answers only"):
        parse(200, {"Content-Type": "application/json" if "json" in case else "text/xml"}, WIDE[case])


@pytest.mark.parametrize("encoding", ["UTF-16", "ISO-8859-1", "us-ascii", "utf8"])
def test_xml_declaring_another_encoding_is_refused(encoding: str) -> None:
    body = UTF8_PAGE.replace("UTF-8", encoding).encode()
    with pytest.raises(ProtocolError, match=f"XML declaring encoding '{encoding}' refused"):
        parse_page(200, {}, body)


@pytest.mark.parametrize("encoding", ["UTF-8", "utf-8"])
def test_utf8_declared_or_not_is_read(encoding: str) -> None:
    assert len(parse_page(200, {}, UTF8_PAGE.replace("UTF-8", encoding).encode())) == 0
    assert len(parse_page(200, {}, UTF8_PAGE.replace(' encoding="UTF-8"', "").encode())) == 0
