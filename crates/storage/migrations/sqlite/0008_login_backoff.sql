-- Per-account login back-off: failures since the last success or quiet spell, and when the
-- account next hears a password. Replaces the fixed 15-minute lock kept in login_throttle,
-- which now counts only per-client windows and code sends.
CREATE TABLE login_backoff (
    account_key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_attempt_ms INTEGER NOT NULL,
    retry_at_ms INTEGER NOT NULL
) STRICT;

DELETE FROM login_throttle WHERE throttle_key LIKE 'login:%';
