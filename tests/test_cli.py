"""The ``aeopp`` commands against a simulator served from a background thread, over real HTTP."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aeopp import Cursor, _request
from aeopp._spec import OPPORTUNITY, Filter, ObjectSpec
from aeopp.cli import _export as cli_export
from aeopp.cli import main
from aeopp.cli._progress import Progress, render_progress
from aeopp.cli._settings import connection_parser
from aeopp.cli._writers import CSV_HEADER
from aeopp.errors import RequestValidationError
from aeopp.testing import PardotSimulator

ENV_NAMES = (
    "AEOPP_BASE_URL",
    "AEOPP_ACCESS_TOKEN",
    "AEOPP_BUSINESS_UNIT_ID",
    "AEOPP_API_VERSION",
    "AEOPP_EMAIL",
    "AEOPP_PASSWORD",
    "AEOPP_USER_KEY",
    "AEOPP_TIMEZONE",
    "AEOPP_REDIS_URL",
)


class ThreadedSimulator:
    """A PardotSimulator running on its own event loop in a thread, so ``main()`` can ``asyncio.run``."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.sim: PardotSimulator | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with PardotSimulator(**self.kwargs) as sim:
            self.sim = sim
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> PardotSimulator:
        self._thread.start()
        assert self._ready.wait(30), "simulator did not start"
        assert self.sim is not None
        return self.sim

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture(scope="module")
def sim() -> Iterator[PardotSimulator]:
    with ThreadedSimulator(opportunities=450, seed=11) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def reset_sim(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sim" in request.fixturenames:
        simulator: PardotSimulator = request.getfixturevalue("sim")
        simulator.clear_faults()
        simulator.settings.daily_quota = None
        simulator.reset_quota()


def flags(sim: PardotSimulator) -> list[str]:
    c = sim.credentials
    return [
        "--base-url",
        sim.base_url,
        "--access-token",
        c.access_token,
        "--business-unit-id",
        c.business_unit_id,
    ]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def assert_no_secrets(sim: PardotSimulator, *texts: str) -> None:
    c = sim.credentials
    for secret in (c.access_token, c.password, c.user_key, c.client_secret, c.refresh_token):
        for text in texts:
            assert secret not in text


# -- export ----------------------------------------------------------------------------------------


def test_export_jsonl_to_file(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "out.jsonl"
    status, out, err = run(capsys, "export", *flags(sim), "--page-size", "100", "--output", str(target))
    assert status == 0, err
    assert out == ""
    text = target.read_text("utf-8")
    assert text.endswith("\n")
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["id"] for r in records] == sim.store.ids()
    stored = sim.store.get(records[7]["id"])
    assert records[7]["name"] == stored.name
    assert records[7]["value"] == str(stored.value)
    assert [p["id"] for p in records[7]["prospects"]] == list(stored.prospect_ids)
    # the summary: one line, records, pages, requests, retries, seconds; no progress bar off a terminal
    (summary,) = err.splitlines()
    assert summary.startswith(f"exported {len(sim.store):,} records to {target} in ")
    assert " s: 5 pages, 5 requests, 0 retries" in summary
    assert "\r" not in err
    assert "\x1b" not in err
    assert_no_secrets(sim, out, err)


def test_export_quiet_prints_nothing_but_errors(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "export", *flags(sim), "--max-items", "3", "-q")
    assert (status, len(out.splitlines()), err) == (0, 3, "")
    status, out, err = run(capsys, "export", "--simulate", "30", "--latency-ms", "0", "--quiet")
    assert (status, len(out.splitlines()), err) == (0, 30, "")  # nor the comparison's computed bound
    status, _, err = run(capsys, "export", *flags(sim), "--max-items", "3", "-q", "--id-less-than", "0")
    assert status == 2
    assert err.startswith("aeopp export: error: --id-less-than")


def test_summary_counts_are_singular_for_one(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "export", *flags(sim), "--max-items", "1")
    assert status == 0, err
    assert err.startswith("exported 1 record to stdout in ")
    assert err.endswith(" s: 1 page, 1 request, 0 retries\n")
    sim.inject(code=66, times=1, operation="query")
    status, _, err = run(capsys, "export", *flags(sim), "--max-items", "3")
    assert err.endswith(" s: 1 page, 2 requests, 1 retry\n")


def test_export_csv_to_stdout(sim: PardotSimulator, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "export", *flags(sim), "--format", "csv", "--quiet")
    assert status == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == CSV_HEADER
    body = [dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]]
    assert [int(r["id"]) for r in body] == sim.store.ids()
    several = [r for r in body if ";" in r["prospect_ids"]]
    assert several, "the seeded data should hold an opportunity with several prospects"
    for row in [*several[:5], body[0], body[-1]]:
        stored = sim.store.get(int(row["id"]))
        prospects = [sim.store.prospects[i] for i in stored.prospect_ids]
        assert row["prospect_ids"] == ";".join(str(p.id) for p in prospects)
        assert row["prospect_emails"] == ";".join(p.email for p in prospects)
        campaign = sim.store.campaign(stored.campaign_id)
        assert row["campaign_id"] == ("" if campaign is None else str(campaign.id))
        assert row["campaign_name"] == ("" if campaign is None else campaign.name)
        assert row["probability"] == str(stored.probability)
        assert row["stage"] == (stored.stage or "")


