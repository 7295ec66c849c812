//! Counters that slow down guessing, shared by every instance through the database: fixed-window
//! counts (`login_throttle`: code sends, failed logins per client) and per-account back-off
//! (`login_backoff`). Each attempt is counted in the same statement that decides on it, so
//! parallel requests cannot all read "under the limit" before any of them is counted.

use crate::db::Db;
use crate::error::{Result, StorageError};
use diancan_domain::login_throttle::{AddressLimit, LoginBackoff};

/// A throttle counter after one more hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleHit {
    pub count: i64,
    pub window_started_ms: i64,
}

/// Whether a login attempt may have its password checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginClaim {
    /// Counted as a failure already; a correct password then calls [`Db::login_succeeded`].
    Granted,
    Refused {
        retry_after_ms: i64,
    },
}

/// One more hit in a fixed window; a window that has run out starts over.
const HIT_WINDOW: &str = "INSERT INTO login_throttle (throttle_key, window_started_ms, failures) VALUES ($1, $2, 1)
    ON CONFLICT (throttle_key) DO UPDATE SET
        failures = CASE WHEN login_throttle.window_started_ms <= $3 THEN 1 ELSE login_throttle.failures + 1 END,
        window_started_ms = CASE WHEN login_throttle.window_started_ms <= $3 THEN $2 ELSE login_throttle.window_started_ms END
    RETURNING failures, window_started_ms";
/// A success gives back the failure its attempt was counted as.
const REFUND_WINDOW_HIT: &str =
    "UPDATE login_throttle SET failures = failures - 1 WHERE throttle_key = $1 AND failures > 0";
/// One more failure for the account (the count starts over after a quiet spell), returning
/// the wait that was in force before this attempt.
const COUNT_ACCOUNT_ATTEMPT: &str = "INSERT INTO login_backoff (account_key, failures, last_attempt_ms, retry_at_ms) VALUES ($1, 1, $2, $2)
    ON CONFLICT (account_key) DO UPDATE SET
        failures = CASE WHEN login_backoff.last_attempt_ms <= $3 THEN 1 ELSE login_backoff.failures + 1 END,
        last_attempt_ms = $2
    RETURNING failures, retry_at_ms";
const SET_ACCOUNT_WAIT: &str = "UPDATE login_backoff SET retry_at_ms = $2 WHERE account_key = $1";
const CLEAR_ACCOUNT: &str = "DELETE FROM login_backoff WHERE account_key = $1";

impl Db {
    /// Counts one hit on `key` in a fixed window of `window_ms`, shared by all instances through
    /// the `login_throttle` table; the caller refuses when the count is over its limit.
    pub async fn hit_throttle(
        &self,
        key: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<ThrottleHit> {
        if window_ms <= 0 {
            return Err(StorageError::Refused("THROTTLE_WINDOW"));
        }
        let mut tx = self.begin().await?;
        let (count, window_started_ms): (i64, i64) =
            on_tx!(&mut tx, |c| sqlx::query_as(HIT_WINDOW)
                .bind(key)
                .bind(now_ms)
                .bind(now_ms - window_ms)
                .fetch_one(&mut *c)
                .await)?;
        tx.commit().await?;
        Ok(ThrottleHit {
            count,
            window_started_ms,
        })
    }

    /// Counts a login attempt as a failure before its password is checked, against the account
    /// (`backoff`) and, when known, the client (`address`): both in one transaction, and neither
    /// when either refuses, so a refused attempt costs the other counter nothing.
    pub async fn claim_login_attempt(
        &self,
        account_key: &str,
        address_key: Option<&str>,
        now_ms: i64,
        backoff: &LoginBackoff,
        address: &AddressLimit,
    ) -> Result<LoginClaim> {
        let mut tx = self.begin().await?;
        let (failures, retry_at_ms): (i64, i64) =
            on_tx!(&mut tx, |c| sqlx::query_as(COUNT_ACCOUNT_ATTEMPT)
                .bind(account_key)
                .bind(now_ms)
                .bind(now_ms - backoff.forget_after_ms)
                .fetch_one(&mut *c)
                .await)?;
        // A forgotten count (failures back at 1) had its wait run out long ago.
        if failures > 1 && retry_at_ms > now_ms {
            return refuse(tx, retry_at_ms - now_ms).await;
        }
        on_tx!(&mut tx, |c| sqlx::query(SET_ACCOUNT_WAIT)
            .bind(account_key)
            .bind(now_ms + backoff.wait_after_ms(failures))
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if let Some(address_key) = address_key {
            let (count, window_started_ms): (i64, i64) =
                on_tx!(&mut tx, |c| sqlx::query_as(HIT_WINDOW)
                    .bind(address_key)
                    .bind(now_ms)
                    .bind(now_ms - address.window_ms)
                    .fetch_one(&mut *c)
                    .await)?;
            if count > address.max_failures {
                return refuse(tx, window_started_ms + address.window_ms - now_ms).await;
            }
        }
        tx.commit().await?;
        Ok(LoginClaim::Granted)
    }

    /// A correct password: the account's failures are forgotten, and the client gets back the
    /// failure this attempt was counted as.
    pub async fn login_succeeded(
        &self,
        account_key: &str,
        address_key: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(CLEAR_ACCOUNT)
            .bind(account_key)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if let Some(address_key) = address_key {
            on_tx!(&mut tx, |c| sqlx::query(REFUND_WINDOW_HIT)
                .bind(address_key)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        tx.commit().await
    }
}

/// Undoes everything the refused attempt counted.
async fn refuse(tx: crate::tx::Tx, retry_after_ms: i64) -> Result<LoginClaim> {
    tx.rollback().await?;
    Ok(LoginClaim::Refused { retry_after_ms })
}
