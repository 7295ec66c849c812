//! The one place an order change reaches the kitchen: on 接单 its tickets are created, on a
//! later cancel its open items are voided, both inside the change's own transaction, so a
//! refused or rolled-back change leaves the kitchen as it was (see `kitchen_step`).

use crate::error::Result;
use crate::kitchen::{send_orders_in, void_order_in};
use crate::tx::Tx;
use diancan_domain::kitchen::{KitchenStep, kitchen_step};
use diancan_domain::ordering::{Order, OrderStatus};

/// One applied change as the kitchen sees it: the status before, the order now, and who.
pub(crate) struct Followed<'a> {
    pub from: OrderStatus,
    pub order: &'a Order,
    pub by: &'a str,
}

/// Follows a batch's applied changes: the accepted orders' tickets together, then each void.
pub(crate) async fn follow_in(tx: &mut Tx, changes: &[Followed<'_>], now_ms: i64) -> Result<()> {
    let mut sends = Vec::new();
    let mut voids = Vec::new();
    for change in changes {
        match kitchen_step(change.from, change.order.status) {
            Some(KitchenStep::Send) => sends.push(change.order),
            Some(KitchenStep::Void) => voids.push(change),
            None => {}
        }
    }
    if !sends.is_empty() {
        send_orders_in(tx, &sends, now_ms).await?;
    }
    for change in voids {
        void_order_in(tx, change.order, change.by, change.order.updated_at_ms).await?;
    }
    Ok(())
}
