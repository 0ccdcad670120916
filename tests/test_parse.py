"""The wire parser on recorded samples and on each normalisation quirk, in XML and JSON alike."""

from __future__ import annotations

import ast
import html
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aeopp import _parse
from aeopp._convert import unescape
from aeopp._parse import (
    LoginResult,
    decode_envelope,
    opportunity_from_wire,
    parse_empty,
    parse_login,
    parse_opportunity,
    parse_page,
)
from aeopp.errors import AuthenticationError, OpportunityNotFound, PardotError, ProtocolError
from aeopp.models import Campaign, Opportunity, Page, Prospect, VisitorActivity

SAMPLES = Path(__file__).parent / "samples"
XML_CT = {"Content-Type": "text/xml; charset=utf-8"}
JSON_CT = {"Content-Type": "application/json"}
OK_XML = '<?xml version="1.0" encoding="UTF-8"?>\n<rsp stat="ok" version="1.0">{}</rsp>'
TS = datetime(2017, 12, 18, 19, 29, 56)
TEXT_FIELDS = ("name", "type", "stage", "status")


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def xml_ok(inner: str) -> bytes:
    return OK_XML.format(inner).encode()


def json_ok(**content: Any) -> bytes:
    return json.dumps({"@attributes": {"stat": "ok", "version": 1}, **content}).encode()


def xml_read(fields: str) -> bytes:
    return xml_ok(f"<opportunity><id>7</id>{fields}</opportunity>")


def json_read(**fields: Any) -> bytes:
    return json_ok(opportunity={"id": 7, **fields})


CRIM_READ = Opportunity(
    id=1,
    name="Opportunity1",
    value=Decimal(5),
    probability=50,
    type="ReallyGood",
    stage="Alpha",
    status="Open",
    campaign_id=3,
    campaign=Campaign(id=3, name="Google Buyer's Guide Campaign"),
    closed_at=None,
    created_at=TS,
    updated_at=TS,
    prospects=(
        Prospect(
            id=11,
            email="angela.lansbury@cbs.com",
            first_name="Angela",
            last_name="Lansbury",
            company="CBS",
        ),
    ),
    activities=(
        VisitorActivity(
            id=100,
            prospect_id=11,
            opportunity_id=1,
            type=19,
            type_name="Opportunity Associated",
            created_at=datetime(2019, 9, 30, 20, 30, 9),
        ),
    ),
)


# -- recorded samples ---------------------------------------------------------------------------


def test_crim_read_xml() -> None:
    opportunity = parse_opportunity(200, XML_CT, sample("crim_opportunityRead.xml"))
    assert opportunity == CRIM_READ
    assert opportunity.extra == {}
    assert isinstance(opportunity.value, Decimal)


def test_inferred_json_read_gives_the_same_model_as_the_xml() -> None:
    assert parse_opportunity(200, JSON_CT, sample("inferred_opportunityRead.json")) == CRIM_READ


def test_crim_query_xml() -> None:
    page = parse_page(200, XML_CT, sample("crim_opportunityQuery.xml"))
    assert page.total_results == 193
    assert [o.id for o in page.opportunities] == [1, 2]
    first, second = page.opportunities
    assert first == attrs_evolve(CRIM_READ, activities=())
    assert second.name == "Opportunity2"
    assert second.value == Decimal(200)
    assert second.prospects == ()  # <prospects/>
    assert second.campaign == first.campaign


def attrs_evolve(record: Opportunity, **changes: Any) -> Opportunity:
    return attrs.evolve(record, **changes)


def test_ruby_fixtures_parse_as_envelopes_but_lack_ids() -> None:
    query = sample("ruby_opportunityQuery.xml")
    create = sample("ruby_opportunityCreate.xml")
    content = decode_envelope(200, XML_CT, query)
    assert content["result"]["total_results"] == "2"
    assert [r["name"] for r in content["result"]["opportunity"]] == ["Jim", "Sue"]
    assert decode_envelope(200, XML_CT, create) == {"opportunity": [{"name": "Jim", "type": "Good"}]}
    # An opportunity without an id is useless to the client (no update, no paging): refused clearly.
    for body, parse in ((query, parse_page), (create, parse_opportunity)):
        with pytest.raises(ProtocolError, match="without an id") as info:
            parse(200, XML_CT, body)
        assert info.value.http_status == 200
        assert info.value.body_start == body[:200]


