# Shared by scripts/fidelity.sh and scripts/bench.sh (source it after `cd` to the project root).
#
# The three peer clients each go into their own `pip install --target` directory under
# benchmarks/.envs/peers/ (gitignored: they all ship a `pypardot` or an old `requests`, so they
# must never share a directory nor touch .venv). A package already installed at its pin is kept.

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
PEERS_DIR="${AEOPP_PEERS_DIR:-$PWD/benchmarks/.envs/peers}"
PEERS=("pypardot4==1.1.14" "pypardotsf==0.1.1" "tap-pardot==1.4.9")

ensure_venv() {  # ensure_venv LABEL: create .venv as the Makefile does, if missing
    if [ ! -x "$VENV/bin/python" ]; then
        echo "$1: creating $VENV (as the Makefile does)"
        "$PYTHON" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
        "$VENV/bin/python" -m pip install --quiet -e '.[dev,speedups]'
        touch "$VENV/.installed"
    fi
}

install_target() {  # install_target LABEL SPEC TARGET
    local label="$1" spec="$2" target="$3" stamp="$3/.aeopp-installed"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$spec" ]; then
        echo "$label: $spec already in $target"
        return
    fi
    echo "$label: installing $spec into $target"
    rm -rf "$target"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        --target "$target" "$spec" || return 1
    echo "$spec" > "$stamp"
}

install_peers() {  # install_peers LABEL
    mkdir -p "$PEERS_DIR"
    local spec
    for spec in "${PEERS[@]}"; do
        install_target "$1" "$spec" "$PEERS_DIR/${spec%%==*}"
    done
    export AEOPP_PEERS_DIR="$PEERS_DIR"
}
