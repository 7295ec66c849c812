#!/usr/bin/env bash
# Order placement under load, next to the database's own write ceiling, on SQLite and PostgreSQL.
# For each backend: start the release server (demo data, durable settings), make the store open
# around the clock, quote one cart, then wrk POSTs it with a fresh Idempotency-Key per request.
# The ceiling is measured in the same run: a bare one-row INSERT transaction loop on SQLite
# (WAL, synchronous=FULL, like the server) and pgbench's TPC-B-like script on PostgreSQL.
# Afterwards the orders in the database are counted against wrk's 2xx responses, and the run fails
# when they disagree. SQLite also runs once with synchronous=NORMAL, to show what power-cut
# durability costs.
#
#   scripts/bench-orders.sh                    # 15 s runs, 64 connections
#   BENCH_DURATION=5s scripts/bench-orders.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bench-lib.sh

DURATION="${BENCH_DURATION:-15s}"
SECONDS_N="${DURATION%s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
PG_DB=diancan_bench_orders

need_tools wrk curl python3 psql pgbench
build_server

# Prints "orders/s p50 p99 non-2xx 2xx unanswered" for wrk POSTing $work/order.json's body.
run_wrk() {
    local store body
    store=$(python3 -c "import json;print(json.load(open('$work/order.json'))['store'])")
    body=$(python3 -c "import json;print(json.dumps(json.load(open('$work/order.json'))['body']))")
    cat >"$work/order.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[$body]]
sent = 0
local threads = {}
-- Each wrk thread has its own Lua state; setup() numbers them so keys never collide.
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", tostring(#threads) .. "-" .. tostring(os.time()))
end
function request()
  sent = sent + 1
  wrk.headers["Idempotency-Key"] = "bench-" .. id .. "-" .. sent
  return wrk.format()
end
-- wrk stops with requests in flight and never reads their answers; the orders count needs them.
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("sent") end
  io.write(string.format("unanswered: %d\n", total - summary.requests))
end
LUA
    wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/order.lua" "$base/api/v1/stores/$store/orders" | tee -a "$work/wrk.txt" |
        awk '/Requests\/sec:/ {rps=$2} /^ +99%/ {p99=$2} /^ +50%/ {p50=$2} / requests in / {n=$1} /Non-2xx/ {bad=$NF}
             /^unanswered:/ {unanswered=$2} END {printf "%s %s %s %d %d %d\n", rps, p50, p99, bad, n - bad, unanswered}'
}

# check_stored LABEL STORED ACKNOWLEDGED UNANSWERED: every 2xx must be a stored order, and the
# only orders stored without a 2xx are requests wrk sent but stopped waiting for at the deadline
# (the server commits them; nobody reads the answer).
check_stored() {
    local label="$1" stored="$2" acknowledged="$3" unanswered="$4"
    if ((stored < acknowledged)); then
        fail_check "$label: $acknowledged orders acknowledged (2xx) but only $stored stored: $((acknowledged - stored)) LOST"
    elif ((stored > acknowledged + unanswered)); then
        fail_check "$label: $stored orders stored but only $acknowledged acknowledged and $unanswered unanswered at the deadline"
    fi
}

sqlite_ceiling() {
    python3 - "$work/ceiling.db" "$SECONDS_N" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)")
end, n = time.time() + float(sys.argv[2]), 0
while time.time() < end:
    db.execute("BEGIN IMMEDIATE"); db.execute("INSERT INTO t (note) VALUES ('order note 123456')"); db.execute("COMMIT"); n += 1
print("%.0f" % (n / float(sys.argv[2])))
PY
}

# bench_placement LABEL DATABASE_URL [FLAG…]: one wrk run on a fresh database; sets the row's
# figures (rps p50 p99 bad orders) and checks the stored orders.
bench_placement() {
    local label="$1" url="$2" acknowledged unanswered
    start_server "$url" server "${@:3}"
    open_store_for_orders "$work/order.json"
    read -r rps p50 p99 bad acknowledged unanswered < <(run_wrk)
    stop_server
    orders=$(db_query "$url" "select count(*) from orders")
    check_stored "$label" "$orders" "$acknowledged" "$unanswered"
    orders="$orders of $acknowledged (+ $unanswered unanswered at the deadline)"
}

rows=()
# SQLite
bench_placement "SQLite (synchronous=FULL)" "sqlite://$work/bench.db"
ceiling=$(sqlite_ceiling)
rows+=("| SQLite (WAL, synchronous=FULL) | $rps | $p50 | $p99 | $bad | $orders | one-row INSERT tx loop: $ceiling tx/s | $(python3 -c "print('%.0f%%' % (100*$rps/$ceiling))") |")

# What durability costs: the same run with synchronous=NORMAL (--sqlite-fast-unsafe).
rm -f "$work"/bench.db*
bench_placement "SQLite (synchronous=NORMAL)" "sqlite://$work/bench.db" --sqlite-fast-unsafe
rows+=("| SQLite (WAL, synchronous=NORMAL: not power-cut safe) | $rps | $p50 | $p99 | $bad | $orders | — | — |")

# PostgreSQL
pg_url=$(fresh_pg_database $PG_DB)
bench_placement "PostgreSQL" "$pg_url"
drop_pg_database $PG_DB
ceiling=$(pg_ceiling "$SECONDS_N")
rows+=("| PostgreSQL 15 | $rps | $p50 | $p99 | $bad | $orders | pgbench TPC-B-like, 16 clients: $ceiling tps | $(python3 -c "print('%.0f%%' % (100*$rps/$ceiling))") |")

echo "wrk -t2 -c$CONNECTIONS -d$DURATION, one pickup order per request, fresh Idempotency-Key each"
echo
echo "| backend | orders/s | p50 | p99 | non-2xx | orders stored of 2xx (+ in flight) | ceiling (same run) | orders/s ÷ ceiling |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
finish_checks
