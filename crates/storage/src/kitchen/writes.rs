//! Writing tickets. Every write first takes the store's kitchen stream row (`kitchen_streams`),
//! which numbers the stream's events without gaps and makes a store's kitchen writes queue in
//! one order (stream row, then tickets), so a cook's bump and an order's cancel never deadlock.
//! Each ticket change writes the ticket, its moved items, its event and its announcement in the
//! caller's transaction, and so do their print jobs (`crate::printing`).

use super::tickets::{TICKET_COLUMNS, TicketRow, tickets_in};
use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::events::{announcement, kitchen_stream, store_channel};
use crate::sql_batch::{Value, for_update, insert_rows};
use crate::tx::Tx;
use diancan_domain::kitchen::*;
use diancan_domain::ordering::Order;
use diancan_domain::*;
use std::collections::BTreeMap;

const BUMP_STREAM: &str = "INSERT INTO kitchen_streams (store_id, version) VALUES ($1, $2)
    ON CONFLICT (store_id) DO UPDATE SET version = kitchen_streams.version + $2 RETURNING version";
const DEFAULT_STATION: &str =
    "SELECT id FROM stations WHERE brand_id = $1 ORDER BY sort_order, name LIMIT 1";
const UPDATE_TICKET: &str = "UPDATE kitchen_tickets SET state = $3, version = $4, bumped_by = $5, bumped_at_ms = $6, recalls = $7, updated_at_ms = $8, label = $9
    WHERE id = $1 AND version = $2";
const UPDATE_ITEM: &str = "UPDATE kitchen_ticket_items SET state = $3, changed_by = $4, changed_at_ms = $5 WHERE ticket_id = $1 AND line = $2";

