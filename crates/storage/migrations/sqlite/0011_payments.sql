-- A diner's payments through the gateways: one row per attempt at one gateway. Only the
-- gateway's references are kept (our number, its transaction id), never account data. The
-- transaction id is unique per gateway: the same money can never be settled twice.
CREATE TABLE payments (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    store_id BLOB NOT NULL REFERENCES stores(id),
    order_id BLOB NOT NULL REFERENCES orders(id),
    provider TEXT NOT NULL,
    method TEXT NOT NULL,
    out_trade_no TEXT NOT NULL UNIQUE,
    amount_fen INTEGER NOT NULL,
    state TEXT NOT NULL,
    transaction_id TEXT,
    paid_at_ms INTEGER,
    flagged TEXT,
    refund_due INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX payments_transaction ON payments(provider, transaction_id) WHERE transaction_id IS NOT NULL;
CREATE INDEX payments_of_order ON payments(order_id);
