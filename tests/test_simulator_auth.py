"""Simulator authentication: OAuth bearer tokens, the token endpoint, legacy api keys, no auth."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
import xmltodict

from aeopp._constants import ERROR_MESSAGES
from aeopp.testing import PardotSimulator

pytestmark = pytest.mark.anyio

QUERY = "/api/opportunity/version/4/do/query"


@pytest.fixture
async def session() -> Any:
    async with aiohttp.ClientSession() as s:
        yield s


async def call(
    sim: PardotSimulator,
    session: aiohttp.ClientSession,
    headers: dict[str, str],
    path: str = QUERY,
    method: str = "GET",
    params: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
) -> tuple[int, Any]:
    async with session.request(
        method, sim.base_url + path, params={"format": "json", "limit": "1", **(params or {})}, data=data,
        headers=headers,
    ) as r:  # fmt: skip
        return r.status, json.loads(await r.text())


def bearer(sim: PardotSimulator, token: str | None = None) -> dict[str, str]:
    c = sim.credentials
    return {
        "Authorization": f"Bearer {token or c.access_token}",
        "Pardot-Business-Unit-Id": c.business_unit_id,
    }


def code(body: Any) -> int | None:
    if body["@attributes"]["stat"] == "ok":
        return None
    assert body["err"] == ERROR_MESSAGES[body["@attributes"]["err_code"]]
    result: int = body["@attributes"]["err_code"]
    return result


def test_credentials_shape_and_repr() -> None:
    sim = PardotSimulator(1)
    with pytest.raises(RuntimeError):
        _ = sim.credentials


async def test_credentials_started(pardot_simulator: PardotSimulator) -> None:
    c = pardot_simulator.credentials
    assert c.business_unit_id.startswith("0Uv")
    assert len(c.business_unit_id) == 18
    assert len(c.user_key) == 32
    assert int(c.user_key, 16) >= 0
    assert c.token_url == pardot_simulator.base_url + "/services/oauth2/token"
    text = repr(c)
    for secret in (c.access_token, c.password, c.user_key, c.client_secret, c.refresh_token, c.client_id):
        assert secret not in text
    assert c.business_unit_id in text


async def test_bearer_errors(pardot_simulator: PardotSimulator, session: aiohttp.ClientSession) -> None:
    sim = pardot_simulator
    c = sim.credentials
    status, body = await call(sim, session, bearer(sim))
    assert (status, code(body)) == (200, None)
    status, body = await call(sim, session, {"Pardot-Business-Unit-Id": c.business_unit_id})
    assert (status, code(body)) == (401, 184)
    status, body = await call(sim, session, bearer(sim, "nope"))
    assert (status, code(body)) == (401, 184)
    status, body = await call(sim, session, {"Authorization": f"Bearer {c.access_token}"})
    assert (status, code(body)) == (200, 181)
    status, body = await call(
        sim,
        session,
        {"Authorization": f"Bearer {c.access_token}", "Pardot-Business-Unit-Id": "0Uv000000000000AAA"},
    )
    assert code(body) == 201
    sim.settings.require_business_unit_header = False
    assert code((await call(sim, session, {"Authorization": f"Bearer {c.access_token}"}))[1]) is None
    for key in ("access_token", "api_key", "user_key", "password"):
        assert code((await call(sim, session, bearer(sim), params={key: "x"}))[1]) == 49
    # in a form body, credentials are not "in the query string"
    assert code((await call(sim, session, bearer(sim), method="POST", data={"api_key": "x"}))[1]) is None
    assert sim.stats.errors_by_code[184] == 2
    assert sim.stats.errors_by_code[49] == 4


async def test_token_expiry_after_requests_and_refresh(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    sim = pardot_simulator
    c = sim.credentials
    sim.settings.token_expires_after_requests = 2
    assert code((await call(sim, session, bearer(sim)))[1]) is None
    assert code((await call(sim, session, bearer(sim)))[1]) is None
    status, body = await call(sim, session, bearer(sim))
    assert (status, code(body)) == (401, 184)
    async with session.post(
        c.token_url,
        data={
            "grant_type": "refresh_token",
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            "refresh_token": c.refresh_token,
        },
    ) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("application/json")
        token = await r.json()
    assert set(token) == {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"}
    assert token["token_type"] == "Bearer"
    assert token["issued_at"].isdigit()
    assert token["access_token"] != c.access_token
    assert code((await call(sim, session, bearer(sim, token["access_token"])))[1]) is None
    assert code((await call(sim, session, bearer(sim, token["access_token"])))[1]) is None
    assert code((await call(sim, session, bearer(sim, token["access_token"])))[1]) == 184


async def test_token_expiry_after_seconds(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    sim = pardot_simulator
    now = [datetime(2025, 1, 1, tzinfo=timezone.utc)]
    sim.settings.clock = lambda: now[0]
    token = sim.issue_token()
    sim.settings.token_expires_after_seconds = 60
    assert code((await call(sim, session, bearer(sim, token)))[1]) is None
    now[0] += timedelta(seconds=59)
    assert code((await call(sim, session, bearer(sim, token)))[1]) is None
    now[0] += timedelta(seconds=1)
    assert code((await call(sim, session, bearer(sim, token)))[1]) == 184


async def test_oauth_grants_and_errors(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    c = pardot_simulator.credentials

    async def grant(**form: str) -> tuple[int, Any]:
        async with session.post(c.token_url, data=form) as r:
            return r.status, await r.json()

    status, body = await grant(
        grant_type="client_credentials", client_id=c.client_id, client_secret=c.client_secret
    )
    assert status == 200
    assert body["instance_url"] == pardot_simulator.base_url
    status, body = await grant(
        grant_type="refresh_token", client_id=c.client_id, client_secret=c.client_secret, refresh_token="bad"
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    assert body["error_description"]
    status, body = await grant(grant_type="client_credentials", client_id="x", client_secret=c.client_secret)
    assert (status, body["error"]) == (400, "invalid_client_id")
    status, body = await grant(grant_type="client_credentials", client_id=c.client_id, client_secret="x")
    assert (status, body["error"]) == (400, "invalid_client")
    status, body = await grant(grant_type="implicit")
    assert (status, body["error"]) == (400, "unsupported_grant_type")
    async with session.get(c.token_url) as r:
        assert r.status == 400


@pytest.mark.pardot_simulator(auth="apikey")
async def test_legacy_api_key(pardot_simulator: PardotSimulator, session: aiohttp.ClientSession) -> None:
    sim = pardot_simulator
    c = sim.credentials
    now = [datetime(2025, 1, 1, tzinfo=timezone.utc)]
    sim.settings.clock = lambda: now[0]
    login = {"email": c.email, "password": c.password, "user_key": c.user_key}
    async with session.post(sim.base_url + "/api/login/version/3", data=login) as r:
        doc = xmltodict.parse(await r.text())["rsp"]
    key = doc["api_key"]
    assert len(key) == 32
    assert "version" not in doc
    status, body = await call(sim, session, {}, "/api/login/version/4", "POST", data=login)
    assert body["api_key"] == key  # same key within the hour
    for header in (
        f"Pardot api_key={key}, user_key={c.user_key}",
        f"Pardot user_key={c.user_key},api_key={key}",
        f"Pardot  api_key={key} ,  user_key={c.user_key}",
    ):
        assert code((await call(sim, session, {"Authorization": header}))[1]) is None, header
    for header in ("", f"Pardot api_key={key}", f"Pardot api_key=x, user_key={c.user_key}", f"Bearer {key}"):
        status, body = await call(sim, session, {"Authorization": header})
        assert (status, code(body)) == (401, 1), header
    now[0] += timedelta(minutes=60)
    status, body = await call(sim, session, {"Authorization": f"Pardot api_key={key}, user_key={c.user_key}"})
    assert code(body) == 1
    status, body = await call(sim, session, {}, "/api/login/version/4", "POST", data=login)
    assert body["api_key"] != key
    status, body = await call(
        sim, session, {}, "/api/login/version/4", "POST", data={**login, "password": "x"}
    )
    assert code(body) == 15
    status, body = await call(
        sim, session, {}, "/api/login/version/4", "POST", params={"password": c.password}
    )
    assert code(body) == 49
    status, body = await call(sim, session, {}, "/api/login/version/4", "GET")
    assert code(body) == 60
    sim.settings.required_version = 4
    status, body = await call(sim, session, {}, "/api/login/version/4", "POST", data=login)
    assert body["version"] == 4


async def test_login_refused_in_bearer_mode(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    c = pardot_simulator.credentials
    login = {"email": c.email, "password": c.password, "user_key": c.user_key}
    _status, body = await call(pardot_simulator, session, {}, "/api/login/version/4", "POST", data=login)
    assert code(body) == 199


@pytest.mark.pardot_simulator(auth="none")
async def test_no_auth(pardot_simulator: PardotSimulator, session: aiohttp.ClientSession) -> None:
    status, body = await call(pardot_simulator, session, {})
    assert status == 200
    assert code(body) is None


@pytest.mark.pardot_simulator(opportunities=3)
async def test_token_endpoint_takes_query_parameters_and_basic_client_auth(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    """As Salesforce does, and as tap-pardot relies on: grant in the query string, client in Basic auth."""
    c = pardot_simulator.credentials
    params = {"grant_type": "refresh_token", "refresh_token": c.refresh_token}

    def basic(client_id: str, secret: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}

    async with session.post(c.token_url, params=params, headers=basic(c.client_id, c.client_secret)) as r:
        assert r.status == 200
        token = (await r.json())["access_token"]
    assert code((await call(pardot_simulator, session, bearer(pardot_simulator, token)))[1]) is None
    async with session.post(c.token_url, params=params, headers=basic(c.client_id, "nope")) as r:
        assert r.status == 400
        assert (await r.json())["error"] == "invalid_client"
