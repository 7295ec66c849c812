//! 储值: a member's stored value at one brand, kept as an append-only ledger. Every change is an
//! entry, and one rule ([`BalanceAccount::apply`]) says what an entry does to the balance and to
//! the part of it held for a payment under way, so the account row is always the ledger folded.
//! Refunds of an order paid partly from the balance go back in the proportions it was paid.

use crate::ids::{BrandId, CustomerId, OrderId, PaymentId};
use crate::money::Money;
use crate::refunds::RefundRefusal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The most a member may hold: anything above is a typo (or an attack), not a recharge.
pub const MAX_BALANCE: Money = Money::from_yuan(1_000_000);
/// Longest reason a staff member may write on an adjustment.
pub const MAX_REASON_CHARS: usize = 100;

/// What one ledger entry records.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Money paid in (at the counter today; through the gateways with issue 11's 充值).
    Recharge,
    /// Value given on top of a recharge (充100送20).
    Bonus,
    /// Set aside for a payment under way: still the member's, but not spendable.
    Hold,
    /// A hold spent on an order.
    Capture,
    /// A hold given back: the payment it was for failed or expired.
    Release,
    /// Money of a refunded order credited back.
    Refund,
    /// A staff correction, up or down, with its reason.
    Adjustment,
}

impl EntryKind {
    pub const ALL: [EntryKind; 7] = [
        EntryKind::Recharge,
        EntryKind::Bonus,
        EntryKind::Hold,
        EntryKind::Capture,
        EntryKind::Release,
        EntryKind::Refund,
        EntryKind::Adjustment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Recharge => "recharge",
            EntryKind::Bonus => "bonus",
            EntryKind::Hold => "hold",
            EntryKind::Capture => "capture",
            EntryKind::Release => "release",
            EntryKind::Refund => "refund",
            EntryKind::Adjustment => "adjustment",
        }
    }

    pub fn parse(text: &str) -> Option<EntryKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BalanceRefusal {
    /// Spending or holding more than is free, or an adjustment below what is held.
    #[error("only {available} fen is available")]
    Insufficient { available: Money },
    #[error("the amount must be positive (adjustments: not zero)")]
    NotPositive,
    /// The balance would pass [`MAX_BALANCE`] (or not fit at all).
    #[error("the balance would exceed its limit")]
    TooLarge,
    /// A capture or release of more than is held: a bug, never a diner's mistake.
    #[error("more than is held")]
    NotHeld,
}

