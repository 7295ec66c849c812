//! Money going back to a diner through the gateway it came by. A refund is numbered once and
//! asked for under that number until the gateway answers, so retrying never refunds twice;
//! what a payment can still give back is what it took less every refund not failed, so a
//! second click or an amount above what was paid refunds nothing more.

use crate::ids::{BrandId, OrderId, PaymentId, RefundId, StoreId};
use crate::money::Money;
use crate::payments::{Payment, PaymentState};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundState {
    /// Asked for (or about to be); the gateway has not confirmed the money is back.
    Requested,
    Succeeded,
    /// The gateway refused or the diner's account could not take it: staff settle it by hand.
    Failed,
}

impl RefundState {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundState::Requested => "requested",
            RefundState::Succeeded => "succeeded",
            RefundState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<RefundState> {
        [
            RefundState::Requested,
            RefundState::Succeeded,
            RefundState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether a report of `next` may replace this state: forward only, so a late
    /// "processing" never undoes a success.
    pub fn may_become(self, next: RefundState) -> bool {
        self == RefundState::Requested && next != RefundState::Requested
    }
}

/// Why a refund is made; automatic ones have one number per payment, so a repeat finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundCause {
    /// The money arrived for an order that no longer wanted it (paid twice, or cancelled).
    NotWanted,
    /// The order was cancelled after it was paid.
    OrderCancelled,
    /// Staff gave money back (all or part), under a key chosen once per request: the same
    /// key again (a second click, a retry) finds the first refund.
    ByStaff(RefundId),
}

impl RefundCause {
    /// Our number at the gateway. Automatic refunds are the payment's number with a prefix,
    /// so the same cause can never refund one payment twice.
    pub fn out_refund_no(self, payment: &Payment) -> String {
        match self {
            RefundCause::NotWanted => format!("D{}", payment.out_trade_no),
            RefundCause::OrderCancelled => format!("C{}", payment.out_trade_no),
            RefundCause::ByStaff(key) => format!("R{}", key.as_uuid().simple()),
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            RefundCause::NotWanted => "重复支付或订单已取消，自动退款",
            RefundCause::OrderCancelled => "订单已取消，自动退款",
            RefundCause::ByStaff(_) => "商家退款",
        }
    }
}

/// One refund of one payment.
#[derive(Debug, Clone, PartialEq)]
pub struct Refund {
    pub id: RefundId,
    pub brand_id: BrandId,
    pub store_id: StoreId,
    pub order_id: OrderId,
    pub payment_id: PaymentId,
    pub out_refund_no: String,
    pub amount: Money,
    pub reason: String,
    pub state: RefundState,
    /// The gateway's own number, once it has one.
    pub gateway_refund_id: Option<String>,
    /// Who asked: `system` or a staff label.
    pub requested_by: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefundRefusal {
    #[error("the payment took no money")]
    NotPaid,
    #[error("a refund must be at least 1 fen")]
    Zero,
    /// More than the payment has left to give back.
    #[error("at most {left} fen can still be refunded")]
    AboveWhatWasPaid { left: Money },
}

/// What `payment` can still give back after `refunded` (its refunds not failed).
pub fn refundable(payment: &Payment, refunded: Money) -> Money {
    if payment.state != PaymentState::Paid {
        return Money::ZERO;
    }
    payment
        .amount
        .checked_sub(refunded)
        .filter(|left| *left > Money::ZERO)
        .unwrap_or(Money::ZERO)
}

/// The amount of a new refund: `asked`, or everything left when `None`.
pub fn refund_amount(
    payment: &Payment,
    refunded: Money,
    asked: Option<Money>,
) -> Result<Money, RefundRefusal> {
    if payment.state != PaymentState::Paid {
        return Err(RefundRefusal::NotPaid);
    }
    let left = refundable(payment, refunded);
    match asked {
        Some(amount) if amount <= Money::ZERO => Err(RefundRefusal::Zero),
        Some(amount) if amount > left => Err(RefundRefusal::AboveWhatWasPaid { left }),
        Some(amount) => Ok(amount),
        None if left == Money::ZERO => Err(RefundRefusal::AboveWhatWasPaid { left }),
        None => Ok(left),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::PaymentProvider;

    fn paid(fen: i64) -> Payment {
        let mut payment = Payment::start(
            BrandId::new(),
            StoreId::new(),
            OrderId::new(),
            PaymentProvider::Alipay,
            "wap",
            Money::from_fen(fen),
            0,
        );
        payment.state = PaymentState::Paid;
        payment
    }

    #[test]
    fn a_payment_gives_back_at_most_what_it_took() {
        let payment = paid(5_000);
        let f = Money::from_fen;
        assert_eq!(refund_amount(&payment, f(0), None), Ok(f(5_000)));
        assert_eq!(
            refund_amount(&payment, f(1_200), Some(f(3_800))),
            Ok(f(3_800))
        );
        assert_eq!(
            refund_amount(&payment, f(1_200), Some(f(3_801))),
            Err(RefundRefusal::AboveWhatWasPaid { left: f(3_800) })
        );
        assert_eq!(
            refund_amount(&payment, f(5_000), None),
            Err(RefundRefusal::AboveWhatWasPaid { left: f(0) }),
            "a second click finds nothing left"
        );
        assert_eq!(
            refund_amount(&payment, f(0), Some(f(0))),
            Err(RefundRefusal::Zero)
        );
        let mut pending = payment.clone();
        pending.state = PaymentState::Pending;
        assert_eq!(
            refund_amount(&pending, f(0), None),
            Err(RefundRefusal::NotPaid)
        );
    }

    #[test]
    fn automatic_refunds_have_one_number_per_payment_and_cause() {
        let payment = paid(100);
        assert_eq!(
            RefundCause::OrderCancelled.out_refund_no(&payment),
            RefundCause::OrderCancelled.out_refund_no(&payment)
        );
        assert_ne!(
            RefundCause::OrderCancelled.out_refund_no(&payment),
            RefundCause::NotWanted.out_refund_no(&payment)
        );
        let key = RefundId::new();
        assert_eq!(
            RefundCause::ByStaff(key).out_refund_no(&payment),
            RefundCause::ByStaff(key).out_refund_no(&payment)
        );
        assert_ne!(
            RefundCause::ByStaff(key).out_refund_no(&payment),
            RefundCause::ByStaff(RefundId::new()).out_refund_no(&payment)
        );
        assert!(RefundCause::NotWanted.out_refund_no(&payment).len() <= 64);
    }

    #[test]
    fn a_refund_only_moves_forward() {
        use RefundState::*;
        assert!(Requested.may_become(Succeeded));
        assert!(Requested.may_become(Failed));
        assert!(!Succeeded.may_become(Requested));
        assert!(!Succeeded.may_become(Failed));
        assert!(!Requested.may_become(Requested));
    }
}
