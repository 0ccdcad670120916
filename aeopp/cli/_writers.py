"""Where exported records go: JSON Lines or CSV, to stdout or a file.

JSON Lines holds each record's ``to_dict()``; CSV has one column per entry of the spec's
``OPPORTUNITY.record.csv_columns`` (the campaign's name, the prospects' ids and emails joined with
``;``). Writers keep whole lines until :meth:`flush`, so a file never ends mid-record. A file is
written under a temporary name and renamed into place at the end, so that an export which fails at
its first request leaves the earlier file as it was.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import secrets
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TextIO, cast

import attrs

from .._spec import OPPORTUNITY
from ..models import Opportunity
from ._settings import UsageError

__all__ = [
    "CSV_HEADER",
    "CsvWriter",
    "JsonLinesWriter",
    "Output",
    "RecordWriter",
    "csv_row",
    "json_line",
    "open_output",
    "writer_for",
]

_COLUMNS = OPPORTUNITY.record.csv_columns
#: The CSV header: the spec's column names, in order.
CSV_HEADER = tuple(column.name for column in _COLUMNS)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if hasattr(value, "isoformat"):
        return str(value.isoformat(sep=" "))
    return str(value)


def csv_row(record: Opportunity) -> list[str]:
    """``record`` as the cells of :data:`CSV_HEADER`."""
    return [_cell(column.get(record)) for column in _COLUMNS]


def json_line(record: Opportunity) -> str:
    """``record.to_dict()`` as one line of JSON."""
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
        self._add(json_line(record))


class CsvWriter(_BatchWriter):
    """CSV with a header row (unless ``header=False``, e.g. when appending) and :data:`CSV_HEADER`."""

    def __init__(self, stream: TextIO, *, header: bool = True) -> None:
        super().__init__(stream)
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\n")
        if header:
            self._row(CSV_HEADER)

    def _row(self, row: Sequence[str]) -> None:
        self._csv.writerow(row)
        self._add(self._buffer.getvalue())
        self._buffer.seek(0)
        self._buffer.truncate()

    def write(self, record: Opportunity) -> None:
        self._row(csv_row(record))


def writer_for(file_format: str, stream: TextIO, *, header: bool = True) -> RecordWriter:
    """A CSV (``header`` or not) or JSON Lines writer on ``stream``."""
    return CsvWriter(stream, header=header) if file_format == "csv" else JsonLinesWriter(stream)


@attrs.define
class Output:
    """Where an export writes, and whether the stream already holds data (appending to a non-empty file).

    Set ``keep`` when the export has something to show for itself: only then does a temporary
    file replace FILE.
    """

    stream: TextIO
    has_data: bool = False
    keep: bool = False


@contextlib.contextmanager
def open_output(path: str | None, *, append: bool) -> Iterator[Output]:
    """Stdout (no ``path`` or ``-``), FILE appended to, or a temporary file beside FILE.

    The temporary file replaces FILE at the end if ``keep`` was set, and is removed otherwise,
    leaving FILE as it was. It takes FILE's permissions (through a link, the linked file's). A FILE
    that is no regular file (``/dev/null``, a named pipe) is written to directly, never replaced.
    """
    if path in (None, "-"):
        yield Output(sys.stdout)
        return
    if os.path.isdir(path):
        raise UsageError(f"--output: {path!r} is a directory")
    target = os.path.realpath(path)
    special = os.path.exists(target) and not os.path.isfile(target)
    if append or special:
        with _text(path, lambda: os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)) as stream:
            yield Output(stream, has_data=append and os.fstat(stream.fileno()).st_size > 0)
        return
    temporary = _temporary_name(target)
    with _text(path, lambda: os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)) as stream:
        output = Output(stream)
        try:
            yield output
        except BaseException:
            stream.close()
            _remove(temporary)
            raise
    if output.keep:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temporary, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(temporary, target)
    else:
        _remove(temporary)


@contextlib.contextmanager
def _text(shown: str, opener: Callable[[], int]) -> Iterator[TextIO]:
    """A UTF-8 text stream on the file descriptor ``opener`` gives (created as ``open()`` would)."""
    try:
        fd = opener()
    except OSError as exc:
        raise UsageError(f"--output: can't write {shown!r}: {exc.strerror}") from None
    with open(fd, "w", encoding="utf-8", newline="") as stream:
        yield cast(TextIO, stream)


def _temporary_name(target: str) -> str:
    folder, name = os.path.split(target)
    return os.path.join(folder, f".{name}.{secrets.token_hex(6)}.part")


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
