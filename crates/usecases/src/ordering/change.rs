//! Every change to an order after placement. Each one hands the domain's decision to the write
//! lanes, which run it on the order as it is under the row lock and write the change, its
//! history, its event and its outbox rows together: a stale version is refused, an accept that
//! lands first turns a diner's cancel into a request, and nothing is half-written.

use super::access::{DinerPass, diner_order};
use crate::context::Context;
use crate::error::{Error, Result};
use diancan_domain::ordering::{Actor, Order, OrderChange, OrderCommand, OrderRefusal};
use diancan_domain::staff::{Role, StoreAccess};
use diancan_domain::*;
use diancan_storage::ordering::{ChangeError, ChangeRequest};
use std::sync::Arc;

/// A staff member acting through the console, the kitchen screen or the CLI.
#[derive(Debug, Clone)]
pub struct StaffCaller {
    pub id: StaffId,
    pub brand_id: BrandId,
    pub role: Role,
    pub access: StoreAccess,
}

/// Staff move an order along (or decline a cancel request, or turn the order down with a
/// `reason` the diner is told). `seen` is the order version the caller acted on: if someone
/// changed the order since, nothing happens and the answer says what it is now.
pub async fn act(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    order: OrderId,
    command: OrderCommand,
    seen: i64,
    reason: Option<diancan_domain::text::Name>,
) -> Result<Order> {
    if !staff.access.allows(store) {
        return Err(Error::NotFound);
    }
    let actor = Actor::Staff {
        id: staff.id,
        role: staff.role,
    };
    let now = ctx.clock.now_ms();
    let decide =
        move |o: &Order| o.decide_with_reason(command, &actor, Some(seen), reason.as_ref(), now);
    let changed = change(ctx, order, (staff.brand_id, store), decide).await?;
    if changed.status == diancan_domain::ordering::OrderStatus::Cancelled {
        crate::dispatch::end_with_cancelled_order(ctx, &changed).await;
    }
    Ok(changed)
}

/// The diner's cancel: at once before the store accepts, otherwise a request for the store.
/// Only for a caller whose `pass` opens the order; anyone else is told it does not exist.
pub async fn diner_cancel(ctx: &Context, order: OrderId, pass: &DinerPass) -> Result<Order> {
    let scope = diner_scope(ctx, order, pass).await?;
    let now = ctx.clock.now_ms();
    change(ctx, order, scope, move |o: &Order| o.diner_cancel(now)).await
}

/// 催单: tells the kitchen, at most once every two minutes; like the cancel, only with a pass.
pub async fn hurry(ctx: &Context, order: OrderId, pass: &DinerPass) -> Result<Order> {
    let scope = diner_scope(ctx, order, pass).await?;
    let now = ctx.clock.now_ms();
    change(ctx, order, scope, move |o: &Order| o.hurry(now)).await
}

/// The scope of an order `pass` opens, read with the access check itself (one read, not two).
async fn diner_scope(
    ctx: &Context,
    order: OrderId,
    pass: &DinerPass,
) -> Result<(BrandId, StoreId)> {
    let order = diner_order(ctx, order, pass).await?;
    Ok((order.brand_id, order.store_id))
}

/// How long an unpaid order waits past its deadline for its gateway orders to be closed.
const GATEWAY_CLOSE_GRACE_MS: i64 = 10 * 60_000;

/// Cancels pay-first orders not paid in time, which gives their stock and slots back. Each is
/// decided on the locked row, so one paid a moment ago stays; another instance may have got
/// there first, which is fine.
pub async fn cancel_unpaid_due(ctx: &Context) -> Result<usize> {
    let now = ctx.clock.now_ms();
    let due = ctx.db.unpaid_orders_due(now).await?;
    let mut cancelled = 0;
    for id in due {
        let Ok(order) = ctx.db.order(id).await else {
            continue;
        };
        // Nobody may still be able to pay it at a gateway when its stock goes back. A gateway
        // that cannot be reached holds the order a while; past that it is cancelled anyway,
        // and money that lands later is owed back.
        let finished = crate::payments::finish_payments_of(ctx, id)
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, order = %id, "finishing an unpaid order's payments failed");
                false
            });
        if !finished
            && order
                .pay_by_ms
                .is_some_and(|by| now < by + GATEWAY_CLOSE_GRACE_MS)
        {
            continue;
        }
        let scope = (order.brand_id, order.store_id);
        match change(ctx, id, scope, move |o: &Order| o.expire_unpaid(now)).await {
            Ok(_) => cancelled += 1,
            Err(Error::Refused { .. } | Error::NotFound) => {}
            Err(error) => tracing::warn!(%error, order = %id, "cancelling an unpaid order failed"),
        }
    }
    Ok(cancelled)
}

async fn change(
    ctx: &Context,
    order_id: OrderId,
    scope: (BrandId, StoreId),
    decide: impl Fn(&Order) -> std::result::Result<OrderChange, OrderRefusal> + Send + Sync + 'static,
) -> Result<Order> {
    let request = ChangeRequest {
        order_id,
        scope: Some(scope),
        decide: Arc::new(decide),
        now_ms: ctx.clock.now_ms(),
    };
    match ctx.db.change_order(request).await {
        Ok(order) => Ok(order),
        Err(ChangeError::NotFound) => Err(Error::NotFound),
        Err(ChangeError::Refused { refusal, order }) => Err(match refusal {
            OrderRefusal::Forbidden(permission) => Error::Forbidden(permission),
            refusal => Error::Refused { refusal, order },
        }),
        Err(ChangeError::Storage(error)) => Err(error.into()),
    }
}
