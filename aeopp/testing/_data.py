"""Deterministic seeded data: the same seed and size always give the same records.

What the data covers on purpose: ids ascending with gaps (and 1234, the id of the official
examples); prospects with ``jdoe@company.com`` (twice: v4 matches every prospect with an email)
and ``+`` emails; integer and decimal values; probabilities 0 to 100 (0 and 100 included);
statuses won, lost, open and none; names with ``&``, purely numeric names ("2024") and a
leading-zero one ("007"); a stage with ``/``; ``created_at`` over 2019-2025 with exact ties;
``updated_at >= created_at``; ``closed_at`` for won and lost; activities of types 8, 9, 10, 18,
19 and 38.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import TypeVar

from .._constants import OPPORTUNITY_ACTIVITY_TYPES
from ._store import Activity, Campaign, Prospect, StoredOpportunity

__all__ = ["EXAMPLE_ID", "generate"]

T = TypeVar("T")
#: A source of floats in [0, 1): ``random.Random(seed).random``.
Rand = Callable[[], float]

UTC = timezone.utc
#: The id the official examples read, update and delete.
EXAMPLE_ID = 1234
_START = int(datetime(2019, 1, 1, tzinfo=UTC).timestamp())
_END = int(datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
_SPAN = _END - _START

_CAMPAIGNS = (
    "Google Buyer's Guide Campaign",
    "Spring Webinar",
    "Partners & Resellers",
    "2024",
    "Trade Show / Expo",
    "Newsletter",
    "Website",
)
_FIRST = ("Angela", "John", "Maria", "Wei", "Aisha", "Lars", "Priya", "Diego", "Chloé", "Omar", "Yuki", "Sam")
_LAST = ("Lansbury", "Doe", "García", "Chen", "Khan", "Berg", "Patel", "O'Neil", "Smith", "Novak")
_COMPANIES = ("CBS", "Acme", "Smith & Sons", "Globex", "Initech", "Umbrella", "Stark <Industries>", "2600")
_DOMAINS = ("example.com", "example.org", "company.com", "mail.test")
_TYPES = ("New Business", "Existing Business", "Renewal", None)
_STAGES = ("Prospecting", "Qualification", "Negotiation/Review", "Proposal", None)
_NAME_SUFFIXES = ("Opportunity", "Renewal", "Upsell", "Expansion", "Pilot")
_TYPE_NAMES = OPPORTUNITY_ACTIVITY_TYPES


def _ids(rng: random.Random, n: int, start: int) -> list[int]:
    ids: list[int] = []
    cur = start
    rand = rng.random
    steps = (1, 1, 1, 1, 2, 3, 5, 11)
    for _ in range(n):
        cur += steps[int(rand() * 8)]
        ids.append(cur)
    if n and EXAMPLE_ID not in ids:
        if ids[-1] < EXAMPLE_ID:
            ids[-1] = EXAMPLE_ID
        else:
            i = next(i for i, v in enumerate(ids) if v > EXAMPLE_ID)
            ids[i] = EXAMPLE_ID
    return ids


def generate(n: int, seed: int = 0) -> tuple[list[StoredOpportunity], list[Prospect], list[Campaign]]:
    """``n`` opportunities with their prospects and campaigns, from ``seed``."""
    # Only new, acyclic objects are made: pausing the cyclic GC saves a third of the time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(n, seed)
    finally:
        if enabled:
            gc.enable()


def _generate(n: int, seed: int) -> tuple[list[StoredOpportunity], list[Prospect], list[Campaign]]:
    # One stream of draws, in this order: prospects, ids, then each opportunity in turn. Changing
    # the order (or the number) of draws anywhere changes every seed's data.
    rng = random.Random(seed)
    campaigns = [Campaign(id=i + 1, name=name) for i, name in enumerate(_CAMPAIGNS)]
    prospects = _prospects(rng.random, max(6, n // 2))
    ids = _ids(rng, n, 1000)
    return _opportunities(rng.random, ids, prospects, campaigns), prospects, campaigns


# random.choice/randrange are exact but slow; floats are plenty for test data.
def _choice(rand: Rand, seq: Sequence[T]) -> T:
    return seq[int(rand() * len(seq))]


def _randrange(rand: Rand, start: int, stop: int) -> int:
    return start + int(rand() * (stop - start))


def _prospects(rand: Rand, count: int) -> list[Prospect]:
    prospects: list[Prospect] = []
    pid = 10
    for i in range(count):
        pid += _choice(rand, (1, 1, 2, 3))
        email, first, last = _person(rand, i)
        prospects.append(
            Prospect(
                id=pid,
                email=email,
                first_name=first,
                last_name=last,
                company=_choice(rand, _COMPANIES) if rand() < 0.9 else None,
                last_activity_at=datetime.fromtimestamp(_randrange(rand, _START, _END), UTC),
            )
        )
    return prospects


def _person(rand: Rand, i: int) -> tuple[str, str, str]:
    """Email, first and last name of the ``i``-th prospect (two share ``jdoe@company.com``)."""
    first, last = _choice(rand, _FIRST), _choice(rand, _LAST)
    if i == 0 or i == 3:
        return "jdoe@company.com", "John", "Doe"
    if i % 7 == 1:
        return f"{first.lower()}+crm{i}@{_choice(rand, _DOMAINS)}", first, last
    return f"{last.lower().replace(chr(39), '')}.{i}@{_choice(rand, _DOMAINS)}", first, last


def _opportunities(
    rand: Rand, ids: list[int], prospects: list[Prospect], campaigns: list[Campaign]
) -> list[StoredOpportunity]:
    fromts = datetime.fromtimestamp
    opportunities: list[StoredOpportunity] = []
    created_seconds: list[int] = []
    activity_id = 5000
    for k, oid in enumerate(ids):
        created_s = _created_seconds(rand, created_seconds)
        created_seconds.append(created_s)
        created = fromts(created_s, UTC)
        updated = fromts(created_s + (_randrange(rand, 0, 90 * 86400) if rand() < 0.7 else 0), UTC)
        probability = _probability(rand, k)
        value = _value(rand, k)
        status = _status(rand)
        name = _name(rand, k)
        pids = _prospect_ids(rand, prospects)
        closed = (
            fromts(created_s + _randrange(rand, 3600, 60 * 86400), UTC) if status in ("won", "lost") else None
        )
        if closed is not None:
            updated = max(updated, closed)
        acts = _activities(rand, activity_id + 1, oid, pids, status, created, closed, updated)
        activity_id += len(acts)
        opportunities.append(
            StoredOpportunity(
                id=oid,
                name=name,
                value=value,
                probability=probability,
                created_at=created,
                updated_at=updated,
                campaign_id=campaigns[k % len(campaigns)].id if rand() < 0.95 else None,
                type=_choice(rand, _TYPES),
                stage=_choice(rand, _STAGES),
                status=status,
                closed_at=closed,
                prospect_ids=pids,
                activities=acts,
            )
        )
    return opportunities


def _created_seconds(rand: Rand, earlier: list[int]) -> int:
    """A creation time in seconds; some records share an earlier one exactly (tie-breaks matter)."""
    return _choice(rand, earlier) if earlier and rand() < 0.06 else _START + int(rand() * _SPAN)


def _probability(rand: Rand, k: int) -> int:
    """0 and 100 for the first two records, then any 0-100 or a round figure."""
    if k == 0:
        return 0
    if k == 1:
        return 100
    return _randrange(rand, 0, 101) if rand() < 0.5 else _choice(rand, (0, 10, 25, 50, 70, 90, 100))


def _value(rand: Rand, k: int) -> Decimal:
    """Every fifth record a value with cents; else hundreds, or now and then zero."""
    r = rand()  # drawn for every record, decimal ones too
    if k % 5 == 4:
        return Decimal(_randrange(rand, 0, 10_000_000)) / 100
    if r < 0.03:
        return Decimal(0)
    return Decimal(_randrange(rand, 1, 500) * 100)


def _status(rand: Rand) -> str | None:
    r = rand()
    return "won" if r < 0.25 else "lost" if r < 0.45 else "open" if r < 0.9 else None


def _name(rand: Rand, k: int) -> str:
    """A company and a suffix; some purely numeric names, and "007" (a leading zero)."""
    company = _choice(rand, _COMPANIES)  # drawn for every record, numeric names too
    r = rand()
    if k == 2 or r < 0.02:
        return _choice(rand, ("2024", "1999", "42"))
    if k == 3:
        return "007"
    return f"{company} {_choice(rand, _NAME_SUFFIXES)}"


def _prospect_ids(rand: Rand, prospects: list[Prospect]) -> tuple[int, ...]:
    """One prospect; one record in ten is linked to a second one (often a different one)."""
    first = _choice(rand, prospects)
    if rand() < 0.1:
        second = _choice(rand, prospects)
        return (first.id,) if second.id == first.id else (first.id, second.id)
    return (first.id,)


def _activities(
    rand: Rand,
    first_id: int,
    oid: int,
    pids: tuple[int, ...],
    status: str | None,
    created: datetime,
    closed: datetime | None,
    updated: datetime,
) -> tuple[Activity, ...]:
    """The opportunity's history, numbered from ``first_id``: created (8), linked (19), then
    reopened (18) and won or lost (9, 10) if closed, else now and then unlinked (38)."""
    events: list[tuple[int, int, datetime]] = [(pids[0], 8, created)]
    if len(pids) > 1:
        events.append((pids[1], 19, created))
    if closed is not None:
        if rand() < 0.15:
            events.append((pids[0], 18, closed))
        events.append((pids[0], 9 if status == "won" else 10, closed))
    elif rand() < 0.05:
        events.append((pids[0], 38, updated))
    return tuple(
        Activity(first_id + i, prospect_id, oid, type_, _TYPE_NAMES[type_], at)
        for i, (prospect_id, type_, at) in enumerate(events)
    )