def test_ruby_fixtures_with_ids_added() -> None:
    query = sample("ruby_opportunityQuery.xml").replace(b"<opportunity>", b"<opportunity><id>4</id>")
    page = parse_page(200, XML_CT, query)
    assert [(o.name, o.type) for o in page.opportunities] == [("Jim", "Great"), ("Sue", "Good")]
    create = sample("ruby_opportunityCreate.xml").replace(b"<opportunity>", b"<opportunity><id>9</id>")
    assert parse_opportunity(201, XML_CT, create) == Opportunity(id=9, name="Jim", type="Good")


@pytest.mark.parametrize(
    ("name", "code", "cls", "message"),
    [
        ("crim_error1.xml", 1, AuthenticationError, "Invalid API key or user key"),
        ("crim_error10.xml", 10, PardotError, "Invalid user ID"),
        ("error49_recorded.xml", 49, AuthenticationError, "Access Denied"),
        ("crim_errorInvalidSsoAccessToken.xml", 184, AuthenticationError, "access_token is invalid"),
    ],
)
@pytest.mark.parametrize("parse", [parse_page, parse_opportunity, parse_empty, parse_login, decode_envelope])
def test_error_fixtures(name: str, code: int, cls: type[PardotError], message: str, parse: Any) -> None:
    with pytest.raises(PardotError) as info:
        parse(401, XML_CT, sample(name))
    assert type(info.value) is cls
    assert info.value.code == code
    assert info.value.message.startswith(message)
    assert info.value.http_status == 401


# -- envelopes and format detection -------------------------------------------------------------


def test_json_envelope_content_drops_attributes_only() -> None:
    body = b'{"@attributes": {"stat": "ok", "version": 1}, "a": 1, "b": {"c": null}}'
    assert decode_envelope(200, JSON_CT, body) == {"a": 1, "b": {"c": None}}


def test_xml_envelope_content_is_the_children_of_rsp() -> None:
    assert decode_envelope(200, XML_CT, xml_ok("<a>1</a><b><c/></b>")) == {"a": "1", "b": {"c": None}}
    assert decode_envelope(200, XML_CT, b'<rsp stat="ok" version="1.0"/>') == {}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Type": "text/html"},
        {"content-type": "application/json"},
        {"CONTENT-TYPE": "text/xml"},
        {"Content-Type": "application/octet-stream"},
    ],
)
def test_sniffing_decides_whatever_the_content_type(headers: dict[str, str]) -> None:
    # An XML answer to a JSON request (or under a wrong Content-Type) still parses, and vice versa.
    assert parse_opportunity(200, headers, sample("crim_opportunityRead.xml")) == CRIM_READ
    assert parse_opportunity(200, headers, sample("inferred_opportunityRead.json")) == CRIM_READ


def test_leading_whitespace_and_byte_order_mark() -> None:
    assert parse_opportunity(200, {}, b"\r\n  " + sample("inferred_opportunityRead.json")) == CRIM_READ
    assert parse_opportunity(200, {}, b"\xef\xbb\xbf" + sample("inferred_opportunityRead.json")) == CRIM_READ
    assert parse_opportunity(200, {}, b"\xef\xbb\xbf" + sample("crim_opportunityRead.xml")) == CRIM_READ