/// Why a ticket command wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("no such ticket")]
    NotFound,
    /// The decision refused; the ticket as it is now comes along.
    #[error("{refusal}")]
    Refused {
        refusal: TicketRefusal,
        ticket: Box<KitchenTicket>,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Reserves `count` versions of the store's kitchen stream; returns the first.
async fn reserve_stream(tx: &mut Tx, store: StoreId, count: i64) -> Result<i64> {
    let (last,): (i64,) = on_tx!(tx, |c| sqlx::query_as(BUMP_STREAM)
        .bind(store.as_uuid())
        .bind(count)
        .fetch_one(&mut *c)
        .await)?;
    Ok(last - count + 1)
}

/// What a ticket's event says: the ticket as it is now with since when it has been cooking
/// (what a screen's amber and red count from), and what moved (for the all-day fold).
fn event_payload(change: &TicketChange) -> serde_json::Value {
    serde_json::json!({
        "kind": change.event.as_str(),
        "ticket": ticket_json(&change.ticket),
        "moves": change.moves,
    })
}

/// A ticket as screens receive it, wherever from: its fields and `cooking_since_ms`.
pub fn ticket_json(ticket: &KitchenTicket) -> serde_json::Value {
    let mut json = serde_json::to_value(ticket).unwrap_or_default();
    if let Some(fields) = json.as_object_mut() {
        fields.insert(
            "cooking_since_ms".into(),
            serde_json::json!(ticket.cooking_since_ms()),
        );
    }
    json
}

/// Writes the events of `changes` (all of one store), numbered from `first`, and the store's
/// one announcement, in one statement each however many changes there are.
async fn record(
    tx: &mut Tx,
    store: StoreId,
    first: i64,
    changes: &[TicketChange],
    now_ms: i64,
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let stream = kitchen_stream(store);
    let events = changes
        .iter()
        .enumerate()
        .map(|(offset, change)| {
            vec![
                Value::Text(stream.clone()),
                Value::Int(first + offset as i64),
                Value::Text(change.event.as_str().into()),
                Value::Text(event_payload(change).to_string()),
                Value::Int(now_ms),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "INSERT INTO events (stream, stream_version, kind, payload_json, created_at_ms)",
        "",
        events,
    )
    .await?;
    let outbox = [announcement(
        &stream,
        vec![stream.clone(), store_channel(store)],
    )];
    crate::outbox::enqueue(tx, &outbox, now_ms).await
}

/// Creates the tickets of the orders a batch of changes just accepted, inside that batch's
/// transaction: one station lookup per brand, one stream reservation and one announcement per
/// store, and one statement each for the tickets, their items and their events, so a rush of
/// 接单 costs the kitchen a fixed handful of statements rather than a handful per order.
pub(crate) async fn send_orders_in(tx: &mut Tx, orders: &[&Order], now_ms: i64) -> Result<()> {
    let mut defaults: BTreeMap<BrandId, Option<StationId>> = BTreeMap::new();
    for order in orders {
        if defaults.contains_key(&order.brand_id) {
            continue;
        }
        let station: Option<(uuid::Uuid,)> = on_tx!(tx, |c| sqlx::query_as(DEFAULT_STATION)
            .bind(order.brand_id.as_uuid())
            .fetch_optional(&mut *c)
            .await)?;
        defaults.insert(
            order.brand_id,
            station.map(|(id,)| StationId::from_uuid(id)),
        );
    }
    // Per store, in store order: every kitchen write takes its stores' stream rows in one order.
    let mut by_store: BTreeMap<StoreId, Vec<KitchenTicket>> = BTreeMap::new();
    for order in orders {
        let default = defaults.get(&order.brand_id).copied().flatten();
        by_store
            .entry(order.store_id)
            .or_default()
            .extend(route_order(order, default, KitchenTicketId::new, now_ms));
    }
    by_store.retain(|_, tickets| !tickets.is_empty());
    let mut firsts = Vec::with_capacity(by_store.len());
    for (store, tickets) in &by_store {
        firsts.push(reserve_stream(tx, *store, tickets.len() as i64).await?);
    }
    let mut ticket_rows = Vec::new();
    let mut item_rows = Vec::new();
    for t in by_store.values().flatten() {
        ticket_rows.push(vec![
            Value::Id(t.id.as_uuid()),
            Value::Id(t.brand_id.as_uuid()),
            Value::Id(t.store_id.as_uuid()),
            Value::Id(t.order_id.as_uuid()),
            Value::MaybeId(t.station_id.map(|s| s.as_uuid())),
            Value::Text(t.label.clone()),
            Value::Text(t.channel.as_str().into()),
            Value::Int(t.round),
            Value::Text(t.business_date.to_string()),
            Value::Text(t.state.as_str().into()),
            Value::Int(t.version),
            Value::Int(t.created_at_ms),
            Value::Int(t.recalls),
            Value::Int(now_ms),
        ]);
        for item in &t.items {
            item_rows.push(vec![
                Value::Id(t.id.as_uuid()),
                Value::Int(item.line),
                Value::Id(item.dish_id.as_uuid()),
                Value::Id(item.sku_id.as_uuid()),
                Value::Text(item.dish_name.clone()),
                Value::Text(crate::rows::to_json(&item.specs)),
                Value::MaybeText(item.note.clone()),
                Value::Int(item.quantity),
                Value::Text(item.state.as_str().into()),
            ]);
        }
    }
    if ticket_rows.is_empty() {
        return Ok(());
    }
    insert_rows(
        tx,
        "INSERT INTO kitchen_tickets (id, brand_id, store_id, order_id, station_id, label, channel, round, business_date, state, version, created_at_ms, recalls, updated_at_ms)",
        "",
        ticket_rows,
    )
    .await?;
    insert_rows(
        tx,
        "INSERT INTO kitchen_ticket_items (ticket_id, line, dish_id, sku_id, dish_name, specs_json, note, quantity, state)",
        "",
        item_rows,
    )
    .await?;
    crate::printing::queue_sent_orders(tx, orders, &by_store, now_ms).await?;
    for ((store, tickets), first) in by_store.into_iter().zip(firsts) {
        let changes: Vec<TicketChange> = tickets
            .into_iter()
            .map(|ticket| TicketChange {
                moves: ticket.created_moves(),
                ticket,
                event: TicketEventKind::Created,
            })
            .collect();
        record(tx, store, first, &changes, now_ms).await?;
    }
    Ok(())
}

/// A cancelled order's open items are voided (kept, struck through) in the cancel's transaction.
pub(crate) async fn void_order_in(tx: &mut Tx, order: &Order, by: &str, now_ms: i64) -> Result<()> {
    // The stream row first, as every kitchen write takes it, then the tickets; the versions
    // are reserved once it is known how many tickets change.
    reserve_stream(tx, order.store_id, 0).await?;
    let sql = format!(
        "SELECT {TICKET_COLUMNS} FROM kitchen_tickets WHERE order_id = $1 ORDER BY id{}",
        for_update(tx)
    );
    let rows: Vec<TicketRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(order.id.as_uuid())
        .fetch_all(&mut *c)
        .await)?;
    let tickets = tickets_in(tx, rows).await?;
    let changes: Vec<TicketChange> = tickets
        .iter()
        .filter_map(|t| t.void_open_items(by, now_ms))
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    for (before, change) in tickets.iter().filter(|t| t.has_open_items()).zip(&changes) {
        write_change(tx, before.version, change, now_ms).await?;
    }
    crate::printing::queue_cancelled(tx, order, &changes, now_ms).await?;
    let first = reserve_stream(tx, order.store_id, changes.len() as i64).await?;
    record(tx, order.store_id, first, &changes, now_ms).await
}

/// 换台: the tickets of `orders` (all of one store) now carry the table they moved to, inside
/// the transfer's transaction, so every kitchen screen shows where the dishes go.
pub(crate) async fn relabel_orders_in(
    tx: &mut Tx,
    store: StoreId,
    orders: &[OrderId],
    label: &str,
    now_ms: i64,
) -> Result<()> {
    if orders.is_empty() {
        return Ok(());
    }
    reserve_stream(tx, store, 0).await?;
    let mut tickets = Vec::new();
    for order in orders {
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM kitchen_tickets WHERE order_id = $1 AND store_id = $2 ORDER BY id{}",
            for_update(tx)
        );
        let rows: Vec<TicketRow> =
            on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(order.as_uuid())
                .bind(store.as_uuid())
                .fetch_all(&mut *c)
                .await)?;
        tickets.extend(tickets_in(tx, rows).await?);
    }
    let changes: Vec<(i64, TicketChange)> = tickets
        .iter()
        .filter_map(|t| t.relabel(label).map(|change| (t.version, change)))
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    for (seen, change) in &changes {
        write_change(tx, *seen, change, now_ms).await?;
    }
    let changes: Vec<TicketChange> = changes.into_iter().map(|(_, change)| change).collect();
    let first = reserve_stream(tx, store, changes.len() as i64).await?;
    record(tx, store, first, &changes, now_ms).await
}

