#!/usr/bin/env bash
# The whole pickup lifecycle under load on SQLite and PostgreSQL, next to each database's own
# ceiling measured in the same run (issue 7). For each backend, with 16 and then 64 clients: a
# fresh database, the release server (demo data, durable settings: SQLite synchronous=FULL), the
# first store opened around the clock, then crates/diancan/examples/lifecycle_load.rs: each
# client loops quote → place → 收款 → 接单 → 开始制作 → 出餐 → 取餐 → 完成 and checks every answer.
# Afterwards the database is counted (orders, orders per status, transitions, events): every
# acknowledged placement must be an order and every completed lifecycle a completed order; the
# load generator finishes the lifecycles in flight at the deadline, so both counts are exact.
# Ceilings, each right after its database's runs: a bare SQLite transaction (conditional stock
# decrement plus an insert) and pgbench's TPC-B-like script at 16 clients.
#
#   scripts/bench-lifecycle.sh                       # 15 s per run, 16 and 64 clients
#   BENCH_DURATION=5s scripts/bench-lifecycle.sh
#   BENCH_PLACE_ONLY=1 scripts/bench-lifecycle.sh    # quote → place only: placement alone
#   BENCH_SEND_VERSION=0 scripts/bench-lifecycle.sh  # a server whose actions take no version
#   BENCH_CLIENTS="16" BENCH_BACKENDS="sqlite" …     # fewer runs
#
# Progress and the load generator's reports go to stderr; the tables go to stdout and are
# appended to scripts/bench-lifecycle.results.md. Exits 1 when a call or a count was wrong.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bench-lib.sh

DURATION="${BENCH_DURATION:-15s}"
SECONDS_N="${DURATION%s}"
CLIENT_COUNTS="${BENCH_CLIENTS:-16 64}"
BACKENDS="${BENCH_BACKENDS:-sqlite postgres}"
PG_DB=diancan_bench_lifecycle
RESULTS=scripts/bench-lifecycle.results.md
SQLITE_LABEL="SQLite (WAL, synchronous=FULL)"
PG_LABEL="PostgreSQL $(psql -At "$PG_ADMIN" -c 'show server_version' 2>/dev/null | cut -d' ' -f1 || true)"

need_tools curl python3 psql pgbench
build_server
# A second build, not one with the server: an example brings in the dev-dependencies, whose
# features (serde_json's preserve_order, among others) would change the server being measured.
log "== building the load generator"
cargo build "${CARGO_PROFILE_FLAGS[@]}" --locked -p diancan --example lifecycle_load >&2
load_started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_average=$(cut -d' ' -f1-3 /proc/loadavg)

# The order, status and row counts the checks compare, as name|count lines.
db_counts() {
    db_query "$1" "SELECT 'orders', count(*) FROM orders
        UNION ALL SELECT 'transitions', count(*) FROM order_transitions
        UNION ALL SELECT 'events', count(*) FROM events
        UNION ALL SELECT 'status:' || status, count(*) FROM orders GROUP BY status"
}

# run_load BACKEND LABEL DATABASE_URL CLIENTS: one load run on a fresh database; its record
# (totals, rows added, problems) goes to $work/runs/.
run_load() {
    local label="$2" url="$3" clients="$4" name
    runs=$((runs + 1))
    name=$(printf '%02d-%s-%s' "$runs" "$1" "$4")
    start_server "$url" "$name"
    open_store_for_orders "$work/$name.setup.json"
    db_counts "$url" >"$work/$name.before"
    log "== $label, $clients clients, $DURATION"
    local status=0
    cargo run "${CARGO_PROFILE_FLAGS[@]}" --locked -q -p diancan --example lifecycle_load -- \
        --base-url "$base" --setup "$work/$name.setup.json" --clients "$clients" \
        --seconds "$SECONDS_N" >"$work/$name.totals.json" || status=$?
    # 1 is "some calls failed", which the check reports with the counts; anything else is a crash.
    ((status <= 1)) || fail_check "$label, $clients clients: the load generator exited with $status"
    stop_server
    db_counts "$url" >"$work/$name.after"
    mkdir -p "$work/runs"
    local problems problem
    problems=$(python3 scripts/bench_lifecycle.py check "$label" "$clients" "$work/$name.totals.json" \
        "$work/$name.before" "$work/$name.after" "$work/runs/$name.json")
    while read -r problem; do
        [[ -z "$problem" ]] || fail_check "$label, $clients clients: $problem"
    done <<<"$problems"
}

runs=0
: >"$work/ceilings"
for backend in $BACKENDS; do
    case "$backend" in
        sqlite)
            for clients in $CLIENT_COUNTS; do
                rm -f "$work"/bench.db*
                run_load sqlite "$SQLITE_LABEL" "sqlite://$work/bench.db" "$clients"
            done
            log "== SQLite ceiling, $DURATION"
            tps=$(python3 scripts/bench_lifecycle.py sqlite-ceiling "$work/ceiling.db" "$SECONDS_N")
            echo "$SQLITE_LABEL|bare tx loop, stock decrement + insert (Python sqlite3, WAL, synchronous=FULL): $tps tx/s|$tps" >>"$work/ceilings"
            ;;
        postgres)
            for clients in $CLIENT_COUNTS; do
                pg_url=$(fresh_pg_database $PG_DB)
                run_load postgres "$PG_LABEL" "$pg_url" "$clients"
                drop_pg_database $PG_DB
            done
            log "== PostgreSQL ceiling, $DURATION"
            tps=$(pg_ceiling "$SECONDS_N")
            echo "$PG_LABEL|pgbench TPC-B-like, 16 clients, scale 10: $tps tps|$tps" >>"$work/ceilings"
            ;;
        *) log "BENCH_BACKENDS: sqlite and/or postgres, not $backend"; exit 1 ;;
    esac
done

what="whole pickup lifecycles (quote, place, pay, accept, start_preparing, mark_ready, hand_over, complete)"
if [[ "${BENCH_PLACE_ONLY:-0}" =~ ^(1|true|yes|on)$ ]]; then
    what="quote → place only (BENCH_PLACE_ONLY)"
elif [[ "${BENCH_SEND_VERSION:-1}" =~ ^(0|false|no|off)$ ]]; then
    what="$what, staff actions without version (BENCH_SEND_VERSION=0)"
fi
report=$(
    printf '## %s · %s\n\n' "$load_started" "$what"
    printf '%s per run, %s build, %s cores, %s MiB memory free, load average %s at the start.\n' \
        "$DURATION" "${BENCH_PROFILE:-release}" "$(nproc)" \
        "$(free -m | awk '/^Mem:/ {print $7}')" "$load_average"
    python3 scripts/bench_lifecycle.py tables "$work/ceilings" "$work"/runs/*.json
    if ((${#failures[@]})); then
        printf '\n**This run FAILED:**\n\n'
        printf -- '- %s\n' "${failures[@]}"
    fi
)
printf '%s\n' "$report"
# Debug builds check the tool, not the server: their figures are not results.
if [[ "${BENCH_PROFILE:-release}" == release ]]; then
    printf '%s\n\n' "$report" >>"$RESULTS"
    log "(appended to $RESULTS)"
fi
finish_checks
