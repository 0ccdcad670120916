"""The sans-I/O request builder: wire layout, encoding and every validation rule."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aeopp._constants import DEFAULT_SORT_ORDER
from aeopp._request import (
    PreparedRequest,
    QuerySpec,
    build_create,
    build_delete,
    build_login,
    build_query,
    build_read,
    build_undelete,
    build_update,
    format_timestamp,
    query_spec,
    validate_email,
    validate_id,
    validate_max_items,
    validate_offset,
    validate_page_size,
    validate_version,
    validate_wire_format,
)
from aeopp._spec import OPPORTUNITY
from aeopp.errors import AeoppError, RequestValidationError

BASE = "https://pi.pardot.com"
TZ_PLUS2 = dt.timezone(dt.timedelta(hours=2))
MAX = 2**63 - 1  # the largest id, offset or bound the builder sends

# Values of the wrong type wherever an int is expected.
NOT_INTS = [True, False, 1.0, 2.5, "1", Decimal(1), None, b"1", [1], float("nan")]


def rejects(parameter: str, value: Any = None, *, check_value: bool = True) -> Any:
    """pytest.raises for a RequestValidationError on ``parameter``, checking its message."""

    class _Check:
        def __enter__(self) -> None:
            self._ctx = pytest.raises(RequestValidationError)
            self.info = self._ctx.__enter__()

        def __exit__(self, *exc: Any) -> bool:
            suppressed = self._ctx.__exit__(*exc)
            err = self.info.value
            assert err.parameter == parameter
            message = str(err)
            assert parameter in message
            assert err.allowed
            assert err.allowed in message
            if check_value:
                assert repr(err.value) in message
                if value is not None:
                    assert err.value == value or (
                        isinstance(value, float) and math.isnan(value) and math.isnan(err.value)
                    )
            return bool(suppressed)

    return _Check()


def query_params(request: PreparedRequest) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(request.url(BASE)).query, keep_blank_values=True, strict_parsing=False)


def form_params(request: PreparedRequest) -> list[tuple[str, str]]:
    return parse_qsl(request.body().decode("ascii"), keep_blank_values=True)


def filters(*pairs: Any) -> dict[str, Any]:
    """Keyword arguments from alternating names and values."""
    return dict(zip(pairs[::2], pairs[1::2], strict=True))


def create(**overrides: Any) -> PreparedRequest:
    kwargs: dict[str, Any] = {"name": "Deal", "value": 100, "probability": 50, "prospect_id": 7}
    kwargs.update(overrides)
    return build_create(**kwargs)


# --- the error type ---------------------------------------------------------------------------


def test_error_is_value_error_and_names_everything() -> None:
    with pytest.raises(RequestValidationError) as info:
        validate_page_size(500, parameter="limit")
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, AeoppError)
    assert (err.parameter, err.value) == ("limit", 500)
    assert str(err) == "invalid limit=500: an integer from 1 to 200"


# --- paths, methods, formats ------------------------------------------------------------------


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("wire_format", ["json", "xml"])
def test_paths_and_methods(version: int, wire_format: str) -> None:
    fmt = (("format", "json"),) if wire_format == "json" else ()
    kw: dict[str, Any] = {"version": version, "wire_format": wire_format}
    prefix = f"/api/opportunity/version/{version}/do"
    cases = [
        (build_read(12, **kw), "read", "GET", f"{prefix}/read/id/12"),
        (build_delete(12, **kw), "delete", "POST", f"{prefix}/delete/id/12"),
        (build_undelete(12, **kw), "undelete", "POST", f"{prefix}/undelete/id/12"),
        (build_update(12, {"stage": "Won"}, **kw), "update", "POST", f"{prefix}/update/id/12"),
        (create(**kw), "create", "POST", f"{prefix}/create/prospect_id/7"),
        (create(prospect_id=None, prospect_email="a@b.co", **kw), "create", "POST", ""),
        (build_query(query_spec(), **kw), "query", "GET", f"{prefix}/query"),
        (
            build_login(email="u@x.io", password="pw", user_key="k", **kw),
            "login",
            "POST",
            f"/api/login/version/{version}",
        ),
    ]
    for request, operation, method, path in cases:
        assert request.operation == operation
        assert request.method == method
        if path:
            assert request.path == path
        if request.operation == "query":
            assert request.params[: len(fmt)] == fmt
            assert ("format", "xml") not in request.params
        else:
            assert request.params == fmt
    assert cases[5][0].path == f"{prefix}/create/prospect_email/a%40b.co"


def test_read_output_in_query_string() -> None:
    assert build_read(5, output="simple").params == (("format", "json"), ("output", "simple"))
    assert build_read(5, wire_format="xml", output="full").params == (("output", "full"),)
    assert build_read(5).url(BASE) == f"{BASE}/api/opportunity/version/4/do/read/id/5?format=json"
    with rejects("output", "detailed"):
        build_read(5, output="detailed")


def test_reads_have_no_body_and_writes_put_data_in_the_body() -> None:
    read = build_read(1)
    assert (read.form, read.body(), read.content_type) == ((), b"", None)
    write = build_update(1, {"name": "New name", "value": 5})
    assert write.content_type == "application/x-www-form-urlencoded"
    assert form_params(write) == [("name", "New name"), ("value", "5")]
    assert query_params(write) == [("format", "json")]
    deleted = build_delete(1)
    assert (deleted.body(), deleted.content_type) == (b"", None)


@pytest.mark.parametrize(
    ("request_", "idempotent"),
    [
        (build_read(1), True),
        (build_query(query_spec()), True),
        (build_delete(1), True),
        (build_undelete(1), True),
        (build_update(1, {"type": "x"}), False),
        (create(), False),
        (build_login(email="u@x.io", password="p", user_key="k"), False),
    ],
)
def test_idempotent(request_: PreparedRequest, idempotent: bool) -> None:
    assert request_.idempotent is idempotent


@pytest.mark.parametrize("base", [BASE, BASE + "/"])
def test_url_joins_base_with_or_without_slash(base: str) -> None:
    assert build_delete(3, wire_format="xml").url(base) == f"{BASE}/api/opportunity/version/4/do/delete/id/3"


def test_url_of_request_without_params_has_no_question_mark() -> None:
    request = PreparedRequest(operation="read", method="GET", object_name="opportunity", version=4, params=())
    assert request.url(BASE) == BASE + "/api/opportunity/version/4/do/read"


# --- login and secrets ------------------------------------------------------------------------


def test_login_puts_credentials_in_body_only_and_repr_redacts() -> None:
    request = build_login(email="user@example.com", password="s3cret-pw", user_key="ab12cd34" * 4)
    assert form_params(request) == [
        ("email", "user@example.com"),
        ("password", "s3cret-pw"),
        ("user_key", "ab12cd34" * 4),
    ]
    url = request.url(BASE)
    assert "s3cret" not in url
    assert "ab12cd34" not in url
    text = repr(request)
    assert "s3cret-pw" not in text
    assert "ab12cd34" not in text
    assert "user@example.com" in text  # only secrets are hidden
    assert "<redacted>" in text


def test_repr_redacts_api_key_anywhere() -> None:
    request = PreparedRequest(
        operation="login",
        method="POST",
        object_name="login",
        version=4,
        params=(("api_key", "KEYVALUE"),),
        form=(("x", "y"),),
    )
    assert "KEYVALUE" not in repr(request)


@pytest.mark.parametrize("parameter", ["password", "user_key"])
@pytest.mark.parametrize("bad", ["", b"hunter2-bytes", None, 12345, "hunter2\x00secret"])
def test_login_secret_errors_never_show_the_value(parameter: str, bad: Any) -> None:
    kwargs: dict[str, Any] = {"email": "u@x.io", "password": "pw", "user_key": "key"}
    kwargs[parameter] = bad
    with pytest.raises(RequestValidationError) as info:
        build_login(**kwargs)
    assert info.value.parameter == parameter
    for text in (str(info.value), repr(info.value), repr(info.value.value)):
        assert "hunter2" not in text
        assert "12345" not in text


def test_login_validates_email_and_version() -> None:
    with rejects("email", "not-an-email"):
        build_login(email="not-an-email", password="p", user_key="k")
    with rejects("version", 5):
        build_login(email="u@x.io", password="p", user_key="k", version=5)


# --- encoding ---------------------------------------------------------------------------------

SPECIALS = "+&=?#/% é中"


def test_plus_is_percent_encoded_everywhere() -> None:
    request = create(prospect_id=None, prospect_email="a+b@x.com", name="A+B C")
    assert request.path.endswith("/prospect_email/a%2Bb%40x.com")
    assert b"name=A%2BB%20C" in request.body()
    query = build_query(query_spec(prospect_email="a+b@x.com"))
    assert "prospect_email=a%2Bb%40x.com" in query.url(BASE)
    assert "+" not in query.url(BASE)


def test_special_characters_survive_in_path_query_and_body() -> None:
    email = f"{SPECIALS}@xn--d.example.com"
    request = create(prospect_id=None, prospect_email=email, name=SPECIALS, type=SPECIALS)
    segment = request.path.rsplit("/", 1)[1]
    assert unquote(segment) == email
    for ch in "+&=?#/ ":
        assert ch not in segment
    assert dict(form_params(request))["name"] == SPECIALS
    assert dict(form_params(request))["type"] == SPECIALS
    query = build_query(query_spec(prospect_email=email))
    assert dict(query_params(query))["prospect_email"] == email


_local_chars = st.characters(exclude_categories=("Cc", "Cs"), exclude_characters='@"')
_label_chars = st.characters(exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), exclude_characters='@".')
emails = st.builds(
    lambda local, labels: f"{local}@{'.'.join(labels)}",
    st.text(_local_chars | st.sampled_from(list(SPECIALS)), min_size=1, max_size=40),
    st.lists(st.text(_label_chars, min_size=1, max_size=12), min_size=2, max_size=4),
).filter(lambda e: len(e) <= 255)


@settings(max_examples=150)
@given(email=emails, name=st.text(st.characters(exclude_categories=["Cs"]), min_size=1).filter(str.strip))
def test_round_trip_of_emails_and_names(email: str, name: str) -> None:
    request = create(prospect_id=3, prospect_email=email, name=name, stage=name)
    prefix = "/api/opportunity/version/4/do/create/prospect_email/"
    assert request.path.startswith(prefix)
    segment = request.path[len(prefix) :]
    for ch in "/+?#":
        assert ch not in segment
    assert segment.isascii()
    assert unquote(segment) == email
    body = request.body().decode("ascii")
    assert "+" not in body
    assert form_params(request) == [
        ("prospect_id", "3"),
        ("name", name),
        ("value", "100"),
        ("probability", "50"),
        ("stage", name),
    ]
    query = build_query(query_spec(prospect_email=email))
    assert "+" not in query.url(BASE)
    assert dict(query_params(query))["prospect_email"] == email


# --- integer rules ----------------------------------------------------------------------------


@given(st.integers(min_value=1, max_value=MAX))
def test_ids_accept_positive_ints(value: int) -> None:
    assert validate_id("prospect_id", value) == value
    assert build_read(value).path.endswith(f"/id/{value}")
    assert dict(form_params(create(campaign_id=value)))["campaign_id"] == str(value)
    assert query_spec(id_greater_than=value).id_greater_than == value


@given(st.integers(max_value=0) | st.integers(min_value=MAX + 1))
def test_ids_reject_out_of_range(value: int) -> None:
    for builder in (build_read, build_delete, build_undelete):
        with rejects("opportunity_id", value):
            builder(value)
    with rejects("prospect_id", value):
        create(prospect_id=value)
    with rejects("campaign_id", value):
        create(campaign_id=value)
    with rejects("id_less_than", value):
        query_spec(id_less_than=value)


@pytest.mark.parametrize("value", NOT_INTS)
def test_ids_reject_non_ints(value: Any) -> None:
    with rejects("opportunity_id", check_value=False):
        build_read(value)
    with rejects("campaign_id", check_value=False):
        build_update(1, {"campaign_id": value})
    if value is not None:  # None means "no filter" in a query
        with rejects("id_greater_than", check_value=False):
            query_spec(id_greater_than=value)
        with rejects("prospect_id", check_value=False):
            query_spec(prospect_id=value)


@given(st.integers())
def test_limit_is_1_to_200(value: int) -> None:
    spec = query_spec()
    if 1 <= value <= 200:
        assert ("limit", str(value)) in build_query(spec, limit=value).params
        assert validate_page_size(value) == value
    else:
        with rejects("limit", value):
            build_query(spec, limit=value)
        with rejects("page_size", value):
            validate_page_size(value)


@given(st.integers())
def test_offset_is_non_negative(value: int) -> None:
    spec = query_spec()
    if 0 <= value <= MAX:
        assert ("offset", str(value)) in build_query(spec, offset=value).params
        assert validate_offset(value) == value
    else:
        with rejects("offset", value):
            build_query(spec, offset=value)


@pytest.mark.parametrize("value", NOT_INTS)
def test_limit_offset_reject_non_ints(value: Any) -> None:
    with rejects("limit", check_value=False):
        build_query(query_spec(), limit=value)
    with rejects("offset", check_value=False):
        build_query(query_spec(), offset=value)
    with rejects("page_size", check_value=False):
        validate_page_size(value)


@given(st.integers())
def test_max_items(value: int) -> None:
    if 0 <= value <= MAX:
        assert validate_max_items(value) == value
    else:
        with rejects("max_items", value):
            validate_max_items(value)


def test_max_items_none_and_bool() -> None:
    assert validate_max_items(None) is None
    for bad in (True, 1.0, "3"):
        with rejects("max_items", bad):
            validate_max_items(bad)


@given(st.integers())
def test_probability_filters_are_1_to_100(value: int) -> None:
    for name in ("probability_greater_than", "probability_less_than"):
        if 1 <= value <= 100:
            assert (name, str(value)) in query_spec(**filters(name, value)).filters
        else:
            with rejects(name, value):
                query_spec(**filters(name, value))


@given(st.integers())
def test_probability_field_is_0_to_100(value: int) -> None:
    if 0 <= value <= 100:
        assert ("probability", str(value)) in create(probability=value).form
        assert build_update(1, {"probability": value}).form == (("probability", str(value)),)
    else:
        with rejects("probability", value):
            create(probability=value)
        with rejects("probability", value):
            build_update(1, {"probability": value})


@pytest.mark.parametrize("value", NOT_INTS)
def test_probability_rejects_non_ints(value: Any) -> None:
    with rejects("probability", check_value=False):
        build_update(1, {"probability": value})
    if value is not None:
        with rejects("probability_less_than", check_value=False):
            query_spec(probability_less_than=value)


@given(st.integers(-MAX, MAX - 1))
def test_value_bounds_take_any_int(value: int) -> None:
    spec = query_spec(value_greater_than=value, value_less_than=value + 1)
    assert dict(spec.filters) == {"value_greater_than": str(value), "value_less_than": str(value + 1)}


@pytest.mark.parametrize("value", [True, 1.5, 2.0, Decimal(3), "4", [5], MAX + 1, -MAX - 1])
def test_value_bounds_reject_non_ints_and_out_of_range(value: Any) -> None:
    with rejects("value_greater_than", check_value=False):
        query_spec(value_greater_than=value)


def test_huge_ints_rejected_with_a_printable_message() -> None:
    with rejects("value_less_than", "<16610-bit integer>"):
        query_spec(value_less_than=-(10**5000))
    with rejects("opportunity_id", "<16610-bit integer>"):
        build_read(10**5000)


@pytest.mark.parametrize("version", [3, 4])
def test_version_accepted(version: int) -> None:
    assert validate_version(version) == version


@pytest.mark.parametrize("version", [True, False, 1, 2, 5, "4", 4.0, None])
def test_version_rejected(version: Any) -> None:
    with rejects("version", version):
        validate_version(version)
    with rejects("version", version):
        build_delete(1, version=version)


@pytest.mark.parametrize("wire_format", ["JSON", "yaml", "", None, 1])
def test_wire_format_rejected(wire_format: Any) -> None:
    assert validate_wire_format("json") == "json"
    with rejects("wire_format", wire_format):
        build_read(1, wire_format=wire_format)


# --- value ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (0, "0"),
        (100, "100"),
        (Decimal("1E+2"), "100"),
        (Decimal("99.50"), "99.5"),
        (Decimal("0.000"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("12345678901234567890123456789012.5"), "12345678901234567890123456789012.5"),
        (99.5, "99.5"),
        (0.1, "0.1"),
        (1e20, "100000000000000000000"),
        (-0.0, "0"),
        ("100", "100"),
        ("99.50", "99.5"),
        (" 7 ", "7"),
        ("5.", "5"),
        (".25", "0.25"),
        ("007", "7"),
        (10**30, "1" + "0" * 30),
    ],
)
def test_value_canonical_form(value: Any, wire: str) -> None:
    assert ("value", wire) in create(value=value).form
    assert build_update(1, {"value": value}).form == (("value", wire),)


@pytest.mark.parametrize(
    "value",
    [
        -1,
        Decimal("-0.01"),
        -0.5,
        float("nan"),
        float("inf"),
        float("-inf"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        True,
        False,
        "",
        "abc",
        "-5",
        "1e3",
        "NaN",
        "Infinity",
        "1_000",
        "1,5",
        "١٢",  # Arabic-Indic digits
        None,
        [1],
        b"1",
        Decimal("1E+100000"),
        Decimal("1E-100000"),
    ],
)
def test_value_rejected(value: Any) -> None:
    with rejects("value", check_value=False):
        build_update(1, {"value": value})


@given(st.integers(min_value=0))
def test_value_any_non_negative_int(value: int) -> None:
    assert build_update(1, {"value": value}).form == (("value", str(value)),)


@given(st.decimals(min_value=0, allow_nan=False, allow_infinity=False, places=4))
def test_value_any_non_negative_decimal(value: Decimal) -> None:
    wire = dict(build_update(1, {"value": value}).form)["value"]
    assert Decimal(wire) == value
    assert "e" not in wire.lower()
    assert wire == "0" or not (("." in wire and wire.endswith("0")) or wire.startswith("-"))


@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False))
def test_value_any_non_negative_float(value: float) -> None:
    wire = dict(build_update(1, {"value": value}).form)["value"]
    assert float(wire) == value
    assert "e" not in wire.lower()


@given(
    st.one_of(
        st.integers(max_value=-1), st.floats(max_value=-1e-300), st.decimals(max_value=Decimal("-0.0001"))
    )
)
def test_value_negative_rejected(value: Any) -> None:
    with rejects("value", check_value=False):
        build_update(1, {"value": value})


@pytest.mark.parametrize(
    "value",
    [
        *(Decimal(t) for t in ("NaN", "-NaN", "sNaN", "NaN123", "Infinity", "-Infinity")),
        *(float(t) for t in ("nan", "-nan", "inf", "-inf")),
    ],
)
def test_value_non_finite_rejected(value: Any) -> None:
    with rejects("value", check_value=False):
        create(value=value)


# --- choices ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sort_by", ["created_at", "id", "probability", "value"])
def test_sort_order_defaults_to_the_fields_documented_order(sort_by: str) -> None:
    spec = query_spec(sort_by=sort_by)
    assert spec.sort_order == DEFAULT_SORT_ORDER[sort_by]
    params = build_query(spec).params
    assert ("sort_by", sort_by) in params
    assert ("sort_order", DEFAULT_SORT_ORDER[sort_by]) in params


def test_default_sort_is_id_ascending_and_always_sent() -> None:
    spec = query_spec()
    assert (spec.sort_by, spec.sort_order, spec.output) == ("id", "ascending", None)
    params = dict(build_query(spec, wire_format="xml").params)
    assert params == {"sort_by": "id", "sort_order": "ascending", "limit": "200", "offset": "0"}


@pytest.mark.parametrize("sort_by", ["updated_at", "ID", "", None, 1])
def test_sort_by_rejected(sort_by: Any) -> None:
    with rejects("sort_by", sort_by):
        query_spec(sort_by=sort_by)
    if sort_by is not None:  # None means "keep the spec's sort"
        with rejects("sort_by", sort_by):
            build_query(query_spec(), sort_by=sort_by)


@pytest.mark.parametrize("sort_order", ["asc", "Descending", "", 1])
def test_sort_order_rejected(sort_order: Any) -> None:
    with rejects("sort_order", sort_order):
        query_spec(sort_order=sort_order)
    with rejects("sort_order", sort_order):
        build_query(query_spec(), sort_order=sort_order)


@pytest.mark.parametrize("output", ["simple", "full", "mobile", "bulk"])
def test_output_sent_when_given(output: str) -> None:
    assert ("output", output) in build_query(query_spec(output=output)).params


@pytest.mark.parametrize("output", ["Simple", "detailed", "", 0])
def test_output_rejected(output: Any) -> None:
    with rejects("output", output):
        query_spec(output=output)


@pytest.mark.parametrize(("given_", "wire"), [("won", "won"), ("LOST", "lost"), ("Open", "open")])
def test_status_any_case_sent_lowercase(given_: str, wire: str) -> None:
    assert ("status", wire) in create(status=given_).form
    assert build_update(1, {"status": given_}).form == (("status", wire),)


@pytest.mark.parametrize("status", ["closed", "", "won ", 1, True])
def test_status_rejected(status: Any) -> None:
    with rejects("status", status):
        create(status=status)


@pytest.mark.parametrize("field", ["type", "stage"])
def test_type_and_stage_take_any_string(field: str) -> None:
    for text in ("", "Negotiation", "中 & +"):
        assert (field, text) in create(**{field: text}).form
    with rejects(field, 3):
        create(**{field: 3})


@pytest.mark.parametrize("name", ["", "   ", None, 5, b"name"])
def test_name_must_be_a_non_empty_string(name: Any) -> None:
    with rejects("name", name):
        create(name=name)
    if name is not None:
        with rejects("name", name):
            build_update(1, {"name": name})


def test_lone_surrogates_rejected() -> None:
    with rejects("name", "a\ud800"):
        create(name="a\ud800")
    with rejects("prospect_email", "a\ud800@x.com"):
        validate_email("a\ud800@x.com")


def test_timezone_must_be_tzinfo() -> None:
    with rejects("timezone", "Europe/Paris"):
        query_spec(timezone="Europe/Paris")  # type: ignore[arg-type]


# --- filters ----------------------------------------------------------------------------------


def test_unknown_filter_is_named_with_the_allowed_list() -> None:
    with rejects("updated_after", "today"):
        query_spec(updated_after="today")
    with pytest.raises(RequestValidationError) as info:
        query_spec(deleted=True)
    for name in OPPORTUNITY.filter_names:
        assert name in str(info.value)


def test_none_filter_is_left_out() -> None:
    assert query_spec(prospect_id=None, created_after=None) == query_spec()


def test_filters_are_sorted_wire_strings() -> None:
    spec = query_spec(
        value_less_than=10,
        prospect_id=3,
        created_before=dt.date(2024, 5, 6),
        prospect_email="a@b.co",
        probability_greater_than=5,
        id_greater_than=2,
        id_less_than=9,
    )
    assert spec.filters == (
        ("created_before", "2024-05-06"),
        ("probability_greater_than", "5"),
        ("prospect_email", "a@b.co"),
        ("prospect_id", "3"),
        ("value_less_than", "10"),
    )
    assert (spec.id_greater_than, spec.id_less_than) == (2, 9)
    assert isinstance(spec, QuerySpec)
    with pytest.raises(AttributeError):
        spec.sort_by = "value"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("low", "high", "code"),
    [
        ("id_greater_than", "id_less_than", 17),
        ("probability_greater_than", "probability_less_than", 41),
        ("value_greater_than", "value_less_than", 43),
    ],
)
def test_inverted_or_empty_ranges_rejected(low: str, high: str, code: int) -> None:
    assert query_spec(**filters(low, 5, high, 6))
    for a, b in ((5, 5), (6, 5)):
        with pytest.raises(RequestValidationError) as info:
            query_spec(**filters(low, a, high, b))
        message = str(info.value)
        assert info.value.parameter == low
        assert high in message
        assert f"code {code}" in message
        assert str(b) in message


@given(st.integers(1, 10**6), st.integers(1, 10**6))
def test_id_range_rule(low: int, high: int) -> None:
    if low < high:
        spec = query_spec(id_greater_than=low, id_less_than=high)
        assert (spec.id_greater_than, spec.id_less_than) == (low, high)
    else:
        with rejects("id_greater_than", low):
            query_spec(id_greater_than=low, id_less_than=high)


@pytest.mark.parametrize(
    ("after", "before"),
    [
        ("2024-02-01", "2024-01-01"),
        ("2024-01-01 10:00:01", "2024-01-01 10:00:00"),
        (dt.datetime(2024, 1, 2), dt.date(2024, 1, 1)),
        ("2024-01-01T12:00:00Z", "2024-01-01T13:00:00+02:00"),
    ],
)
def test_created_after_later_than_before_rejected(after: Any, before: Any) -> None:
    with pytest.raises(RequestValidationError) as info:
        query_spec(created_after=after, created_before=before)
    assert info.value.parameter == "created_after"
    assert "created_before" in str(info.value)
    assert "code 8" in str(info.value)


@pytest.mark.parametrize(
    ("after", "before", "timezone"),
    [
        ("2024-01-01", "2024-01-01", None),  # equal is an empty but valid range
        ("2024-01-01", "2024-02-01", None),
        ("today", "2000-01-01", None),  # keywords skip the check
        ("2030-01-01", "yesterday", None),
        ("2024-01-02 00:00:00", "2024-01-01T23:00:00Z", None),  # naive vs aware, no time zone: skipped
        ("2024-01-01 12:00:00", "2024-01-01T11:00:00Z", TZ_PLUS2),  # 11:00Z is 13:00 at +02:00
    ],
)
def test_created_range_accepted(after: str, before: str, timezone: dt.tzinfo | None) -> None:
    query_spec(created_after=after, created_before=before, timezone=timezone)


def test_created_range_compared_in_account_time_zone() -> None:
    with rejects("created_after", "2024-01-01 14:00:00"):
        query_spec(
            created_after="2024-01-01 14:00:00", created_before="2024-01-01T11:00:00Z", timezone=TZ_PLUS2
        )


def test_query_timestamps_converted_to_account_time_zone() -> None:
    spec = query_spec(
        created_after=dt.datetime(2024, 1, 1, 22, 30, tzinfo=dt.timezone.utc), timezone=TZ_PLUS2
    )
    assert spec.filters == (("created_after", "2024-01-02 00:30:00"),)


# --- emails -----------------------------------------------------------------------------------

GOOD_EMAILS = [
    "a@b.co",
    "first.last+tag@example.com",
    "a&b@example.org",
    "jos é@exämple.com",
    "中文@例子.中国",
    '"quoted@local"@example.com',
    "o'brien@x.y.z",
    "x" * 243 + "@example.com",  # 255 characters
]
BAD_EMAILS = [
    "",
    "plain",
    "@example.com",
    "a@",
    "a@b",
    "a@@b.com",
    "a@b@c.com",
    "a@b..com",
    "a@.b.com",
    "a@b.com.",
    "a@b .com",
    "a@b\t.com",
    "a\n@b.com",
    "a\x00@b.com",
    "a\x7f@b.com",
    '"unbalanced@b.com',
    "x" * 244 + "@example.com",  # 256 characters
    None,
    1,
    b"a@b.com",
]


@pytest.mark.parametrize("email", GOOD_EMAILS)
def test_good_emails_accepted(email: str) -> None:
    assert validate_email(email) == email
    assert ("prospect_email", email) in query_spec(prospect_email=email).filters
    assert unquote(create(prospect_id=None, prospect_email=email).path.rsplit("/", 1)[1]) == email


@pytest.mark.parametrize("email", BAD_EMAILS)
def test_bad_emails_rejected(email: Any) -> None:
    with rejects("prospect_email", email):
        validate_email(email)
    if email is not None:  # None means "not given"
        with rejects("prospect_email", email):
            query_spec(prospect_email=email)
        with rejects("prospect_email", email):
            create(prospect_email=email)


@given(emails)
def test_generated_emails_accepted(email: str) -> None:
    assert validate_email(email) == email


@given(st.text(max_size=30))
def test_strings_without_at_rejected(text: str) -> None:
    with rejects("prospect_email", text.replace("@", "")):
        validate_email(text.replace("@", ""))


# --- create -----------------------------------------------------------------------------------


def test_create_by_email_by_id_and_both() -> None:
    by_email = create(prospect_id=None, prospect_email="p@x.io")
    assert by_email.path.endswith("/do/create/prospect_email/p%40x.io")
    assert "prospect_id" not in dict(by_email.form)
    by_id = create(prospect_id=42)
    assert by_id.path.endswith("/do/create/prospect_id/42")
    both = create(prospect_id=42, prospect_email="p@x.io")
    assert both.path.endswith("/do/create/prospect_email/p%40x.io")
    assert both.form[0] == ("prospect_id", "42")


def test_create_needs_a_prospect() -> None:
    with rejects("prospect_email", None):
        create(prospect_id=None)


@pytest.mark.parametrize("field", ["name", "value", "probability"])
def test_create_needs_required_fields(field: str) -> None:
    with rejects(field, None):
        create(**{field: None})


def test_create_body_has_all_given_fields_in_order() -> None:
    request = create(
        campaign_id=9,
        type="New",
        stage="Prospecting",
        status="Open",
        closed_at=dt.datetime(2024, 3, 4, 5, 6, 7),
    )
    assert request.form == (  # the spec's order
        ("name", "Deal"),
        ("value", "100"),
        ("probability", "50"),
        ("type", "New"),
        ("stage", "Prospecting"),
        ("status", "open"),
        ("campaign_id", "9"),
        ("closed_at", "2024-03-04 05:06:07"),
    )


def test_create_closed_at_rejects_keywords_and_converts_time_zone() -> None:
    with rejects("closed_at", "today"):
        create(closed_at="today")
    aware = dt.datetime(2024, 1, 1, 23, 0, tzinfo=dt.timezone.utc)
    assert ("closed_at", "2024-01-02 01:00:00") in create(closed_at=aware, timezone=TZ_PLUS2).form
    assert ("closed_at", "2024-01-01 23:00:00+00:00") in create(closed_at=aware).form


# --- update -----------------------------------------------------------------------------------


def test_update_unknown_field_lists_editable_ones() -> None:
    with pytest.raises(RequestValidationError) as info:
        build_update(1, {"created_at": "2024-01-01"})
    assert info.value.parameter == "created_at"
    for field in (f.name for f in OPPORTUNITY.record.editable):
        assert field in str(info.value)


def test_update_with_nothing_to_change_rejected() -> None:
    with rejects("fields", {}):
        build_update(1, {})
    with rejects("fields", ["name"]):
        build_update(1, ["name"])  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["type", "stage", "status", "closed_at"])
def test_update_none_clears_optional_fields(field: str) -> None:
    request = build_update(1, {field: None})
    assert request.form == ((field, ""),)
    assert request.body() == f"{field}=".encode()


@pytest.mark.parametrize("field", ["name", "value", "probability", "campaign_id"])
def test_update_cannot_clear_required_fields(field: str) -> None:
    with pytest.raises(RequestValidationError) as info:
        build_update(1, {field: None})
    assert info.value.parameter == field
    assert "can't be cleared" in str(info.value)


def test_update_validates_and_orders_fields() -> None:
    request = build_update(
        77,
        {
            "closed_at": "2024-01-02",
            "status": "WON",
            "name": "N",
            "campaign_id": 4,
            "value": "1.50",
            "type": "",
        },
        version=3,
        wire_format="xml",
    )
    assert request.path == "/api/opportunity/version/3/do/update/id/77"
    assert request.params == ()
    assert request.form == (  # the spec's order
        ("name", "N"),
        ("value", "1.5"),
        ("type", ""),
        ("status", "won"),
        ("campaign_id", "4"),
        ("closed_at", "2024-01-02"),
    )
    with rejects("closed_at", "yesterday"):
        build_update(1, {"closed_at": "yesterday"})


# --- timestamps -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02 03:04:05"),
        (dt.datetime(2024, 1, 2, 3, 4, 5, 999999), "2024-01-02 03:04:05"),
        (dt.datetime(2024, 1, 2, 3, 4, tzinfo=TZ_PLUS2), "2024-01-02 03:04:00+02:00"),
        (
            dt.datetime(2024, 1, 2, tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30))),
            "2024-01-02 00:00:00-05:30",
        ),
        (dt.datetime(2024, 1, 2, tzinfo=dt.timezone(dt.timedelta(seconds=30))), "2024-01-01 23:59:30+00:00"),
        (dt.date(2024, 2, 29), "2024-02-29"),
        (dt.date(5, 1, 1), "0005-01-01"),
        ("2024-01-02", "2024-01-02"),
        ("2024-01-02 03:04", "2024-01-02 03:04:00"),
        ("2024-01-02T03:04", "2024-01-02 03:04:00"),
        ("2024-01-02 03:04:05", "2024-01-02 03:04:05"),
        ("2024-01-02T03:04:05.123456789", "2024-01-02 03:04:05"),
        ("2024-01-02T03:04:05Z", "2024-01-02 03:04:05+00:00"),
        ("2024-01-02T03:04:05+01:00", "2024-01-02 03:04:05+01:00"),
        ("2024-01-02T03:04:05-0130", "2024-01-02 03:04:05-01:30"),
        ("2024-01-02 03:04+0000", "2024-01-02 03:04:00+00:00"),
        ("today", "today"),
        ("last_7_days", "last_7_days"),
    ],
)
def test_timestamp_forms(value: Any, wire: str) -> None:
    assert format_timestamp(value) == wire


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("2024-01-02T03:04:05Z", "2024-01-02 05:04:05"),
        ("2024-01-02T03:04:05-01:00", "2024-01-02 06:04:05"),
        (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02 03:04:05"),  # naive: already account time
        ("2024-01-02", "2024-01-02"),
        ("this_month", "this_month"),
    ],
)
def test_timestamp_converted_to_account_time_zone(value: Any, wire: str) -> None:
    assert format_timestamp(value, timezone=TZ_PLUS2) == wire


@pytest.mark.parametrize(
    "value",
    [
        "",
        "tomorrow",
        "Today",
        "2024-13-01",
        "2024-02-30",
        "2024-1-2",
        "24-01-02",
        "2024-01-02 25:00",
        "2024-01-02 10:60",
        "2024-01-02 10:00:61",
        "2024-01-02X10:00",
        "2024-01-02 10",
        "2024-01-02+01:00",
        "2024-01-02 10:00+24:00",
        "2024-01-02 10:00+01:75",
        "2024-01-02 10:00 ",
        "２０２４-01-02",  # fullwidth digits
        "1704153600",
        1704153600,
        1.5,
        True,
        None,
        b"2024-01-02",
    ],
)
def test_bad_timestamps_rejected(value: Any) -> None:
    with rejects("timestamp", value):
        format_timestamp(value)
    if value is not None:  # None means "not given"
        with rejects("created_after", value):
            query_spec(created_after=value)
        with rejects("closed_at", value):
            create(closed_at=value)


def test_conversion_overflow_rejected() -> None:
    extreme = dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)
    with rejects("timestamp", extreme):
        format_timestamp(extreme, timezone=dt.timezone(-dt.timedelta(hours=1)))


@given(st.datetimes(min_value=dt.datetime(1000, 1, 1)))
def test_naive_datetimes_round_trip(value: dt.datetime) -> None:
    wire = format_timestamp(value)
    assert dt.datetime.strptime(wire, "%Y-%m-%d %H:%M:%S") == value.replace(microsecond=0)
    assert format_timestamp(wire) == wire
    assert format_timestamp(value.isoformat()) == wire


# Fixed offsets, down to the second, rather than st.timezones() (which needs a tz database).
fixed_offsets = st.builds(
    dt.timezone,
    st.timedeltas(
        min_value=-dt.timedelta(hours=23, minutes=59), max_value=dt.timedelta(hours=23, minutes=59)
    ),
)


@given(
    st.datetimes(
        min_value=dt.datetime(1000, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=fixed_offsets
    )
)
def test_aware_datetimes_keep_the_instant(value: dt.datetime) -> None:
    in_account = format_timestamp(value, timezone=TZ_PLUS2)
    expected = value.astimezone(TZ_PLUS2).replace(tzinfo=None, microsecond=0)
    assert dt.datetime.strptime(in_account, "%Y-%m-%d %H:%M:%S") == expected
    with_offset = format_timestamp(value)
    parsed = dt.datetime.fromisoformat(with_offset)
    assert dt.timedelta(0) <= value - parsed < dt.timedelta(seconds=1)
    offset = value.utcoffset()
    assert offset is not None
    if offset % dt.timedelta(minutes=1) == dt.timedelta(0):
        assert parsed.utcoffset() == offset
        assert format_timestamp(value.isoformat()) == with_offset
    else:  # +HH:MM can't say a sub-minute offset: sent in UTC
        assert with_offset.endswith("+00:00")


@given(st.dates())
def test_dates_round_trip(value: dt.date) -> None:
    wire = format_timestamp(value)
    assert len(wire) == 10
    assert dt.date.fromisoformat(wire) == value


# --- build_query ------------------------------------------------------------------------------


def test_query_is_get_with_everything_in_query_string() -> None:
    spec = query_spec(prospect_id=5, output="bulk", sort_by="value")
    request = build_query(spec, offset=400, limit=50, version=3)
    assert (request.method, request.form, request.body()) == ("GET", (), b"")
    assert request.path == "/api/opportunity/version/3/do/query"
    assert request.params == (
        ("format", "json"),
        ("prospect_id", "5"),
        ("output", "bulk"),
        ("sort_by", "value"),
        ("sort_order", "descending"),
        ("limit", "50"),
        ("offset", "400"),
    )


def test_query_rejects_a_non_spec() -> None:
    with rejects("spec", check_value=False):
        build_query({"sort_by": "id"})  # type: ignore[arg-type]


@given(
    spec_low=st.none() | st.integers(1, 1000),
    spec_high=st.none() | st.integers(1, 1000),
    low=st.none() | st.integers(1, 1000),
    high=st.none() | st.integers(1, 1000),
)
def test_query_intersects_id_bounds(
    spec_low: int | None, spec_high: int | None, low: int | None, high: int | None
) -> None:
    if spec_low is not None and spec_high is not None and spec_low >= spec_high:
        return
    spec = query_spec(id_greater_than=spec_low, id_less_than=spec_high)
    lows = [b for b in (spec_low, low) if b is not None]
    highs = [b for b in (spec_high, high) if b is not None]
    want_low = max(lows) if lows else None
    want_high = min(highs) if highs else None
    if want_low is not None and want_high is not None and want_low >= want_high:
        with rejects("id_greater_than", want_low):
            build_query(spec, id_greater_than=low, id_less_than=high)
        return
    params = dict(build_query(spec, id_greater_than=low, id_less_than=high).params)
    assert params.get("id_greater_than") == (None if want_low is None else str(want_low))
    assert params.get("id_less_than") == (None if want_high is None else str(want_high))


def test_query_bound_overrides_are_validated() -> None:
    with rejects("id_greater_than", -1):
        build_query(query_spec(), id_greater_than=-1)
    assert dict(build_query(query_spec(), id_greater_than=0).params)["id_greater_than"] == "0"
    with rejects("id_less_than", True):
        build_query(query_spec(), id_less_than=True)


def test_query_sort_override_for_keyset_reads() -> None:
    spec = query_spec(sort_by="created_at", prospect_id=1)
    assert spec.sort_order == "descending"
    keyset = dict(build_query(spec, sort_by="id", sort_order="ascending", id_greater_than=10).params)
    assert (keyset["sort_by"], keyset["sort_order"], keyset["prospect_id"]) == ("id", "ascending", "1")
    only_field = dict(build_query(spec, sort_by="value").params)
    assert only_field["sort_order"] == "descending"
    only_order = dict(build_query(spec, sort_order="ascending").params)
    assert (only_order["sort_by"], only_order["sort_order"]) == ("created_at", "ascending")


def test_same_spec_gives_the_same_pages() -> None:
    spec = query_spec(created_after="2024-01-01", value_greater_than=-5)
    assert build_query(spec, offset=200) == build_query(spec, offset=200)
    first, second = build_query(spec), build_query(spec, offset=200)
    assert [p for p in first.params if p[0] != "offset"] == [p for p in second.params if p[0] != "offset"]
