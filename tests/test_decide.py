"""The decision after a failed attempt: a pure state machine, driven here without any I/O."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aeopp._decide import (
    MAX_RENEWALS,
    MAX_STALE_REPLAYS,
    CallState,
    GiveUp,
    Renew,
    Retry,
    SwitchVersion,
    decide,
)
from aeopp._retry import RetryPolicy
from aeopp.errors import (
    AeoppError,
    ProtocolError,
    TransportError,
    WriteOutcomeUnknown,
    error_for_code,
)

POLICY = RetryPolicy(max_attempts=4, base_delay=0.1, max_delay=1.0, budget=10.0)


def state(*, idempotent: bool = True, legacy: bool = False, policy: RetryPolicy = POLICY) -> CallState:
    return CallState(policy, idempotent=idempotent, legacy_auth=legacy, operation="read")


def step(s: CallState, error: AeoppError, generation: int = 0, retry_after: float | None = None) -> object:
    return decide(s, error, generation=generation, rng=random.Random(1), retry_after=retry_after)


@pytest.mark.parametrize("code", [66, 183, 214])
def test_busy_codes_are_retried_until_max_attempts(code: int) -> None:
    s = state()
    steps = [step(s, error_for_code(code, "busy")) for _ in range(5)]
    assert [type(x) for x in steps] == [Retry, Retry, Retry, GiveUp, GiveUp]
    assert s.attempts == 4
    assert isinstance(steps[-1], GiveUp)
    assert steps[-1].error.code == code


def test_backoff_is_full_jitter_capped_and_counted() -> None:
    s = state()
    delays = []
    for _ in range(3):
        x = step(s, error_for_code(66, "busy"))
        assert isinstance(x, Retry)
        delays.append(x.delay)
    assert all(0 <= d <= 1.0 for d in delays)
    assert s.waited == pytest.approx(sum(delays))


def test_the_budget_stops_retries_before_max_attempts() -> None:
    s = state(policy=RetryPolicy(max_attempts=50, base_delay=1.0, max_delay=1.0, budget=2.0))
    while isinstance(step(s, error_for_code(66, "busy")), Retry):
        pass
    assert s.attempts < 50
    assert s.waited <= 2.0


def test_retry_after_is_honoured_up_to_max_delay() -> None:
    s = state()
    x = step(s, error_for_code(183, "busy"), retry_after=0.75)
    assert isinstance(x, Retry)
    assert x.delay >= 0.75
    x = step(s, error_for_code(183, "busy"), retry_after=100.0)
    assert isinstance(x, Retry)
    assert x.delay <= 1.0


@pytest.mark.parametrize("code", [122, 181, 182, 201, 49, 199, 126, 35, 40, 15])
def test_codes_that_waiting_cannot_fix_give_up_at_once(code: int) -> None:
    s = state()
    x = step(s, error_for_code(code, "no"))
    assert isinstance(x, GiveUp)
    assert x.error.code == code
    assert s.attempts == 1


def test_an_expired_token_renews_the_rejected_generation_then_gives_up() -> None:
    s = state()
    first = step(s, error_for_code(184, "expired"), generation=7)
    assert first == Renew(7)
    for _ in range(MAX_RENEWALS - 1):
        assert isinstance(step(s, error_for_code(184, "expired"), generation=8), Renew)
    assert isinstance(step(s, error_for_code(184, "expired"), generation=9), GiveUp)
    assert s.attempts == 1  # renewals don't count as attempts


def test_renewing_credentials_others_sent_first_counts_as_a_replay_not_a_renewal() -> None:
    s = state()
    s.first_use = False  # each time, other requests had sent the token first: maybe used up
    for _ in range(MAX_STALE_REPLAYS):
        assert isinstance(step(s, error_for_code(184, "expired"), generation=3), Renew)
    assert s.renewals == 0
    assert s.stale_replays == MAX_STALE_REPLAYS
    for _ in range(MAX_RENEWALS):  # then its own renewals, which still run out
        assert isinstance(step(s, error_for_code(184, "expired"), generation=3), Renew)
    assert s.renewals == MAX_RENEWALS
    assert isinstance(step(s, error_for_code(184, "expired"), generation=3), GiveUp)


def test_credentials_refused_at_their_first_use_spend_the_renewals() -> None:
    s = state()  # first_use: nobody else had sent them
    for _ in range(MAX_RENEWALS):
        assert isinstance(step(s, error_for_code(184, "expired"), generation=3), Renew)
    assert s.stale_replays == 0
    assert isinstance(step(s, error_for_code(184, "expired"), generation=3), GiveUp)


def test_http_401_without_an_envelope_renews_too() -> None:
    assert isinstance(step(state(), ProtocolError("html", http_status=401), generation=2), Renew)


def test_code_1_renews_only_with_legacy_keys() -> None:
    assert isinstance(step(state(legacy=True), error_for_code(1, "key")), Renew)
    assert isinstance(step(state(legacy=False), error_for_code(1, "key")), GiveUp)


@pytest.mark.parametrize(("code", "version"), [(88, 4), (89, 3)])
def test_version_mismatch_switches_once(code: int, version: int) -> None:
    s = state()
    assert step(s, error_for_code(code, "version")) == SwitchVersion(version)
    assert isinstance(step(s, error_for_code(code, "version")), GiveUp)
    assert s.attempts == 1


def test_server_errors_without_an_envelope_are_retried_client_errors_are_not() -> None:
    assert isinstance(step(state(), ProtocolError("bad gateway", http_status=502)), Retry)
    assert isinstance(step(state(), ProtocolError("teapot", http_status=418)), GiveUp)


def test_a_lost_answer_is_retried_for_idempotent_calls_only() -> None:
    lost = TransportError("connection reset", request_sent=True)
    assert isinstance(step(state(idempotent=True), lost), Retry)
    x = step(state(idempotent=False), lost)
    assert isinstance(x, GiveUp)
    assert isinstance(x.error, WriteOutcomeUnknown)
    assert x.error.__cause__ is lost
    assert "read was sent but no answer came back" in str(x.error)


def test_a_write_that_never_left_is_retried() -> None:
    refused = TransportError("connection refused", request_sent=False)
    assert isinstance(step(state(idempotent=False), refused), Retry)


@settings(max_examples=200, deadline=None)
@given(
    codes=st.lists(st.sampled_from([66, 183, 214, 184, 88, 89, 35, 122, 1]), min_size=1, max_size=30),
    legacy=st.booleans(),
)
def test_every_call_ends_within_its_bounds(codes: list[int], legacy: bool) -> None:
    """Whatever the server answers, a call makes at most max_attempts backed-off attempts, renews at
    most MAX_RENEWALS times, switches version at most once, and never waits beyond its budget."""
    s = state(legacy=legacy)
    renewals = switches = 0
    for code in codes:
        x = step(s, error_for_code(code, "x"))
        if isinstance(x, GiveUp):
            break
        renewals += isinstance(x, Renew)
        switches += isinstance(x, SwitchVersion)
    assert s.attempts <= POLICY.max_attempts
    assert renewals <= MAX_RENEWALS
    assert switches <= 1
    assert s.waited <= POLICY.budget


def test_a_token_already_replaced_by_another_task_is_replayed_without_counting_a_renewal() -> None:
    s = state()
    for _ in range(8):  # each time, another task had already renewed the rejected token
        assert step_with_current(s, error_for_code(184, "expired"), generation=1, current=2) == Renew(1)
    assert s.renewals == 0
    for n in range(MAX_RENEWALS):  # the current token rejected: a real renewal each time
        assert step_with_current(s, error_for_code(184, "expired"), generation=2 + n, current=2 + n) == Renew(
            2 + n
        )
    assert isinstance(step_with_current(s, error_for_code(184, "expired"), generation=9, current=9), GiveUp)


def test_stale_replays_are_bounded_too() -> None:
    s = state()
    steps = [step_with_current(s, error_for_code(184, "x"), generation=1, current=5) for _ in range(20)]
    assert isinstance(steps[-1], GiveUp)
    assert sum(isinstance(x, Renew) for x in steps) == MAX_STALE_REPLAYS


def step_with_current(s: CallState, error: AeoppError, *, generation: int, current: int) -> object:
    return decide(s, error, generation=generation, current_generation=current, rng=random.Random(1))
