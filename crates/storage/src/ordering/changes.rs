//! Changing orders, a batch at a time: every change that arrives together (收款, 接单, a diner's
//! cancel, a timeout) is decided on the locked rows and written in one transaction with a fixed
//! number of statements per batch: the change, its history row, its event and its outbox rows.
//!
//! Storage decides nothing here: each request carries the domain's decision as a function of
//! the order as it is under the lock, so a diner's cancel that arrives just after an accept is
//! decided on the accepted order (and becomes a cancel request), never on a stale read.

use super::board::board_entry;
use super::kitchen_hook::{Followed, follow_in};
use super::orders::{ORDER_COLUMNS, OrderRow};
use crate::error::{Result, StorageError};
use crate::events::{announcement, menu_channel, order_stream, store_channel};
use crate::outbox::OutboxEntry;
use crate::sql_batch::{Value, for_update, insert_rows, placeholders, update_rows};
use crate::tx::Tx;
use diancan_domain::ordering::{Order, OrderChange, OrderRefusal, OrderStatus};
use diancan_domain::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The domain's decision for one order, re-run on the order as it is under the lock (and again
/// if the batch has to be retried).
pub type Decide =
    Arc<dyn Fn(&Order) -> std::result::Result<OrderChange, OrderRefusal> + Send + Sync>;

pub struct ChangeRequest {
    pub order_id: OrderId,
    /// Staff act within their brand and store: an order elsewhere is "not found". `None` for
    /// the diner (who holds the order's id) and the system.
    pub scope: Option<(BrandId, StoreId)>,
    pub decide: Decide,
    pub now_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("no such order")]
    NotFound,
    /// The decision refused; the order as it is now comes along (for a 409 with the state).
    #[error("{refusal}")]
    Refused {
        refusal: OrderRefusal,
        order: Box<Order>,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ChangeError {
    /// The same answer again, for a request whose batch failed and which ran alone.
    pub(crate) fn from_storage(error: &StorageError) -> ChangeError {
        ChangeError::Storage(StorageError::Unavailable(error.to_string()))
    }
}

/// What an order's event says: enough for a page to redraw without asking again.
pub(crate) fn event_payload(
    order: &Order,
    action: &str,
    reason: Option<&str>,
) -> serde_json::Value {
    let mut payload = serde_json::json!({
        "status": order.status.as_str(),
        "status_label": order.status.label_zh(),
        "action": action,
        "version": order.version,
        "pickup_number": order.pickup_number,
        "cancel_requested": order.cancel_requested,
    });
    if let (Some(reason), Some(fields)) = (reason, payload.as_object_mut()) {
        fields.insert("reason".into(), reason.into());
    }
    payload
}

/// As [`event_payload`], with the state of the order's delivery when the change was its step.
fn change_payload(order: &Order, action: &str, change: &OrderChange) -> serde_json::Value {
    let mut payload = event_payload(order, action, change.reason.as_deref());
    if let (Some(state), Some(fields)) = (change.delivery_state, payload.as_object_mut()) {
        fields.insert("delivery_state".into(), state.into());
    }
    payload
}

const RETURN_STOCK: &str = "UPDATE store_sku_states SET
        stock = CASE WHEN stock IS NULL THEN NULL ELSE stock + $3 END,
        sold_count = CASE WHEN sold_on = $4 AND sold_count >= $3 THEN sold_count - $3 WHEN sold_on = $4 THEN 0 ELSE sold_count END
    WHERE store_id = $1 AND sku_id = $2
    RETURNING stock IS NOT NULL OR daily_limit IS NOT NULL";
const RELEASE_SLOT: &str = "UPDATE slot_counters SET taken = taken - 1 WHERE store_id = $1 AND slot_start_ms = $2 AND taken > 0";
/// What a change writes to an order's row: its key, then each column with its type.
const ORDER_CHANGE_COLUMNS: &[(&str, &str)] = &[
    ("id", "uuid"),
    ("status", "text"),
    ("version", "bigint"),
    ("cancel_requested", "boolean"),
    ("paid_at_ms", "bigint"),
    ("last_hurry_ms", "bigint"),
    ("updated_at_ms", "bigint"),
];

/// Decides and writes `requests` (in arrival order) inside `tx`.
pub(crate) async fn change_in(
    tx: &mut Tx,
    requests: &[&ChangeRequest],
) -> Result<Vec<std::result::Result<Order, ChangeError>>> {
    let mut orders = lock_orders(tx, requests).await?;
    let before: BTreeMap<OrderId, i64> = orders.iter().map(|(id, o)| (*id, o.version)).collect();
    let mut outcomes = Vec::with_capacity(requests.len());
    let mut applied: Vec<Applied> = Vec::new();
    for request in requests {
        let Some(order) = orders.get_mut(&request.order_id) else {
            outcomes.push(Err(ChangeError::NotFound));
            continue;
        };
        if request
            .scope
            .is_some_and(|(brand, store)| order.brand_id != brand || order.store_id != store)
        {
            outcomes.push(Err(ChangeError::NotFound));
            continue;
        }
        match (request.decide)(order) {
            Ok(change) => {
                let from = order.status;
                let was_paid = order.is_paid();
                apply(order, &change, request.now_ms);
                applied.push(Applied {
                    from,
                    was_paid,
                    order: order.clone(),
                    change,
                });
                outcomes.push(Ok(order.clone()));
            }
            Err(refusal) => outcomes.push(Err(ChangeError::Refused {
                refusal,
                order: Box::new(order.clone()),
            })),
        }
    }
    let changed: Vec<&Order> = orders
        .values()
        .filter(|o| before.get(&o.id) != Some(&o.version))
        .collect();
    write_orders(tx, &changed).await?;
    let followed: Vec<Followed> = applied
        .iter()
        .map(|a| Followed {
            from: a.from,
            order: &a.order,
            by: a
                .change
                .transition
                .as_ref()
                .map_or("system", |(_, actor)| actor),
        })
        .collect();
    if let Some(first) = applied.first() {
        follow_in(tx, &followed, first.order.updated_at_ms).await?;
    }
    let limited = release_claims(tx, &applied).await?;
    write_history(tx, &applied, &limited).await?;
    Ok(outcomes)
}

/// The orders the batch touches, read under a row lock in id order (PostgreSQL), so two
/// instances' batches queue on each other rather than deadlock.
async fn lock_orders(tx: &mut Tx, requests: &[&ChangeRequest]) -> Result<BTreeMap<OrderId, Order>> {
    let ids: BTreeSet<OrderId> = requests.iter().map(|r| r.order_id).collect();
    let ids: Vec<OrderId> = ids.into_iter().collect();
    let mut orders = BTreeMap::new();
    for chunk in ids.chunks(crate::sql_batch::ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE id IN {} ORDER BY id{}",
            placeholders(tx, 1, 1, chunk.len()),
            for_update(tx)
        );
        let values: Vec<Value> = chunk.iter().map(|id| Value::Id(id.as_uuid())).collect();
        let rows: Vec<OrderRow> = on_tx!(tx, |c| bind_values!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).persistent(false),
            values.iter()
        )
        .fetch_all(&mut *c)
        .await)?;
        for row in rows {
            let order = Order::try_from(row)?;
            orders.insert(order.id, order);
        }
    }
    Ok(orders)
}

