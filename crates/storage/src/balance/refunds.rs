//! Refunds of orders paid from the balance, alone or with a gateway: the order's paid gateway
//! payment and the member's account are locked (in that order), what each channel took and has
//! given back is read under those locks, the domain splits the refund in the proportions paid,
//! and the gateway's part (a refund row with its outbox row) and the balance's part (a ledger
//! entry) commit together. A refund is asked for under a key: the same key again is a repeat.

use super::{NewEntry, Posted, lock_account_by_id, post_in};
use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::payments::{PAYMENT_COLUMNS, PaymentRow, payment_from};
use crate::refunds::{RefundOutcome, refunds_of_payment_in, request_refund_in};
use crate::sql_batch::for_update;
use crate::tx::Tx;
use diancan_domain::balance::{Channels, EntryKind, reference, split_refund};
use diancan_domain::refunds::{Refund, RefundCause, RefundRefusal, RefundState};
use diancan_domain::*;
use uuid::Uuid;

const BALANCE_OF_ORDER: &str =
    "SELECT account_id, kind, amount_fen, reference FROM balance_entries WHERE order_id = $1";

/// What refunding an order did.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderRefund {
    Refunded {
        /// Credited back to the member's balance.
        balance: Money,
        /// Asked of the gateway by the outbox once this commits.
        gateway: Option<Refund>,
    },
    /// A refund under this key was made before: nothing more.
    Repeat,
    Refused(RefundRefusal),
}

/// The order's balance money: its account, what was captured, and what was given back.
struct BalanceSide {
    account: Option<Uuid>,
    captured: Money,
    refunded: Money,
    references: Vec<String>,
}

async fn balance_side(tx: &mut Tx, order: OrderId) -> Result<BalanceSide> {
    let rows: Vec<(Uuid, String, i64, String)> = on_tx!(tx, |c| sqlx::query_as(BALANCE_OF_ORDER)
        .bind(order.as_uuid())
        .fetch_all(&mut *c)
        .await)?;
    let sum = |kind: EntryKind| {
        Money::checked_sum(
            rows.iter()
                .filter(|r| r.1 == kind.as_str())
                .map(|r| Money::from_fen(r.2)),
        )
        .ok_or_else(|| StorageError::Corrupt(format!("order {order}: balance overflow")))
    };
    Ok(BalanceSide {
        account: rows
            .iter()
            .find(|r| r.1 == EntryKind::Capture.as_str())
            .map(|r| r.0),
        captured: sum(EntryKind::Capture)?,
        refunded: sum(EntryKind::Refund)?,
        references: rows.iter().map(|r| r.3.clone()).collect(),
    })
}

