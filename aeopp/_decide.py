"""What to do after a failed attempt: a small, pure state machine, one per call.

:func:`decide` reads the error, what the call has done so far (:class:`CallState`) and the retry
policy, and answers with one :class:`Step`: wait and retry, renew the credentials and replay,
switch the API version and replay, or give up with the error to raise. No I/O, no clock, no
sleeping: the client's pipeline carries the steps out.
"""

from __future__ import annotations

import random

import attrs

from ._retry import Action, RetryPolicy, classify
from .errors import AeoppError, TransportError, VersionMismatch, WriteOutcomeUnknown

__all__ = ["MAX_RENEWALS", "CallState", "GiveUp", "Renew", "Retry", "Step", "SwitchVersion", "decide"]

#: Credential renewals one call may ask for (its rejected token being the current one) before an
#: auth failure is final.
MAX_RENEWALS = 3
#: Replays one call may make after its token was rejected but already replaced by another task's
#: renewal (no new renewal needed: the call just uses the newer token).
MAX_STALE_REPLAYS = 10


@attrs.frozen
class Retry:
    """Wait ``delay`` seconds, then send the same request again."""

    delay: float


@attrs.frozen
class Renew:
    """Renew the credentials that were rejected (``generation``), then replay at once."""

    generation: int


@attrs.frozen
class SwitchVersion:
    """Replay at once with API ``version``."""

    version: int


@attrs.frozen
class GiveUp:
    """Raise ``error``."""

    error: AeoppError


Step = Retry | Renew | SwitchVersion | GiveUp


@attrs.define
class CallState:
    """What one call has done so far.

    ``attempts`` counts the attempts that count against ``RetryPolicy.max_attempts`` (a replay
    after renewing credentials or switching version does not); ``waited`` is the time spent
    backing off; ``queued`` the time spent waiting for a slot, which no limit counts.
    """

    policy: RetryPolicy
    idempotent: bool
    legacy_auth: bool = False
    operation: str = "request"
    attempts: int = 1
    waited: float = 0.0
    renewals: int = 0
    stale_replays: int = 0
    switched: bool = False
    queued: float = 0.0
    #: Whether the last attempt was the first request sent with its credentials.
    first_use: bool = True


def decide(
    state: CallState,
    error: AeoppError,
    *,
    generation: int,
    rng: random.Random,
    retry_after: float | None = None,
    current_generation: int | None = None,
    elapsed: float | None = None,
) -> Step:
    """The step after ``error`` ended an attempt; updates ``state`` for the next one.

    ``generation`` is the generation of the credentials the failed attempt used and
    ``current_generation`` the credentials' generation now (newer when another task renewed them
    meanwhile); ``retry_after`` the server's ``Retry-After``, in seconds, if it sent one;
    ``elapsed`` the call's time so far (attempts and waits, not time queued for a slot).

    A retry happens only while the call, its wait included, stays within ``RetryPolicy.budget``,
    so a server that never answers costs at most about ``budget`` plus one attempt's timeout.

    An auth failure with credentials that were already replaced is replayed with the newer ones
    (up to ``MAX_STALE_REPLAYS``); so is one with credentials that other requests had sent first
    (``state.first_use`` false: a token good for a few requests may just be used up). Otherwise
    the current credentials are renewed, up to ``MAX_RENEWALS`` times per call: that stops on
    credentials refused at their first use. Renewal itself is single-flight (``auth``), so
    concurrent failures cost one renewal.
    """
    action = classify(error, idempotent=state.idempotent, legacy_auth=state.legacy_auth)
    policy = state.policy
    if action is Action.RETRY:
        delay = policy.delay(state.attempts, rng, retry_after)
        spent = state.waited if elapsed is None else max(elapsed, state.waited)
        if state.attempts < policy.max_attempts and spent + delay <= policy.budget:
            state.attempts += 1
            state.waited += delay
            return Retry(delay)
    elif action is Action.REFRESH:
        stale = current_generation is not None and generation < current_generation
        if (stale or not state.first_use) and state.stale_replays < MAX_STALE_REPLAYS:
            state.stale_replays += 1
            return Renew(generation)
        if not stale and state.renewals < MAX_RENEWALS:
            state.renewals += 1
            return Renew(generation)
    elif action is Action.SWITCH_VERSION and not state.switched and isinstance(error, VersionMismatch):
        state.switched = True
        return SwitchVersion(4 if error.code == 88 else 3)
    return GiveUp(_final(error, state))


def _final(error: AeoppError, state: CallState) -> AeoppError:
    if isinstance(error, TransportError) and error.request_sent and not state.idempotent:
        unknown = WriteOutcomeUnknown(
            f"{state.operation} was sent but no answer came back ({error.message}); "
            "it may or may not have been applied, so it was not replayed",
            request_sent=True,
        )
        unknown.__cause__ = error
        return unknown
    return error
