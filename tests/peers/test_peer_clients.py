"""Fidelity: Pardot clients we did not write fetch every opportunity from the simulator.

PyPardot4 1.1.14 (legacy api_key login), PyPardotSF 0.1.1 (Salesforce OAuth refresh token +
business unit header) and tap-pardot 1.4.9 (Singer tap; api_key or OAuth config) each run the way
their own documentation tells a user to, with only the base URL and the credentials changed. The
two pypardot packages force ``format=json`` and tap-pardot forces json too, so XML is exercised by
``tests/test_official_examples.py`` instead. Counts per scenario appear in the terminal summary.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from peerlib import redact, run_driver

from aeopp.testing import PardotSimulator

pytestmark = [pytest.mark.peers, pytest.mark.anyio]

SIZES = [0, 1, 201, 1000]
PAGE = 200
SEED = 11


def _job(sim: PardotSimulator, **extra: Any) -> dict[str, Any]:
    c = sim.credentials
    job = {
        "base_url": sim.base_url,
        "token_url": c.token_url,
        "email": c.email,
        "password": c.password,
        "user_key": c.user_key,
        "client_id": c.client_id,
        "client_secret": c.client_secret,
        "refresh_token": c.refresh_token,
        "business_unit_id": c.business_unit_id,
    }
    job.update(extra)
    return job


def _secrets(sim: PardotSimulator) -> list[str]:
    c = sim.credentials
    return [c.password, c.user_key, c.client_secret, c.refresh_token, c.access_token, c.client_id]


def _pages(n: int) -> int:
    """Offset pages a walk of ``n`` records requests (one even when there are none)."""
    return max(1, -(-n // PAGE))


def _counts(sim: PardotSimulator) -> str:
    ops = dict(sorted(sim.stats.requests_by_operation.items()))
    errors = dict(sorted(sim.stats.errors_by_code.items()))
    return f"requests={sim.stats.requests} {ops} errors={errors}"


async def _pypardot(
    peer_target: Path, auth: str, n: int, version: int
) -> tuple[PardotSimulator, dict[str, Any]]:
    sim_auth = "apikey" if auth == "apikey" else "bearer"
    async with PardotSimulator(opportunities=n, seed=SEED, auth=sim_auth) as sim:
        rc, out, err = await run_driver(
            "pypardot_driver.py", peer_target, _job(sim, auth=auth, version=version)
        )
        assert rc == 0, redact(err, _secrets(sim))
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return sim, result


def _check_offset_walk(sim: PardotSimulator, result: dict[str, Any], n: int) -> None:
    expected = sim.store.ids()
    assert len(expected) == n
    assert [p["offset"] for p in result["pages"]] == [PAGE * i for i in range(_pages(n))]
    assert all(p["total_results"] == n for p in result["pages"])
    if n > 1 and n % PAGE == 1:
        # The package's own bug (PyPardot4 issue #40, inherited by PyPardotSF): query() makes
        # result['opportunity'] a list only when total_results == 1, but Pardot collapses the list
        # to an object whenever *this page* holds one record. The README's loop then iterates the
        # dict's keys and calls .get on a str: the walk dies with the last record unread.
        assert result["error"] == "AttributeError: 'str' object has no attribute 'get'"
        assert result["pages"][-1]["records_type"] == "dict"
        assert result["ids"] == expected[: n - 1]
    else:
        assert result["error"] is None
        assert all(p["records_type"] == "list" for p in result["pages"])
        assert result["ids"] == expected


@pytest.mark.parametrize("peer_target", ["pypardot4"], indirect=True)
@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("n", SIZES)
async def test_pypardot4_offset_walk(peer_target: Path, n: int, version: int, peer_report: list[str]) -> None:
    sim, result = await _pypardot(peer_target, "apikey", n, version)
    _check_offset_walk(sim, result, n)
    ops = sim.stats.requests_by_operation
    assert ops["login"] == 1  # p.authenticate() once; the api_key then stays valid
    assert ops["query"] == _pages(n)
    assert sim.stats.errors_by_code == {}
    assert all(
        r.startswith(("POST /api/login/version/", "GET /api/opportunity/version/"))
        for r in result["requests"]
    )
    peer_report.append(
        f"pypardot4  v{version} apikey N={n:<5} fetched={len(result['ids']):<5} {_counts(sim)}"
    )


@pytest.mark.parametrize("peer_target", ["pypardotsf"], indirect=True)
@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("n", SIZES)
async def test_pypardotsf_offset_walk(
    peer_target: Path, n: int, version: int, peer_report: list[str]
) -> None:
    sim, result = await _pypardot(peer_target, "oauth", n, version)
    _check_offset_walk(sim, result, n)
    ops = sim.stats.requests_by_operation
    # PyPardotSF starts with the placeholder token "dummy": the first query is refused with 184,
    # it refreshes at the token endpoint once and replays. It also tries a legacy login (no
    # credentials) before *every* call, since its api_key stays None in OAuth mode: refused 199.
    assert ops["token"] == 1
    assert ops["query"] == _pages(n) + 1
    assert ops["login"] == ops["query"]
    assert sim.stats.errors_by_code == {184: 1, 199: ops["login"]}
    peer_report.append(
        f"pypardotsf v{version} oauth  N={n:<5} fetched={len(result['ids']):<5} {_counts(sim)}"
    )


async def _tap(
    peer_target: Path, n: int, auth: str, required_version: int | None = None
) -> tuple[PardotSimulator, list[dict[str, Any]], int, str]:
    sim_auth = "apikey" if auth == "apikey" else "bearer"
    async with PardotSimulator(opportunities=n, seed=SEED, auth=sim_auth) as sim:
        sim.settings.required_version = required_version
        c = sim.credentials
        config: dict[str, Any] = {"start_date": "2000-01-01T00:00:00Z"}
        if auth == "apikey":
            config.update(email=c.email, password=c.password, user_key=c.user_key)
        else:
            config.update(
                client_id=c.client_id,
                client_secret=c.client_secret,
                refresh_token=c.refresh_token,
                pardot_business_unit_id=c.business_unit_id,
            )
        with tempfile.TemporaryDirectory() as workdir:
            job = {"base_url": sim.base_url, "token_url": c.token_url, "config": config, "workdir": workdir}
            rc, out, err = await run_driver("tap_pardot_driver.py", peer_target, job)
        err = redact(err, _secrets(sim))
    messages = [json.loads(line) for line in out.splitlines() if line.strip()]
    return sim, messages, rc, err


def _records(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == "opportunities"]


@pytest.mark.parametrize("peer_target", ["tap-pardot"], indirect=True)
@pytest.mark.parametrize("n", SIZES)
async def test_tap_pardot_sync_apikey(peer_target: Path, n: int, peer_report: list[str]) -> None:
    sim, messages, rc, err = await _tap(peer_target, n, "apikey")
    assert rc == 0, err
    records = _records(messages)
    assert [r["id"] for r in records] == sim.store.ids()
    assert len(records) == n
    assert messages[0]["type"] == "SCHEMA"
    ops = sim.stats.requests_by_operation
    # Keyset walk: id_greater_than=<last id>, sort_by=id, output=bulk; it stops on an empty page.
    assert ops["login"] == 1
    assert ops["query"] == -(-n // PAGE) + 1
    assert sim.stats.errors_by_code == {}
    if n:
        # The bookmark keeps Pardot's raw "YYYY-MM-DD HH:MM:SS" (account time zone); singer's
        # Transformer rewrites the records' copy as ISO 8601 and labels that naive time "Z".
        last = [m for m in messages if m["type"] == "STATE"][-1]["value"]
        bookmark = last["bookmarks"]["opportunities"]["updated_at"]
        assert bookmark.replace(" ", "T") + ".000000Z" == max(r["updated_at"] for r in records)
    peer_report.append(f"tap-pardot v4 apikey N={n:<5} records={len(records):<5} {_counts(sim)}")


@pytest.mark.parametrize("peer_target", ["tap-pardot"], indirect=True)
async def test_tap_pardot_switches_to_v3_on_89(peer_target: Path, peer_report: list[str]) -> None:
    n = 201
    sim, messages, rc, err = await _tap(peer_target, n, "apikey", required_version=3)
    assert rc == 0, err
    assert [r["id"] for r in _records(messages)] == sim.store.ids()
    assert sim.stats.errors_by_code == {89: 1}
    assert sim.stats.requests_by_operation["query"] == 1 + 3
    peer_report.append(f"tap-pardot v4->v3 (89) N={n:<5} records={len(_records(messages)):<5} {_counts(sim)}")


@pytest.mark.parametrize("peer_target", ["tap-pardot"], indirect=True)
async def test_tap_pardot_sync_oauth(peer_target: Path, peer_report: list[str]) -> None:
    n = 201
    sim, messages, rc, err = await _tap(peer_target, n, "oauth")
    assert rc == 0, err
    records = _records(messages)
    assert [r["id"] for r in records] == sim.store.ids()
    assert sim.stats.requests_by_operation["token"] == 1
    peer_report.append(f"tap-pardot v4 oauth  N={n:<5} records={len(records):<5} {_counts(sim)}")
