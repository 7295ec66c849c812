//! Routing an order to the kitchen: one ticket per station, its items in the order the diner
//! picked them. A line whose dish names no station goes to the store's default station, which
//! is the brand's first station by sort order (the one the merchant lists first, usually 热菜):
//! food is never dropped for want of a setting. Only a brand with no station at all gets one
//! station-less ticket for the whole kitchen.

use super::ticket::{ItemState, KitchenTicket, TicketItem, TicketState};
use crate::ids::*;
use crate::ordering::{Order, OrderStatus, QuotedLine};

/// The station lines without one go to: the first of `stations`, listed in sort order.
pub fn default_station(stations_in_sort_order: &[StationId]) -> Option<StationId> {
    stations_in_sort_order.first().copied()
}

/// The tickets of `order`, one per station, in the order their stations first appear among the
/// lines. `new_id` names each ticket (injected so tests and storage choose).
pub fn route_order(
    order: &Order,
    default_station: Option<StationId>,
    mut new_id: impl FnMut() -> KitchenTicketId,
    now_ms: i64,
) -> Vec<KitchenTicket> {
    let mut tickets: Vec<KitchenTicket> = Vec::new();
    for (line, quoted) in order.quote.lines.iter().enumerate() {
        let station = quoted.station_id.or(default_station);
        let item = ticket_item(line as i64, quoted);
        match tickets.iter_mut().find(|t| t.station_id == station) {
            Some(ticket) => ticket.items.push(item),
            None => tickets.push(KitchenTicket {
                id: new_id(),
                order_id: order.id,
                brand_id: order.brand_id,
                store_id: order.store_id,
                station_id: station,
                label: order_label(order),
                channel: order.channel,
                round: order.round,
                business_date: order.business_date,
                items: vec![item],
                state: TicketState::Open,
                version: 1,
                created_at_ms: now_ms,
                bumped: None,
                recalls: 0,
            }),
        }
    }
    tickets
}

/// What the kitchen calls an order: its table's code when it has one, else its pickup number.
pub fn order_label(order: &Order) -> String {
    match &order.table {
        Some(table) => table.code.clone(),
        None => order.pickup_number.to_string(),
    }
}

fn ticket_item(line: i64, quoted: &QuotedLine) -> TicketItem {
    TicketItem {
        line,
        dish_id: quoted.dish_id,
        sku_id: quoted.sku_id,
        dish_name: quoted.dish_name.clone(),
        specs: specs(quoted),
        note: quoted.note.clone(),
        quantity: quoted.quantity,
        state: ItemState::Waiting,
        changed: None,
    }
}

/// The small print under a dish's name: its spec, each taste or add-on, and a set meal's
/// chosen dishes (cooked with the set, on the set's station).
fn specs(quoted: &QuotedLine) -> Vec<String> {
    let mut specs = Vec::new();
    if let Some(sku) = &quoted.sku_name {
        specs.push(sku.clone());
    }
    specs.extend(quoted.options.iter().map(|o| o.name.clone()));
    for item in &quoted.combo_items {
        let name = match &item.sku_name {
            Some(sku) => format!("{}({sku})", item.dish_name),
            None => item.dish_name.clone(),
        };
        specs.push(if item.quantity > 1 {
            format!("{name} ×{}", item.quantity)
        } else {
            name
        });
    }
    specs
}

/// What an order's change of status means for the kitchen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KitchenStep {
    /// Print and show its tickets.
    Send,
    /// Strike its open items through.
    Void,
}

/// The kitchen starts on 接单: an order reaches the cooks once the store accepted it (paid
/// first where the store is pay-first, since acceptance follows payment), whatever its channel;
/// a pay-after-meal table's order is accepted like any other. A cancel after that voids what
/// was not cooked yet; a cancel before it has nothing in the kitchen to void.
pub fn kitchen_step(from: OrderStatus, to: OrderStatus) -> Option<KitchenStep> {
    let in_kitchen = |s: OrderStatus| {
        matches!(
            s,
            OrderStatus::Accepted | OrderStatus::Preparing | OrderStatus::Ready
        )
    };
    match (from, to) {
        (OrderStatus::Placed, OrderStatus::Accepted) => Some(KitchenStep::Send),
        (from, OrderStatus::Cancelled) if in_kitchen(from) => Some(KitchenStep::Void),
        _ => None,
    }
}
