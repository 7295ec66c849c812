//! Every column that holds sealed personal data, read and rewritten in pages for `diancan pii
//! reseal`. A rewrite names the old bytes it replaces, so a value changed meanwhile (a diner
//! who just logged in again) is left as the newer write made it.

use crate::db::Db;
use crate::error::Result;
use uuid::Uuid;

const CUSTOMER_PHONES_AFTER: &str = "SELECT id, phone_sealed FROM customers
    WHERE phone_sealed IS NOT NULL AND id > $1 ORDER BY id LIMIT $2";
const REPLACE_CUSTOMER_PHONE: &str =
    "UPDATE customers SET phone_sealed = $3 WHERE id = $1 AND phone_sealed = $2";
const ORDER_CONTACTS_AFTER: &str = "SELECT id, contact_json FROM orders
    WHERE contact_json IS NOT NULL AND id > $1 ORDER BY id LIMIT $2";
const REPLACE_ORDER_CONTACT: &str =
    "UPDATE orders SET contact_json = $3 WHERE id = $1 AND contact_json = $2";
const GRANT_OPENIDS_AFTER: &str = "SELECT id, openid_sealed FROM subscribe_grants
    WHERE id > $1 ORDER BY id LIMIT $2";
const REPLACE_GRANT_OPENID: &str =
    "UPDATE subscribe_grants SET openid_sealed = $3 WHERE id = $1 AND openid_sealed = $2";
const REPLACE_SECRET: &str =
    "UPDATE server_secrets SET secret = $3 WHERE name = $1 AND secret = $2";
const SELECT_SECRET: &str = "SELECT secret FROM server_secrets WHERE name = $1";
const DELETE_SECRET: &str = "DELETE FROM server_secrets WHERE name = $1";

/// A row's id and its sealed value, as stored.
pub struct SealedRow<T> {
    pub id: Uuid,
    pub value: T,
}

/// The smallest UUID: where a scan starts.
pub const FIRST: Uuid = Uuid::nil();

impl Db {
    /// Up to `limit` customers with a sealed phone, by id, after `after`.
    pub async fn sealed_customer_phones(
        &self,
        after: Uuid,
        limit: i64,
    ) -> Result<Vec<SealedRow<Vec<u8>>>> {
        let rows: Vec<(Uuid, Vec<u8>)> = on_pool!(self, |p| sqlx::query_as(CUSTOMER_PHONES_AFTER)
            .bind(after)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, value)| SealedRow { id, value })
            .collect())
    }

    /// Replaces a customer's sealed phone if it is still `old`; whether it was.
    pub async fn replace_sealed_customer_phone(
        &self,
        id: Uuid,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |c| sqlx::query(REPLACE_CUSTOMER_PHONE)
            .bind(id)
            .bind(old)
            .bind(new)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(changed == 1)
    }

    /// Up to `limit` WeChat subscribe grants (their sealed openids), by id, after `after`.
    pub async fn sealed_grant_openids(
        &self,
        after: Uuid,
        limit: i64,
    ) -> Result<Vec<SealedRow<Vec<u8>>>> {
        let rows: Vec<(Uuid, Vec<u8>)> = on_pool!(self, |p| sqlx::query_as(GRANT_OPENIDS_AFTER)
            .bind(after)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, value)| SealedRow { id, value })
            .collect())
    }

    /// Replaces a grant's sealed openid if it is still `old`; whether it was.
    pub async fn replace_sealed_grant_openid(
        &self,
        id: Uuid,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |c| sqlx::query(REPLACE_GRANT_OPENID)
            .bind(id)
            .bind(old)
            .bind(new)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(changed == 1)
    }

    /// Up to `limit` orders with a stored contact (JSON with sealed fields), after `after`.
    pub async fn sealed_order_contacts(
        &self,
        after: Uuid,
        limit: i64,
    ) -> Result<Vec<SealedRow<String>>> {
        let rows: Vec<(Uuid, String)> = on_pool!(self, |p| sqlx::query_as(ORDER_CONTACTS_AFTER)
            .bind(after)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, value)| SealedRow { id, value })
            .collect())
    }

    /// Replaces an order's contact JSON if it is still `old`; whether it was.
    pub async fn replace_sealed_order_contact(
        &self,
        id: Uuid,
        old: &str,
        new: &str,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |c| sqlx::query(REPLACE_ORDER_CONTACT)
            .bind(id)
            .bind(old)
            .bind(new)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(changed == 1)
    }

    /// The named server secret, if there is one (without creating it).
    pub async fn stored_server_secret(&self, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(on_pool!(self, |p| sqlx::query_scalar(SELECT_SECRET)
            .bind(name)
            .fetch_optional(p)
            .await)?)
    }

    /// Replaces a server secret if it is still `old`; whether it was.
    pub async fn replace_server_secret(&self, name: &str, old: &[u8], new: &[u8]) -> Result<bool> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |c| sqlx::query(REPLACE_SECRET)
            .bind(name)
            .bind(old)
            .bind(new)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(changed == 1)
    }

    /// Forgets a server secret (a key nothing is sealed under any more).
    pub async fn delete_server_secret(&self, name: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(DELETE_SECRET)
            .bind(name)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(())
    }
}
