//! 积分: an append-only ledger per member. Every entry is a signed change; earned points form
//! lots that expire by the brand's policy, and anything taken out (redeemed, reversed after a
//! refund, corrected down) is taken from the lot that expires first (FIFO). One rule
//! ([`PointsAccount::apply`]) says what an entry does, so the member's balance is the ledger
//! folded, and it is never negative.

use super::MembershipRefusal;
use crate::ids::{MemberId, OrderId};
use crate::money::Money;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The most points a member may hold; more is a bug or an attack.
pub const MAX_POINTS: i64 = 100_000_000;
/// The most points per yuan a brand may give.
pub const MAX_POINTS_PER_YUAN: u32 = 100;
/// The longest a brand may let points live (months after the month of earning).
pub const MAX_EXPIRY_MONTHS: u32 = 60;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointsKind {
    /// Points for an order paid (positive), a lot with its expiry.
    Earn,
    /// Spent by the diner (negative).
    Redeem,
    /// What was left of a lot when it expired (negative).
    Expire,
    /// Taken back because the order they were earned on was refunded (negative).
    Reverse,
    /// A staff correction, up (a new lot) or down.
    Adjust,
}

impl PointsKind {
    pub const ALL: [PointsKind; 5] = [
        PointsKind::Earn,
        PointsKind::Redeem,
        PointsKind::Expire,
        PointsKind::Reverse,
        PointsKind::Adjust,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PointsKind::Earn => "earn",
            PointsKind::Redeem => "redeem",
            PointsKind::Expire => "expire",
            PointsKind::Reverse => "reverse",
            PointsKind::Adjust => "adjust",
        }
    }

    pub fn parse(text: &str) -> Option<PointsKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// When points expire: at the end of the `months`-th month after the month they were earned
/// in (12: points earned any day of March 2026 expire when April 2027 begins), in the brand's
/// time zone; `months == 0` means never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryPolicy {
    pub months: u32,
}

impl ExpiryPolicy {
    pub fn parse(months: u32) -> Result<ExpiryPolicy, MembershipRefusal> {
        if months > MAX_EXPIRY_MONTHS {
            return Err(MembershipRefusal::BadPointsRule(
                "points live at most 60 months",
            ));
        }
        Ok(ExpiryPolicy { months })
    }

    /// The instant points earned at `earned_at_ms` expire, or `None` if they never do.
    pub fn expires_at_ms(self, earned_at_ms: i64, zone: &TimeZone) -> Option<i64> {
        if self.months == 0 {
            return None;
        }
        let earned = jiff::Timestamp::from_millisecond(earned_at_ms).ok()?;
        let date = earned.to_zoned_datetime(zone.clone()).date();
        let first = Date::new(date.year(), date.month(), 1).ok()?;
        let end = first
            .checked_add(jiff::Span::new().months(i64::from(self.months) + 1))
            .ok()?;
        let at = end.to_zoned_datetime(zone.clone()).ok()?;
        Some(at.timestamp().as_millisecond())
    }
}

/// Points for `paid`: whole yuan times the brand's rate times a multiplier (member day).
pub fn points_for(paid: Money, per_yuan: u32, multiplier: u32) -> i64 {
    let yuan = paid.fen().max(0) / 100;
    yuan.saturating_mul(i64::from(per_yuan))
        .saturating_mul(i64::from(multiplier))
        .min(MAX_POINTS)
}

/// Growth value for `paid`: one per whole yuan.
pub fn growth_for(paid: Money) -> i64 {
    paid.fen().max(0) / 100
}

/// How much of `earned` to take back now that `refunded_total` of an order's `paid_total`
/// has been refunded, when `reversed` was taken back before: in proportion, rounded down,
/// everything once the order is refunded in full. Refunds may arrive in any order; the
/// answer only ever grows, so each one takes what is due beyond the ones before.
pub fn reversal_due(earned: i64, reversed: i64, refunded_total: Money, paid_total: Money) -> i64 {
    if earned <= 0 || paid_total <= Money::ZERO {
        return 0;
    }
    let target = if refunded_total >= paid_total {
        earned
    } else {
        (i128::from(earned) * i128::from(refunded_total.fen().max(0))
            / i128::from(paid_total.fen())) as i64
    };
    (target - reversed).max(0)
}

/// A part of the balance earned together, and what is left of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lot {
    /// The entry that made it.
    pub entry_id: Uuid,
    pub left: i64,
    pub expires_at_ms: Option<i64>,
}

