-- The transactional outbox: side effects (live announcements, menu refreshes, and later print
-- jobs, notifications and webhooks) are written in the same transaction as the change they
-- announce, then delivered at least once by a worker that leases them (FOR UPDATE SKIP LOCKED).
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    topic TEXT NOT NULL,
    -- What the row is about ("order:<id>"), for logs and for consumers that deduplicate.
    subject TEXT,
    payload_json TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    available_at_ms BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    leased_until_ms BIGINT,
    last_error TEXT,
    delivered_at_ms BIGINT
);
CREATE INDEX outbox_pending ON outbox(available_at_ms) WHERE delivered_at_ms IS NULL;
CREATE INDEX outbox_delivered ON outbox(delivered_at_ms) WHERE delivered_at_ms IS NOT NULL;

ALTER TABLE orders ADD COLUMN paid_at_ms BIGINT;
ALTER TABLE orders ADD COLUMN table_code TEXT;
ALTER TABLE orders ADD COLUMN area_name TEXT;

CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at_ms);
CREATE INDEX orders_finished ON orders(status, updated_at_ms);

-- Live streams are now woken by the outbox's announcements, which also carry menu refreshes
-- across instances; a trigger per event would announce twice.
DROP TRIGGER events_notify ON events;
DROP FUNCTION notify_event();
