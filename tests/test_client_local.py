"""Client behaviour that needs exact bytes on the wire: lifecycle, hostile answers, timeouts, retries."""

from __future__ import annotations

import json
import threading
import time

import anyio
import pytest
from aiohttp import web
from canned import BU, canned_server, respond

import aeopp
from aeopp._decide import MAX_RENEWALS, MAX_STALE_REPLAYS
from aeopp._retry import RetryPolicy

pytestmark = pytest.mark.anyio

OPP = {"@attributes": {"stat": "ok", "version": 1}, "opportunity": {"id": 7, "name": "Seven", "value": 5}}
FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01)


def client(base_url: str, **kwargs: object) -> aeopp.OpportunityClient:
    kwargs.setdefault("retry", FAST)
    return aeopp.OpportunityClient(
        auth=aeopp.BearerAuth(access_token="secret-token-xyz", business_unit_id=BU),
        base_url=base_url,
        **kwargs,  # type: ignore[arg-type]
    )


def opp_for(request: web.Request) -> str:
    """OPP, about the id the request asks for (the client checks the answer names it)."""
    asked = request.path.rstrip("/").rsplit("/", 1)[-1]
    record = dict(OPP["opportunity"], id=int(asked) if asked.isdigit() else 7)  # type: ignore[call-overload]
    return json.dumps({**OPP, "opportunity": record})


async def ok_handler(request: web.Request) -> web.Response:
    return respond(opp_for(request))


# -- lifecycle -----------------------------------------------------------------------------------


async def test_use_before_open_after_close_and_reopen() -> None:
    async with canned_server(ok_handler) as url:
        c = client(url)
        with pytest.raises(aeopp.ClientStateError, match="async with"):
            await c.read(7)
        async with c:
            assert (await c.read(7)).name == "Seven"
            with pytest.raises(aeopp.ClientStateError, match="already open"):
                await c.__aenter__()
        with pytest.raises(aeopp.ClientStateError, match="closed"):
            await c.read(7)
        with pytest.raises(aeopp.ClientStateError, match="reopened"):
            await c.__aenter__()


def test_use_from_another_event_loop() -> None:
    errors: list[BaseException] = []
    opened = threading.Event()
    done = threading.Event()  # a thread event: set from the other loop's thread
    holder: dict[str, aeopp.OpportunityClient] = {}

    async def owner() -> None:
        async with canned_server(ok_handler) as url, client(url) as c:
            holder["c"] = c
            opened.set()
            await anyio.to_thread.run_sync(done.wait)

    async def intruder() -> None:
        try:
            await holder["c"].read(7)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=anyio.run, args=(owner,))
    thread.start()
    assert opened.wait(10)
    anyio.run(intruder)
    done.set()
    thread.join(10)
    assert len(errors) == 1
    assert isinstance(errors[0], aeopp.ClientStateError)
    assert "another event loop" in str(errors[0])


@pytest.mark.parametrize(
    "base_url",
    ["http://pi.pardot.com", "ftp://127.0.0.1", "pi.pardot.com", "http://10.0.0.1", "https://", 42],
)
def test_base_url_must_be_https_or_loopback(base_url: object) -> None:
    with pytest.raises(aeopp.RequestValidationError, match="base_url"):
        client(base_url)  # type: ignore[arg-type]


@pytest.mark.parametrize("base_url", ["https://pi.pardot.com", "http://127.0.0.1:8080", "http://localhost"])
def test_base_url_accepted(base_url: str) -> None:
    assert client(base_url).base_url == base_url


def test_secrets_stay_out_of_reprs() -> None:
    c = client("https://pi.pardot.com")
    assert "secret-token-xyz" not in repr(c)
    legacy = aeopp.ApiKeyAuth(email="a@b.co", password="hunter2", user_key="f" * 32)
    assert "hunter2" not in repr(legacy)
    assert "f" * 32 not in repr(legacy)


@pytest.mark.parametrize("bu", ["0Uv123", "00D000000000001AAA", None, "0Uv000000000001AAAX"])
def test_business_unit_id_is_validated(bu: object) -> None:
    with pytest.raises(aeopp.RequestValidationError, match="business_unit_id"):
        aeopp.BearerAuth(access_token="t", business_unit_id=bu)  # type: ignore[arg-type]


