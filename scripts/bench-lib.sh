# shellcheck shell=bash
# Shared by the scripts/bench-*.sh benchmarks (sourced, not run): building and starting the
# server, opening the demo store for orders, fresh PostgreSQL databases and pgbench's ceiling,
# counting rows, and checks that fail the run loudly at the end instead of scrolling past.
#
# Sourcing it makes a scratch directory $work, removed (with the server stopped) on exit.
# BENCH_PROFILE=debug uses debug builds: for checking a script's logic, never for figures.

PG_HOST=127.0.0.1
PG_SERVER="postgres://postgres@${PG_HOST}:5432"
PG_ADMIN="$PG_SERVER/postgres"
# "database … does not exist, skipping" is what DROP DATABASE IF EXISTS is for; not worth a line.
export PGOPTIONS="${PGOPTIONS:--c client_min_messages=warning}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "${BENCH_PROFILE:-release}" in
    release) CARGO_PROFILE_FLAGS=(--release) BIN="$TARGET_DIR/release/diancan" ;;
    debug) CARGO_PROFILE_FLAGS=() BIN="$TARGET_DIR/debug/diancan" ;;
    *) printf 'BENCH_PROFILE is release (the default) or debug\n' >&2; exit 1 ;;
esac
# Flags every benchmark server gets: `serve` seeds the demo restaurant only when asked.
SERVE_FLAGS=(--demo)

log() { printf '%s\n' "$*" >&2; }

need_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { log "needs $tool"; exit 1; }
    done
}

build_server() {
    log "== building the ${BENCH_PROFILE:-release} binary"
    cargo build "${CARGO_PROFILE_FLAGS[@]}" --locked -p diancan --bin diancan >&2
}

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

# start_server DATABASE_URL NAME [FLAG…]: starts the server on a free port and waits until
# /healthz answers; sets server_pid and base. Its log is $work/NAME.log.
start_server() {
    local database_url="$1" name="$2" port
    port=$(free_port)
    base="http://127.0.0.1:$port"
    RUST_LOG=warn "$BIN" --database-url "$database_url" serve --listen "127.0.0.1:$port" \
        "${SERVE_FLAGS[@]}" "${@:3}" >"$work/$name.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 400); do
        curl -fs "$base/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.25
    done
    log "the $name server did not come up; its log:"
    cat "$work/$name.log" >&2
    exit 1
}

# open_store_for_orders OUT: as the demo owner, opens the first store around the clock and
# quotes one pickup order of a dish without choices or counted stock (so load never sells it
# out). Writes {"store", "token" (the owner's bearer token), "cart" (the quote request),
# "body" (the cart plus its quote_version)} to OUT.
open_store_for_orders() {
    python3 - "$base" "$1" <<'PY'
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
dish = next(d for c in menu["categories"] for d in c["dishes"]
            if d["kind"] == "single" and not d["needs_choices"] and not d["sold_out"] and not d["skus"][0]["limited"])
cart = {"channel": "pickup", "lines": [{"sku_id": dish["skus"][0]["id"], "quantity": 1}]}
body = dict(cart, quote_version=call("POST", "/api/v1/stores/%s/quote" % store["id"], cart)["version"])
json.dump({"store": store["id"], "token": token, "cart": cart, "body": body}, open(out, "w"))
PY
}

# db_query DATABASE_URL SQL: prints the rows, columns separated by |, on SQLite or PostgreSQL.
db_query() {
    case "$1" in
        sqlite://*)
            python3 - "${1#sqlite://}" "$2" <<'PY'
import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]):
    print("|".join(str(value) for value in row))
PY
            ;;
        postgres://*) psql -At -v ON_ERROR_STOP=1 "$1" -c "$2" ;;
        *) log "db_query: unknown database URL $1"; exit 1 ;;
    esac
}

# fresh_pg_database NAME: drops and creates it; prints its URL.
fresh_pg_database() {
    pg_isready -h "$PG_HOST" -q || { log "PostgreSQL is not running on $PG_HOST:5432"; exit 1; }
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
    printf '%s/%s\n' "$PG_SERVER" "$1"
}

drop_pg_database() {
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
}

# pg_ceiling SECONDS: pgbench's TPC-B-like script, 16 clients on a scale-10 database; prints tps.
pg_ceiling() {
    local url
    url=$(fresh_pg_database diancan_pgbench)
    pgbench -q -i -s 10 "$url" >/dev/null 2>&1
    pgbench -c 16 -j 2 -T "$1" "$url" 2>/dev/null | awk '/^tps/ {printf "%.0f\n", $3}'
    drop_pg_database diancan_pgbench
}

# A failed check is reported at once and again at the end, where finish_checks exits 1; the
# run goes on meanwhile, so one broken backend does not hide the figures of the others.
failures=()
fail_check() {
    log "FAILED: $*"
    failures+=("$*")
}

finish_checks() {
    if ((${#failures[@]})); then
        log ""
        log "==== ${#failures[@]} check(s) FAILED; the figures above are not to be trusted:"
        printf '  %s\n' "${failures[@]}" >&2
        exit 1
    fi
}
