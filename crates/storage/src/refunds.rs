//! Refunds in the database. A refund is written with its outbox row in one transaction, under
//! the lock of its payment's row, so two clicks (or two instances) computing what is left to
//! give back queue on each other and the second finds less. Automatic refunds have one number
//! per payment and cause: asking again finds the first.

use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::outbox::OutboxEntry;
use crate::payments::{PAYMENT_COLUMNS, PaymentRow, payment_from};
use crate::sql_batch::for_update;
use crate::tx::Tx;
use diancan_domain::payments::Payment;
use diancan_domain::refunds::*;
use diancan_domain::*;
use uuid::Uuid;

/// The outbox topic that asks a refund's gateway for it (payload `{"out_refund_no"}`).
pub const REFUND: &str = "refund";
/// The outbox topic of a paid order that was cancelled: its payments are refunded
/// (payload `{"order_id"}`).
pub const REFUND_ORDER: &str = "refund_order";

pub(crate) const REFUND_COLUMNS: &str = "id, brand_id, store_id, order_id, payment_id, out_refund_no, amount_fen, reason, state, gateway_refund_id, requested_by, created_at_ms, updated_at_ms";

pub(crate) type RefundRow = (
    Uuid,
    Uuid,
    Uuid,
    Uuid,
    Uuid,
    String,
    i64,
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
);

pub(crate) fn refund_from(row: RefundRow) -> Result<Refund> {
    Ok(Refund {
        id: RefundId::from_uuid(row.0),
        brand_id: BrandId::from_uuid(row.1),
        store_id: StoreId::from_uuid(row.2),
        order_id: OrderId::from_uuid(row.3),
        payment_id: PaymentId::from_uuid(row.4),
        out_refund_no: row.5,
        amount: Money::from_fen(row.6),
        reason: row.7,
        state: RefundState::parse(&row.8)
            .ok_or_else(|| StorageError::Corrupt(format!("refund {}: state {:?}", row.0, row.8)))?,
        gateway_refund_id: row.9,
        requested_by: row.10,
        created_at_ms: row.11,
        updated_at_ms: row.12,
    })
}

/// What asking for a refund did.
#[derive(Debug, Clone, PartialEq)]
pub enum RefundOutcome {
    /// A new refund, to be asked of the gateway by the outbox.
    Requested(Refund),
    /// This cause already refunded this payment: the first refund, unchanged.
    Existing(Refund),
    Refused(RefundRefusal),
}

/// Every refund of payment `id`, read inside the caller's transaction.
pub(crate) async fn refunds_of_payment_in(tx: &mut Tx, id: PaymentId) -> Result<Vec<Refund>> {
    let sql = format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE payment_id = $1");
    let rows: Vec<RefundRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id.as_uuid())
        .fetch_all(&mut *c)
        .await)?;
    rows.into_iter().map(refund_from).collect()
}

/// Writes a refund of `payment` (locked by the caller) with its outbox row, unless its number
/// exists already or nothing is left to give back.
pub(crate) async fn request_refund_in(
    tx: &mut Tx,
    payment: &Payment,
    cause: RefundCause,
    asked: Option<Money>,
    by: &str,
    now_ms: i64,
) -> Result<RefundOutcome> {
    let out_refund_no = cause.out_refund_no(payment);
    let refunds = refunds_of_payment_in(tx, payment.id).await?;
    if let Some(existing) = refunds.iter().find(|r| r.out_refund_no == out_refund_no) {
        return Ok(RefundOutcome::Existing(existing.clone()));
    }
    let refunded = Money::checked_sum(
        refunds
            .iter()
            .filter(|r| r.state != RefundState::Failed)
            .map(|r| r.amount),
    )
    .ok_or_else(|| StorageError::Corrupt(format!("payment {}: refunds overflow", payment.id)))?;
    let amount = match refund_amount(payment, refunded, asked) {
        Ok(amount) => amount,
        Err(refusal) => return Ok(RefundOutcome::Refused(refusal)),
    };
    let refund = Refund {
        id: RefundId::new(),
        brand_id: payment.brand_id,
        store_id: payment.store_id,
        order_id: payment.order_id,
        payment_id: payment.id,
        out_refund_no,
        amount,
        reason: cause.reason().to_owned(),
        state: RefundState::Requested,
        gateway_refund_id: None,
        requested_by: by.to_owned(),
        created_at_ms: now_ms,
        updated_at_ms: now_ms,
    };
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO refunds (id, brand_id, store_id, order_id, payment_id, out_refund_no, amount_fen, reason, state, gateway_refund_id, requested_by, created_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    )
    .bind(refund.id.as_uuid())
    .bind(refund.brand_id.as_uuid())
    .bind(refund.store_id.as_uuid())
    .bind(refund.order_id.as_uuid())
    .bind(refund.payment_id.as_uuid())
    .bind(refund.out_refund_no.as_str())
    .bind(refund.amount.fen())
    .bind(refund.reason.as_str())
    .bind(refund.state.as_str())
    .bind(refund.gateway_refund_id.as_deref())
    .bind(refund.requested_by.as_str())
    .bind(refund.created_at_ms)
    .bind(refund.updated_at_ms)
    .execute(&mut *c)
    .await
    .map(drop)
    })?;
    return_offers_when_fully_refunded(tx, refund.order_id, now_ms).await?;
    crate::outbox::enqueue(
        tx,
        &[OutboxEntry {
            topic: REFUND,
            subject: Some(format!("order:{}", refund.order_id)),
            payload: serde_json::json!({ "out_refund_no": refund.out_refund_no }),
        }],
        now_ms,
    )
    .await?;
    Ok(RefundOutcome::Requested(refund))
}