/// Writes one decided change: the ticket only if still at the version it was decided on.
async fn write_change(tx: &mut Tx, seen: i64, change: &TicketChange, now_ms: i64) -> Result<()> {
    let t = &change.ticket;
    let updated = on_tx!(tx, |c| sqlx::query(UPDATE_TICKET)
        .bind(t.id.as_uuid())
        .bind(seen)
        .bind(t.state.as_str())
        .bind(t.version)
        .bind(t.bumped.as_ref().map(|m| m.by.clone()))
        .bind(t.bumped.as_ref().map(|m| m.at_ms))
        .bind(t.recalls)
        .bind(now_ms)
        .bind(&t.label)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    if updated != 1 {
        // Unreachable while every writer holds the stream row; if it ever happens, nothing is
        // half-written: the caller's transaction rolls back.
        return Err(StorageError::Refused("kitchen ticket changed underneath"));
    }
    for moved in &change.moves {
        let item = t
            .items
            .iter()
            .find(|i| i.line == moved.line)
            .ok_or(StorageError::Refused("a moved item is not on its ticket"))?;
        let mark = item.changed.as_ref();
        on_tx!(tx, |c| sqlx::query(UPDATE_ITEM)
            .bind(t.id.as_uuid())
            .bind(item.line)
            .bind(item.state.as_str())
            .bind(mark.map(|m| m.by.as_str()))
            .bind(mark.map(|m| m.at_ms))
            .execute(&mut *c)
            .await
            .map(drop))?;
    }
    Ok(())
}

impl Db {
    /// A cook's command on ticket `id` of the caller's store, decided by `decide` on the ticket
    /// as it is under the store's kitchen lock: a stale version or a second bump is refused with
    /// the ticket as it is now, and nothing is written.
    pub async fn change_ticket(
        &self,
        brand: BrandId,
        store: StoreId,
        id: KitchenTicketId,
        decide: impl FnOnce(&KitchenTicket) -> std::result::Result<TicketChange, TicketRefusal>,
        now_ms: i64,
    ) -> std::result::Result<TicketChange, TicketError> {
        let mut tx = self.begin().await?;
        let first = reserve_stream(&mut tx, store, 1).await?;
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM kitchen_tickets WHERE id = $1 AND brand_id = $2 AND store_id = $3{}",
            for_update(&tx)
        );
        let row: Option<TicketRow> = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(id.as_uuid())
        .bind(brand.as_uuid())
        .bind(store.as_uuid())
        .fetch_optional(&mut *c)
        .await)
        .map_err(StorageError::from)?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Err(TicketError::NotFound);
        };
        let ticket = tickets_in(&mut tx, vec![row])
            .await?
            .pop()
            .ok_or(TicketError::NotFound)?;
        let change = match decide(&ticket) {
            Ok(change) => change,
            Err(refusal) => {
                tx.rollback().await?;
                return Err(TicketError::Refused {
                    refusal,
                    ticket: Box::new(ticket),
                });
            }
        };
        write_change(&mut tx, ticket.version, &change, now_ms).await?;
        record(&mut tx, store, first, std::slice::from_ref(&change), now_ms).await?;
        tx.commit().await?;
        self.outbox_bell().notify_one();
        Ok(change)
    }
}
