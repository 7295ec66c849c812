//! What can go wrong between us and a payment gateway, with a stable code and a Chinese
//! message for each, so the web edge and the cashier screen can say it without guessing.

use super::keys::KeyError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The body is not JSON, not a form, or not in the gateway's format.
    #[error("malformed gateway message: {reason}")]
    MalformedBody { reason: String },
    /// A header the protocol requires is absent or empty.
    #[error("missing header {name}")]
    MissingHeader { name: &'static str },
    /// The signed timestamp is five minutes or more away from our clock: a replay or a clock
    /// fault, refused either way.
    #[error("timestamp {timestamp} is outside the five-minute window")]
    StaleTimestamp { timestamp: String },
    /// Signed with a key we do not hold (`Wechatpay-Serial` unknown).
    #[error("unknown platform key serial {serial}")]
    UnknownSerial { serial: String },
    /// The signature does not match the bytes received.
    #[error("signature does not verify")]
    BadSignature,
    /// The encrypted notification resource does not open with our API v3 key.
    #[error("notification resource does not decrypt")]
    Undecryptable,
    /// A verified message names another merchant, app, order or amount than ours.
    #[error("{field} does not match our order")]
    Mismatch { field: &'static str },
    /// Our own request is unfit to send (an order number out of the gateway's alphabet, a text
    /// too long, a zero amount).
    #[error("invalid payment request: {reason}")]
    InvalidRequest { reason: String },
    /// The gateway answered with an error of its own. `outcome_unknown` says whether the
    /// money may still have moved (system errors): then retry with the same ids or query.
    #[error("gateway refused ({status}) {code}: {message}")]
    Gateway {
        status: u16,
        code: String,
        message: String,
        outcome_unknown: bool,
    },
    /// No answer: connection refused, timed out or cut. The outcome is unknown.
    #[error("gateway unreachable: {reason}")]
    Transport { reason: String, timed_out: bool },
    /// A key in the configuration could not be loaded.
    #[error("payment key: {0}")]
    Key(#[from] KeyError),
}

impl PaymentError {
    /// A stable machine code for API bodies and logs.
    pub fn code(&self) -> &'static str {
        match self {
            PaymentError::MalformedBody { .. } => "payment_malformed_body",
            PaymentError::MissingHeader { .. } => "payment_missing_header",
            PaymentError::StaleTimestamp { .. } => "payment_stale_timestamp",
            PaymentError::UnknownSerial { .. } => "payment_unknown_serial",
            PaymentError::BadSignature => "payment_bad_signature",
            PaymentError::Undecryptable => "payment_undecryptable",
            PaymentError::Mismatch { .. } => "payment_mismatch",
            PaymentError::InvalidRequest { .. } => "payment_invalid_request",
            PaymentError::Gateway { .. } => "payment_gateway_error",
            PaymentError::Transport { .. } => "payment_gateway_unreachable",
            PaymentError::Key(_) => "payment_key_invalid",
        }
    }

    /// The message in Chinese, for staff screens.
    pub fn message_zh(&self) -> &'static str {
        match self {
            PaymentError::MalformedBody { .. } => "支付渠道消息格式错误",
            PaymentError::MissingHeader { .. } => "支付渠道消息缺少签名信息",
            PaymentError::StaleTimestamp { .. } => "支付渠道消息已过期",
            PaymentError::UnknownSerial { .. } => "未知的平台证书序列号",
            PaymentError::BadSignature => "支付渠道签名验证失败",
            PaymentError::Undecryptable => "支付通知解密失败",
            PaymentError::Mismatch { .. } => "支付信息与订单不符",
            PaymentError::InvalidRequest { .. } => "支付请求参数无效",
            PaymentError::Gateway { .. } => "支付渠道返回错误",
            PaymentError::Transport { .. } => "支付渠道暂时无法连接",
            PaymentError::Key(_) => "支付密钥配置无效",
        }
    }

    /// Whether money may have moved although we got no clear answer: the caller must query
    /// (or retry with the same order and refund numbers), never start a new payment.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            PaymentError::Transport { .. } => true,
            PaymentError::Gateway {
                outcome_unknown, ..
            } => *outcome_unknown,
            _ => false,
        }
    }

    /// The gateway has no trade under our number: the prepay never reached it, or a QR code
    /// was never scanned (Alipay creates the trade only then). Nothing can be paid there.
    pub fn no_such_trade(&self) -> bool {
        matches!(self, PaymentError::Gateway { code, .. }
            if matches!(code.as_str(), "ORDER_NOT_EXIST" | "RESOURCE_NOT_EXISTS" | "ACQ.TRADE_NOT_EXIST"))
    }

    pub(crate) fn malformed(reason: impl Into<String>) -> PaymentError {
        PaymentError::MalformedBody {
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> PaymentError {
        PaymentError::InvalidRequest {
            reason: reason.into(),
        }
    }
}
