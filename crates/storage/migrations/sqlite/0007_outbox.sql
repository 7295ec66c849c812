-- The transactional outbox: side effects (live announcements, menu refreshes, and later print
-- jobs, notifications and webhooks) are written in the same transaction as the change they
-- announce, then delivered at least once by a worker that leases them.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    -- What the row is about ("order:<id>"), for logs and for consumers that deduplicate.
    subject TEXT,
    payload_json TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    available_at_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    leased_until_ms INTEGER,
    last_error TEXT,
    delivered_at_ms INTEGER
) STRICT;
CREATE INDEX outbox_pending ON outbox(available_at_ms) WHERE delivered_at_ms IS NULL;
CREATE INDEX outbox_delivered ON outbox(delivered_at_ms) WHERE delivered_at_ms IS NOT NULL;

-- When money was taken (收款 or a gateway), and where a dine-in order was placed, kept on the
-- order so its view needs no other read and history survives a renamed table.
ALTER TABLE orders ADD COLUMN paid_at_ms INTEGER;
ALTER TABLE orders ADD COLUMN table_code TEXT;
ALTER TABLE orders ADD COLUMN area_name TEXT;

-- Retention sweeps.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at_ms);
CREATE INDEX orders_finished ON orders(status, updated_at_ms);
