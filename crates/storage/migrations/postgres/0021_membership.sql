-- 会员: a brand's programme (levels, points, member day, recharge tiers), each diner's
-- membership at a brand, the points ledger, and stored-value recharges through the gateways.
-- A member's growth and points are the ledger folded; they change only with an entry, in one
-- transaction, under the member row's lock. An operation repeated with the same reference (the
-- same order, refund, redemption, expiry or staff request) writes nothing twice.
CREATE TABLE membership_programmes (
    brand_id UUID PRIMARY KEY REFERENCES brands(id),
    levels_json TEXT NOT NULL,
    points_per_yuan BIGINT NOT NULL CHECK (points_per_yuan >= 0),
    expiry_months BIGINT NOT NULL CHECK (expiry_months >= 0),
    member_day_weekday BIGINT CHECK (member_day_weekday BETWEEN 1 AND 7),
    member_day_multiplier BIGINT NOT NULL CHECK (member_day_multiplier >= 1),
    recharge_tiers_json TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE members (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    customer_id UUID NOT NULL REFERENCES customers(id),
    growth BIGINT NOT NULL CHECK (growth >= 0),
    points BIGINT NOT NULL CHECK (points >= 0),
    birthday_month BIGINT,
    birthday_day BIGINT,
    -- When the soonest lot expires: the expiry sweep finds members by it.
    next_expiry_at_ms BIGINT,
    version BIGINT NOT NULL,
    joined_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (brand_id, customer_id)
);
CREATE INDEX members_by_expiry ON members(next_expiry_at_ms) WHERE next_expiry_at_ms IS NOT NULL;

CREATE TABLE points_entries (
    id UUID PRIMARY KEY,
    member_id UUID NOT NULL REFERENCES members(id),
    kind TEXT NOT NULL,
    points BIGINT NOT NULL,
    balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
    growth BIGINT NOT NULL,
    expires_at_ms BIGINT,
    lot_id UUID,
    reference TEXT NOT NULL,
    order_id UUID REFERENCES orders(id),
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    UNIQUE (member_id, kind, reference)
);
CREATE INDEX points_entries_by_order ON points_entries(order_id) WHERE order_id IS NOT NULL;

-- One row per recharge attempt at one gateway; the transaction id is unique per gateway, so
-- the same money never credits twice.
CREATE TABLE member_recharges (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    customer_id UUID NOT NULL REFERENCES customers(id),
    provider TEXT NOT NULL,
    method TEXT NOT NULL,
    out_trade_no TEXT NOT NULL UNIQUE,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    bonus_fen BIGINT NOT NULL CHECK (bonus_fen >= 0),
    state TEXT NOT NULL,
    transaction_id TEXT,
    paid_at_ms BIGINT,
    flagged TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX member_recharges_transaction ON member_recharges(provider, transaction_id) WHERE transaction_id IS NOT NULL;
CREATE INDEX member_recharges_of_customer ON member_recharges(brand_id, customer_id);