/// A change to post: the kind and its signed points; earn and upward adjustments make a lot
/// (with its expiry), an expiry names the lot it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointsChange {
    pub entry_id: Uuid,
    pub kind: PointsKind,
    pub points: i64,
    pub expires_at_ms: Option<i64>,
    pub lot: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PointsRefusal {
    #[error("only {available} points are available")]
    Insufficient { available: i64 },
    /// Zero, or the wrong sign for its kind.
    #[error("the points are not of the kind's sign")]
    WrongSign,
    #[error("the balance would exceed its limit")]
    TooLarge,
    /// An expiry of no lot, or of other than what is left of it: a bug.
    #[error("no such lot to expire")]
    NoSuchLot,
}

/// A member's points: the balance and the lots it is made of, oldest expiry first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PointsAccount {
    pub balance: i64,
    pub lots: Vec<Lot>,
}

impl PointsAccount {
    /// The one rule: this account after `change`, or why not.
    pub fn apply(&self, change: &PointsChange) -> Result<PointsAccount, PointsRefusal> {
        let adds = match change.kind {
            PointsKind::Earn => true,
            PointsKind::Adjust => change.points > 0,
            PointsKind::Redeem | PointsKind::Expire | PointsKind::Reverse => false,
        };
        // Earnings and reversals may carry growth alone (a brand that gives no points, a
        // member who spent them all); every other entry moves points.
        let growth_only =
            change.points == 0 && matches!(change.kind, PointsKind::Earn | PointsKind::Reverse);
        if growth_only {
            return Ok(self.clone());
        }
        if change.points == 0 || (adds != (change.points > 0)) {
            return Err(PointsRefusal::WrongSign);
        }
        let mut next = self.clone();
        if adds {
            next.balance = self
                .balance
                .checked_add(change.points)
                .filter(|b| *b <= MAX_POINTS)
                .ok_or(PointsRefusal::TooLarge)?;
            let lot = Lot {
                entry_id: change.entry_id,
                left: change.points,
                expires_at_ms: change.expires_at_ms,
            };
            // Kept in the order they are consumed: soonest expiry first, never-expiring last,
            // and among equals the older first.
            let at = next
                .lots
                .iter()
                .position(|l| expires_before(lot.expires_at_ms, l.expires_at_ms))
                .unwrap_or(next.lots.len());
            next.lots.insert(at, lot);
            return Ok(next);
        }
        let taken = -change.points;
        if change.kind == PointsKind::Expire {
            let at = next
                .lots
                .iter()
                .position(|l| Some(l.entry_id) == change.lot && l.left == taken)
                .ok_or(PointsRefusal::NoSuchLot)?;
            next.lots.remove(at);
            next.balance -= taken;
            return Ok(next);
        }
        if taken > self.balance {
            return Err(PointsRefusal::Insufficient {
                available: self.balance,
            });
        }
        let mut owed = taken;
        for lot in next.lots.iter_mut() {
            let take = lot.left.min(owed);
            lot.left -= take;
            owed -= take;
            if owed == 0 {
                break;
            }
        }
        next.lots.retain(|l| l.left > 0);
        next.balance -= taken;
        Ok(next)
    }

    /// The expiries due at `now_ms`: each lot past its time, for what is left of it.
    pub fn due_expiries(&self, now_ms: i64) -> Vec<(Uuid, i64)> {
        self.lots
            .iter()
            .filter(|l| l.expires_at_ms.is_some_and(|at| at <= now_ms))
            .map(|l| (l.entry_id, l.left))
            .collect()
    }

    /// Points that expire next, and when: for "200 积分将于 4 月 1 日过期".
    pub fn next_expiry(&self) -> Option<(i64, i64)> {
        let at = self.lots.iter().find_map(|l| l.expires_at_ms)?;
        let points = self
            .lots
            .iter()
            .filter(|l| l.expires_at_ms == Some(at))
            .map(|l| l.left)
            .sum();
        Some((points, at))
    }
}

fn expires_before(a: Option<i64>, b: Option<i64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a < b,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// One line of the ledger. Never changed or deleted once written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsEntry {
    pub id: Uuid,
    pub member_id: MemberId,
    pub kind: PointsKind,
    /// Signed: positive adds, negative takes.
    pub points: i64,
    pub balance_after: i64,
    /// Growth value this entry added or took back (earns and reversals), signed.
    pub growth: i64,
    pub expires_at_ms: Option<i64>,
    /// The lot an expiry ends.
    pub lot: Option<Uuid>,
    /// What the entry is about (`order:…`, `refund:…`, `redeem:…`, `staff:…`, `expire:…`): an
    /// operation repeated with the same reference writes nothing twice.
    pub reference: String,
    pub order_id: Option<OrderId>,
    pub reason: String,
    /// `diner`, `system`, or the staff member's label.
    pub actor: String,
    pub created_at_ms: i64,
}

