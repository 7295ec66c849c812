-- Notifications: each diner's in-app inbox, what they turned off, their one-time WeChat
-- subscribe grants (openid sealed by the application), every WeChat or SMS send keyed by what
-- caused it (so a redelivered outbox row or a resumed campaign sends nothing twice), and staff
-- campaigns with the cursor and token bucket that make a send resumable and paced.

CREATE TABLE notification_preferences (
    customer_id BLOB PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    -- Kinds turned off, comma-separated ("campaign,order_accepted").
    opted_out TEXT NOT NULL,
    sms_off INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

-- `source` names the cause ("outbox:<row id>", "campaign:<id>"): one message per diner each.
CREATE TABLE inbox_messages (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    customer_id BLOB NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    order_id BLOB,
    campaign_id BLOB,
    created_at_ms INTEGER NOT NULL,
    read_at_ms INTEGER,
    UNIQUE (customer_id, source)
) STRICT;
CREATE INDEX inbox_messages_by_customer ON inbox_messages(customer_id, id);
CREATE INDEX inbox_messages_unread ON inbox_messages(customer_id) WHERE read_at_ms IS NULL;

-- One row per "accept" a diner tapped: each allows one send of its template.
CREATE TABLE subscribe_grants (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    customer_id BLOB NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    template_id TEXT NOT NULL,
    openid_sealed BLOB NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('available', 'used', 'refused')),
    created_at_ms INTEGER NOT NULL,
    used_at_ms INTEGER
) STRICT;
CREATE INDEX subscribe_grants_available ON subscribe_grants(customer_id, kind) WHERE state = 'available';

-- A send through WeChat or SMS: claimed ('sending') before the call, settled after it.
CREATE TABLE notification_deliveries (
    source TEXT NOT NULL,
    customer_id BLOB NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('wechat', 'sms')),
    state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'refused', 'failed')),
    grant_id BLOB,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    started_at_ms INTEGER NOT NULL,
    finished_at_ms INTEGER,
    PRIMARY KEY (source, customer_id, channel)
) STRICT;

CREATE TABLE campaigns (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    audience TEXT NOT NULL,
    audience_days INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('draft', 'sending', 'finished')),
    created_by TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    -- Set when sending starts: the audience is who was a diner (and recent) at that instant.
    started_at_ms INTEGER,
    finished_at_ms INTEGER,
    audience_count INTEGER NOT NULL,
    -- The last customer (by id) whose batch committed; the next batch starts after it.
    cursor BLOB,
    reached_count INTEGER NOT NULL,
    delivered_count INTEGER NOT NULL,
    bucket_milli INTEGER NOT NULL,
    bucket_at_ms INTEGER NOT NULL,
    leased_until_ms INTEGER
) STRICT;
CREATE INDEX campaigns_by_brand ON campaigns(brand_id, created_at_ms);
CREATE INDEX campaigns_sending ON campaigns(state) WHERE state = 'sending';
