"""aeopp's side of the benchmark: timed walks, reads and page parsing, in this process.

Each timed call opens its own client (as a script would), so connection set-up is counted. The
simulator runs in another process (``simhost.SimProcess``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import http.client
import json
import statistics
import time
import urllib.parse
import xml.parsers.expat
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

import xmltodict
from simhost import SimProcess

import aeopp
from aeopp import _envelope, _parse, _request, models


def client(
    sim: SimProcess, *, wire_format: str = "json", max_concurrency: int = 5, replay: bool = False
) -> aeopp.OpportunityClient:
    c = sim.credentials
    auth = aeopp.BearerAuth(access_token=c["access_token"], business_unit_id=c["business_unit_id"])
    return aeopp.OpportunityClient(
        auth=auth,
        base_url=sim.replay_url if replay else sim.base_url,
        wire_format=wire_format,  # type: ignore[arg-type]
        max_concurrency=max_concurrency,
    )


async def _export(
    sim: SimProcess, wire_format: str, strategy: str, max_concurrency: int, replay: bool
) -> tuple[float, int]:
    start = time.perf_counter()
    records = 0
    c = client(sim, wire_format=wire_format, max_concurrency=max_concurrency, replay=replay)
    async with c, c.query(strategy=strategy) as walk:  # type: ignore[arg-type]
        async for _ in walk:
            records += 1
    return time.perf_counter() - start, records


def export(
    sim: SimProcess, *, wire_format: str, strategy: str, max_concurrency: int = 5, replay: bool = False
) -> dict[str, Any]:
    """One full export with ``query()``: seconds, records received, requests the server saw.

    ``replay``: against the caching proxy (no rendering) instead of the simulator.
    """
    sim.reset()
    server_cpu = sim.stats()["cpu_s"]
    client_cpu = time.process_time()
    seconds, records = asyncio.run(_export(sim, wire_format, strategy, max_concurrency, replay))
    client_cpu = time.process_time() - client_cpu
    stats = sim.stats()
    prefix = "replay_" if replay else ""
    return {
        "seconds": seconds,
        "client_cpu_s": client_cpu,
        "server_cpu_s": stats["cpu_s"] - server_cpu,
        "records": records,
        "requests": stats[prefix + "requests"],
        "max_in_flight": stats[prefix + "max_in_flight"],
        "error": None,
    }


async def _reads(sim: SimProcess, ids: Sequence[int], many: bool) -> tuple[float, int]:
    start = time.perf_counter()
    async with client(sim) as c:
        if many:
            got = await c.read_many(ids)
        else:
            got = [await c.read(i) for i in ids]
    return time.perf_counter() - start, len(got)


def reads(sim: SimProcess, ids: Sequence[int], *, many: bool) -> dict[str, Any]:
    """``read_many(ids)`` or a sequential loop of ``read``: seconds, records, requests."""
    sim.reset()
    seconds, records = asyncio.run(_reads(sim, ids, many))
    stats = sim.stats()
    return {"seconds": seconds, "records": records, "requests": stats["requests"], "error": None}


# -- CPU per record ------------------------------------------------------------------------------


def record_pages(
    sim: SimProcess, wire_format: str, records: int, page_size: int = 200, output: str | None = "full"
) -> list[bytes]:
    """The raw bodies of every page of a full walk (``output``; None: the server's default, as ``query()``
    asks), fetched once (one kept-alive connection)."""
    c = sim.credentials
    headers = {
        "Authorization": f"Bearer {c['access_token']}",
        "Pardot-Business-Unit-Id": c["business_unit_id"],
    }
    spec = _request.query_spec(sort_by="id", output=output)
    bodies = []
    connection = http.client.HTTPConnection(urllib.parse.urlsplit(sim.base_url).netloc, timeout=60)
    try:
        for offset in range(0, records, page_size):
            prepared = _request.build_query(spec, offset=offset, limit=page_size, wire_format=wire_format)
            connection.request("GET", prepared.url(""), headers=headers)
            answer = connection.getresponse()
            bodies.append(answer.read())
            if answer.status != 200:
                raise RuntimeError(f"recording pages: HTTP {answer.status}")
    finally:
        connection.close()
    return bodies


def _bare_xml(body: bytes) -> Any:
    return xmltodict.parse(body)


def _bare_xml_same_options(body: bytes) -> Any:
    return xmltodict.parse(
        body, disable_entities=True, force_list=("opportunity", "prospect", "visitor_activity")
    )


def _bare_json(body: bytes) -> Any:
    return json.loads(body)


# Two floors for the JSON figures, to show what part of aeopp's cost any eager parser must pay. Both
# trust the records blindly (all keys present, no type check, no HTML entities decoded, no quirk
# handled, campaigns left as dicts), so neither is a usable parser: they bound from below what a
# parser that builds these models can cost.
_FIELDS = itemgetter(
    "id", "name", "value", "probability", "type", "stage", "status", "campaign_id", "campaign"
)
_PROSPECT = itemgetter("id", "email", "first_name", "last_name", "company")
_NO_EXTRA: dict[str, Any] = {}
#: The label of the typed floor's row (the goals table quotes it).
TYPED_FLOOR = "floor: the same + Decimal, datetimes, prospects"


def _floor_models(body: bytes) -> Any:
    """json.loads, then one model per record holding the raw values: nothing converted or checked."""
    build = models.Opportunity
    return [
        build(*_FIELDS(r), r["closed_at"], r["created_at"], r["updated_at"], r["prospects"], (), _NO_EXTRA)
        for r in json.loads(body)["result"]["opportunity"]
    ]


def _floor_typed(body: bytes) -> Any:
    """:func:`_floor_models` plus the conversions the models promise: Decimal, datetimes, prospects."""
    build, prospect, when = models.Opportunity, models.Prospect, datetime.fromisoformat
    out = []
    for r in json.loads(body, parse_float=Decimal)["result"]["opportunity"]:
        oid, name, value, probability, kind, stage, status, campaign_id, campaign = _FIELDS(r)
        closed = r["closed_at"]
        items = r["prospects"]["prospect"]
        if items.__class__ is dict:
            prospects: tuple[Any, ...] = (prospect(*_PROSPECT(items), _NO_EXTRA),)
        else:
            prospects = tuple([prospect(*_PROSPECT(p), _NO_EXTRA) for p in items])
        out.append(
            build(
                oid,
                name,
                Decimal(value),
                probability,
                kind,
                stage,
                status,
                campaign_id,
                campaign,
                None if closed is None else when(closed),
                when(r["created_at"]),
                when(r["updated_at"]),
                prospects,
                (),
                _NO_EXTRA,
            )
        )
    return out


HEADERS = {"json": {"Content-Type": "application/json"}, "xml": {"Content-Type": "application/xml"}}


def page_parser(wire_format: str, parsers: str | None = None) -> Callable[[bytes], Any]:
    """``parse_page`` of a recorded page with the named set of parsers (None: the one in use)."""
    headers = HEADERS[wire_format]
    if parsers is None:
        return lambda body: _parse.parse_page(200, headers, body)
    chosen = _envelope.available_parsers()[parsers]

    def page(body: bytes) -> Any:
        with _envelope.use_parsers(chosen):
            return _parse.parse_page(200, headers, body)

    return page


def parsers(wire_format: str) -> dict[str, Callable[[bytes], Any]]:
    """The functions timed on the recorded pages of ``wire_format``, by label."""
    headers = HEADERS[wire_format]
    active = _envelope.parsers().name

    def envelope(body: bytes) -> Any:
        return _parse.decode_envelope(200, headers, body)

    if wire_format == "xml":
        out: dict[str, Callable[[bytes], Any]] = {
            "xmltodict.parse (bare)": _bare_xml,
            "xmltodict.parse (aeopp's options)": _bare_xml_same_options,
        }
    else:
        out = {"json.loads (bare)": _bare_json}
    out[f"aeopp decode_envelope only ({active})"] = envelope
    if wire_format == "json":
        out["floor: json.loads + a model per record, raw values"] = _floor_models
        out[TYPED_FLOOR] = _floor_typed
    if active != "base":
        out["aeopp parse_page (base)"] = page_parser(wire_format, "base")
    out["aeopp parse_page"] = page_parser(wire_format)
    return out


@contextlib.contextmanager
def parse_inline() -> Iterator[None]:
    """Every answer parsed in the event loop's thread (``_base`` asks ``_envelope.parse_in_thread``)."""
    decide = _envelope.parse_in_thread
    _envelope.parse_in_thread = lambda body, wire_format: False  # type: ignore[assignment]
    try:
        yield
    finally:
        _envelope.parse_in_thread = decide  # type: ignore[assignment]


