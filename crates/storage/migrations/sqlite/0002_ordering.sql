-- Table sessions, orders with their lines and transitions, idempotency keys, pickup counters,
-- shared table carts, and the durable event log that live streams replay from.

CREATE TABLE table_sessions (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    store_id BLOB NOT NULL REFERENCES stores(id),
    table_id BLOB NOT NULL REFERENCES dining_tables(id),
    status TEXT NOT NULL,
    diners INTEGER,
    opened_at_ms INTEGER NOT NULL,
    closed_at_ms INTEGER
) STRICT;
-- At most one open session per table.
CREATE UNIQUE INDEX table_sessions_one_open ON table_sessions(table_id) WHERE status = 'open';

CREATE TABLE orders (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    store_id BLOB NOT NULL REFERENCES stores(id),
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    table_session_id BLOB REFERENCES table_sessions(id),
    table_id BLOB REFERENCES dining_tables(id),
    pickup_number INTEGER NOT NULL,
    business_date TEXT NOT NULL,
    round INTEGER NOT NULL,
    diners INTEGER,
    total_fen INTEGER NOT NULL,
    quote_json TEXT NOT NULL,
    contact_json TEXT,
    note TEXT,
    ready_by_ms INTEGER,
    pay_by_ms INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    last_hurry_ms INTEGER,
    placed_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX orders_by_store_day ON orders(store_id, business_date);
CREATE INDEX orders_by_session ON orders(table_session_id);
CREATE INDEX orders_unpaid ON orders(status, pay_by_ms);

CREATE TABLE order_lines (
    order_id BLOB NOT NULL REFERENCES orders(id),
    position INTEGER NOT NULL,
    sku_id BLOB NOT NULL,
    dish_id BLOB NOT NULL,
    station_id BLOB,
    name TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price_fen INTEGER NOT NULL,
    line_total_fen INTEGER NOT NULL,
    PRIMARY KEY (order_id, position)
) STRICT;

-- Every status change: who, when, from what.
CREATE TABLE order_transitions (
    order_id BLOB NOT NULL REFERENCES orders(id),
    version INTEGER NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (order_id, version)
) STRICT;

CREATE TABLE idempotency_keys (
    store_id BLOB NOT NULL REFERENCES stores(id),
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (store_id, idempotency_key)
) STRICT;

CREATE TABLE pickup_counters (
    store_id BLOB NOT NULL REFERENCES stores(id),
    business_date TEXT NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (store_id, business_date)
) STRICT;

-- The durable event log. `stream` names what the events are about ("order:<id>", "cart:<table>",
-- "store:<id>"); `stream_version` is gap-free within a stream because every writer of a stream
-- holds that stream's row lock (the order or cart row) while appending.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    stream_version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (stream, stream_version)
) STRICT;

-- The shared cart of one table, one row per line; `version` orders changes for live updates.
CREATE TABLE table_carts (
    table_id BLOB PRIMARY KEY REFERENCES dining_tables(id),
    store_id BLOB NOT NULL REFERENCES stores(id),
    version INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE cart_lines (
    id BLOB PRIMARY KEY,
    table_id BLOB NOT NULL REFERENCES table_carts(table_id),
    line_json TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    added_by TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX cart_lines_by_table ON cart_lines(table_id);
