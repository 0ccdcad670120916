"""Throwaway redis-server processes on free loopback ports, for tests that stop, restart or configure
their own Redis (the shared one of ``make test`` is in AEOPP_TEST_REDIS_URL)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def shared_redis_url() -> str:
    """The Redis of ``make test``; a test needing it fails (never skips) when it is missing."""
    import pytest

    url = os.environ.get("AEOPP_TEST_REDIS_URL")
    if not url:
        pytest.fail(
            "AEOPP_TEST_REDIS_URL is not set: run `make test` (it starts a throwaway redis-server), "
            "or deselect these tests explicitly with -m 'not redis'"
        )
    return url


class RedisServer:
    """``redis-server`` on 127.0.0.1 with no persistence; :meth:`stop` and :meth:`start` again keep the port."""

    def __init__(self, *extra: str, tls: bool = False) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is missing: apt-get install redis-server")
        self.dir = Path(tempfile.mkdtemp(prefix="aeopp-redis-"))
        self.port = free_port()
        self.extra = list(extra)
        self.tls = tls
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'rediss' if self.tls else 'redis'}://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        ports = ["--port", "0", "--tls-port", str(self.port)] if self.tls else ["--port", str(self.port)]
        argv = ["redis-server", "--bind", "127.0.0.1", *ports, "--dir", str(self.dir), "--save", "",
                "--appendonly", "no", "--logfile", str(self.dir / "redis.log"), *self.extra]  # fmt: skip
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("redis-server exited: " + (self.dir / "redis.log").read_text()[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self, *, kill: bool = False) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if kill:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def close(self) -> None:
        self.stop(kill=True)
        shutil.rmtree(self.dir, ignore_errors=True)
