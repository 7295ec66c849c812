//! The balance part of a combined payment: held when the gateway part starts, captured in the
//! transaction that settles the gateway part, released in the one that closes it (or that finds
//! the order no longer wants the money). All or nothing.

use super::{BalanceAccount, NewEntry, Posted, lock_account_by_id, post_in};
use crate::error::{Result, StorageError};
use crate::tx::Tx;
use diancan_domain::balance::{EntryKind, reference};
use diancan_domain::*;
use uuid::Uuid;

const ENTRIES_OF_REFERENCE: &str =
    "SELECT account_id, kind, amount_fen, order_id FROM balance_entries WHERE reference = $1";

/// A payment's hold, with its account locked.
#[derive(Debug)]
pub(crate) struct HeldPart {
    pub account: BalanceAccount,
    pub amount: Money,
    pub order_id: Option<OrderId>,
    /// Neither captured nor released yet.
    pub open: bool,
}

/// The hold of gateway payment `payment`, if it has one (its account locked).
pub(crate) async fn hold_of_payment(tx: &mut Tx, payment: PaymentId) -> Result<Option<HeldPart>> {
    let rows: Vec<(Uuid, String, i64, Option<Uuid>)> =
        on_tx!(tx, |c| sqlx::query_as(ENTRIES_OF_REFERENCE)
            .bind(reference::payment(payment))
            .fetch_all(&mut *c)
            .await)?;
    let Some(hold) = rows.iter().find(|r| r.1 == EntryKind::Hold.as_str()) else {
        return Ok(None);
    };
    let open = !rows
        .iter()
        .any(|r| r.1 == EntryKind::Capture.as_str() || r.1 == EntryKind::Release.as_str());
    Ok(Some(HeldPart {
        account: lock_account_by_id(tx, hold.0).await?,
        amount: Money::from_fen(hold.2),
        order_id: hold.3.map(OrderId::from_uuid),
        open,
    }))
}

impl HeldPart {
    /// Captures (`Capture`) or gives back (`Release`) the whole hold; a repeat does nothing.
    pub(crate) async fn finish(
        &mut self,
        tx: &mut Tx,
        payment: PaymentId,
        kind: EntryKind,
        actor: &str,
        now_ms: i64,
    ) -> Result<()> {
        if !self.open {
            return Ok(());
        }
        let reason = match kind {
            EntryKind::Capture => "组合支付：余额部分扣款",
            _ => "组合支付未完成：余额解冻",
        };
        let entry = NewEntry {
            kind,
            amount: self.amount,
            reason,
            reference: reference::payment(payment),
            order_id: self.order_id,
            actor,
        };
        match post_in(tx, &mut self.account, entry, now_ms).await? {
            Posted::Written(_) | Posted::Repeat => {
                self.open = false;
                Ok(())
            }
            Posted::Refused(refusal) => Err(StorageError::Corrupt(format!(
                "balance account {}: finishing the hold of payment {payment}: {refusal}",
                self.account.id
            ))),
        }
    }
}