class _Headers(dict[str, str]):
    """A plain header dict: only its own spelling of a key answers ``get``."""


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Content-Type": "application/json"}, "JSON"),
        ({"cOnTeNt-TyPe": "Application/JSON; charset=utf-8"}, "JSON"),
        ({"content-type": "text/xml"}, "XML"),
        ({"X-Other": "1"}, None),
    ],
)
def test_content_type_lookup_is_case_insensitive(headers: dict[str, str], expected: str | None) -> None:
    # A body that sniffing can't place is parsed as the Content-Type says, and fails as that format.
    with pytest.raises(ProtocolError) as info:
        decode_envelope(502, _Headers(headers), b"garbage")
    message = info.value.message
    if expected == "JSON":
        assert "JSON" in message
    elif expected == "XML":
        assert "XML" in message
    else:
        assert "neither" in message


def test_success_envelope_on_an_error_status_is_still_content() -> None:
    assert decode_envelope(500, JSON_CT, json_ok(x=1)) == {"x": 1}


# -- normalisation quirks -----------------------------------------------------------------------


def test_one_record_object_or_list_of_one() -> None:
    as_object = json_ok(result={"total_results": 1, "opportunity": {"id": 5}})
    as_list = json_ok(result={"total_results": 1, "opportunity": [{"id": 5}]})
    assert parse_page(200, {}, as_object) == parse_page(200, {}, as_list) == Page(1, (Opportunity(id=5),))
    assert parse_opportunity(200, {}, json_ok(opportunity=[{"id": 5}])) == Opportunity(id=5)


@pytest.mark.parametrize(
    "body",
    [
        json_ok(result={"total_results": 0}),
        json_ok(result={"total_results": 0, "opportunity": None}),
        json_ok(result={"total_results": 0, "opportunity": []}),
        json_ok(result={"total_results": 0, "opportunity": ""}),
        json_ok(result={"total_results": 0, "opportunity": {}}),
        xml_ok("<result><total_results>0</total_results></result>"),
        xml_ok("<result>\n  <total_results>0</total_results>\n</result>"),
    ],
)
def test_zero_records_with_a_total(body: bytes) -> None:
    assert parse_page(200, {}, body) == Page(0, ())


@pytest.mark.parametrize(
    "body",
    [
        json_ok(result=None),
        json_ok(result=""),
        json_ok(result={}),
        json_ok(result=[]),
        xml_ok("<result/>"),
        xml_ok("<result></result>"),
        xml_ok("<result>  \n </result>"),
    ],
)
def test_zero_records_without_anything(body: bytes) -> None:
    assert parse_page(200, {}, body) == Page(None, ())


def test_bulk_page_has_no_total() -> None:
    body = json_ok(result={"opportunity": [{"id": 1}, {"id": 2}]})
    assert parse_page(200, {}, body) == Page(None, (Opportunity(id=1), Opportunity(id=2)))
    xml = xml_ok("<result><opportunity><id>1</id></opportunity></result>")
    assert parse_page(200, {}, xml) == Page(None, (Opportunity(id=1),))


def test_total_results_as_string_or_number() -> None:
    assert parse_page(200, {}, json_ok(result={"total_results": "3"})).total_results == 3
    assert parse_page(200, {}, json_ok(result={"total_results": 3})).total_results == 3
    assert parse_page(200, {}, json_ok(result={"total_results": None})).total_results is None


def test_records_straight_under_the_envelope_are_tolerated() -> None:
    assert parse_page(200, {}, json_ok(opportunity={"id": 3})) == Page(None, (Opportunity(id=3),))


PROSPECT = {"id": 11, "email": "a@b.co", "first_name": "A", "last_name": "B", "company": "C"}
PROSPECT_MODEL = Prospect(id=11, email="a@b.co", first_name="A", last_name="B", company="C")


def _prospect_cases() -> list[tuple[Any, tuple[Prospect, ...]]]:
    twelve = attrs.evolve(PROSPECT_MODEL, id=12)
    return [
        (None, ()),
        ("", ()),
        ({}, ()),
        ([], ()),
        ({"prospect": None}, ()),
        ({"prospect": []}, ()),
        ({"prospect": PROSPECT}, (PROSPECT_MODEL,)),
        ({"prospect": [PROSPECT]}, (PROSPECT_MODEL,)),
        ({"prospect": [PROSPECT, {**PROSPECT, "id": 12}]}, (PROSPECT_MODEL, twelve)),
        (PROSPECT, (PROSPECT_MODEL,)),
        ([PROSPECT, {**PROSPECT, "id": 12}], (PROSPECT_MODEL, twelve)),
        ([{"prospect": PROSPECT}], (PROSPECT_MODEL,)),
    ]


