-- 储值: each member's stored value at a brand, and its append-only ledger. The account row is the
-- ledger folded (balance, and the part held for payments under way); it is changed only with
-- its entry, in one transaction, under the row's lock. An operation repeated with the same
-- reference (the same order, payment, refund or staff request) writes nothing twice.
CREATE TABLE balance_accounts (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    customer_id BLOB NOT NULL REFERENCES customers(id),
    balance_fen INTEGER NOT NULL CHECK (balance_fen >= 0),
    held_fen INTEGER NOT NULL CHECK (held_fen >= 0 AND held_fen <= balance_fen),
    version INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    UNIQUE (brand_id, customer_id)
) STRICT;

CREATE TABLE balance_entries (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES balance_accounts(id),
    kind TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    balance_after_fen INTEGER NOT NULL,
    held_after_fen INTEGER NOT NULL,
    reason TEXT NOT NULL,
    reference TEXT NOT NULL,
    order_id BLOB REFERENCES orders(id),
    actor TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (account_id, kind, reference)
) STRICT;
-- A combined payment's hold is found from its gateway payment; an order's captures and refunds
-- from the order.
CREATE INDEX balance_entries_by_reference ON balance_entries(reference);
CREATE INDEX balance_entries_by_order ON balance_entries(order_id) WHERE order_id IS NOT NULL;
