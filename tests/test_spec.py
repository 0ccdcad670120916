"""The Opportunity object declared once: the spec agrees with the models, and everything derived from
it (request rules, parser field table, CSV columns, README filter table) follows it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import attrs
import pytest

import aeopp
from aeopp import _constants
from aeopp._request import build_update, query_spec
from aeopp._spec import CAMPAIGN, OPPORTUNITY, PROSPECT, VISITOR_ACTIVITY, Filter, ObjectSpec, RecordSpec
from aeopp._validate import id_filter
from aeopp.errors import RequestValidationError
from aeopp.testing import PardotSimulator
from aeopp.testing._operations import FILTERS as SIMULATOR_FILTERS

README = Path(__file__).resolve().parent.parent / "README.md"

#: A valid value for each filter (a new filter needs one here: the tests below fail until it has).
VALID: dict[str, Any] = {
    "created_after": "2000-01-01",
    "created_before": dt.datetime(2100, 1, 1),
    "id_greater_than": 1,
    "id_less_than": 10**9,
    "probability_greater_than": 1,
    "probability_less_than": 100,
    "prospect_email": "someone@example.com",
    "prospect_id": 1,
    "value_greater_than": 0,
    "value_less_than": 10**9,
}


@pytest.mark.parametrize("record", [OPPORTUNITY.record, CAMPAIGN, PROSPECT, VISITOR_ACTIVITY])
def test_record_fields_follow_the_models_attributes_in_order(record: RecordSpec[Any]) -> None:
    names = [a.name for a in attrs.fields(record.model)]
    assert names[-1] == "extra"
    assert [f.name for f in record.fields] == names[:-1]


def test_editable_and_required_fields() -> None:
    record = OPPORTUNITY.record
    editable = [f.name for f in record.editable]
    assert editable == ["name", "value", "probability", "type", "stage", "status", "campaign_id", "closed_at"]
    assert [f.name for f in record.editable if f.required] == ["name", "value", "probability", "campaign_id"]
    for f in record.fields:
        assert f.editable == (f.send is not None)
        assert not f.required or f.editable or f.name == "id"


def test_sorts_and_operations_match_the_shared_facts() -> None:
    assert dict(OPPORTUNITY.sorts) == _constants.DEFAULT_SORT_ORDER
    assert tuple(op.name for op in OPPORTUNITY.operations) == _constants.OPERATIONS


def test_every_filter_has_a_valid_example_and_every_range_names_filters() -> None:
    assert set(VALID) == set(OPPORTUNITY.filter_names)
    for pair in OPPORTUNITY.ranges:
        assert OPPORTUNITY.filter(pair.low) is not None
        assert OPPORTUNITY.filter(pair.high) is not None


@pytest.mark.parametrize("rule", OPPORTUNITY.filters, ids=lambda f: f.name)
def test_each_filter_checks_its_value_and_names_itself(rule: Filter) -> None:
    spec = query_spec(**{rule.name: VALID[rule.name]})
    sent = dict(spec.filters)
    if rule.id_bound is None:
        assert rule.name in sent
    else:
        assert getattr(spec, rule.name) == VALID[rule.name]
    with pytest.raises(RequestValidationError) as info:
        query_spec(**{rule.name: object()})
    assert info.value.parameter == rule.name


def test_an_unknown_filter_lists_the_spec_filters() -> None:
    with pytest.raises(RequestValidationError) as info:
        query_spec(probabilty_greater_than=5)
    for name in OPPORTUNITY.filter_names:
        assert name in str(info.value)


def test_a_filter_added_to_the_spec_is_validated_and_sent_with_no_other_change() -> None:
    extended = attrs.evolve(
        OPPORTUNITY,
        filters=(*OPPORTUNITY.filters, Filter("campaign_id", id_filter, 38, "a campaign id", "N", True)),
    )
    spec = query_spec(spec=extended, campaign_id=42)
    assert ("campaign_id", "42") in spec.filters
    with pytest.raises(RequestValidationError):
        query_spec(spec=extended, campaign_id=0)
    with pytest.raises(RequestValidationError):
        query_spec(campaign_id=42)  # not a filter of the real spec


def test_update_refuses_what_the_spec_says_is_not_editable() -> None:
    with pytest.raises(RequestValidationError) as info:
        build_update(1, {"created_at": "2024-01-01"})
    assert info.value.parameter == "created_at"


def test_csv_columns_come_from_the_fields() -> None:
    names = [c.name for c in OPPORTUNITY.record.csv_columns]
    assert names == [
        "id", "name", "value", "probability", "type", "stage", "status", "campaign_id", "campaign_name",
        "closed_at", "created_at", "updated_at", "prospect_ids", "prospect_emails",
    ]  # fmt: skip
    opp = aeopp.Opportunity(
        id=1, campaign=aeopp.Campaign(3, "C"), prospects=(aeopp.Prospect(7, "a@b.co"), aeopp.Prospect(8))
    )
    values = {c.name: c.get(opp) for c in OPPORTUNITY.record.csv_columns}
    assert (values["campaign_name"], values["prospect_ids"], values["prospect_emails"]) == (
        "C",
        "7;8",
        "a@b.co;",
    )


def test_the_readme_filter_table_is_the_spec_s() -> None:
    assert OPPORTUNITY.filter_table() in README.read_text("utf-8")


def test_the_simulator_implements_every_filter_of_the_spec() -> None:
    assert set(OPPORTUNITY.filter_names) <= set(SIMULATOR_FILTERS)


@pytest.mark.anyio
@pytest.mark.parametrize("rule", OPPORTUNITY.filters, ids=lambda f: f.name)
async def test_the_simulator_honours_each_filter_sent_by_the_client(rule: Filter) -> None:
    """Each filter, built by the client and sent over HTTP, changes what the simulator answers."""
    async with PardotSimulator(opportunities=60, seed=5) as sim:
        record = sim.store.all()[30]
        prospect = sim.store.prospects[record.prospect_ids[0]]
        value: Any = {
            "created_after": record.created_at,
            "created_before": record.created_at,
            "id_greater_than": record.id,
            "id_less_than": record.id,
            "probability_greater_than": max(1, min(99, record.probability)),
            "probability_less_than": max(1, min(99, record.probability)),
            "prospect_email": prospect.email,
            "prospect_id": prospect.id,
            "value_greater_than": int(record.value),
            "value_less_than": int(record.value),
        }[rule.name]
        creds = sim.credentials
        auth = aeopp.BearerAuth(creds.access_token, creds.business_unit_id)
        async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url) as client:
            everything = await client.query_page(limit=200)
            page = await client.query_page(limit=200, **{rule.name: value})
        assert 0 < len(everything) == everything.total_results
        assert page.total_results is not None
        assert page.total_results < len(everything)


def test_an_object_spec_is_plain_data() -> None:
    assert isinstance(OPPORTUNITY, ObjectSpec)
    assert OPPORTUNITY.name == "opportunity"
    assert OPPORTUNITY.operation("read").idempotent
    assert not OPPORTUNITY.operation("create").idempotent
    with pytest.raises(KeyError):
        OPPORTUNITY.operation("upsert")


def test_the_annotation_types_mirror_the_spec() -> None:
    """aeopp.types is a second declaration for type checkers only: it must say what the spec says."""
    from typing import get_args

    from aeopp import types

    editable = {f.name for f in OPPORTUNITY.record.editable}
    assert set(types.QueryFilters.__annotations__) == set(OPPORTUNITY.filter_names)
    assert set(types.UpdateFields.__annotations__) == editable
    assert set(types.CreateFields.__annotations__) == editable | {"prospect_email", "prospect_id"}
    required = {f.name for f in OPPORTUNITY.record.editable if f.required and not f.optional_on_create}
    assert types.CreateFields.__required_keys__ == frozenset(required)
    assert set(get_args(types.SortBy)) == set(OPPORTUNITY.sorts)
    assert set(get_args(types.SortOrder)) == set(_constants.SORT_ORDERS)
    assert set(get_args(types.Output)) == set(_constants.OUTPUTS)
    assert set(get_args(types.Status)) == set(_constants.STATUSES)
    assert set(get_args(types.WireFormat)) == set(_constants.WIRE_FORMATS)
