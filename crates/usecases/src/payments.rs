//! Gateway notifications, settled exactly once. A notification is verified (signature, and
//! decryption for WeChat Pay), held against the merchant it was meant for, stored as an outbox
//! row, and only then acknowledged; the outbox applies it (`settle_reported`), at least once, and
//! settling is idempotent on the payment, so a gateway that resends for a day settles once.
//! `checkout` prepares a diner's payment at a gateway; `sweep` closes the gateway orders nobody
//! will pay any more.

use crate::context::Context;
use crate::error::{Error, Result};
use diancan_domain::ordering::{Actor, Order, OrderAction, OrderCommand};
use diancan_domain::payments::{ArrivedMoney, PaymentProvider};
use diancan_integrations::payments::model::{
    Acknowledgement, ExpectedPayment, GatewayEvent, IncomingNotification, Provider, Trade,
};
use diancan_integrations::payments::{NotificationOutcome, PaymentError, PaymentGateway};
use diancan_storage::outbox::OutboxEntry;
use diancan_storage::payments::SettleOutcome;
use std::sync::Arc;

pub mod balance;
mod checkout;
mod gateways;
pub mod health;
pub mod reconciliation;
mod refunds;
mod sweep;

pub use checkout::{Checkout, StartedPayment, start_payment};
pub use gateways::{ConfiguredGateway, PaymentGateways};
pub use refunds::{ask_gateway_for_refund, refund_cancelled_order};
pub use sweep::{Finished, finish_abandoned, finish_at_gateway, finish_payments_of};

/// The outbox topic of verified reports of arrived money.
pub const SETTLE: &str = "settle";

/// Who a gateway's notifications must be addressed to: a correct signature proves only who sent
/// a message, not that it is about our merchant account.
#[derive(Debug, Clone)]
pub struct MerchantAccount {
    pub merchant_id: String,
    pub app_id: String,
}

/// Takes a notification as it arrived and returns the exact answer its gateway expects: success
/// once the report is stored (a repeat is stored again and settles nothing), failure when it
/// cannot be believed or stored, so the gateway sends it again.
pub async fn receive_notification(
    ctx: &Context,
    gateway: &dyn PaymentGateway,
    account: &MerchantAccount,
    incoming: &IncomingNotification,
) -> Acknowledgement {
    let outcome = match record_notification(ctx, gateway, account, incoming).await {
        Ok(()) => NotificationOutcome::Recorded,
        Err(NotificationError::Gateway(error)) => {
            tracing::warn!(provider = ?gateway.provider(), code = error.code(), %error,
                "payment notification refused");
            NotificationOutcome::Refused
        }
        Err(NotificationError::Storage(error)) => {
            tracing::error!(provider = ?gateway.provider(), %error,
                "payment notification not stored; the gateway will send it again");
            NotificationOutcome::Failed
        }
    };
    gateway.acknowledgement(outcome)
}

