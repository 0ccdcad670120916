#!/usr/bin/env bash
# Fidelity of the simulator, measured with Pardot clients we did not write.
#
# Installs PyPardot4, PyPardotSF and tap-pardot, each into its own `pip install --target`
# directory under benchmarks/.envs/peers/ (gitignored; they all ship a `pypardot` or old
# `requests`, so they must never share a directory nor touch .venv), then runs the `peers` tests.
# Idempotent: a package already installed at the pinned version is not reinstalled.
# Usage: scripts/fidelity.sh [extra pytest args]
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
PEERS_DIR="${AEOPP_PEERS_DIR:-$PWD/benchmarks/.envs/peers}"
PEERS=("pypardot4==1.1.14" "pypardotsf==0.1.1" "tap-pardot==1.4.9")

if [ ! -x "$VENV/bin/python" ]; then
    echo "fidelity: creating $VENV (as the Makefile does)"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e '.[dev]'
    touch "$VENV/.installed"
fi

mkdir -p "$PEERS_DIR"
for spec in "${PEERS[@]}"; do
    name="${spec%%==*}"
    target="$PEERS_DIR/$name"
    stamp="$target/.aeopp-installed"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$spec" ]; then
        echo "fidelity: $spec already in $target"
        continue
    fi
    echo "fidelity: installing $spec into $target"
    rm -rf "$target"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        --target "$target" "$spec"
    echo "$spec" > "$stamp"
done

export AEOPP_PEERS_DIR="$PEERS_DIR"
exec "$VENV/bin/python" -m pytest -m peers tests/peers -q "$@"
