"""What users of httpx, stripe or boto3 expect of a client's configuration: from_env(), trust_env for
proxies, a DEBUG line per request, split connect/read timeouts."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from canned import BU, canned_server, respond

import aeopp

pytestmark = pytest.mark.anyio

ENV = {"AEOPP_ACCESS_TOKEN": "tok-123456", "AEOPP_BUSINESS_UNIT_ID": BU}


async def record(request: web.Request) -> web.Response:
    oid = int(request.path.rstrip("/").rsplit("/", 1)[-1])
    return respond(json.dumps({"@attributes": {"stat": "ok", "version": 1}, "opportunity": {"id": oid}}))


# -- from_env -------------------------------------------------------------------------------------


def test_from_env_reads_the_command_line_s_settings() -> None:
    client = aeopp.OpportunityClient.from_env(
        {**ENV, "AEOPP_BASE_URL": "https://pi.demo.pardot.com", "AEOPP_API_VERSION": "3",
         "AEOPP_TIMEZONE": "Europe/Paris"},
        max_concurrency=2,
    )  # fmt: skip
    assert isinstance(client.auth, aeopp.BearerAuth)
    assert client.auth.business_unit_id == BU
    assert (client.base_url, client.version, client.max_concurrency) == ("https://pi.demo.pardot.com", 3, 2)
    assert client.timezone == ZoneInfo("Europe/Paris")
    assert "tok-123456" not in repr(client)


def test_from_env_legacy_keys_and_defaults() -> None:
    client = aeopp.OpportunityClient.from_env(
        {"AEOPP_EMAIL": "a@b.co", "AEOPP_PASSWORD": "pw-secret", "AEOPP_USER_KEY": "k" * 32}
    )
    assert isinstance(client.auth, aeopp.ApiKeyAuth)
    assert (client.base_url, client.version, client.timezone) == ("https://pi.pardot.com", 4, None)


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    assert aeopp.OpportunityClient.from_env().auth.business_unit_id == BU  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({}, "AEOPP_ACCESS_TOKEN"),
        ({"AEOPP_ACCESS_TOKEN": "t"}, "AEOPP_BUSINESS_UNIT_ID"),
        ({"AEOPP_EMAIL": "a@b.co", "AEOPP_PASSWORD": "pw"}, "AEOPP_USER_KEY"),
        ({**ENV, "AEOPP_API_VERSION": "5"}, "AEOPP_API_VERSION"),
        ({**ENV, "AEOPP_TIMEZONE": "Mars/Olympus"}, "AEOPP_TIMEZONE"),
        ({**ENV, "AEOPP_BASE_URL": "http://pi.pardot.com"}, "base_url"),
    ],
)
def test_from_env_names_the_variable_to_fix(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(aeopp.RequestValidationError) as info:
        aeopp.OpportunityClient.from_env(environ)
    assert info.value.parameter == variable
    assert "pw" not in str(info.value)


# -- trust_env: proxies from the environment ------------------------------------------------------


async def test_trust_env_sends_requests_through_the_environment_s_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(str(request.url))
        return await record(request)

    async with canned_server(proxy) as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        monkeypatch.setenv("NO_PROXY", "")
        target = "http://127.0.0.1:9"  # nothing listens there: only the proxy can answer
        async with aeopp.OpportunityClient(
            auth=aeopp.BearerAuth("t0ken", BU), base_url=target, trust_env=True
        ) as c:
            assert (await c.read(5)).id == 5
        assert seen == [target + "/api/opportunity/version/4/do/read/id/5?format=json"]
        fast = aeopp.RetryPolicy(max_attempts=1)
        async with aeopp.OpportunityClient(
            auth=aeopp.BearerAuth("t0ken", BU), base_url=target, retry=fast
        ) as c:
            with pytest.raises(aeopp.TransportError):
                await c.read(5)  # without trust_env the proxy is ignored


def test_trust_env_and_session_configure_the_built_in_transport_only() -> None:
    mock = aeopp.MockTransport(lambda request: aeopp.RawResponse(200))
    with pytest.raises(aeopp.RequestValidationError, match="transport"):
        aeopp.OpportunityClient(auth=aeopp.BearerAuth("t", BU), transport=mock, trust_env=True)


# -- a DEBUG line per request ---------------------------------------------------------------------


async def test_one_debug_line_per_request_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    async with canned_server(record) as url:
        caplog.set_level(logging.DEBUG, logger="aeopp")
        async with aeopp.OpportunityClient(auth=aeopp.BearerAuth("s3cret-token", BU), base_url=url) as c:
            await c.read(42)
    lines = [r for r in caplog.records if r.name == "aeopp"]
    assert len(lines) == 1
    message = lines[0].getMessage()
    assert message.startswith("GET /api/opportunity/version/4/do/read/id/42: HTTP 200 in ")
    assert message.endswith("(attempt 1)")
    assert "s3cret" not in message
    assert "format=json" not in message
    assert "aeopp:" not in message


async def test_the_debug_line_hides_a_prospect_email(caplog: pytest.LogCaptureFixture) -> None:
    async def created(request: web.Request) -> web.Response:
        body = {"@attributes": {"stat": "ok", "version": 1}, "opportunity": {"id": 9}}
        return respond(json.dumps(body))

    async with canned_server(created) as url:
        caplog.set_level(logging.DEBUG, logger="aeopp")
        async with aeopp.OpportunityClient(auth=aeopp.BearerAuth("s3cret-token", BU), base_url=url) as c:
            await c.create(name="n", value=1, probability=5, prospect_email="jane.doe@example.com")
    text = " ".join(r.getMessage() for r in caplog.records if r.name == "aeopp")
    assert "jane.doe" not in text
    assert "prospect_email/<email>" in text


# -- split timeouts ---------------------------------------------------------------------------------


@pytest.fixture
def unreachable_port() -> Iterator[int]:
    """A port whose listen backlog is full: a connection attempt hangs until it times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            s.connect(("127.0.0.1", port))
        fillers.append(s)
    time.sleep(0.1)
    yield port
    for s in fillers:
        s.close()
    server.close()


