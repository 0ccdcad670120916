"""A PardotSimulator in its own process, steered over stdin/stdout (JSON lines).

The benchmark keeps the simulator out of the measured process: its rendering then runs on the
other core, and the peers' blocking ``requests`` calls never share an event loop with it. Run as
``python benchmarks/simhost.py --opportunities N [--seed S] [--latency SECONDS] [--auth MODE]``;
it prints ``{"base_url", "credentials"}`` once ready, then answers one JSON line per command:
``{"cmd": "stats"}``, ``{"cmd": "reset"}``, ``{"cmd": "set", "latency": 0.05, "auth": "apikey"}``,
``{"cmd": "ids"}`` and ``{"cmd": "quit"}``. :class:`SimProcess` is the parent's side.

It also serves ``replay_url``: a caching proxy in front of the simulator that
answers a request it has seen before from memory after ``latency`` seconds, with no rendering at
all. Walks against it measure the client alone against the physical limit (the simulator renders
every page on one core, which a real Pardot does not).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

HERE = Path(__file__).resolve().parent


async def _serve(args: argparse.Namespace) -> None:
    from aeopp.testing import PardotSimulator

    sim = PardotSimulator(args.opportunities, seed=args.seed, latency=args.latency, auth=args.auth)
    loop = asyncio.get_running_loop()
    async with sim, _Replay(sim) as replay:
        c = sim.credentials
        fields = "business_unit_id email password user_key client_id client_secret refresh_token access_token"
        creds = {name: getattr(c, name) for name in fields.split()}
        creds["token_url"] = c.token_url
        _say(
            {
                "base_url": sim.base_url,
                "replay_url": replay.base_url,
                "credentials": creds,
                "opportunities": len(sim.store),
            }
        )
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            command = json.loads(line)
            cmd = command.get("cmd")
            if cmd == "quit":
                _say({"ok": True})
                return
            if cmd == "stats":
                s = sim.stats
                _say(
                    {
                        "requests": s.requests,
                        "by_operation": dict(s.requests_by_operation),
                        "errors_by_code": {str(k): v for k, v in s.errors_by_code.items()},
                        "max_in_flight": s.max_in_flight,
                        "replay_requests": replay.requests,
                        "replay_max_in_flight": replay.max_in_flight,
                        "cpu_s": time.process_time(),
                    }
                )
            elif cmd == "reset":
                sim.stats.reset()
                replay.requests = replay.max_in_flight = 0
                _say({"ok": True})
            elif cmd == "set":
                if "latency" in command:
                    sim.settings.latency = float(command["latency"])
                if "auth" in command:
                    sim.settings.auth = command["auth"]
                _say({"ok": True})
            elif cmd == "ids":
                _say({"ids": sim.store.ids()})
            else:
                _say({"error": f"unknown command {cmd!r}"})


class _Replay:
    """A caching proxy to the simulator: a repeated GET is answered from memory after the latency."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.cache: dict[str, tuple[int, str, bytes]] = {}
        self.requests = self.in_flight = self.max_in_flight = 0
        self.base_url = ""

    async def handle(self, request: Any) -> Any:
        import aiohttp
        from aiohttp import web

        self.requests += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            key = request.path_qs
            hit = self.cache.get(key)
            if hit is None:
                headers = {k: v for k, v in request.headers.items() if k.lower() in _FORWARD}
                async with (  # a miss (the warm-up walk) pays the simulator's own latency
                    aiohttp.ClientSession() as session,
                    session.get(self.sim.base_url + key, headers=headers) as answer,
                ):
                    hit = (answer.status, answer.headers.get("Content-Type", ""), await answer.read())
                self.cache[key] = hit
            else:
                await asyncio.sleep(self.sim.settings.latency)
            status, content_type, body = hit
            return web.Response(status=status, body=body, headers={"Content-Type": content_type})
        finally:
            self.in_flight -= 1

    async def __aenter__(self) -> _Replay:
        from aiohttp import web

        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()


_FORWARD = {"authorization", "pardot-business-unit-id", "accept"}


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


class SimProcess:
    """The parent's handle on a simulator subprocess (use it as a context manager)."""

    def __init__(
        self, opportunities: int, *, seed: int = 1, latency: float = 0.0, auth: str = "bearer"
    ) -> None:
        self._argv = [
            sys.executable,
            str(HERE / "simhost.py"),
            "--opportunities",
            str(opportunities),
            "--seed",
            str(seed),
            "--latency",
            str(latency),
            "--auth",
            auth,
        ]
        self._proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.replay_url = ""
        self.credentials: dict[str, str] = {}
        self.latency = latency
        self.auth = auth

    def __enter__(self) -> SimProcess:
        self._proc = subprocess.Popen(
            self._argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        hello = self._read()
        self.base_url = hello["base_url"]
        self.replay_url = hello["replay_url"]
        self.credentials = hello["credentials"]
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.poll() is None and proc.stdin is not None:
                proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                proc.stdin.flush()
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()

    def _read(self) -> dict[str, Any]:
        assert self._proc is not None
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the simulator process stopped")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def call(self, cmd: str, **fields: Any) -> dict[str, Any]:
        """Send one command and return its answer."""
        assert self._proc is not None
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"cmd": cmd, **fields}) + "\n")
        self._proc.stdin.flush()
        return self._read()

    def stats(self) -> dict[str, Any]:
        return self.call("stats")

    def reset(self) -> None:
        self.call("reset")

    def set(self, *, latency: float | None = None, auth: str | None = None) -> None:
        fields: dict[str, Any] = {}
        if latency is not None:
            fields["latency"] = latency
            self.latency = latency
        if auth is not None:
            fields["auth"] = auth
            self.auth = auth
        self.call("set", **fields)

    def ids(self) -> list[int]:
        ids: list[int] = self.call("ids")["ids"]
        return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--opportunities", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--auth", default="bearer")
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