/// Order `id`, read under its row lock (PostgreSQL), for a write that decides on the order
/// before changing it in the same transaction (a delivery's step).
pub(crate) async fn lock_order(tx: &mut Tx, id: OrderId) -> Result<Option<Order>> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1{}",
        for_update(tx)
    );
    let row: Option<OrderRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id.as_uuid())
        .fetch_optional(&mut *c)
        .await)?;
    row.map(Order::try_from).transpose()
}

/// A change as decided, with the order after it and the status before it.
struct Applied {
    from: OrderStatus,
    was_paid: bool,
    order: Order,
    change: OrderChange,
}

fn apply(order: &mut Order, change: &OrderChange, now_ms: i64) {
    order.status = change.status;
    order.cancel_requested = change.cancel_requested;
    order.paid_at_ms = change.paid_at_ms;
    order.last_hurry_ms = change.last_hurry_ms;
    order.version += 1;
    order.updated_at_ms = now_ms;
}

/// Every changed order of the batch, in one statement.
async fn write_orders(tx: &mut Tx, changed: &[&Order]) -> Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let rows = changed
        .iter()
        .map(|order| {
            vec![
                Value::Id(order.id.as_uuid()),
                Value::Text(order.status.as_str().into()),
                Value::Int(order.version),
                Value::Bool(order.cancel_requested),
                Value::MaybeInt(order.paid_at_ms),
                Value::MaybeInt(order.last_hurry_ms),
                Value::Int(order.updated_at_ms),
            ]
        })
        .collect();
    update_rows(tx, "orders", ORDER_CHANGE_COLUMNS, rows).await
}

