#!/usr/bin/env bash
# aeopp side by side with PyPardot4, PyPardotSF and tap-pardot, and with the ideal (benchmarks/).
#
# Installs the peers as scripts/fidelity.sh does (scripts/_peers.sh: the same directories, pins
# and stamps), and matplotlib into benchmarks/.envs/plot/ for the chart (never into .venv nor the
# runtime deps). Then runs benchmarks/run.py, which prints the table and writes
# benchmarks/results/latest.{json,png}.
# Usage: scripts/bench.sh [run.py options, e.g. --quick or --only export,cpu]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_peers.sh

ensure_venv bench
install_peers bench
# The chart is optional: without matplotlib the figures are still printed and written.
install_target bench matplotlib "$PWD/benchmarks/.envs/plot" || echo "bench: matplotlib unavailable; no chart"
exec "$VENV/bin/python" benchmarks/run.py "$@"
