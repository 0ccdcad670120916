"""aeopp's HTTP transport on aiohttp: the only module importing the aiohttp client.

It sends a :class:`~aeopp.RawRequest` and reads the whole answer, capped at the request's
``max_response_bytes``; building requests and reading answers happen elsewhere, without I/O.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp

from ._config import Timeout
from ._transport import RawRequest, RawResponse
from ._version import __version__
from .errors import ProtocolError, TransportError

__all__ = ["AiohttpTransport", "post_form_once"]

USER_AGENT = f"aeopp/{__version__}"
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: More headers than this make an answer malformed (Pardot sends about fifteen).
MAX_HEADERS = 256


class AiohttpTransport:
    """A :class:`~aeopp.Transport` over one :class:`aiohttp.ClientSession`.

    The session is created at the first request (inside the running loop) unless one is given, in
    which case it belongs to the caller and is never closed here. ``pool_size`` caps the open
    connections (keep it at or above the client's ``max_concurrency``); ``trust_env`` lets aiohttp
    read proxies (``HTTPS_PROXY``, ``NO_PROXY``) and ``.netrc`` from the environment.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        pool_size: int = 10,
        trust_env: bool = False,
    ) -> None:
        self._session = session
        self._owns_session = session is None
        self._max_response_bytes = max_response_bytes
        self._pool_size = pool_size
        self._trust_env = trust_env
        self._closed = False

    def __repr__(self) -> str:
        return f"<AiohttpTransport pool_size={self._pool_size} owns_session={self._owns_session}>"

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this transport is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0),
                timeout=aiohttp.ClientTimeout(total=None),
                headers={"User-Agent": USER_AGENT},
                trust_env=self._trust_env,
            )
        return self._session

    async def aclose(self) -> None:
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    async def send(self, request: RawRequest) -> RawResponse:
        cap = request.max_response_bytes
        return await _send(
            self._open(),
            request.method,
            request.url,
            request.headers,
            request.body,
            self._max_response_bytes if cap is None else min(cap, self._max_response_bytes),
            _timeout(request.timeout),
            operation=request.operation or "the request",
        )


async def _send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    max_bytes: int,
    timeout: aiohttp.ClientTimeout | None = None,
    operation: str = "the request",
) -> RawResponse:
    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    try:
        async with session.request(
            method, url, headers=dict(headers), data=body or None, allow_redirects=False, **extra
        ) as response:
            status = response.status
            if len(response.raw_headers) > MAX_HEADERS:  # older aiohttp parsers take any number
                raise ProtocolError(
                    f"malformed HTTP answer from {_origin(url)}: {len(response.raw_headers):,} headers",
                    http_status=status,
                )
            length = response.content_length
            if length is not None and length > max_bytes:
                raise ProtocolError(
                    f"the answer to {operation} ({length:,} bytes) exceeds the {max_bytes:,}-byte cap",
                    http_status=status,
                )
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_chunked(256 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise ProtocolError(
                        f"the answer to {operation} exceeds the {max_bytes:,}-byte cap",
                        http_status=status,
                        body=chunks[0] if chunks else chunk,
                    )
                chunks.append(chunk)
            head = {k.lower(): v for k, v in response.headers.items()}
            return RawResponse(status, head, b"".join(chunks))
    except aiohttp.ConnectionTimeoutError as exc:
        raise TransportError(f"could not connect to {_origin(url)} in time", request_sent=False) from exc
    except aiohttp.SocketTimeoutError as exc:
        raise TransportError(f"{_origin(url)} stopped answering ({operation})", request_sent=True) from exc
    except aiohttp.ClientConnectorError as exc:
        raise TransportError(f"cannot connect to {_origin(url)}: {exc.os_error}", request_sent=False) from exc
    except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
        raise TransportError(
            f"connection to {_origin(url)} lost before the answer was complete ({type(exc).__name__})",
            request_sent=True,
        ) from exc
    except aiohttp.ClientResponseError as exc:
        # An answer that breaks HTTP itself (a bad status line, headers too long or too many): it
        # would break the same way again, so it is a ProtocolError, never retried.
        reason = str(exc.message).strip().splitlines()[0][:120] if exc.message else type(exc).__name__
        raise ProtocolError(f"malformed HTTP answer from {_origin(url)}: {reason}") from exc
    except aiohttp.ClientError as exc:
        raise TransportError(f"HTTP error talking to {_origin(url)}: {exc!r}", request_sent=True) from exc
    except asyncio.TimeoutError as exc:  # only with an aiohttp timeout (token endpoints)
        raise TransportError(f"no answer from {_origin(url)} in time", request_sent=True) from exc


def _timeout(timeout: Timeout | None) -> aiohttp.ClientTimeout | None:
    """aiohttp's form of a Timeout's connect and read limits (the client enforces ``total``)."""
    if timeout is None or (timeout.connect is None and timeout.read is None):
        return None
    return aiohttp.ClientTimeout(total=None, sock_connect=timeout.connect, sock_read=timeout.read)


def _origin(url: str) -> str:
    """Scheme and host only: a URL's path and query could name an email address."""
    head, _, rest = url.partition("://")
    return f"{head}://{rest.split('/', 1)[0]}"


async def post_form_once(
    url: str, form: Mapping[str, str], *, session: aiohttp.ClientSession | None = None, timeout: float = 30.0
) -> RawResponse:
    """POST a form and read the answer, on ``session`` or on a short-lived one (token endpoints)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    body = urlencode(dict(form)).encode()
    limit = aiohttp.ClientTimeout(total=timeout)
    if session is not None:
        return await _send(session, "POST", url, headers, body, DEFAULT_MAX_RESPONSE_BYTES, limit)
    async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as own:
        return await _send(own, "POST", url, headers, body, DEFAULT_MAX_RESPONSE_BYTES, limit)


# Public as aeopp.AiohttpTransport: reprs, tracebacks and pickles say so.
AiohttpTransport.__module__ = "aeopp"
