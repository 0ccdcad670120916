"""``aeopp simulate``: serve a simulator until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import TextIO

from ._simulator import PardotSimulator

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``simulate`` subcommand."""
    p = subparsers.add_parser(
        "simulate",
        help="serve a local Pardot simulator until interrupted",
        description="Serve a seeded Pardot v3/v4 Opportunity API simulator on 127.0.0.1 until Ctrl-C.",
    )
    p.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    p.add_argument("--opportunities", type=int, default=100, help="number of seeded opportunities")
    p.add_argument("--latency-ms", type=float, default=0.0, help="latency added to every request")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    p.add_argument("--auth", choices=("bearer", "apikey", "none"), default="bearer")
    p.add_argument("--timezone", default="America/New_York", help="account time zone")
    p.add_argument("--warm", action="store_true", help="render every record before serving")
    p.add_argument(
        "--json", action="store_true", help="print one JSON line (base_url and credentials) for programs"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run the simulator until SIGINT or SIGTERM; 0 on a clean stop."""
    return asyncio.run(_serve(args, out or sys.stdout))


async def _serve(args: argparse.Namespace, out: TextIO) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    sim = PardotSimulator(
        args.opportunities,
        seed=args.seed,
        latency=args.latency_ms / 1000.0,
        auth=args.auth,
        timezone=args.timezone,
        port=args.port,
    )
    async with sim:
        if args.warm:
            sim.warm()
        c = sim.credentials
        if args.json:
            out.write(json.dumps({"base_url": sim.base_url, "credentials": c.as_dict()}) + "\n")
            out.flush()
            await stop.wait()
            return 0
        # A local test server printing its own made-up credentials is intended.
        lines = [
            f"Pardot simulator listening on {sim.base_url}",
            f"  opportunities: {len(sim.store)} (seed {args.seed}), auth: {args.auth}, "
            f"time zone: {args.timezone}, latency: {args.latency_ms:g} ms",
            f"  API:              {sim.base_url}/api/opportunity/version/4/do/query",
            f"  business unit id: {c.business_unit_id}",
        ]
        if args.auth == "bearer":
            lines += [
                f"  access token:     {c.access_token}",
                f"  token url:        {c.token_url}",
                f"  client id:        {c.client_id}",
                f"  client secret:    {c.client_secret}",
                f"  refresh token:    {c.refresh_token}",
            ]
        elif args.auth == "apikey":
            lines += [
                f"  login url:        {sim.base_url}/api/login/version/4",
                f"  email:            {c.email}",
                f"  password:         {c.password}",
                f"  user key:         {c.user_key}",
            ]
        lines.append("Press Ctrl-C to stop.")
        out.write("\n".join(lines) + "\n")
        out.flush()
        await stop.wait()
    out.write("Simulator stopped.\n")
    out.flush()
    return 0
