"""The transport contract: how the client hands a request to HTTP and gets the answer back.

A transport sends a :class:`RawRequest` and returns a :class:`RawResponse` (status, headers, whole
body); building requests and reading answers happen elsewhere, without I/O. aeopp's own transport
speaks aiohttp (``_aiohttp.AiohttpTransport``); :class:`MockTransport` answers in memory from a
function, for unit tests of code that uses the client.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol, runtime_checkable

import attrs

from ._config import Timeout

__all__ = ["MockTransport", "RawRequest", "RawResponse", "Transport"]

#: Header names whose values never appear in a repr.
_SECRET_HEADERS = frozenset({"authorization", "pardot-business-unit-id", "cookie"})


def _headers_repr(headers: Mapping[str, str]) -> str:
    shown = {k: ("<redacted>" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}
    return repr(shown)


def _body_repr(body: bytes) -> str:
    return f"<{len(body)} bytes>"


@attrs.frozen
class RawRequest:
    """One HTTP request, ready to send: method, full URL, headers and body.

    ``operation`` says which API call it is (``read``, ``query``, ``login``, ...);
    ``max_response_bytes`` is the largest answer the client accepts for it (a transport should stop
    reading beyond it and raise :class:`~aeopp.ProtocolError`); ``timeout`` the attempt's
    :class:`~aeopp.Timeout` (the client enforces ``total`` itself; a transport should apply
    ``connect`` and ``read`` if its HTTP library can). The repr hides credentials.
    """

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=_headers_repr)
    body: bytes = attrs.field(default=b"", repr=_body_repr)
    operation: str = ""
    max_response_bytes: int | None = None
    timeout: Timeout | None = None


@attrs.frozen
class RawResponse:
    """An HTTP answer: status, headers with lower-cased names, and the whole body."""

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = attrs.field(default=b"", repr=_body_repr)


@runtime_checkable
class Transport(Protocol):
    """What the client needs from HTTP. Implement it to plug in another HTTP library or a fake.

    ``send`` returns every answer, whatever its status, without following redirects, and raises
    :class:`~aeopp.TransportError` for network failures (``request_sent`` telling whether the
    request may have reached the server).
    """

    async def send(self, request: RawRequest) -> RawResponse:
        """Send one request and read the whole answer."""
        ...

    async def aclose(self) -> None:
        """Release the connections (a no-op for a session the caller owns)."""
        ...


#: A MockTransport's handler: a request in, an answer (or an awaitable of one) out.
Handler = Callable[[RawRequest], "RawResponse | Awaitable[RawResponse]"]


class MockTransport:
    """A :class:`Transport` that answers from ``handler`` in memory, for unit tests.

    ``handler`` takes the :class:`RawRequest` and returns a :class:`RawResponse` (or awaits one);
    it may raise :class:`~aeopp.TransportError` to play a network failure. Every request is kept in
    ``requests``::

        def handler(request: aeopp.RawRequest) -> aeopp.RawResponse:
            body = b'{"@attributes": {"stat": "ok"}, "opportunity": {"id": 7, "name": "Seven"}}'
            return aeopp.RawResponse(200, {"content-type": "application/json"}, body)

        client = aeopp.OpportunityClient(auth=auth, transport=aeopp.MockTransport(handler))
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        #: Every request sent, in order.
        self.requests: list[RawRequest] = []
        #: Whether the client closed it.
        self.closed = False

    def __repr__(self) -> str:
        return f"<MockTransport requests={len(self.requests)} closed={self.closed}>"

    async def send(self, request: RawRequest) -> RawResponse:
        self.requests.append(request)
        answer = self._handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        if not isinstance(answer, RawResponse):
            raise TypeError(f"a MockTransport handler must return a RawResponse, not {type(answer).__name__}")
        return answer

    async def aclose(self) -> None:
        self.closed = True


# Public as aeopp.RawRequest, ...: reprs, tracebacks and pickles say so.
RawRequest.__module__ = "aeopp"
RawResponse.__module__ = "aeopp"
Transport.__module__ = "aeopp"
MockTransport.__module__ = "aeopp"
