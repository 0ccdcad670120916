"""Fetch every opportunity with PyPardot4 or PyPardotSF, the way their README tells a user to.

Run as ``python -S pypardot_driver.py`` with ``PYTHONPATH=<target dir of one package>`` and a JSON
job on stdin (simulator URL, credentials, API version, auth kind). Prints one JSON line: the ids
fetched, what each page looked like, the error that stopped the walk (if any) and the requests made.

The README (PyPardot4, kept by PyPardotSF): "Pardot only returns 200 records with each request. Use
``offset`` to retrieve matching records beyond this limit", and iterates ``result['prospect']`` with
``.get(...)``. Only the base URL and the credentials are changed.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _guard


def setup(base_url: str) -> tuple[Any, list[str]]:
    """Guard the network and point the package at ``base_url``; returns its client module and the
    list that records every request path. Also used by benchmarks/peers/pypardot_bench.py."""
    # PyPardotSF's refresh_sf_token() hard-codes login.salesforce.com: send it to the simulator.
    requests_seen = _guard.install({"https://login.salesforce.com": base_url})

    import pypardot.client as client_module

    client_module.BASE_URI = base_url  # the packages' only base-URL setting
    return client_module, requests_seen


def connect(client_module: Any, credentials: dict[str, Any], auth: str, version: int) -> Any:
    """A ``PardotAPI`` made as the READMEs show (legacy keys, or PyPardotSF's OAuth settings)."""
    c = credentials
    if auth == "apikey":
        p = client_module.PardotAPI(
            email=c["email"], password=c["password"], user_key=c["user_key"], version=version
        )
        p.authenticate()
        return p
    # PyPardotSF's README: consumer key/secret, refresh token and business unit id
    return client_module.PardotAPI(
        sf_consumer_key=c["client_id"],
        sf_consumer_secret=c["client_secret"],
        sf_refresh_token=c["refresh_token"],
        business_unit_id=c["business_unit_id"],
        version=version,
    )


def main() -> int:
    job = json.load(sys.stdin)
    client_module, requests_seen = setup(job["base_url"])
    p = connect(client_module, job, job["auth"], job["version"])

    ids: list[Any] = []
    pages: list[dict[str, Any]] = []
    error = None
    offset = 0
    try:
        while True:
            result = p.opportunities.query(offset=offset)
            total = result["total_results"]
            records = result.get("opportunity")
            pages.append({"offset": offset, "total_results": total, "records_type": type(records).__name__})
            for opportunity in records:
                ids.append(opportunity.get("id"))
            offset += 200
            if offset >= total:
                break
    except Exception as e:  # reported to the test, which asserts on it
        error = f"{type(e).__name__}: {e}"
    print(json.dumps({"ids": ids, "pages": pages, "error": error, "requests": requests_seen}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
