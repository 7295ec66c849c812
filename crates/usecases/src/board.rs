//! The orders board's side of the outbox: each order change's `board` row is appended to its
//! store's log (which boards replay after `Last-Event-ID`), and a new order of a channel the
//! store accepts by itself (自动接单) is accepted here, through the same change every staff
//! accept goes through, so its kitchen tickets and print jobs follow as for a tap.

use crate::context::Context;
use diancan_domain::ordering::{Actor, Order, OrderAction, OrderCommand, OrderStatus};
use diancan_domain::*;
use diancan_storage::StorageError;
use diancan_storage::ordering::ChangeRequest;
use diancan_storage::ordering::board::BoardChange;
use diancan_storage::outbox::OutboxMessage;
use std::collections::BTreeMap;
use std::sync::Arc;

pub use diancan_storage::ordering::board::BOARD_TOPIC;

/// Who the history names for an order the store accepted by itself.
pub const AUTO_ACCEPT: &str = "auto-accept";

/// Delivers leased `board` rows: the auto-accepts they call for, then their log entries. A row
/// whose auto-accept could not be written is left for a retry (its log entry with it), so a
/// new order is never shown as waiting for a tap the store switched off.
pub async fn deliver<'a>(
    ctx: &Context,
    messages: &[&'a OutboxMessage],
) -> Vec<(&'a OutboxMessage, Result<(), String>)> {
    let mut outcomes = Vec::with_capacity(messages.len());
    let mut ready: Vec<&OutboxMessage> = Vec::with_capacity(messages.len());
    let mut rules: BTreeMap<StoreId, Option<diancan_domain::store::AutoAccept>> = BTreeMap::new();
    for message in messages {
        match auto_accept_if_due(ctx, message, &mut rules).await {
            Ok(()) => ready.push(message),
            Err(error) => outcomes.push((*message, Err(error))),
        }
    }
    let appended = match ctx.db.append_to_boards(&ready, ctx.clock.now_ms()).await {
        Ok(streams) => ctx
            .hub
            .announce(&streams)
            .await
            // The entries are written: a lost wake-up only delays the boards until the next.
            .map_err(|error| tracing::warn!(%error, "announcing board entries failed"))
            .map(drop)
            .or(Ok(())),
        Err(error) => Err(error.to_string()),
    };
    outcomes.extend(ready.into_iter().map(|m| (m, appended.clone())));
    outcomes
}

/// Accepts the order the row is about when it has just become new (`placed`) and the store
/// accepts its channel by itself. An order someone already moved on, or cancelled, is left
/// alone: the accept is decided on the locked row like every other.
async fn auto_accept_if_due(
    ctx: &Context,
    message: &OutboxMessage,
    rules: &mut BTreeMap<StoreId, Option<diancan_domain::store::AutoAccept>>,
) -> Result<(), String> {
    let Ok(change) = serde_json::from_str::<BoardChange>(&message.payload_json) else {
        // Storage logs and drops it with the batch.
        return Ok(());
    };
    if change.status != OrderStatus::Placed.as_str() {
        return Ok(());
    }
    let auto = match rules.get(&change.store_id) {
        Some(auto) => *auto,
        None => {
            let auto = match ctx.db.store(change.store_id).await {
                Ok(store) => Some(store.profile.rules.auto_accept),
                Err(StorageError::NotFound) => None,
                Err(error) => return Err(error.to_string()),
            };
            rules.insert(change.store_id, auto);
            auto
        }
    };
    let Some(auto) = auto else { return Ok(()) };
    let order = match ctx.db.order(change.order_id).await {
        Ok(order) => order,
        Err(StorageError::NotFound) => return Ok(()),
        Err(error) => return Err(error.to_string()),
    };
    if !auto.covers(order.channel) || order.status != OrderStatus::Placed {
        return Ok(());
    }
    let now = ctx.clock.now_ms();
    let request = ChangeRequest {
        order_id: order.id,
        scope: Some((order.brand_id, order.store_id)),
        decide: Arc::new(move |o: &Order| {
            o.decide(
                OrderCommand::Act(OrderAction::Accept),
                &Actor::System(AUTO_ACCEPT),
                None,
                now,
            )
        }),
        now_ms: now,
    };
    match ctx.db.change_order(request).await {
        Ok(_) => Ok(()),
        Err(diancan_storage::ordering::ChangeError::Storage(error)) => Err(error.to_string()),
        // Moved on or gone meanwhile: nothing to accept.
        Err(_) => Ok(()),
    }
}
