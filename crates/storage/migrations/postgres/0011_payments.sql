-- A diner's payments through the gateways: one row per attempt at one gateway. Only the
-- gateway's references are kept (our number, its transaction id), never account data. The
-- transaction id is unique per gateway: the same money can never be settled twice.
CREATE TABLE payments (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    store_id UUID NOT NULL REFERENCES stores(id),
    order_id UUID NOT NULL REFERENCES orders(id),
    provider TEXT NOT NULL,
    method TEXT NOT NULL,
    out_trade_no TEXT NOT NULL UNIQUE,
    amount_fen BIGINT NOT NULL,
    state TEXT NOT NULL,
    transaction_id TEXT,
    paid_at_ms BIGINT,
    flagged TEXT,
    refund_due BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX payments_transaction ON payments(provider, transaction_id) WHERE transaction_id IS NOT NULL;
CREATE INDEX payments_of_order ON payments(order_id);