#[derive(Debug, thiserror::Error)]
enum NotificationError {
    #[error(transparent)]
    Gateway(#[from] PaymentError),
    #[error(transparent)]
    Storage(#[from] diancan_storage::StorageError),
}

async fn record_notification(
    ctx: &Context,
    gateway: &dyn PaymentGateway,
    account: &MerchantAccount,
    incoming: &IncomingNotification,
) -> std::result::Result<(), NotificationError> {
    let verified = gateway.verify_notification(incoming)?;
    let trade = match verified.event {
        GatewayEvent::Trade(trade) => trade,
        // A refund's result is recorded at once: recording only moves it forward, so a
        // repeat or a late copy changes nothing.
        GatewayEvent::Refund(refund) => {
            ctx.db
                .record_refund(
                    &refund.out_refund_no,
                    refunds::refund_state(refund.state),
                    refund.refund_id.as_deref(),
                    ctx.clock.now_ms(),
                )
                .await?;
            return Ok(());
        }
    };
    let Some(arrived) = arrived_money(&trade, account)? else {
        return Ok(());
    };
    let entry = OutboxEntry {
        topic: SETTLE,
        subject: Some(format!("payment:{}", arrived.out_trade_no)),
        payload: serde_json::to_value(&arrived).map_err(|e| {
            diancan_storage::StorageError::Corrupt(format!("a settlement is not JSON: {e}"))
        })?,
    };
    ctx.db.enqueue_outbox(&[entry], ctx.clock.now_ms()).await?;
    Ok(())
}

/// The money a verified trade report says arrived, if it says so; a report addressed to another
/// merchant or app, or in another currency, is refused.
pub(crate) fn arrived_money(
    trade: &Trade,
    account: &MerchantAccount,
) -> std::result::Result<Option<ArrivedMoney>, PaymentError> {
    if !trade.state.is_paid() {
        return Ok(None);
    }
    // The gateway's own rule for whom a message is about. Number and amount are held against
    // our payment when it is settled, where a mismatch flags the payment rather than refusing
    // the notification (which the gateway would resend forever).
    trade.check_against(&ExpectedPayment {
        merchant_id: &account.merchant_id,
        app_id: &account.app_id,
        out_trade_no: &trade.out_trade_no,
        amount: trade.amount,
    })?;
    let transaction_id = trade.transaction_id.clone().ok_or(PaymentError::Mismatch {
        field: "transaction_id",
    })?;
    Ok(Some(ArrivedMoney {
        provider: match trade.provider {
            Provider::WechatPay => PaymentProvider::WechatPay,
            Provider::Alipay => PaymentProvider::Alipay,
        },
        out_trade_no: trade.out_trade_no.clone(),
        transaction_id,
        amount_fen: trade.amount.fen(),
        paid_at_ms: trade.paid_at.map_or(0, |at| at.as_millisecond()),
    }))
}

/// Applies a stored report of arrived money: the payment is paid once, and the order with it
/// if it still waits for the money (the gateway is written in its history).
pub async fn settle_reported(ctx: &Context, arrived: &ArrivedMoney) -> Result<SettleOutcome> {
    let now = ctx.clock.now_ms();
    let actor = Actor::System(arrived.provider.actor());
    let pay =
        Arc::new(move |o: &Order| o.decide(OrderCommand::Act(OrderAction::Pay), &actor, None, now));
    let outcome = ctx
        .db
        .settle_payment(arrived, pay, now)
        .await
        .map_err(|error| match error {
            diancan_storage::StorageError::NotFound => Error::NotFound,
            other => Error::Storage(other),
        })?;
    match &outcome {
        SettleOutcome::Flagged { payment, reason } => tracing::error!(
            out_trade_no = %payment.out_trade_no, order = %payment.order_id, reason,
            "a payment report does not match its payment; set aside for reconciliation"
        ),
        SettleOutcome::RefundDue { payment } => tracing::warn!(
            out_trade_no = %payment.out_trade_no, order = %payment.order_id,
            "money arrived for an order that no longer waits for it; owed back"
        ),
        SettleOutcome::Paid { .. } | SettleOutcome::AlreadySettled { .. } => {}
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diancan_domain::money::Money;
    use diancan_integrations::payments::model::TradeState;

    fn account() -> MerchantAccount {
        MerchantAccount {
            merchant_id: "1230000109".into(),
            app_id: "wxd678efh567hg6787".into(),
        }
    }

    fn trade(state: TradeState) -> Trade {
        Trade {
            provider: Provider::WechatPay,
            merchant_id: Some("1230000109".into()),
            app_id: Some("wxd678efh567hg6787".into()),
            out_trade_no: "0190f1a2b3c4d5e6f708192a3b4c5d6e".into(),
            transaction_id: Some("4200001234".into()),
            state,
            amount: Money::from_fen(5_600),
            currency: "CNY".into(),
            payer: None,
            paid_at: Some(jiff::Timestamp::from_second(1_704_081_600).unwrap()),
        }
    }

    #[test]
    fn a_paid_report_for_our_account_is_money_that_arrived() {
        let arrived = arrived_money(&trade(TradeState::Paid), &account())
            .unwrap()
            .unwrap();
        assert_eq!(arrived.amount_fen, 5_600);
        assert_eq!(arrived.transaction_id, "4200001234");
        assert_eq!(arrived.paid_at_ms, 1_704_081_600_000);
        assert_eq!(arrived.provider, PaymentProvider::WechatPay);
    }

    #[test]
    fn an_unpaid_report_settles_nothing() {
        assert_eq!(
            arrived_money(&trade(TradeState::Closed), &account()).unwrap(),
            None
        );
    }

    #[test]
    fn a_report_for_another_merchant_or_currency_is_refused() {
        let mut other = trade(TradeState::Paid);
        other.merchant_id = Some("9999999999".into());
        assert!(arrived_money(&other, &account()).is_err());
        let mut dollars = trade(TradeState::Paid);
        dollars.currency = "USD".into();
        assert!(arrived_money(&dollars, &account()).is_err());
    }
}
