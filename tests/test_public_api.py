"""The public surface: every type a user can reach is exported under a public path, and the
in-memory MockTransport works as a test seam for code that uses the client."""

from __future__ import annotations

import json
import pickle
import types
from typing import Any

import anyio
import anyio.lowlevel
import pytest

import aeopp

pytestmark = pytest.mark.anyio

BU = "0Uv" + "A" * 15
OPP = {"@attributes": {"stat": "ok", "version": 1}, "opportunity": {"id": 7, "name": "Seven", "value": 5}}
PAGE = {
    "@attributes": {"stat": "ok", "version": 1},
    "result": {"total_results": 2, "opportunity": [{"id": 1}, {"id": 2}]},
}


def answer(payload: dict[str, Any], status: int = 200) -> aeopp.RawResponse:
    return aeopp.RawResponse(status, {"content-type": "application/json"}, json.dumps(payload).encode())


def auth() -> aeopp.BearerAuth:
    return aeopp.BearerAuth("token-xyz", BU)


def public_path(cls: type) -> bool:
    """Whether ``cls`` is reachable as ``<module>.<name>`` with no private segment."""
    module = cls.__module__
    if not module.startswith("aeopp"):
        return True
    if any(part.startswith("_") for part in module.split(".")):
        return False
    import importlib

    return getattr(importlib.import_module(module), cls.__qualname__, None) is cls


def test_every_exported_name_is_public_and_says_so() -> None:
    for name in aeopp.__all__:
        obj = getattr(aeopp, name)
        if isinstance(obj, type):
            assert public_path(obj), f"{name} lives at {obj.__module__}"


def test_cursor_shows_a_public_path_and_pickles() -> None:
    cursor = aeopp.Cursor("id", "ascending", last_id=5)
    assert repr(cursor).startswith("Cursor(")
    assert repr(type(cursor)) == "<class 'aeopp.Cursor'>"
    assert pickle.loads(pickle.dumps(cursor)) == cursor


def _reachable(value: Any, seen: set[int], found: set[type]) -> None:
    if id(value) in seen or value is None or isinstance(value, str | bytes | int | float):
        return
    seen.add(id(value))
    cls = type(value)
    if cls.__module__.startswith("aeopp"):
        found.add(cls)
    if isinstance(value, dict):
        for item in value.values():
            _reachable(item, seen, found)
        return
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _reachable(item, seen, found)
        return
    if not cls.__module__.startswith("aeopp"):
        return
    for name in dir(value):
        if name.startswith("_"):
            continue
        try:
            attribute = getattr(value, name)
        except Exception:  # a property that needs more state
            continue
        if isinstance(attribute, types.MethodType | types.FunctionType | types.BuiltinFunctionType | type):
            continue
        _reachable(attribute, seen, found)


async def test_every_type_reachable_from_a_public_attribute_is_exported() -> None:
    def handler(request: aeopp.RawRequest) -> aeopp.RawResponse:
        return answer(PAGE if request.operation == "query" else OPP)

    found: set[type] = set()
    seen: set[int] = set()
    async with aeopp.OpportunityClient(auth=auth(), transport=aeopp.MockTransport(handler)) as client:
        query = client.query(max_items=1)
        async with query:
            records = [r async for r in query]
        page = await client.query_page(limit=2)
        error = aeopp.OpportunityNotFound(opportunity_id=3)
        error.cursor = query.cursor
        for obj in (client, query, page, records, error, aeopp.RetryPolicy()):
            _reachable(obj, seen, found)
    assert aeopp.Cursor in found
    assert aeopp.WalkPlan in found
    assert aeopp.ClientStats in found
    hidden = sorted(f"{c.__module__}.{c.__qualname__}" for c in found if not public_path(c))
    assert hidden == []


async def test_mock_transport_serves_a_client_in_memory() -> None:
    transport = aeopp.MockTransport(lambda request: answer(OPP))
    async with aeopp.OpportunityClient(auth=auth(), transport=transport) as client:
        opp = await client.read(7)
    assert (opp.id, opp.name) == (7, "Seven")
    assert transport.closed
    [request] = transport.requests
    assert (request.method, request.operation) == ("GET", "read")
    assert request.url == "https://pi.pardot.com/api/opportunity/version/4/do/read/id/7?format=json"
    assert request.headers["Authorization"] == "Bearer token-xyz"
    assert "token-xyz" not in repr(request)
    assert BU not in repr(request)


async def test_mock_transport_takes_async_handlers_and_plays_failures() -> None:
    calls = 0

    async def handler(request: aeopp.RawRequest) -> aeopp.RawResponse:
        nonlocal calls
        calls += 1
        await anyio.lowlevel.checkpoint()
        if calls == 1:
            raise aeopp.TransportError("connection reset", request_sent=True)
        if calls == 2:
            return answer({"@attributes": {"stat": "fail", "version": 1, "err_code": 66}, "err": "busy"})
        return answer(OPP)

    retry = aeopp.RetryPolicy(base_delay=0.001, max_delay=0.001)
    async with aeopp.OpportunityClient(auth=auth(), transport=aeopp.MockTransport(handler), retry=retry) as c:
        assert (await c.read(7)).id == 7
        assert c.stats.retries == 2


async def test_mock_transport_refuses_a_handler_that_answers_nonsense() -> None:
    transport = aeopp.MockTransport(lambda request: "not a response")  # type: ignore[arg-type,return-value]
    async with aeopp.OpportunityClient(auth=auth(), transport=transport) as client:
        with pytest.raises(TypeError, match="RawResponse"):
            await client.read(7)


def test_transport_must_fit_the_protocol() -> None:
    assert isinstance(aeopp.MockTransport(lambda r: answer(OPP)), aeopp.Transport)
    assert isinstance(aeopp.AiohttpTransport(), aeopp.Transport)
    with pytest.raises(aeopp.RequestValidationError, match="transport"):
        aeopp.OpportunityClient(auth=auth(), transport=object())  # type: ignore[arg-type]


def test_the_pytest_plugin_and_import_aeopp_load_nothing_heavy() -> None:
    """The plugin is imported in every pytest run of any project with aeopp installed: it must not
    pull in aiohttp, anyio or the client until a test uses the fixture."""
    import subprocess
    import sys

    code = (
        "import sys, aeopp, aeopp.testing.pytest_plugin; "
        "print(sorted(m for m in ('aiohttp', 'aiohttp.web', 'anyio', 'aeopp.client', 'aeopp.testing._simulator') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_public_name_loads_on_first_use() -> None:
    import aeopp.testing

    assert sorted(dir(aeopp)) == sorted(aeopp.__all__)
    for name in aeopp.__all__:
        assert getattr(aeopp, name) is not None
    for name in aeopp.testing.__all__:
        assert getattr(aeopp.testing, name) is not None
    with pytest.raises(AttributeError, match="Nope"):
        aeopp.Nope  # type: ignore[attr-defined]  # noqa: B018
