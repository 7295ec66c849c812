-- Tenancy, staff and the menu catalog. Ids are UUID v7 made by the application (native uuid here).
-- Times are UTC epoch milliseconds. JSON columns are opaque text decoded by the application.

CREATE TABLE brands (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    menu_revision BIGINT NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE stores (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    name TEXT NOT NULL,
    name_en TEXT,
    address TEXT NOT NULL,
    phone TEXT,
    latitude_e6 BIGINT NOT NULL,
    longitude_e6 BIGINT NOT NULL,
    rules_json TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX stores_by_brand ON stores(brand_id);

CREATE TABLE areas (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    store_id UUID NOT NULL REFERENCES stores(id),
    name TEXT NOT NULL,
    sort_order BIGINT NOT NULL,
    UNIQUE (store_id, name)
);

CREATE TABLE dining_tables (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    store_id UUID NOT NULL REFERENCES stores(id),
    area_id UUID NOT NULL REFERENCES areas(id),
    code TEXT NOT NULL,
    seats BIGINT NOT NULL,
    qr_token TEXT NOT NULL UNIQUE,
    UNIQUE (store_id, code)
);
CREATE INDEX dining_tables_by_area ON dining_tables(area_id);

CREATE TABLE staff (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    all_stores BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE staff_stores (
    staff_id UUID NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    store_id UUID NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    PRIMARY KEY (staff_id, store_id)
);

-- Only the SHA-256 of a session token is stored: a leaked table does not log anyone in.
CREATE TABLE staff_sessions (
    token_hash BYTEA PRIMARY KEY,
    staff_id UUID NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    brand_id UUID NOT NULL REFERENCES brands(id),
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions(staff_id);

-- Failed logins per key (login name or client address) in a sliding window, shared by all instances.
CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,
    window_started_ms BIGINT NOT NULL,
    failures BIGINT NOT NULL
);

CREATE TABLE stations (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    name TEXT NOT NULL,
    name_en TEXT,
    sort_order BIGINT NOT NULL,
    UNIQUE (brand_id, name)
);

CREATE TABLE categories (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    name TEXT NOT NULL,
    name_en TEXT,
    sort_order BIGINT NOT NULL,
    availability_json TEXT NOT NULL,
    UNIQUE (brand_id, name)
);

CREATE TABLE images (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    thumbnail BYTEA NOT NULL,
    detail BYTEA NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

-- Option groups and combo slots live as JSON on the dish: nothing else references them,
-- and order lines copy what the diner chose.
CREATE TABLE dishes (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    category_id UUID NOT NULL REFERENCES categories(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    name_en TEXT,
    description TEXT,
    description_en TEXT,
    tags_json TEXT NOT NULL,
    ingredients TEXT,
    allergens_json TEXT NOT NULL,
    calories_kcal BIGINT,
    portion TEXT,
    sort_order BIGINT NOT NULL,
    station_id UUID REFERENCES stations(id),
    on_shelf BOOLEAN NOT NULL,
    availability_json TEXT NOT NULL,
    image_ids_json TEXT NOT NULL,
    option_groups_json TEXT NOT NULL,
    combo_slots_json TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX dishes_by_brand ON dishes(brand_id, category_id);

CREATE TABLE skus (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    dish_id UUID NOT NULL REFERENCES dishes(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT,
    name_en TEXT,
    price_fen BIGINT NOT NULL,
    position BIGINT NOT NULL,
    UNIQUE (brand_id, code)
);
CREATE INDEX skus_by_dish ON skus(dish_id);

CREATE TABLE store_dish_settings (
    store_id UUID NOT NULL REFERENCES stores(id),
    dish_id UUID NOT NULL REFERENCES dishes(id) ON DELETE CASCADE,
    listed BOOLEAN NOT NULL,
    PRIMARY KEY (store_id, dish_id)
);

CREATE TABLE store_sku_states (
    store_id UUID NOT NULL REFERENCES stores(id),
    sku_id UUID NOT NULL REFERENCES skus(id) ON DELETE CASCADE,
    price_fen BIGINT,
    stock BIGINT,
    daily_limit BIGINT,
    sold_count BIGINT NOT NULL DEFAULT 0,
    sold_on TEXT,
    low_stock_threshold BIGINT,
    sold_out BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (store_id, sku_id)
);

-- Keys the server makes for itself on first start (e.g. for signing table QR tokens),
-- shared by every instance that uses this database.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    secret BYTEA NOT NULL
);
