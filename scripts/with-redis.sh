#!/usr/bin/env bash
# Runs CMD... with a throwaway redis-server: loopback, a free port, a temporary directory, no
# persistence. Its URL is exported as AEOPP_TEST_REDIS_URL; the server is stopped afterwards, even
# when CMD fails or the script is interrupted. Without redis-server, installs it with apt-get when
# running as root, else stops with one line saying how to install it.
# Usage: scripts/with-redis.sh CMD [ARGS...]
set -euo pipefail

if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "with-redis: installing redis-server (apt-get)" >&2
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else
        echo "with-redis: redis-server is missing: install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)" >&2
        exit 1
    fi
fi

dir="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save '' --appendonly no \
    --daemonize no --logfile "$dir/redis.log" &
pid=$!
for _ in $(seq 100); do
    if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "with-redis: redis-server did not start:" >&2; cat "$dir/redis.log" >&2; exit 1; fi
    sleep 0.05
done

export AEOPP_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
status=0
"$@" || status=$?
exit "$status"
