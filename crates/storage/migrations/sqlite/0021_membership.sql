-- 会员: a brand's programme (levels, points, member day, recharge tiers), each diner's
-- membership at a brand, the points ledger, and stored-value recharges through the gateways.
-- A member's growth and points are the ledger folded; they change only with an entry, in one
-- transaction, under the member row's lock. An operation repeated with the same reference (the
-- same order, refund, redemption, expiry or staff request) writes nothing twice.
CREATE TABLE membership_programmes (
    brand_id BLOB PRIMARY KEY REFERENCES brands(id),
    levels_json TEXT NOT NULL,
    points_per_yuan INTEGER NOT NULL CHECK (points_per_yuan >= 0),
    expiry_months INTEGER NOT NULL CHECK (expiry_months >= 0),
    member_day_weekday INTEGER CHECK (member_day_weekday BETWEEN 1 AND 7),
    member_day_multiplier INTEGER NOT NULL CHECK (member_day_multiplier >= 1),
    recharge_tiers_json TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE members (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    customer_id BLOB NOT NULL REFERENCES customers(id),
    growth INTEGER NOT NULL CHECK (growth >= 0),
    points INTEGER NOT NULL CHECK (points >= 0),
    birthday_month INTEGER,
    birthday_day INTEGER,
    -- When the soonest lot expires: the expiry sweep finds members by it.
    next_expiry_at_ms INTEGER,
    version INTEGER NOT NULL,
    joined_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    UNIQUE (brand_id, customer_id)
) STRICT;
CREATE INDEX members_by_expiry ON members(next_expiry_at_ms) WHERE next_expiry_at_ms IS NOT NULL;

CREATE TABLE points_entries (
    id BLOB PRIMARY KEY,
    member_id BLOB NOT NULL REFERENCES members(id),
    kind TEXT NOT NULL,
    points INTEGER NOT NULL,
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    growth INTEGER NOT NULL,
    expires_at_ms INTEGER,
    lot_id BLOB,
    reference TEXT NOT NULL,
    order_id BLOB REFERENCES orders(id),
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (member_id, kind, reference)
) STRICT;
CREATE INDEX points_entries_by_order ON points_entries(order_id) WHERE order_id IS NOT NULL;

-- One row per recharge attempt at one gateway; the transaction id is unique per gateway, so
-- the same money never credits twice.
CREATE TABLE member_recharges (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    customer_id BLOB NOT NULL REFERENCES customers(id),
    provider TEXT NOT NULL,
    method TEXT NOT NULL,
    out_trade_no TEXT NOT NULL UNIQUE,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    bonus_fen INTEGER NOT NULL CHECK (bonus_fen >= 0),
    state TEXT NOT NULL,
    transaction_id TEXT,
    paid_at_ms INTEGER,
    flagged TEXT,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX member_recharges_transaction ON member_recharges(provider, transaction_id) WHERE transaction_id IS NOT NULL;
CREATE INDEX member_recharges_of_customer ON member_recharges(brand_id, customer_id);
