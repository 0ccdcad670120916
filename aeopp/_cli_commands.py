"""The ``aeopp`` commands that talk to Pardot: export, read, create, update, delete, undelete.

Every value given on the command line goes through the request builder, so a bad value gets the
library's own message. Problems print one line on stderr: exit status 2 for bad flags or missing
settings, 1 for errors from the API or the network, 130 when interrupted. Secrets are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import json
import logging
import math
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, Protocol, TextIO, cast

import anyio
import attrs

from . import _request
from ._constants import EDITABLE_FIELDS, MAX_CONCURRENT_REQUESTS, MAX_LIMIT, QUERY_FILTERS, REQUIRED_FIELDS
from .auth import ApiKeyAuth, BearerAuth
from .client import OpportunityClient, OpportunityQuery
from .errors import AeoppError, PardotError, RequestValidationError
from .models import Opportunity

if TYPE_CHECKING:
    from .testing import SimulatorCredentials

__all__ = [
    "CSV_COLUMNS",
    "Connection",
    "CsvWriter",
    "JsonLinesWriter",
    "Progress",
    "UsageError",
    "csv_row",
    "register",
    "render_progress",
    "resolve_connection",
    "run_create",
    "run_delete",
    "run_export",
    "run_read",
    "run_undelete",
    "run_update",
]

DEFAULT_BASE_URL = "https://pi.pardot.com"
#: Latency of the simulator ``--simulate`` starts, unless ``--latency-ms`` says otherwise.
DEFAULT_SIM_LATENCY_MS = 50.0
EXIT_USAGE = 2
EXIT_API = 1
EXIT_INTERRUPTED = 130

#: CSV columns, in order: the flat fields, the campaign, then the prospects joined with ``;``.
CSV_COLUMNS = (
    "id",
    "name",
    "value",
    "probability",
    "type",
    "stage",
    "status",
    "campaign_id",
    "campaign_name",
    "closed_at",
    "created_at",
    "updated_at",
    "prospect_ids",
    "prospect_emails",
)

#: (flag, environment variable, what it is) for each connection setting.
_SETTINGS = {
    "base_url": ("--base-url", "AEOPP_BASE_URL", "base URL"),
    "access_token": ("--access-token", "AEOPP_ACCESS_TOKEN", "access token"),
    "business_unit_id": ("--business-unit-id", "AEOPP_BUSINESS_UNIT_ID", "business unit id"),
    "api_version": ("--api-version", "AEOPP_API_VERSION", "API version"),
    "email": ("--email", "AEOPP_EMAIL", "email"),
    "password": ("--password", "AEOPP_PASSWORD", "password"),
    "user_key": ("--user-key", "AEOPP_USER_KEY", "user key"),
}


class UsageError(Exception):
    """A missing or malformed command-line setting: printed as one line, exit status 2."""


# -- connection settings ----------------------------------------------------------------------------


@attrs.frozen
class Connection:
    """Where and how to connect; the auth object keeps the secrets out of every repr."""

    base_url: str
    auth: BearerAuth | ApiKeyAuth
    version: int = 4


def _setting(args: argparse.Namespace, env: Mapping[str, str], name: str) -> str | None:
    value = getattr(args, name, None)
    if value is None:
        value = env.get(_SETTINGS[name][1]) or None
    return value if value is None else str(value)


def _missing(name: str) -> str:
    flag, variable, label = _SETTINGS[name]
    return f"missing {label}: pass {flag} or set {variable}"


def resolve_connection(args: argparse.Namespace, env: Mapping[str, str]) -> Connection:
    """The connection from flags, falling back on ``AEOPP_*`` environment variables.

    A bearer token (with its business unit id) wins over the legacy email, password and user key.
    """
    version_text = _setting(args, env, "api_version") or "4"
    try:
        version = _request.validate_version(_lenient_int(version_text))
    except RequestValidationError as exc:
        raise UsageError(f"{_SETTINGS['api_version'][0]} / {_SETTINGS['api_version'][1]}: {exc}") from None
    base_url = _setting(args, env, "base_url") or DEFAULT_BASE_URL
    token = _setting(args, env, "access_token")
    legacy = {name: _setting(args, env, name) for name in ("email", "password", "user_key")}
    auth: BearerAuth | ApiKeyAuth
    if token is not None:
        unit = _setting(args, env, "business_unit_id")
        if unit is None:
            raise UsageError(_missing("business_unit_id"))
        auth = BearerAuth(token, unit)
    elif any(value is not None for value in legacy.values()):
        for name, value in legacy.items():
            if value is None:
                raise UsageError(
                    _missing(name) + " (legacy api-key login needs email, password and user key)"
                )
        auth = ApiKeyAuth(legacy["email"] or "", legacy["password"] or "", legacy["user_key"] or "")
    else:
        raise UsageError(
            _missing("access_token")
            + " (with --business-unit-id / AEOPP_BUSINESS_UNIT_ID), or try --simulate N"
        )
    return Connection(base_url=base_url, auth=auth, version=version)


def _lenient_int(text: str | None) -> int | str | None:
    """``text`` as an int when it reads as one, else unchanged (the request builder then says why not)."""
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return text


def _flag(parameter: str) -> str:
    return "--" + parameter.replace("_", "-")


# -- progress bar -----------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def render_progress(done: int, total: int | None, elapsed: float, width: int = 80) -> str:
    """One line: bar (when the total is known), records done of total, rate and time left."""
    rate = done / elapsed if elapsed > 0 else 0.0
    rate_text = f"{rate:,.0f} rec/s"
    if total is None or total <= 0:
        return f"{done:,} records  {rate_text}"[:width]
    fraction = min(1.0, done / total)
    eta = (total - done) / rate if rate > 0 and elapsed >= 0.5 else math.inf
    eta_text = "--" if math.isinf(eta) else _duration(eta)
    tail = f" {done:,}/{total:,} {fraction:4.0%}  {rate_text}  ETA {eta_text}"
    bar_width = max(10, min(40, width - len(tail) - 2))
    filled = int(bar_width * fraction)
    return (f"[{'#' * filled}{'.' * (bar_width - filled)}]" + tail)[:width]


class Progress:
    """A progress line on ``stream``, redrawn at most every ``interval`` seconds, only on a terminal."""

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool | None = None,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.enabled = _isatty(stream) if enabled is None else enabled
        self.interval = interval
        self._clock = clock
        self._start = clock()
        self._last = -math.inf
        self._drawn = False

    def update(self, done: int, total: int | None, *, force: bool = False) -> None:
        """Redraw, unless the last drawing is more recent than ``interval``."""
        if not self.enabled:
            return
        now = self._clock()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        width = _terminal_width()
        self.stream.write("\r" + render_progress(done, total, now - self._start, width - 1) + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the line, leaving the terminal as it was."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False


def _isatty(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _terminal_width() -> int:
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return 80
    return columns if columns >= 20 else 80


# -- writers ----------------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if hasattr(value, "isoformat"):
        return str(value.isoformat(sep=" "))
    return str(value)


def csv_row(record: Opportunity) -> list[str]:
    """``record`` as :data:`CSV_COLUMNS`: prospects' ids and emails joined with ``;``."""
    campaign = record.campaign
    campaign_id = record.campaign_id if record.campaign_id is not None else (campaign and campaign.id)
    return [
        _cell(record.id),
        _cell(record.name),
        _cell(record.value),
        _cell(record.probability),
        _cell(record.type),
        _cell(record.stage),
        _cell(record.status),
        _cell(campaign_id),
        _cell(campaign.name if campaign is not None else None),
        _cell(record.closed_at),
        _cell(record.created_at),
        _cell(record.updated_at),
        ";".join(_cell(p.id) for p in record.prospects),
        ";".join(_cell(p.email) for p in record.prospects),
    ]


