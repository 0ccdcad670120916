"""Network guard shared by the peer drivers: loopback only, hard-coded Salesforce hosts redirected.

Runs inside the peer's subprocess (``python -S`` with ``PYTHONPATH=<peer target dir>``), so it may
import only the standard library and ``requests`` from that target.
"""

from __future__ import annotations

import urllib.parse
from typing import Any


def install(redirects: dict[str, str]) -> list[str]:
    """Rewrite URLs starting with a key of ``redirects``; refuse any URL not on 127.0.0.1.

    Returns the list that records every URL path requested (no query strings, so no secrets).
    """
    import requests.sessions

    seen: list[str] = []
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
        seen.append(f"{method.upper()} {urllib.parse.urlsplit(url).path}")
        return original(self, method, url, *args, **kwargs)

    requests.sessions.Session.request = request  # type: ignore[method-assign]
    return seen
