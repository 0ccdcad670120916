"""aeopp: an asyncio client for the Opportunity object of the Account Engagement (Pardot) API v3/v4.

Every public name is here; the modules behind them load on first use, so ``import aeopp`` (and the
pytest plugin of ``aeopp.testing``) costs next to nothing until a name is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._aiohttp import AiohttpTransport
    from ._base import ClientStats
    from ._config import SizeLimits, Timeout
    from ._cursor import Cursor
    from ._pagination import WalkPlan, WalkStats
    from ._redis import RedisCoordinator
    from ._retry import RetryPolicy
    from ._transport import MockTransport, RawRequest, RawResponse, Transport
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
    "SizeLimits",
    "Timeout",
    "Transport",
    "TransportError",
    "VersionMismatch",
    "VisitorActivity",
    "WalkPlan",
    "WalkStats",
    "WriteOutcomeUnknown",
    "__version__",
]

#: Where each public name is defined.
_WHERE = {
    "AeoppError": "errors",
    "AiohttpTransport": "_aiohttp",
    "ApiKeyAuth": "auth",
    "AuthenticationError": "errors",
    "BearerAuth": "auth",
    "Campaign": "models",
    "ClientStateError": "errors",
    "ClientStats": "_base",
    "ConcurrencyLimitExceeded": "errors",
    "ConnectorPresent": "errors",
    "CoordinatorUnavailable": "errors",
    "Cursor": "_cursor",
    "DailyLimitExceeded": "errors",
    "InvalidParameter": "errors",
    "InvalidProspect": "errors",
    "MockTransport": "_transport",
    "OAuthError": "errors",
    "Opportunity": "models",
    "OpportunityClient": "client",
    "OpportunityNotFound": "errors",
    "OpportunityQuery": "client",
    "Page": "models",
    "PaginationStalled": "errors",
    "PardotError": "errors",
    "Prospect": "models",
    "ProspectMismatch": "errors",
    "ProtocolError": "errors",
    "RawRequest": "_transport",
    "RawResponse": "_transport",
    "RedisCoordinator": "_redis",  # needs the redis extra only when used
    "RequestValidationError": "errors",
    "RetryPolicy": "_retry",
    "SalesforceOAuth": "auth",
    "ServerBusy": "errors",
    "SizeLimits": "_config",
    "Timeout": "_config",
    "Transport": "_transport",
    "TransportError": "errors",
    "VersionMismatch": "errors",
    "VisitorActivity": "models",
    "WalkPlan": "_pagination",
    "WalkStats": "_pagination",
    "WriteOutcomeUnknown": "errors",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'aeopp' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