def _json_line(record: Opportunity) -> str:
    return json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"


class RecordWriter(Protocol):
    @property
    def pending(self) -> int: ...

    def write(self, record: Opportunity) -> None: ...
    def flush(self) -> None: ...


class _BatchWriter:
    """Whole lines are kept until :meth:`flush`, then written with one call and flushed."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lines: list[str] = []

    @property
    def pending(self) -> int:
        return len(self._lines)

    def _add(self, line: str) -> None:
        self._lines.append(line)

    def flush(self) -> None:
        if self._lines:
            text = "".join(self._lines)
            self._lines = []
            self.stream.write(text)
        self.stream.flush()


class JsonLinesWriter(_BatchWriter):
    """One JSON object per line: each record's ``to_dict()``."""

    def write(self, record: Opportunity) -> None:
        self._add(_json_line(record))


class CsvWriter(_BatchWriter):
    """CSV with a header row (unless ``header=False``, e.g. when appending) and :data:`CSV_COLUMNS`."""

    def __init__(self, stream: TextIO, *, header: bool = True) -> None:
        super().__init__(stream)
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\n")
        if header:
            self._row(list(CSV_COLUMNS))

    def _row(self, row: Sequence[str]) -> None:
        self._csv.writerow(row)
        self._add(self._buffer.getvalue())
        self._buffer.seek(0)
        self._buffer.truncate()

    def write(self, record: Opportunity) -> None:
        self._row(csv_row(record))


