"""aeopp: an asyncio client for the Opportunity object of the Account Engagement (Pardot) API v3/v4."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._aiohttp import AiohttpTransport
from ._base import ClientStats
from ._cursor import Cursor
from ._pagination import WalkPlan, WalkStats
from ._retry import RetryPolicy
from ._transport import MockTransport, RawRequest, RawResponse, Transport
from ._version import __version__
from .auth import ApiKeyAuth, BearerAuth, SalesforceOAuth
from .client import OpportunityClient, OpportunityQuery
from .errors import (
    AeoppError,
    AuthenticationError,
    ClientStateError,
    ConcurrencyLimitExceeded,
    ConnectorPresent,
    CoordinatorUnavailable,
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

if TYPE_CHECKING:
    from ._redis import RedisCoordinator

__all__ = [
    "AeoppError",
    "AiohttpTransport",
    "ApiKeyAuth",
    "AuthenticationError",
    "BearerAuth",
    "Campaign",
    "ClientStateError",
    "ClientStats",
    "ConcurrencyLimitExceeded",
    "ConnectorPresent",
    "CoordinatorUnavailable",
    "Cursor",
    "DailyLimitExceeded",
    "InvalidParameter",
    "InvalidProspect",
    "MockTransport",
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
    "RawRequest",
    "RawResponse",
    "RedisCoordinator",
    "RequestValidationError",
    "RetryPolicy",
    "SalesforceOAuth",
    "ServerBusy",
    "Transport",
    "TransportError",
    "VersionMismatch",
    "VisitorActivity",
    "WalkPlan",
    "WalkStats",
    "WriteOutcomeUnknown",
    "__version__",
]

# Public classes defined in private modules say they live in ``aeopp`` (reprs, tracebacks, pickles).
for _name in (
    "AiohttpTransport",
    "ClientStats",
    "Cursor",
    "MockTransport",
    "RawRequest",
    "RawResponse",
    "RetryPolicy",
    "Transport",
    "WalkPlan",
    "WalkStats",
):
    globals()[_name].__module__ = __name__
del _name


def __getattr__(name: str) -> Any:
    # RedisCoordinator is imported on first use: ``import aeopp`` needs no redis (the extra).
    if name == "RedisCoordinator":
        from ._redis import RedisCoordinator

        return RedisCoordinator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
