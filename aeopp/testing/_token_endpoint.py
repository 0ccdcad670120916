"""Salesforce's OAuth token endpoint (``/services/oauth2/token``), as far as Pardot clients use it.

Grants: ``refresh_token``, ``client_credentials`` and ``password``. Salesforce reads the grant from
the query string or the form body, and the client from the body or HTTP Basic auth (tap-pardot
sends the query string and Basic auth). Failures are JSON ``{"error", "error_description"}`` with
HTTP 400; a success issues a new bearer token the API accepts at once.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

from aiohttp import web

from ._call import same_secret
from ._state import SimulatorCredentials, SimulatorSettings, SimulatorStats

__all__ = ["TokenEndpoint", "new_access_token"]


def new_access_token() -> str:
    """A fresh, unguessable access token in Salesforce's shape (org id, ``!``, then the secret)."""
    return "00DSIM0000000001!" + secrets.token_urlsafe(48)


class TokenEndpoint:
    """The token endpoint (:meth:`handle` is its aiohttp handler); ``register_token`` makes a token valid."""

    def __init__(
        self,
        settings: SimulatorSettings,
        stats: SimulatorStats,
        credentials: Callable[[], SimulatorCredentials],
        register_token: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self.stats = stats
        self._credentials = credentials
        self._register_token = register_token

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer a token request: refresh_token, client_credentials and password grants."""
        self.stats.requests += 1
        self.stats.requests_by_operation["token"] += 1
        if request.method != "POST":
            return web.json_response(
                {"error": "invalid_request", "error_description": "must use HTTP POST"}, status=400
            )
        params = await _grant_params(request)
        cred = self._credentials()
        grant = params.get("grant_type", "")

        def fail(error: str, description: str) -> web.Response:
            return web.json_response({"error": error, "error_description": description}, status=400)

        if grant not in ("refresh_token", "client_credentials", "password"):
            return fail("unsupported_grant_type", "grant type not supported")
        if not same_secret(params.get("client_id", ""), cred.client_id):
            return fail("invalid_client_id", "client identifier invalid")
        if not same_secret(params.get("client_secret", ""), cred.client_secret):
            return fail("invalid_client", "invalid client credentials")
        if grant == "refresh_token" and not same_secret(params.get("refresh_token", ""), cred.refresh_token):
            return fail("invalid_grant", "expired access/refresh token")
        if grant == "password" and not (
            same_secret(params.get("username", ""), cred.email)
            and same_secret(params.get("password", ""), cred.password)
        ):
            return fail("invalid_grant", "authentication failure")
        token = new_access_token()
        self._register_token(token)
        issued = self.settings.clock()
        return web.json_response(
            {
                "access_token": token,
                "instance_url": cred.base_url,
                "id": cred.base_url + "/id/00DSIM0000000001AAA/005SIM0000000001AAA",
                "token_type": "Bearer",
                "issued_at": str(int(issued.timestamp() * 1000)),
                "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
            }
        )


async def _grant_params(request: web.Request) -> dict[str, str]:
    """The query string, then the form body over it, then the client from HTTP Basic auth if absent."""
    params = {k: str(v) for k, v in request.query.items()}
    if request.can_read_body:
        params.update((k, str(v)) for k, v in (await request.post()).items())
    basic = request.headers.get("Authorization", "")
    if basic[:6].lower() == "basic ":
        try:
            client_id, _, client_secret = base64.b64decode(basic[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            client_id = client_secret = ""
        params.setdefault("client_id", client_id)
        params.setdefault("client_secret", client_secret)
    return params
