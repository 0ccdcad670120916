"""Credentials: a Salesforce bearer token (current), legacy api keys (retired in 2021), and a token provider.

Secrets never appear in a repr. Renewal is single-flight: when many concurrent requests find the
token expired at once, one of them renews it and the others wait for that result.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

import anyio

from .errors import OAuthError, ProtocolError, RequestValidationError

if TYPE_CHECKING:
    import aiohttp

    from ._coordinator import TokenStore
    from ._parse import LoginResult

__all__ = ["ApiKeyAuth", "Auth", "BearerAuth", "SalesforceOAuth", "TokenProvider"]

#: An async callable returning a fresh access token.
TokenProvider = Callable[[], Awaitable[str]]


class _Login(Protocol):
    async def __call__(self, email: str, password: str, user_key: str) -> LoginResult: ...


def _check_business_unit(value: object) -> str:
    if not isinstance(value, str) or not value.startswith("0Uv") or len(value) != 18:
        raise RequestValidationError(
            "business_unit_id", value, "an 18-character Pardot business unit id starting with '0Uv'"
        )
    return value


class BearerAuth:
    """Salesforce OAuth: ``Authorization: Bearer <token>`` plus ``Pardot-Business-Unit-Id``.

    ``access_token`` is a token string, or an async callable returning one (see
    :class:`SalesforceOAuth`). With a callable, an expired token (code 184 or HTTP 401) is renewed
    for all waiting requests together (one provider call), and the requests are replayed. A client
    opened with a coordinator attaches the coordinator's token store: the token is then shared by
    every process and renewed once for all of them. A provider may say how long its last token lives
    with an ``expires_in`` attribute (seconds).
    """

    legacy = False

    def __init__(self, access_token: str | TokenProvider, business_unit_id: str) -> None:
        self._used: list[str] = []
        self.business_unit_id = _check_business_unit(business_unit_id)
        if isinstance(access_token, str):
            if not access_token:
                raise RequestValidationError("access_token", "", "a non-empty token or an async callable")
            self._token: str | None = access_token
            self._provider: TokenProvider | None = None
            self._remember(access_token)
        elif callable(access_token):
            self._token = None
            self._provider = access_token
        else:
            raise RequestValidationError(
                "access_token", type(access_token).__name__, "a token string or an async callable"
            )
        self._generation = 0
        self._lock = anyio.Lock()
        self._store: TokenStore | None = None
        #: How many times a new token was fetched from the provider (by this process).
        self.renewals = 0

    def _remember(self, token: str) -> None:
        """Keep the last few tokens, to scrub them from server text (an old one may be echoed)."""
        if token not in self._used:
            self._used.append(token)
            del self._used[:-8]

    @property
    def generation(self) -> int:
        """How many times the token was renewed (a request's headers name the generation they carry)."""
        return self._generation

    def __repr__(self) -> str:
        provider = getattr(self, "_provider", None)
        source = "provider" if provider is not None else "static"
        unit = getattr(self, "business_unit_id", "<unset>")
        return f"BearerAuth(business_unit_id={unit!r}, access_token=<{source}, redacted>)"

    def _secrets(self) -> tuple[str, ...]:
        """Every secret this auth holds or used: scrubbed from server text before it is shown."""
        provider = getattr(self, "_provider", None)
        held = getattr(provider, "_secrets", None)
        return (*getattr(self, "_used", ()), *(held() if callable(held) else ()))

    async def headers(self, login: _Login) -> tuple[dict[str, str], int]:
        """The headers for the next request and the token generation they belong to.

        With a token store, the shared token is used when another process renewed it, and when
        there is none (another process is renewing it) the new one is awaited."""
        if self._store is not None and self._provider is not None:
            shared = await self._store.current()
            if shared is None:
                await self.refresh(login, self._generation)
            elif shared != self._token:
                async with self._lock:
                    if shared != self._token:
                        self._token = shared
                        self._remember(shared)
                        self._generation += 1
        if self._token is None:
            await self.refresh(login, self._generation)
        assert self._token is not None
        return (
            {"Authorization": f"Bearer {self._token}", "Pardot-Business-Unit-Id": self.business_unit_id},
            self._generation,
        )

    def attach(self, store: TokenStore | None) -> None:
        """Share the token through ``store`` (a coordinator's), or stop sharing it (None)."""
        self._store = store

    async def refresh(self, login: _Login, generation: int) -> bool:
        """Renew the token unless someone already did since ``generation``; False if it can't be renewed.

        With a token store, the new token is the shared one when another process already replaced
        the rejected token, else the provider's, fetched once for all processes."""
        async with self._lock:
            if generation != self._generation and self._token is not None:
                return True
            if self._provider is None:
                return False
            if self._store is not None:
                token = await self._store.renew(self._token, self._fetch)
            else:
                token, _ = await self._fetch()
            self._token = token
            self._remember(token)
            self._generation += 1
            return True

    async def _fetch(self) -> tuple[str, float | None]:
        """One provider call: the token and its lifetime (the provider's ``expires_in``, if any)."""
        assert self._provider is not None
        token = await self._provider()
        if not isinstance(token, str) or not token:
            raise TypeError("the access token provider must return a non-empty str")
        self.renewals += 1
        life = getattr(self._provider, "expires_in", None)
        if isinstance(life, bool) or not isinstance(life, int | float) or life <= 0:
            return token, None
        return token, float(life)


class ApiKeyAuth:
    """Legacy Pardot login (email, password, user key), retired by Salesforce in 2021.

    The client logs in at ``/api/login/version/{v}`` and sends
    ``Authorization: Pardot api_key=..., user_key=...``; an expired key (code 1) means one new login.
    """

    legacy = True

    def __init__(self, email: str, password: str, user_key: str) -> None:
        for name, value in (("email", email), ("password", password), ("user_key", user_key)):
            if not isinstance(value, str) or not value:
                shown = "<redacted>" if name != "email" else value
                raise RequestValidationError(name, shown, "a non-empty string")
        self.email = email
        self._password = password
        self._user_key = user_key
        self._api_key: str | None = None
        self._generation = 0
        self._lock = anyio.Lock()
        #: The API version the login said the account must use (4 for AMPSEA accounts), if any.
        self.account_version: int | None = None
        #: How many logins were made.
        self.logins = 0

    @property
    def generation(self) -> int:
        """How many times the api key was renewed by a login."""
        return self._generation

    def __repr__(self) -> str:
        email = getattr(self, "email", "<unset>")
        return f"ApiKeyAuth(email={email!r}, password=<redacted>, user_key=<redacted>)"

    def _secrets(self) -> tuple[str, ...]:
        """Every secret this auth holds: scrubbed from server text before it is shown."""
        held = (getattr(self, name, None) for name in ("_password", "_user_key", "_api_key"))
        return tuple(value for value in held if isinstance(value, str))

    async def headers(self, login: _Login) -> tuple[dict[str, str], int]:
        if self._api_key is None:
            await self.refresh(login, self._generation)
        assert self._api_key is not None
        value = f"Pardot api_key={self._api_key}, user_key={self._user_key}"
        return {"Authorization": value}, self._generation

    async def refresh(self, login: _Login, generation: int) -> bool:
        async with self._lock:
            if generation != self._generation and self._api_key is not None:
                return True
            result = await login(self.email, self._password, self._user_key)
            self._api_key = result.api_key
            self.account_version = result.version
            self._generation += 1
            self.logins += 1
            return True


#: Anything the client accepts as ``auth``.
Auth = BearerAuth | ApiKeyAuth


class SalesforceOAuth:
    """A token provider for :class:`BearerAuth` that asks a Salesforce token endpoint.

    Uses the ``refresh_token`` grant when a refresh token is given, else ``client_credentials``::

        auth = BearerAuth(SalesforceOAuth(token_url, client_id, client_secret, refresh_token=rt), bu_id)
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not isinstance(token_url, str) or not token_url.startswith(("https://", "http://")):
            raise RequestValidationError("token_url", token_url, "an http(s) URL")
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._session = session
        self._timeout = timeout
        #: The ``instance_url`` of the last token issued.
        self.instance_url: str | None = None
        #: The lifetime in seconds of the last token, when the endpoint says (``expires_in``).
        self.expires_in: float | None = None

    def __repr__(self) -> str:
        grant = "refresh_token" if getattr(self, "_refresh_token", None) else "client_credentials"
        url, client = getattr(self, "token_url", "<unset>"), getattr(self, "client_id", "<unset>")
        return f"SalesforceOAuth(token_url={url!r}, client_id={client!r}, grant={grant})"

    def _secrets(self) -> tuple[str, ...]:
        """The client secret and refresh token: scrubbed from server text before it is shown."""
        held = (getattr(self, name, None) for name in ("_client_secret", "_refresh_token"))
        return tuple(value for value in held if isinstance(value, str))

    async def __call__(self) -> str:
        from ._aiohttp import post_form_once

        form = {"client_id": self.client_id, "client_secret": self._client_secret}
        if self._refresh_token:
            form.update(grant_type="refresh_token", refresh_token=self._refresh_token)
        else:
            form["grant_type"] = "client_credentials"
        raw = await post_form_once(self.token_url, form, session=self._session, timeout=self._timeout)
        try:
            data = json.loads(raw.body)
        except ValueError:
            raise ProtocolError(
                "token endpoint did not answer JSON", http_status=raw.status, body=raw.body
            ) from None
        if not isinstance(data, dict):
            raise ProtocolError("token endpoint answered no JSON object", http_status=raw.status)
        token = data.get("access_token")
        if raw.status >= 400 or not isinstance(token, str) or not token:
            raise OAuthError(
                str(data.get("error", "no_access_token")),
                str(data.get("error_description", "no access_token in the answer")),
                raw.status,
            )
        instance = data.get("instance_url")
        self.instance_url = instance if isinstance(instance, str) else None
        life = data.get("expires_in")
        self.expires_in = (
            float(life) if isinstance(life, int | float) and not isinstance(life, bool) else None
        )
        return token
