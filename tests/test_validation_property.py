"""Every public method, driven by hypothesis: invalid input always raises RequestValidationError before
any request; valid input is never refused. The transport is in memory and counts what was sent."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aeopp

BU = "0Uv" + "B" * 15
MAX = 2**63 - 1
SETTINGS = settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

# -- values, valid and invalid --------------------------------------------------------------------

ids = st.integers(1, MAX)
bad_ids = st.one_of(
    st.integers(max_value=0), st.integers(min_value=MAX + 1), st.booleans(), st.floats(), st.text(),
    st.just(Decimal(5)), st.just([1]),
)  # fmt: skip
outputs = st.sampled_from([None, "full", "simple", "mobile", "bulk"])
bad_outputs = st.one_of(
    st.text().filter(lambda t: t not in ("full", "simple", "mobile", "bulk")), st.integers()
)
names = st.text(min_size=1, max_size=30).filter(lambda t: bool(t.strip()))
bad_names = st.one_of(st.just(""), st.just("   "), st.integers(), st.just(b"x"))
texts = st.one_of(st.none(), st.text(max_size=20))
bad_texts = st.one_of(st.integers(), st.just(b"x"), st.just(["x"]))
statuses = st.one_of(st.none(), st.sampled_from(["won", "lost", "open", "WON", "Open"]))
bad_statuses = st.one_of(st.sampled_from(["maybe", "", "closed"]), st.integers())
money = st.one_of(
    st.integers(0, 10**12),
    st.decimals(min_value=0, max_value=10**9, places=2),
    st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False),
    st.integers(0, 10**9).map(str),
)
bad_money = st.one_of(
    st.integers(max_value=-1), st.just(float("nan")), st.just(float("inf")), st.just("abc"), st.booleans(),
    st.just(Decimal("-1")), st.just([1]),
)  # fmt: skip
probabilities = st.integers(0, 100)
bad_probabilities = st.one_of(
    st.integers(max_value=-1), st.integers(min_value=101), st.booleans(), st.just("50")
)
moments = st.one_of(st.none(), st.datetimes(dt.datetime(1971, 1, 1), dt.datetime(2100, 1, 1)), st.dates())
bad_moments = st.one_of(st.just("today"), st.just("garbage"), st.just("2024-13-01"), st.integers())
emails = st.from_regex(r"[a-z0-9._+-]{1,20}@[a-z0-9-]{1,12}\.[a-z]{2,6}", fullmatch=True)
bad_emails = st.one_of(
    st.just("no-at-sign"), st.just("a@b"), st.just("@x.io"), st.just("a@@b.co"), st.integers()
)
keywords = st.sampled_from(["today", "yesterday", "last_7_days", "this_month", "last_month"])
stamps = st.datetimes(dt.datetime(1971, 1, 1), dt.datetime(2100, 1, 1))

CREATE_OPTIONAL = {
    "campaign_id": (st.one_of(st.none(), ids), bad_ids),
    "type": (texts, bad_texts),
    "stage": (texts, bad_texts),
    "status": (statuses, bad_statuses),
    "closed_at": (moments, bad_moments),
}
CREATE_REQUIRED = {
    "name": (names, bad_names),
    "value": (money, bad_money),
    "probability": (probabilities, bad_probabilities),
}
UPDATE = {
    "name": (names, st.one_of(bad_names, st.none())),
    "value": (money, st.one_of(bad_money, st.none())),
    "probability": (probabilities, st.one_of(bad_probabilities, st.none())),
    "campaign_id": (ids, st.one_of(bad_ids.filter(lambda v: v is not None), st.none())),
    "type": (texts, bad_texts),
    "stage": (texts, bad_texts),
    "status": (statuses, bad_statuses),
    "closed_at": (moments, bad_moments),
}


@st.composite
def valid_filters(draw: st.DrawFn) -> dict[str, Any]:
    """A jointly valid set of filters: every range non-empty."""
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        low = draw(st.integers(0, 10**12))
        out.update(id_greater_than=low, id_less_than=low + draw(st.integers(2, 10**6)))
    elif draw(st.booleans()):
        out[draw(st.sampled_from(["id_greater_than", "id_less_than"]))] = draw(ids)
    if draw(st.booleans()):
        low = draw(st.integers(1, 99))
        out.update(probability_greater_than=low, probability_less_than=draw(st.integers(low + 1, 100)))
    if draw(st.booleans()):
        low = draw(st.integers(-(10**9), 10**9))
        out.update(value_greater_than=low, value_less_than=low + draw(st.integers(1, 10**9)))
    if draw(st.booleans()):
        first, second = sorted([draw(stamps), draw(stamps)])
        out.update(created_after=first, created_before=second)
    elif draw(st.booleans()):
        out["created_after"] = draw(keywords)
    if draw(st.booleans()):
        out["prospect_email"] = draw(emails)
    if draw(st.booleans()):
        out["prospect_id"] = draw(ids)
    return out


BAD_FILTERS: dict[str, st.SearchStrategy[Any]] = {
    "id_greater_than": st.one_of(st.integers(max_value=-1), st.booleans(), st.text(), st.floats()),
    "id_less_than": bad_ids,
    "probability_greater_than": st.one_of(st.integers(max_value=0), st.integers(min_value=101), st.text()),
    "probability_less_than": st.one_of(st.integers(max_value=0), st.integers(min_value=101), st.booleans()),
    "value_greater_than": st.one_of(st.floats(), st.text(), st.booleans(), st.just(Decimal(5))),
    "value_less_than": st.one_of(st.integers(min_value=MAX + 1), st.just("10")),
    "created_after": bad_moments.filter(lambda v: v != "today"),
    "created_before": st.one_of(st.just("2024-02-30"), st.integers()),
    "prospect_email": bad_emails,
    "prospect_id": bad_ids,
}


@st.composite
def invalid_filters(draw: st.DrawFn) -> dict[str, Any]:
    """Valid filters with one thing wrong: a bad value, an unknown name or an inverted range."""
    out = draw(valid_filters())
    kind = draw(st.sampled_from(["value", "unknown", "range"]))
    if kind == "value":
        name = draw(st.sampled_from(sorted(BAD_FILTERS)))
        out[name] = draw(BAD_FILTERS[name])
    elif kind == "unknown":
        out[draw(st.sampled_from(["probabilty_greater_than", "updated_after", "deleted", "sort"]))] = 1
    else:
        pair = draw(st.sampled_from(["id", "probability", "value"]))
        high = draw(st.integers(1, 99))
        out[f"{pair}_greater_than"], out[f"{pair}_less_than"] = high + draw(st.integers(0, 1)), high
    return out


# -- the harness ------------------------------------------------------------------------------------


def _answer(request: aeopp.RawRequest) -> aeopp.RawResponse:
    ok = {"stat": "ok", "version": 1}
    if request.operation == "query":
        body: dict[str, Any] = {"@attributes": ok, "result": {"total_results": 0}}
    elif request.operation in ("delete", "undelete"):
        return aeopp.RawResponse(204, {}, b"")
    else:
        tail = request.url.split("?")[0].rsplit("/", 1)[-1]
        body = {"@attributes": ok, "opportunity": {"id": int(tail) if tail.isdigit() else 1}}
    return aeopp.RawResponse(200, {"content-type": "application/json"}, json.dumps(body).encode())


def run(call: Any, *, valid: bool) -> None:
    """Run ``call(client)``; a refusal must happen exactly when the input is invalid, and then
    before any request."""
    transport = aeopp.MockTransport(_answer)

    async def main() -> None:
        async with aeopp.OpportunityClient(auth=aeopp.BearerAuth("t0k3n", BU), transport=transport) as client:
            try:
                await call(client)
            except aeopp.RequestValidationError:
                assert not valid, "valid input was refused"
                assert transport.requests == [], "refused after a request was sent"
            else:
                assert valid, "invalid input was accepted"

    asyncio.run(main())


def pick(fields: dict[str, tuple[Any, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={name: valid for name, (valid, _) in fields.items()})


@st.composite
def spoiled(draw: st.DrawFn, fields: dict[str, tuple[Any, Any]], base: dict[str, Any]) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(fields)))
    return {**base, name: draw(fields[name][1])}


# -- the methods ------------------------------------------------------------------------------------


@SETTINGS
@given(oid=st.one_of(ids, bad_ids), output=st.one_of(outputs, bad_outputs))
def test_read(oid: Any, output: Any) -> None:
    valid = isinstance(oid, int) and not isinstance(oid, bool) and 1 <= oid <= MAX
    valid = valid and output in (None, "full", "simple", "mobile", "bulk")
    run(lambda c: c.read(oid, output=output), valid=valid)


@SETTINGS
@given(
    good=st.lists(ids, max_size=5),
    bad=st.one_of(st.none(), bad_ids),
    missing=st.sampled_from(["raise", "skip", "ignore"]),
)
def test_read_many(good: list[int], bad: Any, missing: str) -> None:
    given_ids = good if bad is None else [*good, bad]
    run(lambda c: c.read_many(given_ids, missing=missing), valid=bad is None and missing != "ignore")


@SETTINGS
@given(
    required=st.fixed_dictionaries({k: v for k, (v, _) in CREATE_REQUIRED.items()}),
    optional=pick(CREATE_OPTIONAL),
    prospect=st.sampled_from(["email", "id", "both"]),
    email=emails,
    pid=ids,
    data=st.data(),
)
def test_create(
    required: dict[str, Any], optional: dict[str, Any], prospect: str, email: str, pid: int, data: Any
) -> None:
    fields = {**required, **optional}
    if prospect in ("email", "both"):
        fields["prospect_email"] = email
    if prospect in ("id", "both"):
        fields["prospect_id"] = pid
    run(lambda c: c.create(**fields), valid=True)
    how = data.draw(st.sampled_from(["field", "missing", "prospect", "unknown"]))
    if how == "field":
        fields = data.draw(spoiled({**CREATE_REQUIRED, **CREATE_OPTIONAL}, fields))
    elif how == "missing":
        del fields[data.draw(st.sampled_from(sorted(CREATE_REQUIRED)))]
    elif how == "prospect":
        fields.pop("prospect_email", None)
        fields.pop("prospect_id", None)
        if data.draw(st.booleans()):
            name = data.draw(st.sampled_from(["prospect_email", "prospect_id"]))
            fields[name] = data.draw(
                bad_emails if name == "prospect_email" else bad_ids.filter(lambda v: v is not None)
            )
    else:
        fields["nmae"] = "typo"
    run(lambda c: c.create(**fields), valid=False)


@SETTINGS
@given(oid=ids, fields=pick(UPDATE).filter(bool), data=st.data())
def test_update(oid: int, fields: dict[str, Any], data: Any) -> None:
    run(lambda c: c.update(oid, **fields), valid=True)
    how = data.draw(st.sampled_from(["field", "id", "nothing", "unknown"]))
    if how == "field":
        run(lambda c: c.update(oid, **data.draw(spoiled(UPDATE, fields))), valid=False)
    elif how == "id":
        run(lambda c: c.update(data.draw(bad_ids), **fields), valid=False)
    elif how == "nothing":
        run(lambda c: c.update(oid), valid=False)
    else:
        run(lambda c: c.update(oid, created_at="2024-01-01", **fields), valid=False)


@SETTINGS
@given(oid=st.one_of(ids, bad_ids), which=st.sampled_from(["delete", "undelete"]))
def test_delete_and_undelete(oid: Any, which: str) -> None:
    valid = isinstance(oid, int) and not isinstance(oid, bool) and 1 <= oid <= MAX
    run(lambda c: getattr(c, which)(oid), valid=valid)


@st.composite
def page_args(draw: st.DrawFn) -> dict[str, Any]:
    sort_by = draw(st.sampled_from(["id", "created_at", "probability", "value"]))
    args: dict[str, Any] = {"sort_by": sort_by, "output": draw(outputs)}
    if draw(st.booleans()):
        args["sort_order"] = draw(st.sampled_from(["ascending", "descending"]))
    args["offset"] = draw(st.integers(0, 10**9))
    return args


BAD_PAGE_ARGS: dict[str, st.SearchStrategy[Any]] = {
    "sort_by": st.sampled_from(["vaule", "updated_at", "", "ID"]),
    "sort_order": st.sampled_from(["asc", "up", ""]),
    "output": bad_outputs,
    "offset": st.one_of(st.integers(max_value=-1), st.booleans(), st.text()),
}


@SETTINGS
@given(args=page_args(), filters=valid_filters(), limit=st.integers(1, 200), data=st.data())
def test_query_page(args: dict[str, Any], filters: dict[str, Any], limit: int, data: Any) -> None:
    run(lambda c: c.query_page(limit=limit, **args, **filters), valid=True)
    how = data.draw(st.sampled_from(["filters", "argument", "limit"]))
    if how == "filters":
        run(lambda c: c.query_page(limit=limit, **args, **data.draw(invalid_filters())), valid=False)
    elif how == "argument":
        name = data.draw(st.sampled_from(sorted(BAD_PAGE_ARGS)))
        bad = {**args, name: data.draw(BAD_PAGE_ARGS[name])}
        run(lambda c: c.query_page(limit=limit, **bad, **filters), valid=False)
    else:
        bad_limit = data.draw(st.one_of(st.integers(max_value=0), st.integers(min_value=201), st.booleans()))
        run(lambda c: c.query_page(limit=bad_limit, **args, **filters), valid=False)


async def _walk(client: aeopp.OpportunityClient, **kwargs: Any) -> None:
    async with client.query(**kwargs) as walk:
        async for _ in walk:
            pass


@SETTINGS
@given(args=page_args(), filters=valid_filters(), data=st.data())
def test_query(args: dict[str, Any], filters: dict[str, Any], data: Any) -> None:
    mobile = args["output"] == "mobile"
    args["page_size"] = data.draw(st.integers(1 if mobile else 2, 200))
    args["max_items"] = data.draw(st.one_of(st.none(), st.integers(0, 10**6)))
    if args["sort_by"] == "id" and data.draw(st.booleans()):
        args["strategy"] = "keyset"
    if data.draw(st.booleans()):
        order = args.get("sort_order") or {"id": "ascending"}.get(args["sort_by"], "descending")
        cursor = aeopp.Cursor(args["sort_by"], order, last_id=data.draw(ids))
        args["resume"] = data.draw(st.sampled_from([cursor, cursor.token()]))
    run(lambda c: _walk(c, **args, **filters), valid=True)
    how = data.draw(st.sampled_from(["filters", "argument", "walk"]))
    if how == "filters":
        run(lambda c: _walk(c, **args, **data.draw(invalid_filters())), valid=False)
    elif how == "argument":
        name = data.draw(st.sampled_from(sorted(BAD_PAGE_ARGS)))
        run(lambda c: _walk(c, **{**args, name: data.draw(BAD_PAGE_ARGS[name])}, **filters), valid=False)
    else:
        bad = data.draw(
            st.sampled_from(
                [
                    {"page_size": 0},
                    {"page_size": 201},
                    {"max_items": -1},
                    {"strategy": "sideways"},
                    {"resume": "not-a-token"},
                    {"resume": aeopp.Cursor("probability" if args["sort_by"] == "id" else "id", "ascending")},
                ]
                + ([{"strategy": "keyset"}] if args["sort_by"] != "id" else [])
            )
        )
        run(lambda c: _walk(c, **{**args, **bad}, **filters), valid=False)
