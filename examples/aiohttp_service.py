"""A small aiohttp.web service over aeopp: one shared OpportunityClient for the application's lifetime.

Routes:

* ``GET /opportunities?probability_gt=50`` streams the matching opportunities as JSON lines, straight
  from ``client.query()`` (filters: ``probability_gt``, ``probability_lt``, ``value_gt``, ``value_lt``,
  ``created_after``, ``created_before``, ``prospect_email``; plus ``sort_by``, ``sort_order``, ``limit``).
* ``GET /opportunities/{id}`` answers one opportunity as JSON.

The client is opened at start-up by a ``cleanup_ctx`` and closed at shutdown; every request shares
it, so all of them together never have more than five requests in flight at Pardot. Run it with::

    AEOPP_ACCESS_TOKEN=... AEOPP_BUSINESS_UNIT_ID=0Uv... python examples/aiohttp_service.py
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

import aeopp

#: Makes the client the service uses; tests pass one aimed at a simulator.
ClientFactory = Callable[[], aeopp.OpportunityClient]

CLIENT = web.AppKey("client", aeopp.OpportunityClient)
FACTORY: web.AppKey[ClientFactory] = web.AppKey("client_factory")

#: Query-string names -> aeopp.OpportunityClient.query() arguments.
FILTERS = {
    "probability_gt": "probability_greater_than",
    "probability_lt": "probability_less_than",
    "value_gt": "value_greater_than",
    "value_lt": "value_less_than",
    "created_after": "created_after",
    "created_before": "created_before",
    "prospect_email": "prospect_email",
    "sort_by": "sort_by",
    "sort_order": "sort_order",
    "limit": "max_items",
}
INTEGERS = {"probability_gt", "probability_lt", "value_gt", "value_lt", "limit"}


def client_from_env() -> aeopp.OpportunityClient:
    """A client configured from ``AEOPP_ACCESS_TOKEN``, ``AEOPP_BUSINESS_UNIT_ID`` and ``AEOPP_BASE_URL``."""
    auth = aeopp.BearerAuth(os.environ["AEOPP_ACCESS_TOKEN"], os.environ["AEOPP_BUSINESS_UNIT_ID"])
    return aeopp.OpportunityClient(
        auth=auth, base_url=os.environ.get("AEOPP_BASE_URL", "https://pi.pardot.com")
    )


async def opportunity_client(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: open the one client at start-up, close it at shutdown."""
    async with app[FACTORY]() as client:
        app[CLIENT] = client
        yield


def error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def pardot_error(exc: aeopp.AeoppError) -> web.Response:
    if isinstance(exc, aeopp.OpportunityNotFound):
        return error(404, "no such opportunity")
    if isinstance(exc, aeopp.PardotError):
        return error(502, exc.message, pardot_code=exc.code)
    return error(502, str(exc))


def query_arguments(request: web.Request) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    for name, value in request.query.items():
        if name not in FILTERS:
            raise aeopp.RequestValidationError(name, value, "one of " + ", ".join(FILTERS))
        arguments[FILTERS[name]] = int(value) if name in INTEGERS and value.lstrip("-").isdigit() else value
    return arguments


async def list_opportunities(request: web.Request) -> web.StreamResponse:
    """Stream every match as JSON lines; errors before the first record get a proper status."""
    client = request.app[CLIENT]
    try:
        query = client.query(**query_arguments(request))
    except aeopp.RequestValidationError as exc:
        return error(400, str(exc))
    async with query:
        try:
            first = await anext(query, None)
        except aeopp.AeoppError as exc:
            return pardot_error(exc)
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        if first is not None:
            lines = [json.dumps(first.to_dict())]
            try:
                async for record in query:
                    lines.append(json.dumps(record.to_dict()))
                    if len(lines) >= 200:
                        await response.write(("\n".join(lines) + "\n").encode())
                        lines = []
            except aeopp.AeoppError as exc:  # too late for a status: end with an error line
                lines.append(json.dumps({"error": str(exc)}))
            if lines:
                await response.write(("\n".join(lines) + "\n").encode())
    await response.write_eof()
    return response


async def get_opportunity(request: web.Request) -> web.Response:
    text = request.match_info["id"]
    if not text.isdigit():
        return error(400, f"not an opportunity id: {text!r}")
    try:
        record = await request.app[CLIENT].read(int(text))
    except aeopp.RequestValidationError as exc:
        return error(400, str(exc))
    except aeopp.AeoppError as exc:
        return pardot_error(exc)
    return web.json_response(record.to_dict())


def create_app(client_factory: ClientFactory = client_from_env) -> web.Application:
    """The application; ``client_factory`` is called once, at start-up."""
    app = web.Application()
    app[FACTORY] = client_factory
    app.cleanup_ctx.append(opportunity_client)
    app.router.add_get("/opportunities", list_opportunities)
    app.router.add_get("/opportunities/{id}", get_opportunity)
    return app


if __name__ == "__main__":
    web.run_app(create_app(), host="127.0.0.1", port=int(os.environ.get("PORT", "8080")))