@pytest.mark.parametrize(("prospects", "expected"), _prospect_cases())
def test_prospects_in_every_shape(prospects: Any, expected: tuple[Prospect, ...]) -> None:
    assert parse_opportunity(200, {}, json_read(prospects=prospects)).prospects == expected


@pytest.mark.parametrize(
    ("inner", "count"),
    [
        ("<prospects/>", 0),
        ("<prospects></prospects>", 0),
        ("<prospects>\n   </prospects>", 0),
        ("<prospects><prospect><id>11</id></prospect></prospects>", 1),
        ("<prospects><prospect><id>11</id></prospect><prospect><id>12</id></prospect></prospects>", 2),
        ("", 0),
    ],
)
def test_prospects_in_xml(inner: str, count: int) -> None:
    opportunity = parse_opportunity(200, {}, xml_read(inner))
    assert len(opportunity.prospects) == count
    assert [p.id for p in opportunity.prospects] == [11, 12][:count]


@pytest.mark.parametrize(
    "activities",
    [
        None,
        "",
        {},
        {"visitor_activity": {"id": "100", "type": "19", "prospect_id": 11}},
        {"visitor_activity": [{"id": 100, "type": 19, "prospect_id": "11"}]},
        [{"id": 100, "type": 19, "prospect_id": 11}],
    ],
)
def test_activities_in_every_shape(activities: Any) -> None:
    got = parse_opportunity(200, {}, json_read(opportunity_activities=activities)).activities
    if activities:
        assert got == (VisitorActivity(id=100, type=19, prospect_id=11),)
    else:
        assert got == ()


@pytest.mark.parametrize(
    ("wire", "text"),
    [(2024, "2024"), ("2024", "2024"), (Decimal("1.50"), "1.50"), (-3, "-3"), (True, "true"), ("x", "x")],
)
def test_numeric_looking_strings_are_text(wire: Any, text: str) -> None:
    # PHP sends numeric-looking strings as numbers; parse_float=Decimal keeps "1.50"'s digits.
    literal = json.dumps(wire) if isinstance(wire, str | bool) else str(wire)
    fields = ", ".join(f'"{key}": {literal}' for key in TEXT_FIELDS)
    body = f'{{"@attributes": {{"stat": "ok", "version": 1}}, "opportunity": {{"id": 7, {fields}}}}}'
    opportunity = parse_opportunity(200, {}, body.encode())
    for key in TEXT_FIELDS:
        assert getattr(opportunity, key) == text


def test_numeric_texts_in_nested_records() -> None:
    body = json_read(
        campaign={"id": 3, "name": 2024},
        prospects={"prospect": {"id": 1, "email": 5, "first_name": 1.5, "last_name": 7, "company": 8}},
        opportunity_activities={"visitor_activity": {"id": 1, "type_name": 19, "details": 3}},
    )
    opportunity = parse_opportunity(200, {}, body)
    assert opportunity.campaign == Campaign(id=3, name="2024")
    assert opportunity.prospects == (Prospect(id=1, email="5", first_name="1.5", last_name="7", company="8"),)
    assert opportunity.activities[0].type_name == "19"
    assert opportunity.activities[0].details == "3"


