"""``aeopp export``: every matching opportunity to JSON Lines or CSV, with a progress bar.

Its filter flags are the spec's filters (``OPPORTUNITY.filters``: name, metavar, help, and whether
the value is an integer), so a filter added there is a flag here with no edit. Every value is
checked by the client's own ``query()``, before anything connects.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import math
import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO, cast

import anyio
import attrs

from .._constants import MAX_LIMIT, OUTPUTS, SORT_ORDERS
from .._spec import OPPORTUNITY, ObjectSpec
from ..client import OpportunityClient, OpportunityQuery
from ..errors import AeoppError
from ._progress import Progress
from ._run import SimInfo, run
from ._settings import (
    ENV_HELP,
    EXIT_API,
    EXIT_INTERRUPTED,
    UsageError,
    describe,
    error,
    flag,
    lenient_int,
    note,
)
from ._writers import RecordWriter, open_output, writer_for

__all__ = ["FORMATS", "add_parser", "query_arguments", "run_export", "speed"]

FORMATS = ("jsonl", "csv")
#: Library parameters whose flag has another name.
_ALIASES = {"output": "--api-output"}


def query_arguments(args: argparse.Namespace, spec: ObjectSpec[Any] = OPPORTUNITY) -> dict[str, Any]:
    """The keyword arguments of ``client.query()``, from the flags."""
    filters = {f.name: lenient_int(getattr(args, f.name)) if f.cli_int else getattr(args, f.name)
               for f in spec.filters}  # fmt: skip
    return dict(
        sort_by=args.sort_by,
        sort_order=args.sort_order,
        output=args.api_output,
        page_size=lenient_int(args.page_size),
        offset=lenient_int(args.offset),
        max_items=lenient_int(args.max_items),
        resume=args.resume,
        strategy=args.strategy,
        **filters,
    )


def _validate(args: argparse.Namespace, offline: OpportunityClient) -> None:
    if args.format not in FORMATS:
        raise UsageError(f"--format: {args.format!r} is not one of {', '.join(FORMATS)}")
    if args.compare and args.simulate is None:
        raise UsageError("--compare needs --simulate")
    if args.append and args.output in (None, "-"):
        raise UsageError("--append needs --output FILE")
    offline.query(**query_arguments(args))  # the library's own checks, once
    if args.resume is not None and not args.append and _holds_data(args.output):
        raise UsageError(
            f"--resume without --append would replace {args.output!r}, which holds the export so far: "
            "add --append"
        )


def _holds_data(path: str | None) -> bool:
    if path in (None, "-"):
        return False
    try:
        return os.path.getsize(path) > 0
    except OSError:
        return False


def run_export(args: argparse.Namespace) -> int:
    """``aeopp export``: every matching opportunity to JSON Lines or CSV."""
    return run(args, _export, _validate)


# -- the walk ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _stop_on_signals(scope: anyio.CancelScope) -> Iterator[None]:
    """Make SIGINT and SIGTERM cancel ``scope`` (checked only at awaits, so never mid-line)."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, scope.cancel)
        except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover - Windows, threads
            continue
        installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


@attrs.define
class _WalkResult:
    done: int = 0
    seconds: float = 0.0
    error: AeoppError | None = None
    interrupted: bool = False


def _expected(query: OpportunityQuery) -> int | None:
    """How many records the walk will yield: the matches after ``offset``, at most ``max_items``."""
    if query.total_results is None:
        return None
    remaining = max(0, query.total_results - query.plan.offset)
    return remaining if query.plan.max_items is None else min(remaining, query.plan.max_items)


def count(n: int, word: str, words: str | None = None) -> str:
    """``1 page``, ``2 pages``, ``1,000 retries``."""
    return f"{n:,} {word if n == 1 else words or word + 's'}"


