"""The retry policy, sans I/O: classification, full-jitter delays, Retry-After, and the errors' shape."""

from __future__ import annotations

import pickle
import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

import aeopp
from aeopp._retry import Action, RetryPolicy, classify, parse_retry_after
from aeopp.errors import error_for_code


@pytest.mark.parametrize("code", [66, 183, 214])
def test_busy_codes_are_retried(code: int) -> None:
    for idempotent in (True, False):
        action = classify(error_for_code(code, "busy"), idempotent=idempotent, legacy_auth=False)
        assert action is Action.RETRY


@pytest.mark.parametrize("code", [122, 181, 182, 201, 49, 199, 126, 35, 3, 4, 44, 37, 59, 13, 23, 999])
def test_other_codes_are_raised(code: int) -> None:
    assert classify(error_for_code(code, "no", 401), idempotent=True, legacy_auth=False) is Action.RAISE


def test_expired_credentials_are_refreshed() -> None:
    assert classify(error_for_code(184, "x", 401), idempotent=True, legacy_auth=False) is Action.REFRESH
    assert classify(error_for_code(1, "x"), idempotent=True, legacy_auth=True) is Action.REFRESH
    assert classify(error_for_code(1, "x"), idempotent=True, legacy_auth=False) is Action.RAISE
    bare_401 = aeopp.ProtocolError("not an envelope", http_status=401)
    assert classify(bare_401, idempotent=True, legacy_auth=False) is Action.REFRESH


@pytest.mark.parametrize("code", [88, 89])
def test_version_mismatch_switches(code: int) -> None:
    assert classify(error_for_code(code, "v"), idempotent=False, legacy_auth=False) is Action.SWITCH_VERSION


def test_5xx_without_an_envelope_is_retried_4xx_is_not() -> None:
    assert classify(aeopp.ProtocolError("html", http_status=503), idempotent=False, legacy_auth=False) is (
        Action.RETRY
    )
    assert classify(aeopp.ProtocolError("html", http_status=404), idempotent=True, legacy_auth=False) is (
        Action.RAISE
    )


def test_network_errors_replay_only_what_is_safe() -> None:
    refused = aeopp.TransportError("refused", request_sent=False)
    lost = aeopp.TransportError("lost", request_sent=True)
    assert classify(refused, idempotent=False, legacy_auth=False) is Action.RETRY
    assert classify(lost, idempotent=True, legacy_auth=False) is Action.RETRY
    assert classify(lost, idempotent=False, legacy_auth=False) is Action.RAISE


@given(attempt=st.integers(1, 40), seed=st.integers(0, 2**32))
def test_full_jitter_stays_within_the_cap(attempt: int, seed: int) -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=2.0)
    delay = policy.delay(attempt, random.Random(seed))
    assert 0 <= delay <= min(2.0, 0.1 * 2 ** (attempt - 1))


def test_retry_after_is_honoured_but_capped() -> None:
    policy = RetryPolicy(base_delay=0.0, max_delay=3.0)
    assert policy.delay(1, random.Random(0), retry_after=1.5) == 1.5
    assert policy.delay(1, random.Random(0), retry_after=100) == 3.0


def test_parse_retry_after_both_forms_and_garbage() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-3") == 0.0
    later = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(later, now=now) == pytest.approx(30)
    for garbage in (None, "", "soon", "nan", "Mon, 99 Foo"):
        assert parse_retry_after(garbage) is None


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_policy_rejects_nonsense(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        RetryPolicy(max_attempts=bad)  # type: ignore[arg-type]


CODE_CLASSES = {
    1: aeopp.AuthenticationError,
    15: aeopp.AuthenticationError,
    49: aeopp.AuthenticationError,
    126: aeopp.AuthenticationError,
    181: aeopp.AuthenticationError,
    182: aeopp.AuthenticationError,
    184: aeopp.AuthenticationError,
    196: aeopp.AuthenticationError,
    199: aeopp.AuthenticationError,
    201: aeopp.AuthenticationError,
    35: aeopp.OpportunityNotFound,
    3: aeopp.InvalidProspect,
    4: aeopp.InvalidProspect,
    44: aeopp.ProspectMismatch,
    37: aeopp.ConnectorPresent,
    59: aeopp.ConnectorPresent,
    66: aeopp.ConcurrencyLimitExceeded,
    122: aeopp.DailyLimitExceeded,
    88: aeopp.VersionMismatch,
    89: aeopp.VersionMismatch,
    183: aeopp.ServerBusy,
    214: aeopp.ServerBusy,
}


@pytest.mark.parametrize(("code", "cls"), sorted(CODE_CLASSES.items()))
def test_error_classes_by_code(code: int, cls: type[aeopp.PardotError]) -> None:
    error = error_for_code(code, "message", 400)
    assert type(error) is cls
    assert (error.code, error.message, error.http_status) == (code, "message", 400)
    assert isinstance(error, aeopp.AeoppError)
    assert error.is_retryable == (code in (66, 183, 214))
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), again.code, again.message, again.http_status) == (cls, code, "message", 400)


def test_unknown_code_is_a_plain_pardot_error() -> None:
    error = error_for_code(4242, "new")
    assert type(error) is aeopp.PardotError
    assert "4242" in str(error)


def test_validation_error_is_a_value_error_naming_everything() -> None:
    error = aeopp.RequestValidationError("limit", 500, "an int from 1 to 200")
    assert isinstance(error, ValueError)
    assert isinstance(error, aeopp.AeoppError)
    assert str(error) == "invalid limit=500: an int from 1 to 200"
    assert pickle.loads(pickle.dumps(error)).parameter == "limit"


def test_transport_and_not_found_errors_pickle() -> None:
    lost = aeopp.WriteOutcomeUnknown("lost", request_sent=True)
    again = pickle.loads(pickle.dumps(lost))
    assert type(again) is aeopp.WriteOutcomeUnknown
    assert again.request_sent
    missing = aeopp.OpportunityNotFound(opportunity_id=12)
    assert pickle.loads(pickle.dumps(missing)).opportunity_id == 12
    assert "12" in str(missing)
