"""Draw benchmarks/results/latest.png from latest.json: (1) export times, (2) wall time over ideal.

Run by run.py with ``PYTHONPATH=benchmarks/.envs/plot`` (matplotlib lives there, never in the
runtime dependencies): ``python chart.py latest.json latest.png``.
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main(path_json: str, path_png: str) -> None:
    with open(path_json, encoding="utf-8") as f:
        result = json.load(f)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [3, 2]})
    export = result.get("export", [])
    clients = list(dict.fromkeys(r["client"] for r in export))
    latencies = sorted({r["latency_ms"] for r in export})
    width = 0.8 / max(1, len(latencies))
    for i, latency in enumerate(latencies):
        by_client = {r["client"]: r for r in export if r["latency_ms"] == latency}
        xs = [c + (i - (len(latencies) - 1) / 2) * width for c in range(len(clients))]
        ys = [by_client[name]["median_s"] if name in by_client else 0 for name in clients]
        bars = ax1.bar(xs, ys, width, label=f"{latency} ms latency")
        for bar, name in zip(bars, clients, strict=False):
            ratio = by_client.get(name, {}).get("ratio_to_aeopp")
            if ratio:
                ax1.annotate(
                    f"{ratio:.1f}x",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    ax1.set_xticks(range(len(clients)))
    ax1.set_xticklabels(clients, rotation=30, ha="right", fontsize=8)
    ax1.set_ylabel("seconds (median)")
    ax1.set_title("(1) Full export of 20,000 opportunities\nlabels: time / aeopp json offset")
    ax1.legend()
    eff = result.get("efficiency")
    if eff:
        rows = eff["rows"]
        cs = [r["max_concurrency"] for r in rows]
        ax2.plot(cs, [r["median_s"] for r in rows], "o-", label="aeopp (median)")
        ax2.plot(cs, [r["ideal_s"] for r in rows], "k--", label="ideal: latency x (1 + ceil((pages-1)/c))")
        ax2.plot(cs, [r["ideal_s"] * 1.15 for r in rows], ":", color="grey", label="goal: 1.15 x ideal")
        for r in rows:
            ax2.annotate(
                f"{r['ratio_to_ideal']:.2f}x",
                (r["max_concurrency"], r["median_s"]),
                textcoords="offset points",
                xytext=(4, 6),
                fontsize=8,
            )
        ax2.set_xticks(cs)
        ax2.set_xlabel("max_concurrency")
        ax2.set_ylabel("seconds")
        ax2.set_title(f"(2) {eff['pages']} pages at {eff['latency_s'] * 1000:g} ms: wall vs ideal")
        ax2.legend(fontsize=8)
    fig.suptitle(
        f"aeopp {result['versions'].get('aeopp')} - {result['date']} - "
        f"{result['machine']['cpu']} x{result['machine']['cpus']}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path_png, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
