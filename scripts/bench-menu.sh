#!/usr/bin/env bash
# How much the public menu costs next to a trivial endpoint, on SQLite and on PostgreSQL.
# Starts the release server on loopback with the demo restaurant (a fresh SQLite file, then a
# fresh PostgreSQL database `diancan_bench`), loads it with wrk, and prints a markdown table.
#
#   scripts/bench-menu.sh                  # 15 s per run, 64 connections, 2 wrk threads
#   BENCH_DURATION=5s scripts/bench-menu.sh
#
# Progress goes to stderr, the table to stdout. wrk and the server share the machine's cores,
# so the figures are for comparing endpoints and backends, not a capacity claim.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION="${BENCH_DURATION:-15s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
THREADS="${BENCH_THREADS:-2}"
PG_HOST=127.0.0.1
PG_ADMIN="postgres://postgres@${PG_HOST}:5432/postgres"
PG_BENCH_DB=diancan_bench
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET_DIR/release/diancan"

log() { printf '%s\n' "$*" >&2; }

for tool in wrk curl python3 psql; do
    command -v "$tool" >/dev/null || { log "needs $tool (apt-get install wrk curl python3 postgresql-client)"; exit 1; }
done

work=$(mktemp -d)
server_pid=""
stop_server() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
trap 'stop_server; rm -rf "$work"' EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts the server on DATABASE_URL and waits until /healthz answers; sets server_pid and base.
start_server() {
    local database_url="$1" name="$2" port
    port=$(free_port)
    base="http://127.0.0.1:$port"
    RUST_LOG=warn "$BIN" --database-url "$database_url" serve --listen "127.0.0.1:$port" \
        >"$work/$name.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 240); do
        curl -fs "$base/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.25
    done
    log "the $name server did not come up; its log:"
    cat "$work/$name.log" >&2
    exit 1
}

# Runs wrk against URL and prints "requests/s p50 p99 errors".
load() {
    local url="$1" out
    shift
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")
    printf '%s\n' "$out" >>"$work/wrk.txt"
    awk '
        /Requests\/sec:/ { rps = $2 }
        /^ +50%/ { p50 = $2 }
        /^ +99%/ { p99 = $2 }
        /Non-2xx or 3xx responses:/ { errors += $NF }
        /Socket errors:/ { errors += 1 }
        END { printf "%s %s %s %d\n", rps, p50, p99, errors }
    ' <<<"$out"
}

rows=()
bench_backend() {
    local backend="$1" database_url="$2"
    log "== $backend: starting the server"
    start_server "$database_url" "$backend"
    local store_id menu bytes gzip_bytes
    store_id=$(curl -fs "$base/api/v1/stores" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
    menu="$base/api/v1/stores/$store_id/menu"
    bytes=$(curl -fs "$menu" | wc -c)
    gzip_bytes=$(curl -fs -H 'Accept-Encoding: gzip' "$menu" | wc -c)
    log "   menu of store $store_id: $bytes bytes, $gzip_bytes gzipped"

    log "== $backend: /healthz for $DURATION"
    read -r t_rps t_p50 t_p99 t_err < <(load "$base/healthz")
    log "== $backend: menu for $DURATION"
    read -r m_rps m_p50 m_p99 m_err < <(load "$menu")
    log "== $backend: menu with Accept-Encoding: gzip for $DURATION"
    read -r g_rps g_p50 g_p99 g_err < <(load "$menu" -H 'Accept-Encoding: gzip')
    stop_server

    ratio() { python3 -c "print(f'{float(\"$1\") / float(\"$2\"):.2f}')"; }
    rows+=("| $backend | \`/healthz\` | $t_rps | $t_p50 | $t_p99 | 1.00 | $t_err |")
    rows+=("| $backend | menu, $bytes B | $m_rps | $m_p50 | $m_p99 | $(ratio "$m_rps" "$t_rps") | $m_err |")
    rows+=("| $backend | menu gzip, $gzip_bytes B | $g_rps | $g_p50 | $g_p99 | $(ratio "$g_rps" "$t_rps") | $g_err |")
}

log "== building the release binary"
cargo build --release --locked -p diancan --bin diancan >&2

bench_backend SQLite "sqlite://$work/bench.db"

pg_isready -h "$PG_HOST" -q || { log "PostgreSQL is not running on $PG_HOST:5432"; exit 1; }
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_BENCH_DB WITH (FORCE)"
psql "$PG_ADMIN" -qc "CREATE DATABASE $PG_BENCH_DB"
bench_backend PostgreSQL "postgres://postgres@${PG_HOST}:5432/$PG_BENCH_DB"

cat <<EOF

\`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\` on loopback, release build, demo restaurant, $(nproc) cores shared by wrk and the server ($(date -u +%Y-%m-%d)).

| backend | endpoint | requests/s | p50 | p99 | × trivial | errors |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
$(printf '%s\n' "${rows[@]}")
EOF
