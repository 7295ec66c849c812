#!/usr/bin/env bash
# How much the public menu costs next to a trivial endpoint, on SQLite and on PostgreSQL.
# Starts the release server on loopback with the demo restaurant (a fresh SQLite file, then a
# fresh PostgreSQL database `diancan_bench`), loads it with wrk, and prints a markdown table.
#
#   scripts/bench-menu.sh                  # 15 s per run, 64 connections, 2 wrk threads
#   BENCH_DURATION=5s scripts/bench-menu.sh
#
# Progress goes to stderr, the table to stdout. wrk and the server share the machine's cores,
# so the figures are for comparing endpoints and backends, not a capacity claim. Nothing is
# written, so there is no stored count to check; instead the run fails when any request got an
# error (non-2xx/3xx or a socket error): a fast error page is no menu.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bench-lib.sh

DURATION="${BENCH_DURATION:-15s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
THREADS="${BENCH_THREADS:-2}"
PG_BENCH_DB=diancan_bench

need_tools wrk curl python3 psql

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
        /Socket errors:/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
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
    local endpoint errors
    for endpoint in healthz:"$t_err" menu:"$m_err" "menu gzip:$g_err"; do
        errors="${endpoint##*:}"
        ((errors == 0)) || fail_check "$backend ${endpoint%:*}: $errors requests failed"
    done

    ratio() { python3 -c "print(f'{float(\"$1\") / float(\"$2\"):.2f}')"; }
    rows+=("| $backend | \`/healthz\` | $t_rps | $t_p50 | $t_p99 | 1.00 | $t_err |")
    rows+=("| $backend | menu, $bytes B | $m_rps | $m_p50 | $m_p99 | $(ratio "$m_rps" "$t_rps") | $m_err |")
    rows+=("| $backend | menu gzip, $gzip_bytes B | $g_rps | $g_p50 | $g_p99 | $(ratio "$g_rps" "$t_rps") | $g_err |")
}

build_server

bench_backend SQLite "sqlite://$work/bench.db"
pg_url=$(fresh_pg_database $PG_BENCH_DB)
bench_backend PostgreSQL "$pg_url"
drop_pg_database $PG_BENCH_DB

cat <<EOF

\`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\` on loopback, ${BENCH_PROFILE:-release} build, demo restaurant, $(nproc) cores shared by wrk and the server ($(date -u +%Y-%m-%d)).

| backend | endpoint | requests/s | p50 | p99 | × trivial | errors |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
$(printf '%s\n' "${rows[@]}")
EOF
finish_checks
