"""Peak RSS of one full ``query()`` walk, in a fresh process (the memory figure of the benchmark).

Run as ``python benchmarks/walk_rss.py`` with a JSON job on stdin (``base_url``, ``access_token``,
``business_unit_id``, ``wire_format``). Prints one JSON line: records walked, seconds, the peak
RSS after the imports and the peak RSS after the walk, in KiB: ``VmHWM`` from /proc/self/status
where it exists (it starts afresh at exec), else ``ru_maxrss``, which on Linux keeps the peak of the
forked parent (the benchmark process) and so would hide the walk's own figure.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time

import aeopp


async def walk(job: dict[str, str]) -> int:
    auth = aeopp.BearerAuth(access_token=job["access_token"], business_unit_id=job["business_unit_id"])
    records = 0
    client = aeopp.OpportunityClient(
        auth=auth,
        base_url=job["base_url"],
        wire_format=job["wire_format"],  # type: ignore[arg-type]
    )
    async with client, client.query() as opportunities:
        async for _ in opportunities:
            records += 1
    return records


def peak_kib() -> tuple[int, str]:
    """The process's peak resident set size so far, in KiB, and where it came from."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]), "VmHWM"
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "ru_maxrss"


def main() -> None:
    job = json.load(sys.stdin)
    before, _ = peak_kib()
    start = time.perf_counter()
    records = asyncio.run(walk(job))
    seconds = time.perf_counter() - start
    peak, source = peak_kib()
    print(
        json.dumps(
            {
                "records": records,
                "seconds": seconds,
                "rss_before_kib": before,
                "peak_rss_kib": peak,
                "source": source,
            }
        )
    )


if __name__ == "__main__":
    main()
