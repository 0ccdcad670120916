"""A small aiohttp.web service over aeopp: one shared OpportunityClient for the application's lifetime.

Routes:

* ``GET /opportunities?probability_gt=50`` streams the matching opportunities as JSON lines, straight
  from ``client.query()`` (filters: ``probability_gt``, ``probability_lt``, ``value_gt``, ``value_lt``,
  ``created_after``, ``created_before``, ``prospect_email``; plus ``sort_by``, ``sort_order``, ``limit``).
* ``GET /opportunities/{id}`` answers one opportunity as JSON.

The client is opened at start-up by a ``cleanup_ctx`` and closed at shutdown; every request shares
it, so all of them together never have more than five requests in flight at Pardot. Run it with::

    AEOPP_ACCESS_TOKEN=... AEOPP_BUSINESS_UNIT_ID=0Uv... python examples/aiohttp_service.py

Several worker processes (``--workers 4``) serve one port (SO_REUSEPORT: the kernel spreads the
connections). Each has its own client; with ``AEOPP_REDIS_URL`` set (``pip install 'aeopp[redis]'``)
they share the business unit's five slots, its daily limit and its token through one
``RedisCoordinator`` each on that Redis (and ``AEOPP_REDIS_PREFIX``, default ``aeopp``)::

    AEOPP_REDIS_URL=redis://127.0.0.1:6379/0 ... python examples/aiohttp_service.py --workers 4
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

from aiohttp import web

import aeopp

#: Makes the client the service uses, given the coordinator (or None); tests aim it at a simulator.
ClientFactory = Callable[[Any], aeopp.OpportunityClient]
#: Makes the coordinator the service's client shares limits through, or None.
CoordinatorFactory = Callable[[], Any]

CLIENT = web.AppKey("client", aeopp.OpportunityClient)
FACTORY: web.AppKey[ClientFactory] = web.AppKey("client_factory")
COORDINATOR_FACTORY: web.AppKey[CoordinatorFactory] = web.AppKey("coordinator_factory")

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


def client_from_env(coordinator: Any = None) -> aeopp.OpportunityClient:
    """A client configured from ``AEOPP_ACCESS_TOKEN``, ``AEOPP_BUSINESS_UNIT_ID`` and ``AEOPP_BASE_URL``."""
    auth = aeopp.BearerAuth(os.environ["AEOPP_ACCESS_TOKEN"], os.environ["AEOPP_BUSINESS_UNIT_ID"])
    return aeopp.OpportunityClient(
        auth=auth,
        base_url=os.environ.get("AEOPP_BASE_URL", "https://pi.pardot.com"),
        coordinator=coordinator,
    )


def coordinator_from_env() -> Any:
    """A ``RedisCoordinator`` on ``AEOPP_REDIS_URL`` (prefix ``AEOPP_REDIS_PREFIX``), or None when unset."""
    url = os.environ.get("AEOPP_REDIS_URL")
    if not url:
        return None
    return aeopp.RedisCoordinator.from_url(url, key_prefix=os.environ.get("AEOPP_REDIS_PREFIX", "aeopp"))


async def opportunity_client(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: open the coordinator (if any) and the one client at start-up, close them at
    shutdown (the client never closes the coordinator: the service does)."""
    async with AsyncExitStack() as stack:
        coordinator = app[COORDINATOR_FACTORY]()
        if coordinator is not None:
            await stack.enter_async_context(coordinator)
        app[CLIENT] = await stack.enter_async_context(app[FACTORY](coordinator))
        yield


async def name_the_worker(request: web.Request, response: web.StreamResponse) -> None:
    """Each answer says which worker process served it."""
    response.headers["X-Aeopp-Worker"] = str(os.getpid())


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
        try:
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
        except ConnectionResetError:
            # The caller went away mid-stream: ordinary for a web service. Leaving `async with
            # query` stops the walk and its requests in flight; nothing to log.
            pass
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


def create_app(
    client_factory: ClientFactory = client_from_env,
    coordinator_factory: CoordinatorFactory = coordinator_from_env,
) -> web.Application:
    """The application; the factories are called once, at start-up."""
    app = web.Application()
    app[FACTORY] = client_factory
    app[COORDINATOR_FACTORY] = coordinator_factory
    app.cleanup_ctx.append(opportunity_client)
    app.on_response_prepare.append(name_the_worker)
    app.router.add_get("/opportunities", list_opportunities)
    app.router.add_get("/opportunities/{id}", get_opportunity)
    return app


def shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` that other processes may bind too (SO_REUSEPORT)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def worker(host: str, port: int) -> None:
    """One worker process: the whole service on its own socket of the shared port."""
    web.run_app(create_app(), sock=shared_socket(host, port), print=None)


def serve(host: str, port: int, workers: int) -> None:
    """Serve with ``workers`` processes on one port; SIGTERM or Ctrl-C stops them all."""
    if workers == 1:
        web.run_app(create_app(), host=host, port=port)
        return
    if not hasattr(socket, "SO_REUSEPORT"):
        sys.exit("--workers needs SO_REUSEPORT (Linux, BSD, macOS)")
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=worker, args=(host, port)) for _ in range(workers)]

    def stop(signum: int, frame: object) -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.start()
    print(f"serving on http://{host}:{port} with {workers} worker processes", flush=True)
    for process in processes:
        process.join()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A small aiohttp.web service over aeopp.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--workers", type=int, default=1, help="worker processes sharing the port")
    options = parser.parse_args()
    serve(options.host, options.port, options.workers)