# -- running a command ------------------------------------------------------------------------------


@attrs.frozen
class SimInfo:
    """What the command knows about the simulator it started (``--simulate``)."""

    records: int
    latency: float
    base_url: str
    auth: BearerAuth


Body = Callable[[OpportunityClient, argparse.Namespace, SimInfo | None], Awaitable[int]]


def _error(args: argparse.Namespace, message: str) -> None:
    sys.stderr.write(f"aeopp {args.command}: error: {message}\n")
    sys.stderr.flush()


def _validation_message(exc: RequestValidationError) -> str:
    flag = _flag(exc.parameter)
    return f"{flag}: {exc}" if exc.parameter in _FLAG_PARAMETERS else str(exc)


def _run(args: argparse.Namespace, body: Body, validate: Callable[[argparse.Namespace], None]) -> int:
    """Validate, connect (or start the simulator), run ``body``; map failures to one line and a status."""
    try:
        validate(args)
        connection = None if args.simulate is not None else resolve_connection(args, os.environ)
        return asyncio.run(_connected(args, connection, body))
    except UsageError as exc:
        _error(args, str(exc))
        return EXIT_USAGE
    except RequestValidationError as exc:
        _error(args, _validation_message(exc))
        return EXIT_USAGE
    except PardotError as exc:
        _error(args, str(exc))
        return EXIT_API
    except AeoppError as exc:
        _error(args, f"{type(exc).__name__}: {exc}")
        return EXIT_API
    except KeyboardInterrupt:
        _error(args, "interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `aeopp export | head`: the reader left
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_API


async def _connected(args: argparse.Namespace, connection: Connection | None, body: Body) -> int:
    options: dict[str, Any] = {
        "wire_format": args.wire_format,
        "max_concurrency": args.max_concurrency,
        "timeout": args.timeout,
    }
    if connection is not None:
        client = OpportunityClient(
            auth=connection.auth, base_url=connection.base_url, version=connection.version, **options
        )
        async with client:
            return await body(client, args, None)
    from .testing import PardotSimulator, SimulatorProcess  # only now: aiohttp.web isn't needed otherwise

    latency = args.latency_ms / 1000.0
    if args.simulator_process:
        async with SimulatorProcess(args.simulate, seed=args.seed, latency=latency) as child:
            return await _with_simulator(args, body, options, latency, child.base_url, child.credentials)
    async with _quiet_server_log(), PardotSimulator(args.simulate, seed=args.seed, latency=latency) as sim:
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


def _check_common(args: argparse.Namespace) -> None:
    for name in ("simulate", "max_concurrency", "seed"):
        setattr(args, name, _lenient_int(getattr(args, name)))
    if args.simulate is not None and (isinstance(args.simulate, str) or not 0 <= args.simulate <= 10_000_000):
        raise UsageError(f"--simulate: {args.simulate!r} is not a number of records from 0 to 10000000")
    if isinstance(args.seed, str):
        raise UsageError(f"--seed: {args.seed!r} is not an integer")
    if isinstance(args.max_concurrency, str) or args.max_concurrency < 1:
        raise UsageError(f"--max-concurrency: {args.max_concurrency!r} is not an integer >= 1")
    for name in ("timeout", "latency_ms"):
        value = getattr(args, name)
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not (number >= 0 and math.isfinite(number)) or (name == "timeout" and number == 0):
            raise UsageError(f"{_flag(name)}: {value!r} is not a positive number")
        setattr(args, name, number)
    _request.validate_wire_format(args.wire_format)


# -- export -----------------------------------------------------------------------------------------

_EXPORT_INTS = ("id_greater_than", "id_less_than", "prospect_id", "probability_greater_than",
                "probability_less_than", "value_greater_than", "value_less_than")  # fmt: skip
_FLAG_PARAMETERS = frozenset(
    {*QUERY_FILTERS, *EDITABLE_FIELDS, "sort_by", "sort_order", "page_size", "max_items", "offset",
     "resume", "strategy", "clear", "wire_format"}
)  # fmt: skip


def _export_query(args: argparse.Namespace) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for name in QUERY_FILTERS:
        value = getattr(args, name)
        filters[name] = _lenient_int(value) if name in _EXPORT_INTS else value
    return dict(
        sort_by=args.sort_by,
        sort_order=args.sort_order,
        output=args.api_output,
        page_size=_lenient_int(args.page_size),
        offset=_lenient_int(args.offset),
        max_items=_lenient_int(args.max_items),
        resume=args.resume,
        strategy=args.strategy,
        **filters,
    )


def _validate_export(args: argparse.Namespace) -> None:
    _check_common(args)
    if args.format not in ("jsonl", "csv"):
        raise UsageError(f"--format: {args.format!r} is not one of jsonl, csv")
    query = _export_query(args)
    filters = {name: query[name] for name in QUERY_FILTERS}
    _request.query_spec(sort_by=query["sort_by"], sort_order=query["sort_order"], output=query["output"],
                        **filters)  # fmt: skip
    _request.validate_page_size(query["page_size"])
    _request.validate_offset(query["offset"])
    _request.validate_max_items(query["max_items"])
    if args.strategy not in ("offset", "keyset"):
        raise RequestValidationError("strategy", args.strategy, "'offset' or 'keyset'")


@contextlib.contextmanager
def _output(args: argparse.Namespace) -> Iterator[tuple[TextIO, bool]]:
    """The output stream, and whether it already holds data (appending to a non-empty file)."""
    if args.output in (None, "-"):
        yield sys.stdout, False
        return
    mode = "a" if args.append else "w"
    try:
        stream = cast(TextIO, open(args.output, mode, encoding="utf-8", newline=""))  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"--output: can't write {args.output!r}: {exc.strerror}") from None
    with stream:
        yield stream, bool(args.append) and stream.tell() > 0


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
                    progress.update(result.done, query.total_results)
        except AeoppError as exc:
            result.error = exc
        finally:
            writer.flush()
            progress.close()
    result.seconds = time.perf_counter() - start
    result.interrupted = scope.cancelled_caught
    return result


