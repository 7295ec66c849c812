//! Diners of a brand, their sessions and one-time SMS codes.
//! Personal data arrives already sealed and indexed: this module never sees a phone number.

use crate::db::Db;
use crate::error::Result;
use diancan_domain::customer::{BlindIndex, OtpRefusal, SealedPii, otp_refusal};
use diancan_domain::{BrandId, CustomerId, OtpChallengeId};
use sqlx::FromRow;
use uuid::Uuid;

/// A customer as stored: the phone is still sealed; the web edge opens it when it must.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecord {
    pub id: CustomerId,
    pub brand_id: BrandId,
    pub phone: Option<SealedPii>,
    /// Logged in through WeChat at least once.
    pub has_wechat: bool,
    pub display_name: String,
    pub created_at_ms: i64,
}

/// A code just sent to a phone.
#[derive(Debug, Clone)]
pub struct NewOtpChallenge {
    pub id: OtpChallengeId,
    pub brand_id: BrandId,
    pub phone_index: BlindIndex,
    pub code_hash: Vec<u8>,
    pub expires_at_ms: i64,
}

/// The outcome of asking to check a code: either one guess has been counted against the open
/// challenge (compare the code, then [`Db::consume_otp_challenge`]), or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpAttempt {
    Open {
        challenge_id: OtpChallengeId,
        code_hash: Vec<u8>,
        /// Guesses used so far, this one included.
        attempts: i64,
    },
    Refused(OtpRefusal),
}

/// A `SELECT` of one customer row with the given `WHERE`.
macro_rules! select_customer {
    ($condition:literal) => {
        concat!(
            "SELECT c.id, c.brand_id, c.phone_sealed, c.wechat_openid_index IS NOT NULL AS has_wechat, c.display_name, c.created_at_ms FROM customers c ",
            $condition
        )
    };
}

const SELECT_CUSTOMER_BY_PHONE: &str =
    select_customer!("WHERE c.brand_id = $1 AND c.phone_index = $2");
const SELECT_CUSTOMER_BY_WECHAT: &str =
    select_customer!("WHERE c.brand_id = $1 AND c.wechat_openid_index = $2");
const SELECT_CUSTOMER_BY_ID: &str = select_customer!("WHERE c.brand_id = $1 AND c.id = $2");
const SELECT_SESSION_CUSTOMER: &str = select_customer!(
    "JOIN customer_sessions s ON s.customer_id = c.id AND s.brand_id = c.brand_id
    WHERE s.token_hash = $1 AND s.expires_at_ms > $2"
);
const INSERT_PHONE_CUSTOMER: &str =
    "INSERT INTO customers (id, brand_id, phone_sealed, phone_index, display_name, created_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (brand_id, phone_index) DO NOTHING";
const INSERT_WECHAT_CUSTOMER: &str =
    "INSERT INTO customers (id, brand_id, wechat_openid_index, display_name, created_at_ms)
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (brand_id, wechat_openid_index) DO NOTHING";
const INSERT_SESSION: &str = "INSERT INTO customer_sessions (token_hash, customer_id, brand_id, created_at_ms, expires_at_ms)
    VALUES ($1, $2, $3, $4, $5)";
const DELETE_EXPIRED_SESSIONS: &str = "DELETE FROM customer_sessions WHERE expires_at_ms <= $1";
const DELETE_SESSION: &str = "DELETE FROM customer_sessions WHERE token_hash = $1";
/// Codes long past expiry are deleted whenever a new one is made (PIPL Art. 19: keep no longer than needed).
const DELETE_STALE_CHALLENGES: &str = "DELETE FROM otp_challenges WHERE expires_at_ms <= $1";
/// A new code replaces any open one for the same phone.
const SUPERSEDE_CHALLENGES: &str = "UPDATE otp_challenges SET consumed = $1
    WHERE brand_id = $2 AND phone_index = $3 AND consumed = $4";
const INSERT_CHALLENGE: &str = "INSERT INTO otp_challenges (id, brand_id, phone_index, code_hash, attempts, created_at_ms, expires_at_ms, consumed)
    VALUES ($1, $2, $3, $4, 0, $5, $6, $7)";
