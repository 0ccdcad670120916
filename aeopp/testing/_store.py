"""The simulator's data: immutable records and the mutable store that holds them.

Records are frozen; every change replaces a record, bumps :attr:`OpportunityStore.version` and drops
the cached sorted views and rendered fragments of what changed, so changes apply to the next request.
Timestamps are aware UTC datetimes; they are shown in the account time zone when rendered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from .._constants import OPPORTUNITY_ACTIVITY_TYPES

__all__ = [
    "Activity",
    "Campaign",
    "OpportunityStore",
    "Prospect",
    "StoredOpportunity",
]

UTC = timezone.utc
#: Largest step between two new opportunity ids (ids have gaps, as in Pardot).
ID_GAP = (1, 7)


@attrs.frozen(slots=True)
class Campaign:
    """A campaign opportunities may be assigned to."""

    id: int
    name: str


@attrs.frozen(slots=True)
class Prospect:
    """A prospect; ``last_activity_at`` picks the prospect a shared email means on create."""

    id: int
    email: str
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    last_activity_at: datetime | None = None


@attrs.frozen(slots=True)
class Activity:
    """A visitor activity tied to an opportunity (types 8, 9, 10, 18, 19, 38)."""

    id: int
    prospect_id: int
    opportunity_id: int
    type: int
    type_name: str
    created_at: datetime
    details: str | None = None


@attrs.frozen(slots=True)
class StoredOpportunity:
    """One opportunity as the simulator stores it (timestamps aware, UTC)."""

    id: int
    name: str
    value: Decimal
    probability: int
    created_at: datetime
    updated_at: datetime
    campaign_id: int | None = None
    type: str | None = None
    stage: str | None = None
    status: str | None = None
    closed_at: datetime | None = None
    prospect_ids: tuple[int, ...] = ()
    activities: tuple[Activity, ...] = ()
    deleted: bool = False


_SORT_KEYS: dict[str, Any] = {
    "id": lambda r: r.id,
    "created_at": lambda r: r.created_at,
    "probability": lambda r: r.probability,
    "value": lambda r: r.value,
}


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _as_decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None


class OpportunityStore:
    """Seeded opportunities, prospects and campaigns, readable and changeable by tests.

    Reads (:meth:`get`, :meth:`ids`, ``len()``) see deleted records only where asked; changes
    (:meth:`create`, :meth:`update`, :meth:`delete`, :meth:`undelete`, :meth:`add_prospect`,
    :meth:`add_campaign`) apply to the simulator's next request.
    """

    def __init__(
        self,
        opportunities: Iterable[StoredOpportunity] = (),
        prospects: Iterable[Prospect] = (),
        campaigns: Iterable[Campaign] = (),
        *,
        clock: Any = None,
    ) -> None:
        self._records: dict[int, StoredOpportunity] = {}
        self._ids: list[int] = []  # every id, deleted included, ascending
        self._live = 0
        self.prospects: dict[int, Prospect] = {p.id: p for p in prospects}
        self.campaigns: dict[int, Campaign] = {c.id: c for c in campaigns}
        self._emails: dict[str, list[int]] = {}
        for p in self.prospects.values():
            self._emails.setdefault(p.email.lower(), []).append(p.id)
        self._views: dict[tuple[str, bool], list[StoredOpportunity]] = {}
        #: Rendered fragments by opportunity id; the renderer fills it, the store empties it.
        self.fragments: dict[int, dict[Any, str]] = {}
        #: Bumped on every change.
        self.version = 0
        #: Bumped when a campaign or prospect changes (their rendered fragments are shared).
        self.shared_version = 0
        self._clock = clock or (lambda: datetime.now(UTC))
        max_id = 0
        max_activity = 0
        for record in opportunities:
            if record.id <= max_id:
                raise ValueError("opportunities must come in ascending id order")
            max_id = record.id
            self._records[record.id] = record
            self._ids.append(record.id)
            self._live += not record.deleted
            for a in record.activities:
                max_activity = max(max_activity, a.id)
        self._max_id = max_id
        self._max_activity = max_activity
        self._gap = 0

    # -- reading ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        """The number of opportunities that are not deleted."""
        return self._live

    def __iter__(self) -> Iterator[StoredOpportunity]:
        """The opportunities that are not deleted, by ascending id."""
        return (r for i in self._ids if not (r := self._records[i]).deleted)

    def __contains__(self, opportunity_id: object) -> bool:
        return opportunity_id in self._records

    def get(self, opportunity_id: int) -> StoredOpportunity:
        """The opportunity with this id, deleted or not; :exc:`KeyError` if there is none."""
        return self._records[opportunity_id]

    def ids(self, include_deleted: bool = False) -> list[int]:
        """Opportunity ids, ascending."""
        if include_deleted:
            return list(self._ids)
        return [i for i in self._ids if not self._records[i].deleted]

    def all(self, include_deleted: bool = False) -> list[StoredOpportunity]:
        """The opportunities, ascending by id."""
        records = [self._records[i] for i in self._ids]
        return records if include_deleted else [r for r in records if not r.deleted]

    def prospects_by_email(self, email: str) -> list[Prospect]:
        """Every prospect with this email (case-insensitive), ascending id."""
        return [self.prospects[i] for i in self._emails.get(email.lower(), ())]

    def campaign(self, campaign_id: int | None) -> Campaign | None:
        """The campaign with this id, or None."""
        return None if campaign_id is None else self.campaigns.get(campaign_id)

    def sorted_view(self, sort_by: str, descending: bool) -> list[StoredOpportunity]:
        """Live opportunities in this order, ties broken by ascending id (cached until a change)."""
        key = (sort_by, descending)
        view = self._views.get(key)
        if view is None:
            live = [r for r in self._records.values() if not r.deleted]  # insertion = id order
            if sort_by == "id":
                view = live[::-1] if descending else live
            else:
                # sort() is stable: sorting id-ordered records keeps ascending id among ties.
                view = sorted(live, key=_SORT_KEYS[sort_by], reverse=False)
                if descending:
                    view = _reverse_keeping_ties(view, _SORT_KEYS[sort_by])
            self._views[key] = view
        return view

    # -- changing ---------------------------------------------------------------------------------

    def _changed(self, *ids: int) -> None:
        self.version += 1
        self._views.clear()
        for i in ids:
            self.fragments.pop(i, None)

    def _put(self, record: StoredOpportunity) -> StoredOpportunity:
        old = self._records.get(record.id)
        if old is None:
            self._ids.append(record.id)
            self._live += not record.deleted
        else:
            self._live += int(old.deleted) - int(record.deleted)
        self._records[record.id] = record
        self._changed(record.id)
        return record

    def _next_activity_id(self) -> int:
        self._max_activity += 1
        return self._max_activity

    def _activity(self, opportunity_id: int, prospect_id: int, type_: int, at: datetime) -> Activity:
        return Activity(
            id=self._next_activity_id(),
            prospect_id=prospect_id,
            opportunity_id=opportunity_id,
            type=type_,
            type_name=OPPORTUNITY_ACTIVITY_TYPES[type_],
            created_at=at,
        )

    def next_id(self) -> int:
        """A new opportunity id: the largest id ever plus a gap (cycling through 1..7)."""
        self._gap = self._gap % ID_GAP[1] + 1
        return self._max_id + self._gap

    def create(
        self,
        *,
        name: str,
        value: Any,
        probability: int,
        prospect_id: int | None = None,
        prospect_ids: Iterable[int] = (),
        campaign_id: int | None = None,
        type: str | None = None,
        stage: str | None = None,
        status: str | None = None,
        closed_at: datetime | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        id: int | None = None,
    ) -> StoredOpportunity:
        """Add an opportunity (new id = largest id ever + a gap unless given); returns it.

        Naive datetimes are taken as UTC. Adds a "New Opportunity" activity for its first prospect.
        """
        pids = tuple(prospect_ids) or ((prospect_id,) if prospect_id is not None else ())
        for pid in pids:
            if pid not in self.prospects:
                raise KeyError(f"no prospect {pid}")
        if campaign_id is not None and campaign_id not in self.campaigns:
            raise KeyError(f"no campaign {campaign_id}")
        if id is None:
            id = self.next_id()
        elif id in self._records:
            raise ValueError(f"opportunity {id} exists")
        now = self._clock().astimezone(UTC).replace(microsecond=0)
        created = _as_utc(created_at) if created_at is not None else now
        record = StoredOpportunity(
            id=id,
            name=name,
            value=_as_decimal(value),
            probability=int(probability),
            campaign_id=campaign_id,
            type=type,
            stage=stage,
            status=status,
            closed_at=_as_utc(closed_at) if closed_at is not None else None,
            created_at=created,
            updated_at=_as_utc(updated_at) if updated_at is not None else created,
            prospect_ids=pids,
            activities=(self._activity(id, pids[0], 8, created),) if pids else (),
        )
        in_order = not self._ids or id > self._ids[-1]
        self._max_id = max(self._max_id, id)
        self._put(record)
        if not in_order:  # keep ids and the dict in id order: sorted_view relies on it
            self._ids.sort()
            self._records = {i: self._records[i] for i in self._ids}
        return record

    def update(self, opportunity_id: int, **fields: Any) -> StoredOpportunity:
        """Change fields of an opportunity (None clears); sets ``updated_at`` unless given. Returns it.

        A change of ``status`` adds the matching activity (won 9, lost 10, reopened 18).
        """
        old = self._records[opportunity_id]
        unknown = set(fields) - set(attrs.fields_dict(StoredOpportunity)) - {"prospect_id"}
        if unknown:
            raise TypeError(f"unknown fields: {sorted(unknown)}")
        if "prospect_id" in fields:
            fields["prospect_ids"] = (fields.pop("prospect_id"),)
        if "value" in fields and fields["value"] is not None:
            fields["value"] = _as_decimal(fields["value"])
        for key in ("closed_at", "created_at", "updated_at"):
            if fields.get(key) is not None:
                fields[key] = _as_utc(fields[key])
        now = self._clock().astimezone(UTC).replace(microsecond=0)
        fields.setdefault("updated_at", max(now, old.created_at))
        new_status = fields.get("status", old.status)
        if new_status != old.status and old.prospect_ids and "activities" not in fields:
            type_ = {"won": 9, "lost": 10}.get(str(new_status).lower()) if new_status else None
            if type_ is None and str(old.status).lower() in ("won", "lost"):
                type_ = 18
            if type_ is not None:
                act = self._activity(opportunity_id, old.prospect_ids[0], type_, fields["updated_at"])
                fields["activities"] = (*old.activities, act)
        return self._put(attrs.evolve(old, **fields))

    def delete(self, opportunity_id: int) -> None:
        """Mark an opportunity deleted: read and query no longer see it."""
        self._put(attrs.evolve(self._records[opportunity_id], deleted=True))

    def undelete(self, opportunity_id: int) -> None:
        """Restore a deleted opportunity."""
        self._put(attrs.evolve(self._records[opportunity_id], deleted=False))

    def add_prospect(
        self,
        email: str,
        first_name: str | None = None,
        last_name: str | None = None,
        company: str | None = None,
        id: int | None = None,
    ) -> Prospect:
        """Add a prospect (new id = largest + 1 unless given); returns it."""
        if id is None:
            id = max(self.prospects, default=0) + 1
        elif id in self.prospects:
            raise ValueError(f"prospect {id} exists")
        prospect = Prospect(
            id=id,
            email=email,
            first_name=first_name,
            last_name=last_name,
            company=company,
            last_activity_at=self._clock().astimezone(UTC).replace(microsecond=0),
        )
        self.prospects[id] = prospect
        self._emails.setdefault(email.lower(), []).append(id)
        self._emails[email.lower()].sort()
        self.version += 1
        self.shared_version += 1
        return prospect

    def add_campaign(self, name: str, id: int | None = None) -> Campaign:
        """Add a campaign (new id = largest + 1 unless given); returns it."""
        if id is None:
            id = max(self.campaigns, default=0) + 1
        campaign = Campaign(id=id, name=name)
        self.campaigns[id] = campaign
        self.version += 1
        self.shared_version += 1
        self.fragments.clear()
        return campaign

    def last_activity_at(self, prospect: Prospect) -> datetime:
        """When a prospect was last active (for choosing among prospects that share an email)."""
        return prospect.last_activity_at or datetime(1970, 1, 1, tzinfo=UTC)


def _reverse_keeping_ties(view: list[StoredOpportunity], key: Any) -> list[StoredOpportunity]:
    """Descending by key, ascending by id among equal keys (input: ascending by (key, id))."""
    out: list[StoredOpportunity] = []
    n = len(view)
    end = n
    while end > 0:
        start = end - 1
        k = key(view[start])
        while start > 0 and key(view[start - 1]) == k:
            start -= 1
        out.extend(view[start:end])
        end = start
    return out