@pytest.mark.parametrize("wire", [50, "50", Decimal("50"), Decimal("50.0")])
def test_ints_from_strings_or_numbers(wire: Any) -> None:
    record = {"id": wire, "probability": wire, "campaign_id": wire}
    opportunity = opportunity_from_wire(record)
    assert (opportunity.id, opportunity.probability, opportunity.campaign_id) == (50, 50, 50)
    assert all(type(v) is int for v in (opportunity.id, opportunity.probability, opportunity.campaign_id))


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("5", Decimal(5)),
        ("5.25", Decimal("5.25")),
        (5, Decimal(5)),
        (Decimal("5.25"), Decimal("5.25")),
        (5.25, Decimal("5.25")),
        (None, None),
        ("", None),
    ],
)
def test_value_is_decimal(wire: Any, expected: Decimal | None) -> None:
    value = opportunity_from_wire({"id": 1, "value": wire}).value
    assert value == expected
    assert value is None or type(value) is Decimal


def test_json_value_keeps_its_digits() -> None:
    value = parse_opportunity(
        200, {}, b'{"@attributes":{"stat":"ok"},"opportunity":{"id":1,"value":0.10}}'
    ).value
    assert str(value) == "0.10"


def test_html_entities_one_level_in_both_formats() -> None:
    from_xml = parse_opportunity(
        200, {}, xml_read("<name>Tom &amp;amp; Jerry</name><stage>&lt;b&gt;</stage>")
    )
    from_json = parse_opportunity(200, {}, json_read(name="Tom &amp; Jerry", stage="&lt;b&gt;"))
    assert from_xml.name == from_json.name == "Tom & Jerry"
    assert from_xml.stage == from_json.stage == "<b>"
    # One level only: an entity the user typed literally survives.
    assert opportunity_from_wire({"id": 1, "name": "a &amp;amp; b"}).name == "a &amp; b"
    assert parse_opportunity(200, {}, xml_read("<name>&#233;t&#xE9;</name>")).name == "été"


def test_entities_in_every_nested_string() -> None:
    body = json_read(
        campaign={"id": 1, "name": "A &amp; B"},
        prospects={"prospect": {"id": 1, "company": "C &amp; D", "email": "x&#64;y.z"}},
        opportunity_activities={"visitor_activity": {"id": 1, "type_name": "&quot;q&quot;"}},
    )
    opportunity = parse_opportunity(200, {}, body)
    assert opportunity.campaign is not None
    assert opportunity.campaign.name == "A & B"
    assert opportunity.prospects[0].company == "C & D"
    assert opportunity.prospects[0].email == "x@y.z"
    assert opportunity.activities[0].type_name == '"q"'


def test_json_slash_escapes() -> None:
    body = b'{"@attributes":{"stat":"ok","version":1},"opportunity":{"id":1,"name":"http:\\/\\/x.y\\/z"}}'
    assert parse_opportunity(200, {}, body).name == "http://x.y/z"


@pytest.mark.parametrize("empty", ["", None])
def test_empty_values_are_none(empty: str | None) -> None:
    fields = ("name", "type", "stage", "status", "value", "probability", "campaign_id", "closed_at")
    from_json = parse_opportunity(200, {}, json_read(**dict.fromkeys(fields, empty)))
    from_xml = parse_opportunity(200, {}, xml_read("".join(f"<{f}/>" for f in fields)))
    assert from_json == from_xml == Opportunity(id=7)


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("2017-12-18 19:29:56", TS),
        ("0000-00-00 00:00:00", None),
        ("", None),
        (None, None),
    ],
)
def test_timestamps(wire: str | None, expected: datetime | None) -> None:
    fields = {"created_at": wire, "updated_at": wire, "closed_at": wire}
    opportunity = opportunity_from_wire({"id": 1, **fields})
    assert opportunity.created_at == opportunity.updated_at == opportunity.closed_at == expected
    activity = opportunity_from_wire(
        {"id": 1, "opportunity_activities": {"visitor_activity": {"id": 2, "created_at": wire}}}
    ).activities[0]
    assert activity.created_at == expected


def test_missing_timestamps_are_none() -> None:
    opportunity = parse_opportunity(200, {}, xml_read(""))
    assert (opportunity.created_at, opportunity.updated_at, opportunity.closed_at) == (None, None, None)


