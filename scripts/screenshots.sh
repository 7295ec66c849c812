#!/usr/bin/env bash
# Pictures of the real pages for the README: starts the server on a fresh SQLite file with the
# demo restaurant and has headless Chromium save each page at a phone's and a laptop's size.
#
#   scripts/screenshots.sh [OUT_DIR]      # default docs/screenshots
#
# Pages behind a login (the console's menu, the kitchen display) show their login form here;
# the browser tests in crates/diancan/tests/e2e drive those.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT="${1:-docs/screenshots}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET_DIR/debug/diancan"

[[ -x "$CHROMIUM" ]] || { echo "needs $CHROMIUM (apt-get install chromium fonts-noto-cjk)" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
trap '[[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

cargo build --locked -p diancan --bin diancan >&2
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
RUST_LOG=warn "$BIN" --database-url "sqlite://$work/shots.db" serve --listen "127.0.0.1:$port" \
    >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 240); do
    grep -q '/t/' "$work/server.log" 2>/dev/null && curl -fs "$base/healthz" >/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.25
done

# The start-up banner names the demo table and store.
table_path=$(grep -o '/t/[A-Za-z0-9_-]*' "$work/server.log" | head -1)
store_id=$(curl -fs "$base/api/v1/stores" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')

mkdir -p "$OUT"
shoot() {
    local name="$1" path="$2" size="$3" scale="$4"
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --disable-background-networking --disable-component-update --disable-sync \
        --no-first-run --hide-scrollbars --lang=zh-CN --user-data-dir="$work/profile" \
        --window-size="$size" --force-device-scale-factor="$scale" \
        --virtual-time-budget=5000 --screenshot="$OUT/$name.png" "$base$path" \
        >/dev/null 2>&1
    echo "$OUT/$name.png"
}

for page in "stores:/" "table:$table_path" "takeaway:/s/$store_id" "console:/console/" \
    "kitchen:/kitchen?store=$store_id" "api-docs:/api/v1/docs"; do
    name="${page%%:*}"
    path="${page#*:}"
    shoot "$name-phone" "$path" 390,844 2
    shoot "$name-laptop" "$path" 1280,800 1
done
