"""Every exception aeopp raises, in one hierarchy::

    AeoppError
    ├── RequestValidationError (also ValueError)   bad input, rejected before any I/O
    ├── ProtocolError                              a body that is no Pardot envelope, hostile or oversize
    ├── TransportError                             network failure after retries
    │   └── WriteOutcomeUnknown                    a write was sent but no answer came back
    ├── ClientStateError (also RuntimeError)       client used before open, after close, or off its loop
    ├── PaginationStalled                          a walk stopped advancing
    ├── OAuthError                                 the Salesforce token endpoint refused a grant
    ├── CoordinatorUnavailable                     a RedisCoordinator's Redis can't be reached ("raise")
    └── PardotError(code, message, http_status)    the server said stat="fail"
        ├── AuthenticationError                    1, 15, 49, 126, 131, 181, 182, 184, 196, 199, 201
        ├── OpportunityNotFound                    35
        ├── InvalidProspect                        3, 4
        ├── ProspectMismatch                       44
        ├── ConnectorPresent                       37, 59
        ├── VersionMismatch                        88, 89
        ├── ConcurrencyLimitExceeded               66 (retryable)
        ├── DailyLimitExceeded                     122
        ├── ServerBusy                             183, 214 (retryable)
        └── InvalidParameter                       the other validation codes (5-8, 13, 16-23, 36, 38, 40-43)

Errors raised in the middle of a ``query()`` walk carry ``cursor``, the point to resume from.
No message, repr or attribute of these exceptions holds a secret: the client removes every secret
it holds from server text before it goes into one, and escapes control characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import quote

__all__ = [
    "RETRYABLE_CODES",
    "AeoppError",
    "AuthenticationError",
    "ClientStateError",
    "ConcurrencyLimitExceeded",
    "ConnectorPresent",
    "CoordinatorUnavailable",
    "DailyLimitExceeded",
    "InvalidParameter",
    "InvalidProspect",
    "OAuthError",
    "OpportunityNotFound",
    "PaginationStalled",
    "PardotError",
    "ProspectMismatch",
    "ProtocolError",
    "RequestValidationError",
    "ServerBusy",
    "TransportError",
    "VersionMismatch",
    "WriteOutcomeUnknown",
    "error_for_code",
]

#: Pardot codes that mean "try again later": too many requests in flight, internal error, timeout.
RETRYABLE_CODES = frozenset({66, 183, 214})

#: Control characters (C0, DEL, C1) and the bidirectional overrides that reorder text on a terminal.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_REDACTED = "<redacted>"
#: Secrets shorter than this are not searched for in server text (they would match ordinary words).
MIN_SCRUBBED_SECRET = 4


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\x1b``, ``\r``, ...), so that server text in an
    error or a log line can't move the cursor, recolour a terminal or forge log lines."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _variants(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote(secret, safe="/")}


def scrub_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (and its percent-encoded forms) replaced by ``<redacted>``."""
    for secret in secrets:
        if len(secret) >= MIN_SCRUBBED_SECRET:
            for variant in _variants(secret):
                text = text.replace(variant, _REDACTED)
    return text


def scrub_bytes(data: bytes, secrets: Iterable[str]) -> bytes:
    """:func:`scrub_text` for bytes."""
    for secret in secrets:
        if len(secret) >= MIN_SCRUBBED_SECRET:
            for variant in _variants(secret):
                data = data.replace(variant.encode("utf-8", "replace"), _REDACTED.encode())
    return data


class AeoppError(Exception):
    """Base class of every exception aeopp raises."""

    #: Where a ``query()`` walk can be resumed from, when the error interrupted one.
    cursor: Any = None
    #: Attributes holding text that may come from the server (scrubbed of secrets by the client).
    _server_text: ClassVar[tuple[str, ...]] = ()

    def _scrub(self, secrets: Iterable[str]) -> None:
        """Remove ``secrets`` from every attribute holding server text (the client calls this)."""
        secrets = tuple(secrets)
        changed = False
        for name in self._server_text:
            value = getattr(self, name, None)
            if isinstance(value, str):
                new: Any = scrub_text(value, secrets)
            elif isinstance(value, bytes):
                new = scrub_bytes(value, secrets)
            else:
                continue
            if new != value:
                setattr(self, name, new)
                changed = True
        if changed:
            self.args = tuple(
                scrub_text(a, secrets)
                if isinstance(a, str)
                else scrub_bytes(a, secrets)
                if isinstance(a, bytes)
                else a
                for a in self.args
            )


class RequestValidationError(AeoppError, ValueError):
    """A parameter was rejected before any request was made.

    ``parameter`` names it, ``value`` is what was given and ``allowed`` says what would do.
    """

    def __init__(self, parameter: str, value: Any, allowed: str) -> None:
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        super().__init__(parameter, value, allowed)

    def __str__(self) -> str:
        return f"invalid {self.parameter}={self.value!r}: {self.allowed}"


class ProtocolError(AeoppError):
    """The server's answer was not a Pardot envelope (or was hostile or too large)."""

    _server_text = ("message", "body_start")

    def __init__(self, message: str, *, http_status: int | None = None, body: bytes = b"") -> None:
        self.message = printable(message)
        self.http_status = http_status
        #: The first bytes of the body, for diagnosis.
        self.body_start = body[:200]
        super().__init__(self.message, http_status, self.body_start)

    def __str__(self) -> str:
        status = f"HTTP {self.http_status}: " if self.http_status is not None else ""
        snippet = f" (body starts {self.body_start!r})" if self.body_start else " (empty body)"
        return f"{status}{self.message}{snippet}"


