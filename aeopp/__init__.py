"""aeopp: an asyncio client for the Opportunity object of the Account Engagement (Pardot) API v3/v4."""

from __future__ import annotations

from ._pagination import Cursor
from ._retry import RetryPolicy
from ._version import __version__
from .auth import ApiKeyAuth, BearerAuth, SalesforceOAuth
from .client import ClientStats, OpportunityClient, OpportunityQuery
from .errors import (
    AeoppError,
    AuthenticationError,
    ClientStateError,
    ConcurrencyLimitExceeded,
    ConnectorPresent,
    DailyLimitExceeded,
    InvalidParameter,
    InvalidProspect,
    OAuthError,
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
    "ApiKeyAuth",
    "AuthenticationError",
    "BearerAuth",
    "Campaign",
    "ClientStateError",
    "ClientStats",
    "ConcurrencyLimitExceeded",
    "ConnectorPresent",
    "Cursor",
    "DailyLimitExceeded",
    "InvalidParameter",
    "InvalidProspect",
    "OAuthError",
    "Opportunity",
    "OpportunityClient",
    "OpportunityNotFound",
    "OpportunityQuery",
    "Page",
    "PaginationStalled",
    "PardotError",
    "Prospect",
    "ProspectMismatch",
    "ProtocolError",
    "RequestValidationError",
    "RetryPolicy",
    "SalesforceOAuth",
    "ServerBusy",
    "TransportError",
    "VersionMismatch",
    "VisitorActivity",
    "WriteOutcomeUnknown",
    "__version__",
]
