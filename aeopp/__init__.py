"""aeopp: an asyncio client for the Opportunity object of the Account Engagement (Pardot) API v3/v4."""

from __future__ import annotations

from ._version import __version__
from .errors import (
    AeoppError,
    AuthenticationError,
    ClientStateError,
    ConcurrencyLimitExceeded,
    ConnectorPresent,
    DailyLimitExceeded,
    InvalidParameter,
    InvalidProspect,
    OpportunityNotFound,
    PaginationStalled,
    PardotError,
    ProspectMismatch,
    ProtocolError,
    RequestValidationError,
    ServerBusy,
    TransportError,
    VersionMismatch,
    WriteOutcomeUnknown,
)
from .models import Campaign, Opportunity, Page, Prospect, VisitorActivity

__all__ = [
    "AeoppError",
    "AuthenticationError",
    "Campaign",
    "ClientStateError",
    "ConcurrencyLimitExceeded",
    "ConnectorPresent",
    "DailyLimitExceeded",
    "InvalidParameter",
    "InvalidProspect",
    "Opportunity",
    "OpportunityNotFound",
    "Page",
    "PaginationStalled",
    "PardotError",
    "Prospect",
    "ProspectMismatch",
    "ProtocolError",
    "RequestValidationError",
    "ServerBusy",
    "TransportError",
    "VersionMismatch",
    "VisitorActivity",
    "WriteOutcomeUnknown",
    "__version__",
]
