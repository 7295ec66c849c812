-- 营销: a brand's promotions and coupon templates, the coupons diners hold, and what each order
-- redeemed. A promotion's and a template's rule is the domain's own type as JSON (checked again
-- whenever it is read: a bad row is skipped, never priced); the columns beside it are what the
-- database itself must see: whether it is on, when, and the limits it enforces under a lock.
CREATE TABLE promotions (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    name TEXT NOT NULL,
    rule_json TEXT NOT NULL,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    -- The active window, end exclusive; NULL is open-ended.
    starts_at_ms INTEGER,
    ends_at_ms INTEGER,
    -- How many orders one diner may use it on (NULL: no limit; guests cannot use a limited one).
    per_diner_limit INTEGER CHECK (per_diner_limit IS NULL OR per_diner_limit >= 1),
    version INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX promotions_by_brand ON promotions(brand_id);

-- Orders each diner has used a limited promotion on: the row is the lock the limit is checked under.
CREATE TABLE promotion_uses (
    promotion_id BLOB NOT NULL REFERENCES promotions(id),
    customer_id BLOB NOT NULL REFERENCES customers(id),
    used INTEGER NOT NULL CHECK (used >= 0),
    PRIMARY KEY (promotion_id, customer_id)
) STRICT;

CREATE TABLE coupon_templates (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    name TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    -- Shown in the coupon centre for diners to claim themselves.
    claimable INTEGER NOT NULL CHECK (claimable IN (0, 1)),
    per_diner_limit INTEGER NOT NULL CHECK (per_diner_limit >= 1),
    -- NULL: no total limit.
    total_limit INTEGER CHECK (total_limit IS NULL OR total_limit >= 1),
    issued INTEGER NOT NULL CHECK (issued >= 0 AND (total_limit IS NULL OR issued <= total_limit)),
    version INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX coupon_templates_by_brand ON coupon_templates(brand_id);

-- How many of a template each diner has claimed: the per-diner limit's lock.
CREATE TABLE coupon_claims (
    template_id BLOB NOT NULL REFERENCES coupon_templates(id),
    customer_id BLOB NOT NULL REFERENCES customers(id),
    claimed INTEGER NOT NULL CHECK (claimed >= 1),
    PRIMARY KEY (template_id, customer_id)
) STRICT;

-- One diner's copy of a coupon. `used` carries the order; cancelling or fully refunding that
-- order makes it `available` again (the redemption row keeps the history).
CREATE TABLE coupon_grants (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    template_id BLOB NOT NULL REFERENCES coupon_templates(id),
    customer_id BLOB NOT NULL REFERENCES customers(id),
    claimed_at_ms INTEGER NOT NULL,
    valid_from_ms INTEGER NOT NULL,
    valid_until_ms INTEGER NOT NULL CHECK (valid_until_ms > valid_from_ms),
    state TEXT NOT NULL CHECK (state IN ('available', 'used')),
    order_id BLOB REFERENCES orders(id),
    used_at_ms INTEGER,
    CHECK ((state = 'used') = (order_id IS NOT NULL))
) STRICT;
CREATE INDEX coupon_grants_by_customer ON coupon_grants(customer_id, brand_id, state);
CREATE INDEX coupon_grants_by_order ON coupon_grants(order_id) WHERE order_id IS NOT NULL;

-- Every promotion and coupon an order used, with the amount it took off: the statistics per
-- template and per promotion, and what a cancel or a refund gives back.
CREATE TABLE redemptions (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    order_id BLOB NOT NULL REFERENCES orders(id),
    customer_id BLOB REFERENCES customers(id),
    promotion_id BLOB REFERENCES promotions(id),
    template_id BLOB REFERENCES coupon_templates(id),
    grant_id BLOB REFERENCES coupon_grants(id),
    label TEXT NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
    created_at_ms INTEGER NOT NULL,
    returned_at_ms INTEGER,
    CHECK ((promotion_id IS NULL) <> (template_id IS NULL))
) STRICT;
CREATE INDEX redemptions_by_order ON redemptions(order_id);
CREATE INDEX redemptions_by_template ON redemptions(template_id) WHERE template_id IS NOT NULL;
CREATE INDEX redemptions_by_promotion ON redemptions(promotion_id) WHERE promotion_id IS NOT NULL;