const SELECT_OPEN_CHALLENGE: &str = "SELECT id, attempts, expires_at_ms FROM otp_challenges
    WHERE brand_id = $1 AND phone_index = $2 AND consumed = $3
    ORDER BY created_at_ms DESC, id DESC LIMIT 1";
/// Counts a guess only while guesses remain, so concurrent guesses cannot exceed the cap.
const COUNT_ATTEMPT: &str = "UPDATE otp_challenges SET attempts = attempts + 1
    WHERE id = $1 AND attempts < $2 AND consumed = $3
    RETURNING attempts, code_hash";
/// Single use: of two racing correct guesses, only one flips `consumed`.
const CONSUME_CHALLENGE: &str =
    "UPDATE otp_challenges SET consumed = $1 WHERE id = $2 AND consumed = $3";

#[derive(FromRow)]
struct CustomerRow {
    id: Uuid,
    brand_id: Uuid,
    phone_sealed: Option<Vec<u8>>,
    has_wechat: bool,
    display_name: String,
    created_at_ms: i64,
}

impl From<CustomerRow> for CustomerRecord {
    fn from(r: CustomerRow) -> Self {
        CustomerRecord {
            id: CustomerId::from_uuid(r.id),
            brand_id: BrandId::from_uuid(r.brand_id),
            phone: r.phone_sealed.map(SealedPii::from_bytes),
            has_wechat: r.has_wechat,
            display_name: r.display_name,
            created_at_ms: r.created_at_ms,
        }
    }
}

