"""The records the API returns: frozen, slotted attrs classes.

Money is :class:`~decimal.Decimal`, timestamps are :class:`~datetime.datetime` (naive, in the
account's time zone, unless the client was given a time zone). Fields the server sends that these
classes don't know are kept in ``extra``, so a new server field never breaks anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import attrs

__all__ = ["Campaign", "Opportunity", "Page", "Prospect", "VisitorActivity"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(sep=" ")


def _with_extra(out: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Unknown server fields join the dict, without overriding a known one."""
    for key, value in extra.items():
        out.setdefault(key, _jsonable(value))
    return out


@attrs.frozen(slots=True, weakref_slot=False)
class Campaign:
    """The campaign an opportunity is assigned to."""

    id: int | None
    name: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (Decimal as string, datetimes ISO 8601)."""
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        return _with_extra(out, self.extra)


@attrs.frozen(slots=True, weakref_slot=False)
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
        out: dict[str, Any] = {
            "id": self.id,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "company": self.company,
        }
        return _with_extra(out, self.extra)


@attrs.frozen(slots=True, weakref_slot=False)
class VisitorActivity:
    """A visitor activity of an opportunity (``output=full`` reads only)."""

    id: int | None
    prospect_id: int | None = None
    opportunity_id: int | None = None
    type: int | None = None
    type_name: str | None = None
    details: str | None = None
    created_at: datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (Decimal as string, datetimes ISO 8601)."""
        out: dict[str, Any] = {
            "id": self.id,
            "prospect_id": self.prospect_id,
            "opportunity_id": self.opportunity_id,
            "type": self.type,
            "type_name": self.type_name,
            "details": self.details,
            "created_at": _stamp(self.created_at),
        }
        return _with_extra(out, self.extra)


@attrs.frozen(slots=True, weakref_slot=False)
class Opportunity:
    """One opportunity, as read, created, updated or found by a query."""

    id: int
    name: str | None = None
    value: Decimal | None = None
    probability: int | None = None
    type: str | None = None
    stage: str | None = None
    status: str | None = None
    campaign_id: int | None = None
    campaign: Campaign | None = None
    closed_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    prospects: tuple[Prospect, ...] = ()
    activities: tuple[VisitorActivity, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``value`` as a decimal string, timestamps ISO 8601, nested dicts."""
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "value": None if self.value is None else str(self.value),
            "probability": self.probability,
            "type": self.type,
            "stage": self.stage,
            "status": self.status,
            "campaign_id": self.campaign_id,
            "campaign": None if self.campaign is None else self.campaign.to_dict(),
            "closed_at": _stamp(self.closed_at),
            "created_at": _stamp(self.created_at),
            "updated_at": _stamp(self.updated_at),
            "prospects": [p.to_dict() for p in self.prospects],
            "activities": [a.to_dict() for a in self.activities],
        }
        return _with_extra(out, self.extra)


@attrs.frozen(slots=True, weakref_slot=False)
class Page:
    """One page of a query: the records and, unless ``output=bulk``, the total number of matches."""

    total_results: int | None
    opportunities: tuple[Opportunity, ...] = ()

    def __len__(self) -> int:
        return len(self.opportunities)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "total_results": self.total_results,
            "opportunities": [o.to_dict() for o in self.opportunities],
        }


T = TypeVar("T")


def fast_builder(cls: type[T]) -> Callable[..., T]:
    """A constructor taking every field positionally that skips the generated ``__init__``.

    For the parser's hot path. A frozen attrs class sets each field through ``object.__setattr__``,
    a call per field. This builds the object as an instance of a plain twin class with the same slots,
    where each field is one quick store, then makes it a ``cls``: CPython allows that ``__class__``
    assignment between classes of identical layout (so the models have no ``__weakref__`` slot: with
    one, CPython refuses it), and the twin has no behaviour of its own. The models have no validators
    or converters, so the result is the object ``cls(*fields)`` makes.
    """
    names = [field.name for field in attrs.fields(cls)]  # type: ignore[arg-type]
    twin = type(f"_{cls.__name__}Slots", (), {"__slots__": tuple(cls.__slots__)})  # type: ignore[attr-defined]
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_twin": twin}
    body = "\n".join(f"    self.{name} = {name}" for name in names)
    source = (
        f"def build({', '.join(names)}):\n    self = _new(_twin)\n{body}\n"
        "    self.__class__ = _cls\n    return self\n"
    )
    exec(source, namespace)
    build: Callable[..., T] = namespace["build"]
    build.__qualname__ = f"{cls.__name__}.fast_build"
    return build


build_opportunity = fast_builder(Opportunity)
build_prospect = fast_builder(Prospect)
build_campaign = fast_builder(Campaign)
build_activity = fast_builder(VisitorActivity)
