"""What broke when the client was attacked as a hostile server and a careless caller would (issue #12):
size caps per operation, call deadlines, answers about another id, secrets and control characters in
server text, reprs of half-built objects, validation gaps, non-transient HTTP failures."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import time
from typing import Any

import anyio
import pytest
from aiohttp import web
from canned import BU, canned_server, respond

import aeopp

pytestmark = pytest.mark.anyio

FAST = aeopp.RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01)
OK = {"stat": "ok", "version": 1}
TOKEN = "00DSECRET!token-value-0123456789"


def client(base_url: str, **kwargs: Any) -> aeopp.OpportunityClient:
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("auth", aeopp.BearerAuth(TOKEN, BU))
    return aeopp.OpportunityClient(base_url=base_url, **kwargs)


def record(oid: int, **fields: Any) -> bytes:
    return json.dumps({"@attributes": OK, "opportunity": {"id": oid, "name": "x", **fields}}).encode()


# -- 2. size caps per operation ------------------------------------------------------------------


async def test_a_huge_single_record_answer_is_refused_at_the_record_cap() -> None:
    async def handler(request: web.Request) -> web.Response:
        return respond(record(5555, stage="s" * 3_000_000))

    async with canned_server(handler) as url, client(url) as c:
        with pytest.raises(aeopp.ProtocolError, match="cap") as info:
            await c.read(5555)
    assert "read" in str(info.value)
    assert len(str(info.value)) < 1000


async def test_caps_are_per_operation_and_configurable() -> None:
    big_page = json.dumps(
        {
            "@attributes": OK,
            "result": {"total_results": 1, "opportunity": {"id": 1, "stage": "s" * 2_000_000}},
        }
    ).encode()

    async def handler(request: web.Request) -> web.Response:
        return respond(big_page if "/do/query" in request.path else record(1, stage="s" * 2_000_000))

    async with canned_server(handler) as url, client(url) as c:
        assert len(await c.query_page(limit=1)) == 1  # 2 MB: under the 8 MiB page cap
        with pytest.raises(aeopp.ProtocolError, match="cap"):
            await c.read(1)  # over the 1 MiB record cap
    limits = aeopp.SizeLimits(record=4_000_000, page=1_000_000)
    async with canned_server(handler) as url, client(url, size_limits=limits) as c:
        assert (await c.read(1)).id == 1
        with pytest.raises(aeopp.ProtocolError, match="cap"):
            await c.query_page(limit=1)


async def test_a_transport_that_does_not_cap_is_capped_by_the_client() -> None:
    body = record(1, stage="s" * 2_000_000)
    transport = aeopp.MockTransport(lambda request: aeopp.RawResponse(200, {}, body))
    async with aeopp.OpportunityClient(auth=aeopp.BearerAuth(TOKEN, BU), transport=transport) as c:
        with pytest.raises(aeopp.ProtocolError, match=r"SizeLimits\.record"):
            await c.read(1)


def test_size_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="positive"):
        aeopp.SizeLimits(record=0)
    assert aeopp.SizeLimits().cap("query", "mobile") == (64 * 1024 * 1024, "mobile")
    assert aeopp.SizeLimits().cap("login") == (1024 * 1024, "record")


# -- 3. call deadline ------------------------------------------------------------------------------


async def test_a_server_that_never_answers_costs_about_budget_plus_timeout() -> None:
    async def handler(request: web.Request) -> web.Response:
        await anyio.sleep(30)
        return respond(record(1))

    retry = aeopp.RetryPolicy(max_attempts=6, base_delay=0.05, max_delay=0.05, budget=1.0)
    async with canned_server(handler) as url, client(url, timeout=0.4, retry=retry) as c:
        started = time.perf_counter()
        with pytest.raises(aeopp.TransportError, match="no answer"):
            await c.read(1)
        elapsed = time.perf_counter() - started
    assert elapsed < 1.0 + 0.4 + 0.3  # not 6 attempts x 0.4 s
    assert c.stats.requests >= 2


# -- 4. answers about another id -------------------------------------------------------------------


async def test_answers_about_another_id_are_protocol_errors() -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.path.endswith("/do/delete/id/8888"):
            return respond(record(1001))
        return respond(record(1001))

    async with canned_server(handler) as url, client(url) as c:
        for call in (c.read(5555), c.read_many([5555, 6666]), c.update(7777, name="n"), c.delete(8888)):
            with pytest.raises(aeopp.ProtocolError, match="1001"):
                await call
        assert (await c.read(1001)).id == 1001
        created = await c.create(name="n", value=1, probability=5, prospect_id=3)
        assert created.id == 1001  # create names no id in advance


# -- 5. secrets in server text, and in base_url ---------------------------------------------------


async def test_an_error_page_echoing_the_request_headers_hides_the_token() -> None:
    async def handler(request: web.Request) -> web.Response:
        echoed = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
        return respond(f"<html><pre>{echoed}</pre></html>", status=502, content_type="text/html")

    async with canned_server(handler) as url, client(url) as c:
        with pytest.raises(aeopp.ProtocolError) as info:
            await c.read(1)
    error = info.value
    assert TOKEN not in str(error)
    assert TOKEN.encode() not in error.body_start
    assert TOKEN not in repr(error)
    assert TOKEN not in repr(error.args)
    assert "<redacted>" in str(error)


async def test_legacy_secrets_are_scrubbed_from_server_text_too() -> None:
    password, user_key = "hunter2-password", "0123456789abcdef0123456789abcdef"

    async def handler(request: web.Request) -> web.Response:
        text = f"login for {password} with {user_key} refused; body was {await request.text()}"
        payload = {"@attributes": {"stat": "fail", "version": 1, "err_code": 15}, "err": text}
        return respond(json.dumps(payload))

    auth = aeopp.ApiKeyAuth("api.user@example.com", password, user_key)
    async with canned_server(handler) as url, client(url, auth=auth) as c:
        with pytest.raises(aeopp.AuthenticationError) as info:
            await c.read(1)
    shown = str(info.value) + repr(info.value.args)
    assert password not in shown
    assert user_key not in shown


async def test_oauth_secrets_are_scrubbed_from_a_token_endpoint_error() -> None:
    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        text = f"bad client {form.get('client_secret')} / {form.get('refresh_token')}"
        return web.json_response({"error": "invalid_grant", "error_description": text}, status=400)

    async with canned_server(token) as url:
        oauth = aeopp.SalesforceOAuth(url + "/token", "client-id", "client-secret-xyz", "refresh-token-xyz")
        async with client(url, auth=aeopp.BearerAuth(oauth, BU)) as c:
            with pytest.raises(aeopp.OAuthError) as info:
                await c.read(1)
    assert "client-secret-xyz" not in str(info.value)
    assert "refresh-token-xyz" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "hidden"),
    [
        ("https://user:s3cr3t-pw@pi.pardot.com", "s3cr3t-pw"),
        ("https://:s3cr3t-pw@pi.pardot.com", "s3cr3t-pw"),
        ("https://pi.pardot.com/?api_key=abc", None),
        ("https://pi.pardot.com/#frag", None),
        ("https://pi.pardot.com?", None),
    ],
)
def test_base_url_with_credentials_query_or_fragment_is_refused(url: str, hidden: str | None) -> None:
    with pytest.raises(aeopp.RequestValidationError) as info:
        client(url)
    assert info.value.parameter == "base_url"
    if hidden is not None:
        assert hidden not in str(info.value)
        assert hidden not in repr(info.value.args)


# -- 6. control characters ------------------------------------------------------------------------


async def test_control_characters_from_the_server_are_escaped() -> None:
    hostile = "Invalid \x1b[31mopportunity\x1b[0m ID\r\nFAKE LOG LINE\u202e"

    async def handler(request: web.Request) -> web.Response:
        payload = {"@attributes": {"stat": "fail", "version": 1, "err_code": 35}, "err": hostile}
        return respond(json.dumps(payload))

    async with canned_server(handler) as url, client(url) as c:
        with pytest.raises(aeopp.OpportunityNotFound) as info:
            await c.read(1)
    text = str(info.value)
    assert "\x1b" not in text
    assert "\r" not in text
    assert "\n" not in text
    assert "\u202e" not in text
    assert "\\x1b[31m" in text
    assert "\\r\\n" in text
    assert info.value.message == text.split(": ", 1)[1].rsplit(" (id", 1)[0]


def test_every_error_with_server_text_escapes_it() -> None:
    evil = "a\x1bb\nc"
    for error in (
        aeopp.ProtocolError(evil),
        aeopp.TransportError(evil),
        aeopp.OAuthError(evil, evil),
        aeopp.PardotError(2, evil),
    ):
        assert "\x1b" not in str(error)
        assert "\n" not in str(error)


# -- 7. reprs of half-built objects ---------------------------------------------------------------


def _self_of_failed_init(make: Any) -> Any:
    try:
        make()
    except aeopp.RequestValidationError:
        tb = sys.exc_info()[2]
        while tb is not None:
            frame_self = tb.tb_frame.f_locals.get("self")
            if frame_self is not None:
                return frame_self
            tb = tb.tb_next
    raise AssertionError("no failed __init__ with a self")


@pytest.mark.parametrize(
    "make",
    [
        lambda: aeopp.BearerAuth("token", "not-a-unit"),
        lambda: aeopp.BearerAuth(12345, BU),  # type: ignore[arg-type]
        lambda: aeopp.ApiKeyAuth("a@b.co", "", "key"),
        lambda: aeopp.OpportunityClient(auth=aeopp.BearerAuth("t", BU), base_url="ftp://x"),
        lambda: aeopp.OpportunityClient(auth=aeopp.BearerAuth("t", BU), max_concurrency=0),
        lambda: aeopp.OpportunityClient(auth="nope"),  # type: ignore[arg-type]
    ],
)
def test_half_built_objects_still_have_a_repr(make: Any) -> None:
    half = _self_of_failed_init(make)
    text = repr(half)
    assert type(half).__name__ in text


def test_reprs_of_objects_made_without_init() -> None:
    for cls in (aeopp.BearerAuth, aeopp.ApiKeyAuth, aeopp.OpportunityClient, aeopp.SalesforceOAuth):
        assert cls.__name__ in repr(object.__new__(cls))


# -- 8. validation gaps ---------------------------------------------------------------------------


async def test_validation_gaps_closed() -> None:
    transport = aeopp.MockTransport(lambda request: aeopp.RawResponse(200, {}, b"{}"))
    async with aeopp.OpportunityClient(auth=aeopp.BearerAuth(TOKEN, BU), transport=transport) as c:
        with pytest.raises(aeopp.RequestValidationError) as info:
            await c.create(name="n", value=1, probability=5, prospect_id=3, foo=1)  # type: ignore[call-arg]
        assert info.value.parameter == "foo"
        naive, aware = dt.datetime(2024, 1, 3), dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
        with pytest.raises(aeopp.RequestValidationError, match="created_after"):
            c.query(created_after=naive, created_before=aware)
        with pytest.raises(aeopp.RequestValidationError, match="created_after"):
            c.query(created_after=aware + dt.timedelta(days=3), created_before=naive - dt.timedelta(days=1))
        c.query(created_after=naive, created_before=aware + dt.timedelta(days=2, hours=5))  # either way
        c.query(id_greater_than=0)  # the natural "from the start"
        # Pardot documents value filters as "any integer" (ref §6.1): negatives are Pardot's to refuse
        c.query(value_greater_than=-5, value_less_than=10)
    assert transport.requests == []


async def test_non_transient_http_failures_are_not_retried() -> None:
    payloads = {
        "big header": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 100_000 + b"\r\nContent-Length: 2\r\n\r\n{}",
        "many headers": b"HTTP/1.1 200 OK\r\n"
        + b"".join(b"X-%d: 1\r\n" % i for i in range(20_000))
        + b"Content-Length: 2\r\n\r\n{}",
        "bad status line": b"HTTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\n{}",
    }
    for name, payload in payloads.items():
        seen = 0

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, p: bytes = payload
        ) -> None:
            nonlocal seen
            seen += 1
            await reader.readuntil(b"\r\n\r\n")
            writer.write(p)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with client(f"http://127.0.0.1:{port}") as c:
                with pytest.raises(aeopp.ProtocolError, match="malformed HTTP answer"):
                    await c.read(1)
        finally:
            server.close()
        assert seen == 1, name


async def test_a_redirect_is_refused_naming_its_host_only() -> None:
    async def handler(request: web.Request) -> web.Response:
        raise web.HTTPFound("https://evil.example.com/login?token=abc")

    async with canned_server(handler) as url, client(url) as c:
        with pytest.raises(aeopp.ProtocolError) as info:
            await c.read(1)
    text = str(info.value)
    assert "redirect to https://evil.example.com refused" in text
    assert "token=abc" not in text
    assert c.stats.requests == 1