/// Once the order's refunds (gateway refunds not failed, and stored value given back) cover its
/// whole total, the coupons and limited promotions it redeemed are given back, in the refund's
/// own transaction. Idempotent: what was given back once is not given back again.
pub(crate) async fn return_offers_when_fully_refunded(
    tx: &mut Tx,
    order: OrderId,
    now_ms: i64,
) -> Result<()> {
    const COVERED: &str = "SELECT o.total_fen,
        CAST(COALESCE((SELECT SUM(r.amount_fen) FROM refunds r WHERE r.order_id = o.id AND r.state <> $2), 0) AS BIGINT),
        CAST(COALESCE((SELECT SUM(e.amount_fen) FROM balance_entries e WHERE e.order_id = o.id AND e.kind = $3), 0) AS BIGINT)
        FROM orders o WHERE o.id = $1";
    let (total, gateway, balance): (i64, i64, i64) = on_tx!(tx, |c| sqlx::query_as(COVERED)
        .bind(order.as_uuid())
        .bind(RefundState::Failed.as_str())
        .bind(diancan_domain::balance::EntryKind::Refund.as_str())
        .fetch_one(&mut *c)
        .await)?;
    if gateway + balance.abs() >= total {
        crate::promotions::return_offers_in(tx, order, now_ms).await?;
    }
    Ok(())
}

impl Db {
    /// Refunds `asked` of payment `id` (everything left when `None`) for `cause`.
    pub async fn request_refund(
        &self,
        id: PaymentId,
        cause: RefundCause,
        asked: Option<Money>,
        by: &str,
        now_ms: i64,
    ) -> Result<RefundOutcome> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1{}",
            for_update(&tx)
        );
        let row: Option<PaymentRow> = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(id.as_uuid())
        .fetch_optional(&mut *c)
        .await)?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Err(StorageError::NotFound);
        };
        let payment = payment_from(row)?;
        let outcome = request_refund_in(&mut tx, &payment, cause, asked, by, now_ms).await?;
        match outcome {
            RefundOutcome::Requested(_) => tx.commit().await?,
            _ => tx.rollback().await?,
        }
        Ok(outcome)
    }

    pub async fn refund_by_number(&self, out_refund_no: &str) -> Result<Option<Refund>> {
        let sql = format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE out_refund_no = $1");
        let row: Option<RefundRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(out_refund_no)
                .fetch_optional(p)
                .await)?;
        row.map(refund_from).transpose()
    }

    /// Every refund of an order, oldest first.
    pub async fn refunds_of_order(&self, order: OrderId) -> Result<Vec<Refund>> {
        let sql = format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE order_id = $1 ORDER BY created_at_ms, id"
        );
        let rows: Vec<RefundRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(order.as_uuid())
                .fetch_all(p)
                .await)?;
        rows.into_iter().map(refund_from).collect()
    }

    /// Records what the gateway said of a refund; only forward (a late "processing" after a
    /// success changes nothing). Returns whether the refund changed.
    pub async fn record_refund(
        &self,
        out_refund_no: &str,
        state: RefundState,
        gateway_refund_id: Option<&str>,
        now_ms: i64,
    ) -> Result<bool> {
        if state == RefundState::Requested {
            // Only the gateway's number can be new; the state stays.
            let mut tx = self.begin().await?;
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "UPDATE refunds SET gateway_refund_id = COALESCE(gateway_refund_id, $2), updated_at_ms = $3 WHERE out_refund_no = $1"
            )
            .bind(out_refund_no)
            .bind(gateway_refund_id)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(drop)
            })?;
            tx.commit().await?;
            return Ok(false);
        }
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE refunds SET state = $2, gateway_refund_id = COALESCE($3, gateway_refund_id), updated_at_ms = $4 WHERE out_refund_no = $1 AND state = 'requested'"
        )
        .bind(out_refund_no)
        .bind(state.as_str())
        .bind(gateway_refund_id)
        .bind(now_ms)
        .execute(&mut *c)
        .await
        .map(|done| done.rows_affected() == 1)
        })?;
        if changed && state == RefundState::Succeeded {
            crate::notifications::refund_notice_in(&mut tx, out_refund_no, now_ms).await?;
        }
        tx.commit().await?;
        if changed && state == RefundState::Succeeded {
            self.outbox_bell().notify_one();
        }
        Ok(changed)
    }
}
