//! Queuing print jobs inside the transaction of the change they belong to: an accepted order's
//! kitchen tickets (加菜 for a later round) and, for a takeaway, its packing slip; a cancel's
//! voided items. Routing follows the store's printers as they are in that transaction; a store
//! without printers queues nothing. The dedupe key makes a second queuing of the same document
//! a no-op.

use super::printers_in;
use crate::error::Result;
use crate::outbox::OutboxEntry;
use crate::sql_batch::{Value, insert_rows};
use crate::tx::Tx;
use diancan_domain::kitchen::{KitchenTicket, TicketChange};
use diancan_domain::ordering::{Channel, Order};
use diancan_domain::printing::*;
use diancan_domain::*;
use std::collections::BTreeMap;
use uuid::Uuid;

const STATION_NAMES: &str = "SELECT id, name FROM stations WHERE brand_id = $1";

/// What a brand without stations calls its one kitchen on paper.
const WHOLE_KITCHEN: &str = "厨房";

pub(crate) struct NewJob {
    pub brand: BrandId,
    pub store: StoreId,
    pub printer: PrinterId,
    pub document: DocumentKind,
    pub order_id: Option<OrderId>,
    pub ticket_id: Option<KitchenTicketId>,
    pub content: PrintContent,
    pub reprint: i64,
    pub reprint_of: Option<i64>,
    pub requested_by: Option<String>,
    pub dedupe_key: String,
}

/// The outbox topic of the row that wakes the print worker once jobs are committed.
pub const PRINT_TOPIC: &str = "print";

