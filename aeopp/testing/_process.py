"""A simulator in a child process, for demos and benchmarks.

In-process, the simulator's own CPU (rendering pages) competes with the client for one event loop
and one GIL, so timings measure both. In a child process it has a core of its own, like a server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from types import TracebackType

import anyio
import anyio.abc

from ._state import SimulatorCredentials

__all__ = ["SimulatorProcess"]


class SimulatorProcess:
    """``aeopp simulate`` in a child process: ``async with SimulatorProcess(20_000, latency=0.05) as sim``.

    Gives ``base_url`` and ``credentials`` (plain values: build the client's auth from them, e.g.
    ``aeopp.BearerAuth(creds.access_token, creds.business_unit_id)``) like :class:`PardotSimulator`;
    its store and stats live in the child and are not reachable from here. Records are rendered
    before the first request (``warm``), so every walk costs the server the same.
    """

    def __init__(
        self,
        opportunities: int = 100,
        *,
        seed: int = 0,
        latency: float = 0.0,
        auth: str = "bearer",
        timezone: str = "America/New_York",
        warm: bool = True,
        start_timeout: float = 60.0,
    ) -> None:
        self._command = [
            sys.executable,
            "-m",
            "aeopp",
            "simulate",
            "--json",
            "--port",
            "0",
            "--opportunities",
            str(opportunities),
            "--latency-ms",
            repr(latency * 1000.0),
            "--seed",
            str(seed),
            "--auth",
            auth,
            "--timezone",
            timezone,
        ] + (["--warm"] if warm else [])
        self._start_timeout = start_timeout
        self._process: anyio.abc.Process | None = None
        self.base_url = ""
        self._credentials: SimulatorCredentials | None = None

    @property
    def credentials(self) -> SimulatorCredentials:
        if self._credentials is None:
            raise RuntimeError("start the simulator first")
        return self._credentials

    async def __aenter__(self) -> SimulatorProcess:
        # The child's log (e.g. requests a client abandoned) is no news here: discard it.
        process = await anyio.open_process(self._command, stdin=None, stderr=subprocess.DEVNULL)
        self._process = process
        try:
            assert process.stdout is not None
            buffer = b""
            with anyio.fail_after(self._start_timeout):
                while b"\n" not in buffer:
                    buffer += await process.stdout.receive()
            info = json.loads(buffer.split(b"\n", 1)[0])
        except anyio.EndOfStream:
            await self._stop()
            raise RuntimeError(
                "the simulator process exited before serving; run `aeopp simulate` to see why"
            ) from None
        except BaseException:
            await self._stop()
            raise
        self.base_url = info["base_url"]
        self._credentials = SimulatorCredentials(**info["credentials"])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop()

    async def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with anyio.CancelScope(shield=True):
            if process.returncode is None:
                process.terminate()
                with anyio.move_on_after(5):
                    await process.wait()
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            await process.aclose()
