//! Every gateway order ends closed. A payment nobody will pay any more (its order timed out, was
//! cancelled, or was paid another way) is asked about at its gateway once more: money that
//! arrived is settled (and owed back if the order no longer wants it); otherwise the gateway
//! order is closed there, and only then here. An unpaid order's timeout waits for this, so its
//! stock and slot are given back only once nobody can pay for it.

use super::{arrived_money, settle_reported};
use crate::context::Context;
use crate::error::Result;
use diancan_domain::OrderId;
use diancan_domain::payments::{Payment, PaymentState};
use diancan_integrations::payments::model::{OutTradeNo, TradeState};
use diancan_storage::payments::SettleOutcome;

/// Payments finished per sweep round.
const ROUND: i64 = 200;

/// Where one payment ended.
#[derive(Debug)]
pub enum Finished {
    /// The money had arrived: settled now (or already).
    Settled(Box<SettleOutcome>),
    /// Closed at the gateway and here.
    Closed,
    /// The gateway could not say or could not close: asked again next round.
    Open,
}

/// One round of the sweep: returns how many payments it closed or settled.
pub async fn finish_abandoned(ctx: &Context) -> Result<usize> {
    let due = ctx
        .db
        .pending_payments_due(ctx.clock.now_ms(), ROUND)
        .await?;
    let mut finished = 0;
    for payment in &due {
        if !matches!(finish_at_gateway(ctx, payment).await?, Finished::Open) {
            finished += 1;
        }
    }
    Ok(finished)
}

/// Finishes every pending payment of `order`; true when none is left open (the order may be
/// cancelled without anybody still able to pay it).
pub async fn finish_payments_of(ctx: &Context, order: OrderId) -> Result<bool> {
    let mut all_finished = true;
    for payment in ctx.db.payments_of_order(order).await? {
        if payment.state == PaymentState::Pending
            && matches!(finish_at_gateway(ctx, &payment).await?, Finished::Open)
        {
            all_finished = false;
        }
    }
    Ok(all_finished)
}

/// Asks the payment's gateway where it stands, and settles or closes it accordingly.
pub async fn finish_at_gateway(ctx: &Context, payment: &Payment) -> Result<Finished> {
    let Some(configured) = ctx.payments.get(payment.provider) else {
        tracing::error!(out_trade_no = %payment.out_trade_no, provider = payment.provider.as_str(),
            "a pending payment's gateway is no longer configured; it cannot be closed");
        return Ok(Finished::Open);
    };
    let Ok(number) = OutTradeNo::parse(&payment.out_trade_no) else {
        return Ok(Finished::Open);
    };
    let open = |error: &dyn std::fmt::Display| {
        tracing::warn!(out_trade_no = %payment.out_trade_no, provider = payment.provider.as_str(),
            %error, "closing an unpaid gateway order failed; will ask again");
        Ok(Finished::Open)
    };
    let trade = match configured.gateway.query(&number).await {
        Ok(trade) => Some(trade),
        Err(error) if error.no_such_trade() => None,
        Err(error) => return open(&error),
    };
    if let Some(trade) = &trade {
        if trade.state.is_paid() {
            let Ok(Some(arrived)) = arrived_money(trade, &configured.account) else {
                return open(&"a paid trade that does not match our merchant account");
            };
            return Ok(Finished::Settled(Box::new(
                settle_reported(ctx, &arrived).await?,
            )));
        }
        let ended = matches!(
            trade.state,
            TradeState::Closed | TradeState::Revoked | TradeState::Failed
        );
        if !ended {
            // Paid between the query and this close, the gateway refuses to close it, and the
            // next round's query settles it.
            if let Err(error) = configured.gateway.close(&number).await
                && !error.no_such_trade()
            {
                return open(&error);
            }
        }
    }
    ctx.db.close_payment(payment.id, ctx.clock.now_ms()).await?;
    tracing::info!(out_trade_no = %payment.out_trade_no, order = %payment.order_id,
        provider = payment.provider.as_str(), "unpaid gateway order closed");
    Ok(Finished::Closed)
}