/// Writes jobs, due at once, and the outbox row that wakes the worker; a dedupe key already
/// queued is skipped.
pub(crate) async fn insert_jobs(tx: &mut Tx, jobs: Vec<NewJob>, now_ms: i64) -> Result<()> {
    let Some(first) = jobs.first() else {
        return Ok(());
    };
    let wake = OutboxEntry {
        topic: PRINT_TOPIC,
        subject: Some(format!("store:{}", first.store)),
        payload: serde_json::json!({}),
    };
    crate::outbox::enqueue(tx, &[wake], now_ms).await?;
    let rows = jobs
        .into_iter()
        .map(|j| {
            vec![
                Value::Id(j.brand.as_uuid()),
                Value::Id(j.store.as_uuid()),
                Value::Id(j.printer.as_uuid()),
                Value::Id(j.printer.as_uuid()),
                Value::Text(j.document.as_str().into()),
                Value::MaybeId(j.order_id.map(|o| o.as_uuid())),
                Value::MaybeId(j.ticket_id.map(|t| t.as_uuid())),
                Value::Text(crate::rows::to_json(&j.content)),
                Value::Int(j.reprint),
                Value::MaybeInt(j.reprint_of),
                Value::MaybeText(j.requested_by),
                Value::Text(j.dedupe_key),
                Value::Text(PrintJobState::Queued.as_str().into()),
                Value::Int(0),
                Value::Bool(false),
                Value::Int(now_ms),
                Value::Int(now_ms),
                Value::Int(now_ms),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "INSERT INTO print_jobs (brand_id, store_id, printer_id, routed_printer_id, document, order_id, ticket_id, content_json, reprint, reprint_of, requested_by, dedupe_key, state, attempts, uncertain, next_attempt_ms, created_at_ms, updated_at_ms)",
        "ON CONFLICT (dedupe_key) DO NOTHING",
        rows,
    )
    .await
}

/// The store's printers as routing sees them, by name.
pub(crate) async fn routing_in(
    tx: &mut Tx,
    brand: BrandId,
    store: StoreId,
) -> Result<Vec<RoutablePrinter>> {
    Ok(printers_in(tx, brand, store)
        .await?
        .into_iter()
        .map(|p| RoutablePrinter {
            id: p.id,
            enabled: p.enabled,
            down: p.down_since_ms.is_some(),
            fallback: p.fallback_id,
            takes_receipts: p.takes_receipts,
            takes_packing_slips: p.takes_packing_slips,
            stations: p.stations,
        })
        .collect())
}

async fn station_names(tx: &mut Tx, brand: BrandId) -> Result<BTreeMap<StationId, String>> {
    let rows: Vec<(Uuid, String)> = on_tx!(tx, |c| sqlx::query_as(STATION_NAMES)
        .bind(brand.as_uuid())
        .fetch_all(&mut *c)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| (StationId::from_uuid(id), name))
        .collect())
}

/// The header every paper of `order` shares; lines and station are the caller's.
fn order_content(order: &Order) -> PrintContent {
    PrintContent {
        order_id: Some(order.id),
        channel: Some(order.channel),
        table_code: order.table.as_ref().map(|t| t.code.clone()),
        pickup_number: Some(order.pickup_number),
        round: order.round,
        station: None,
        placed_at_ms: order.placed_at_ms,
        lines: Vec::new(),
        subtotal: order.quote.subtotal_fen,
        adjustments: Vec::new(),
        total: order.total,
        note: order.note.clone(),
    }
}

fn ticket_content(
    order: &Order,
    ticket: &KitchenTicket,
    names: &BTreeMap<StationId, String>,
    only_lines: Option<&[i64]>,
) -> PrintContent {
    let station = ticket
        .station_id
        .and_then(|s| names.get(&s).cloned())
        .unwrap_or_else(|| WHOLE_KITCHEN.to_owned());
    let lines = ticket
        .items
        .iter()
        .filter(|i| only_lines.is_none_or(|lines| lines.contains(&i.line)))
        .map(|i| PrintLine {
            name: i.dish_name.clone(),
            specs: i.specs.clone(),
            note: i.note.clone(),
            quantity: i.quantity,
            amount: Money::ZERO,
        })
        .collect();
    PrintContent {
        station: Some(station),
        lines,
        ..order_content(order)
    }
}

fn packing_content(order: &Order) -> PrintContent {
    let lines = order
        .quote
        .lines
        .iter()
        .map(|l| PrintLine {
            name: l.dish_name.clone(),
            specs: l
                .sku_name
                .iter()
                .cloned()
                .chain(l.options.iter().map(|o| o.name.clone()))
                .collect(),
            note: l.note.clone(),
            quantity: l.quantity,
            amount: l.line_total_fen,
        })
        .collect();
    let q = &order.quote;
    let mut adjustments: Vec<(String, Money)> = [
        ("打包费", q.packing_fee_fen),
        ("餐位费", q.seat_fee_fen),
        ("配送费", q.delivery_fee_fen),
    ]
    .into_iter()
    .filter(|(_, fee)| fee.fen() != 0)
    .map(|(label, fee)| (label.to_owned(), fee))
    .collect();
    adjustments.extend(
        q.discounts
            .iter()
            .map(|d| (d.label.clone(), Money::from_fen(-d.amount_fen.fen().abs()))),
    );
    PrintContent {
        lines,
        adjustments,
        ..order_content(order)
    }
}

/// The print jobs of orders just sent to the kitchen, written with their tickets.
pub(crate) async fn queue_sent_orders(
    tx: &mut Tx,
    orders: &[&Order],
    tickets: &BTreeMap<StoreId, Vec<KitchenTicket>>,
    now_ms: i64,
) -> Result<()> {
    let mut stores: BTreeMap<StoreId, (BrandId, Vec<&Order>)> = BTreeMap::new();
    for order in orders {
        stores
            .entry(order.store_id)
            .or_insert_with(|| (order.brand_id, Vec::new()))
            .1
            .push(order);
    }
    let mut names: BTreeMap<BrandId, BTreeMap<StationId, String>> = BTreeMap::new();
    let mut jobs = Vec::new();
    for (store, (brand, orders)) in stores {
        let printers = routing_in(tx, brand, store).await?;
        if printers.is_empty() {
            continue;
        }
        if let std::collections::btree_map::Entry::Vacant(entry) = names.entry(brand) {
            entry.insert(station_names(tx, brand).await?);
        }
        let names = &names[&brand];
        let routing = Routing(&printers);
        let store_tickets = tickets.get(&store).map(Vec::as_slice).unwrap_or_default();
        for order in orders {
            for ticket in store_tickets.iter().filter(|t| t.order_id == order.id) {
                let Some(printer) = routing.for_station(ticket.station_id) else {
                    continue;
                };
                let document = if order.round > 1 {
                    DocumentKind::Addition
                } else {
                    DocumentKind::Kitchen
                };
                jobs.push(NewJob {
                    brand,
                    store,
                    printer,
                    document,
                    order_id: Some(order.id),
                    ticket_id: Some(ticket.id),
                    content: ticket_content(order, ticket, names, None),
                    reprint: 0,
                    reprint_of: None,
                    requested_by: None,
                    dedupe_key: format!("ticket:{}", ticket.id),
                });
            }
            if order.channel != Channel::DineIn
                && let Some(printer) = routing.for_packing_slip()
            {
                jobs.push(NewJob {
                    brand,
                    store,
                    printer,
                    document: DocumentKind::PackingSlip,
                    order_id: Some(order.id),
                    ticket_id: None,
                    content: packing_content(order),
                    reprint: 0,
                    reprint_of: None,
                    requested_by: None,
                    dedupe_key: format!("packing:{}", order.id),
                });
            }
        }
    }
    insert_jobs(tx, jobs, now_ms).await
}

/// 退菜 tickets for a cancelled order's voided items, one per ticket that had any, written with
/// the void.
pub(crate) async fn queue_cancelled(
    tx: &mut Tx,
    order: &Order,
    changes: &[TicketChange],
    now_ms: i64,
) -> Result<()> {
    let printers = routing_in(tx, order.brand_id, order.store_id).await?;
    if printers.is_empty() || changes.is_empty() {
        return Ok(());
    }
    let names = station_names(tx, order.brand_id).await?;
    let routing = Routing(&printers);
    let mut jobs = Vec::new();
    for change in changes {
        let ticket = &change.ticket;
        let lines: Vec<i64> = change.moves.iter().map(|m| m.line).collect();
        let Some(printer) = routing.for_station(ticket.station_id) else {
            continue;
        };
        jobs.push(NewJob {
            brand: order.brand_id,
            store: order.store_id,
            printer,
            document: DocumentKind::Cancel,
            order_id: Some(order.id),
            ticket_id: Some(ticket.id),
            content: ticket_content(order, ticket, &names, Some(&lines)),
            reprint: 0,
            reprint_of: None,
            requested_by: None,
            dedupe_key: format!("cancel:{}:{}", ticket.id, ticket.version),
        });
    }
    insert_jobs(tx, jobs, now_ms).await
}