async def _walk_into(query: OpportunityQuery, writer: RecordWriter, progress: Progress) -> _WalkResult:
    """Write every record of ``query``, flushing whole lines once per page's worth; stop on a signal."""
    result = _WalkResult()
    batch = query.plan.page_size
    start = time.perf_counter()
    with anyio.CancelScope() as scope, _stop_on_signals(scope):
        try:
            async with query:
                async for record in query:
                    writer.write(record)
                    result.done += 1
                    if writer.pending >= batch:
                        writer.flush()
                    progress.update(result.done, _expected(query))
        except AeoppError as exc:
            result.error = exc
        finally:
            writer.flush()
            progress.close()
    result.seconds = time.perf_counter() - start
    result.interrupted = scope.cancelled_caught
    return result


async def _export(client: OpportunityClient, args: argparse.Namespace, sim: SimInfo | None) -> int:
    query = client.query(**query_arguments(args))
    destination = "stdout" if args.output in (None, "-") else args.output
    with open_output(args.output, append=args.append) as output:
        writer = writer_for(args.format, output.stream, header=not output.has_data)
        progress = Progress(sys.stderr, enabled=False if args.quiet else None)
        result = await _walk_into(query, writer, progress)
        # FILE is replaced by what was written, unless the export failed before writing anything
        output.keep = result.done > 0 or (result.error is None and not result.interrupted)
    stats = client.stats
    summary = (
        f"{count(result.done, 'record')} to {destination} in {result.seconds:.2f} s: "
        f"{count(query.stats.pages, 'page')}, {count(stats.requests, 'request')}, "
        f"{count(stats.retries, 'retry', 'retries')}"
    )
    if result.error is None and not result.interrupted:
        if not args.quiet:
            note(f"exported {summary}")
        if sim is not None:
            return await _compare(args, sim, query, result)
        return 0
    failure = result.error
    cursor = failure.cursor if failure is not None and failure.cursor is not None else query.cursor
    resume = ""
    if cursor is not None and destination != "stdout":
        resume = f"; to continue, run the same command with --append --resume {cursor.token()}"
    elif cursor is not None:
        resume = f"; to continue, add --resume {cursor.token()}"
    if failure is None:
        if output.keep or destination == "stdout":
            note(f"interrupted: wrote {summary}{resume}")
        else:
            note(f"interrupted before the first record: {destination} left as it was{resume}")
        return EXIT_INTERRUPTED
    error(args, describe(failure))
    if result.done:
        note(f"stopped: wrote {summary}{resume}")
    return EXIT_API


# -- the comparison (--simulate) --------------------------------------------------------------------


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


def speed(one_at_a_time: float, this: float) -> str:
    """How this export compares with one page at a time: ``2.5x faster``, ``1.2x slower``."""
    if this <= 0 or one_at_a_time <= 0 or round(one_at_a_time / this, 1) == 1:
        return "as fast"
    ratio = one_at_a_time / this
    return f"{ratio:.1f}x faster" if ratio > 1 else f"{1 / ratio:.1f}x slower"


async def _compare(args: argparse.Namespace, sim: SimInfo, query: OpportunityQuery, run: _WalkResult) -> int:
    """Say what a one-page-at-a-time walk would take: measured with ``--compare``, else computed."""
    total = query.total_results if query.total_results is not None else run.done
    pages = max(1, math.ceil(total / query.plan.page_size))
    if not args.compare:
        sequential = pages * sim.latency
        text = (
            f"one page at a time: at least {sequential:.2f} s (computed, not measured: "
            f"{count(pages, 'page')} x {sim.latency * 1000:g} ms simulator latency, processing time "
            f"excluded); this export: {run.seconds:.2f} s"
        )
        if sequential > run.seconds:  # a lower bound says nothing of an export that took longer
            text += ", at least " + speed(sequential, run.seconds)
        if not args.quiet:
            note(text)
        return 0
    if not args.quiet:
        note("measuring the same export one page at a time (one request in flight)...")
    one = OpportunityClient(
        auth=sim.auth, base_url=sim.base_url, max_concurrency=1, wire_format=args.wire_format
    )
    async with one:
        walk = one.query(**query_arguments(args))
        writer = writer_for(args.format, cast(TextIO, _Discard()))
        result = await _walk_into(walk, writer, Progress(sys.stderr, enabled=False if args.quiet else None))
    if result.interrupted or result.error is not None:
        note("comparison " + ("interrupted" if result.error is None else f"failed: {result.error}"))
        return EXIT_INTERRUPTED if result.error is None else EXIT_API
    note(
        f"one page at a time: {result.seconds:.2f} s (measured: the same {count(result.done, 'record')} and "
        f"output, {count(one.stats.requests, 'request')}, one in flight); this export: {run.seconds:.2f} s, "
        + speed(result.seconds, run.seconds)
    )
    return 0


