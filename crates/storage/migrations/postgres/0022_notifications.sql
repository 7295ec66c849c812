-- Notifications: each diner's in-app inbox, what they turned off, their one-time WeChat
-- subscribe grants (openid sealed by the application), every WeChat or SMS send keyed by what
-- caused it (so a redelivered outbox row or a resumed campaign sends nothing twice), and staff
-- campaigns with the cursor and token bucket that make a send resumable and paced.

CREATE TABLE notification_preferences (
    customer_id UUID PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
    brand_id UUID NOT NULL REFERENCES brands(id),
    -- Kinds turned off, comma-separated ("campaign,order_accepted").
    opted_out TEXT NOT NULL,
    sms_off BOOLEAN NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

-- `source` names the cause ("outbox:<row id>", "campaign:<id>"): one message per diner each.
CREATE TABLE inbox_messages (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    order_id UUID,
    campaign_id UUID,
    created_at_ms BIGINT NOT NULL,
    read_at_ms BIGINT,
    UNIQUE (customer_id, source)
);
CREATE INDEX inbox_messages_by_customer ON inbox_messages(customer_id, id);
CREATE INDEX inbox_messages_unread ON inbox_messages(customer_id) WHERE read_at_ms IS NULL;

-- One row per "accept" a diner tapped: each allows one send of its template.
CREATE TABLE subscribe_grants (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    template_id TEXT NOT NULL,
    openid_sealed BYTEA NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('available', 'used', 'refused')),
    created_at_ms BIGINT NOT NULL,
    used_at_ms BIGINT
);
CREATE INDEX subscribe_grants_available ON subscribe_grants(customer_id, kind) WHERE state = 'available';

-- A send through WeChat or SMS: claimed ('sending') before the call, settled after it.
CREATE TABLE notification_deliveries (
    source TEXT NOT NULL,
    customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('wechat', 'sms')),
    state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'refused', 'failed')),
    grant_id UUID,
    attempts BIGINT NOT NULL,
    last_error TEXT,
    started_at_ms BIGINT NOT NULL,
    finished_at_ms BIGINT,
    PRIMARY KEY (source, customer_id, channel)
);

CREATE TABLE campaigns (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    audience TEXT NOT NULL,
    audience_days BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('draft', 'sending', 'finished')),
    created_by TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    -- Set when sending starts: the audience is who was a diner (and recent) at that instant.
    started_at_ms BIGINT,
    finished_at_ms BIGINT,
    audience_count BIGINT NOT NULL,
    -- The last customer (by id) whose batch committed; the next batch starts after it.
    cursor UUID,
    reached_count BIGINT NOT NULL,
    delivered_count BIGINT NOT NULL,
    bucket_milli BIGINT NOT NULL,
    bucket_at_ms BIGINT NOT NULL,
    leased_until_ms BIGINT
);
CREATE INDEX campaigns_by_brand ON campaigns(brand_id, created_at_ms);
CREATE INDEX campaigns_sending ON campaigns(state) WHERE state = 'sending';
