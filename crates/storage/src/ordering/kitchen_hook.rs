//! The one place an order change reaches the kitchen: on 接单 its tickets are created, on a
//! later cancel its open items are voided, both inside the change's own transaction, so a
//! refused or rolled-back change leaves the kitchen as it was (see `kitchen_step`).

use crate::error::Result;
use crate::kitchen::{send_order_in, void_order_in};
use crate::tx::Tx;
use diancan_domain::kitchen::{KitchenStep, kitchen_step};
use diancan_domain::ordering::{Order, OrderStatus};

/// Follows one applied change from status `from` to `order` as it is now, by `by`.
pub(crate) async fn follow_in(
    tx: &mut Tx,
    from: OrderStatus,
    order: &Order,
    by: &str,
    now_ms: i64,
) -> Result<()> {
    match kitchen_step(from, order.status) {
        Some(KitchenStep::Send) => send_order_in(tx, order, now_ms).await,
        Some(KitchenStep::Void) => void_order_in(tx, order, by, now_ms).await,
        None => Ok(()),
    }
}