async def _export(client: OpportunityClient, args: argparse.Namespace, sim: SimInfo | None) -> int:
    query = client.query(**_export_query(args))
    destination = "stdout" if args.output in (None, "-") else args.output
    with _output(args) as (stream, has_data):
        writer: RecordWriter = (
            CsvWriter(stream, header=not has_data) if args.format == "csv" else JsonLinesWriter(stream)
        )
        progress = Progress(sys.stderr, enabled=False if args.quiet else None)
        result = await _walk_into(query, writer, progress)
    stats = client.stats
    summary = (
        f"{result.done:,} records to {destination} in {result.seconds:.2f} s: {query.stats.pages:,} pages, "
        f"{stats.requests:,} requests, {stats.retries:,} retries"
    )
    if result.error is None and not result.interrupted:
        _note(f"exported {summary}")
        if sim is not None:
            return await _compare(args, sim, query, result)
        return 0
    error = result.error
    cursor = error.cursor if error is not None and error.cursor is not None else query.cursor
    resume = ""
    if cursor is not None and destination != "stdout":
        resume = f"; to continue, run the same command with --append --resume {cursor.token()}"
    elif cursor is not None:
        resume = f"; to continue, add --resume {cursor.token()}"
    if error is None:
        _note(f"interrupted: wrote {summary}{resume}")
        return EXIT_INTERRUPTED
    label = str(error) if isinstance(error, PardotError) else f"{type(error).__name__}: {error}"
    _error(args, label)
    if result.done:
        _note(f"stopped: wrote {summary}{resume}")
    return EXIT_API


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