impl Db {
    /// Refunds `asked` of order `order` (everything left when `None`) under `key`, split
    /// between the balance and the gateway in the proportions it was paid.
    pub async fn refund_order(
        &self,
        order: OrderId,
        key: RefundId,
        asked: Option<Money>,
        by: &str,
        now_ms: i64,
    ) -> Result<OrderRefund> {
        let mut tx = self.begin().await?;
        // The gateway payment that paid the order; one owed back already has its own refund.
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_id = $1 AND state = 'paid' AND NOT refund_due
             ORDER BY created_at_ms, id LIMIT 1{}",
            for_update(&tx)
        );
        let row: Option<PaymentRow> = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(order.as_uuid())
        .fetch_optional(&mut *c)
        .await)?;
        let payment = row.map(payment_from).transpose()?;
        let mut account = match balance_side(&mut tx, order).await?.account {
            Some(id) => Some(lock_account_by_id(&mut tx, id).await?),
            None => None,
        };
        // Read again under the account's lock: a racing refund has committed or waits.
        let side = balance_side(&mut tx, order).await?;
        let cause = RefundCause::ByStaff(key);
        let gateway_refunds = match &payment {
            Some(p) => refunds_of_payment_in(&mut tx, p.id).await?,
            None => Vec::new(),
        };
        let repeat = side.references.contains(&reference::refund(key.as_uuid()))
            || payment.as_ref().is_some_and(|p| {
                let number = cause.out_refund_no(p);
                gateway_refunds.iter().any(|r| r.out_refund_no == number)
            });
        if repeat {
            tx.rollback().await?;
            return Ok(OrderRefund::Repeat);
        }
        let paid = Channels {
            balance: side.captured,
            gateway: payment.as_ref().map_or(Money::ZERO, |p| p.amount),
        };
        let refunded = Channels {
            balance: side.refunded,
            gateway: Money::checked_sum(
                gateway_refunds
                    .iter()
                    .filter(|r| r.state != RefundState::Failed)
                    .map(|r| r.amount),
            )
            .ok_or_else(|| StorageError::Corrupt(format!("order {order}: refunds overflow")))?,
        };
        let split = match split_refund(paid, refunded, asked) {
            Ok(split) => split,
            Err(refusal) => {
                tx.rollback().await?;
                return Ok(OrderRefund::Refused(refusal));
            }
        };
        let mut gateway = None;
        if let Some(payment) = payment.as_ref().filter(|_| split.gateway > Money::ZERO) {
            match request_refund_in(&mut tx, payment, cause, Some(split.gateway), by, now_ms)
                .await?
            {
                RefundOutcome::Requested(refund) => gateway = Some(refund),
                RefundOutcome::Existing(_) => {
                    tx.rollback().await?;
                    return Ok(OrderRefund::Repeat);
                }
                RefundOutcome::Refused(refusal) => {
                    tx.rollback().await?;
                    return Ok(OrderRefund::Refused(refusal));
                }
            }
        }
        if let Some(account) = account.as_mut().filter(|_| split.balance > Money::ZERO) {
            let entry = NewEntry {
                kind: EntryKind::Refund,
                amount: split.balance,
                reason: "订单退款：退回余额",
                reference: reference::refund(key.as_uuid()),
                order_id: Some(order),
                actor: by,
            };
            if let Posted::Refused(refusal) = post_in(&mut tx, account, entry, now_ms).await? {
                // Only the balance's limit can refuse a credit: a member at the limit is
                // refunded by hand.
                tx.rollback().await?;
                return Err(StorageError::Corrupt(format!(
                    "order {order}: balance refund refused: {refusal}"
                )));
            }
        }
        // A member's points for the order go back in the proportion now refunded.
        let refunded_after = refunded
            .total()
            .zip(split.total())
            .and_then(|(a, b)| a.checked_add(b));
        if let (Some(after), Some(paid)) = (refunded_after, paid.total()) {
            crate::outbox::enqueue(
                &mut tx,
                &[crate::membership::reversal_entry(
                    &crate::membership::Reversal {
                        order_id: order,
                        key: Some(key.as_uuid()),
                        refunded_total_fen: Some(after.fen()),
                        paid_total_fen: Some(paid.fen()),
                    },
                )],
                now_ms,
            )
            .await?;
        }
        // Refunded in full (both channels): its coupons are the diner's again.
        crate::refunds::return_offers_when_fully_refunded(&mut tx, order, now_ms).await?;
        tx.commit().await?;
        self.outbox_bell().notify_one();
        Ok(OrderRefund::Refunded {
            balance: split.balance,
            gateway,
        })
    }

    /// Credits back whatever of a cancelled order's balance money is not refunded yet;
    /// once per order. Returns what was credited.
    pub async fn refund_balance_of_cancelled(&self, order: OrderId, now_ms: i64) -> Result<Money> {
        let mut tx = self.begin().await?;
        let Some(id) = balance_side(&mut tx, order).await?.account else {
            tx.rollback().await?;
            return Ok(Money::ZERO);
        };
        let mut account = lock_account_by_id(&mut tx, id).await?;
        let side = balance_side(&mut tx, order).await?;
        let left = side
            .captured
            .checked_sub(side.refunded)
            .unwrap_or(Money::ZERO);
        if left <= Money::ZERO {
            tx.rollback().await?;
            return Ok(Money::ZERO);
        }
        let entry = NewEntry {
            kind: EntryKind::Refund,
            amount: left,
            reason: "订单已取消：退回余额",
            reference: reference::cancelled(order),
            order_id: Some(order),
            actor: "system",
        };
        let credited = match post_in(&mut tx, &mut account, entry, now_ms).await? {
            Posted::Written(_) => left,
            Posted::Repeat | Posted::Refused(_) => Money::ZERO,
        };
        tx.commit().await?;
        Ok(credited)
    }
}