@pytest.mark.parametrize("tz", [timezone.utc, timezone(timedelta(hours=-7))])
def test_timezone_is_attached_not_converted(tz: timezone) -> None:
    body = sample("crim_opportunityRead.xml")
    opportunity = parse_opportunity(200, {}, body, timezone=tz)
    assert opportunity.created_at == TS.replace(tzinfo=tz)
    assert opportunity.updated_at is not None
    assert opportunity.updated_at.tzinfo is tz
    assert opportunity.activities[0].created_at == datetime(2019, 9, 30, 20, 30, 9, tzinfo=tz)
    page = parse_page(200, {}, sample("crim_opportunityQuery.xml"), timezone=tz)
    assert all(o.created_at is not None and o.created_at.tzinfo is tz for o in page.opportunities)
    assert opportunity_from_wire({"id": 1, "closed_at": "2020-01-02 03:04:05"}, timezone=tz).closed_at == (
        datetime(2020, 1, 2, 3, 4, 5, tzinfo=tz)
    )


def test_campaign_mapping() -> None:
    opportunity = opportunity_from_wire({"id": 1, "campaign": {"id": "3", "name": "C", "cost": "9"}})
    assert opportunity.campaign == Campaign(id=3, name="C", extra={"cost": "9"})
    # campaign_id is filled from the campaign node when the server leaves it out (Crim's fixture).
    assert opportunity.campaign_id == 3
    assert opportunity_from_wire({"id": 1, "campaign_id": 4, "campaign": {"id": 3}}).campaign_id == 4
    for empty in (None, "", {}):
        assert opportunity_from_wire({"id": 1, "campaign": empty}).campaign is None


def test_equal_campaigns_are_shared_within_a_page_but_stay_correct() -> None:
    records = [
        {"id": 1, "campaign": {"id": 3, "name": "A"}},
        {"id": 2, "campaign": {"id": 3, "name": "A"}},
        {"id": 3, "campaign": {"id": 3, "name": "B"}},
        {"id": 4, "campaign": {"id": "3", "name": "A"}},
        {"id": 5, "campaign": {"id": 3, "name": 1.5}},
        {"id": 6, "campaign": {"id": 3, "name": 1.50}},
    ]
    body = json_ok(result={"total_results": 6, "opportunity": records}).replace(b"1.5}", b"1.50}", 1)
    page = parse_page(200, {}, body)
    campaigns = [o.campaign for o in page.opportunities]
    assert campaigns[0] is campaigns[1]
    assert [(c.id, c.name) if c else None for c in campaigns] == [
        (3, "A"),
        (3, "A"),
        (3, "B"),
        (3, "A"),
        (3, "1.50"),
        (3, "1.5"),
    ]


def test_unknown_fields_are_kept_in_extra() -> None:
    xml = xml_read("<name>n</name><crm_id>A&amp;amp;B</crm_id><tags><tag>x</tag><tag>y</tag></tags><flag/>")
    from_xml = parse_opportunity(200, {}, xml)
    assert from_xml.extra == {"crm_id": "A&B", "tags": {"tag": ["x", "y"]}, "flag": None}
    body = json_read(name="n", crm_id="A&amp;B", score=7, nested={"k": ["&lt;", None, 1.5]})
    from_json = parse_opportunity(200, {}, body)
    assert from_json.extra == {"crm_id": "A&B", "score": 7, "nested": {"k": ["<", None, Decimal("1.5")]}}
    assert from_json.name == "n"
    prospect = opportunity_from_wire({"id": 1, "prospects": {"prospect": {"id": 2, "phone": "&#49;"}}})
    assert prospect.prospects[0].extra == {"phone": "1"}
    activity = opportunity_from_wire(
        {"id": 1, "opportunity_activities": {"visitor_activity": {"id": 2, "email_id": 5}}}
    )
    assert activity.activities[0].extra == {"email_id": 5}


def test_opportunity_from_wire_accepts_any_mapping_and_rejects_the_rest() -> None:
    from types import MappingProxyType

    assert opportunity_from_wire(MappingProxyType({"id": "4"})) == Opportunity(id=4)
    with pytest.raises(ValueError, match="without an id"):
        opportunity_from_wire({"name": "x"})
    with pytest.raises(ValueError, match="opportunity of type list"):
        opportunity_from_wire([("id", 1)])  # type: ignore[arg-type]


