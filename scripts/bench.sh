#!/usr/bin/env bash
# aeopp side by side with PyPardot4, PyPardotSF and tap-pardot, and with the ideal (benchmarks/).
#
# Installs the three peers exactly as scripts/fidelity.sh does (each into its own
# `pip install --target` directory under benchmarks/.envs/peers/, shared with it: same pins, same
# stamps), and matplotlib into benchmarks/.envs/plot/ for the chart (never into .venv nor the
# runtime deps). All gitignored; a package already installed at its pin is not reinstalled. Then
# runs benchmarks/run.py, which prints the table and writes benchmarks/results/latest.{json,png}.
# Usage: scripts/bench.sh [run.py options, e.g. --quick or --only export,cpu]
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
PEERS_DIR="${AEOPP_PEERS_DIR:-$PWD/benchmarks/.envs/peers}"
PLOT_DIR="$PWD/benchmarks/.envs/plot"
PEERS=("pypardot4==1.1.14" "pypardotsf==0.1.1" "tap-pardot==1.4.9")

if [ ! -x "$VENV/bin/python" ]; then
    echo "bench: creating $VENV (as the Makefile does)"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e '.[dev]'
    touch "$VENV/.installed"
fi

install_target() {  # install_target SPEC TARGET
    local spec="$1" target="$2" stamp="$2/.aeopp-installed"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$spec" ]; then
        return
    fi
    echo "bench: installing $spec into $target"
    rm -rf "$target"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        --target "$target" "$spec" || return 1
    echo "$spec" > "$stamp"
}

mkdir -p "$PEERS_DIR"
for spec in "${PEERS[@]}"; do
    install_target "$spec" "$PEERS_DIR/${spec%%==*}"
done
# The chart is optional: without matplotlib the figures are still printed and written.
install_target "matplotlib" "$PLOT_DIR" || echo "bench: matplotlib unavailable; no chart"

export AEOPP_PEERS_DIR="$PEERS_DIR"
exec "$VENV/bin/python" benchmarks/run.py "$@"