# -- hostile or broken answers -------------------------------------------------------------------


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><rsp stat="ok" version="1.0"><opportunity><id>1</id><name>&lol9;</name></opportunity></rsp>'
)


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        b'<?xml version="1.0"?>' + b"<a>" * 100_000 + b"</a>" * 100_000,
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<rsp stat="ok"><opportunity>&e;</opportunity></rsp>',
    ],
    ids=["billion-laughs", "deep-nesting", "external-entity"],
)
async def test_hostile_xml_is_a_clean_protocol_error(body: bytes) -> None:
    async def handler(request: web.Request) -> web.Response:
        return respond(body, content_type="text/xml")

    async with canned_server(handler) as url, client(url, wire_format="xml") as c:
        started = time.perf_counter()
        with pytest.raises(aeopp.ProtocolError):
            await c.read(1)
        assert time.perf_counter() - started < 2


async def test_response_size_is_capped() -> None:
    async def handler(request: web.Request) -> web.Response:
        return respond(b"{" + b" " * 5_000_000 + b"}")

    async with (
        canned_server(handler) as url,
        client(url, size_limits=aeopp.SizeLimits(record=1_000_000)) as c,
    ):
        with pytest.raises(aeopp.ProtocolError, match="cap"):
            await c.read(1)


async def test_html_5xx_is_retried_then_raised_with_status() -> None:
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return respond("<html><body>502 Bad Gateway</body></html>", status=502, content_type="text/html")

    async with canned_server(handler) as url, client(url) as c:
        with pytest.raises(aeopp.ProtocolError) as info:
            await c.read(1)
    assert info.value.http_status == 502
    assert b"Bad Gateway" in info.value.body_start
    assert calls == FAST.max_attempts


async def test_failure_envelope_on_http_500_is_typed() -> None:
    async def handler(request: web.Request) -> web.Response:
        attributes = {"stat": "fail", "version": 1, "err_code": 35}
        return respond(json.dumps({"@attributes": attributes, "err": "Invalid opportunity ID"}), status=500)

    async with canned_server(handler) as url, client(url) as c:
        with pytest.raises(aeopp.OpportunityNotFound) as info:
            await c.read(99)
    assert info.value.http_status == 500
    assert info.value.opportunity_id == 99
    assert "99" in str(info.value)


# -- timeouts and the limiter --------------------------------------------------------------------


async def test_time_waiting_for_a_slot_is_not_a_timeout() -> None:
    async def handler(request: web.Request) -> web.Response:
        await anyio.sleep(0.2)
        return respond(opp_for(request))

    async with canned_server(handler) as url, client(url, max_concurrency=1, timeout=0.5) as c:
        started = time.perf_counter()
        results = await c.read_many([7, 8, 9, 10])
        elapsed = time.perf_counter() - started
    assert len(results) == 4
    assert elapsed >= 0.8  # one at a time: 4 x 0.2 s, longer than the 0.5 s timeout, yet no timeout
    assert c.stats.retries == 0


async def test_a_slow_answer_times_out_and_reads_are_retried() -> None:
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            await anyio.sleep(2)
        return respond(opp_for(request))

    async with canned_server(handler) as url, client(url, timeout=0.2) as c:
        assert (await c.read(7)).id == 7
    assert calls == 2


async def test_a_write_that_times_out_is_not_replayed() -> None:
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        await anyio.sleep(2)
        return respond(opp_for(request))

    async with canned_server(handler) as url, client(url, timeout=0.2) as c:
        with pytest.raises(aeopp.WriteOutcomeUnknown, match="may or may not"):
            await c.create(name="X", value=1, probability=5, prospect_id=3)
    assert calls == 1


async def test_connection_refused_is_a_transport_error_after_retries() -> None:
    with socket_closed_port() as port:
        async with client(f"http://127.0.0.1:{port}") as c:
            with pytest.raises(aeopp.TransportError) as info:
                await c.create(name="X", value=1, probability=5, prospect_id=3)
    assert not isinstance(info.value, aeopp.WriteOutcomeUnknown)
    assert info.value.request_sent is False
    assert c.stats.retries == FAST.max_attempts - 1