async def _compare(args: argparse.Namespace, sim: SimInfo, query: OpportunityQuery, run: _WalkResult) -> int:
    """Say what a one-page-at-a-time walk would take: measured with ``--compare``, else computed."""
    total = query.total_results if query.total_results is not None else run.done
    pages = max(1, math.ceil(total / query.plan.page_size))
    if not args.compare:
        sequential = pages * sim.latency
        text = (
            f"one page at a time: at least {sequential:.2f} s (computed, not measured: {pages:,} pages "
            f"x {sim.latency * 1000:g} ms simulator latency, processing time excluded)"
        )
        if run.seconds > 0 and sequential > 0:
            text += f"; this export: {run.seconds:.2f} s, {sequential / run.seconds:.1f}x faster"
        _note(text)
        return 0
    _note("measuring the same export one page at a time (one request in flight)...")
    one = OpportunityClient(
        auth=sim.auth, base_url=sim.base_url, max_concurrency=1, wire_format=args.wire_format
    )
    async with one:
        walk = one.query(**_export_query(args))
        sink = cast(TextIO, _Discard())
        writer: RecordWriter = CsvWriter(sink) if args.format == "csv" else JsonLinesWriter(sink)
        result = await _walk_into(walk, writer, Progress(sys.stderr, enabled=False if args.quiet else None))
    if result.interrupted or result.error is not None:
        _note("comparison " + ("interrupted" if result.error is None else f"failed: {result.error}"))
        return EXIT_INTERRUPTED if result.error is None else EXIT_API
    _note(
        f"one page at a time: {result.seconds:.2f} s (measured: the same {result.done:,} records and output, "
        f"{one.stats.requests:,} requests, one in flight); this export: {run.seconds:.2f} s, "
        f"{result.seconds / run.seconds:.1f}x faster"
    )
    return 0


