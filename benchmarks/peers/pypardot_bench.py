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

# The fidelity tests' drivers hold the setup (network guard, base URLs, credentials): reuse it.
sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "peers", "drivers")
)

from pypardot_driver import connect, setup


def main() -> int:
    job = json.load(sys.stdin)
    client_module, _ = setup(job["base_url"])
    records = 0
    error = None
    start = time.perf_counter()
    try:
        p = connect(client_module, job["credentials"], job["auth"], job["version"])
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
