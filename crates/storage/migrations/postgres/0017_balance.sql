-- 储值: each member's stored value at a brand, and its append-only ledger. The account row is the
-- ledger folded (balance, and the part held for payments under way); it is changed only with
-- its entry, in one transaction, under the row's lock. An operation repeated with the same
-- reference (the same order, payment, refund or staff request) writes nothing twice.
CREATE TABLE balance_accounts (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    customer_id UUID NOT NULL REFERENCES customers(id),
    balance_fen BIGINT NOT NULL CHECK (balance_fen >= 0),
    held_fen BIGINT NOT NULL CHECK (held_fen >= 0 AND held_fen <= balance_fen),
    version BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (brand_id, customer_id)
);

CREATE TABLE balance_entries (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES balance_accounts(id),
    kind TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    balance_after_fen BIGINT NOT NULL,
    held_after_fen BIGINT NOT NULL,
    reason TEXT NOT NULL,
    reference TEXT NOT NULL,
    order_id UUID REFERENCES orders(id),
    actor TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    UNIQUE (account_id, kind, reference)
);
-- A combined payment's hold is found from its gateway payment; an order's captures and refunds
-- from the order.
CREATE INDEX balance_entries_by_reference ON balance_entries(reference);
CREATE INDEX balance_entries_by_order ON balance_entries(order_id) WHERE order_id IS NOT NULL;
