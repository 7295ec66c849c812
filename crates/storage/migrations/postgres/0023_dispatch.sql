-- 派单: who carries a delivery order. At most one active delivery per order, kept by the
-- partial unique index, so two staff giving the same order out at once leave one delivery.
-- A courier knows its deliveries by external_id, unique per provider: its reports find them.
CREATE TABLE deliveries (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    store_id UUID NOT NULL REFERENCES stores(id),
    order_id UUID NOT NULL REFERENCES orders(id),
    rider_staff_id UUID REFERENCES staff(id),
    provider TEXT,
    external_id TEXT,
    state TEXT NOT NULL,
    fee_fen BIGINT NOT NULL,
    rider_name TEXT,
    note TEXT,
    version BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    CHECK ((rider_staff_id IS NULL) <> (provider IS NULL)),
    CHECK ((provider IS NULL) = (external_id IS NULL))
);
CREATE UNIQUE INDEX deliveries_one_active ON deliveries(order_id)
    WHERE state IN ('requested', 'assigned', 'picked_up');
CREATE UNIQUE INDEX deliveries_by_courier ON deliveries(provider, external_id)
    WHERE provider IS NOT NULL;
CREATE INDEX deliveries_by_rider ON deliveries(rider_staff_id, state)
    WHERE rider_staff_id IS NOT NULL;
CREATE INDEX deliveries_by_order ON deliveries(order_id);
-- Each step of a delivery, who took it and when (the console's history).
CREATE TABLE delivery_events (
    delivery_id UUID NOT NULL REFERENCES deliveries(id),
    version BIGINT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    note TEXT,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, version)
);
