"""The records the API returns: frozen, slotted attrs classes.

Money is :class:`~decimal.Decimal`, timestamps are :class:`~datetime.datetime`. Pardot sends
timestamps without an offset, in the API user's time zone, which the API never names: they are
naive unless the client was told that time zone (``OpportunityClient(timezone=ZoneInfo(...))``,
``AEOPP_TIMEZONE``), and then aware in it. ``to_dict()`` writes them in ISO 8601
(``2024-01-31T09:30:00``, with ``-05:00`` when aware). Fields the server sends that these classes
don't know are kept in ``extra``, so a new server field never breaks anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs

__all__ = ["Campaign", "Opportunity", "Page", "Prospect", "VisitorActivity"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if attrs.has(type(value)):
        return value.to_dict()
    return value


#: attrs metadata key: how ``to_dict`` writes a field whose value is not JSON-ready as it is.
_JSON = "aeopp.json"
_PLANS: dict[type, tuple[tuple[str, Callable[[Any], Any] | None], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = tuple(
            (f.name, f.metadata.get(_JSON)) for f in attrs.fields(cls) if f.name != "extra"
        )
    return plan


def _to_dict(record: Any) -> dict[str, Any]:
    """``record``'s fields as a JSON-ready dict (Decimal as a string, datetimes ISO 8601, nested
    records as dicts), then its ``extra`` fields, which never override a declared one."""
    out: dict[str, Any] = {}
    for name, write in _plan(type(record)):
        value = getattr(record, name)
        out[name] = value if write is None or value is None else write(value)
    for key, value in record.extra.items():
        out.setdefault(key, _jsonable(value))
    return out


def _isoformat(value: datetime) -> str:
    return value.isoformat()


def _record_dict(value: Any) -> Any:
    return value.to_dict()


def _records_list(value: Any) -> Any:
    return [item.to_dict() for item in value]


_STAMP = {_JSON: _isoformat}
_RECORD = {_JSON: _record_dict}
_RECORDS = {_JSON: _records_list}
_MONEY = {_JSON: str}


@attrs.frozen
class Campaign:
    """The campaign an opportunity is assigned to."""

    id: int | None
    name: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (Decimal as string, datetimes ISO 8601)."""
        return _to_dict(self)


@attrs.frozen
class Prospect:
    """A prospect linked to an opportunity (only the fields the opportunity endpoints return)."""

    id: int | None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (Decimal as string, datetimes ISO 8601)."""
        return _to_dict(self)


@attrs.frozen
class VisitorActivity:
    """A visitor activity of an opportunity (``output=full`` reads only)."""

    id: int | None
    prospect_id: int | None = None
    opportunity_id: int | None = None
    type: int | None = None
    type_name: str | None = None
    details: str | None = None
    created_at: datetime | None = attrs.field(default=None, metadata=_STAMP)
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (Decimal as string, datetimes ISO 8601)."""
        return _to_dict(self)


@attrs.frozen
class Opportunity:
    """One opportunity, as read, created, updated or found by a query."""

    id: int
    name: str | None = None
    value: Decimal | None = attrs.field(default=None, metadata=_MONEY)
    probability: int | None = None
    type: str | None = None
    stage: str | None = None
    status: str | None = None
    campaign_id: int | None = None
    campaign: Campaign | None = attrs.field(default=None, metadata=_RECORD)
    closed_at: datetime | None = attrs.field(default=None, metadata=_STAMP)
    created_at: datetime | None = attrs.field(default=None, metadata=_STAMP)
    updated_at: datetime | None = attrs.field(default=None, metadata=_STAMP)
    prospects: tuple[Prospect, ...] = attrs.field(default=(), metadata=_RECORDS)
    activities: tuple[VisitorActivity, ...] = attrs.field(default=(), metadata=_RECORDS)
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``value`` as a decimal string, timestamps ISO 8601, nested dicts."""
        return _to_dict(self)


R = TypeVar("R")


@attrs.frozen
class Page(Generic[R]):
    """One page of a query: the records and, unless ``output=bulk``, the total number of matches."""

    total_results: int | None
    records: tuple[R, ...] = ()

    @property
    def opportunities(self) -> tuple[R, ...]:
        """The records of a page of opportunities (the same tuple as ``records``)."""
        return self.records

    def __len__(self) -> int:
        return len(self.records)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``total_results`` and ``records``."""
        return {"total_results": self.total_results, "records": [_jsonable(r) for r in self.records]}
