#!/usr/bin/env bash
# Fuzzes the API against its own OpenAPI document (schemathesis, every check and every phase, as
# the demo owner): an undocumented status, a request the schema allows but the API refuses, one it
# forbids but the API takes, a response that breaks its schema or a server error fails the run.
# Bounded to about two minutes; seeded, so a finding reproduces.
# Usage: scripts/fuzz-api.sh [extra schemathesis flags]
# FUZZ_SECONDS (default 110) is the whole run's budget; FUZZ_SEED (default 1) the seed.
# scripts/fuzz/schemathesis.toml and scripts/fuzz/hooks.py say where a schema-valid request may
# still get a 422 (a random id that names nothing, a closed store) and why.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v schemathesis >/dev/null || {
    printf 'needs schemathesis: pip install -r scripts/fuzz/requirements.txt\n' >&2
    exit 1
}

# FUZZ_BIN: an already built binary (CI passes the one its test step built); else a debug build.
BIN="${FUZZ_BIN:-}"
if [[ -z "$BIN" ]]; then
    BIN="${CARGO_TARGET_DIR:-target}/debug/diancan"
    printf '== building the debug binary\n' >&2
    cargo build --locked -p diancan --bin diancan >&2
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# A fresh database each run: the fuzzer creates, edits and deletes whatever the owner may.
RUST_LOG="${RUST_LOG:-warn}" "$BIN" --database-url "sqlite://$work/fuzz.db" serve \
    --listen "127.0.0.1:$port" --demo >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 400); do
    curl -fs "$base/healthz" >/dev/null 2>&1 && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$work/server.log" >&2
        exit 1
    fi
    sleep 0.25
done

# A bearer token, as devices use: cookie requests would also need an Origin on every write.
token=$(curl -fsS "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"login":"owner","password":"diancan123"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

# A diner too, so the customer routes (favourites, order history, placing as a member) are
# exercised past their 401: the demo's WeChat login simulator takes any `sim-…` code. The diner
# rides along as the session cookie; with the staff token in `Authorization` no write needs an
# Origin.
store=$(curl -fsS "$base/api/v1/stores" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
diner=$(curl -fsS "$base/api/v1/stores/$store/customer/wechat-login" \
    -H 'content-type: application/json' -d '{"code":"sim-fuzz"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

# The demo menu as this server exports it: the file the fuzzer uploads to the menu import.
curl -fsS "$base/api/v1/console/menu/export?format=csv" -H "Authorization: Bearer $token" \
    -o "$work/menu.csv"

status=0
# Left out: logging in (staff and diners) and asking for codes, which count failures and would
# lock the fuzzer out, and logging out, which would end the session it runs under.
# Run from the scratch directory: schemathesis keeps its state in ./.schemathesis.
# One worker: hypothesis describes strategies by parsing lambda sources, and CPython 3.11.7's AST
# constructor is not thread-safe (cpython#113035, fixed in 3.11.8), which broke the coverage
# phase on two workers ("AST constructor recursion depth mismatch").
fuzz_dir="$PWD/scripts/fuzz"
(cd "$work" && FUZZ_MENU_CSV="$work/menu.csv" SCHEMATHESIS_HOOKS="$fuzz_dir/hooks.py" \
    schemathesis --config-file "$fuzz_dir/schemathesis.toml" run "$base/api/v1/openapi.json" \
    --checks all \
    --phases examples,coverage,fuzzing,stateful \
    --header "Authorization: Bearer $token" \
    --header "Cookie: diancan_customer=$diner" \
    --exclude-path-regex '^/api/v1/(auth/(login|logout)|customer/logout|stores/\{store_id\}/customer/(login|otp|wechat-login))$' \
    --seed "${FUZZ_SEED:-1}" \
    --max-time "${FUZZ_SECONDS:-110}" \
    --workers 1 \
    --request-timeout 10 \
    --suppress-health-check all \
    --generation-database none \
    --no-color \
    "$@") || status=$?

# A server error the fuzzer could not see (a panic on a background task) is a finding too.
if grep -E 'panicked|ERROR' "$work/server.log" >&2; then
    printf '!!!! the server logged errors while fuzzed\n' >&2
    status=1
fi
exit "$status"
