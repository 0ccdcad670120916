"""What every handler of the simulator shares: a routed call, a failure code and an answer's body."""

from __future__ import annotations

import hmac

import attrs
from aiohttp import web

__all__ = ["ApiError", "Call", "respond", "same_secret"]


class ApiError(Exception):
    """A Pardot failure answer: ``code`` with its standard message."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@attrs.define
class Call:
    """What one request asked for, once routed."""

    kind: str  # "opportunity" or "login"
    operation: str
    version: int | None
    params: dict[str, str]
    fmt: str


def respond(text: str, fmt: str, status: int = 200) -> web.Response:
    """An answer's body in the call's format (``json``, else XML)."""
    if fmt == "json":
        return web.Response(body=text.encode(), status=status, headers={"Content-Type": "application/json"})
    return web.Response(
        body=text.encode(), status=status, headers={"Content-Type": "text/xml; charset=utf-8"}
    )


def same_secret(given: str, expected: str) -> bool:
    """Whether a credential sent matches the expected one (compared in constant time)."""
    return hmac.compare_digest(given.encode(), expected.encode())
