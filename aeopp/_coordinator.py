"""The seam for limits shared by many clients and processes: what a coordinator does for a client.

Pardot's limits belong to the business unit, not to a process: five requests in flight, one daily
quota, a few live access tokens. A coordinator (``aeopp.RedisCoordinator``) shares them; the client
calls it around every request. Without one, a client limits only itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

__all__ = ["Coordinator", "TokenFetch", "TokenStore"]

#: Calls the token provider once: a new token and its lifetime in seconds (None when unknown).
TokenFetch = Callable[[], Awaitable[tuple[str, "float | None"]]]


@runtime_checkable
class TokenStore(Protocol):
    """Where the clients of one business unit keep its current access token (see ``BearerAuth``)."""

    async def current(self) -> str | None:
        """The shared token, or None when there is none (or it expired)."""
        ...

    async def renew(self, rejected: str | None, fetch: TokenFetch) -> str:
        """A token newer than ``rejected``: the shared one if another process already renewed it,
        else one from ``fetch()``, stored for the others (until its lifetime, when known, ends).
        Single-flight across processes."""
        ...


@runtime_checkable
class Coordinator(Protocol):
    """Limits shared by every client of one business unit.

    ``unit`` is the business unit id (or, with legacy api keys, the login email).
    """

    def slot(self, unit: str) -> AbstractAsyncContextManager[object]:
        """Hold one of the unit's in-flight slots while one request runs (waiting for it first)."""
        ...

    async def admit(self, unit: str) -> None:
        """Before a request: raise ``DailyLimitExceeded`` if the unit's daily limit is known to be
        reached (or the coordinator's own daily budget spent); count the request."""
        ...

    async def daily_limit_reached(self, unit: str) -> None:
        """Pardot answered 122 for ``unit``: tell every other client."""
        ...

    def token_store(self, unit: str) -> TokenStore | None:
        """The unit's shared token store, or None when tokens are not shared."""
        ...
