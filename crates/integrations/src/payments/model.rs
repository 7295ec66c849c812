//! The provider-neutral words for taking money: what we ask a gateway for, and what it tells
//! us back. Every gateway module maps its wire types to these and nothing else leaks out.

use super::error::PaymentError;
use diancan_domain::money::Money;
use diancan_domain::redacted::Redacted;
use jiff::Timestamp;

/// Which gateway a message belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    WechatPay,
    Alipay,
}

/// Our order number at the gateway (`out_trade_no`): 6–32 characters of `[0-9A-Za-z_-|*]`, the
/// narrower of WeChat's and Alipay's rules, so one number works on either.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutTradeNo(String);

impl OutTradeNo {
    pub fn parse(text: &str) -> Result<OutTradeNo, PaymentError> {
        let fits = (6..=32).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*'));
        if fits {
            Ok(OutTradeNo(text.to_owned()))
        } else {
            Err(PaymentError::invalid(
                "out_trade_no must be 6-32 characters of 0-9 A-Z a-z _ - | *",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Our refund number (`out_refund_no` / `out_request_no`): up to 64 characters of
/// `[0-9A-Za-z_-|*@]`. Retrying a refund with the same number never refunds twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutRefundNo(String);

impl OutRefundNo {
    pub fn parse(text: &str) -> Result<OutRefundNo, PaymentError> {
        let fits = (1..=64).contains(&text.len())
            && text.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*' | b'@')
            });
        if fits {
            Ok(OutRefundNo(text.to_owned()))
        } else {
            Err(PaymentError::invalid(
                "out_refund_no must be 1-64 characters of 0-9 A-Z a-z _ - | * @",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How the diner pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayMethod {
    /// Inside the gateway's own app: WeChat JSAPI (official-account page or mini-program) with
    /// the diner's openid; Alipay mini-program (`trade.create`) with the buyer's open id.
    InApp { payer: Redacted<String> },
    /// A QR code on a cashier screen or a table card, scanned by the diner (Native / precreate).
    Qr,
    /// A phone browser outside the app (WeChat H5 / Alipay `wap.pay`), coming back to
    /// `return_url` afterwards.
    H5 {
        client_ip: String,
        return_url: Option<String>,
    },
    /// 付款码: the cashier scans the code in the diner's app. The result may need polling.
    PaymentCode {
        auth_code: Redacted<String>,
        device_ip: String,
    },
}

/// A payment we ask a gateway to prepare.
#[derive(Debug, Clone)]
pub struct PrepayRequest {
    pub out_trade_no: OutTradeNo,
    /// Shown in the diner's bill: at most 127 bytes (WeChat) / 256 characters (Alipay).
    pub description: String,
    pub amount: Money,
    pub method: PayMethod,
    /// Where the gateway posts the result (https, no query string).
    pub notify_url: String,
    /// The last moment the diner can pay.
    pub expires_at: Option<Timestamp>,
}

/// Bytes, not characters: WeChat counts `description` in UTF-8 bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 127;

impl PrepayRequest {
    /// The checks both gateways would make, made before anything is signed or sent.
    pub fn check(&self) -> Result<(), PaymentError> {
        if self.amount.fen() <= 0 {
            return Err(PaymentError::invalid("amount must be at least 1 fen"));
        }
        if self.description.is_empty() || self.description.len() > MAX_DESCRIPTION_BYTES {
            return Err(PaymentError::invalid("description must be 1-127 bytes"));
        }
        if self.notify_url.is_empty() || self.notify_url.contains('?') {
            return Err(PaymentError::invalid(
                "notify_url must be set and carry no query string",
            ));
        }
        Ok(())
    }
}

/// What the diner's device or the cashier needs to complete a prepared payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    /// WeChat JSAPI: the signed parameters for `WeixinJSBridge` / `wx.requestPayment`.
    WechatBridge(WechatBridgeParams),
    /// Alipay mini-program: the trade number for `my.tradePay({tradeNO})`.
    AlipayTradeNo(String),
    /// A code to render as a QR image (`weixin://wxpay/bizpayurl?…`, `https://qr.alipay.com/…`).
    QrCode(String),
    /// Send the phone browser to this URL (WeChat `h5_url`, Alipay's signed gateway URL).
    Redirect(String),
    /// 付款码: the gateway's first answer; `Paying` means poll [`super::await_payment_code`].
    PaymentCode(Trade),
}

/// Parameters for WeChat's in-app payment sheet; `pay_sign` covers app id, time, nonce and
/// package.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WechatBridgeParams {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    pub package: String,
    pub sign_type: &'static str,
    pub pay_sign: String,
}

/// Where a payment stands at the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeState {
    /// Created, not paid (WeChat `NOTPAY`, Alipay `WAIT_BUYER_PAY` or not yet scanned).
    NotPaid,
    /// The diner is confirming (付款码 asking for a password: `USERPAYING`).
    Paying,
    Paid,
    /// Paid, then (partly) refunded (WeChat `REFUND`).
    Refunded,
    /// Paid and no longer refundable (Alipay `TRADE_FINISHED`).
    Finished,
    Closed,
    /// A 付款码 payment revoked by the cashier.
    Revoked,
    Failed,
}

impl TradeState {
    /// Whether the money arrived (and so the order may be marked paid).
    pub fn is_paid(self) -> bool {
        matches!(
            self,
            TradeState::Paid | TradeState::Refunded | TradeState::Finished
        )
    }
}

/// A payment as the gateway reports it (query, 付款码 answer, notification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    pub provider: Provider,
    /// WeChat `mchid` / Alipay `seller_id` when the gateway names it.
    pub merchant_id: Option<String>,
    pub app_id: Option<String>,
    pub out_trade_no: String,
    /// The gateway's own number, once a payment exists.
    pub transaction_id: Option<String>,
    pub state: TradeState,
    /// The order total the gateway holds.
    pub amount: Money,
    pub currency: String,
    /// The payer's openid / buyer id: personal data.
    pub payer: Option<Redacted<String>>,
    pub paid_at: Option<Timestamp>,
}

/// What we expect a payment to be, to hold a verified message against.
#[derive(Debug, Clone)]
pub struct ExpectedPayment<'a> {
    pub merchant_id: &'a str,
    pub app_id: &'a str,
    pub out_trade_no: &'a str,
    pub amount: Money,
}

impl Trade {
    /// Refuses a verified message about another merchant, app, order or amount: a correct
    /// signature only proves who sent it, not that it is about this order.
    pub fn check_against(&self, expected: &ExpectedPayment<'_>) -> Result<(), PaymentError> {
        let same =
            |ours: &str, theirs: &Option<String>| theirs.as_deref().is_none_or(|t| t == ours);
        if !same(expected.merchant_id, &self.merchant_id) {
            return Err(PaymentError::Mismatch {
                field: "merchant_id",
            });
        }
        if !same(expected.app_id, &self.app_id) {
            return Err(PaymentError::Mismatch { field: "app_id" });
        }
        if self.out_trade_no != expected.out_trade_no {
            return Err(PaymentError::Mismatch {
                field: "out_trade_no",
            });
        }
        if self.amount != expected.amount {
            return Err(PaymentError::Mismatch { field: "amount" });
        }
        if self.currency != "CNY" {
            return Err(PaymentError::Mismatch { field: "currency" });
        }
        Ok(())
    }
}

/// A refund we ask for. `total` is the whole payment (WeChat wants it to find the order).
#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub out_trade_no: OutTradeNo,
    pub out_refund_no: OutRefundNo,
    pub refund: Money,
    pub total: Money,
    pub reason: Option<String>,
    pub notify_url: Option<String>,
}

impl RefundRequest {
    pub fn check(&self) -> Result<(), PaymentError> {
        if self.refund.fen() <= 0 || self.refund > self.total {
            return Err(PaymentError::invalid(
                "refund must be at least 1 fen and at most the payment",
            ));
        }
        if self.reason.as_ref().is_some_and(|r| r.len() > 80) {
            return Err(PaymentError::invalid(
                "refund reason must be at most 80 bytes",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundState {
    /// Accepted, money not back yet: wait for the notification or query again.
    Processing,
    Succeeded,
    Closed,
    /// Stuck (the diner's account is frozen or gone): staff must settle it by hand.
    Abnormal,
}

/// A refund as the gateway reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub provider: Provider,
    pub out_trade_no: String,
    pub out_refund_no: String,
    pub refund_id: Option<String>,
    pub state: RefundState,
    /// This refund's amount, when the gateway states it.
    pub amount: Option<Money>,
    /// All refunds of the payment so far, when the gateway states it (Alipay `refund_fee`).
    pub refunded_total: Option<Money>,
    pub succeeded_at: Option<Timestamp>,
}

/// A notification after its signature has been checked (and its content decrypted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNotification {
    /// The gateway's id for this notification (WeChat `id`, Alipay `notify_id`), to drop
    /// repeats.
    pub notification_id: String,
    pub event: GatewayEvent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayEvent {
    /// The payment changed state; `trade.state.is_paid()` says whether money arrived.
    Trade(Trade),
    Refund(Refund),
}

/// A notification as it arrived: header names in any case, the body untouched.
#[derive(Debug, Clone, Default)]
pub struct IncomingNotification {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl IncomingNotification {
    pub fn header(&self, name: &str) -> Option<&str> {
        super::transport::find_header(&self.headers, name)
    }
}

/// One line of a gateway's daily statement, in our words and in fen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRow {
    pub kind: StatementKind,
    pub out_trade_no: String,
    /// Our refund number, on refund rows.
    pub out_refund_no: Option<String>,
    /// The gateway's payment number.
    pub transaction_id: String,
    /// What moved: the payment's amount, or the refund's (positive either way).
    pub amount: Money,
    /// The state as the gateway wrote it (`SUCCESS`, `REFUND`, `交易`, `退款` …), for the note.
    pub gateway_state: String,
    /// The gateway's time of the line, as it wrote it (China time).
    pub at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    Payment,
    Refund,
}

/// A statement line that could not be read: left out and reported, never the whole bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementProblem {
    /// The line's number in the file, from 1.
    pub line: usize,
    pub reason: String,
}

/// A gateway's statement of one China date: every payment and refund it booked for us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub provider: Provider,
    pub date: jiff::civil::Date,
    pub rows: Vec<StatementRow>,
    pub problems: Vec<StatementProblem>,
}

/// What to answer a notification with: the gateway retries until it sees the success form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_keep_to_both_gateways_alphabets() {
        assert!(OutTradeNo::parse("1217752501201407033233368018").is_ok());
        assert!(OutTradeNo::parse("T2024-01_01|*").is_ok());
        assert!(OutTradeNo::parse("12345").is_err(), "too short");
        assert!(OutTradeNo::parse(&"9".repeat(33)).is_err(), "too long");
        assert!(OutTradeNo::parse("订单123456").is_err());
        assert!(OutRefundNo::parse("R1217752501201407033233368018@1").is_ok());
        assert!(OutRefundNo::parse("").is_err());
        assert!(OutRefundNo::parse("R 1").is_err());
    }

    fn paid() -> Trade {
        Trade {
            provider: Provider::WechatPay,
            merchant_id: Some("1230000109".into()),
            app_id: Some("wxd678efh567hg6787".into()),
            out_trade_no: "1217752501201407033233368018".into(),
            transaction_id: Some("4200000000202401010000000001".into()),
            state: TradeState::Paid,
            amount: Money::from_fen(100),
            currency: "CNY".into(),
            payer: None,
            paid_at: None,
        }
    }

    #[test]
    fn a_verified_payment_must_still_be_about_our_order() {
        let ours = ExpectedPayment {
            merchant_id: "1230000109",
            app_id: "wxd678efh567hg6787",
            out_trade_no: "1217752501201407033233368018",
            amount: Money::from_fen(100),
        };
        assert_eq!(paid().check_against(&ours), Ok(()));
        let cheaper = ExpectedPayment {
            amount: Money::from_fen(10_000),
            ..ours.clone()
        };
        assert_eq!(
            paid().check_against(&cheaper),
            Err(PaymentError::Mismatch { field: "amount" })
        );
        let other_shop = ExpectedPayment {
            merchant_id: "1900000001",
            ..ours.clone()
        };
        assert_eq!(
            paid().check_against(&other_shop),
            Err(PaymentError::Mismatch {
                field: "merchant_id"
            })
        );
        let dollars = Trade {
            currency: "USD".into(),
            ..paid()
        };
        assert_eq!(
            dollars.check_against(&ours),
            Err(PaymentError::Mismatch { field: "currency" })
        );
    }

    #[test]
    fn requests_are_checked_before_signing() {
        let request = PrepayRequest {
            out_trade_no: OutTradeNo::parse("T20240101120000001").unwrap(),
            description: "桌号A12-堂食订单".into(),
            amount: Money::from_fen(8880),
            method: PayMethod::Qr,
            notify_url: "https://merchant.example.com/notify".into(),
            expires_at: None,
        };
        assert_eq!(request.check(), Ok(()));
        let free = PrepayRequest {
            amount: Money::ZERO,
            ..request.clone()
        };
        assert!(free.check().is_err());
        let chatty = PrepayRequest {
            description: "面".repeat(43),
            ..request.clone()
        };
        assert!(
            chatty.check().is_err(),
            "43 Chinese characters are 129 bytes"
        );
        let queried = PrepayRequest {
            notify_url: "https://merchant.example.com/notify?x=1".into(),
            ..request
        };
        assert!(queried.check().is_err());
    }
}
