//! A member's stored value as the diner and the console see it: the balance, what of it is
//! held for a payment under way, and the ledger newest first.

use diancan_domain::balance::{BalanceAccount, BalanceEntry, EntryKind};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BalanceEntryView {
    pub id: uuid::Uuid,
    pub kind: EntryKind,
    /// Positive fen; an `adjustment` is signed.
    pub amount_fen: i64,
    pub balance_after_fen: i64,
    pub held_after_fen: i64,
    pub reason: String,
    pub order_id: Option<diancan_domain::OrderId>,
    pub created_at_ms: i64,
}

impl From<&BalanceEntry> for BalanceEntryView {
    fn from(e: &BalanceEntry) -> Self {
        BalanceEntryView {
            id: e.id,
            kind: e.kind,
            amount_fen: e.amount.fen(),
            balance_after_fen: e.balance_after.fen(),
            held_after_fen: e.held_after.fen(),
            reason: e.reason.clone(),
            order_id: e.order_id,
            created_at_ms: e.created_at_ms,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BalanceView {
    /// Everything the member holds at this brand, in fen.
    pub balance_fen: i64,
    /// The part set aside for payments under way.
    pub held_fen: i64,
    /// What may be spent now.
    pub available_fen: i64,
    /// Newest first.
    pub entries: Vec<BalanceEntryView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<uuid::Uuid>,
}

impl BalanceView {
    pub fn of(account: &BalanceAccount, entries: &[BalanceEntry], limit: i64) -> BalanceView {
        let full = i64::try_from(entries.len()).unwrap_or(i64::MAX) >= limit;
        BalanceView {
            balance_fen: account.balance.fen(),
            held_fen: account.held.fen(),
            available_fen: account.available().fen(),
            entries: entries.iter().map(BalanceEntryView::from).collect(),
            next_before: entries.last().filter(|_| full).map(|e| e.id),
        }
    }
}
