"""The Opportunity object, declared once.

Everything that varies with the object lives in :data:`OPPORTUNITY`: its fields (wire name, how a
wire value is converted, how a caller's value is checked and sent, whether it is editable or
required, its CSV columns), its query filters (check, Pardot's error code, ranges), its sort fields
and its operations. The request builder, the parser's field table, the command line's flags and
help, the CSV columns and the README's filter table are all derived from it, so adding a filter is
one :class:`Filter` entry here plus tests (see ARCHITECTURE.md).

Pure data and pure functions: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import tzinfo
from operator import attrgetter
from typing import Any, Generic, Literal, TypeVar

import attrs

from . import _convert as convert
from . import _validate as rule
from ._constants import DEFAULT_SORT_ORDER
from .models import Campaign, Opportunity, Prospect, VisitorActivity

__all__ = [
    "CAMPAIGN",
    "OPPORTUNITY",
    "PROSPECT",
    "VISITOR_ACTIVITY",
    "Column",
    "Field",
    "Filter",
    "ObjectSpec",
    "Operation",
    "Range",
    "RecordSpec",
]

R = TypeVar("R")

#: Wire value (and the account's time zone, for timestamps) -> model value.
Converter = Callable[[Any, "tzinfo | None"], Any]
#: (parameter, caller's value, time zone) -> wire text; raises RequestValidationError.
Sender = Callable[[str, object, "tzinfo | None"], str]
#: (parameter, caller's value, time zone) -> (wire text, value to compare with its range partner).
Check = Callable[[str, object, "tzinfo | None"], "tuple[str, object]"]


@attrs.frozen
class Column:
    """One CSV column: its header and how to get its value from a record."""

    name: str
    get: Callable[[Any], object]


@attrs.frozen
class Field:
    """One field of a record.

    ``parse`` converts the wire value (``nested`` instead names the record spec of a nested record
    or, with ``item``, of a collection such as ``<prospects><prospect>...``). ``send`` makes an
    editable field's wire text from a caller's value; ``required`` fields must be given to create
    and can't be cleared by update. ``fallback`` names another field's attribute to use when this
    one is absent (``campaign_id`` from ``campaign.id``).
    """

    name: str
    parse: Converter | None = None
    wire: str = attrs.field(default="")
    nested: RecordSpec[Any] | None = None
    item: str | None = None
    send: Sender | None = None
    required: bool = False
    optional_on_create: bool = False
    fallback: tuple[str, str] | None = None
    columns: tuple[Column, ...] | None = None
    help: str = ""
    metavar: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.wire:
            object.__setattr__(self, "wire", self.name)
        if (self.parse is None) == (self.nested is None):
            raise TypeError(f"field {self.name}: give exactly one of parse and nested")

    @property
    def editable(self) -> bool:
        """Whether create and update may set it."""
        return self.send is not None

    @property
    def csv(self) -> tuple[Column, ...]:
        """Its CSV columns: its own value by default."""
        return self.columns if self.columns is not None else (Column(self.name, attrgetter(self.name)),)


@attrs.frozen
class RecordSpec(Generic[R]):
    """A record type: the model class and its fields, in the model's attribute order (``extra`` last)."""

    model: type[R]
    fields: tuple[Field, ...]

    @property
    def wire_keys(self) -> frozenset[str]:
        """Every wire key the fields read; other keys go to ``extra``."""
        return frozenset(f.wire for f in self.fields)

    @property
    def editable(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.editable)

    @property
    def csv_columns(self) -> tuple[Column, ...]:
        return tuple(column for f in self.fields for column in f.csv)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@attrs.frozen
class Filter:
    """One query filter: Pardot's name, the check of a caller's value, and Pardot's code for a bad one.

    ``id_bound`` marks ``id_greater_than``/``id_less_than``: they stay typed (not wire text) because
    a walk narrows them as it goes. ``help`` and ``metavar`` feed the command line and the README.
    """

    name: str
    check: Check
    code: int
    help: str
    metavar: str
    cli_int: bool = False
    id_bound: Literal["lower", "upper"] | None = None


@attrs.frozen
class Range:
    """Two filters that form a range; Pardot answers ``code`` when it is inverted (or, for ``strict``
    ranges, empty)."""

    low: str
    high: str
    code: int
    strict: bool


@attrs.frozen
class Operation:
    """One ``do/<name>`` operation."""

    name: str
    method: Literal["GET", "POST"]
    idempotent: bool
    by_id: bool
    answer: Literal["record", "page", "empty"]


@attrs.frozen
class ObjectSpec(Generic[R]):
    """A Pardot object: the path segment and record key, its record, filters, sorts and operations."""

    name: str
    record: RecordSpec[R]
    filters: tuple[Filter, ...]
    ranges: tuple[Range, ...]
    #: Sort fields and each one's documented default order.
    sorts: Mapping[str, str]
    operations: tuple[Operation, ...]

    def filter(self, name: str) -> Filter | None:
        for f in self.filters:
            if f.name == name:
                return f
        return None

    @property
    def filter_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.filters)

    def operation(self, name: str) -> Operation:
        for op in self.operations:
            if op.name == name:
                return op
        raise KeyError(name)

    def filter_table(self) -> str:
        """The filters as a Markdown table (the README's is this one)."""
        rows = ["| Filter | Takes | Pardot's code for a bad value |", "|---|---|---|"]
        rows += [f"| `{f.name}` | {f.help} | {f.code} |" for f in self.filters]
        return "\n".join(rows)


