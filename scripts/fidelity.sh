#!/usr/bin/env bash
# Fidelity of the simulator, measured with Pardot clients we did not write: installs PyPardot4,
# PyPardotSF and tap-pardot (see scripts/_peers.sh), then runs the `peers` tests.
# Usage: scripts/fidelity.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_peers.sh

ensure_venv fidelity
install_peers fidelity
exec "$VENV/bin/python" -m pytest -m peers tests/peers -q "$@"
