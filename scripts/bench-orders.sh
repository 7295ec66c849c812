#!/usr/bin/env bash
# Order placement under load, next to the database's own write ceiling, on SQLite and PostgreSQL.
# For each backend: start the release server (demo data, durable settings), make the store open
# around the clock, quote one cart, then wrk POSTs it with a fresh Idempotency-Key per request.
# The ceiling is measured in the same run: a bare one-row INSERT transaction loop on SQLite
# (WAL, synchronous=FULL, like the server) and pgbench's TPC-B-like script on PostgreSQL.
# Afterwards the orders in the database are counted against wrk's 2xx responses. SQLite also runs
# once with synchronous=NORMAL, to show what power-cut durability costs.
#
#   scripts/bench-orders.sh                    # 15 s runs, 64 connections
#   BENCH_DURATION=5s scripts/bench-orders.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION="${BENCH_DURATION:-15s}"
SECONDS_N="${DURATION%s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
PG_ADMIN="postgres://postgres@127.0.0.1:5432/postgres"
PG_DB=diancan_bench_orders
BIN="${CARGO_TARGET_DIR:-target}/release/diancan"
log() { printf '%s\n' "$*" >&2; }

for tool in wrk curl python3 psql pgbench; do
    command -v "$tool" >/dev/null || { log "needs $tool"; exit 1; }
done
log "building the release binary…"
cargo build --release --locked -p diancan >&2

work=$(mktemp -d)
server_pid=""
stop_server() { [[ -n "$server_pid" ]] && { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""; }; }
trap 'stop_server; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

start_server() {
    RUST_LOG=warn "$BIN" --database-url "$1" serve --listen "127.0.0.1:$port" "${@:2}" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 400); do curl -fs "$base/healthz" >/dev/null 2>&1 && return 0; sleep 0.25; done
    cat "$work/server.log" >&2; exit 1
}

# Opens the first store around the clock and writes the order body (with its quote version) to $work/order.json.
prepare_order() {
    python3 - "$base" "$work/order.json" <<'PY'
import json, sys, urllib.request
base, out = sys.argv[1], sys.argv[2]
def call(method, path, body=None, token=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("content-type", "application/json")
    if token: req.add_header("authorization", "Bearer " + token)
    return json.load(urllib.request.urlopen(req))
token = call("POST", "/api/v1/auth/login", {"login": "owner", "password": "diancan123"})["token"]
store = call("GET", "/api/v1/console/stores", token=token)[0]
profile = {k: store[k] for k in ("name", "name_en", "address", "phone", "location", "rules")}
profile["rules"]["hours"] = []
profile["rules"]["accepting_orders"] = True
call("PUT", "/api/v1/console/stores/" + store["id"], profile, token)
menu = call("GET", "/api/v1/stores/%s/menu" % store["id"])
dish = next(d for c in menu["categories"] for d in c["dishes"] if not d["needs_choices"] and not d["sold_out"] and d["kind"] == "single")
body = {"channel": "pickup", "lines": [{"sku_id": dish["skus"][0]["id"], "quantity": 1}]}
body["quote_version"] = call("POST", "/api/v1/stores/%s/quote" % store["id"], body)["version"]
json.dump({"store": store["id"], "body": body}, open(out, "w"))
PY
}

run_wrk() {
    local store body
    store=$(python3 -c "import json;print(json.load(open('$work/order.json'))['store'])")
    body=$(python3 -c "import json;print(json.dumps(json.load(open('$work/order.json'))['body']))")
    cat >"$work/order.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[$body]]
local counter = 0
local threads = 0
-- Each wrk thread has its own Lua state; setup() numbers them so keys never collide.
function setup(thread)
  threads = threads + 1
  thread:set("id", tostring(threads) .. "-" .. tostring(os.time()))
end
function request()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = "bench-" .. id .. "-" .. counter
  return wrk.format()
end
LUA
    wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/order.lua" "$base/api/v1/stores/$store/orders" | tee -a "$work/wrk.txt" |
        awk '/Requests\/sec:/ {rps=$2} /^ +99%/ {p99=$2} /^ +50%/ {p50=$2} /Non-2xx/ {bad=$NF} END {printf "%s %s %s %d\n", rps, p50, p99, bad}'
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

pg_ceiling() {
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS diancan_pgbench" -c "CREATE DATABASE diancan_pgbench" >/dev/null
    pgbench -q -i -s 10 "postgres://postgres@127.0.0.1:5432/diancan_pgbench" >/dev/null 2>&1
    pgbench -c 16 -j 2 -T "$SECONDS_N" "postgres://postgres@127.0.0.1:5432/diancan_pgbench" 2>/dev/null | awk '/^tps/ {printf "%.0f\n", $3}'
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS diancan_pgbench" >/dev/null
}

rows=()
# SQLite
start_server "sqlite://$work/bench.db"
prepare_order
read -r rps p50 p99 bad < <(run_wrk)
stop_server
orders=$(python3 -c "import sqlite3;print(sqlite3.connect('$work/bench.db').execute('select count(*) from orders').fetchone()[0])")
ceiling=$(sqlite_ceiling)
rows+=("| SQLite (WAL, synchronous=FULL) | $rps | $p50 | $p99 | $bad | $orders | one-row INSERT tx loop: $ceiling tx/s | $(python3 -c "print('%.0f%%' % (100*$rps/$ceiling))") |")

# What durability costs: the same run with synchronous=NORMAL (--sqlite-fast-unsafe).
rm -f "$work"/bench.db*
start_server "sqlite://$work/bench.db" --sqlite-fast-unsafe
prepare_order
read -r rps p50 p99 bad < <(run_wrk)
stop_server
orders=$(python3 -c "import sqlite3;print(sqlite3.connect('$work/bench.db').execute('select count(*) from orders').fetchone()[0])")
rows+=("| SQLite (WAL, synchronous=NORMAL: not power-cut safe) | $rps | $p50 | $p99 | $bad | $orders | — | — |")

# PostgreSQL
psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null
start_server "postgres://postgres@127.0.0.1:5432/$PG_DB"
prepare_order
read -r rps p50 p99 bad < <(run_wrk)
stop_server
orders=$(psql -At "postgres://postgres@127.0.0.1:5432/$PG_DB" -c "select count(*) from orders")
psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
ceiling=$(pg_ceiling)
rows+=("| PostgreSQL 15 | $rps | $p50 | $p99 | $bad | $orders | pgbench TPC-B-like, 16 clients: $ceiling tps | $(python3 -c "print('%.0f%%' % (100*$rps/$ceiling))") |")

echo "wrk -t2 -c$CONNECTIONS -d$DURATION, one pickup order per request, fresh Idempotency-Key each"
echo
echo "| backend | orders/s | p50 | p99 | non-2xx | orders stored | ceiling (same run) | orders/s ÷ ceiling |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
