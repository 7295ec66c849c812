//! The one trait every payment gateway implements, and the 付款码 polling rule that works the
//! same on all of them.

use super::error::PaymentError;
use super::model::{
    Acknowledgement, IncomingNotification, OutRefundNo, OutTradeNo, Prepared, PrepayRequest,
    Provider, Refund, RefundRequest, Statement, Trade, TradeState, VerifiedNotification,
};
use crate::sms::BoxFuture;
use jiff::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// The time, injected so fixed-timestamp vectors and frozen-clock tests work.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(Timestamp::now)
}

/// Whether we could record a notification: the gateway resends until it reads success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationOutcome {
    /// Verified and committed.
    Recorded,
    /// Not believed (format, signature, addressee): a 4xx, which both gateways also resend,
    /// so a genuine message refused by mistake (a platform key rotated) still arrives later.
    Refused,
    /// Believed but not committed (the database is down): a 5xx, please send it again.
    Failed,
}

pub trait PaymentGateway: Send + Sync {
    fn provider(&self) -> Provider;

    /// Prepares a payment by `request.method`.
    fn prepay<'a>(
        &'a self,
        request: &'a PrepayRequest,
    ) -> BoxFuture<'a, Result<Prepared, PaymentError>>;

    fn query<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
    ) -> BoxFuture<'a, Result<Trade, PaymentError>>;

    /// Closes an unpaid payment so it can no longer be paid.
    fn close<'a>(&'a self, out_trade_no: &'a OutTradeNo)
    -> BoxFuture<'a, Result<(), PaymentError>>;

    /// Revokes a 付款码 payment (paid or not: a paid one is refunded by the gateway).
    fn revoke<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
    ) -> BoxFuture<'a, Result<(), PaymentError>>;

    fn refund<'a>(
        &'a self,
        request: &'a RefundRequest,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>>;

    fn query_refund<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
        out_refund_no: &'a OutRefundNo,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>>;

    /// The gateway's statement of one China date: every payment and refund it booked for this
    /// merchant, amounts in fen. Lines it cannot read are in `problems`, not an error.
    fn statement(&self, date: jiff::civil::Date) -> BoxFuture<'_, Result<Statement, PaymentError>>;

    /// Checks a notification's signature (and decrypts it) into an event. The caller still
    /// holds the event against its order ([`Trade::check_against`]) before believing it.
    fn verify_notification(
        &self,
        notification: &IncomingNotification,
    ) -> Result<VerifiedNotification, PaymentError>;

    /// The exact answer the gateway expects, sent after the change has committed.
    fn acknowledgement(&self, outcome: NotificationOutcome) -> Acknowledgement;
}

/// How a cashier's 付款码 payment is followed when the diner must confirm on the phone: ask
/// every few seconds, and revoke once the diner has had long enough, so a payment confirmed
/// late cannot go through after the cashier has given up.
#[derive(Debug, Clone, Copy)]
pub struct PaymentCodePolicy {
    pub poll_every: Duration,
    pub give_up_after: Duration,
}

impl Default for PaymentCodePolicy {
    fn default() -> Self {
        PaymentCodePolicy {
            poll_every: Duration::from_secs(5),
            give_up_after: Duration::from_secs(45),
        }
    }
}

/// Follows a 付款码 payment to its end: the paid trade, or, after the policy's time without a
/// result, the trade as the gateway reports it once revoked (a payment confirmed at the last
/// moment is refunded by the revocation itself). Errors while polling are retried, because the outcome is unknown until
/// the gateway says; an error while revoking is returned, and the caller must query again.
pub async fn await_payment_code(
    gateway: &dyn PaymentGateway,
    out_trade_no: &OutTradeNo,
    policy: PaymentCodePolicy,
) -> Result<Trade, PaymentError> {
    let deadline = tokio::time::Instant::now() + policy.give_up_after;
    loop {
        tokio::time::sleep(policy.poll_every).await;
        match gateway.query(out_trade_no).await {
            Ok(trade) if !matches!(trade.state, TradeState::Paying | TradeState::NotPaid) => {
                return Ok(trade);
            }
            Ok(_) => {}
            Err(error) if error.outcome_unknown() => {
                tracing::warn!(code = error.code(), %error, "付款码 query failed; polling on");
            }
            Err(error) => return Err(error),
        }
        if tokio::time::Instant::now() >= deadline {
            gateway.revoke(out_trade_no).await?;
            return gateway.query(out_trade_no).await;
        }
    }
}