impl PointsEntry {
    pub fn change(&self) -> PointsChange {
        PointsChange {
            entry_id: self.id,
            kind: self.kind,
            points: self.points,
            expires_at_ms: self.expires_at_ms,
            lot: self.lot,
        }
    }
}

/// Folds a ledger (oldest first) by the one rule. Fails on an entry the rule refuses, which
/// means the ledger was written around it.
pub fn replay<'a>(
    entries: impl IntoIterator<Item = &'a PointsEntry>,
) -> Result<PointsAccount, PointsRefusal> {
    let mut account = PointsAccount::default();
    for entry in entries {
        account = account.apply(&entry.change())?;
    }
    Ok(account)
}

/// The references entries carry, made in one place so a repeat names the same thing.
pub mod reference {
    use super::*;

    /// Points earned on an order.
    pub fn order(order: OrderId) -> String {
        format!("order:{order}")
    }
    /// Points taken back after a refund of an order, under the refund's key.
    pub fn refund(key: Uuid) -> String {
        format!("refund:{key}")
    }
    /// Points taken back because a paid order was cancelled.
    pub fn cancelled(order: OrderId) -> String {
        format!("cancelled:{order}")
    }
    /// A diner's redemption, under the key of the request.
    pub fn redeem(key: Uuid) -> String {
        format!("redeem:{key}")
    }
    /// A staff correction, under the key of the request.
    pub fn staff(key: Uuid) -> String {
        format!("staff:{key}")
    }
    /// A lot's expiry.
    pub fn expire(lot: Uuid) -> String {
        format!("expire:{lot}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn shanghai() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    fn ms(text: &str) -> i64 {
        text.parse::<jiff::ZonedDateTime>()
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    fn earn(points: i64, expires: Option<i64>) -> PointsChange {
        PointsChange {
            entry_id: Uuid::now_v7(),
            kind: PointsKind::Earn,
            points,
            expires_at_ms: expires,
            lot: None,
        }
    }

    fn take(kind: PointsKind, points: i64) -> PointsChange {
        PointsChange {
            entry_id: Uuid::now_v7(),
            kind,
            points: -points,
            expires_at_ms: None,
            lot: None,
        }
    }

    #[test]
    fn points_expire_when_the_twelfth_month_after_earning_ends() {
        let policy = ExpiryPolicy::parse(12).unwrap();
        let zone = shanghai();
        let earned = ms("2026-03-31T23:59:59+08:00[Asia/Shanghai]");
        assert_eq!(
            policy.expires_at_ms(earned, &zone),
            Some(ms("2027-04-01T00:00:00+08:00[Asia/Shanghai]"))
        );
        // 16:30 UTC on 31 March is already 1 April in Shanghai: a month later.
        let april = ms("2026-03-31T16:30:00+00:00[UTC]");
        assert_eq!(
            policy.expires_at_ms(april, &zone),
            Some(ms("2027-05-01T00:00:00+08:00[Asia/Shanghai]"))
        );
        assert_eq!(
            ExpiryPolicy::parse(0).unwrap().expires_at_ms(earned, &zone),
            None
        );
        assert!(ExpiryPolicy::parse(61).is_err());
    }

    #[test]
    fn spending_takes_from_the_lot_that_expires_first() {
        let a = PointsAccount::default();
        let late = earn(100, Some(2_000));
        let early = earn(50, Some(1_000));
        let never = earn(10, None);
        let a = a.apply(&late).unwrap().apply(&never).unwrap();
        let a = a.apply(&early).unwrap();
        assert_eq!(
            a.lots.iter().map(|l| l.entry_id).collect::<Vec<_>>(),
            vec![early.entry_id, late.entry_id, never.entry_id]
        );
        let a = a.apply(&take(PointsKind::Redeem, 70)).unwrap();
        assert_eq!(a.balance, 90);
        assert_eq!(a.lots[0].entry_id, late.entry_id);
        assert_eq!(a.lots[0].left, 80);
        assert_eq!(a.due_expiries(2_000), vec![(late.entry_id, 80)]);
        assert_eq!(a.next_expiry(), Some((80, 2_000)));
        let expire = PointsChange {
            lot: Some(late.entry_id),
            ..take(PointsKind::Expire, 80)
        };
        let a = a.apply(&expire).unwrap();
        assert_eq!(a.balance, 10);
        assert_eq!(a.apply(&expire), Err(PointsRefusal::NoSuchLot));
    }

    #[test]
    fn a_redemption_above_the_balance_is_refused() {
        let a = PointsAccount::default().apply(&earn(30, None)).unwrap();
        assert_eq!(
            a.apply(&take(PointsKind::Redeem, 31)),
            Err(PointsRefusal::Insufficient { available: 30 })
        );
        assert_eq!(
            a.apply(&take(PointsKind::Redeem, 0)),
            Err(PointsRefusal::WrongSign)
        );
        assert_eq!(
            a.apply(&take(PointsKind::Redeem, -5)),
            Err(PointsRefusal::WrongSign)
        );
        assert_eq!(
            a.apply(&earn(MAX_POINTS, None)),
            Err(PointsRefusal::TooLarge)
        );
    }

    #[test]
    fn points_and_growth_follow_whole_yuan() {
        assert_eq!(points_for(Money::from_fen(12_399), 1, 1), 123);
        assert_eq!(points_for(Money::from_fen(12_399), 2, 2), 492);
        assert_eq!(points_for(Money::from_fen(-5), 2, 2), 0);
        assert_eq!(growth_for(Money::from_fen(99)), 0);
    }

    #[test]
    fn refunds_take_points_back_in_proportion_and_all_at_the_end() {
        let paid = Money::from_fen(10_000);
        assert_eq!(reversal_due(100, 0, Money::from_fen(3_333), paid), 33);
        assert_eq!(reversal_due(100, 33, Money::from_fen(6_666), paid), 33);
        assert_eq!(reversal_due(100, 66, paid, paid), 34);
        // A late copy of an earlier refund takes nothing more.
        assert_eq!(reversal_due(100, 100, Money::from_fen(3_333), paid), 0);
    }

    #[derive(Debug, Clone)]
    enum Step {
        Earn(i64, Option<i64>),
        Take(PointsKind, i64),
        Expire(i64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1i64..500, proptest::option::of(0i64..10)).prop_map(|(p, e)| Step::Earn(p, e)),
            (
                prop_oneof![
                    Just(PointsKind::Redeem),
                    Just(PointsKind::Reverse),
                    Just(PointsKind::Adjust)
                ],
                1i64..800
            )
                .prop_map(|(k, p)| Step::Take(k, p)),
            (0i64..10).prop_map(Step::Expire),
        ]
    }

    proptest! {
        /// Whatever the diner, the refunds and the clock do, the balance is what the lots
        /// hold, it is never negative, and folding the ledger gives the same account.
        #[test]
        fn the_ledger_folded_is_the_account_and_never_negative(steps in proptest::collection::vec(step(), 0..60)) {
            let member = MemberId::new();
            let mut account = PointsAccount::default();
            let mut ledger = Vec::new();
            for step in steps {
                let changes = match step {
                    Step::Earn(p, e) => vec![earn(p, e)],
                    Step::Take(kind, p) => vec![take(kind, p)],
                    Step::Expire(now) => account.due_expiries(now).into_iter().map(|(lot, left)| PointsChange {
                        lot: Some(lot),
                        ..take(PointsKind::Expire, left)
                    }).collect(),
                };
                for change in changes {
                    match account.apply(&change) {
                        Ok(next) => {
                            account = next;
                            ledger.push(PointsEntry {
                                id: change.entry_id,
                                member_id: member,
                                kind: change.kind,
                                points: change.points,
                                balance_after: account.balance,
                                growth: 0,
                                expires_at_ms: change.expires_at_ms,
                                lot: change.lot,
                                reference: String::new(),
                                order_id: None,
                                reason: String::new(),
                                actor: "system".into(),
                                created_at_ms: 0,
                            });
                        }
                        Err(PointsRefusal::Insufficient { available }) => {
                            prop_assert_eq!(available, account.balance);
                            prop_assert!(-change.points > account.balance);
                        }
                        Err(other) => prop_assert!(false, "refused: {other}"),
                    }
                    prop_assert!(account.balance >= 0);
                    prop_assert_eq!(account.balance, account.lots.iter().map(|l| l.left).sum::<i64>());
                    prop_assert!(account.lots.iter().all(|l| l.left > 0));
                }
            }
            prop_assert_eq!(replay(&ledger).unwrap(), account);
        }

        #[test]
        fn reversals_never_take_more_than_was_earned(
            earned in 0i64..10_000,
            paid in 1i64..1_000_000,
            cuts in proptest::collection::vec(1i64..1_000_000, 1..6),
        ) {
            let paid = Money::from_fen(paid);
            let mut refunded = Money::ZERO;
            let mut reversed = 0;
            for cut in cuts {
                refunded = Money::from_fen((refunded.fen() + cut).min(paid.fen()));
                reversed += reversal_due(earned, reversed, refunded, paid);
                prop_assert!(reversed <= earned);
            }
            if refunded == paid {
                prop_assert_eq!(reversed, earned);
            }
        }
    }
}
