"""Loopback-only guard for the peer drivers (the same rules as tests/peers/drivers/_guard.py).

Runs inside the peer's subprocess (``python -S`` with ``PYTHONPATH=<peer target dir>``), so it may
import only the standard library and ``requests`` from that target. It adds one ``urlsplit`` per
request, which is noise next to a request.
"""

from __future__ import annotations

import urllib.parse
from typing import Any


def install(redirects: dict[str, str]) -> None:
    """Rewrite URLs starting with a key of ``redirects``; refuse any URL not on 127.0.0.1."""
    import requests.sessions

    original = requests.sessions.Session.request

    def request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        for prefix, target in redirects.items():
            if url.startswith(prefix):
                url = target + url[len(prefix) :]
                break
        host = urllib.parse.urlsplit(url).hostname
        if host != "127.0.0.1":
            raise RuntimeError(
                f"peer driver refused a request to {host!r}: only the simulator may be reached"
            )
        return original(self, method, url, *args, **kwargs)

    requests.sessions.Session.request = request  # type: ignore[method-assign]
