"""The simulator's wire behaviour: routes, methods, envelopes, JSON/XML quirks, CRUD (raw aiohttp)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
import xmltodict

from aeopp._constants import ERROR_MESSAGES
from aeopp.testing import PardotSimulator

pytestmark = pytest.mark.anyio

UTC = timezone.utc


class Api:
    """Raw HTTP to a simulator, with its bearer credentials unless told otherwise."""

    def __init__(self, sim: PardotSimulator, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.session = session
        c = sim.credentials
        self.headers = {
            "Authorization": f"Bearer {c.access_token}",
            "Pardot-Business-Unit-Id": c.business_unit_id,
        }

    async def raw(
        self,
        path: str,
        method: str = "GET",
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str | None, str]:
        async with self.session.request(
            method,
            self.sim.base_url + path,
            params=params,
            data=data,
            headers=self.headers if headers is None else headers,
        ) as r:
            return r.status, r.headers.get("Content-Type"), await r.text()

    async def json(
        self, op: str, suffix: str = "", method: str = "GET", version: int = 4, **params: str
    ) -> Any:
        params.setdefault("format", "json")
        path = f"/api/opportunity/version/{version}/do/{op}{suffix}"
        if method == "GET":
            status, ctype, text = await self.raw(path, method, params=params)
        else:
            status, ctype, text = await self.raw(path, method, params={"format": "json"}, data=params)
        assert ctype == "application/json", (status, ctype, text)
        return json.loads(text)


@pytest.fixture
async def api(pardot_simulator: PardotSimulator) -> Any:
    async with aiohttp.ClientSession() as session:
        yield Api(pardot_simulator, session)


def err(body: Any) -> int:
    assert body["@attributes"]["stat"] == "fail", body
    assert body["err"] == ERROR_MESSAGES[body["@attributes"]["err_code"]]
    code: int = body["@attributes"]["err_code"]
    return code


# -- envelopes and formats --------------------------------------------------------------------------


async def test_read_json_full(api: Api) -> None:
    body = await api.json("read", "/id/1234")
    assert body["@attributes"] == {"stat": "ok", "version": 1}
    assert "result" not in body
    opp = body["opportunity"]
    stored = api.sim.store.get(1234)
    assert opp["id"] == 1234
    assert Decimal(str(opp["value"])) == stored.value
    assert opp["probability"] == stored.probability
    assert "campaign" in opp
    assert "prospects" in opp
    assert "opportunity_activities" in opp
    acts = opp["opportunity_activities"]["visitor_activity"]
    acts = acts if isinstance(acts, list) else [acts]
    assert [a["id"] for a in acts] == [a.id for a in stored.activities]
    assert {a["type"] for a in acts} <= {8, 9, 10, 18, 19, 38}


async def test_read_xml_envelope_and_content_type(api: Api) -> None:
    status, ctype, text = await api.raw("/api/opportunity/version/4/do/read/id/1234")
    assert status == 200
    assert ctype == "text/xml; charset=utf-8"
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<rsp stat="ok" version="1.0">')
    doc = xmltodict.parse(text)["rsp"]
    assert doc["@stat"] == "ok"
    assert doc["opportunity"]["id"] == "1234"
    assert "result" not in doc
    assert "opportunity_activities" in doc["opportunity"]


async def test_error_envelopes_exact(api: Api) -> None:
    status, ctype, text = await api.raw(
        "/api/opportunity/version/4/do/read/id/999999999", params={"format": "json"}
    )
    assert (status, ctype) == (200, "application/json")
    assert text == '{"@attributes":{"stat":"fail","version":1,"err_code":35},"err":"Invalid opportunity ID"}'
    status, ctype, text = await api.raw("/api/opportunity/version/4/do/read/id/999999999")
    assert ctype == "text/xml; charset=utf-8"
    assert text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rsp stat="fail" version="1.0">\n'
        '<err code="35">Invalid opportunity ID</err>\n</rsp>\n'
    )


async def test_error_http_status_setting(api: Api) -> None:
    api.sim.settings.error_http_status = 400
    status, _, _ = await api.raw("/api/opportunity/version/4/do/read/id/999999999")
    assert status == 400


@pytest.mark.parametrize(
    ("output", "campaign", "activities"), [("simple", True, False), ("mobile", False, False)]
)
async def test_read_outputs(api: Api, output: str, campaign: bool, activities: bool) -> None:
    opp = (await api.json("read", "/id/1234", output=output))["opportunity"]
    assert ("campaign" in opp) is campaign
    assert ("prospects" in opp) is campaign
    assert ("opportunity_activities" in opp) is activities
    assert opp["id"] == 1234


async def test_query_full_has_relations_but_no_activities(api: Api) -> None:
    result = (await api.json("query", limit="3"))["result"]
    assert result["total_results"] == len(api.sim.store)
    assert len(result["opportunity"]) == 3
    for opp in result["opportunity"]:
        assert "campaign" in opp
        assert "prospects" in opp
        assert "opportunity_activities" not in opp


async def test_query_simple_and_bulk(api: Api) -> None:
    simple = (await api.json("query", limit="2", output="simple"))["result"]
    assert "prospects" in simple["opportunity"][0]
    bulk = (await api.json("query", limit="2", output="bulk"))["result"]
    assert "total_results" not in bulk
    assert set(bulk["opportunity"][0]) == {
        "id", "campaign_id", "name", "value", "probability", "type", "stage", "status",
        "closed_at", "created_at", "updated_at",
    }  # fmt: skip
    _status, _, text = await api.raw(
        "/api/opportunity/version/4/do/query", params={"output": "bulk", "limit": "1"}
    )
    assert "total_results" not in text
    assert "<opportunity>" in text


@pytest.mark.pardot_simulator(opportunities=250)
async def test_query_mobile_has_no_cap(api: Api) -> None:
    result = (await api.json("query", output="mobile"))["result"]
    assert result["total_results"] == 250
    assert len(result["opportunity"]) == 250
    assert "campaign" not in result["opportunity"][0]
    capped = (await api.json("query"))["result"]
    assert len(capped["opportunity"]) == 200
    assert len((await api.json("query", output="mobile", offset="240"))["result"]["opportunity"]) == 10
    assert err(await api.json("query", limit="201")) == 23


async def test_one_record_is_an_object_zero_has_no_key(api: Api) -> None:
    one = (await api.json("query", limit="1"))["result"]
    assert isinstance(one["opportunity"], dict)
    assert one["total_results"] == len(api.sim.store)
    last = api.sim.store.ids()[-1]
    single = (await api.json("query", id_greater_than=str(last - 1)))["result"]
    assert single == {"total_results": 1, "opportunity": single["opportunity"]}
    assert isinstance(single["opportunity"], dict)
    zero = (await api.json("query", id_greater_than=str(last)))["result"]
    assert zero == {"total_results": 0}
    bulk_zero = await api.json("query", id_greater_than=str(last), output="bulk")
    assert bulk_zero["result"] is None
    _, _, text = await api.raw("/api/opportunity/version/4/do/query", params={"id_greater_than": str(last)})
    assert "<result><total_results>0</total_results></result>" in text


async def test_json_numeric_strings_slashes_entities_and_nulls(api: Api) -> None:
    store = api.sim.store
    pid = next(iter(store.prospects))
    made = [
        store.create(name="2024", value="100", probability=5, prospect_id=pid, stage="Negotiation/Review"),
        store.create(name="007", value="12.50", probability=5, prospect_id=pid, type="02110"),
        store.create(name="Smith & Sons <big>", value="0", probability=0, prospect_id=pid),
    ]
    last = made[0].id - 1
    _status, _, text = await api.raw(
        "/api/opportunity/version/4/do/query",
        params={"format": "json", "output": "mobile", "id_greater_than": str(last)},
    )
    assert r'"stage":"Negotiation\/Review"' in text
    assert '"name":2024' in text
    assert '"name":"007"' in text
    assert '"type":"02110"' in text
    assert '"value":12.5' in text
    assert '"name":"Smith &amp; Sons &lt;big&gt;"' in text
    assert '"status":null' in text
    assert '"closed_at":null' in text
    records = json.loads(text)["result"]["opportunity"]
    assert records[0]["value"] == 100
    assert records[0]["probability"] == 5
    assert records[2]["value"] == 0
    _, _, xml = await api.raw(
        "/api/opportunity/version/4/do/query", params={"output": "mobile", "id_greater_than": str(last)}
    )
    assert "<name>Smith &amp;amp; Sons &amp;lt;big&amp;gt;</name>" in xml
    assert "<status/>" in xml
    api.sim.settings.html_escape_strings = False
    _, _, text = await api.raw(
        "/api/opportunity/version/4/do/read/id/" + str(made[2].id),
        params={"format": "json", "output": "mobile"},
    )
    assert '"name":"Smith & Sons <big>"' in text


async def test_timestamps_in_account_time_zone(api: Api) -> None:
    store = api.sim.store
    rec = store.create(
        name="tz", value=1, probability=1, prospect_id=next(iter(store.prospects)),
        created_at=datetime(2024, 1, 15, 12, 0, 0, tzinfo=UTC),
    )  # fmt: skip
    opp = (await api.json("read", f"/id/{rec.id}"))["opportunity"]
    assert opp["created_at"] == "2024-01-15 07:00:00"  # America/New_York, winter
    api.sim.settings.timezone = "Asia/Tokyo"
    opp = (await api.json("read", f"/id/{rec.id}"))["opportunity"]
    assert opp["created_at"] == "2024-01-15 21:00:00"


# -- routes and methods ------------------------------------------------------------------------------


async def test_path_pairs_any_order_and_crim_order(api: Api) -> None:
    for path in (
        "/api/opportunity/version/4/do/read/id/1234",
        "/api/opportunity/do/read/version/4/id/1234",
        "/api/opportunity/id/1234/do/read/version/3",
        "/api/opportunity/version/4/do/read/id/1234/",
    ):
        _, _, text = await api.raw(path, params={"format": "json"})
        assert json.loads(text)["opportunity"]["id"] == 1234, path
    # Crim: version after do, id in the body
    _status, _, text = await api.raw(
        "/api/opportunity/do/read/version/4", "POST", data={"id": "1234", "format": "json"}
    )
    assert json.loads(text)["opportunity"]["id"] == 1234


async def test_parameter_precedence_path_body_query(api: Api) -> None:
    other = api.sim.store.ids()[0]
    # body wins over query
    _, _, text = await api.raw(
        "/api/opportunity/version/4/do/read",
        "POST",
        params={"id": str(other), "format": "json"},
        data={"id": "1234"},
    )
    assert json.loads(text)["opportunity"]["id"] == 1234
    # path wins over body and query
    _status, _, text = await api.raw(
        "/api/opportunity/version/4/do/read/id/1234",
        "POST",
        params={"id": str(other), "format": "json"},
        data={"id": str(other)},
    )
    assert json.loads(text)["opportunity"]["id"] == 1234


async def test_percent_encoded_email_in_path(api: Api) -> None:
    store = api.sim.store
    prospect = store.add_prospect(email="a.b+tag@example.com")
    body = await api.json(
        "create", "/prospect_email/a.b%2Btag%40example.com", "POST", name="n", value="5", probability="5"
    )
    assert store.get(body["opportunity"]["id"]).prospect_ids == (prospect.id,)


@pytest.mark.parametrize("op", ["read", "query", "update", "delete", "undelete", "create"])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_get_and_post_reach_every_operation(api: Api, op: str, method: str) -> None:
    body = await api.json(op, "/id/999999999" if op != "query" else "", method)
    if op == "query":
        assert body["@attributes"]["stat"] == "ok"
    elif op == "create":
        assert err(body) == 13
    else:
        assert err(body) == 35


async def test_methods(api: Api) -> None:
    assert err(await api.json("read", "/id/1234", "DELETE")) == 60
    assert err(await api.json("query", "", "PUT")) == 60
    assert err(await api.json("update", "/id/1234", "PATCH")) == 60
    assert (await api.raw("/api/opportunity/version/4/do/delete/id/1234", "DELETE"))[0] == 204
    assert api.sim.store.get(1234).deleted
    _status, _, _ = await api.raw("/api/login/version/4", "GET", params={"format": "json"})
    assert err(json.loads((await api.raw("/api/login/version/4", "GET", params={"format": "json"}))[2])) == 60


async def test_unknown_operation_object_and_version(api: Api) -> None:
    assert err(await api.json("upsert")) == 2
    _, _, text = await api.raw("/api/prospect/version/4/do/query", params={"format": "json"})
    assert err(json.loads(text)) == 2
    _status, _, text = await api.raw("/api/opportunity/version/5/do/query", params={"format": "json"})
    assert err(json.loads(text)) == 22


# -- writes ------------------------------------------------------------------------------------------


async def test_delete_undelete_204_and_hidden(api: Api) -> None:
    store = api.sim.store
    status, _ctype, text = await api.raw("/api/opportunity/version/4/do/delete/id/1234", "POST")
    assert (status, text) == (204, "")
    assert store.get(1234).deleted
    assert 1234 not in store.ids()
    assert 1234 in store.ids(include_deleted=True)
    assert err(await api.json("read", "/id/1234")) == 35
    assert err(await api.json("update", "/id/1234", "POST", name="x")) == 35
    assert err(await api.json("delete", "/id/1234", "POST")) == 35
    ids = await api.json("query", id_greater_than="1233", id_less_than="1235")
    assert ids["result"] == {"total_results": 0}
    status, _, text = await api.raw("/api/opportunity/version/4/do/undelete/id/1234", "POST")
    assert (status, text) == (204, "")
    assert not store.get(1234).deleted
    assert err(await api.json("undelete", "/id/1234", "POST")) == 35  # not deleted
    assert err(await api.json("undelete", "/id/999999999", "POST")) == 35
    assert (await api.json("read", "/id/1234"))["opportunity"]["id"] == 1234


async def test_create_by_email_and_id(api: Api) -> None:
    store = api.sim.store
    now = datetime(2025, 6, 1, 12, 30, 0, tzinfo=UTC)
    api.sim.settings.clock = lambda: now
    before_max = max(store.ids(include_deleted=True))
    body = await api.json(
        "create", "", "POST", prospect_email="jdoe@company.com", name="Large Customer Opportunity",
        value="100", probability="70",
    )  # fmt: skip
    opp = body["opportunity"]
    assert "result" not in body
    assert "opportunity_activities" not in opp
    assert opp["id"] > before_max
    assert opp["name"] == "Large Customer Opportunity"
    assert opp["value"] == 100
    assert opp["probability"] == 70
    assert opp["created_at"] == opp["updated_at"] == "2025-06-01 08:30:00"
    jdoes = store.prospects_by_email("jdoe@company.com")
    assert len(jdoes) == 2
    latest = max(jdoes, key=lambda p: p.last_activity_at or now)
    assert store.get(opp["id"]).prospect_ids == (latest.id,)
    assert store.get(opp["id"]).activities[0].type == 8
    pid = jdoes[0].id
    by_id = await api.json("create", f"/prospect_id/{pid}", "POST", name="b", value="1.5", probability="0")
    assert store.get(by_id["opportunity"]["id"]).prospect_ids == (pid,)
    assert store.get(by_id["opportunity"]["id"]).value == Decimal("1.5")
    both = await api.json(
        "create", "", "POST", prospect_id=str(pid), prospect_email="JDOE@company.com", name="c", value="1",
        probability="1",
    )  # fmt: skip
    assert both["@attributes"]["stat"] == "ok"
    assert (await api.json("read", f"/id/{by_id['opportunity']['id']}"))["opportunity"]["name"] == "b"


async def test_create_errors(api: Api) -> None:
    store = api.sim.store
    pid = str(next(iter(store.prospects)))
    ok = {"name": "n", "value": "10", "probability": "10", "prospect_id": pid}

    async def create(**changes: str) -> int:
        params = {k: v for k, v in {**ok, **changes}.items() if v != "<omit>"}
        return err(await api.json("create", "", "POST", **params))

    for field in ("name", "value", "probability", "prospect_id"):
        assert await create(**{field: "<omit>"}) == 13
    assert await create(name="") == 13
    assert await create(prospect_id="999999") == 3
    assert await create(prospect_id="abc") == 3
    assert await create(prospect_id="<omit>", prospect_email="nobody@nowhere.test") == 4
    assert await create(prospect_id="<omit>", prospect_email="not-an-email") == 4
    assert await create(prospect_id="<omit>", prospect_email="a" * 250 + "@b.com") == 4
    other = next(
        p for p in store.prospects.values() if p.id != int(pid) and p.email != store.prospects[int(pid)].email
    )
    assert await create(prospect_email=other.email) == 44
    assert await create(campaign_id="999") == 38
    assert await create(campaign_id="x") == 38
    for bad in ("101", "-1", "abc", "50.5"):
        assert await create(probability=bad) == 40
    for bad in ("-1", "abc", "1e5"):
        assert await create(value=bad) == 42
    assert await create(closed_at="nonsense") == 7
    assert len(store) == 100  # nothing was created


async def test_update(api: Api) -> None:
    store = api.sim.store
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    api.sim.settings.clock = lambda: now
    old = store.get(1234)
    body = await api.json("update", "/id/1234", "POST", name="Large Opportunity", status="won")
    opp = body["opportunity"]
    assert opp["name"] == "Large Opportunity"
    assert opp["status"] == "won"
    assert "campaign" in opp
    assert "opportunity_activities" not in opp
    new = store.get(1234)
    assert new.value == old.value
    assert new.probability == old.probability
    assert new.stage == old.stage
    assert new.updated_at == now
    assert new.activities[-1].type == 9
    await api.json("update", "/id/1234", "POST", stage="", type="")
    assert store.get(1234).stage is None
    assert store.get(1234).type is None
    # GET works too (2020 docs)
    await api.json("update", "/id/1234", "GET", value="50000")
    assert store.get(1234).value == 50000
    for field in ("name", "value", "probability", "campaign_id"):
        assert err(await api.json("update", "/id/1234", "POST", **{field: ""})) == 36
    assert err(await api.json("update", "/id/1234", "POST", probability="200")) == 40
    assert err(await api.json("update", "/id/1234", "POST", value="-5")) == 42
    assert err(await api.json("update", "/id/1234", "POST", campaign_id="4242")) == 38
    assert err(await api.json("update", "/id/abc", "POST", name="x")) == 16
    assert err(await api.json("update", "", "POST", name="x")) == 13
    assert err(await api.json("read", "/id/1.5")) == 16
    assert err(await api.json("read")) == 13