/// One member's stored value at one brand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceAccount {
    pub id: Uuid,
    pub brand_id: BrandId,
    pub customer_id: CustomerId,
    /// Everything the member owns here, held or not.
    pub balance: Money,
    /// The part of `balance` set aside for payments under way.
    pub held: Money,
    pub version: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl BalanceAccount {
    pub fn open(brand_id: BrandId, customer_id: CustomerId, now_ms: i64) -> BalanceAccount {
        BalanceAccount {
            id: Uuid::now_v7(),
            brand_id,
            customer_id,
            balance: Money::ZERO,
            held: Money::ZERO,
            version: 0,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
        }
    }

    /// What the member may spend or hold now.
    pub fn available(&self) -> Money {
        self.balance
            .checked_sub(self.held)
            .filter(|m| !m.is_negative())
            .unwrap_or(Money::ZERO)
    }

    /// The one rule: the (balance, held) after an entry of `kind` for `amount`, or why not.
    /// Amounts are positive except an adjustment's, which is signed.
    pub fn apply(&self, kind: EntryKind, amount: Money) -> Result<(Money, Money), BalanceRefusal> {
        let positive = amount > Money::ZERO;
        if !(positive || (kind == EntryKind::Adjustment && amount != Money::ZERO)) {
            return Err(BalanceRefusal::NotPositive);
        }
        let insufficient = BalanceRefusal::Insufficient {
            available: self.available(),
        };
        let credit = |balance: Money| {
            balance
                .checked_add(amount)
                .filter(|b| *b <= MAX_BALANCE)
                .ok_or(BalanceRefusal::TooLarge)
        };
        let (balance, held) = match kind {
            EntryKind::Recharge | EntryKind::Bonus | EntryKind::Refund => {
                (credit(self.balance)?, self.held)
            }
            EntryKind::Adjustment => {
                let balance = credit(self.balance)?;
                if balance < self.held {
                    return Err(insufficient);
                }
                (balance, self.held)
            }
            EntryKind::Hold => {
                if amount > self.available() {
                    return Err(insufficient);
                }
                let held = self
                    .held
                    .checked_add(amount)
                    .ok_or(BalanceRefusal::TooLarge)?;
                (self.balance, held)
            }
            EntryKind::Capture | EntryKind::Release => {
                if amount > self.held {
                    return Err(BalanceRefusal::NotHeld);
                }
                let held = self.held - amount;
                let balance = if kind == EntryKind::Capture {
                    self.balance - amount
                } else {
                    self.balance
                };
                (balance, held)
            }
        };
        Ok((balance, held))
    }

    /// This account after a successful `apply`.
    pub fn with(&self, (balance, held): (Money, Money), now_ms: i64) -> BalanceAccount {
        BalanceAccount {
            balance,
            held,
            version: self.version + 1,
            updated_at_ms: now_ms,
            ..self.clone()
        }
    }
}

/// One line of the ledger. Never changed or deleted once written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceEntry {
    pub id: Uuid,
    pub account_id: Uuid,
    pub kind: EntryKind,
    pub amount: Money,
    pub balance_after: Money,
    pub held_after: Money,
    pub reason: String,
    /// What the entry is about (`order:…`, `payment:…`, `refund:…`, `staff:…`): an operation
    /// repeated with the same reference writes nothing twice.
    pub reference: String,
    pub order_id: Option<OrderId>,
    /// `diner`, `system`, or the staff member's label.
    pub actor: String,
    pub created_at_ms: i64,
}

/// The references entries carry, made in one place so a repeat always names the same thing.
pub mod reference {
    use super::*;

    /// A whole order paid from the balance.
    pub fn order(order: OrderId) -> String {
        format!("order:{order}")
    }
    /// The balance part of a combined payment, held for gateway payment `payment`.
    pub fn payment(payment: PaymentId) -> String {
        format!("payment:{payment}")
    }
    /// A refund (its key, chosen once by whoever asked).
    pub fn refund(key: Uuid) -> String {
        format!("refund:{key}")
    }
    /// Everything credited back when a paid order is cancelled.
    pub fn cancelled(order: OrderId) -> String {
        format!("cancelled:{order}")
    }
    /// A staff recharge or adjustment, under the key of the request.
    pub fn staff(key: Uuid) -> String {
        format!("staff:{key}")
    }
    /// A diner's recharge through a gateway: its amount and its bonus.
    pub fn recharge(id: crate::ids::RechargeId) -> String {
        format!("recharge:{id}")
    }
}

/// Folds a ledger (oldest first) by the one rule: what the account must say. Fails on an
/// entry the rule refuses, which means the ledger was written around it.
pub fn replay<'a>(
    brand_id: BrandId,
    customer_id: CustomerId,
    entries: impl IntoIterator<Item = &'a BalanceEntry>,
) -> Result<(Money, Money), BalanceRefusal> {
    let mut account = BalanceAccount::open(brand_id, customer_id, 0);
    for entry in entries {
        let next = account.apply(entry.kind, entry.amount)?;
        account = account.with(next, 0);
    }
    Ok((account.balance, account.held))
}

/// An order's money by channel: what came from the balance and what through a gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Channels {
    pub balance: Money,
    pub gateway: Money,
}

impl Channels {
    pub fn total(self) -> Option<Money> {
        self.balance.checked_add(self.gateway)
    }
}

