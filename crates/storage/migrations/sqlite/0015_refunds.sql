-- Money going back to diners: one row per refund, numbered once (out_refund_no) so a retry at
-- the gateway never refunds twice. What a payment can still give back is its amount less the
-- refunds here that did not fail, computed under the payment's row lock.
CREATE TABLE refunds (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    store_id BLOB NOT NULL REFERENCES stores(id),
    order_id BLOB NOT NULL REFERENCES orders(id),
    payment_id BLOB NOT NULL REFERENCES payments(id),
    out_refund_no TEXT NOT NULL UNIQUE,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    reason TEXT NOT NULL,
    state TEXT NOT NULL,
    gateway_refund_id TEXT,
    requested_by TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX refunds_of_payment ON refunds(payment_id);
CREATE INDEX refunds_of_order ON refunds(order_id);
