-- A guest's key to their own order: only a keyed hash of the secret handed out at placement
-- (HMAC under a server key, bound to the order id), so a copy of this table opens nothing.
-- No row means the order is reachable only by its diner's session and by staff.
CREATE TABLE order_access (
    order_id UUID PRIMARY KEY REFERENCES orders(id),
    secret_hash TEXT NOT NULL,
    issued_at_ms BIGINT NOT NULL
);
