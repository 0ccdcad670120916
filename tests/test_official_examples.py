"""The official Opportunity page's examples, run against the simulator in XML and JSON, v3 and v4.

Raw aiohttp with the bearer credentials (the page: "Include the authentication header with every
request"); answers are parsed here with xmltodict / json and checked field by field against the
simulator's store. The examples: create "Large Customer Opportunity" for jdoe@company.com (value
100, probability 70), read 1234, query sorted by probability ascending, update 1234's name to
"Large Opportunity", delete 1234 (then read -> 35) and undelete 1234 (then read works).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import attrs
import pytest
import xmltodict

from aeopp.testing import PardotSimulator, StoredOpportunity

pytestmark = pytest.mark.anyio

EXAMPLE_ID = 1234
EMAIL = "jdoe@company.com"
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\Z")
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


@attrs.frozen
class Answer:
    status: int
    content_type: str | None
    text: str


class Api:
    """One simulator, one format, one API version: requests as the official page writes them."""

    def __init__(self, sim: PardotSimulator, session: aiohttp.ClientSession, version: int, fmt: str) -> None:
        self.sim = sim
        self.session = session
        self.version = version
        self.fmt = fmt

    async def call(
        self,
        method: str,
        op_path: str,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> Answer:
        url = f"{self.sim.base_url}/api/opportunity/version/{self.version}/do/{op_path}"
        query = dict(params or {})
        if self.fmt == "json":
            query["format"] = "json"
        c = self.sim.credentials
        headers = {"Authorization": f"Bearer {c.access_token}", "Pardot-Business-Unit-Id": c.business_unit_id}
        async with self.session.request(method, url, params=query, data=data, headers=headers) as response:
            return Answer(response.status, response.headers.get("Content-Type"), await response.text())

    def ok(self, answer: Answer) -> dict[str, Any]:
        """The success envelope's content, after checking status, content type and envelope."""
        assert answer.status == 200, answer.text
        if self.fmt == "xml":
            assert answer.content_type is not None
            assert answer.content_type.split(";")[0] in ("text/xml", "application/xml")
            assert answer.text.startswith(XML_DECLARATION)
            rsp: dict[str, Any] = xmltodict.parse(answer.text)["rsp"]
            assert rsp["@stat"] == "ok"
            assert rsp["@version"] == "1.0"
            return {k: v for k, v in rsp.items() if not k.startswith("@")}
        assert answer.content_type == "application/json"  # exactly: PyPardot4 compares the whole header
        assert "/" not in answer.text.replace("\\/", ""), "PHP's json_encode escapes every slash"
        body: dict[str, Any] = json.loads(answer.text)
        assert body.pop("@attributes") == {"stat": "ok", "version": 1}
        return body

    def fail(self, answer: Answer, code: int, message: str) -> None:
        """Check a failure envelope with this code and message."""
        assert answer.status == self.sim.settings.error_http_status
        if self.fmt == "xml":
            rsp = xmltodict.parse(answer.text)["rsp"]
            assert rsp["@stat"] == "fail"
            assert rsp["@version"] == "1.0"
            assert rsp["err"] == {"@code": str(code), "#text": message}
        else:
            assert answer.content_type == "application/json"
            body = json.loads(answer.text)
            assert body == {"@attributes": {"stat": "fail", "version": 1, "err_code": code}, "err": message}


