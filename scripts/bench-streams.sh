#!/usr/bin/env bash
# Live streams under load (issue: the restaurant's side): 1,000 streams held open on one
# instance (orders boards, kitchen screens and diners' order pages) while orders are paid and
# accepted one after another, timing each change from its committed answer to its event on
# every stream; then 10,000 idle order-page streams, with the server's memory and CPU read
# before and while they sit open.
#
#   scripts/bench-streams.sh               # SQLite, release build
#   BACKENDS="sqlite postgres" scripts/bench-streams.sh
#
# Results are appended to scripts/bench-streams.results.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bench-lib.sh

BACKENDS="${BACKENDS:-sqlite}"
BOARDS="${BOARDS:-100}" KITCHENS="${KITCHENS:-100}" DINERS="${DINERS:-800}" ORDERS="${ORDERS:-100}"
IDLE="${IDLE:-10000}"
RESULTS=scripts/bench-streams.results.md
need_tools curl python3
build_server
cargo build "${CARGO_PROFILE_FLAGS[@]}" --locked -q -p diancan --example stream_load
LOAD="$TARGET_DIR/${BENCH_PROFILE:-release}/examples/stream_load"
# The caps protect diners from one another; one benchmark client is everyone at once here.
export DIANCAN_STREAMS_PER_OWNER=20000 DIANCAN_STREAMS_PER_ADDRESS=20000

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_average=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
for backend in $BACKENDS; do
    case "$backend" in
        sqlite) url="sqlite://$work/streams.db" label="SQLite" ;;
        postgres) url=$(fresh_pg_database diancan_bench_streams) label="PostgreSQL" ;;
        *) log "unknown backend $backend"; exit 1 ;;
    esac
    start_server "$url" "live-$backend"
    open_store_for_orders "$work/setup.json"
    log "== $label: $BOARDS boards, $KITCHENS kitchen screens, $DINERS order pages; $ORDERS orders"
    "$LOAD" --base-url "$base" --setup "$work/setup.json" --mode live --boards "$BOARDS" \
        --kitchens "$KITCHENS" --diners "$DINERS" --orders "$ORDERS" >"$work/live.json" \
        || fail_check "$label: some stream missed an event (see above)"
    stop_server

    [[ "$backend" == postgres ]] && url=$(fresh_pg_database diancan_bench_streams)
    [[ "$backend" == sqlite ]] && rm -f "$work"/streams.db*
    start_server "$url" "idle-$backend"
    open_store_for_orders "$work/setup.json"
    sleep 2
    rss_before=$(rss_kib)
    log "== $label: $IDLE idle order-page streams"
    "$LOAD" --base-url "$base" --setup "$work/setup.json" --mode idle --boards 0 --kitchens 0 \
        --diners "$IDLE" --followed 100 --hold-seconds 40 >"$work/idle.json" &
    load_pid=$!
    for _ in $(seq 1 600); do [[ -s "$work/idle.json" ]] && break; sleep 0.2; done
    [[ -s "$work/idle.json" ]] || fail_check "$label: the idle streams did not all open"
    # Settled first: the streams' first bytes and the allocator's growth are behind us.
    sleep 5
    rss_open=$(rss_kib)
    ticks_before=$(cpu_ticks)
    sleep 20
    ticks_after=$(cpu_ticks)
    hz=$(getconf CLK_TCK)
    idle_cpu=$(python3 -c "print('%.1f' % (100.0 * ($ticks_after - $ticks_before) / $hz / 20))")
    growth_mb=$(( (rss_open - rss_before) / 1024 ))
    wait "$load_pid" || true
    stop_server
    rows+=("$(python3 - "$work/live.json" "$label" "$growth_mb" "$idle_cpu" "$rss_before" <<'PY'
import json, sys
live = json.load(open(sys.argv[1]))
label, growth, cpu, before = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) // 1024
f = lambda k: "%s / **%s** / %s" % (live[k]["p50_ms"], live[k]["p99_ms"], live[k]["max_ms"])
print("| %s | %d | %s | %s | %s | %d | %s MB (from %d MB) | %s %% |" % (
    label, live["streams"], f("board"), f("kitchen"), f("diner"), live["missing"], growth, before, cpu))
PY
)")
done

{
    printf '\n## %s · live streams (%s boards, %s kitchen screens, %s order pages; %s orders) and %s idle streams\n\n' \
        "$started" "$BOARDS" "$KITCHENS" "$DINERS" "$ORDERS" "$IDLE"
    printf '%s build, %s cores, load average %s at the start. Latency from the staff action'"'"'s committed answer to the event on each stream, p50 / **p99** / max in ms.\n\n' \
        "${BENCH_PROFILE:-release}" "$(nproc)" "$load_average"
    printf '| backend | streams | → board (pay) | → kitchen (accept) | → order page (pay) | missed | memory for %s idle streams | idle CPU (of one core) |\n' "$IDLE"
    printf '|---|---:|---|---|---|---:|---|---:|\n'
    printf '%s\n' "${rows[@]}"
} | tee -a "$RESULTS"
finish_checks
