"""Run tap-pardot's ``opportunities`` stream in sync mode against the simulator.

Run as ``python -S tap_pardot_driver.py`` with ``PYTHONPATH=<tap-pardot target dir>`` and a JSON job
on stdin: ``{"base_url", "token_url", "config": {...tap config...}, "workdir"}``. It points the
tap's three URL constants at the simulator, writes the config and a catalog selecting only
``opportunities`` (built by the tap's own ``discover``, whose one describe call, for the dynamic
``prospect_accounts`` schema, is answered by a stub since the simulator serves opportunities only),
then runs the tap's ``main()`` as ``tap-pardot --config ... --catalog ...``. Singer messages go to
stdout, logs to stderr, exactly as with the installed ``tap-pardot`` command.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _guard


class _DescribeStub:
    """Stands in for the client during discovery: the simulator has no prospectAccount object."""

    def describe(self, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        return {"result": {"field": []}}


def _catalog() -> dict[str, Any]:
    from tap_pardot.discover import discover

    catalog: dict[str, Any] = discover(_DescribeStub()).to_dict()
    streams = [s for s in catalog["streams"] if s["tap_stream_id"] == "opportunities"]
    for entry in streams[0]["metadata"]:
        if len(entry["breadcrumb"]) == 0:
            entry["metadata"]["selected"] = True
    return {"streams": streams}


def prepare(job: dict[str, Any]) -> None:
    """Guard the network, point the tap at the simulator, write its config and catalog and set
    ``sys.argv``; ``tap_pardot.main()`` then runs. Also used by benchmarks/peers/tap_pardot_bench.py."""
    base_url: str = job["base_url"]
    _guard.install({})

    import tap_pardot.client as client_module

    client_module.AUTH_URL = base_url + "/api/login/version/3"
    client_module.ENDPOINT_BASE = base_url + "/api/"
    client_module.REFRESH_URL = job["token_url"]

    config_path = os.path.join(job["workdir"], "config.json")
    catalog_path = os.path.join(job["workdir"], "catalog.json")
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(job["config"], f)
    with open(catalog_path, "w", encoding="utf-8") as f:
        json.dump(_catalog(), f)
    sys.argv = ["tap-pardot", "--config", config_path, "--catalog", catalog_path]


def main() -> int:
    prepare(json.load(sys.stdin))
    import tap_pardot

    tap_pardot.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