@pytest.fixture(params=[3, 4], ids=["v3", "v4"])
def version(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture(params=["xml", "json"])
def fmt(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def api(version: int, fmt: str) -> AsyncIterator[Api]:
    async with PardotSimulator(opportunities=50, seed=3) as sim, aiohttp.ClientSession() as session:
        assert EXAMPLE_ID in sim.store.ids()
        assert sim.store.prospects_by_email(EMAIL)
        yield Api(sim, session, version, fmt)


def _items(node: Any) -> list[Any]:
    """A collection that may be missing (None), one object, or a list."""
    if node is None:
        return []
    return node if isinstance(node, list) else [node]


def _text(value: Any) -> str | None:
    """A string field as the client must read it: numbers back to text, HTML entities decoded."""
    if value is None:
        return None
    assert not isinstance(value, (dict, list, bool)), value
    return html.unescape(str(value))


def _int(value: Any, fmt: str) -> int:
    if fmt == "json":
        assert isinstance(value, int), value
        assert not isinstance(value, bool), value
    return int(value)


def _when(moment: datetime | None, tz: ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def check_opportunity(api: Api, got: dict[str, Any], record: StoredOpportunity, *, read: bool) -> None:
    """Every field of ``got`` against the stored record (timestamps in the account time zone)."""
    fmt, store = api.fmt, api.sim.store
    tz = ZoneInfo(api.sim.settings.timezone)
    assert _int(got["id"], fmt) == record.id
    assert _text(got["name"]) == record.name
    if fmt == "json":
        assert isinstance(got["value"], (int, float)), got["value"]
    assert Decimal(str(got["value"])) == record.value
    assert _int(got["probability"], fmt) == record.probability
    for key in ("type", "stage", "status"):
        assert _text(got[key]) == getattr(record, key), key
    for key in ("closed_at", "created_at", "updated_at"):
        assert got.get(key) == _when(getattr(record, key), tz), key
        assert got.get(key) is None or TIMESTAMP.match(got[key])
    if record.campaign_id is None:
        assert got["campaign_id"] is None
        assert got["campaign"] is None
    else:
        campaign = store.campaign(record.campaign_id)
        assert campaign is not None
        assert _int(got["campaign_id"], fmt) == record.campaign_id
        assert _int(got["campaign"]["id"], fmt) == campaign.id
        assert _text(got["campaign"]["name"]) == campaign.name
    prospects = _items((got["prospects"] or {}).get("prospect"))
    assert [_int(p["id"], fmt) for p in prospects] == list(record.prospect_ids)
    for p in prospects:
        stored = store.prospects[int(p["id"])]
        assert _text(p["email"]) == stored.email
        assert _text(p["first_name"]) == stored.first_name
        assert _text(p["last_name"]) == stored.last_name
    if read:  # the read example: "including campaign assignment and associated visitor activities"
        activities = _items((got["opportunity_activities"] or {}).get("visitor_activity"))
        assert [_int(a["id"], fmt) for a in activities] == [a.id for a in record.activities]
        for a, stored_activity in zip(activities, record.activities, strict=True):
            assert _int(a["type"], fmt) == stored_activity.type
            assert _text(a["type_name"]) == stored_activity.type_name
            assert _int(a["opportunity_id"], fmt) == record.id
            assert a["created_at"] == _when(stored_activity.created_at, tz)


async def test_create_by_prospect_email(api: Api) -> None:
    store = api.sim.store
    before = set(store.ids())
    answer = await api.call(
        "POST",
        f"create/prospect_email/{EMAIL}",
        data={"name": "Large Customer Opportunity", "value": "100", "probability": "70"},
    )
    body = api.ok(answer)
    assert set(body) == {"opportunity"}  # no <result>, no total_results on create
    got = body["opportunity"]
    (new_id,) = set(store.ids()) - before
    assert new_id > max(before)
    assert _int(got["id"], api.fmt) == new_id
    record = store.get(new_id)
    assert (record.name, record.value, record.probability) == ("Large Customer Opportunity", 100, 70)
    assert got["name"] == "Large Customer Opportunity"
    assert str(got["value"]) == "100"
    assert str(got["probability"]) == "70"
    assert got["created_at"] == got["updated_at"]
    (prospect,) = _items(got["prospects"]["prospect"])
    assert prospect["email"] == EMAIL
    assert int(prospect["id"]) in {p.id for p in store.prospects_by_email(EMAIL)}
    check_opportunity(api, got, record, read=False)


async def test_read(api: Api) -> None:
    body = api.ok(await api.call("GET", f"read/id/{EXAMPLE_ID}"))
    assert set(body) == {"opportunity"}
    check_opportunity(api, body["opportunity"], api.sim.store.get(EXAMPLE_ID), read=True)


async def test_query_sorted_by_probability_ascending(api: Api) -> None:
    store = api.sim.store
    params = {"sort_by": "probability", "sort_order": "ascending"}
    body = api.ok(await api.call("GET", "query", params=params))
    result = body["result"]
    assert _int(result["total_results"], api.fmt) == len(store) == 50
    got = _items(result["opportunity"])
    if api.fmt == "json":
        assert isinstance(result["opportunity"], list)
    probabilities = [int(o["probability"]) for o in got]
    assert probabilities == sorted(probabilities)
    # Ties in probability: ascending id (the simulator's documented choice; Pardot's is unknown).
    expected = sorted(store.all(), key=lambda r: (r.probability, r.id))
    assert [int(o["id"]) for o in got] == [r.id for r in expected]
    for o, record in zip(got, expected, strict=True):
        check_opportunity(api, o, record, read=False)


async def test_update_name(api: Api) -> None:
    store = api.sim.store
    old = store.get(EXAMPLE_ID)
    body = api.ok(await api.call("POST", f"update/id/{EXAMPLE_ID}", data={"name": "Large Opportunity"}))
    assert set(body) == {"opportunity"}
    new = store.get(EXAMPLE_ID)
    assert new.name == "Large Opportunity"
    # "Fields that aren't specified in the request aren't changed."
    assert attrs.evolve(new, name=old.name, updated_at=old.updated_at) == old
    assert new.updated_at >= old.updated_at
    assert body["opportunity"]["name"] == "Large Opportunity"
    check_opportunity(api, body["opportunity"], new, read=False)
    again = api.ok(await api.call("GET", f"read/id/{EXAMPLE_ID}"))
    assert again["opportunity"]["name"] == "Large Opportunity"


async def test_delete_then_read_is_35(api: Api) -> None:
    store = api.sim.store
    answer = await api.call("DELETE", f"delete/id/{EXAMPLE_ID}")
    assert (answer.status, answer.text) == (204, "")  # "it doesn't return a response"
    assert EXAMPLE_ID not in store.ids()
    assert EXAMPLE_ID in store.ids(include_deleted=True)
    api.fail(await api.call("GET", f"read/id/{EXAMPLE_ID}"), 35, "Invalid opportunity ID")
    params = {"sort_by": "id", "sort_order": "ascending"}
    result = api.ok(await api.call("GET", "query", params=params))["result"]
    assert int(result["total_results"]) == 49
    assert EXAMPLE_ID not in [int(o["id"]) for o in _items(result["opportunity"])]


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_undelete_then_read_works(api: Api, method: str) -> None:
    store = api.sim.store
    record = store.get(EXAMPLE_ID)
    store.delete(EXAMPLE_ID)
    api.fail(await api.call("GET", f"read/id/{EXAMPLE_ID}"), 35, "Invalid opportunity ID")
    answer = await api.call(method, f"undelete/id/{EXAMPLE_ID}")  # the page: "GET and POST"
    assert (answer.status, answer.text) == (204, "")
    assert EXAMPLE_ID in store.ids()
    body = api.ok(await api.call("GET", f"read/id/{EXAMPLE_ID}"))
    check_opportunity(api, body["opportunity"], store.get(EXAMPLE_ID), read=True)
    assert _int(body["opportunity"]["id"], api.fmt) == record.id
    assert _text(body["opportunity"]["name"]) == record.name


async def test_the_field_checks_catch_differences(api: Api) -> None:
    """The comparison above is not vacuous: any changed field of the record makes it fail."""
    record = api.sim.store.get(EXAMPLE_ID)
    got = api.ok(await api.call("GET", f"read/id/{EXAMPLE_ID}"))["opportunity"]
    check_opportunity(api, got, record, read=True)
    other_prospect = next(p for p in api.sim.store.prospects if p not in record.prospect_ids)
    variants = [
        attrs.evolve(record, name=record.name + "x"),
        attrs.evolve(record, value=record.value + Decimal("0.01")),
        attrs.evolve(record, probability=(record.probability + 1) % 101),
        attrs.evolve(record, status="won" if record.status != "won" else "lost"),
        attrs.evolve(record, updated_at=record.updated_at + timedelta(seconds=1)),
        attrs.evolve(record, prospect_ids=(other_prospect,)),
        attrs.evolve(record, activities=record.activities[:-1]),
    ]
    for variant in variants:
        with pytest.raises(AssertionError):
            check_opportunity(api, got, variant, read=True)
