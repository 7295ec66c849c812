-- Orders remember the logged-in diner (for order history) and the pickup/delivery slot they took;
-- slot_counters hold how many orders each slot has, claimed atomically like stock.

ALTER TABLE orders ADD COLUMN customer_id BLOB REFERENCES customers(id);
ALTER TABLE orders ADD COLUMN slot_start_ms INTEGER;
CREATE INDEX orders_by_customer ON orders(customer_id, placed_at_ms);

CREATE TABLE slot_counters (
    store_id BLOB NOT NULL REFERENCES stores(id),
    slot_start_ms INTEGER NOT NULL,
    taken INTEGER NOT NULL,
    PRIMARY KEY (store_id, slot_start_ms)
) STRICT;