impl Db {
    /// The brand's customer with this phone, created (with `sealed` as the phone) on first login.
    /// Two first logins racing for the same phone end up with the same customer.
    pub async fn customer_by_phone_or_create(
        &self,
        brand_id: BrandId,
        phone_index: &BlindIndex,
        sealed: &SealedPii,
        display_name: &str,
        now_ms: i64,
    ) -> Result<CustomerRecord> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_PHONE_CUSTOMER)
            .bind(CustomerId::new().as_uuid())
            .bind(brand_id.as_uuid())
            .bind(sealed.as_bytes())
            .bind(phone_index.as_bytes())
            .bind(display_name)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        let row: CustomerRow = on_tx!(&mut tx, |c| sqlx::query_as(SELECT_CUSTOMER_BY_PHONE)
            .bind(brand_id.as_uuid())
            .bind(phone_index.as_bytes())
            .fetch_one(&mut *c)
            .await)?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// The brand's customer with this WeChat identity, created on first login.
    pub async fn customer_by_wechat_or_create(
        &self,
        brand_id: BrandId,
        openid_index: &BlindIndex,
        display_name: &str,
        now_ms: i64,
    ) -> Result<CustomerRecord> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_WECHAT_CUSTOMER)
            .bind(CustomerId::new().as_uuid())
            .bind(brand_id.as_uuid())
            .bind(openid_index.as_bytes())
            .bind(display_name)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        let row: CustomerRow = on_tx!(&mut tx, |c| sqlx::query_as(SELECT_CUSTOMER_BY_WECHAT)
            .bind(brand_id.as_uuid())
            .bind(openid_index.as_bytes())
            .fetch_one(&mut *c)
            .await)?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// Finds a customer by WeChat identity; `NotFound` when there is none.
    pub async fn customer_by_wechat_index(
        &self,
        brand_id: BrandId,
        openid_index: &BlindIndex,
    ) -> Result<CustomerRecord> {
        let row: CustomerRow = on_pool!(self, |p| sqlx::query_as(SELECT_CUSTOMER_BY_WECHAT)
            .bind(brand_id.as_uuid())
            .bind(openid_index.as_bytes())
            .fetch_one(p)
            .await)?;
        Ok(row.into())
    }

    /// Finds a customer by phone without decrypting anything; `NotFound` when there is none.
    pub async fn customer_by_phone_index(
        &self,
        brand_id: BrandId,
        phone_index: &BlindIndex,
    ) -> Result<CustomerRecord> {
        let row: CustomerRow = on_pool!(self, |p| sqlx::query_as(SELECT_CUSTOMER_BY_PHONE)
            .bind(brand_id.as_uuid())
            .bind(phone_index.as_bytes())
            .fetch_one(p)
            .await)?;
        Ok(row.into())
    }

    pub async fn customer(&self, brand_id: BrandId, id: CustomerId) -> Result<CustomerRecord> {
        let row: CustomerRow = on_pool!(self, |p| sqlx::query_as(SELECT_CUSTOMER_BY_ID)
            .bind(brand_id.as_uuid())
            .bind(id.as_uuid())
            .fetch_one(p)
            .await)?;
        Ok(row.into())
    }

    pub async fn create_customer_session(
        &self,
        token_hash: &[u8],
        customer: &CustomerRecord,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(DELETE_EXPIRED_SESSIONS)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_SESSION)
            .bind(token_hash)
            .bind(customer.id.as_uuid())
            .bind(customer.brand_id.as_uuid())
            .bind(now_ms)
            .bind(expires_at_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await
    }

    /// The customer behind a live session, or `NotFound` for unknown or expired tokens.
    pub async fn session_customer(&self, token_hash: &[u8], now_ms: i64) -> Result<CustomerRecord> {
        let row: CustomerRow = on_pool!(self, |p| sqlx::query_as(SELECT_SESSION_CUSTOMER)
            .bind(token_hash)
            .bind(now_ms)
            .fetch_one(p)
            .await)?;
        Ok(row.into())
    }

    pub async fn delete_customer_session(&self, token_hash: &[u8]) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(DELETE_SESSION)
            .bind(token_hash)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await
    }

    /// Stores a freshly sent code; it replaces any open code for the same phone, and codes
    /// that expired before `purge_before_ms` are deleted.
    pub async fn create_otp_challenge(
        &self,
        challenge: &NewOtpChallenge,
        now_ms: i64,
        purge_before_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(DELETE_STALE_CHALLENGES)
            .bind(purge_before_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |c| sqlx::query(SUPERSEDE_CHALLENGES)
            .bind(true)
            .bind(challenge.brand_id.as_uuid())
            .bind(challenge.phone_index.as_bytes())
            .bind(false)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_CHALLENGE)
            .bind(challenge.id.as_uuid())
            .bind(challenge.brand_id.as_uuid())
            .bind(challenge.phone_index.as_bytes())
            .bind(&challenge.code_hash)
            .bind(now_ms)
            .bind(challenge.expires_at_ms)
            .bind(false)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await
    }

    /// Counts one guess against the phone's open code, if it may take one: the caller then
    /// compares the code with `code_hash`. Expired and locked codes take no more guesses.
    pub async fn claim_otp_attempt(
        &self,
        brand_id: BrandId,
        phone_index: &BlindIndex,
        max_attempts: i64,
        now_ms: i64,
    ) -> Result<OtpAttempt> {
        let mut tx = self.begin().await?;
        let open: Option<(Uuid, i64, i64)> =
            on_tx!(&mut tx, |c| sqlx::query_as(SELECT_OPEN_CHALLENGE)
                .bind(brand_id.as_uuid())
                .bind(phone_index.as_bytes())
                .bind(false)
                .fetch_optional(&mut *c)
                .await)?;
        let Some((id, attempts, expires_at_ms)) = open else {
            return Ok(OtpAttempt::Refused(OtpRefusal::NoChallenge));
        };
        if let Some(refusal) = otp_refusal(attempts, expires_at_ms, now_ms) {
            return Ok(OtpAttempt::Refused(refusal));
        }
        let counted: Option<(i64, Vec<u8>)> = on_tx!(&mut tx, |c| sqlx::query_as(COUNT_ATTEMPT)
            .bind(id)
            .bind(max_attempts)
            .bind(false)
            .fetch_optional(&mut *c)
            .await)?;
        tx.commit().await?;
        Ok(match counted {
            Some((attempts, code_hash)) => OtpAttempt::Open {
                challenge_id: OtpChallengeId::from_uuid(id),
                code_hash,
                attempts,
            },
            None => OtpAttempt::Refused(OtpRefusal::Locked),
        })
    }

    /// Marks a code used. False when it already was (a racing request got there first).
    pub async fn consume_otp_challenge(&self, id: OtpChallengeId) -> Result<bool> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |c| sqlx::query(CONSUME_CHALLENGE)
            .bind(true)
            .bind(id.as_uuid())
            .bind(false)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(changed == 1)
    }
}