/// Gives cancelled orders' stock and slots back. Returns the stores whose counted stock came
/// back, whose public menus must be refreshed.
async fn release_claims(tx: &mut Tx, applied: &[Applied]) -> Result<BTreeSet<StoreId>> {
    let mut limited = BTreeSet::new();
    for Applied { order, .. } in applied.iter().filter(|a| a.change.releases_claims) {
        let day = order.business_date.to_string();
        for (sku, quantity) in order.quote.stock_claims() {
            let counted: Option<(bool,)> = on_tx!(tx, |c| sqlx::query_as(RETURN_STOCK)
                .bind(order.store_id.as_uuid())
                .bind(sku.as_uuid())
                .bind(quantity)
                .bind(&day)
                .fetch_optional(&mut *c)
                .await)?;
            if counted.is_some_and(|(counted,)| counted) {
                limited.insert(order.store_id);
            }
        }
        // Its coupons are the diner's to use again, and its uses of limited promotions uncounted.
        crate::promotions::return_offers_in(tx, order.id, order.updated_at_ms).await?;
        if let Some(slot) = order.slot_start_ms {
            on_tx!(tx, |c| sqlx::query(RELEASE_SLOT)
                .bind(order.store_id.as_uuid())
                .bind(slot)
                .execute(&mut *c)
                .await
                .map(drop))?;
        }
    }
    Ok(limited)
}

/// The history rows, events and announcements of every applied change, a statement each.
async fn write_history(
    tx: &mut Tx,
    applied: &[Applied],
    limited: &BTreeSet<StoreId>,
) -> Result<()> {
    if applied.is_empty() {
        return Ok(());
    }
    let now_ms = applied[0].order.updated_at_ms;
    let mut transitions = Vec::new();
    let mut events = Vec::with_capacity(applied.len());
    let mut announcements = Vec::with_capacity(applied.len() + limited.len());
    for Applied {
        from,
        was_paid,
        order,
        change,
    } in applied
    {
        let action = match &change.transition {
            Some((action, actor)) => {
                transitions.push(vec![
                    Value::Id(order.id.as_uuid()),
                    Value::Int(order.version),
                    Value::MaybeText(Some(from.as_str().into())),
                    Value::Text(order.status.as_str().into()),
                    Value::Text(action.as_str().into()),
                    Value::Text(actor.clone()),
                    Value::Int(order.updated_at_ms),
                    Value::MaybeText(change.reason.clone()),
                ]);
                action.as_str()
            }
            None => change.event.as_str().trim_start_matches("order."),
        };
        let stream = order_stream(order.id);
        events.push(vec![
            Value::Text(stream.clone()),
            Value::Int(order.version),
            Value::Text(change.event.as_str().into()),
            Value::Text(change_payload(order, action, change).to_string()),
            Value::Int(order.updated_at_ms),
        ]);
        announcements.push(announcement(
            &stream,
            vec![stream.clone(), store_channel(order.store_id)],
        ));
        let mut entry = board_entry(
            order,
            change.event.as_str(),
            action,
            change.reason.as_deref(),
        );
        if let (Some(state), Some(fields)) = (change.delivery_state, entry.payload.as_object_mut())
        {
            fields.insert("delivery_state".into(), state.into());
        }
        announcements.push(entry);
        // The diner hears of the moments worth a message (接单, 出餐, 配送) by the outbox.
        if let Some(notice) = crate::notifications::status_notice(*from, order) {
            announcements.push(notice);
        }
        // A paid order cancelled: its gateway payments are refunded, by the outbox, in full.
        if order.status == OrderStatus::Cancelled
            && *from != OrderStatus::Cancelled
            && order.is_paid()
        {
            announcements.push(OutboxEntry {
                topic: crate::refunds::REFUND_ORDER,
                subject: Some(format!("order:{}", order.id)),
                payload: serde_json::json!({ "order_id": order.id }),
            });
        }
        // A member's order: points and growth once it is paid, taken back if it is cancelled.
        if order.customer_id.is_some() {
            if order.is_paid() && !*was_paid {
                announcements.push(crate::membership::earn_entry(order.id));
            }
            if order.status == OrderStatus::Cancelled
                && *from != OrderStatus::Cancelled
                && order.is_paid()
            {
                announcements.push(crate::membership::cancelled_entry(order.id));
            }
        }
    }
    if !transitions.is_empty() {
        insert_rows(
            tx,
            "INSERT INTO order_transitions (order_id, version, from_status, to_status, action, actor, at_ms, reason)",
            "",
            transitions,
        )
        .await?;
    }
    insert_rows(
        tx,
        "INSERT INTO events (stream, stream_version, kind, payload_json, created_at_ms)",
        "",
        events,
    )
    .await?;
    for store in limited {
        let channel = menu_channel(*store);
        announcements.push(announcement(&channel, vec![channel.clone()]));
    }
    crate::outbox::enqueue(tx, &announcements, now_ms).await
}