class TransportError(AeoppError):
    """The request could not be completed over the network (after any retries).

    ``request_sent`` tells whether the request may have reached the server (a dropped connection
    or a timeout after the body was written) or surely did not (connection refused).
    """

    _server_text = ("message",)

    def __init__(self, message: str, *, request_sent: bool = False) -> None:
        self.message = printable(message)
        self.request_sent = request_sent
        super().__init__(self.message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_transport, (type(self), self.message, self.request_sent))

    def __str__(self) -> str:
        return self.message


def _rebuild_transport(cls: type[TransportError], message: str, request_sent: bool) -> TransportError:
    return cls(message, request_sent=request_sent)


class WriteOutcomeUnknown(TransportError):
    """A write reached the network but no answer came back: it may or may not have been applied.

    aeopp never replays such a write; check (for example with ``query``) before trying again.
    """


class ClientStateError(AeoppError, RuntimeError):
    """The client was used before ``__aenter__``, after closing, or from another event loop."""


class PaginationStalled(AeoppError):
    """The server returned the same page twice, or the walk's cursor stopped advancing."""


class OAuthError(AeoppError):
    """The OAuth token endpoint refused to issue a token (``error`` and ``description`` are its words)."""

    _server_text = ("error", "description")

    def __init__(self, error: str, description: str, http_status: int | None = None) -> None:
        self.error = printable(error)
        self.description = printable(description)
        self.http_status = http_status
        super().__init__(self.error, self.description, http_status)

    def __str__(self) -> str:
        return f"token endpoint refused the grant: {self.error}: {self.description} (HTTP {self.http_status})"


class PardotError(AeoppError):
    """The server answered ``stat="fail"``: ``code`` and ``message`` are Pardot's, on any HTTP status."""

    #: Codes this class stands for (used to build the code -> class table).
    codes: ClassVar[frozenset[int]] = frozenset()
    #: Whether waiting and sending the same request again may succeed.
    retryable: bool = False

    _server_text = ("message",)

    def __init__(self, code: int, message: str, http_status: int | None = None) -> None:
        self.code = code
        self.message = printable(message)
        self.http_status = http_status
        super().__init__(code, self.message, http_status)

    def __str__(self) -> str:
        # The status only when it says something: Pardot answers most errors with HTTP 200.
        status = f" (HTTP {self.http_status})" if self.http_status not in (None, 200) else ""
        return f"Pardot error {self.code}: {self.message}{status}"

    @property
    def is_retryable(self) -> bool:
        return self.retryable or self.code in RETRYABLE_CODES


class AuthenticationError(PardotError):
    """Credentials, token, business unit or authentication mechanism refused."""

    codes = frozenset({1, 15, 49, 126, 131, 181, 182, 184, 196, 199, 201})


class OpportunityNotFound(PardotError):
    """No (undeleted) opportunity has that id: code 35."""

    codes = frozenset({35})

    def __init__(
        self,
        code: int = 35,
        message: str = "Invalid opportunity ID",
        http_status: int | None = None,
        *,
        opportunity_id: int | None = None,
    ) -> None:
        super().__init__(code, message, http_status)
        self.opportunity_id = opportunity_id

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_not_found,
            (self.code, self.message, self.http_status, self.opportunity_id),
        )

    def __str__(self) -> str:
        text = super().__str__()
        return text if self.opportunity_id is None else f"{text} (id {self.opportunity_id})"


def _rebuild_not_found(
    code: int, message: str, http_status: int | None, opportunity_id: int | None
) -> OpportunityNotFound:
    return OpportunityNotFound(code, message, http_status, opportunity_id=opportunity_id)


class InvalidProspect(PardotError):
    """The prospect id (3) or email (4) does not name an existing prospect."""

    codes = frozenset({3, 4})


class ProspectMismatch(PardotError):
    """``prospect_id`` and ``prospect_email`` name different prospects: code 44."""

    codes = frozenset({44})


class ConnectorPresent(PardotError):
    """The account has a CRM connector, so opportunities are read-only: codes 37 and 59."""

    codes = frozenset({37, 59})


class VersionMismatch(PardotError):
    """The account needs the other API version: 88 (use 4) or 89 (use 3)."""

    codes = frozenset({88, 89})


class ConcurrencyLimitExceeded(PardotError):
    """More than five requests were in flight for the business unit: code 66."""

    codes = frozenset({66})
    retryable = True


class DailyLimitExceeded(PardotError):
    """The account's daily API quota is used up: code 122. Never retried."""

    codes = frozenset({122})


class ServerBusy(PardotError):
    """Pardot had an internal error (183) or timed out (214); the request may be retried."""

    codes = frozenset({183, 214})
    retryable = True


class InvalidParameter(PardotError):
    """The server rejected a parameter (codes aeopp's own validation normally catches first)."""

    codes = frozenset({2, 5, 6, 7, 8, 13, 16, 17, 19, 20, 21, 22, 23, 36, 38, 40, 41, 42, 43, 60})


_BY_CODE: dict[int, type[PardotError]] = {
    code: cls
    for cls in (
        AuthenticationError,
        OpportunityNotFound,
        InvalidProspect,
        ProspectMismatch,
        ConnectorPresent,
        VersionMismatch,
        ConcurrencyLimitExceeded,
        DailyLimitExceeded,
        ServerBusy,
        InvalidParameter,
    )
    for code in cls.codes
}


def error_for_code(code: int, message: str, http_status: int | None = None) -> PardotError:
    """The typed exception for a Pardot error code (plain :class:`PardotError` when unknown)."""
    return _BY_CODE.get(code, PardotError)(code, message, http_status)


class CoordinatorUnavailable(AeoppError):
    """A coordinator (``RedisCoordinator``) can't share limits: its Redis can't be reached (with
    ``on_unavailable="raise"``), or the ``redis`` extra is not installed. Never shows a password."""
