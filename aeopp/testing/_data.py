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
from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import TypeVar

from .._constants import OPPORTUNITY_ACTIVITY_TYPES
from ._store import Activity, Campaign, Prospect, StoredOpportunity

__all__ = ["EXAMPLE_ID", "generate"]

T = TypeVar("T")

UTC = timezone.utc
#: The id the official examples read, update and delete.
EXAMPLE_ID = 1234
_START = int(datetime(2019, 1, 1, tzinfo=UTC).timestamp())
_END = int(datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())

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
    rng = random.Random(seed)
    rand = rng.random

    # random.choice/randrange are exact but slow; floats are plenty for test data.
    def choice(seq: Sequence[T]) -> T:
        return seq[int(rand() * len(seq))]

    def randrange(start: int, stop: int) -> int:
        return start + int(rand() * (stop - start))

    fromts = datetime.fromtimestamp

    campaigns = [Campaign(id=i + 1, name=name) for i, name in enumerate(_CAMPAIGNS)]
    n_prospects = max(6, n // 2)
    prospects: list[Prospect] = []
    pid = 10
    for i in range(n_prospects):
        pid += choice((1, 1, 2, 3))
        first, last = choice(_FIRST), choice(_LAST)
        if i == 0 or i == 3:
            email, first, last = "jdoe@company.com", "John", "Doe"
        elif i % 7 == 1:
            email = f"{first.lower()}+crm{i}@{choice(_DOMAINS)}"
        else:
            email = f"{last.lower().replace(chr(39), '')}.{i}@{choice(_DOMAINS)}"
        prospects.append(
            Prospect(
                id=pid,
                email=email,
                first_name=first,
                last_name=last,
                company=choice(_COMPANIES) if rand() < 0.9 else None,
                last_activity_at=fromts(randrange(_START, _END), UTC),
            )
        )

    ids = _ids(rng, n, 1000)
    opportunities: list[StoredOpportunity] = []
    created_list: list[int] = []
    activity_id = 5000
    span = _END - _START
    for k, oid in enumerate(ids):
        # Some records share an earlier record's created_at exactly (tie-breaks matter).
        created_s = choice(created_list) if created_list and rand() < 0.06 else _START + int(rand() * span)
        created_list.append(created_s)
        created = fromts(created_s, UTC)
        updated = fromts(created_s + (randrange(0, 90 * 86400) if rand() < 0.7 else 0), UTC)
        if k == 0:
            probability = 0
        elif k == 1:
            probability = 100
        else:
            probability = randrange(0, 101) if rand() < 0.5 else choice((0, 10, 25, 50, 70, 90, 100))
        r = rand()
        if k % 5 == 4:
            value = Decimal(randrange(0, 10_000_000)) / 100
        elif r < 0.03:
            value = Decimal(0)
        else:
            value = Decimal(randrange(1, 500) * 100)
        r = rand()
        status = "won" if r < 0.25 else "lost" if r < 0.45 else "open" if r < 0.9 else None
        company = choice(_COMPANIES)
        r = rand()
        if k == 2 or r < 0.02:
            name = choice(("2024", "1999", "42"))
        elif k == 3:
            name = "007"
        else:
            name = f"{company} {choice(_NAME_SUFFIXES)}"
        p1 = choice(prospects)
        if rand() < 0.1:
            p2 = choice(prospects)
            pids: tuple[int, ...] = (p1.id,) if p2.id == p1.id else (p1.id, p2.id)
        else:
            pids = (p1.id,)
        closed = None
        acts = [Activity(activity_id + 1, p1.id, oid, 8, _TYPE_NAMES[8], created)]
        activity_id += 1
        if len(pids) > 1:
            activity_id += 1
            acts.append(Activity(activity_id, pids[1], oid, 19, _TYPE_NAMES[19], created))
        if status in ("won", "lost"):
            closed = fromts(created_s + randrange(3600, 60 * 86400), UTC)
            updated = max(updated, closed)
            if rand() < 0.15:
                activity_id += 1
                acts.append(Activity(activity_id, p1.id, oid, 18, _TYPE_NAMES[18], closed))
            activity_id += 1
            t = 9 if status == "won" else 10
            acts.append(Activity(activity_id, p1.id, oid, t, _TYPE_NAMES[t], closed))
        elif rand() < 0.05:
            activity_id += 1
            acts.append(Activity(activity_id, p1.id, oid, 38, _TYPE_NAMES[38], updated))
        opportunities.append(
            StoredOpportunity(
                id=oid,
                name=name,
                value=value,
                probability=probability,
                created_at=created,
                updated_at=updated,
                campaign_id=campaigns[k % len(campaigns)].id if rand() < 0.95 else None,
                type=choice(_TYPES),
                stage=choice(_STAGES),
                status=status,
                closed_at=closed,
                prospect_ids=pids,
                activities=tuple(acts),
            )
        )
    return opportunities, prospects, campaigns