class socket_closed_port:
    """A port on 127.0.0.1 that nothing listens on."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


# -- auth ----------------------------------------------------------------------------------------


async def test_401_renews_the_token_once_for_all_waiting_requests() -> None:
    tokens = iter(f"token-{i}" for i in range(100))
    current = {"valid": "token-0"}
    calls = 0

    async def provider() -> str:
        nonlocal calls
        calls += 1
        await anyio.sleep(0.05)
        token = next(tokens)
        current["valid"] = token
        return token

    async def handler(request: web.Request) -> web.Response:
        await anyio.sleep(0.01)
        if request.headers.get("Authorization") != f"Bearer {current['valid']}":
            body = {
                "@attributes": {"stat": "fail", "version": 1, "err_code": 184},
                "err": "access_token is invalid, unknown, or malformed",
            }
            return respond(json.dumps(body), status=401)
        return respond(opp_for(request))

    auth = aeopp.BearerAuth(access_token=provider, business_unit_id=BU)
    async with (
        canned_server(handler) as url,
        aeopp.OpportunityClient(auth=auth, base_url=url, retry=FAST) as c,
    ):
        await c.read(7)
        assert calls == 1
        current["valid"] = "rotated-by-server"  # every token in use is now stale
        results = await c.read_many(range(1, 41))
    assert len(results) == 40
    assert calls == 2  # one renewal shared by every request that saw 184
    assert auth.renewals == 2


@pytest.mark.parametrize("reads", [1, 12])
async def test_a_provider_whose_tokens_are_always_refused_is_asked_a_bounded_number_of_times(
    reads: int,
) -> None:
    """Tokens refused at their first use end a call after three renewals; with many calls at once,
    a token that other requests sent first counts as a replay, still bounded (ten per call)."""
    calls = 0

    async def provider() -> str:
        nonlocal calls
        calls += 1
        return f"refused-{calls}"

    async def handler(request: web.Request) -> web.Response:
        body = {"@attributes": {"stat": "fail", "version": 1, "err_code": 184}, "err": "bad token"}
        return respond(json.dumps(body), status=401)

    auth = aeopp.BearerAuth(access_token=provider, business_unit_id=BU)
    async with (
        canned_server(handler) as url,
        aeopp.OpportunityClient(auth=auth, base_url=url, retry=FAST) as c,
    ):
        with pytest.raises(aeopp.AuthenticationError):
            if reads == 1:
                await c.read(1)
            else:
                await c.read_many(range(1, reads + 1))
    if reads == 1:
        assert calls == 1 + MAX_RENEWALS  # the first token, then three renewals
    else:
        assert calls <= 1 + reads * (MAX_RENEWALS + MAX_STALE_REPLAYS)


async def test_static_token_rejected_raises_authentication_error() -> None:
    async def handler(request: web.Request) -> web.Response:
        body = {"@attributes": {"stat": "fail", "version": 1, "err_code": 184}, "err": "bad token"}
        return respond(json.dumps(body), status=401)

    async with canned_server(handler) as url, client(url) as c:
        with pytest.raises(aeopp.AuthenticationError) as info:
            await c.read(1)
    assert info.value.code == 184
    assert "secret-token-xyz" not in str(info.value) + repr(info.value)


@pytest.mark.parametrize("code", [181, 182, 201, 49, 199, 126])
async def test_configuration_auth_errors_are_never_retried(code: int) -> None:
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        body = {"@attributes": {"stat": "fail", "version": 1, "err_code": code}, "err": "no"}
        return respond(json.dumps(body), status=401)

    async with canned_server(handler) as url:
        auth = aeopp.BearerAuth(access_token=_constant_provider, business_unit_id=BU)
        async with aeopp.OpportunityClient(auth=auth, base_url=url, retry=FAST) as c:
            with pytest.raises(aeopp.AuthenticationError):
                await c.read(1)
    assert calls == 1


async def _constant_provider() -> str:
    return "token"


async def test_a_session_passed_in_is_used_and_left_open() -> None:
    import aiohttp

    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("X-Caller", ""))
        return respond(opp_for(request))

    async with canned_server(handler) as url, aiohttp.ClientSession(headers={"X-Caller": "mine"}) as session:
        async with client(url, session=session) as c:
            await c.read(7)
        assert not session.closed  # the caller's session outlives the client
        async with session.get(url + "/ping") as response:
            assert response.status == 200
    assert seen[0] == "mine"
