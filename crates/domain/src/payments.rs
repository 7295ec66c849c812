//! A diner's payment through a gateway, and the one rule that settles it: a verified report
//! that the money arrived moves the payment to paid exactly once, and the order with it only if
//! the order still waits for that money. A repeat is recognised, a report that does not match
//! what we asked for is set aside for reconciliation, and money that arrives for an order that
//! no longer wants it (paid another way, or cancelled) is owed back to the diner.

use crate::ids::{BrandId, OrderId, PaymentId, StoreId};
use crate::money::Money;
use serde::{Deserialize, Serialize};

/// Who holds the money.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentProvider {
    WechatPay,
    Alipay,
}

impl PaymentProvider {
    pub const ALL: [PaymentProvider; 2] = [PaymentProvider::WechatPay, PaymentProvider::Alipay];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentProvider::WechatPay => "wechat_pay",
            PaymentProvider::Alipay => "alipay",
        }
    }

    pub fn parse(text: &str) -> Option<PaymentProvider> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// Who is written in an order's history when this gateway's money arrives.
    pub fn actor(self) -> &'static str {
        match self {
            PaymentProvider::WechatPay => "wechat-pay",
            PaymentProvider::Alipay => "alipay",
        }
    }
}

/// Where a payment stands on our side.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Asked of the gateway; the diner has not paid (as far as we know).
    Pending,
    /// The money arrived.
    Paid,
    /// Closed at the gateway unpaid: it can no longer be paid.
    Closed,
}

impl PaymentState {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Pending => "pending",
            PaymentState::Paid => "paid",
            PaymentState::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<PaymentState> {
        [
            PaymentState::Pending,
            PaymentState::Paid,
            PaymentState::Closed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One attempt to take an order's money through one gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub id: PaymentId,
    pub brand_id: BrandId,
    pub store_id: StoreId,
    pub order_id: OrderId,
    pub provider: PaymentProvider,
    /// How the diner pays (`h5`, `jsapi`, `qr`, `payment_code`), as the gateway module names it.
    pub method: String,
    /// Our number at the gateway: unique, 32 characters.
    pub out_trade_no: String,
    pub amount: Money,
    pub state: PaymentState,
    /// The gateway's own number, once the money arrived.
    pub transaction_id: Option<String>,
    pub paid_at_ms: Option<i64>,
    /// Set when a report did not match what we asked for: reconciliation looks at it.
    pub flagged: Option<String>,
    /// The money came for an order that no longer wanted it: it must go back.
    pub refund_due: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Payment {
    /// A new pending payment of `amount` for an order. The number at the gateway is the id's
    /// 32 hex digits: unique, time-ordered, and inside both gateways' alphabets.
    pub fn start(
        brand_id: BrandId,
        store_id: StoreId,
        order_id: OrderId,
        provider: PaymentProvider,
        method: &str,
        amount: Money,
        now_ms: i64,
    ) -> Payment {
        let id = PaymentId::new();
        Payment {
            id,
            brand_id,
            store_id,
            order_id,
            provider,
            method: method.to_owned(),
            out_trade_no: id.as_uuid().simple().to_string(),
            amount,
            state: PaymentState::Pending,
            transaction_id: None,
            paid_at_ms: None,
            flagged: None,
            refund_due: false,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
        }
    }
}

/// What a verified gateway report says arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArrivedMoney {
    pub provider: PaymentProvider,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub amount_fen: i64,
    pub paid_at_ms: i64,
}

/// What settling a report does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// First report of this money: the payment is paid, and the order is to be marked paid.
    Pay,
    /// This money was settled already: nothing changes (and the gateway is told success).
    AlreadySettled,
    /// Not what we asked for (amount, another gateway, a second transaction for one payment):
    /// the payment is flagged and the order is not touched.
    Flag(&'static str),
}

/// Decides what a report of arrived money does to its payment.
pub fn settle(payment: &Payment, arrived: &ArrivedMoney) -> Settlement {
    if arrived.provider != payment.provider {
        return Settlement::Flag("provider");
    }
    if arrived.amount_fen != payment.amount.fen() {
        return Settlement::Flag("amount");
    }
    match (payment.state, payment.transaction_id.as_deref()) {
        (PaymentState::Paid, Some(known)) if known == arrived.transaction_id => {
            Settlement::AlreadySettled
        }
        (PaymentState::Paid, _) => Settlement::Flag("second_transaction"),
        // Money for a payment we closed: it arrived anyway (a race with the close), so it is
        // settled and, since the order gave up waiting, owed back.
        (PaymentState::Pending | PaymentState::Closed, _) => Settlement::Pay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Payment {
        Payment::start(
            BrandId::new(),
            StoreId::new(),
            OrderId::new(),
            PaymentProvider::WechatPay,
            "h5",
            Money::from_fen(3_200),
            1_000,
        )
    }

    fn arrived(payment: &Payment, transaction: &str, fen: i64) -> ArrivedMoney {
        ArrivedMoney {
            provider: payment.provider,
            out_trade_no: payment.out_trade_no.clone(),
            transaction_id: transaction.into(),
            amount_fen: fen,
            paid_at_ms: 2_000,
        }
    }

    #[test]
    fn the_first_report_pays_and_a_repeat_changes_nothing() {
        let mut payment = pending();
        assert_eq!(
            settle(&payment, &arrived(&payment, "420001", 3_200)),
            Settlement::Pay
        );
        payment.state = PaymentState::Paid;
        payment.transaction_id = Some("420001".into());
        assert_eq!(
            settle(&payment, &arrived(&payment, "420001", 3_200)),
            Settlement::AlreadySettled
        );
    }

    #[test]
    fn a_report_that_does_not_match_is_flagged_and_pays_nothing() {
        let mut payment = pending();
        assert_eq!(
            settle(&payment, &arrived(&payment, "420001", 1)),
            Settlement::Flag("amount")
        );
        let mut other = arrived(&payment, "420001", 3_200);
        other.provider = PaymentProvider::Alipay;
        assert_eq!(settle(&payment, &other), Settlement::Flag("provider"));
        payment.state = PaymentState::Paid;
        payment.transaction_id = Some("420001".into());
        assert_eq!(
            settle(&payment, &arrived(&payment, "420002", 3_200)),
            Settlement::Flag("second_transaction")
        );
    }

    #[test]
    fn money_for_a_closed_payment_is_still_settled() {
        let mut payment = pending();
        payment.state = PaymentState::Closed;
        assert_eq!(
            settle(&payment, &arrived(&payment, "420001", 3_200)),
            Settlement::Pay
        );
    }

    #[test]
    fn the_number_at_the_gateway_fits_both_alphabets() {
        let payment = pending();
        assert_eq!(payment.out_trade_no.len(), 32);
        assert!(payment.out_trade_no.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
