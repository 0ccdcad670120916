"""Types for annotations: the keyword arguments the client takes, so editors complete them and type
checkers catch typos (``probabilty_greater_than=``, ``sort_by="vaule"``).

They mirror the spec the client is built on (``aeopp._spec.OPPORTUNITY``); a test keeps them equal.
At run time the client checks the same names and values itself and raises
``RequestValidationError`` before any request.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal, TypedDict

__all__ = [
    "CreateFields",
    "Output",
    "QueryFilters",
    "SortBy",
    "SortOrder",
    "Status",
    "UpdateFields",
    "WireFormat",
]

#: ``sort_by`` of a query.
SortBy = Literal["id", "created_at", "probability", "value"]
#: ``sort_order`` of a query (default: the field's own, see README).
SortOrder = Literal["ascending", "descending"]
#: Pardot's ``output``: how much of each record the server sends.
Output = Literal["full", "simple", "mobile", "bulk"]
#: An opportunity's ``status`` (any case is accepted at run time).
Status = Literal["won", "lost", "open"]
#: The response format the client asks for.
WireFormat = Literal["json", "xml"]

#: A timestamp: a datetime, a date, or text such as ``"2024-01-31 12:00:00"``.
Moment = datetime | date | str
#: Money: exact as int, Decimal or decimal text; floats are taken by their repr.
Money = int | Decimal | float | str


class QueryFilters(TypedDict, total=False):
    """The filters of ``query()`` and ``query_page()`` (Pardot's names; None leaves one out)."""

    created_after: Moment | None
    created_before: Moment | None
    id_greater_than: int | None
    id_less_than: int | None
    probability_greater_than: int | None
    probability_less_than: int | None
    prospect_email: str | None
    prospect_id: int | None
    value_greater_than: int | None
    value_less_than: int | None


class _CreateRequired(TypedDict):
    name: str
    value: Money
    probability: int


class CreateFields(_CreateRequired, total=False):
    """``create()``'s fields: name, value and probability, plus the prospect (by email, id, or both)."""

    prospect_email: str | None
    prospect_id: int | None
    campaign_id: int | None
    type: str | None
    stage: str | None
    status: Status | None
    closed_at: Moment | None


class UpdateFields(TypedDict, total=False):
    """``update()``'s fields; None clears an optional one (type, stage, status, closed_at)."""

    name: str
    value: Money
    probability: int
    type: str | None
    stage: str | None
    status: Status | None
    campaign_id: int
    closed_at: Moment | None
