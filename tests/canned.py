"""A loopback HTTP server answering canned responses, for what the simulator can't stage.

Hostile bodies, exact byte sequences and slow answers: real HTTP on 127.0.0.1, no mocks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
from aiohttp import web
from aiohttp.test_utils import TestServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

BU = "0Uv000000000001AAA"


def respond(body: bytes | str, *, status: int = 200, content_type: str = "application/json") -> web.Response:
    data = body.encode() if isinstance(body, str) else body
    return web.Response(body=data, status=status, headers={"Content-Type": content_type})


@asynccontextmanager
async def canned_server(handler: Handler) -> AsyncIterator[str]:
    """Serve ``handler`` for every path on 127.0.0.1; yields the base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        with anyio.CancelScope(shield=True):
            await server.close()