# -- delete, undelete and login -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (204, b""),
        (200, b""),
        (200, b"  \r\n"),
        (202, b""),
        (200, xml_ok("")),
        (200, b'<rsp stat="ok" version="1.0"/>'),
        (200, json_ok()),
        (204, json_ok()),
    ],
)
def test_parse_empty_success(status: int, body: bytes) -> None:
    assert parse_empty(status, {}, body) is None


def test_parse_empty_failure_envelope_raises() -> None:
    body = b'{"@attributes":{"stat":"fail","version":1,"err_code":35},"err":"Invalid opportunity ID"}'
    with pytest.raises(OpportunityNotFound) as info:
        parse_empty(200, JSON_CT, body)
    assert info.value.http_status == 200
    assert info.value.message == "Invalid opportunity ID"


@pytest.mark.parametrize(("status", "body"), [(500, b""), (503, b" "), (404, b"<html>Not found</html>")])
def test_parse_empty_non_envelope_raises(status: int, body: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_empty(status, {}, body)
    assert info.value.http_status == status


API_KEY = "5a1698a233e73d7c8ccd60d775fbc68a"


@pytest.mark.parametrize(
    ("body", "version"),
    [
        (xml_ok(f"<api_key>{API_KEY}</api_key>"), None),
        (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<rsp stat="ok" version="1.0">\n   '
            + f"<api_key>{API_KEY}</api_key>\n<version>4</version>\n</rsp>".encode(),
            4,
        ),
        (f'{{"@attributes":{{"stat":"ok","version":1}},"api_key":"{API_KEY}"}}'.encode(), None),
        (f'{{"@attributes":{{"stat":"ok","version":1}},"api_key":"{API_KEY}","version":4}}'.encode(), 4),
        (f'{{"@attributes":{{"stat":"ok","version":1}},"api_key":"{API_KEY}","version":"4"}}'.encode(), 4),
    ],
)
def test_login(body: bytes, version: int | None) -> None:
    result = parse_login(200, {}, body)
    assert result == LoginResult(api_key=API_KEY, version=version)
    assert API_KEY not in repr(result)


@pytest.mark.parametrize(
    "body",
    [
        b'{"@attributes":{"stat":"fail","version":1,"err_code":15},"err":"Login failed"}',
        b'<rsp stat="fail" version="1.0">\n    <err code="15">Login failed</err>\n</rsp>',
    ],
)
def test_login_failure(body: bytes) -> None:
    with pytest.raises(AuthenticationError) as info:
        parse_login(200, {}, body)
    assert (info.value.code, info.value.message) == (15, "Login failed")


@pytest.mark.parametrize(
    "body",
    [
        f'{{"@attributes":{{"stat":"ok","version":1}},"api_key":"{API_KEY}'.encode(),  # truncated
        f'{{"@attributes":{{"stat":"ok"}},"api_key":"{API_KEY}","version":"four"}}'.encode(),
        f'<rsp stat="ok" version="1.0"><api_key>{API_KEY}</api_key><version>x</version></rsp>'.encode(),
        f'<rsp stat="ok" version="1.0"><api_key>{API_KEY}</api_key>'.encode(),
        f'{{"@attributes":{{"stat":"odd"}},"api_key":"{API_KEY}"}}'.encode(),
        b'{"@attributes":{"stat":"ok"},"api_key":""}',
        b'{"@attributes":{"stat":"ok"}}',
    ],
)
def test_login_protocol_errors_never_show_the_key(body: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_login(200, {}, body)
    assert API_KEY not in str(info.value)
    assert API_KEY not in repr(info.value)
    assert API_KEY.encode() not in info.value.body_start
    assert info.value.__cause__ is None


# -- purity -------------------------------------------------------------------------------------


def test_module_is_sans_io() -> None:
    tree = ast.parse(Path(_parse.__file__).read_text())
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""])
    }
    assert not imported & {"aiohttp", "anyio", "asyncio", "socket"}
    assert set(_parse.__all__) >= {
        "LoginResult",
        "decode_envelope",
        "opportunity_from_wire",
        "parse_empty",
        "parse_login",
        "parse_opportunity",
        "parse_page",
    }


