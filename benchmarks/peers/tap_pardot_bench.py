"""Time tap-pardot's ``opportunities`` stream in sync mode against the simulator.

Run as ``python -S tap_pardot_bench.py`` with ``PYTHONPATH=<tap-pardot target dir>`` and a JSON job
on stdin: ``{"base_url", "token_url", "config", "workdir", "result"}``. As in
tests/peers/drivers/tap_pardot_driver.py, it points the tap's three URL constants at the simulator,
writes the config and a catalog selecting only ``opportunities`` (the tap's own ``discover``, whose
one describe call is answered by a stub), then runs ``tap_pardot.main()`` as the README's
``tap-pardot --config ... --catalog ...`` would. Singer messages go to stdout (the parent counts the
RECORD lines, as a Singer target would read them); the seconds spent in ``main()`` alone (the sync:
login, every page, every message written) go to the ``result`` file as JSON.
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

from tap_pardot_driver import prepare


def main() -> int:
    job = json.load(sys.stdin)
    prepare(job)
    import tap_pardot

    error = None
    start = time.perf_counter()
    try:
        tap_pardot.main()
    except Exception as e:
        error = type(e).__name__
    seconds = time.perf_counter() - start
    sys.stdout.flush()
    with open(job["result"], "w", encoding="utf-8") as f:
        json.dump({"seconds": seconds, "error": error}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
