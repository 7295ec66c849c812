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

/// Applies one cook's or expo's command to a ticket: 划菜 an item (the last one out bumps the
/// ticket), 出餐 a whole ticket (a second bump is refused as `AlreadyBumped`), recall a bumped
/// ticket of the store's business day, 叫起 (hold dine-in items until the table asks) or 起菜
/// (fire held items). `seen` is the ticket version the screen showed.
pub async fn change_ticket(
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
