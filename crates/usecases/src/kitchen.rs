//! Kitchen tickets and the kitchen display: what cooks and expo do to a ticket (划菜 per item
//! or per ticket, 叫起 / 起菜, recall), each one use case. Tickets themselves are written by the
//! order change that accepts the order (storage's kitchen hook), announced on the store's
//! kitchen stream (`kitchen:<id>`) and its channel (`store:<id>`) that the boards wake on.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::ordering::StaffCaller;
use diancan_domain::kitchen::{KitchenTicket, TicketChange, TicketCommand};
use diancan_domain::ordering::Actor;
use diancan_domain::staff::Permission;
use diancan_domain::*;
use diancan_storage::kitchen::TicketError;

/// 划菜 one item of a ticket; the last one out bumps the ticket.
pub async fn bump_item(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    ticket: KitchenTicketId,
    line: i64,
    seen: i64,
) -> Result<TicketChange> {
    command(
        ctx,
        staff,
        store,
        ticket,
        TicketCommand::BumpItem { line },
        seen,
    )
    .await
}

/// 出餐 a whole ticket. A second bump is refused as `AlreadyBumped`.
pub async fn bump_ticket(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    ticket: KitchenTicketId,
    seen: i64,
) -> Result<TicketChange> {
    command(ctx, staff, store, ticket, TicketCommand::BumpTicket, seen).await
}

/// Calls a bumped ticket of the store's business day back onto the screens (recorded on the
/// kitchen stream).
pub async fn recall(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    ticket: KitchenTicketId,
    seen: i64,
) -> Result<TicketChange> {
    command(ctx, staff, store, ticket, TicketCommand::Recall, seen).await
}

/// 叫起: dine-in items to keep until the table asks.
pub async fn hold(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    ticket: KitchenTicketId,
    lines: Vec<i64>,
    seen: i64,
) -> Result<TicketChange> {
    command(
        ctx,
        staff,
        store,
        ticket,
        TicketCommand::Hold { lines },
        seen,
    )
    .await
}

/// 起菜: held items to cook now.
pub async fn fire(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    ticket: KitchenTicketId,
    lines: Vec<i64>,
    seen: i64,
) -> Result<TicketChange> {
    command(
        ctx,
        staff,
        store,
        ticket,
        TicketCommand::Fire { lines },
        seen,
    )
    .await
}

async fn command(
    ctx: &Context,
    staff: &StaffCaller,
    store_id: StoreId,
    ticket: KitchenTicketId,
    command: TicketCommand,
    seen: i64,
) -> Result<TicketChange> {
    if !staff.access.allows(store_id) {
        return Err(Error::NotFound);
    }
    if !staff.role.can(Permission::Cook) {
        return Err(Error::Forbidden(Permission::Cook));
    }
    let store = ctx.db.store(store_id).await?;
    if store.brand_id != staff.brand_id {
        return Err(Error::NotFound);
    }
    let now = ctx.clock.now();
    let rules = &store.profile.rules;
    let today = rules
        .time_zone
        .business_date(now, rules.business_day_starts_at);
    let by = Actor::Staff {
        id: staff.id,
        role: staff.role,
    }
    .label();
    let now_ms = now.as_millisecond();
    let decide = move |t: &KitchenTicket| t.decide(&command, &by, seen, today, now_ms);
    match ctx
        .db
        .change_ticket(staff.brand_id, store_id, ticket, decide, now_ms)
        .await
    {
        Ok(change) => Ok(change),
        Err(TicketError::NotFound) => Err(Error::NotFound),
        Err(TicketError::Refused { refusal, ticket }) => {
            Err(Error::TicketRefused { refusal, ticket })
        }
        Err(TicketError::Storage(error)) => Err(error.into()),
    }
}
