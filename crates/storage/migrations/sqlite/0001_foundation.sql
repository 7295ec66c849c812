-- Tenancy, staff and the menu catalog. Ids are UUID v7 made by the application (16-byte BLOBs here).
-- Times are UTC epoch milliseconds. JSON columns are opaque text decoded by the application.

CREATE TABLE brands (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    menu_revision INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE stores (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    name TEXT NOT NULL,
    name_en TEXT,
    address TEXT NOT NULL,
    phone TEXT,
    latitude_e6 INTEGER NOT NULL,
    longitude_e6 INTEGER NOT NULL,
    rules_json TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX stores_by_brand ON stores(brand_id);

CREATE TABLE areas (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    store_id BLOB NOT NULL REFERENCES stores(id),
    name TEXT NOT NULL,
    sort_order INTEGER NOT NULL,
    UNIQUE (store_id, name)
) STRICT;

CREATE TABLE dining_tables (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    store_id BLOB NOT NULL REFERENCES stores(id),
    area_id BLOB NOT NULL REFERENCES areas(id),
    code TEXT NOT NULL,
    seats INTEGER NOT NULL,
    qr_token TEXT NOT NULL UNIQUE,
    UNIQUE (store_id, code)
) STRICT;
CREATE INDEX dining_tables_by_area ON dining_tables(area_id);

CREATE TABLE staff (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    all_stores INTEGER NOT NULL,
    active INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE staff_stores (
    staff_id BLOB NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    store_id BLOB NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    PRIMARY KEY (staff_id, store_id)
) STRICT;

-- Only the SHA-256 of a session token is stored: a leaked table does not log anyone in.
CREATE TABLE staff_sessions (
    token_hash BLOB PRIMARY KEY,
    staff_id BLOB NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX staff_sessions_by_staff ON staff_sessions(staff_id);

-- Failed logins per key (login name or client address) in a sliding window, shared by all instances.
CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,
    window_started_ms INTEGER NOT NULL,
    failures INTEGER NOT NULL
) STRICT;

CREATE TABLE stations (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    name TEXT NOT NULL,
    name_en TEXT,
    sort_order INTEGER NOT NULL,
    UNIQUE (brand_id, name)
) STRICT;

CREATE TABLE categories (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    name TEXT NOT NULL,
    name_en TEXT,
    sort_order INTEGER NOT NULL,
    availability_json TEXT NOT NULL,
    UNIQUE (brand_id, name)
) STRICT;

CREATE TABLE images (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    thumbnail BLOB NOT NULL,
    detail BLOB NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL
) STRICT;

-- Option groups and combo slots live as JSON on the dish: nothing else references them,
-- and order lines copy what the diner chose.
CREATE TABLE dishes (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    category_id BLOB NOT NULL REFERENCES categories(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    name_en TEXT,
    description TEXT,
    description_en TEXT,
    tags_json TEXT NOT NULL,
    ingredients TEXT,
    allergens_json TEXT NOT NULL,
    calories_kcal INTEGER,
    portion TEXT,
    sort_order INTEGER NOT NULL,
    station_id BLOB REFERENCES stations(id),
    on_shelf INTEGER NOT NULL,
    availability_json TEXT NOT NULL,
    image_ids_json TEXT NOT NULL,
    option_groups_json TEXT NOT NULL,
    combo_slots_json TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX dishes_by_brand ON dishes(brand_id, category_id);

CREATE TABLE skus (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    dish_id BLOB NOT NULL REFERENCES dishes(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT,
    name_en TEXT,
    price_fen INTEGER NOT NULL,
    position INTEGER NOT NULL,
    UNIQUE (brand_id, code)
) STRICT;
CREATE INDEX skus_by_dish ON skus(dish_id);

CREATE TABLE store_dish_settings (
    store_id BLOB NOT NULL REFERENCES stores(id),
    dish_id BLOB NOT NULL REFERENCES dishes(id) ON DELETE CASCADE,
    listed INTEGER NOT NULL,
    PRIMARY KEY (store_id, dish_id)
) STRICT;

CREATE TABLE store_sku_states (
    store_id BLOB NOT NULL REFERENCES stores(id),
    sku_id BLOB NOT NULL REFERENCES skus(id) ON DELETE CASCADE,
    price_fen INTEGER,
    stock INTEGER,
    daily_limit INTEGER,
    sold_count INTEGER NOT NULL DEFAULT 0,
    sold_on TEXT,
    low_stock_threshold INTEGER,
    sold_out INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (store_id, sku_id)
) STRICT;

-- Keys the server makes for itself on first start (e.g. for signing table QR tokens),
-- shared by every instance that uses this database.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    secret BLOB NOT NULL
) STRICT;
