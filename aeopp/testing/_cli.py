"""``aeopp simulate``: serve a simulator until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import signal
import sys
from typing import TextIO

from ._simulator import PardotSimulator
from ._state import SimulatorCredentials

__all__ = ["add_parser", "run"]


#: What each ``--auth`` mode checks.
_AUTH_HELP = (
    "what the simulator asks of a client: bearer: Salesforce OAuth (an access token and a "
    "Pardot-Business-Unit-Id header; it also serves a token endpoint); apikey: the legacy login "
    "(email, password and user key for an api_key); none: no credentials at all"
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``simulate`` subcommand."""
    p = subparsers.add_parser(
        "simulate",
        help="serve a local Pardot simulator until interrupted",
        description="Serve a seeded Pardot v3/v4 Opportunity API simulator on 127.0.0.1 until Ctrl-C. "
        "It prints its URL and credentials, and `export AEOPP_...=...` lines to paste into a shell so "
        "that the aeopp commands use it.",
    )
    p.add_argument("--port", type=int, default=0, metavar="N",
                   help="TCP port on 127.0.0.1 (default: %(default)s, a free one)")  # fmt: skip
    p.add_argument("--opportunities", type=int, default=100, metavar="N",
                   help="number of seeded opportunities (default: %(default)s)")  # fmt: skip
    p.add_argument("--latency-ms", type=float, default=0.0, metavar="MS",
                   help="latency added to every request (default: %(default)g)")  # fmt: skip
    p.add_argument(
        "--seed", type=int, default=0, metavar="N", help="seed of the generated data (default: %(default)s)"
    )
    p.add_argument("--auth", choices=("bearer", "apikey", "none"), default="bearer",
                   help=_AUTH_HELP + " (default: %(default)s)")  # fmt: skip
    p.add_argument("--timezone", default="America/New_York", metavar="ZONE",
                   help="the account's time zone (default: %(default)s)")  # fmt: skip
    p.add_argument("--warm", action="store_true", help="render every record before serving")
    p.add_argument(
        "--json", action="store_true", help="print one JSON line (base_url and credentials) for programs"
    )
    p.set_defaults(func=run)


def environment_lines(base_url: str, auth: str, credentials: SimulatorCredentials) -> list[str]:
    """``export AEOPP_...=...`` lines that point the aeopp commands at this simulator.

    The names are the command line's (``aeopp.cli``, which this package may not import).
    """
    c = credentials
    settings = [("AEOPP_BASE_URL", base_url)]
    if auth == "apikey":
        settings += [("AEOPP_EMAIL", c.email), ("AEOPP_PASSWORD", c.password), ("AEOPP_USER_KEY", c.user_key)]
    else:  # with auth none any token does; these are at hand
        settings += [("AEOPP_ACCESS_TOKEN", c.access_token), ("AEOPP_BUSINESS_UNIT_ID", c.business_unit_id)]
    return [f"export {name}={shlex.quote(value)}" for name, value in settings]


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
        lines.append("To point the aeopp commands at it, paste into a shell:")
        lines += environment_lines(sim.base_url, args.auth, c)
        lines.append("Press Ctrl-C to stop.")
        out.write("\n".join(lines) + "\n")
        out.flush()
        await stop.wait()
    out.write("Simulator stopped.\n")
    out.flush()
    return 0
