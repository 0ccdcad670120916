"""Processes walking one business unit at once: a driver run as ``python tests/shared_walker.py CONFIG``
(the child) and :class:`Walkers`, the parent's side (used by tests/test_redis_processes.py and
benchmarks/shared_unit.py).

A child opens its client (and its ``RedisCoordinator`` when ``redis_url`` is given), prints
``{"ready": ..., "holder_prefix": ...}``, waits for ``go`` on stdin so that every child starts at once
(start-up not counted), walks ``query()`` and prints one JSON line: the ids (or their count), its
wall time from ``go``, the client's and the coordinator's stats, and the error that stopped it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

HERE = Path(__file__).resolve().parent


async def _child(config: dict[str, Any]) -> dict[str, Any]:
    import anyio

    import aeopp

    provider: Any
    if "oauth" in config:
        o = config["oauth"]
        provider = aeopp.SalesforceOAuth(
            o["token_url"], o["client_id"], o["client_secret"], o["refresh_token"]
        )
    else:
        provider = config["access_token"]
    auth = aeopp.BearerAuth(provider, config["business_unit_id"])
    coordinator = None
    if config.get("redis_url"):
        coordinator = aeopp.RedisCoordinator(
            config["redis_url"],
            slots=config.get("slots", 5),
            lease_seconds=config.get("lease_seconds", 30.0),
            key_prefix=config["key_prefix"],
            on_unavailable=config.get("on_unavailable", "local"),
            timeout=config.get("redis_timeout", 2.0),
        )
        await coordinator.__aenter__()
    client = aeopp.OpportunityClient(
        auth=auth,
        base_url=config["base_url"],
        coordinator=coordinator,
        max_concurrency=config.get("max_concurrency", 5),
        retry=aeopp.RetryPolicy(max_attempts=config.get("max_attempts", 12)),
    )
    result: dict[str, Any] = {}
    async with client:
        holder_prefix = coordinator._id if coordinator is not None else None
        _say({"ready": True, "holder_prefix": holder_prefix})
        await anyio.to_thread.run_sync(sys.stdin.readline)
        started = time.monotonic()
        ids: list[int] = []
        try:
            async for record in client.query():
                ids.append(record.id)
        except aeopp.AeoppError as exc:
            result["error"] = {
                "type": type(exc).__name__,
                "code": getattr(exc, "code", None),
                "http_status": getattr(exc, "http_status", None),
                "message": str(exc),
                "cursor": exc.cursor is not None,
            }
        result["wall"] = time.monotonic() - started
        result["count"] = len(ids)
        result["distinct"] = len(set(ids))
        if config.get("return_ids", True):
            result["ids"] = ids
        result["client"] = {
            "requests": client.stats.requests,
            "retries": client.stats.retries,
            "errors_by_code": {str(k): v for k, v in client.stats.errors_by_code.items()},
        }
        result["renewals"] = auth.renewals
    if coordinator is not None:
        await coordinator.aclose()
        s = coordinator.stats
        result["coordinator"] = {
            "acquired": s.acquired,
            "waited": s.waited,
            "longest_wait": s.longest_wait,
            "local_fallbacks": s.local_fallbacks,
            "outages": s.outages,
            "lost_leases": s.lost_leases,
            "refused": s.refused,
            "token_fetches": s.token_fetches,
        }
    return result


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


class Walkers:
    """The parent's side: ``async with Walkers(configs) as w: await w.go(); results = await w.results()``.

    Entering starts one child per config and waits until every one is ready (``w.ready`` holds their
    ready lines); leaving kills whatever still runs.
    """

    def __init__(self, configs: list[dict[str, Any]], *, start_timeout: float = 60.0) -> None:
        self.configs = configs
        self.start_timeout = start_timeout
        self.processes: list[Any] = []
        self._streams: list[Any] = []
        self.ready: list[dict[str, Any]] = []

    async def __aenter__(self) -> Walkers:
        import anyio
        from anyio.streams.buffered import BufferedByteReceiveStream

        try:
            for config in self.configs:
                argv = [sys.executable, str(HERE / "shared_walker.py"), json.dumps(config)]
                process = await anyio.open_process(argv, stderr=None)
                self.processes.append(process)
                self._streams.append(BufferedByteReceiveStream(process.stdout))
            with anyio.fail_after(self.start_timeout):
                for stream in self._streams:
                    self.ready.append(await self._line(stream))
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def _line(self, stream: Any) -> dict[str, Any]:
        line = await stream.receive_until(b"\n", 64 * 1024 * 1024)
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def go(self, only: list[int] | None = None) -> None:
        """Let every child (or those of ``only``) start walking."""
        for index, process in enumerate(self.processes):
            if only is None or index in only:
                await process.stdin.send(b"go\n")

    def kill(self, index: int) -> None:
        """SIGKILL one child (it gives nothing back, its slots included)."""
        self.processes[index].kill()

    async def results(
        self, timeout: float = 120.0, *, skip: frozenset[int] = frozenset()
    ) -> list[dict[str, Any] | None]:
        """Each child's result line (None for the ``skip``-ped ones, e.g. killed)."""
        import anyio

        out: list[dict[str, Any] | None] = []
        with anyio.fail_after(timeout):
            for index, stream in enumerate(self._streams):
                out.append(None if index in skip else await self._line(stream))
        return out

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        import anyio

        with anyio.CancelScope(shield=True):
            for process in self.processes:
                if process.returncode is None:
                    process.kill()
                await process.wait()
                await process.aclose()


if __name__ == "__main__":
    import anyio

    _say(anyio.run(_child, json.loads(sys.argv[1])))