_ENTITY_SOUP = st.lists(
    st.sampled_from(
        ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#233;", "&copy", "&", "amp;", "lt;", "#", "x", " "]
    ),
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(_ENTITY_SOUP, st.text(max_size=30)))
def test_quick_unescape_matches_html_unescape(text: str) -> None:
    assert unescape(text) == html.unescape(text)


TRICKY = [
    {"id": 2, "name": "Tom &amp; Jerry", "value": 12.5, "probability": 0, "type": "A &lt;b&gt;",
     "stage": "", "status": None, "campaign_id": 3, "campaign": {"id": 3, "name": "C &amp; D"},
     "closed_at": "2021-05-06 07:08:09", "created_at": "2020-01-02 03:04:05", "updated_at": "2021-05-06 07:08:09",
     "prospects": {"prospect": [{"id": 9, "email": "a+b@x.co", "first_name": 7, "last_name": None,
                                 "company": "AT&amp;T"}, {"id": 10}]}},
    {"id": 3, "name": 2024, "value": 1.5, "probability": 100, "created_at": "0000-00-00 00:00:00",
     "updated_at": "2020-01-02 03:04:05", "brand_new_field": "kept &amp; decoded"},
    {"id": "5", "name": "x", "value": "1", "probability": "7", "created_at": "2020-01-02 03:04:05",
     "updated_at": "2020-01-02 03:04:05", "campaign": {"id": "4", "name": "only the node"},
     "prospects": {"prospect": {"id": 11, "email": "", "company": 2600}},
     "opportunity_activities": {"visitor_activity": {"id": 1, "type": "8"}}},
]  # fmt: skip


@pytest.mark.parametrize("tz", [None, timezone(timedelta(hours=-5))])
def test_one_table_driven_builder_takes_every_wire_shape(tz: Any) -> None:
    page = parse_page(200, {}, json_ok(result={"total_results": 3, "opportunity": TRICKY}), timezone=tz)
    two, three, five = page.records
    assert (two.name, two.value, two.probability, two.type, two.stage, two.status) == (
        "Tom & Jerry",
        Decimal("12.5"),
        0,
        "A <b>",
        None,
        None,
    )
    assert two.campaign == Campaign(3, "C & D")
    assert two.closed_at == datetime(2021, 5, 6, 7, 8, 9, tzinfo=tz)
    assert two.prospects == (Prospect(9, "a+b@x.co", "7", None, "AT&T"), Prospect(10))
    assert (three.name, three.value, three.created_at) == ("2024", Decimal("1.5"), None)
    assert dict(three.extra) == {"brand_new_field": "kept & decoded"}
    assert (five.id, five.value, five.probability, five.campaign_id) == (5, Decimal(1), 7, 4)
    assert five.prospects == (Prospect(11, None, None, None, "2600"),)
    assert five.activities == (VisitorActivity(1, type=8),)
    assert [opportunity_from_wire(r, timezone=tz) for r in TRICKY] == list(page.records)


def test_models_are_built_by_their_attrs_constructor_and_keep_their_weakref_slot() -> None:
    import pickle
    import weakref

    record = parse_page(200, {}, json_ok(result={"total_results": 1, "opportunity": TRICKY[0]})).records[0]
    assert type(record) is Opportunity
    assert weakref.ref(record)() is record
    assert pickle.loads(pickle.dumps(record)) == record
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        record.name = "b"  # type: ignore[misc]
    package = Path(_parse.__file__).parent
    for path in package.rglob("*.py"):
        source = path.read_text()
        assert "exec(" not in source, path
        assert ".__class__ =" not in source, path
