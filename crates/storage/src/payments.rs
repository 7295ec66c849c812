//! Payments in the database, and settling one: the payment's row is locked, the domain decides
//! what the report of arrived money does, and the payment, the order's change to paid, its
//! history, its event and its outbox rows commit in one transaction. A repeated report finds
//! the payment already paid with that transaction and changes nothing; the gateway's
//! transaction id is unique per gateway, so the same money cannot settle two payments.

use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::ordering::{ChangeError, ChangeRequest, change_in};
use crate::sql_batch::for_update;
use diancan_domain::balance::EntryKind;
use diancan_domain::ordering::Order;
use diancan_domain::payments::*;
use diancan_domain::*;
use uuid::Uuid;

pub(crate) const PAYMENT_COLUMNS: &str = "id, brand_id, store_id, order_id, provider, method, out_trade_no, amount_fen, state, transaction_id, paid_at_ms, flagged, refund_due, created_at_ms, updated_at_ms";
const INSERT_PAYMENT: &str = "INSERT INTO payments (id, brand_id, store_id, order_id, provider, method, out_trade_no, amount_fen, state, transaction_id, paid_at_ms, flagged, refund_due, created_at_ms, updated_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
const SETTLE_PAYMENT: &str = "UPDATE payments SET state = $2, transaction_id = $3, paid_at_ms = $4, refund_due = $5, updated_at_ms = $6 WHERE id = $1";
const CLOSE_PAYMENT: &str =
    "UPDATE payments SET state = 'closed', updated_at_ms = $2 WHERE id = $1 AND state = 'pending'";
const FLAG_PAYMENT: &str = "UPDATE payments SET flagged = $2, updated_at_ms = $3 WHERE id = $1";

pub(crate) type PaymentRow = (
    Uuid,
    Uuid,
    Uuid,
    Uuid,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    bool,
    i64,
    i64,
);

pub(crate) fn payment_from(row: PaymentRow) -> Result<Payment> {
    let (id, brand, store, order, provider, method, out_trade_no, amount, state, transaction_id) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9,
    );
    Ok(Payment {
        id: PaymentId::from_uuid(id),
        brand_id: BrandId::from_uuid(brand),
        store_id: StoreId::from_uuid(store),
        order_id: OrderId::from_uuid(order),
        provider: PaymentProvider::parse(&provider)
            .ok_or_else(|| StorageError::Corrupt(format!("payment {id}: provider {provider:?}")))?,
        method,
        out_trade_no,
        amount: Money::from_fen(amount),
        state: PaymentState::parse(&state)
            .ok_or_else(|| StorageError::Corrupt(format!("payment {id}: state {state:?}")))?,
        transaction_id,
        paid_at_ms: row.10,
        flagged: row.11,
        refund_due: row.12,
        created_at_ms: row.13,
        updated_at_ms: row.14,
    })
}

/// What settling a report did.
#[derive(Debug)]
pub enum SettleOutcome {
    /// The money arrived for the first time and the order is paid now.
    Paid { payment: Payment, order: Box<Order> },
    /// The money arrived for an order that no longer waits for it (paid another way, or
    /// cancelled): the payment is paid and owed back to the diner.
    RefundDue { payment: Payment },
    /// Settled before: nothing changed.
    AlreadySettled { payment: Payment },
    /// Not what was asked for: set aside for reconciliation, the order untouched.
    Flagged {
        payment: Payment,
        reason: &'static str,
    },
}

pub(crate) async fn insert_payment_in(tx: &mut crate::tx::Tx, payment: &Payment) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(INSERT_PAYMENT)
        .bind(payment.id.as_uuid())
        .bind(payment.brand_id.as_uuid())
        .bind(payment.store_id.as_uuid())
        .bind(payment.order_id.as_uuid())
        .bind(payment.provider.as_str())
        .bind(payment.method.as_str())
        .bind(payment.out_trade_no.as_str())
        .bind(payment.amount.fen())
        .bind(payment.state.as_str())
        .bind(payment.transaction_id.as_deref())
        .bind(payment.paid_at_ms)
        .bind(payment.flagged.as_deref())
        .bind(payment.refund_due)
        .bind(payment.created_at_ms)
        .bind(payment.updated_at_ms)
        .execute(&mut *c)
        .await
        .map(drop))?;
    Ok(())
}