/// How a refund of `asked` (everything left when `None`) splits between the channels an
/// order was `paid` through, after `refunded` so far: in the proportions it was paid (the
/// balance's share rounded down, the gateway's the rest), never more from a channel than it
/// has left, never more in all than was paid.
pub fn split_refund(
    paid: Channels,
    refunded: Channels,
    asked: Option<Money>,
) -> Result<Channels, RefundRefusal> {
    let paid_total = paid.total().ok_or(RefundRefusal::NotPaid)?;
    if paid_total <= Money::ZERO {
        return Err(RefundRefusal::NotPaid);
    }
    let left_of = |paid: Money, refunded: Money| {
        paid.checked_sub(refunded)
            .filter(|m| !m.is_negative())
            .unwrap_or(Money::ZERO)
    };
    let left = Channels {
        balance: left_of(paid.balance, refunded.balance),
        gateway: left_of(paid.gateway, refunded.gateway),
    };
    let left_total = left.balance + left.gateway;
    let amount = match asked {
        Some(amount) if amount <= Money::ZERO => return Err(RefundRefusal::Zero),
        Some(amount) if amount > left_total => {
            return Err(RefundRefusal::AboveWhatWasPaid { left: left_total });
        }
        Some(amount) => amount,
        None if left_total == Money::ZERO => {
            return Err(RefundRefusal::AboveWhatWasPaid { left: left_total });
        }
        None => left_total,
    };
    if amount == left_total {
        return Ok(left);
    }
    // i128: fen times fen does not fit i64 for the largest orders.
    let share = (i128::from(amount.fen()) * i128::from(paid.balance.fen())
        / i128::from(paid_total.fen())) as i64;
    let floor = amount.fen() - left.gateway.fen();
    let balance = share.max(floor).min(left.balance.fen()).max(0);
    Ok(Channels {
        balance: Money::from_fen(balance),
        gateway: Money::from_fen(amount.fen() - balance),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fen: i64) -> Money {
        Money::from_fen(fen)
    }

    fn account(balance: i64, held: i64) -> BalanceAccount {
        let mut a = BalanceAccount::open(BrandId::new(), CustomerId::new(), 0);
        a.balance = f(balance);
        a.held = f(held);
        a
    }

    #[test]
    fn holds_capture_and_release_move_only_what_is_free() {
        let a = account(5_000, 1_000);
        assert_eq!(a.available(), f(4_000));
        assert_eq!(a.apply(EntryKind::Hold, f(4_000)), Ok((f(5_000), f(5_000))));
        assert_eq!(
            a.apply(EntryKind::Hold, f(4_001)),
            Err(BalanceRefusal::Insufficient {
                available: f(4_000)
            })
        );
        assert_eq!(a.apply(EntryKind::Capture, f(1_000)), Ok((f(4_000), f(0))));
        assert_eq!(a.apply(EntryKind::Release, f(1_000)), Ok((f(5_000), f(0))));
        assert_eq!(
            a.apply(EntryKind::Capture, f(1_001)),
            Err(BalanceRefusal::NotHeld)
        );
    }

    #[test]
    fn an_adjustment_may_go_down_but_never_below_what_is_held() {
        let a = account(5_000, 1_000);
        assert_eq!(
            a.apply(EntryKind::Adjustment, f(-4_000)),
            Ok((f(1_000), f(1_000)))
        );
        assert!(matches!(
            a.apply(EntryKind::Adjustment, f(-4_001)),
            Err(BalanceRefusal::Insufficient { .. })
        ));
        assert_eq!(
            a.apply(EntryKind::Adjustment, f(0)),
            Err(BalanceRefusal::NotPositive)
        );
        assert_eq!(
            a.apply(EntryKind::Recharge, f(-1)),
            Err(BalanceRefusal::NotPositive)
        );
    }

    #[test]
    fn a_balance_never_passes_its_limit_or_overflows() {
        let a = account(MAX_BALANCE.fen(), 0);
        assert_eq!(
            a.apply(EntryKind::Recharge, f(1)),
            Err(BalanceRefusal::TooLarge)
        );
        assert_eq!(
            a.apply(EntryKind::Bonus, f(i64::MAX)),
            Err(BalanceRefusal::TooLarge)
        );
    }

    #[test]
    fn the_ledger_folded_is_the_account() {
        let a = account(0, 0);
        let entry = |kind, fen| BalanceEntry {
            id: Uuid::now_v7(),
            account_id: a.id,
            kind,
            amount: f(fen),
            balance_after: f(0),
            held_after: f(0),
            reason: String::new(),
            reference: String::new(),
            order_id: None,
            actor: "system".into(),
            created_at_ms: 0,
        };
        let ledger = [
            entry(EntryKind::Recharge, 10_000),
            entry(EntryKind::Bonus, 2_000),
            entry(EntryKind::Hold, 3_000),
            entry(EntryKind::Hold, 1_000),
            entry(EntryKind::Capture, 3_000),
            entry(EntryKind::Release, 1_000),
            entry(EntryKind::Refund, 500),
            entry(EntryKind::Adjustment, -500),
        ];
        assert_eq!(
            replay(a.brand_id, a.customer_id, &ledger),
            Ok((f(9_000), f(0)))
        );
        assert!(replay(a.brand_id, a.customer_id, &ledger[2..]).is_err());
    }

    #[test]
    fn a_combined_refund_goes_back_in_the_proportions_paid() {
        let paid = Channels {
            balance: f(3_000),
            gateway: f(7_000),
        };
        let none = Channels::default();
        assert_eq!(
            split_refund(paid, none, Some(f(1_000))),
            Ok(Channels {
                balance: f(300),
                gateway: f(700)
            })
        );
        assert_eq!(split_refund(paid, none, None), Ok(paid));
        // The balance's share rounds down; the gateway takes the odd fen.
        assert_eq!(
            split_refund(paid, none, Some(f(1))),
            Ok(Channels {
                balance: f(0),
                gateway: f(1)
            })
        );
        let after = Channels {
            balance: f(300),
            gateway: f(700),
        };
        assert_eq!(
            split_refund(paid, after, Some(f(9_001))),
            Err(RefundRefusal::AboveWhatWasPaid { left: f(9_000) })
        );
        assert_eq!(
            split_refund(paid, paid, None),
            Err(RefundRefusal::AboveWhatWasPaid { left: f(0) }),
            "a second click of 'refund all' finds nothing left"
        );
        assert_eq!(
            split_refund(Channels::default(), none, None),
            Err(RefundRefusal::NotPaid)
        );
    }

    #[test]
    fn every_split_stays_within_each_channel_and_sums_to_the_ask() {
        // A small exhaustive property: every paid split, every refunded-so-far, every ask.
        for paid_b in 0..=6 {
            for paid_g in 0..=6 {
                let paid = Channels {
                    balance: f(paid_b),
                    gateway: f(paid_g),
                };
                for ref_b in 0..=paid_b {
                    for ref_g in 0..=paid_g {
                        let refunded = Channels {
                            balance: f(ref_b),
                            gateway: f(ref_g),
                        };
                        for ask in 1..=13 {
                            if let Ok(split) = split_refund(paid, refunded, Some(f(ask))) {
                                assert_eq!(split.balance.fen() + split.gateway.fen(), ask);
                                assert!(split.balance.fen() >= 0 && split.gateway.fen() >= 0);
                                assert!(split.balance.fen() <= paid_b - ref_b);
                                assert!(split.gateway.fen() <= paid_g - ref_g);
                            } else {
                                assert!(
                                    ask > paid_b - ref_b + paid_g - ref_g || paid_b + paid_g == 0
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
