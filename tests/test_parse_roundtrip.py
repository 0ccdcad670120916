"""Generated pages in both wire formats, with the server's quirks, parsed back to the models they came from.

The tiny renderer below writes what Pardot writes: XML with empty elements for empty values, and PHP-style
JSON (one record as an object, numeric-looking strings as numbers, ``\\/`` escapes, null), with ``&`` sent
as an HTML entity inside values.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aeopp._parse import parse_opportunity, parse_page
from aeopp.models import Campaign, Opportunity, Page, Prospect, VisitorActivity

_INT = re.compile(r"-?[1-9][0-9]*|0")
_FLOAT = re.compile(r"-?(?:[1-9][0-9]*|0)\.[0-9]+")


def _php(value: Any) -> Any:
    """A wire string as PHP's numeric check would send it (numbers stay numbers, the rest text)."""
    if isinstance(value, str):
        if _INT.fullmatch(value):
            return _Raw(value)
        if _FLOAT.fullmatch(value):
            return _Raw(value)
        return value.replace("&", "&amp;")
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return _Raw(str(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict):
        return {key: _php(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_php(item) for item in value]
    return value


class _Raw(str):
    """A number literal to paste into the JSON text as is."""


def _json_text(value: Any) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_json_text(v) for v in value) + "]"
    return json.dumps(value).replace("/", "\\/")


def _collapse(items: list[Any]) -> Any:
    """PHP's XML-to-array: one child is an object, several a list, none null."""
    if not items:
        return None
    return items[0] if len(items) == 1 else items


def wire_record(opportunity: Opportunity) -> dict[str, Any]:
    """The wire fields of a model (values as the server holds them, before any encoding)."""
    record: dict[str, Any] = {
        "id": opportunity.id,
        "campaign_id": opportunity.campaign_id,
        "name": opportunity.name,
        "value": opportunity.value,
        "probability": opportunity.probability,
        "type": opportunity.type,
        "stage": opportunity.stage,
        "status": opportunity.status,
        "closed_at": opportunity.closed_at,
        "created_at": opportunity.created_at,
        "updated_at": opportunity.updated_at,
    }
    if opportunity.campaign is not None:
        record["campaign"] = {"id": opportunity.campaign.id, "name": opportunity.campaign.name}
    record["prospects"] = [
        {
            "id": p.id,
            "email": p.email,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "company": p.company,
        }
        for p in opportunity.prospects
    ]
    record["opportunity_activities"] = [
        {
            "id": a.id,
            "prospect_id": a.prospect_id,
            "opportunity_id": a.opportunity_id,
            "type": a.type,
            "type_name": a.type_name,
            "details": a.details,
            "created_at": a.created_at,
        }
        for a in opportunity.activities
    ]
    return record


def render_json(records: list[Opportunity], *, total: int | None, read: bool = False) -> bytes:
    rows = []
    for opportunity in records:
        row = wire_record(opportunity)
        prospects = _collapse(row.pop("prospects"))
        activities = _collapse(row.pop("opportunity_activities"))
        row["prospects"] = None if prospects is None else {"prospect": prospects}
        if activities is not None:
            row["opportunity_activities"] = {"visitor_activity": activities}
        rows.append(_php(row))
    envelope: dict[str, Any] = {"@attributes": {"stat": "ok", "version": _Raw("1")}}
    if read:
        envelope["opportunity"] = rows[0]
    else:
        result: dict[str, Any] = {} if total is None else {"total_results": _Raw(str(total))}
        if rows:
            result["opportunity"] = _collapse(rows)
        envelope["result"] = result
    return _json_text(envelope).encode()


def _xml_value(key: str, value: Any) -> str:
    if value is None or value == []:
        return f"<{key}/>"
    if isinstance(value, dict):
        return f"<{key}>" + "".join(_xml_value(k, v) for k, v in value.items()) + f"</{key}>"
    if isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M:%S")
    text = escape(str(value).replace("&", "&amp;"))
    return f"<{key}>{text}</{key}>"


def render_xml(records: list[Opportunity], *, total: int | None, read: bool = False) -> bytes:
    parts = []
    for opportunity in records:
        row = wire_record(opportunity)
        prospects = row.pop("prospects")
        activities = row.pop("opportunity_activities")
        inner = "".join(_xml_value(k, v) for k, v in row.items())
        inner += "<prospects>" + "".join(_xml_value("prospect", p) for p in prospects) + "</prospects>"
        if activities:
            inner += (
                "<opportunity_activities>"
                + "".join(_xml_value("visitor_activity", a) for a in activities)
                + "</opportunity_activities>"
            )
        parts.append(f"<opportunity>{inner}</opportunity>")
    body = "".join(parts)
    if not read:
        body = "<result>" + ("" if total is None else f"<total_results>{total}</total_results>") + body
        body += "</result>"
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<rsp stat="ok" version="1.0">\n{body}\n</rsp>\n'.encode()


RENDERERS = [render_json, render_xml]


def make(i: int, *, prospects: int = 1, name: str | None = None) -> Opportunity:
    return Opportunity(
        id=i,
        name=f"Opportunity {i}" if name is None else name,
        value=Decimal(i) / 4,
        probability=i % 101,
        type=str(2000 + i % 30),  # numeric-looking: a number in JSON
        stage="Proposal/Price Quote",
        status=("won", "lost", "open")[i % 3],
        campaign_id=i % 5 + 1,
        campaign=Campaign(id=i % 5 + 1, name=f"Campaign {i % 5 + 1} & Co"),
        closed_at=None,
        created_at=datetime(2024, 1, 1 + i % 28, 12, 0, i % 60),
        updated_at=datetime(2024, 2, 1 + i % 28, 13, 30, 0),
        prospects=tuple(
            Prospect(
                id=1000 * i + k, email=f"p{k}@example.com", first_name="Ann", last_name="Lee", company=None
            )
            for k in range(prospects)
        ),
    )


@pytest.mark.parametrize("render", RENDERERS)
@pytest.mark.parametrize("k", [0, 1, 2, 200])
def test_generated_pages(render: Any, k: int) -> None:
    records = [make(i, prospects=i % 3) for i in range(1, k + 1)]
    page = parse_page(200, {}, render(records, total=1000))
    assert page == Page(1000, tuple(records))
    bulk = parse_page(200, {}, render(records, total=None))
    assert bulk == Page(None, tuple(records))


@pytest.mark.parametrize("render", RENDERERS)
def test_generated_read_with_activities(render: Any) -> None:
    record = make(7, prospects=2)
    activities = (
        VisitorActivity(
            id=1,
            prospect_id=7001,
            opportunity_id=7,
            type=19,
            type_name="Opportunity Linked",
            details="http://example.com/a?b=1&c=2",
            created_at=datetime(2024, 3, 4, 5, 6, 7),
        ),
        VisitorActivity(id=2, prospect_id=7000, opportunity_id=7, type=8, type_name="New Opportunity"),
    )
    for full in (
        record,
        attrs_evolve(record, activities=activities[:1]),
        attrs_evolve(record, activities=activities),
    ):
        assert parse_opportunity(200, {}, render([full], total=None, read=True)) == full


def attrs_evolve(record: Opportunity, **changes: Any) -> Opportunity:
    return attrs.evolve(record, **changes)


def test_renderer_really_has_the_json_quirks() -> None:
    one = render_json([make(1, name="2024")], total=1).decode()
    assert '"opportunity": {' in one  # one record: an object
    assert '"name": 2024' in one  # numeric-looking text: a number
    assert '"type": 2001' in one
    assert "Proposal\\/Price Quote" in one  # PHP's escaped slash
    assert "&amp; Co" in one  # & as an HTML entity
    assert '"closed_at": null' in one
    assert '"prospect": {' in one
    many = render_json([make(1), make(2, prospects=2)], total=2).decode()
    assert '"opportunity": [' in many
    assert '"prospect": [' in many


def test_renderer_really_has_the_xml_quirks() -> None:
    xml = render_xml([make(1, prospects=0)], total=1).decode()
    assert "<closed_at/>" in xml
    assert "<prospects></prospects>" in xml
    assert "&amp;amp; Co" in xml


# -- hypothesis: any k, any name and value survive the trip -------------------------------------

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn")), min_size=1, max_size=40
).map(str.strip)
_NUMERIC_TEXT = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False).map(
        str
    ),
    st.from_regex(r"0[0-9]{1,5}", fullmatch=True),  # leading zero: stays text in PHP's JSON
)
NAMES = st.one_of(
    _TEXT, _NUMERIC_TEXT, st.just("Tom & Jerry"), st.just("a &amp; b"), st.just("x/y\\z\"q'")
).filter(bool)
VALUES = st.one_of(
    st.none(),
    st.integers(0, 10**9).map(Decimal),
    st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
)


