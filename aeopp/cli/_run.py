"""Running a command: check its flags, connect (or start the simulator), run it, and turn every
failure into one line on stderr and an exit status.

Flags are checked by the library itself, before anything connects: the client's constructor checks
the client options, and a command's ``validate`` builds its request (or its query) on a client that
is never opened. The simulator is imported only for ``--simulate``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs

from .._constants import MAX_CONCURRENT_REQUESTS
from ..auth import BearerAuth
from ..client import OpportunityClient
from ..errors import AeoppError, RequestValidationError
from ._settings import (
    DEFAULT_SIM_LATENCY_MS,
    EXIT_API,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Connection,
    UsageError,
    describe,
    error,
    flag,
    given_settings,
    lenient_int,
    lenient_number,
    redis_url,
    resolve_connection,
    resolve_timezone,
    validation_message,
    warn,
)

if TYPE_CHECKING:
    from ..testing import SimulatorCredentials

__all__ = ["Body", "SimInfo", "Validate", "run"]

#: The time zone of the simulator ``--simulate`` starts (its default account time zone).
SIMULATOR_TIMEZONE = "America/New_York"

#: The most opportunities ``--simulate`` seeds.
_MAX_SIMULATED = 10_000_000


@attrs.frozen
class SimInfo:
    """What the command knows about the simulator it started (``--simulate``)."""

    records: int
    latency: float
    base_url: str
    auth: BearerAuth


#: A command's work, given an open client (and the simulator it runs against, if any).
Body = Callable[[OpportunityClient, argparse.Namespace, "SimInfo | None"], Awaitable[int]]
#: A command's checks of its flags: raise UsageError or let the library raise RequestValidationError.
Validate = Callable[[argparse.Namespace, OpportunityClient], None]


def run(args: argparse.Namespace, body: Body, validate: Validate) -> int:
    """Check, connect (or start the simulator), run ``body``; map failures to one line and a status."""
    try:
        return asyncio.run(_checked(args, body, validate))
    except UsageError as exc:
        error(args, str(exc))
        return EXIT_USAGE
    except RequestValidationError as exc:
        error(args, validation_message(exc, args))
        return EXIT_USAGE
    except AeoppError as exc:
        error(args, describe(exc))
        return EXIT_API
    except KeyboardInterrupt:
        error(args, "interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `aeopp export | head`: the reader left
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_API


async def _checked(args: argparse.Namespace, body: Body, validate: Validate) -> int:
    _check_simulator_flags(args)
    options: dict[str, Any] = {
        "wire_format": args.wire_format,
        "max_concurrency": lenient_int(args.max_concurrency),
        "timeout": lenient_number(args.timeout),
        "timezone": resolve_timezone(args, {} if args.simulate is not None else os.environ),
    }
    if args.simulate is not None and options["timezone"] is None:
        options["timezone"] = ZoneInfo(SIMULATOR_TIMEZONE)
    # Never opened: its constructor checks the options, and the command's own checks run on it.
    offline = OpportunityClient(auth=BearerAuth("offline", "0Uv" + "0" * 15), **options)
    validate(args, offline)
    if offline.max_concurrency > MAX_CONCURRENT_REQUESTS:
        warn(
            args,
            f"--max-concurrency {offline.max_concurrency}: Pardot allows {MAX_CONCURRENT_REQUESTS} requests "
            "in flight per business unit (more are answered with error 66, then retried)",
        )
    connection = None if args.simulate is not None else resolve_connection(args, os.environ)
    return await _connected(args, connection, options, body)


def _check_simulator_flags(args: argparse.Namespace) -> None:
    """The simulator's flags, which the command line alone reads, and their defaults."""
    if args.simulate is None:
        for name in ("latency_ms", "seed", "simulator_process"):
            if getattr(args, name) not in (None, False):
                raise UsageError(f"{flag(name)} needs --simulate")
        return
    given = given_settings(args)
    if given:
        raise UsageError("--simulate starts its own simulator: drop " + ", ".join(given))
    args.simulate = lenient_int(args.simulate)
    if isinstance(args.simulate, str) or not 0 <= args.simulate <= _MAX_SIMULATED:
        raise UsageError(
            f"--simulate: {args.simulate!r} is not a number of records from 0 to {_MAX_SIMULATED}"
        )
    args.seed = lenient_int(args.seed or "0")
    if isinstance(args.seed, str):
        raise UsageError(f"--seed: {args.seed!r} is not an integer")
    latency = lenient_number(args.latency_ms or str(DEFAULT_SIM_LATENCY_MS))
    if isinstance(latency, str) or latency < 0:
        raise UsageError(f"{flag('latency_ms')}: {args.latency_ms!r} is not a number >= 0")
    args.latency_ms = latency


@contextlib.asynccontextmanager
async def _coordinator(args: argparse.Namespace) -> AsyncIterator[Any]:
    """A RedisCoordinator for ``--redis-url`` / ``AEOPP_REDIS_URL``, or None without one."""
    url = redis_url(args, {} if args.simulate is not None else os.environ)
    if url is None:
        yield None
        return
    from .._redis import RedisCoordinator  # only now: the redis extra is needed only for --redis-url
    from ..errors import CoordinatorUnavailable

    try:
        coordinator = RedisCoordinator(url)
    except (RequestValidationError, CoordinatorUnavailable) as exc:
        raise UsageError(f"--redis-url / AEOPP_REDIS_URL: {exc}") from None
    async with coordinator:
        yield coordinator


async def _connected(
    args: argparse.Namespace, connection: Connection | None, options: dict[str, Any], body: Body
) -> int:
    async with _coordinator(args) as coordinator:
        return await _connected_with(args, connection, {**options, "coordinator": coordinator}, body)


async def _connected_with(
    args: argparse.Namespace, connection: Connection | None, options: dict[str, Any], body: Body
) -> int:
    if connection is not None:
        client = OpportunityClient(
            auth=connection.auth, base_url=connection.base_url, version=connection.version, **options
        )
        async with client:
            return await body(client, args, None)
    from ..testing import PardotSimulator, SimulatorProcess  # only now: aiohttp.web isn't needed otherwise

    latency = args.latency_ms / 1000.0
    zone = SIMULATOR_TIMEZONE
    if args.simulator_process:
        async with SimulatorProcess(args.simulate, seed=args.seed, latency=latency, timezone=zone) as child:
            return await _with_simulator(args, body, options, latency, child.base_url, child.credentials)
    async with (
        _quiet_server_log(),
        PardotSimulator(args.simulate, seed=args.seed, latency=latency, timezone=zone) as sim,
    ):
        return await _with_simulator(args, body, options, latency, sim.base_url, sim.credentials)


async def _with_simulator(
    args: argparse.Namespace,
    body: Body,
    options: dict[str, Any],
    latency: float,
    base_url: str,
    creds: SimulatorCredentials,
) -> int:
    """Run ``body`` with a client of the simulator at ``base_url`` (its credentials are plain values)."""
    auth = BearerAuth(creds.access_token, creds.business_unit_id)
    async with OpportunityClient(auth=auth, base_url=base_url, **options) as client:
        info = SimInfo(records=args.simulate, latency=latency, base_url=base_url, auth=auth)
        return await body(client, args, info)


@contextlib.asynccontextmanager
async def _quiet_server_log() -> AsyncIterator[None]:
    """Hush the embedded server's log: requests the export abandons on Ctrl-C are no news."""
    server_log = logging.getLogger("aiohttp.server")
    level = server_log.level
    server_log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        server_log.setLevel(level)