# -- the records ----------------------------------------------------------------------------------

CAMPAIGN: RecordSpec[Campaign] = RecordSpec(
    Campaign,
    (Field("id", convert.integer), Field("name", convert.text)),
)

PROSPECT: RecordSpec[Prospect] = RecordSpec(
    Prospect,
    (
        Field("id", convert.integer),
        Field("email", convert.text),
        Field("first_name", convert.text),
        Field("last_name", convert.text),
        Field("company", convert.text),
    ),
)

VISITOR_ACTIVITY: RecordSpec[VisitorActivity] = RecordSpec(
    VisitorActivity,
    (
        Field("id", convert.integer),
        Field("prospect_id", convert.integer),
        Field("opportunity_id", convert.integer),
        Field("type", convert.integer),
        Field("type_name", convert.text),
        Field("details", convert.text),
        Field("created_at", convert.moment),
    ),
)


def _campaign_name(record: Opportunity) -> object:
    return None if record.campaign is None else record.campaign.name


def _joined(attribute: str) -> Callable[[Opportunity], object]:
    get = attrgetter(attribute)

    def joined(record: Opportunity) -> str:
        return ";".join("" if get(p) is None else str(get(p)) for p in record.prospects)

    return joined


_TIMESTAMP = "'YYYY-MM-DD[ HH:MM[:SS]]'"

OPPORTUNITY_RECORD: RecordSpec[Opportunity] = RecordSpec(
    Opportunity,
    (
        Field("id", convert.identifier),
        Field("name", convert.text, send=rule.name_text, required=True, help="opportunity name"),
        Field(
            "value",
            convert.decimal,
            send=rule.value_text,
            required=True,
            help="value, e.g. 1500 or 99.50",
            metavar="AMOUNT",
        ),
        Field(
            "probability",
            convert.integer,
            send=rule.probability_text,
            required=True,
            help="probability in percent",
            metavar="0-100",
        ),
        Field("type", convert.text, send=rule.plain_text, help="type"),
        Field("stage", convert.text, send=rule.plain_text, help="stage"),
        Field("status", convert.text, send=rule.status_text, help="status", metavar="won|lost|open"),
        Field(
            "campaign_id",
            convert.integer,
            send=rule.id_text,
            required=True,
            optional_on_create=True,  # create asks only for name, value and probability (ref §5)
            fallback=("campaign", "id"),
            help="campaign id",
            metavar="ID",
        ),
        Field("campaign", nested=CAMPAIGN, columns=(Column("campaign_name", _campaign_name),)),
        Field("closed_at", convert.moment, send=rule.moment_text, help=_TIMESTAMP, metavar="TIMESTAMP"),
        Field("created_at", convert.moment),
        Field("updated_at", convert.moment),
        Field(
            "prospects",
            nested=PROSPECT,
            item="prospect",
            columns=(Column("prospect_ids", _joined("id")), Column("prospect_emails", _joined("email"))),
        ),
        Field(
            "activities",
            wire="opportunity_activities",
            nested=VISITOR_ACTIVITY,
            item="visitor_activity",
            columns=(),
        ),
    ),
)

_WHEN = "a timestamp, or today, yesterday, last_7_days, this_month, last_month"

OPPORTUNITY: ObjectSpec[Opportunity] = ObjectSpec(
    name="opportunity",
    record=OPPORTUNITY_RECORD,
    filters=(
        Filter("created_after", rule.when_filter, 7, _WHEN + " (strictly after)", "WHEN"),
        Filter("created_before", rule.when_filter, 7, _WHEN + " (strictly before)", "WHEN"),
        Filter(
            "id_greater_than", rule.lower_id_filter, 16, "0 or an id (strictly greater)", "N", True, "lower"
        ),
        Filter("id_less_than", rule.id_filter, 16, "an id (strictly less)", "N", True, "upper"),
        Filter(
            "probability_greater_than", rule.probability_filter, 41, "1-100 (strictly greater)", "N", True
        ),
        Filter("probability_less_than", rule.probability_filter, 41, "1-100 (strictly less)", "N", True),
        Filter("prospect_email", rule.email_filter, 4, "an existing prospect's email", "EMAIL"),
        Filter("prospect_id", rule.id_filter, 3, "an existing prospect's id", "N", True),
        Filter("value_greater_than", rule.value_filter, 43, "an integer (strictly greater)", "N", True),
        Filter("value_less_than", rule.value_filter, 43, "an integer (strictly less)", "N", True),
    ),
    ranges=(
        Range("created_after", "created_before", 8, strict=False),
        Range("id_greater_than", "id_less_than", 17, strict=True),
        Range("probability_greater_than", "probability_less_than", 41, strict=True),
        Range("value_greater_than", "value_less_than", 43, strict=True),
    ),
    sorts=DEFAULT_SORT_ORDER,
    operations=(
        Operation("create", "POST", idempotent=False, by_id=False, answer="record"),
        Operation("read", "GET", idempotent=True, by_id=True, answer="record"),
        Operation("query", "GET", idempotent=True, by_id=False, answer="page"),
        Operation("update", "POST", idempotent=False, by_id=True, answer="record"),
        Operation("delete", "POST", idempotent=True, by_id=True, answer="empty"),
        Operation("undelete", "POST", idempotent=True, by_id=True, answer="empty"),
    ),
)