impl Db {
    pub async fn create_payment(&self, payment: &Payment) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_payment_in(&mut tx, payment).await?;
        tx.commit().await
    }

    /// The payment with our number `out_trade_no` at the gateway.
    pub async fn payment_by_trade_no(&self, out_trade_no: &str) -> Result<Option<Payment>> {
        let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE out_trade_no = $1");
        let row: Option<PaymentRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(out_trade_no)
                .fetch_optional(p)
                .await)?;
        row.map(payment_from).transpose()
    }

    /// Every payment of an order, oldest first.
    pub async fn payments_of_order(&self, order: OrderId) -> Result<Vec<Payment>> {
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_id = $1 ORDER BY created_at_ms, id"
        );
        let rows: Vec<PaymentRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(order.as_uuid())
                .fetch_all(p)
                .await)?;
        rows.into_iter().map(payment_from).collect()
    }

    /// Marks a pending payment closed once its gateway closed it. A payment no longer pending
    /// (its money arrived meanwhile) stays as it is: returns whether this closed it.
    /// The balance held for a combined payment is given back in the same transaction.
    pub async fn close_payment(&self, id: PaymentId, now_ms: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let closed = on_tx!(&mut tx, |c| sqlx::query(CLOSE_PAYMENT)
            .bind(id.as_uuid())
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|done| done.rows_affected() == 1))?;
        if closed && let Some(mut held) = crate::balance::hold_of_payment(&mut tx, id).await? {
            held.finish(&mut tx, id, EntryKind::Release, "system", now_ms)
                .await?;
        }
        tx.commit().await?;
        Ok(closed)
    }

    /// Pending payments nobody will pay any more: their order stopped waiting for money (paid
    /// another way, cancelled) or its deadline passed at `now_ms`. Oldest first; the sweep
    /// asks their gateway where each stands and closes it there.
    pub async fn pending_payments_due(&self, now_ms: i64, limit: i64) -> Result<Vec<Payment>> {
        let columns = PAYMENT_COLUMNS
            .split(", ")
            .map(|column| format!("p.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns} FROM payments p JOIN orders o ON o.id = p.order_id
             WHERE p.state = 'pending' AND (o.status <> 'awaiting_payment' OR o.pay_by_ms <= $1)
             ORDER BY p.created_at_ms, p.id LIMIT $2"
        );
        let rows: Vec<PaymentRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(now_ms)
                .bind(limit)
                .fetch_all(p)
                .await)?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let id = row.0;
                // One unreadable row is logged and skipped; the sweep goes on with the rest.
                payment_from(row)
                    .inspect_err(|error| tracing::error!(%id, %error, "unreadable payment"))
                    .ok()
            })
            .collect())
    }

    /// Settles a verified report of arrived money. `pay_order` is the domain's decision to mark
    /// the order paid, run on the order under its lock; if it refuses (the order was paid
    /// another way, or cancelled), the money is owed back instead.
    pub async fn settle_payment(
        &self,
        arrived: &ArrivedMoney,
        pay_order: crate::ordering::Decide,
        now_ms: i64,
    ) -> Result<SettleOutcome> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE out_trade_no = $1{}",
            for_update(&tx)
        );
        let row: Option<PaymentRow> = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(arrived.out_trade_no.as_str())
        .fetch_optional(&mut *c)
        .await)?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Err(StorageError::NotFound);
        };
        let mut payment = payment_from(row)?;
        let outcome = match settle(&payment, arrived) {
            Settlement::AlreadySettled => {
                tx.rollback().await?;
                return Ok(SettleOutcome::AlreadySettled { payment });
            }
            Settlement::Flag(reason) => {
                on_tx!(&mut tx, |c| sqlx::query(FLAG_PAYMENT)
                    .bind(payment.id.as_uuid())
                    .bind(reason)
                    .bind(now_ms)
                    .execute(&mut *c)
                    .await
                    .map(drop))?;
                payment.flagged = Some(reason.to_owned());
                SettleOutcome::Flagged { payment, reason }
            }
            Settlement::Pay => {
                // The balance part of a combined payment, its account locked before the order.
                let mut held = crate::balance::hold_of_payment(&mut tx, payment.id).await?;
                let order = if held.as_ref().is_some_and(|h| !h.open) {
                    // Its hold went back when the payment closed: this money alone does not
                    // pay the order (all or nothing), so it is owed back.
                    None
                } else {
                    let request = ChangeRequest {
                        order_id: payment.order_id,
                        scope: Some((payment.brand_id, payment.store_id)),
                        decide: pay_order,
                        now_ms,
                    };
                    match change_in(&mut tx, &[&request]).await?.pop() {
                        Some(Ok(order)) => Some(order),
                        Some(Err(ChangeError::Refused { .. })) => None,
                        Some(Err(ChangeError::NotFound)) | None => {
                            return Err(StorageError::Corrupt(format!(
                                "payment {} names a missing order",
                                payment.id
                            )));
                        }
                        Some(Err(ChangeError::Storage(error))) => return Err(error),
                    }
                };
                if let Some(held) = held.as_mut() {
                    let kind = if order.is_some() {
                        EntryKind::Capture
                    } else {
                        EntryKind::Release
                    };
                    held.finish(&mut tx, payment.id, kind, arrived.provider.actor(), now_ms)
                        .await?;
                }
                payment.state = PaymentState::Paid;
                payment.transaction_id = Some(arrived.transaction_id.clone());
                payment.paid_at_ms = Some(arrived.paid_at_ms);
                payment.updated_at_ms = now_ms;
                payment.refund_due = order.is_none();
                on_tx!(&mut tx, |c| sqlx::query(SETTLE_PAYMENT)
                    .bind(payment.id.as_uuid())
                    .bind(payment.state.as_str())
                    .bind(payment.transaction_id.as_deref())
                    .bind(payment.paid_at_ms)
                    .bind(payment.refund_due)
                    .bind(now_ms)
                    .execute(&mut *c)
                    .await
                    .map(drop))?;
                match order {
                    Some(order) => SettleOutcome::Paid {
                        payment,
                        order: Box::new(order),
                    },
                    None => {
                        // Owed back through the way it came, asked for by the outbox once
                        // this commits: one number per payment, so a repeat refunds nothing.
                        crate::refunds::request_refund_in(
                            &mut tx,
                            &payment,
                            diancan_domain::refunds::RefundCause::NotWanted,
                            None,
                            "system",
                            now_ms,
                        )
                        .await?;
                        SettleOutcome::RefundDue { payment }
                    }
                }
            }
        };
        tx.commit().await?;
        self.outbox_bell().notify_one();
        Ok(outcome)
    }
}
