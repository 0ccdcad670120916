"""The models: frozen and slotted, JSON-ready dicts for export, unknown fields kept."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest

from aeopp.models import Campaign, Opportunity, Page, Prospect, VisitorActivity

EASTERN = timezone(timedelta(hours=-5))

OPP = Opportunity(
    id=12,
    name="Tom & Jerry",
    value=Decimal("1234.50"),
    probability=70,
    type="New",
    stage=None,
    status="won",
    campaign_id=3,
    campaign=Campaign(3, "Spring", extra={"cost": Decimal("9.90")}),
    closed_at=datetime(2024, 2, 3, 4, 5, 6, tzinfo=EASTERN),
    created_at=datetime(2024, 1, 2, 3, 4, 5),
    updated_at=None,
    prospects=(Prospect(9, "a+b@x.co", "Ann", None, "AT&T"),),
    activities=(VisitorActivity(100, 9, 12, 19, "Opportunity Linked", None, datetime(2024, 1, 2, 3, 4, 6)),),
    extra={"salesforce_id": "006x", "id": "never overrides"},
)


def test_to_dict_is_json_ready_and_complete() -> None:
    assert OPP.to_dict() == {
        "id": 12,
        "name": "Tom & Jerry",
        "value": "1234.50",
        "probability": 70,
        "type": "New",
        "stage": None,
        "status": "won",
        "campaign_id": 3,
        "campaign": {"id": 3, "name": "Spring", "cost": "9.90"},
        "closed_at": "2024-02-03T04:05:06-05:00",
        "created_at": "2024-01-02T03:04:05",
        "updated_at": None,
        "prospects": [
            {"id": 9, "email": "a+b@x.co", "first_name": "Ann", "last_name": None, "company": "AT&T"}
        ],
        "activities": [
            {
                "id": 100,
                "prospect_id": 9,
                "opportunity_id": 12,
                "type": 19,
                "type_name": "Opportunity Linked",
                "details": None,
                "created_at": "2024-01-02T03:04:06",
            }
        ],
        "salesforce_id": "006x",
    }
    json.dumps(OPP.to_dict())
    page = Page(total_results=5, records=(OPP,))
    assert json.loads(json.dumps(page.to_dict())) == {"total_results": 5, "records": [OPP.to_dict()]}
    assert len(page) == 1
    assert page.opportunities is page.records


def test_every_field_appears_in_to_dict() -> None:
    for cls, record in ((Opportunity, OPP), (Campaign, OPP.campaign), (Prospect, OPP.prospects[0])):
        names = {f.name for f in attrs.fields(cls)} - {"extra"}
        assert names <= set(record.to_dict()), cls  # type: ignore[union-attr]


def test_models_are_frozen_slotted_and_hashable() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        OPP.name = "x"  # type: ignore[misc]
    assert not hasattr(OPP, "__dict__")
    assert hash(OPP) == hash(attrs.evolve(OPP, extra={}))  # extra takes no part in the hash
    assert attrs.evolve(OPP, name="x") != OPP
