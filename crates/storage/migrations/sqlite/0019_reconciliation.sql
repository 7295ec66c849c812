-- 对账: one run per gateway account and China date. The unique key is what lets any instance
-- start the daily run and a second one find it taken; a rerun claims the same row again
-- (attempt + 1), so a slow worker whose claim was taken over cannot write over the new one.
CREATE TABLE reconciliation_runs (
    id BLOB PRIMARY KEY,
    provider TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    bill_date TEXT NOT NULL,
    state TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    statement_lines INTEGER NOT NULL DEFAULT 0,
    unreadable_lines INTEGER NOT NULL DEFAULT 0,
    payments_checked INTEGER NOT NULL DEFAULT 0,
    refunds_checked INTEGER NOT NULL DEFAULT 0,
    mismatches INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    started_by TEXT NOT NULL,
    started_at_ms INTEGER NOT NULL,
    finished_at_ms INTEGER,
    UNIQUE (provider, merchant_id, bill_date)
) STRICT;
CREATE INDEX reconciliation_runs_by_date ON reconciliation_runs(bill_date);
-- What a run found. A rerun deletes its open mismatches and writes what it finds now; resolved
-- ones stay, and the key keeps one row per disagreement. out_refund_no is '' on payment rows so
-- the key needs no NULL rules. brand_id is NULL for money nobody here knows about.
CREATE TABLE reconciliation_mismatches (
    id BLOB PRIMARY KEY,
    run_id BLOB NOT NULL REFERENCES reconciliation_runs(id),
    kind TEXT NOT NULL,
    out_trade_no TEXT NOT NULL,
    out_refund_no TEXT NOT NULL,
    brand_id BLOB REFERENCES brands(id),
    store_id BLOB REFERENCES stores(id),
    our_amount_fen INTEGER,
    their_amount_fen INTEGER,
    note TEXT NOT NULL,
    resolved_by TEXT,
    resolution_note TEXT,
    resolved_at_ms INTEGER,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (run_id, kind, out_trade_no, out_refund_no)
) STRICT;
