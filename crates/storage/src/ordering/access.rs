//! Guests' keys to their orders: the keyed hash of each order's access secret. The secret itself
//! is never stored; the use cases hash what a caller presents and compare it with this one.

use crate::db::Db;
use crate::error::Result;
use crate::tx::Tx;
use diancan_domain::OrderId;

const SELECT_HASH: &str = "SELECT secret_hash FROM order_access WHERE order_id = $1";
const UPSERT_HASH: &str = "INSERT INTO order_access (order_id, secret_hash, issued_at_ms) VALUES ($1, $2, $3)
    ON CONFLICT (order_id) DO UPDATE SET secret_hash = excluded.secret_hash, issued_at_ms = excluded.issued_at_ms";
const DELETE_HASH: &str = "DELETE FROM order_access WHERE order_id = $1";

/// Records the hash handed out with a new order, in the placement's own transaction: an order
/// never commits without the key its guest was given.
pub(crate) async fn issue_in(tx: &mut Tx, order: OrderId, hash: &str, now_ms: i64) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(UPSERT_HASH)
        .bind(order.as_uuid())
        .bind(hash)
        .bind(now_ms)
        .execute(&mut *c)
        .await
        .map(drop))?;
    Ok(())
}

impl Db {
    /// The hash of the order's current access secret; `None` when it has none (a signed-in
    /// diner's order, or one whose secret was revoked).
    pub async fn order_access_hash(&self, order: OrderId) -> Result<Option<String>> {
        let row: Option<(String,)> = on_pool!(self, |p| sqlx::query_as(SELECT_HASH)
            .bind(order.as_uuid())
            .fetch_optional(p)
            .await)?;
        Ok(row.map(|(hash,)| hash))
    }

    /// Replaces the order's access secret: the previous one stops working at once.
    pub async fn replace_order_access(
        &self,
        order: OrderId,
        hash: &str,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        issue_in(&mut tx, order, hash, now_ms).await?;
        tx.commit().await
    }

    /// Revokes the order's access secret; only the diner's session and staff reach it after.
    pub async fn revoke_order_access(&self, order: OrderId) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(DELETE_HASH)
            .bind(order.as_uuid())
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await
    }
}