# -- the parser -------------------------------------------------------------------------------------


def _choices(names: Any) -> str:
    return "|".join(names)


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    parent: argparse.ArgumentParser,
    spec: ObjectSpec[Any] = OPPORTUNITY,
) -> argparse.ArgumentParser:
    """Add ``export`` to the ``aeopp`` parser: one flag per filter of ``spec``."""
    export = subparsers.add_parser(
        "export",
        parents=[parent],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="export every matching opportunity to JSON Lines or CSV",
        description="""\
Export every opportunity matching the filters, fetched concurrently, to JSON Lines (each
record's to_dict(), with the keys `aeopp read` prints) or CSV. Pardot's query answers never
include visitor activities, so rows show "activities": [] (`aeopp read ID` shows them).
FILE is written under a temporary name beside it and renamed into place when the export ends:
one that fails at its first request leaves FILE as it was. A progress bar is drawn on stderr
when it is a terminal; a summary line ends the run. Ctrl-C stops cleanly, with whole records
written, and prints a --resume token.""",
        epilog=ENV_HELP,
    )
    filters = export.add_argument_group("filters (Pardot's query filters)")
    for f in spec.filters:
        filters.add_argument(flag(f.name), metavar=f.metavar, help=f.help)
    sorts = ", ".join(f"{name} ({order})" for name, order in spec.sorts.items())
    walk = export.add_argument_group("order and output")
    walk.add_argument("--sort-by", default="id", metavar=_choices(spec.sorts),
                      help="the field to sort by (default: id)")  # fmt: skip
    walk.add_argument("--sort-order", metavar=_choices(SORT_ORDERS),
                      help=f"default: the field's own: {sorts}")  # fmt: skip
    walk.add_argument("--format", default="jsonl", metavar=_choices(FORMATS), help="default: jsonl")
    walk.add_argument("--output", "-o", metavar="FILE", help="default: stdout")
    walk.add_argument("--append", action="store_true", help="append to FILE (CSV: no second header)")
    walk.add_argument("--api-output", metavar=_choices(OUTPUTS), help="Pardot's output= parameter")
    walk.add_argument("--page-size", default=str(MAX_LIMIT), metavar="N",
                      help=f"records per request (<= {MAX_LIMIT})")  # fmt: skip
    walk.add_argument("--max-items", metavar="N", help="stop after N records")
    walk.add_argument("--offset", default="0", metavar="N", help="skip the first N matches")
    walk.add_argument("--strategy", default="offset", metavar="offset|keyset", help="walk strategy")
    walk.add_argument("--resume", metavar="TOKEN", help="continue an interrupted export from its token")
    walk.add_argument("--quiet", "-q", action="store_true",
                      help="no progress bar and no summary: only errors and warnings (and --compare's "
                      "measurement, which it asks for)")  # fmt: skip
    walk.add_argument("--compare", action="store_true",
                      help="with --simulate: then time the same export one page at a time")  # fmt: skip
    export.set_defaults(func=run_export, aliases=_ALIASES)
    return export
