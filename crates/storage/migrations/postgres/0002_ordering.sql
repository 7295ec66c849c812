-- Table sessions, orders with their lines and transitions, idempotency keys, pickup counters,
-- shared table carts, and the durable event log that live streams replay from.

CREATE TABLE table_sessions (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    store_id UUID NOT NULL REFERENCES stores(id),
    table_id UUID NOT NULL REFERENCES dining_tables(id),
    status TEXT NOT NULL,
    diners BIGINT,
    opened_at_ms BIGINT NOT NULL,
    closed_at_ms BIGINT
);
-- At most one open session per table.
CREATE UNIQUE INDEX table_sessions_one_open ON table_sessions(table_id) WHERE status = 'open';

CREATE TABLE orders (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    store_id UUID NOT NULL REFERENCES stores(id),
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    table_session_id UUID REFERENCES table_sessions(id),
    table_id UUID REFERENCES dining_tables(id),
    pickup_number BIGINT NOT NULL,
    business_date TEXT NOT NULL,
    round BIGINT NOT NULL,
    diners BIGINT,
    total_fen BIGINT NOT NULL,
    quote_json TEXT NOT NULL,
    contact_json TEXT,
    note TEXT,
    ready_by_ms BIGINT,
    pay_by_ms BIGINT,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    last_hurry_ms BIGINT,
    placed_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX orders_by_store_day ON orders(store_id, business_date);
CREATE INDEX orders_by_session ON orders(table_session_id);
CREATE INDEX orders_unpaid ON orders(status, pay_by_ms);

CREATE TABLE order_lines (
    order_id UUID NOT NULL REFERENCES orders(id),
    position BIGINT NOT NULL,
    sku_id UUID NOT NULL,
    dish_id UUID NOT NULL,
    station_id UUID,
    name TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit_price_fen BIGINT NOT NULL,
    line_total_fen BIGINT NOT NULL,
    PRIMARY KEY (order_id, position)
);

-- Every status change: who, when, from what.
CREATE TABLE order_transitions (
    order_id UUID NOT NULL REFERENCES orders(id),
    version BIGINT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (order_id, version)
);

CREATE TABLE idempotency_keys (
    store_id UUID NOT NULL REFERENCES stores(id),
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id UUID NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (store_id, idempotency_key)
);

CREATE TABLE pickup_counters (
    store_id UUID NOT NULL REFERENCES stores(id),
    business_date TEXT NOT NULL,
    last_number BIGINT NOT NULL,
    PRIMARY KEY (store_id, business_date)
);

-- The durable event log. `stream` names what the events are about ("order:<id>", "cart:<table>",
-- "store:<id>"); `stream_version` is gap-free within a stream because every writer of a stream
-- holds that stream's row lock (the order or cart row) while appending.
CREATE TABLE events (
    seq BIGSERIAL PRIMARY KEY,
    stream TEXT NOT NULL,
    stream_version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    UNIQUE (stream, stream_version)
);

-- The shared cart of one table, one row per line; `version` orders changes for live updates.
CREATE TABLE table_carts (
    table_id UUID PRIMARY KEY REFERENCES dining_tables(id),
    store_id UUID NOT NULL REFERENCES stores(id),
    version BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE cart_lines (
    id UUID PRIMARY KEY,
    table_id UUID NOT NULL REFERENCES table_carts(table_id),
    line_json TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    added_by TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX cart_lines_by_table ON cart_lines(table_id);
