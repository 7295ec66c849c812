#!/usr/bin/env bash
# Quote latency with and without promotions, measured in the same run on a release build: a
# 20-line delivery cart priced by the one pricing function with 10 active promotions and 10 of
# the diner's coupons, next to the same cart priced as it is today (no promotions).
#
#   scripts/bench-quote.sh            # 10,000 runs
#   BENCH_RUNS=50000 scripts/bench-quote.sh
#
# It times the pricing function itself (what every quote and order runs, in process); the
# database reads a signed-in diner's quote adds (their coupons, one indexed query) are not in it.
# The machine's load average is printed with the figures: a busy machine stretches p99.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${BENCH_RUNS:-10000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/release-bench}"
cargo run --quiet --release -p diancan-domain --example quote_promotions -- "$RUNS"
