"""Where exported records go: JSON Lines or CSV, to stdout or a file.

JSON Lines holds each record's ``to_dict()``; CSV has one column per entry of the spec's
``OPPORTUNITY.record.csv_columns`` (the campaign's name, the prospects' ids and emails joined with
``;``). Writers keep whole lines until :meth:`flush`, so a file never ends mid-record.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from collections.abc import Iterator, Sequence
from typing import Protocol, TextIO, cast

from .._spec import OPPORTUNITY
from ..models import Opportunity
from ._settings import UsageError

__all__ = [
    "CSV_HEADER",
    "CsvWriter",
    "JsonLinesWriter",
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


@contextlib.contextmanager
def open_output(path: str | None, *, append: bool) -> Iterator[tuple[TextIO, bool]]:
    """The output stream, and whether it already holds data (appending to a non-empty file)."""
    if path in (None, "-"):
        yield sys.stdout, False
        return
    mode = "a" if append else "w"
    try:
        stream = cast(TextIO, open(path, mode, encoding="utf-8", newline=""))  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"--output: can't write {path!r}: {exc.strerror}") from None
    with stream:
        yield stream, append and stream.tell() > 0
