-- Diners known to a brand. Phones are sealed with AES-256-GCM by the application (PIPL Art. 51)
-- and found again through a keyed blind index; WeChat openids are kept only as a blind index.

CREATE TABLE customers (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    phone_sealed BLOB,
    phone_index BLOB,
    wechat_openid_index BLOB,
    display_name TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (brand_id, phone_index),
    UNIQUE (brand_id, wechat_openid_index),
    CHECK ((phone_sealed IS NULL) = (phone_index IS NULL)),
    CHECK (phone_index IS NOT NULL OR wechat_openid_index IS NOT NULL)
) STRICT;

-- Only the SHA-256 of a customer session token is stored, as for staff.
CREATE TABLE customer_sessions (
    token_hash BLOB PRIMARY KEY,
    customer_id BLOB NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX customer_sessions_by_customer ON customer_sessions(customer_id);

-- One-time SMS codes: only a keyed hash of the code, a few minutes of life, a capped number of guesses.
CREATE TABLE otp_challenges (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    phone_index BLOB NOT NULL,
    code_hash BLOB NOT NULL,
    attempts INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    consumed INTEGER NOT NULL
) STRICT;
CREATE INDEX otp_challenges_by_phone ON otp_challenges(brand_id, phone_index);
