#!/usr/bin/env python3
"""The parts of scripts/bench-lifecycle.sh that are easier in Python than in bash.

  sqlite-ceiling DB SECONDS        bare SQLite order transactions per second (prints a number)
  check LABEL CLIENTS TOTALS BEFORE AFTER OUT
                                   compares the load generator's totals with the database's row
                                   counts before and after; writes the run's record to OUT and
                                   prints one line per problem (none when all agree)
  tables CEILINGS RECORD…          the Markdown tables of the runs; CEILINGS has lines of
                                   label|what was measured|per second
"""
import json
import sqlite3
import sys
import time

def sqlite_ceiling(path, seconds):
    """A conditional stock decrement and an order insert per transaction, as placement does."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE stock (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, stock_id INTEGER NOT NULL, note TEXT NOT NULL)")
    db.execute("INSERT INTO stock (id, n) VALUES (1, 1000000000)")
    deadline, n = time.monotonic() + seconds, 0
    started = time.monotonic()
    while time.monotonic() < deadline:
        db.execute("BEGIN IMMEDIATE")
        if db.execute("UPDATE stock SET n = n - 1 WHERE id = ? AND n > 0", (1,)).rowcount != 1:
            raise SystemExit("the ceiling's stock ran out")
        db.execute("INSERT INTO orders (stock_id, note) VALUES (?, ?)", (1, "pickup order 123456"))
        db.execute("COMMIT")
        n += 1
    print("%.0f" % (n / (time.monotonic() - started)))


def read_counts(path):
    """Lines of name|count from bench-lifecycle.sh's db_counts."""
    counts = {}
    for line in open(path):
        name, _, count = line.strip().rpartition("|")
        if name:
            counts[name] = int(count)
    return counts


def check(label, clients, totals_path, before_path, after_path, out):
    try:
        totals = json.load(open(totals_path))
    except (OSError, ValueError):
        totals = None
    before, after = read_counts(before_path), read_counts(after_path)
    added = {name: after.get(name, 0) - before.get(name, 0) for name in after.keys() | before.keys()}
    problems = []
    if totals is None:
        problems.append("the load generator printed no totals (it crashed?)")
        totals = {}
    else:
        if totals["errors"]:
            kinds = ", ".join("%d × %s" % (n, kind) for kind, n in totals["errors_by_kind"].items())
            problems.append("%d calls failed: %s" % (totals["errors"], kinds))
        if added["orders"] != totals["placed_acknowledged"]:
            problems.append("%d placements acknowledged but %d orders stored"
                            % (totals["placed_acknowledged"], added["orders"]))
        completed = added.get("status:completed", 0)
        if completed != totals["lifecycles_completed"]:
            problems.append("%d lifecycles completed but %d orders in status completed"
                            % (totals["lifecycles_completed"], completed))
    record = {"label": label, "clients": int(clients), "totals": totals, "added": added, "problems": problems}
    json.dump(record, open(out, "w"))
    for problem in problems:
        print(problem)


def tables(ceilings_path, paths):
    ceilings = {}
    for line in open(ceilings_path):
        label, what, per_s = line.rstrip("\n").split("|")
        ceilings[label] = (what, float(per_s) if per_s else None)
    records = [json.load(open(p)) for p in paths]
    for r in records:
        r["ceiling"], r["ceiling_per_s"] = ceilings.get(r["label"], ("not measured", None))
    place_only = any(r["totals"].get("mode") == "place_only" for r in records)
    flows = "quote → place flows/s" if place_only else "lifecycles/s"
    for clients in sorted({r["clients"] for r in records}):
        print("\n%d concurrent clients\n" % clients)
        print("| backend | %s | calls/s | p99 of the slowest call | p99 overall | errors "
              "| orders stored = acknowledged? | ceiling (same run) | %s ÷ ceiling |" % (flows, flows))
        print("|---|---:|---:|---|---:|---:|---|---|---:|")
        for r in (r for r in records if r["clients"] == clients):
            t, added = r["totals"], r["added"]
            if not t:
                print("| %s | — | — | — | — | load generator failed | — | %s | — |" % (r["label"], r["ceiling"]))
                continue
            stored, acked = added.get("orders", 0), t["placed_acknowledged"]
            completed = added.get("status:completed", 0)
            agree = stored == acked and completed == t["lifecycles_completed"]
            stored_cell = "%s: %d stored of %d; %d completed of %d" % (
                "yes" if agree else "**NO**", stored, acked, completed, t["lifecycles_completed"])
            slowest = t.get("slowest") or {"kind": "—", "p99_ms": 0}
            ratio = "%.1f %%" % (100 * t["flows_per_s"] / r["ceiling_per_s"]) if r.get("ceiling_per_s") else "—"
            print("| %s | %.1f | %.0f | %.1f ms (%s) | %.1f ms | %d | %s | %s | %s |" % (
                r["label"], t["flows_per_s"], t["calls_per_s"], slowest["p99_ms"], slowest["kind"],
                t["overall"]["p99_ms"], t["errors"], stored_cell, r["ceiling"], ratio))

    kinds = []
    for r in records:
        for kind in r["totals"].get("calls_by_kind", {}):
            if kind not in kinds:
                kinds.append(kind)
    print("\nEach call, p50 / **p99** / max in ms\n")
    print("| backend | clients | %s |" % " | ".join(kinds))
    print("|---|---:|" + "---:|" * len(kinds))
    for r in records:
        by_kind = r["totals"].get("calls_by_kind", {})
        cells = ["%.1f / **%.1f** / %.0f" % (s["p50_ms"], s["p99_ms"], s["max_ms"]) if s else "—"
                 for s in (by_kind.get(kind) for kind in kinds)]
        print("| %s | %d | %s |" % (r["label"], r["clients"], " | ".join(cells)))

    print("\nRows added to the database per run\n")
    for r in records:
        added = r["added"]
        statuses = ", ".join("%s %d" % (name.split(":", 1)[1], n) for name, n in sorted(added.items())
                             if name.startswith("status:") and n)
        print("- %s, %d clients: %d orders (%s), %d order transitions, %d events"
              % (r["label"], r["clients"], added.get("orders", 0), statuses or "none",
                 added.get("transitions", 0), added.get("events", 0)))


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "sqlite-ceiling":
        sqlite_ceiling(args[0], float(args[1]))
    elif command == "check":
        check(*args)
    elif command == "tables":
        tables(args[0], args[1:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
