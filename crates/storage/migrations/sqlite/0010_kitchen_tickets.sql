-- Kitchen tickets: one per order and station, written in the transaction of the order change
-- that sends the order to the kitchen (接单). Items are kept when an order is cancelled (voided,
-- struck through on the screens), never deleted.
CREATE TABLE kitchen_tickets (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    store_id BLOB NOT NULL REFERENCES stores(id),
    order_id BLOB NOT NULL REFERENCES orders(id),
    -- NULL only for a brand without stations: one ticket for the whole kitchen.
    station_id BLOB REFERENCES stations(id),
    label TEXT NOT NULL,
    channel TEXT NOT NULL,
    round INTEGER NOT NULL,
    business_date TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    bumped_by TEXT,
    bumped_at_ms INTEGER,
    recalls INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX kitchen_ticket_per_station ON kitchen_tickets(order_id, station_id) WHERE station_id IS NOT NULL;
CREATE UNIQUE INDEX kitchen_ticket_without_station ON kitchen_tickets(order_id) WHERE station_id IS NULL;
CREATE INDEX kitchen_tickets_board ON kitchen_tickets(store_id, state, business_date);

CREATE TABLE kitchen_ticket_items (
    ticket_id BLOB NOT NULL REFERENCES kitchen_tickets(id),
    line INTEGER NOT NULL,
    dish_id BLOB NOT NULL,
    sku_id BLOB NOT NULL,
    dish_name TEXT NOT NULL,
    specs_json TEXT NOT NULL,
    note TEXT,
    quantity INTEGER NOT NULL,
    state TEXT NOT NULL,
    changed_by TEXT,
    changed_at_ms INTEGER,
    PRIMARY KEY (ticket_id, line)
) STRICT;

-- One row per store: its kitchen stream's last version. Every kitchen write takes this row
-- first, so the stream stays gap-free and the store's ticket writes queue rather than deadlock.
CREATE TABLE kitchen_streams (
    store_id BLOB PRIMARY KEY REFERENCES stores(id),
    version INTEGER NOT NULL
) STRICT;

-- Each station's prep-time target and when its tickets turn amber and red (seconds).
ALTER TABLE stations ADD COLUMN prep_target_secs INTEGER NOT NULL DEFAULT 600;
ALTER TABLE stations ADD COLUMN prep_amber_after_secs INTEGER NOT NULL DEFAULT 480;
ALTER TABLE stations ADD COLUMN prep_red_after_secs INTEGER NOT NULL DEFAULT 600;