@contextlib.contextmanager
def parse_in_thread() -> Iterator[None]:
    """Every answer of 32 KiB or more parsed in a worker thread (what aeopp did for every parser)."""
    decide = _envelope.parse_in_thread
    _envelope.parse_in_thread = lambda body, wire_format: len(body) >= 32 * 1024  # type: ignore[assignment]
    try:
        yield
    finally:
        _envelope.parse_in_thread = decide  # type: ignore[assignment]


def cpu(bodies: Sequence[bytes], functions: dict[str, Callable[[bytes], Any]], reps: int) -> dict[str, Any]:
    """CPU seconds of each function over all ``bodies``: per page, the median of ``reps`` passes, summed.

    The functions take turns on each page (page 1 by every function, then page 2...), so a noisy
    stretch of the machine hits them all alike instead of one function's whole pass.
    """
    times: dict[str, list[list[float]]] = {name: [[] for _ in bodies] for name in functions}
    clock = time.process_time
    for _ in range(reps):
        gc.collect()
        for index, body in enumerate(bodies):
            for name, fn in functions.items():
                start = clock()
                fn(body)
                times[name][index].append(clock() - start)
    return {
        name: {
            "runs": [sum(column) for column in zip(*pages, strict=True)],  # each pass's total
            "median_s": sum(statistics.median(page) for page in pages),
        }
        for name, pages in times.items()
    }


def check_expat() -> str:
    """The expat version (reported with the CPU figures)."""
    return xml.parsers.expat.EXPAT_VERSION
