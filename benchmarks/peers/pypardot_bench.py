"""Time PyPardot4 or PyPardotSF fetching every opportunity, the way their README tells a user to.

Run as ``python -S pypardot_bench.py`` with ``PYTHONPATH=<target dir of one package>`` and a JSON
job on stdin (simulator URL, credentials, auth kind, API version). Prints one JSON line:
``{"records", "seconds", "error"}``. The clock starts after the imports (interpreter start-up is
not counted against the peer) and covers authentication and the whole offset walk, as a user's
script would run them: ``p.opportunities.query(offset=...)`` in steps of 200 until
``total_results`` (the README: "Use ``offset`` to retrieve matching records beyond this limit").
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _guard


def main() -> int:
    job = json.load(sys.stdin)
    base_url: str = job["base_url"]
    c = job["credentials"]
    # PyPardotSF's refresh_sf_token() hard-codes login.salesforce.com: send it to the simulator.
    _guard.install({"https://login.salesforce.com": base_url})

    import pypardot.client as client_module

    client_module.BASE_URI = base_url  # the packages' only base-URL setting
    records = 0
    error = None
    start = time.perf_counter()
    try:
        if job["auth"] == "apikey":
            p = client_module.PardotAPI(
                email=c["email"], password=c["password"], user_key=c["user_key"], version=job["version"]
            )
            p.authenticate()
        else:  # PyPardotSF's README: consumer key/secret, refresh token and business unit id
            p = client_module.PardotAPI(
                sf_consumer_key=c["client_id"],
                sf_consumer_secret=c["client_secret"],
                sf_refresh_token=c["refresh_token"],
                business_unit_id=c["business_unit_id"],
                version=job["version"],
            )
        offset = 0
        while True:
            result = p.opportunities.query(offset=offset)
            total = result["total_results"]
            for opportunity in result.get("opportunity"):
                if opportunity.get("id") is not None:
                    records += 1
            offset += 200
            if offset >= total:
                break
    except Exception as e:
        error = type(e).__name__
    seconds = time.perf_counter() - start
    print(json.dumps({"records": records, "seconds": seconds, "error": error}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