async def test_a_connect_timeout_is_retried_even_for_a_write(unreachable_port: int) -> None:
    timeout = aeopp.Timeout(total=10, connect=0.2)
    retry = aeopp.RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.01)
    base_url = f"http://127.0.0.1:{unreachable_port}"
    async with aeopp.OpportunityClient(
        auth=aeopp.BearerAuth("t", BU), base_url=base_url, timeout=timeout, retry=retry
    ) as c:
        started = time.perf_counter()
        with pytest.raises(aeopp.TransportError, match="could not connect") as info:
            await c.create(name="n", value=1, probability=5, prospect_id=1)
        assert time.perf_counter() - started < 3
    assert not isinstance(info.value, aeopp.WriteOutcomeUnknown)  # it surely never reached Pardot
    assert info.value.request_sent is False
    assert c.stats.requests == 3


async def test_a_read_timeout_stops_a_stalled_answer() -> None:
    async def stalled(request: web.StreamResponse) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)  # type: ignore[arg-type]
        await response.write(b'{"@attributes":')
        import anyio

        await anyio.sleep(5)
        return response

    async with canned_server(stalled) as url:  # type: ignore[arg-type]
        timeout = aeopp.Timeout(total=10, read=0.2)
        retry = aeopp.RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01)
        async with aeopp.OpportunityClient(
            auth=aeopp.BearerAuth("t", BU), base_url=url, timeout=timeout, retry=retry
        ) as c:
            started = time.perf_counter()
            with pytest.raises(aeopp.TransportError, match="stopped answering"):
                await c.read(1)
            assert time.perf_counter() - started < 2


def test_timeouts_are_checked() -> None:
    for bad in (0, -1, True, "30", None):
        with pytest.raises(aeopp.RequestValidationError, match="timeout"):
            aeopp.OpportunityClient(auth=aeopp.BearerAuth("t", BU), timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="connect"):
        aeopp.Timeout(connect=0)
    client = aeopp.OpportunityClient(auth=aeopp.BearerAuth("t", BU), timeout=12)
    assert client.timeout == aeopp.Timeout(total=12)
