//! Giving money back: a paid order that is cancelled, or money that arrived for an order that
//! no longer wanted it, is refunded through the gateway it came by. The refund row and its
//! outbox row are written with the change that caused them; the outbox then asks the gateway,
//! under the refund's own number, until it answers, so a retry never refunds twice.

use crate::context::Context;
use crate::error::{Error, Result};
use diancan_domain::OrderId;
use diancan_domain::payments::PaymentState;
use diancan_domain::refunds::{RefundCause, RefundState};
use diancan_integrations::payments::model::{OutRefundNo, OutTradeNo, RefundRequest};
use diancan_storage::refunds::RefundOutcome;

/// Refunds every paid gateway payment of a cancelled order in full, and credits its balance
/// part back (an outbox consumer; a repeat refunds nothing more).
pub async fn refund_cancelled_order(ctx: &Context, order: OrderId) -> Result<usize> {
    let mut requested = 0;
    let credited = ctx
        .db
        .refund_balance_of_cancelled(order, ctx.clock.now_ms())
        .await?;
    if credited > diancan_domain::Money::ZERO {
        tracing::info!(%order, amount_fen = credited.fen(), "cancelled order credited back to the balance");
        requested += 1;
    }
    for payment in ctx.db.payments_of_order(order).await? {
        if payment.state != PaymentState::Paid || payment.refund_due {
            // A payment owed back already has its own refund.
            continue;
        }
        let outcome = ctx
            .db
            .request_refund(
                payment.id,
                RefundCause::OrderCancelled,
                None,
                "system",
                ctx.clock.now_ms(),
            )
            .await?;
        if matches!(outcome, RefundOutcome::Requested(_)) {
            requested += 1;
        }
    }
    Ok(requested)
}

/// Asks the gateway for one refund (an outbox consumer); idempotent on its number.
pub async fn ask_gateway_for_refund(ctx: &Context, out_refund_no: &str) -> Result<RefundState> {
    let Some(refund) = ctx.db.refund_by_number(out_refund_no).await? else {
        return Err(Error::NotFound);
    };
    if refund.state != RefundState::Requested {
        return Ok(refund.state);
    }
    let payment = ctx
        .db
        .payments_of_order(refund.order_id)
        .await?
        .into_iter()
        .find(|p| p.id == refund.payment_id)
        .ok_or(Error::NotFound)?;
    let Some(configured) = ctx.payments.get(payment.provider) else {
        return Err(Error::PaymentUnavailable(payment.provider));
    };
    let request = RefundRequest {
        out_trade_no: OutTradeNo::parse(&payment.out_trade_no).map_err(Error::Gateway)?,
        out_refund_no: OutRefundNo::parse(&refund.out_refund_no).map_err(Error::Gateway)?,
        refund: refund.amount,
        total: payment.amount,
        reason: Some(refund.reason.chars().take(20).collect()),
        notify_url: ctx.payments.notify_url(payment.provider),
    };
    let answer = configured
        .gateway
        .refund(&request)
        .await
        .map_err(Error::Gateway)?;
    let state = refund_state(answer.state);
    ctx.db
        .record_refund(
            &refund.out_refund_no,
            state,
            answer.refund_id.as_deref(),
            ctx.clock.now_ms(),
        )
        .await?;
    tracing::info!(out_refund_no = %refund.out_refund_no, order = %refund.order_id,
        amount_fen = refund.amount.fen(), state = state.as_str(), "refund asked of the gateway");
    Ok(state)
}

/// Our state for the gateway's.
pub(crate) fn refund_state(
    state: diancan_integrations::payments::model::RefundState,
) -> RefundState {
    use diancan_integrations::payments::model::RefundState as Gateway;
    match state {
        Gateway::Processing => RefundState::Requested,
        Gateway::Succeeded => RefundState::Succeeded,
        Gateway::Closed | Gateway::Abnormal => RefundState::Failed,
    }
}