@st.composite
def opportunities(draw: st.DrawFn, i: int) -> Opportunity:
    return Opportunity(
        id=i,
        name=draw(NAMES),
        value=draw(VALUES),
        probability=draw(st.none() | st.integers(0, 100)),
        type=draw(st.none() | NAMES),
        stage=draw(st.none() | NAMES),
        campaign=draw(st.none() | st.builds(Campaign, id=st.integers(1, 99), name=NAMES)),
        created_at=draw(st.none() | st.datetimes(datetime(1971, 1, 1), datetime(2100, 1, 1)).map(_seconds)),
        prospects=tuple(
            draw(
                st.lists(
                    st.builds(Prospect, id=st.integers(1, 10**9), email=NAMES, company=st.none() | NAMES),
                    max_size=3,
                )
            )
        ),
    )


def _seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _fill_campaign_id(record: Opportunity) -> Opportunity:
    # The parser takes campaign_id from the campaign node when the field itself is absent.
    return attrs_evolve(record, campaign_id=record.campaign.id if record.campaign else None)


@settings(max_examples=60, deadline=None)
@given(k=st.sampled_from([0, 1, 2, 200]), render=st.sampled_from(RENDERERS))
def test_k_records_give_k_models(k: int, render: Any) -> None:
    records = [make(i, prospects=i % 4) for i in range(1, k + 1)]
    page = parse_page(200, {"Content-Type": "text/plain"}, render(records, total=k))
    assert len(page) == k
    assert page.total_results == k
    assert [o.id for o in page.opportunities] == list(range(1, k + 1))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), k=st.integers(1, 4), render=st.sampled_from(RENDERERS))
def test_random_names_and_values_round_trip(data: st.DataObject, k: int, render: Any) -> None:
    records = [_fill_campaign_id(data.draw(opportunities(i))) for i in range(1, k + 1)]
    page = parse_page(200, {}, render(records, total=k))
    assert page.opportunities == tuple(records)
    one = parse_opportunity(200, {}, render(records[:1], total=None, read=True))
    assert one == records[0]