def _note(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


# -- single records ---------------------------------------------------------------------------------


def _print_records(records: Sequence[Opportunity], pretty: bool) -> None:
    for record in records:
        if pretty:
            sys.stdout.write(json.dumps(record.to_dict(), ensure_ascii=False, indent=2) + "\n")
        else:
            sys.stdout.write(_json_line(record))
    sys.stdout.flush()


def _ids(args: argparse.Namespace) -> list[int]:
    return [_request.validate_id("opportunity_id", _lenient_int(value)) for value in args.ids]


def _validate_read(args: argparse.Namespace) -> None:
    _check_common(args)
    _ids(args)


async def _read(client: OpportunityClient, args: argparse.Namespace, sim: SimInfo | None) -> int:
    _print_records(await client.read_many(_ids(args)), args.pretty)
    return 0


_FIELD_INTS = ("campaign_id", "probability", "prospect_id")


def _create_fields(args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in ("name", "value", "probability", "prospect_email", "prospect_id", "campaign_id", "type",
                 "stage", "status", "closed_at"):  # fmt: skip
        value = getattr(args, name)
        fields[name] = _lenient_int(value) if name in _FIELD_INTS else value
    return fields


def _validate_create(args: argparse.Namespace) -> None:
    _check_common(args)
    _request.build_create(**_create_fields(args))


async def _create(client: OpportunityClient, args: argparse.Namespace, sim: SimInfo | None) -> int:
    _print_records([await client.create(**_create_fields(args))], args.pretty)
    return 0


def _update_fields(args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in EDITABLE_FIELDS:
        value = getattr(args, name)
        if value is not None:
            fields[name] = _lenient_int(value) if name in _FIELD_INTS else value
    for name in args.clear or ():
        if name not in EDITABLE_FIELDS:
            raise RequestValidationError("clear", name, "an editable field: " + ", ".join(EDITABLE_FIELDS))
        if name in REQUIRED_FIELDS:
            raise RequestValidationError(
                "clear", name, "an optional field: " + ", ".join(f for f in EDITABLE_FIELDS
                                                                 if f not in REQUIRED_FIELDS)
            )  # fmt: skip
        if name in fields:
            raise RequestValidationError("clear", name, f"a field not also set with {_flag(name)}")
        fields[name] = None
    return fields


def _validate_update(args: argparse.Namespace) -> None:
    _check_common(args)
    oid = _request.validate_id("opportunity_id", _lenient_int(args.id))
    fields = _update_fields(args)
    if not fields:
        raise UsageError("nothing to change: give at least one field flag (--name, --stage, ...) or --clear")
    _request.build_update(oid, fields)


async def _update(client: OpportunityClient, args: argparse.Namespace, sim: SimInfo | None) -> int:
    oid = _request.validate_id("opportunity_id", _lenient_int(args.id))
    _print_records([await client.update(oid, **_update_fields(args))], args.pretty)
    return 0


def _validate_one_id(args: argparse.Namespace) -> None:
    _check_common(args)
    _request.validate_id("opportunity_id", _lenient_int(args.id))


async def _delete(client: OpportunityClient, args: argparse.Namespace, sim: SimInfo | None) -> int:
    oid = _request.validate_id("opportunity_id", _lenient_int(args.id))
    await client.delete(oid)
    sys.stdout.write(f"deleted opportunity {oid}\n")
    return 0


async def _undelete(client: OpportunityClient, args: argparse.Namespace, sim: SimInfo | None) -> int:
    oid = _request.validate_id("opportunity_id", _lenient_int(args.id))
    await client.undelete(oid)
    sys.stdout.write(f"restored opportunity {oid}\n")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """``aeopp export``: every matching opportunity to JSON Lines or CSV."""
    return _run(args, _export, _validate_export)


def run_read(args: argparse.Namespace) -> int:
    """``aeopp read ID...``: the records as JSON lines."""
    return _run(args, _read, _validate_read)


def run_create(args: argparse.Namespace) -> int:
    """``aeopp create``: create one opportunity and print it."""
    return _run(args, _create, _validate_create)


def run_update(args: argparse.Namespace) -> int:
    """``aeopp update ID``: change (or ``--clear``) fields and print the result."""
    return _run(args, _update, _validate_update)


def run_delete(args: argparse.Namespace) -> int:
    """``aeopp delete ID``."""
    return _run(args, _delete, _validate_one_id)


def run_undelete(args: argparse.Namespace) -> int:
    """``aeopp undelete ID``."""
    return _run(args, _undelete, _validate_one_id)


# -- argument parsers -------------------------------------------------------------------------------

_ENV_HELP = """\
connection settings come from the flags or from the environment: AEOPP_BASE_URL (default
https://pi.pardot.com), AEOPP_ACCESS_TOKEN and AEOPP_BUSINESS_UNIT_ID (Salesforce OAuth),
AEOPP_API_VERSION (3 or 4, default 4), or the legacy AEOPP_EMAIL, AEOPP_PASSWORD and
AEOPP_USER_KEY. With --simulate N, an embedded simulator with N opportunities is used instead.
exit status: 0 done, 1 API or network error, 2 bad flags or settings, 130 interrupted."""


def _connection_parser() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection")
    group.add_argument("--base-url", metavar="URL", help="API host (env AEOPP_BASE_URL)")
    group.add_argument("--access-token", metavar="TOKEN", help="OAuth access token (env AEOPP_ACCESS_TOKEN)")
    group.add_argument("--business-unit-id", metavar="ID", help="0Uv... (env AEOPP_BUSINESS_UNIT_ID)")
    group.add_argument("--api-version", metavar="3|4", help="API version (env AEOPP_API_VERSION)")
    group.add_argument("--email", help="legacy login email (env AEOPP_EMAIL)")
    group.add_argument("--password", help="legacy login password (env AEOPP_PASSWORD)")
    group.add_argument("--user-key", metavar="KEY", help="legacy user key (env AEOPP_USER_KEY)")
    group.add_argument("--wire-format", default="json", metavar="json|xml", help="response format")
    group.add_argument("--max-concurrency", default=str(MAX_CONCURRENT_REQUESTS), metavar="N",
                       help="requests in flight at most (default: 5, Pardot's limit)")  # fmt: skip
    group.add_argument("--timeout", default="30", metavar="SECONDS", help="per request (default: 30)")
    sim = parent.add_argument_group("simulator")
    sim.add_argument("--simulate", metavar="N",
                     help="run against an embedded simulator seeded with N opportunities")  # fmt: skip
    sim.add_argument("--latency-ms", default=str(DEFAULT_SIM_LATENCY_MS), metavar="MS",
                     help="the simulator's latency per request (default: 50)")  # fmt: skip
    sim.add_argument("--seed", default="0", metavar="N", help="seed of the simulator's data (default: 0)")
    sim.add_argument(
        "--simulator-process",
        action="store_true",
        help="run the simulator in a child process, so its CPU doesn't compete with the client's",
    )
    return parent


def _add_field_flags(parser: argparse.ArgumentParser, *, create: bool) -> None:
    group = parser.add_argument_group("fields")
    required = " (required)" if create else ""
    group.add_argument("--name", help="opportunity name" + required)
    group.add_argument("--value", metavar="AMOUNT", help="value, e.g. 1500 or 99.50" + required)
    group.add_argument("--probability", metavar="0-100", help="probability in percent" + required)
    group.add_argument("--campaign-id", metavar="ID", help="campaign id")
    group.add_argument("--type", help="type")
    group.add_argument("--stage", help="stage")
    group.add_argument("--status", metavar="won|lost|open", help="status")
    group.add_argument("--closed-at", metavar="TIMESTAMP", help="'YYYY-MM-DD[ HH:MM[:SS]]'")
    if create:
        group.add_argument("--prospect-email", metavar="EMAIL", help="the prospect's email")
        group.add_argument("--prospect-id", metavar="ID", help="the prospect's id")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add export, read, create, update, delete and undelete to the ``aeopp`` parser."""
    parent = _connection_parser()
    fmt = argparse.RawDescriptionHelpFormatter

    export = subparsers.add_parser(
        "export",
        parents=[parent],
        formatter_class=fmt,
        help="export every matching opportunity to JSON Lines or CSV",
        description="Export every opportunity matching the filters, fetched concurrently, to JSON Lines\n"
        "(each record's to_dict()) or CSV. A progress bar is drawn on stderr when it is a terminal;\n"
        "a summary line ends the run. Ctrl-C stops cleanly, with whole records written.",
        epilog=_ENV_HELP,
    )
    filters = export.add_argument_group("filters (Pardot's query filters)")
    for name in QUERY_FILTERS:
        metavar = {"created_after": "WHEN", "created_before": "WHEN", "prospect_email": "EMAIL"}.get(
            name, "N"
        )
        helps = {
            "created_after": "a timestamp or today, yesterday, last_7_days, this_month, last_month",
            "created_before": "a timestamp or a date keyword",
        }
        filters.add_argument(_flag(name), metavar=metavar, help=helps.get(name))
    walk = export.add_argument_group("order and output")
    walk.add_argument("--sort-by", default="id", metavar="FIELD",
                      help="id (default), created_at, probability or value")  # fmt: skip
    walk.add_argument("--sort-order", metavar="ORDER",
                      help="ascending or descending (default: the field's own)")  # fmt: skip
    walk.add_argument("--format", default="jsonl", metavar="jsonl|csv", help="default: jsonl")
    walk.add_argument("--output", "-o", metavar="FILE", help="default: stdout")
    walk.add_argument("--append", action="store_true", help="append to FILE (CSV: no second header)")
    walk.add_argument("--api-output", metavar="full|simple|mobile|bulk", help="Pardot's output= parameter")
    walk.add_argument("--page-size", default=str(MAX_LIMIT), metavar="N", help="records per request (<= 200)")
    walk.add_argument("--max-items", metavar="N", help="stop after N records")
    walk.add_argument("--offset", default="0", metavar="N", help="skip the first N matches")
    walk.add_argument("--strategy", default="offset", metavar="offset|keyset", help="walk strategy")
    walk.add_argument("--resume", metavar="TOKEN", help="continue an interrupted export from its token")
    walk.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    walk.add_argument("--compare", action="store_true",
                      help="with --simulate: then time the same export one page at a time")  # fmt: skip
    export.set_defaults(func=run_export)

    read = subparsers.add_parser(
        "read", parents=[parent], formatter_class=fmt, help="read opportunities by id", epilog=_ENV_HELP
    )
    read.add_argument("ids", nargs="+", metavar="ID")
    read.add_argument("--pretty", action="store_true", help="indented JSON")
    read.set_defaults(func=run_read)

    create = subparsers.add_parser(
        "create", parents=[parent], formatter_class=fmt, help="create an opportunity", epilog=_ENV_HELP
    )
    _add_field_flags(create, create=True)
    create.add_argument("--pretty", action="store_true", help="indented JSON")
    create.set_defaults(func=run_create)

    update = subparsers.add_parser(
        "update", parents=[parent], formatter_class=fmt, help="change an opportunity", epilog=_ENV_HELP
    )
    update.add_argument("id", metavar="ID")
    _add_field_flags(update, create=False)
    update.add_argument("--clear", action="append", metavar="FIELD",
                        help="set an optional field to nothing (repeatable)")  # fmt: skip
    update.add_argument("--pretty", action="store_true", help="indented JSON")
    update.set_defaults(func=run_update)

    for name, func, text in (("delete", run_delete, "delete an opportunity"),
                             ("undelete", run_undelete, "restore a deleted opportunity")):  # fmt: skip
        sub = subparsers.add_parser(name, parents=[parent], formatter_class=fmt, help=text, epilog=_ENV_HELP)
        sub.add_argument("id", metavar="ID")
        sub.set_defaults(func=func)