def test_export_filters_and_sort(sim: PardotSimulator, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(
        capsys, "export", *flags(sim), "--probability-greater-than", "50", "--id-less-than", "5000",
        "--sort-by", "value", "--sort-order", "ascending",
    )  # fmt: skip
    assert status == 0, err
    got = [json.loads(line) for line in out.splitlines()]
    expected = sorted(
        (r for r in sim.store if r.probability > 50 and r.id < 5000), key=lambda r: (r.value, r.id)
    )
    assert got, "the filter should match some records"
    assert [r["id"] for r in got] == [r.id for r in expected]


def test_export_max_items_and_keyset(sim: PardotSimulator, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "export", *flags(sim), "--max-items", "7", "--strategy", "keyset")
    assert status == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == sim.store.ids()[:7]


def test_settings_from_environment(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    c = sim.credentials
    monkeypatch.setenv("AEOPP_BASE_URL", sim.base_url)
    monkeypatch.setenv("AEOPP_ACCESS_TOKEN", c.access_token)
    monkeypatch.setenv("AEOPP_BUSINESS_UNIT_ID", c.business_unit_id)
    monkeypatch.setenv("AEOPP_API_VERSION", "3")
    status, out, err = run(capsys, "export", "--max-items", "3")
    assert status == 0, err
    assert len(out.splitlines()) == 3
    # a flag wins over its variable
    monkeypatch.setenv("AEOPP_ACCESS_TOKEN", "not-the-token")
    status, out, err = run(capsys, "export", "--max-items", "2", "--access-token", c.access_token)
    assert status == 0, err
    assert len(out.splitlines()) == 2
    # and the variable is really used: a wrong one is refused by the server
    status, out, err = run(capsys, "export", "--max-items", "2")
    assert status == 1
    assert "Pardot error 184" in assert_one_line_error(err)
    assert "not-the-token" not in err


@pytest.mark.parametrize(
    ("argv", "env", "flag", "variable"),
    [
        ([], {}, "--access-token", "AEOPP_ACCESS_TOKEN"),
        (["--access-token", "tok"], {}, "--business-unit-id", "AEOPP_BUSINESS_UNIT_ID"),
        ([], {"AEOPP_ACCESS_TOKEN": "tok"}, "--business-unit-id", "AEOPP_BUSINESS_UNIT_ID"),
        (["--email", "a@example.com"], {}, "--password", "AEOPP_PASSWORD"),
        ([], {"AEOPP_EMAIL": "a@example.com", "AEOPP_PASSWORD": "pw"}, "--user-key", "AEOPP_USER_KEY"),
        (["--password", "pw", "--user-key", "k"], {}, "--email", "AEOPP_EMAIL"),
        (["--access-token", "t", "--business-unit-id", "0Uv000000000000AAA", "--api-version", "5"], {},
         "--api-version", "AEOPP_API_VERSION"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", [["export"], ["read", "1"], ["delete", "1"]])
def test_missing_settings(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    env: dict[str, str],
    flag: str,
    variable: str,
    command: list[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status, out, err = run(capsys, *command, *argv)
    assert status == 2
    assert out == ""
    line = assert_one_line_error(err)
    assert flag in line
    assert variable in line
    for secret in ("tok", "pw"):
        assert f"={secret!r}" not in line


@pytest.mark.parametrize(
    ("argv", "flag", "builder"),
    [
        (["--probability-greater-than", "500"], "--probability-greater-than", lambda: _request.query_spec(probability_greater_than=500)),
        (["--created-after", "tomorrow"], "--created-after", lambda: _request.query_spec(created_after="tomorrow")),
        (["--id-greater-than", "abc"], "--id-greater-than", lambda: _request.query_spec(id_greater_than="abc")),
        (["--prospect-email", "nobody"], "--prospect-email", lambda: _request.query_spec(prospect_email="nobody")),
        (["--value-greater-than", "9", "--value-less-than", "3"], "--value-greater-than",
         lambda: _request.query_spec(value_greater_than=9, value_less_than=3)),
        (["--sort-by", "name"], "--sort-by", lambda: _request.query_spec(sort_by="name")),
        (["--sort-order", "up"], "--sort-order", lambda: _request.query_spec(sort_order="up")),
        (["--page-size", "201"], "--page-size", lambda: _request.validate_page_size(201)),
        (["--resume", "garbage!"], "--resume", None),
    ],
)  # fmt: skip
def test_bad_flag_values_use_the_request_builder_messages(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str], argv: list[str], flag: str, builder: Any
) -> None:
    before = sim.stats.requests
    status, out, err = run(capsys, "export", *flags(sim), *argv)
    assert status == 2
    assert out == ""
    line = assert_one_line_error(err)
    assert line.startswith(f"aeopp export: error: {flag}: invalid ")
    if builder is not None:
        with pytest.raises(RequestValidationError) as info:
            builder()
        assert line.endswith(str(info.value))
    assert sim.stats.requests == before, "nothing may be sent when a flag is wrong"


@settings(max_examples=60, deadline=None)
@given(st.integers(-(10**6), 10**6))
def test_probability_flag_range(value: int) -> None:
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        env = {k: os.environ.pop(k) for k in ENV_NAMES if k in os.environ}
        status = main(["export", "--probability-less-than", str(value)])
        os.environ.update(env)
    finally:
        sys.stdout, sys.stderr = old
    assert status == 2
    line = assert_one_line_error(err.getvalue())
    if 1 <= value <= 100:
        assert "missing access token" in line  # valid: it got as far as the connection settings
    else:
        assert "--probability-less-than: invalid probability_less_than=" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "--format", "xml"],
        ["export", "--simulate", "lots"],
        ["export", "--timeout", "0"],
        ["export", "--max-concurrency", "0"],
        ["read", "0"],
        ["update", "1"],
        ["update", "1", "--clear", "name"],
        ["update", "1", "--clear", "color"],
        ["update", "1", "--probability", "101"],
        ["create", "--name", "x", "--value", "1", "--probability", "5"],
        ["create", "--name", "x", "--value", "-1", "--probability", "5", "--prospect-id", "3"],
        ["delete", "x"],
        ["undelete", "-4"],
    ],
)
def test_other_bad_values(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    status, out, err = run(capsys, *argv, "--access-token", "t", "--business-unit-id", "0Uv000000000000AAA")
    assert status == 2
    assert out == ""
    assert assert_one_line_error(err).startswith(f"aeopp {argv[0]}: error: ")


TOKEN = ["--access-token", "t", "--business-unit-id", "0Uv000000000000AAA"]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["export", "--compare", *TOKEN], "--compare needs --simulate"),
        (["export", "--latency-ms", "5", *TOKEN], "--latency-ms needs --simulate"),
        (["read", "1", "--seed", "3", *TOKEN], "--seed needs --simulate"),
        (["export", "--simulator-process", *TOKEN], "--simulator-process needs --simulate"),
        (["export", "--simulate", "10", "--base-url", "https://example.com"],
         "--simulate starts its own simulator: drop --base-url"),
        (["delete", "1", "--simulate", "10", *TOKEN],
         "--simulate starts its own simulator: drop --access-token, --business-unit-id"),
        (["export", "--append", *TOKEN], "--append needs --output FILE"),
        (["export", "--append", "-o", "-", *TOKEN], "--append needs --output FILE"),
    ],
)  # fmt: skip
def test_flags_that_would_be_ignored_are_refused(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert assert_one_line_error(err) == f"aeopp {argv[0]}: error: {says}"


def test_simulate_ignores_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AEOPP_BASE_URL", "https://example.com")
    monkeypatch.setenv("AEOPP_ACCESS_TOKEN", "not-the-simulators")
    status, out, err = run(capsys, "export", "--simulate", "20", "--latency-ms", "0", "--quiet")
    assert status == 0, err
    assert len(out.splitlines()) == 20


def test_more_than_five_in_flight_is_warned_about(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "export", *flags(sim), "--max-concurrency", "8", "--max-items", "5")
    assert status == 0, err
    assert len(out.splitlines()) == 5
    warning = err.splitlines()[0]
    assert warning == (
        "aeopp export: warning: --max-concurrency 8: Pardot allows 5 requests in flight per business unit "
        "(more are answered with error 66, then retried)"
    )
    status, _, err = run(capsys, "export", *flags(sim), "--max-concurrency", "5", "--max-items", "5")
    assert "warning" not in err


# -- API errors --------------------------------------------------------------------------------------


def test_api_error_exits_1_with_code(sim: PardotSimulator, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "read", "1", *flags(sim))
    assert status == 1
    assert out == ""
    line = assert_one_line_error(err)
    assert line.startswith("aeopp read: error: Pardot error 35: Invalid opportunity ID")
    assert line.endswith("(id 1)")


def test_auth_error_does_not_print_secrets(sim: PardotSimulator, capsys: pytest.CaptureFixture[str]) -> None:
    c = sim.credentials
    status, out, err = run(
        capsys, "read", str(sim.store.ids()[0]), "--base-url", sim.base_url,
        "--access-token", c.access_token, "--business-unit-id", "0Uv" + "Z" * 15,
    )  # fmt: skip
    assert status == 1
    line = assert_one_line_error(err)
    assert "Pardot error 201" in line
    assert line.endswith("; check --business-unit-id (AEOPP_BUSINESS_UNIT_ID)")
    assert_no_secrets(sim, out, err)


@pytest.mark.parametrize("command", [["export"], ["read", "1"], ["delete", "1"]])
def test_a_refused_token_names_its_setting(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    status, out, err = run(capsys, *command, "--base-url", sim.base_url, "--access-token", "expired",
                           "--business-unit-id", sim.credentials.business_unit_id)  # fmt: skip
    assert (status, out) == (1, "")
    line = assert_one_line_error(err)
    assert line.startswith(f"aeopp {command[0]}: error: Pardot error 184: ")
    assert line.endswith("; check --access-token (AEOPP_ACCESS_TOKEN)")


@pytest.mark.parametrize("wrong", ["--password", "--user-key", "--email"])
def test_a_refused_legacy_login_names_its_settings(capsys: pytest.CaptureFixture[str], wrong: str) -> None:
    with ThreadedSimulator(opportunities=3, auth="apikey") as legacy:
        c = legacy.credentials
        given = {
            "--email": c.email,
            "--password": c.password,
            "--user-key": c.user_key,
            wrong: "x@example.com",
        }
        status, out, err = run(capsys, "read", "1", "--base-url", legacy.base_url,
                               *(item for pair in given.items() for item in pair))  # fmt: skip
        assert (status, out) == (1, "")
        line = assert_one_line_error(err)
        assert line.startswith("aeopp read: error: Pardot error 15: Login failed")
        assert line.endswith(
            "; check --email, --password, --user-key (AEOPP_EMAIL, AEOPP_PASSWORD, AEOPP_USER_KEY)"
        )
        assert_no_secrets(legacy, out, err)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--value", "1", "--probability", "5", "--prospect-id", "3"], "missing --name: required to create"),
        (["--name", "x", "--probability", "5", "--prospect-id", "3"], "missing --value: required to create"),
        (["--name", "x", "--value", "1", "--prospect-id", "3"], "missing --probability: required to create"),
        (["--name", "x", "--value", "1", "--probability", "5"], "missing --prospect-email: "),
    ],
)
def test_create_says_which_flag_is_missing(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    status, out, err = run(capsys, "create", *argv, *TOKEN)
    assert (status, out) == (2, "")
    assert assert_one_line_error(err).startswith(f"aeopp create: error: {says}")


def test_read_missing_skip(sim: PardotSimulator, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = sim.store.ids()[:2]
    absent = max(sim.store.ids()) + 1000
    status, out, err = run(capsys, "read", str(first), str(absent), str(second), *flags(sim))
    assert (status, out) == (1, "")
    assert f"(id {absent})" in assert_one_line_error(err)
    status, out, err = run(
        capsys, "read", str(first), str(absent), str(second), *flags(sim), "--missing", "skip"
    )
    assert status == 0, err
    assert [json.loads(line)["id"] for line in out.splitlines()] == [first, second]
    assert err == f"not found, skipped: {absent}\n"
    with pytest.raises(SystemExit):
        main(["read", "1", "--missing", "ignore"])
    assert "--missing" in capsys.readouterr().err


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.parametrize("failure", ["wrong token", "unreachable"])
@pytest.mark.parametrize("file_format", ["jsonl", "csv"])
def test_a_failed_export_leaves_the_earlier_file_alone(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str], tmp_path: Path, failure: str, file_format: str
) -> None:
    """The first request fails: FILE keeps the earlier export, and no temporary file stays behind."""
    target = tmp_path / f"prev.{file_format}"
    target.write_text("the earlier export\n", "utf-8")
    if failure == "wrong token":
        connection = ["--base-url", sim.base_url, "--access-token", "wrong",
                      "--business-unit-id", sim.credentials.business_unit_id]  # fmt: skip
    else:
        connection = ["--base-url", f"http://127.0.0.1:{closed_port()}", *flags(sim)[2:]]
    status, out, err = run(capsys, "export", *connection, "--format", file_format, "-o", str(target))
    assert (status, out) == (1, "")
    assert "Pardot error 184" in err if failure == "wrong token" else "TransportError" in err
    assert target.read_text("utf-8") == "the earlier export\n"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    # appending: nothing truncated either
    status, _, err = run(capsys, "export", *connection, "--append", "-o", str(target))
    assert status == 1
    assert target.read_text("utf-8") == "the earlier export\n"


def test_an_export_replaces_the_file_when_it_ends(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "prev.jsonl"
    target.write_text("the earlier export\n" * 1000, "utf-8")
    target.chmod(0o640)
    status, _, err = run(capsys, "export", *flags(sim), "--max-items", "3", "-o", str(target))
    assert status == 0, err
    assert [json.loads(line)["id"] for line in target.read_text("utf-8").splitlines()] == sim.store.ids()[:3]
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    # an export matching nothing replaces it too: the answer is "nothing"
    status, _, err = run(capsys, "export", *flags(sim), "--id-greater-than", str(10**9), "-o", str(target))
    assert status == 0, err
    assert target.read_text("utf-8") == ""
    # through a link, the linked file is written
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    status, _, err = run(capsys, "export", *flags(sim), "--max-items", "2", "-o", str(link))
    assert status == 0, err
    assert link.is_symlink()
    assert len(target.read_text("utf-8").splitlines()) == 2


def test_an_error_mid_export_still_replaces_the_file_with_what_was_written(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "prev.jsonl"
    target.write_text("the earlier export\n", "utf-8")
    sim.reset_quota()
    sim.settings.daily_quota = 2
    status, _, err = run(capsys, "export", *flags(sim), "--page-size", "50", "--max-concurrency", "1",
                         "-o", str(target))  # fmt: skip
    assert status == 1
    assert "--append --resume " in err.splitlines()[1]
    ids = [json.loads(line)["id"] for line in target.read_text("utf-8").splitlines()]
    assert ids == sim.store.ids()[: len(ids)]
    assert 0 < len(ids) < len(sim.store)


def test_resume_without_append_into_a_non_empty_file_is_refused(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "part.jsonl"
    target.write_text('{"id":1}\n', "utf-8")
    token = Cursor("id", "ascending", last_id=sim.store.ids()[5]).token()
    before = sim.stats.requests
    status, out, err = run(capsys, "export", *flags(sim), "--resume", token, "-o", str(target))
    assert (status, out) == (2, "")
    line = assert_one_line_error(err)
    assert line.startswith("aeopp export: error: --resume ")
    assert line.endswith("add --append")
    assert target.read_text("utf-8") == '{"id":1}\n'
    assert sim.stats.requests == before
    # into an empty or a new file, or with --append, it runs
    target.write_text("", "utf-8")
    for extra in ([], ["--append"]):
        status, _, err = run(capsys, "export", *flags(sim), "--resume", token, "-o", str(target), *extra)
        assert status == 0, err
    assert len(target.read_text("utf-8").splitlines()) == 2 * (len(sim.store) - 6)


def test_error_mid_export_keeps_whole_lines_and_resumes(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "out.csv"
    sim.reset_quota()
    sim.settings.daily_quota = 3
    base = ["export", *flags(sim), "--format", "csv", "--page-size", "50", "--max-concurrency", "1",
            "--output", str(target)]  # fmt: skip
    status, _, err = run(capsys, *base)
    assert status == 1
    lines = err.splitlines()
    assert lines[0].startswith("aeopp export: error: Pardot error 122: Daily API rate limit met")
    assert lines[1].startswith("stopped: wrote ")
    assert "--append --resume " in lines[1]
    token = lines[1].rsplit(" ", 1)[1]
    rows = list(csv.reader(io.StringIO(target.read_text("utf-8"))))
    assert tuple(rows[0]) == CSV_HEADER
    written = [int(r[0]) for r in rows[1:]]
    assert 0 < len(written) < len(sim.store)
    assert written == sim.store.ids()[: len(written)]
    assert f"stopped: wrote {len(written):,} records" in lines[1]
    # the next day: continue where it stopped
    sim.settings.daily_quota = None
    status, _, err = run(capsys, *base, "--append", "--resume", token)
    assert status == 0, err
    rows = list(csv.reader(io.StringIO(target.read_text("utf-8"))))
    assert tuple(rows[0]) == CSV_HEADER
    assert [int(r[0]) for r in rows[1:]] == sim.store.ids()


def test_retries_are_counted(sim: PardotSimulator, capsys: pytest.CaptureFixture[str]) -> None:
    sim.inject(code=66, times=2, operation="query")
    status, out, err = run(capsys, "export", *flags(sim), "--max-items", "10")
    assert status == 0, err
    assert len(out.splitlines()) == 10
    assert ", 2 retries" in err


# -- single records --------------------------------------------------------------------------------


def test_crud_commands(sim: PardotSimulator, capsys: pytest.CaptureFixture[str]) -> None:
    email = sim.store.prospects[sorted(sim.store.prospects)[0]].email
    status, out, err = run(
        capsys, "create", *flags(sim), "--name", "CLI & Co", "--value", "1234.50", "--probability", "40",
        "--prospect-email", email, "--type", "New Business", "--stage", "Prospecting",
    )  # fmt: skip
    assert status == 0, err
    created = json.loads(out)
    oid = created["id"]
    assert (created["name"], created["value"], created["probability"]) == ("CLI & Co", "1234.5", 40)
    assert sim.store.get(oid).name == "CLI & Co"

    status, out, err = run(capsys, "update", str(oid), *flags(sim), "--stage", "Closed", "--clear", "type")
    assert status == 0, err
    updated = json.loads(out)
    assert (updated["stage"], updated["type"]) == ("Closed", None)
    assert sim.store.get(oid).type is None

    other = sim.store.ids()[0]
    status, out, err = run(capsys, "read", str(oid), str(other), *flags(sim), "--pretty")
    assert status == 0, err
    decoder = json.JSONDecoder()
    first, end = decoder.raw_decode(out)
    second, _ = decoder.raw_decode(out[end:].lstrip())
    assert (first["id"], second["id"]) == (oid, other)
    assert first["stage"] == "Closed"

    status, out, err = run(capsys, "delete", str(oid), *flags(sim))
    assert (status, out) == (0, f"deleted opportunity {oid}\n"), err
    assert sim.store.get(oid).deleted
    status, _, err = run(capsys, "read", str(oid), *flags(sim))
    assert status == 1
    assert "Pardot error 35" in err
    status, out, err = run(capsys, "undelete", str(oid), *flags(sim))
    assert (status, out) == (0, f"restored opportunity {oid}\n"), err
    assert not sim.store.get(oid).deleted
    assert_no_secrets(sim, out, err)


def test_export_rows_and_read_have_the_same_keys_and_say_where_activities_are(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """Query answers never hold visitor activities: export rows show `"activities": []`, read shows them."""
    oid = next(r.id for r in sim.store if r.activities)
    status, out, err = run(
        capsys, "export", *flags(sim), "--id-greater-than", str(oid - 1), "--max-items", "1"
    )
    assert status == 0, err
    (row,) = [json.loads(line) for line in out.splitlines()]
    status, out, err = run(capsys, "read", str(oid), *flags(sim))
    assert status == 0, err
    read = json.loads(out)
    assert list(row) == list(read)
    assert row["activities"] == []
    assert len(read["activities"]) == len(sim.store.get(oid).activities) > 0
    assert {k: v for k, v in row.items() if k != "activities"} == {
        k: v for k, v in read.items() if k != "activities"
    }
    assert "never include visitor activities" in help_text("export")


def test_legacy_api_key_login(capsys: pytest.CaptureFixture[str]) -> None:
    with ThreadedSimulator(opportunities=30, auth="apikey") as legacy:
        c = legacy.credentials
        status, out, err = run(
            capsys, "export", "--base-url", legacy.base_url, "--email", c.email,
            "--password", c.password, "--user-key", c.user_key,
        )  # fmt: skip
        assert status == 0, err
        assert len(out.splitlines()) == 30
        assert_no_secrets(legacy, out, err)


# -- the embedded simulator ------------------------------------------------------------------------


def test_simulate_computed_comparison(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "demo.jsonl"
    status, _, err = run(capsys, "export", "--simulate", "300", "--latency-ms", "2", "-o", str(target))
    assert status == 0, err
    assert len(target.read_text().splitlines()) == 300
    exported, compared = err.splitlines()
    assert exported.startswith("exported 300 records")
    assert compared.startswith("one page at a time: at least 0.00 s (computed, not measured: 2 pages x 2 ms")


def test_a_computed_bound_below_the_export_time_claims_no_speed_up(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """2 pages x 1 µs is far below what the export took: no "0.0x faster"."""
    target = tmp_path / "demo.jsonl"
    status, _, err = run(capsys, "export", "--simulate", "300", "--latency-ms", "0.001", "-o", str(target))
    assert status == 0, err
    compared = err.splitlines()[-1]
    assert compared.startswith(
        "one page at a time: at least 0.00 s (computed, not measured: 2 pages x 0.001 ms"
    )
    assert "faster" not in compared
    assert "this export: " in compared


def test_speed_wording() -> None:
    assert cli_export.speed(10.0, 2.0) == "5.0x faster"
    assert cli_export.speed(1.0, 2.0) == "2.0x slower"
    assert cli_export.speed(1.0, 1.0) == "as fast"


@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_simulate_measured_comparison(capsys: pytest.CaptureFixture[str], quiet: list[str]) -> None:
    status, out, err = run(capsys, "export", "--simulate", "250", "--latency-ms", "1", "--compare", *quiet,
                           "--page-size", "50", "--format", "csv")  # fmt: skip
    assert status == 0, err
    assert len(out.splitlines()) == 251
    lines = err.splitlines()
    assert len(lines) == (1 if quiet else 3)  # quiet: what --compare asks for, nothing else
    assert lines[0].startswith("one page at a time: " if quiet else "exported 250 records to stdout")
    assert "(measured: the same 250 records and output, 6 requests, one in flight)" in lines[-1]


def interrupted(argv: list[str], ready: Callable[[], bool], settle: float = 0.0) -> tuple[int, str]:
    """Run ``argv``, send SIGINT once ``ready()`` (then ``settle`` seconds later): exit status, stderr."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not ready():
            time.sleep(0.01)
        time.sleep(settle)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def test_interrupted_export_leaves_whole_lines(tmp_path: Path) -> None:
    """SIGINT in the middle of an export against a slow simulator: whole lines, then a clean resume."""
    target = tmp_path / "slow.jsonl"
    common = [sys.executable, "-m", "aeopp", "export", "--simulate", "3000", "--latency-ms", "100",
              "--page-size", "50", "--output", str(target)]  # fmt: skip
    # the export writes a temporary file beside the target first
    status, err = interrupted(common, lambda: any(p.stat().st_size for p in tmp_path.iterdir()))
    assert status == 130, err
    assert "Traceback" not in err
    text = target.read_text("utf-8")
    assert text.endswith("\n")
    ids = [json.loads(line)["id"] for line in text.splitlines()]
    assert 0 < len(ids) < 3000
    assert ids == sorted(set(ids))
    (line,) = err.splitlines()
    assert line.startswith(f"interrupted: wrote {len(ids):,} records to {target}")
    token = line.rsplit(" ", 1)[1]
    done = subprocess.run(
        [*common, "--latency-ms", "0", "--append", "--resume", token],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ids = [json.loads(line)["id"] for line in target.read_text("utf-8").splitlines()]
    assert len(ids) == 3000
    assert ids == sorted(set(ids))


def test_a_named_pipe_is_written_to_not_replaced(tmp_path: Path) -> None:
    """A FILE that is no regular file (a FIFO here; /dev/null likewise) gets the records directly."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text("utf-8")), daemon=True)
    reader.start()
    done = subprocess.run(
        [sys.executable, "-m", "aeopp", "export", "--simulate", "30", "--latency-ms", "0", "-o", str(fifo)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    reader.join(30)
    assert done.returncode == 0, done.stderr
    assert fifo.is_fifo()
    assert len(received[0].splitlines()) == 30
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_interrupted_before_the_first_record_leaves_the_file_alone(tmp_path: Path) -> None:
    target = tmp_path / "prev.csv"
    target.write_text("the earlier export\n", "utf-8")
    status, err = interrupted(
        [sys.executable, "-m", "aeopp", "export", "--simulate", "100", "--latency-ms", "10000",
         "--format", "csv", "--output", str(target)],
        lambda: len(list(tmp_path.iterdir())) == 2,  # the temporary file exists: the walk is starting
        settle=0.5,  # and now waits for its first page, 10 s away
    )  # fmt: skip
    assert status == 130, err
    assert err == f"interrupted before the first record: {target} left as it was\n"
    assert target.read_text("utf-8") == "the earlier export\n"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


# -- help and progress -----------------------------------------------------------------------------


def help_text(*argv: str) -> str:
    """``aeopp ARGV --help`` with its white space folded (argparse wraps lines as it likes)."""
    out = io.StringIO()
    with pytest.raises(SystemExit) as info, contextlib.redirect_stdout(out):
        main([*argv, "--help"])
    assert info.value.code == 0
    return " ".join(out.getvalue().split())


def test_export_help_lists_every_filter_of_the_spec() -> None:
    text = help_text("export")
    for f in OPPORTUNITY.filters:
        assert f"--{f.name.replace('_', '-')} {f.metavar} {f.help}" in text
    assert "--sort-by " + "|".join(OPPORTUNITY.sorts) in text
    for name, order in OPPORTUNITY.sorts.items():
        assert f"{name} ({order})" in text
    for variable in ENV_NAMES:
        assert variable in text


def export_parser(spec: ObjectSpec[Any]) -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="aeopp")
    return cli_export.add_parser(root.add_subparsers(), connection_parser(), spec)


def test_a_filter_added_to_the_spec_is_an_export_flag() -> None:
    """No edit of the command line: a new filter is a flag, with its help, and reaches query()."""
    extra = (
        Filter("stage_is", lambda p, v, tz: (str(v), v), 99, "a stage (exactly)", "STAGE"),
        Filter("campaign_id", lambda p, v, tz: (str(v), v), 98, "a campaign's id", "ID", cli_int=True),
    )
    spec = attrs.evolve(OPPORTUNITY, filters=(*OPPORTUNITY.filters, *extra))
    parser = export_parser(spec)
    text = " ".join(parser.format_help().split())
    assert "--stage-is STAGE a stage (exactly)" in text
    assert "--campaign-id ID a campaign's id" in text
    args = parser.parse_args(["--stage-is", "Won", "--campaign-id", "12", "--prospect-id", "x"])
    query = cli_export.query_arguments(args, spec)
    assert (query["stage_is"], query["campaign_id"]) == ("Won", 12)  # an integer: cli_int
    assert query["prospect_id"] == "x"  # not an integer: the library says why
    assert "--stage-is" not in " ".join(export_parser(OPPORTUNITY).format_help().split())


@pytest.mark.parametrize("command", ["create", "update"])
def test_field_flags_come_from_the_spec(command: str) -> None:
    text = help_text(command) if command == "create" else help_text(command, "1")
    for f in OPPORTUNITY.record.editable:
        required = command == "create" and f.required and not f.optional_on_create
        metavar = f.metavar or f.name.upper()
        assert f"--{f.name.replace('_', '-')} {metavar} {f.help}{' (required)' if required else ''}" in text
    assert ("--prospect-email EMAIL" in text) == (command == "create")


def test_csv_header_is_the_specs_columns() -> None:
    assert tuple(column.name for column in OPPORTUNITY.record.csv_columns) == CSV_HEADER


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--page-size", "1"], "--page-size"),
        (["--strategy", "keyset", "--sort-by", "value"], "--strategy"),
        (["--strategy", "sideways"], "--strategy"),
        (["--resume", Cursor("value", "descending", offset=3).token()], "--resume"),
        (["--max-concurrency", "0"], "--max-concurrency"),
        (["--timeout", "nan"], "--timeout"),
        (["--wire-format", "yaml"], "--wire-format"),
    ],
)
def test_export_flags_are_checked_by_the_client_before_the_settings(
    capsys: pytest.CaptureFixture[str], argv: list[str], flag: str
) -> None:
    """query() and the client's constructor check these; no connection setting is needed to hear it."""
    status, out, err = run(capsys, "export", *argv)
    assert (status, out) == (2, "")
    assert assert_one_line_error(err).startswith(f"aeopp export: error: {flag}: invalid ")


@pytest.mark.parametrize(
    ("argv", "prog"),
    [
        (["export", "--bogus"], "aeopp export"),
        (["read", "1", "--bogus", "x"], "aeopp read"),
        (["simulate", "--bogus"], "aeopp simulate"),
        (["--bogus"], "aeopp"),
    ],
)
def test_an_unknown_flag_shows_its_commands_usage(
    capsys: pytest.CaptureFixture[str], argv: list[str], prog: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: {prog} [-h]")
    unknown = " ".join(a for a in argv if a not in ("export", "read", "simulate", "1"))
    assert err.endswith(f"\n{prog}: error: unrecognized arguments: {unknown}\n")


def test_render_progress() -> None:
    line = render_progress(5_000, 20_000, 2.0, width=100)
    assert " 5,000/20,000  25%  2,500 rec/s  ETA 6.0 s" in line
    assert line.startswith("[#")
    assert render_progress(0, 20_000, 0.0).endswith("ETA --")
    assert render_progress(123, None, 1.0) == "123 records  123 rec/s"
    assert len(render_progress(1, 10**9, 1.0, width=40)) <= 40
    assert "ETA 1:40" in render_progress(100, 200, 100.0, width=100)


def test_progress_draws_only_when_enabled() -> None:
    now = [0.0]
    stream = io.StringIO()
    bar = Progress(stream, enabled=True, interval=0.1, clock=lambda: now[0])
    bar.update(1, 10)
    bar.update(2, 10)  # too soon: not redrawn
    now[0] = 1.0
    bar.update(5, 10)
    bar.close()
    drawn = stream.getvalue()
    assert drawn.count("\r[") == 2
    assert " 5/10  50%" in drawn
    assert drawn.endswith("\r\x1b[K")
    quiet = io.StringIO()
    off = Progress(quiet)  # a StringIO is no terminal
    off.update(1, 10, force=True)
    off.close()
    assert quiet.getvalue() == ""


def on_a_terminal(*argv: str) -> str:
    """What ``python -m aeopp ARGV`` writes to stderr when stderr is a terminal; it must exit 0."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aeopp", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
    )
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other end closed (Linux raises EIO)
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=30) == 0
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return b"".join(chunks).decode()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    """With stderr on a terminal the bar is drawn (done of total, rate, ETA), then erased before the summary."""
    target = tmp_path / "tty.jsonl"
    text = on_a_terminal("export", "--simulate", "2000", "--latency-ms", "20", "--page-size", "50",
                         "--output", str(target))  # fmt: skip
    assert "\r[" in text
    assert "/2,000 " in text
    assert "rec/s" in text
    assert "ETA " in text
    bar_end = text.rindex("\r\x1b[K")
    assert text[bar_end + 4 :].lstrip().startswith("exported 2,000 records")
    assert len(target.read_text().splitlines()) == 2000


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize(("argv", "total"), [(["--max-items", "300"], 300),
                                             (["--offset", "1950", "--max-items", "300"], 50)])  # fmt: skip
def test_the_progress_total_is_what_the_export_will_write(
    tmp_path: Path, argv: list[str], total: int
) -> None:
    """--max-items and --offset cap the bar's total (and so its ETA): not the matches' count."""
    text = on_a_terminal("export", "--simulate", "2000", "--latency-ms", "20", "--page-size", "50", *argv,
                         "--output", str(tmp_path / "out.jsonl"))  # fmt: skip
    totals = set(re.findall(r" [\d,]+/([\d,]+) ", text))
    assert totals == {f"{total:,}"}
    assert f"exported {total} records" in text


def test_timezone_writes_offsets_in_exports(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a time zone, timestamps are written as Pardot sends them (no offset); --timezone or
    AEOPP_TIMEZONE names the API user's zone and every timestamp carries its offset."""
    base = ["export", *flags(sim), "--max-items", "3"]
    _, out, _ = run(capsys, *base)
    plain = json.loads(out.splitlines()[0])["created_at"]
    assert "T" in plain
    assert "+" not in plain
    assert plain.count("-") == 2
    _, out, _ = run(capsys, *base, "--timezone", "America/New_York")
    zoned = json.loads(out.splitlines()[0])["created_at"]
    assert zoned.startswith(plain)
    assert zoned[len(plain) :] in ("-05:00", "-04:00")
    monkeypatch.setenv("AEOPP_TIMEZONE", "UTC")
    _, out, _ = run(capsys, *base)
    assert json.loads(out.splitlines()[0])["created_at"] == plain + "+00:00"
    _, out, _ = run(capsys, *base, "--format", "csv", "--timezone", "Europe/Paris")
    assert out.splitlines()[1].split(",")[10].endswith(("+01:00", "+02:00"))


def test_a_bad_timezone_is_one_line_naming_its_setting(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, _, err = run(capsys, "export", *flags(sim), "--timezone", "Mars/Olympus")
    assert status == 2
    assert assert_one_line_error(err).startswith("aeopp export: error: --timezone: ")
    monkeypatch.setenv("AEOPP_TIMEZONE", "Nowhere/Land")
    status, _, err = run(capsys, "export", *flags(sim))
    assert status == 2
    assert "AEOPP_TIMEZONE" in assert_one_line_error(err)


def test_simulate_exports_carry_the_simulator_s_time_zone(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "export", "--simulate", "5", "--latency-ms", "0", "-q")
    assert status == 0
    assert json.loads(out.splitlines()[0])["created_at"][-6:] in ("-05:00", "-04:00")


@pytest.mark.redis
def test_export_shares_limits_through_redis_url(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str], redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("redis", reason="the redis extra is not installed in this environment")
    import redis as redis_py

    keys_before = set(redis_py.Redis.from_url(redis_url).keys("aeopp:*"))
    status, out, err = run(capsys, "export", *flags(sim), "--redis-url", redis_url, "--max-items", "250")
    assert status == 0, err
    assert len(out.splitlines()) == 250
    keys_after = set(redis_py.Redis.from_url(redis_url).keys("aeopp:*"))
    assert keys_after - keys_before  # the slots (and the shared token) went through Redis
    monkeypatch.setenv("AEOPP_REDIS_URL", redis_url)
    status, out, err = run(capsys, "export", *flags(sim), "--max-items", "3")
    assert (status, len(out.splitlines())) == (0, 3)


def test_a_bad_redis_url_is_one_line_that_hides_the_password(
    sim: PardotSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "export", *flags(sim), "--redis-url", "http://user:s3cr3t@host/0")
    assert status == 2
    line = assert_one_line_error(err)
    assert line.startswith("aeopp export: error: --redis-url / AEOPP_REDIS_URL: ")
    assert "s3cr3t" not in err
