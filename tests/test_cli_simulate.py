"""``aeopp simulate`` as a real subprocess: prints its URL and credentials, serves, stops on SIGINT."""

from __future__ import annotations

import asyncio
import re
import shlex
import signal
import socket
import subprocess
import sys
import time

import aiohttp
import pytest

from aeopp import __version__ as aeopp_version
from aeopp.cli import main
from aeopp.cli._settings import SETTINGS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def read_banner(proc: subprocess.Popen[str], timeout: float = 15.0) -> str:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            return "".join(lines)
    raise AssertionError("no banner: " + "".join(lines))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_simulate_subprocess(sig: signal.Signals) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aeopp", "simulate", "--port", str(port), "--opportunities", "25",
         "--latency-ms", "1", "--seed", "4", "--timezone", "UTC"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        banner = read_banner(proc)
        url = f"http://127.0.0.1:{port}"
        assert url in banner
        token = re.search(r"access token:\s+(\S+)", banner)
        unit = re.search(r"business unit id:\s+(\S+)", banner)
        assert token
        assert unit

        async def query() -> int:
            async with (
                aiohttp.ClientSession() as s,
                s.get(
                    url + "/api/opportunity/version/4/do/query",
                    params={"format": "json"},
                    headers={"Authorization": f"Bearer {token[1]}", "Pardot-Business-Unit-Id": unit[1]},
                ) as r,
            ):
                total: int = (await r.json())["result"]["total_results"]
                return total

        assert asyncio.run(query()) == 25
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        assert proc.stdout is not None
        assert "stopped" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def banner_of(*argv: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aeopp", "simulate", "--port", str(free_port()), *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    return proc, read_banner(proc)


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


@pytest.mark.parametrize(
    ("auth", "names"),
    [
        ("bearer", ["AEOPP_BASE_URL", "AEOPP_ACCESS_TOKEN", "AEOPP_BUSINESS_UNIT_ID"]),
        ("apikey", ["AEOPP_BASE_URL", "AEOPP_EMAIL", "AEOPP_PASSWORD", "AEOPP_USER_KEY"]),
    ],
)
def test_simulate_prints_settings_to_paste(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, auth: str, names: list[str]
) -> None:
    """The `export NAME=VALUE` lines, pasted into a shell, point the aeopp command at the simulator."""
    for name in SETTINGS.values():
        monkeypatch.delenv(name[1], raising=False)
    proc, banner = banner_of("--opportunities", "7", "--auth", auth)
    try:
        exports = [shlex.split(line) for line in banner.splitlines() if line.startswith("export ")]
        assert [words[0] for words in exports] == ["export"] * len(names)
        pairs = dict(words[1].split("=", 1) for words in exports)
        assert list(pairs) == names
        for name, value in pairs.items():
            monkeypatch.setenv(name, value)
        assert main(["export", "--quiet"]) == 0
        assert len(capsys.readouterr().out.splitlines()) == 7
    finally:
        stop(proc)


def test_simulate_help_shows_defaults_and_the_auth_modes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in ("(default: 100)", "(default: 0)", "(default: bearer)", "(default: America/New_York)"):
        assert default in text
    for mode in ("bearer: Salesforce OAuth", "apikey: the legacy", "none: "):
        assert mode in text


def test_cli_help_and_bad_auth(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "simulate" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["simulate", "--auth", "basic"])


@pytest.mark.anyio
async def test_simulator_process_serves_the_client() -> None:
    import aeopp
    from aeopp.testing import SimulatorProcess

    async with SimulatorProcess(250, seed=3) as sim:
        assert sim.base_url.startswith("http://127.0.0.1:")
        creds = sim.credentials
        auth = aeopp.BearerAuth(creds.access_token, creds.business_unit_id)
        async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url) as client:
            ids = [o.id async for o in client.query()]
    assert len(ids) == 250
    assert ids == sorted(ids)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"aeopp {aeopp_version}\n"
