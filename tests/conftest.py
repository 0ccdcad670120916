"""Shared test configuration: one async runner for the whole suite (anyio, asyncio backend)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from redis_servers import RedisServer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def redis_url() -> str:
    """The shared test Redis (``make test`` starts one); fails, never skips, when it is missing."""
    from redis_servers import shared_redis_url

    return shared_redis_url()


@pytest.fixture
def key_prefix() -> str:
    """A key prefix of this test's own, so tests sharing one Redis never see each other's keys."""
    import uuid

    return f"aeopp-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_server() -> Iterator[Callable[..., RedisServer]]:
    """Start throwaway redis-server processes (``redis_server(*args, tls=False)``); all stop at the end."""
    from redis_servers import RedisServer

    started: list[RedisServer] = []

    def start(*extra: str, tls: bool = False) -> RedisServer:
        server = RedisServer(*extra, tls=tls).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()
