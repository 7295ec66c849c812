//! Orders, table sessions and the event log: placing an order is one transaction that claims
//! the idempotency key, takes the stock, numbers the order and records its first event, so a
//! retry, a race for the last bowl or a crash can never leave half an order.

use crate::db::{Db, Tx};
use crate::error::{Result, StorageError};
use diancan_domain::ordering::{Channel, IllegalTransition, OrderAction, OrderStatus, next_status};
use diancan_domain::schedule::BusinessDate;
use diancan_domain::*;
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

/// Units of one spec an order takes from a store's stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockClaim {
    pub sku_id: SkuId,
    pub quantity: i64,
}

/// One priced line as stored for the kitchen and for reports.
#[derive(Debug, Clone)]
pub struct NewOrderLine {
    pub sku_id: SkuId,
    pub dish_id: DishId,
    pub station_id: Option<StationId>,
    pub name: String,
    pub quantity: i64,
    pub unit_price_fen: i64,
    pub line_total_fen: i64,
}

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub id: OrderId,
    pub brand_id: BrandId,
    pub store_id: StoreId,
    pub channel: Channel,
    pub status: OrderStatus,
    pub table_session_id: Option<TableSessionId>,
    pub table_id: Option<TableId>,
    pub business_date: BusinessDate,
    pub diners: Option<i64>,
    pub total_fen: i64,
    pub quote_json: String,
    pub contact_json: Option<String>,
    pub note: Option<String>,
    pub ready_by_ms: Option<i64>,
    pub pay_by_ms: Option<i64>,
    pub lines: Vec<NewOrderLine>,
    pub stock: Vec<StockClaim>,
    pub idempotency_key: String,
    pub request_hash: String,
    /// Dine-in: the table whose shared cart this order empties.
    pub clears_cart_of: Option<TableId>,
    /// The logged-in diner, for their order history.
    pub customer_id: Option<CustomerId>,
    /// A pickup/delivery slot with limited capacity: (slot start, capacity).
    pub slot: Option<(i64, i64)>,
    /// The brand's menu revision the order was priced from; the order is refused with
    /// [`PlaceError::MenuChanged`] if the menu changed since. `None` skips the check.
    pub menu_revision: Option<i64>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRecord {
    pub id: OrderId,
    pub brand_id: BrandId,
    pub store_id: StoreId,
    pub channel: Channel,
    pub status: OrderStatus,
    pub version: i64,
    pub table_session_id: Option<TableSessionId>,
    pub table_id: Option<TableId>,
    pub pickup_number: i64,
    pub business_date: String,
    pub round: i64,
    pub diners: Option<i64>,
    pub total_fen: i64,
    pub quote_json: String,
    pub contact_json: Option<String>,
    pub note: Option<String>,
    pub ready_by_ms: Option<i64>,
    pub pay_by_ms: Option<i64>,
    pub cancel_requested: bool,
    pub customer_id: Option<CustomerId>,
    pub slot_start_ms: Option<i64>,
    pub placed_at_ms: i64,
    pub updated_at_ms: i64,
}

/// What placing an order did.
#[derive(Debug, Clone, PartialEq)]
pub enum Placed {
    Created(OrderRecord),
    /// The idempotency key was used before with the same request: here is that order.
    Replayed(OrderRecord),
}

#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("the idempotency key was used for a different request")]
    KeyReused,
    #[error("the chosen time slot is full")]
    SlotFull,
    #[error("not enough stock for {0}")]
    SoldOut(SkuId),
    /// The menu changed after the order was priced: price it again from the current menu.
    #[error("the menu changed since the order was priced")]
    MenuChanged,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for PlaceError {
    fn from(e: sqlx::Error) -> Self {
        PlaceError::Storage(e.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for TransitionError {
    fn from(e: sqlx::Error) -> Self {
        TransitionError::Storage(e.into())
    }
}

/// One entry of the durable event log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    pub stream_version: i64,
    pub kind: String,
    pub payload_json: String,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableSession {
    pub id: TableSessionId,
    pub table_id: TableId,
    pub store_id: StoreId,
    pub diners: Option<i64>,
    pub opened_at_ms: i64,
}

const SELECT_ORDER: &str = "SELECT id, brand_id, store_id, channel, status, version, table_session_id, table_id, pickup_number, business_date, round, diners,
    total_fen, quote_json, contact_json, note, ready_by_ms, pay_by_ms, cancel_requested, customer_id, slot_start_ms, placed_at_ms, updated_at_ms FROM orders WHERE id = $1";
const SELECT_STORE_ORDERS: &str = "SELECT id, brand_id, store_id, channel, status, version, table_session_id, table_id, pickup_number, business_date, round, diners,
    total_fen, quote_json, contact_json, note, ready_by_ms, pay_by_ms, cancel_requested, customer_id, slot_start_ms, placed_at_ms, updated_at_ms
    FROM orders WHERE brand_id = $1 AND store_id = $2 AND business_date = $3 ORDER BY placed_at_ms DESC";
const SELECT_SESSION_ORDERS: &str = "SELECT id, brand_id, store_id, channel, status, version, table_session_id, table_id, pickup_number, business_date, round, diners,
    total_fen, quote_json, contact_json, note, ready_by_ms, pay_by_ms, cancel_requested, customer_id, slot_start_ms, placed_at_ms, updated_at_ms
    FROM orders WHERE table_session_id = $1 ORDER BY placed_at_ms";
const SELECT_UNPAID_DUE: &str =
    "SELECT id FROM orders WHERE status = 'awaiting_payment' AND pay_by_ms <= $1 LIMIT 200";
const INSERT_TRANSITION: &str = "INSERT INTO order_transitions (order_id, version, from_status, to_status, action, actor, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const RETURN_STOCK: &str = "UPDATE store_sku_states SET
        stock = CASE WHEN stock IS NULL THEN NULL ELSE stock + $3 END,
        sold_count = CASE WHEN sold_on = $4 AND sold_count >= $3 THEN sold_count - $3 WHEN sold_on = $4 THEN 0 ELSE sold_count END
    WHERE store_id = $1 AND sku_id = $2";
const RELEASE_SLOT: &str = "UPDATE slot_counters SET taken = taken - 1 WHERE store_id = $1 AND slot_start_ms = $2 AND taken > 0";
const SELECT_CUSTOMER_ORDERS: &str = "SELECT id, brand_id, store_id, channel, status, version, table_session_id, table_id, pickup_number, business_date, round, diners,
    total_fen, quote_json, contact_json, note, ready_by_ms, pay_by_ms, cancel_requested, customer_id, slot_start_ms, placed_at_ms, updated_at_ms
    FROM orders WHERE customer_id = $1 ORDER BY placed_at_ms DESC LIMIT 100";
const UPDATE_STATUS: &str = "UPDATE orders SET status = $2, version = version + 1, updated_at_ms = $3 WHERE id = $1 AND version = $4";
const MARK_HURRY: &str = "UPDATE orders SET last_hurry_ms = $2, version = version + 1, updated_at_ms = $2
    WHERE id = $1 AND (last_hurry_ms IS NULL OR last_hurry_ms <= $3) AND status IN ('placed', 'accepted', 'preparing')";
const MARK_CANCEL_REQUEST: &str = "UPDATE orders SET cancel_requested = $2, version = version + 1, updated_at_ms = $3 WHERE id = $1";
const INSERT_EVENT: &str = "INSERT INTO events (stream, stream_version, kind, payload_json, created_at_ms) VALUES ($1, $2, $3, $4, $5)";
const SELECT_EVENTS: &str = "SELECT stream_version, kind, payload_json, created_at_ms FROM events WHERE stream = $1 AND stream_version > $2 ORDER BY stream_version LIMIT 500";
const INSERT_SESSION: &str = "INSERT INTO table_sessions (id, brand_id, store_id, table_id, status, diners, opened_at_ms) VALUES ($1, $2, $3, $4, 'open', $5, $6)";
const SELECT_OPEN_SESSION: &str = "SELECT id, table_id, store_id, diners, opened_at_ms FROM table_sessions WHERE table_id = $1 AND status = 'open'";
const CLOSE_SESSION: &str = "UPDATE table_sessions SET status = 'closed', closed_at_ms = $3 WHERE table_id = $1 AND brand_id = $2 AND status = 'open'";

#[derive(FromRow)]
struct OrderRow {
    id: Uuid,
    brand_id: Uuid,
    store_id: Uuid,
    channel: String,
    status: String,
    version: i64,
    table_session_id: Option<Uuid>,
    table_id: Option<Uuid>,
    pickup_number: i64,
    business_date: String,
    round: i64,
    diners: Option<i64>,
    total_fen: i64,
    quote_json: String,
    contact_json: Option<String>,
    note: Option<String>,
    ready_by_ms: Option<i64>,
    pay_by_ms: Option<i64>,
    cancel_requested: bool,
    customer_id: Option<Uuid>,
    slot_start_ms: Option<i64>,
    placed_at_ms: i64,
    updated_at_ms: i64,
}

impl TryFrom<OrderRow> for OrderRecord {
    type Error = StorageError;
    fn try_from(r: OrderRow) -> Result<Self> {
        Ok(OrderRecord {
            id: OrderId::from_uuid(r.id),
            brand_id: BrandId::from_uuid(r.brand_id),
            store_id: StoreId::from_uuid(r.store_id),
            channel: Channel::parse(&r.channel)
                .ok_or_else(|| StorageError::Corrupt(format!("channel {:?}", r.channel)))?,
            status: OrderStatus::parse(&r.status)
                .ok_or_else(|| StorageError::Corrupt(format!("status {:?}", r.status)))?,
            version: r.version,
            table_session_id: r.table_session_id.map(TableSessionId::from_uuid),
            table_id: r.table_id.map(TableId::from_uuid),
            pickup_number: r.pickup_number,
            business_date: r.business_date,
            round: r.round,
            diners: r.diners,
            total_fen: r.total_fen,
            quote_json: r.quote_json,
            contact_json: r.contact_json,
            note: r.note,
            ready_by_ms: r.ready_by_ms,
            pay_by_ms: r.pay_by_ms,
            cancel_requested: r.cancel_requested,
            customer_id: r.customer_id.map(CustomerId::from_uuid),
            slot_start_ms: r.slot_start_ms,
            placed_at_ms: r.placed_at_ms,
            updated_at_ms: r.updated_at_ms,
        })
    }
}

pub fn order_stream(id: OrderId) -> String {
    format!("order:{id}")
}

pub fn cart_stream(table: TableId) -> String {
    format!("cart:{table}")
}

/// Appends an event to `stream` at `version` inside the transaction that made the change.
pub(crate) async fn append_event(
    tx: &mut Tx,
    stream: &str,
    version: i64,
    kind: &str,
    payload: &serde_json::Value,
    now_ms: i64,
) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(INSERT_EVENT)
        .bind(stream)
        .bind(version)
        .bind(kind)
        .bind(payload.to_string())
        .bind(now_ms)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn order_in(tx: &mut Tx, id: OrderId) -> Result<OrderRecord> {
    let row: OrderRow = on_tx!(tx, |c| sqlx::query_as(SELECT_ORDER)
        .bind(id.as_uuid())
        .fetch_one(&mut *c)
        .await)?;
    row.try_into()
}

pub(crate) fn status_payload(order: &OrderRecord, action: &str) -> serde_json::Value {
    serde_json::json!({
        "status": order.status.as_str(),
        "status_label": order.status.label_zh(),
        "action": action,
        "version": order.version,
        "pickup_number": order.pickup_number,
        "cancel_requested": order.cancel_requested,
    })
}

/// Gives a cancelled order's stock back to the store.
async fn return_stock(tx: &mut Tx, store: StoreId, claims: &[StockClaim], day: &str) -> Result<()> {
    for claim in claims {
        on_tx!(tx, |c| sqlx::query(RETURN_STOCK)
            .bind(store.as_uuid())
            .bind(claim.sku_id.as_uuid())
            .bind(claim.quantity)
            .bind(day)
            .execute(&mut *c)
            .await
            .map(drop))?;
    }
    Ok(())
}

impl Db {
    /// Places an order atomically. With a key seen before: the same request gets the same order
    /// back; a different request under that key is refused.
    pub async fn place_order(&self, order: &NewOrder) -> std::result::Result<Placed, PlaceError> {
        self.order_lanes().place(order.clone()).await
    }

    pub async fn order(&self, id: OrderId) -> Result<OrderRecord> {
        let row: OrderRow = on_pool!(self, |p| sqlx::query_as(SELECT_ORDER)
            .bind(id.as_uuid())
            .fetch_one(p)
            .await)?;
        row.try_into()
    }

    pub async fn store_orders(
        &self,
        brand: BrandId,
        store: StoreId,
        day: BusinessDate,
    ) -> Result<Vec<OrderRecord>> {
        let rows: Vec<OrderRow> = on_pool!(self, |p| sqlx::query_as(SELECT_STORE_ORDERS)
            .bind(brand.as_uuid())
            .bind(store.as_uuid())
            .bind(day.to_string())
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(OrderRecord::try_from).collect()
    }

    /// A diner's orders across the brand's stores, newest first (order history).
    pub async fn customer_orders(&self, customer: CustomerId) -> Result<Vec<OrderRecord>> {
        let rows: Vec<OrderRow> = on_pool!(self, |p| sqlx::query_as(SELECT_CUSTOMER_ORDERS)
            .bind(customer.as_uuid())
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(OrderRecord::try_from).collect()
    }

    pub async fn session_orders(&self, session: TableSessionId) -> Result<Vec<OrderRecord>> {
        let rows: Vec<OrderRow> = on_pool!(self, |p| sqlx::query_as(SELECT_SESSION_ORDERS)
            .bind(session.as_uuid())
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(OrderRecord::try_from).collect()
    }

    /// Moves an order by `action`, recording who did it. Cancelling returns its stock.
    /// `brand` scopes staff actions; `None` is the diner or the system acting on their own order.
    pub async fn transition_order(
        &self,
        id: OrderId,
        brand: Option<BrandId>,
        action: OrderAction,
        actor: &str,
        now_ms: i64,
    ) -> std::result::Result<OrderRecord, TransitionError> {
        let mut tx = self.begin().await?;
        let current = order_in(&mut tx, id).await?;
        if brand.is_some_and(|b| b != current.brand_id) {
            return Err(StorageError::NotFound.into());
        }
        let next = next_status(current.status, action, current.channel)?;
        let changed = on_tx!(&mut tx, |c| sqlx::query(UPDATE_STATUS)
            .bind(id.as_uuid())
            .bind(next.as_str())
            .bind(now_ms)
            .bind(current.version)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if changed == 0 {
            // Someone else moved it between our read and write (PostgreSQL); the caller may retry.
            return Err(StorageError::Conflict {
                constraint: "orders.version".into(),
            }
            .into());
        }
        on_tx!(&mut tx, |c| sqlx::query(INSERT_TRANSITION)
            .bind(id.as_uuid())
            .bind(current.version + 1)
            .bind(current.status.as_str())
            .bind(next.as_str())
            .bind(action.as_str())
            .bind(actor)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if next == OrderStatus::Cancelled {
            let quote: diancan_domain::ordering::Quote =
                serde_json::from_str(&current.quote_json).map_err(StorageError::from)?;
            let claims: Vec<StockClaim> = quote
                .stock_claims()
                .into_iter()
                .map(|(sku_id, quantity)| StockClaim { sku_id, quantity })
                .collect();
            return_stock(&mut tx, current.store_id, &claims, &current.business_date).await?;
            if let Some(slot) = current.slot_start_ms {
                on_tx!(&mut tx, |c| sqlx::query(RELEASE_SLOT)
                    .bind(current.store_id.as_uuid())
                    .bind(slot)
                    .execute(&mut *c)
                    .await
                    .map(|r| r.rows_affected()))?;
            }
        }
        let record = order_in(&mut tx, id).await?;
        append_event(
            &mut tx,
            &order_stream(id),
            record.version,
            "order.status",
            &status_payload(&record, action.as_str()),
            now_ms,
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Records a hurry-up (催单) unless one was recorded after `not_since_ms`; false when too soon.
    pub async fn hurry_order(&self, id: OrderId, now_ms: i64, not_since_ms: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |c| sqlx::query(MARK_HURRY)
            .bind(id.as_uuid())
            .bind(now_ms)
            .bind(not_since_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Ok(false);
        }
        let record = order_in(&mut tx, id).await?;
        append_event(
            &mut tx,
            &order_stream(id),
            record.version,
            "order.hurry",
            &status_payload(&record, "hurry"),
            now_ms,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Marks (or clears) a diner's request to cancel an accepted order, for the store to decide.
    pub async fn set_cancel_request(
        &self,
        id: OrderId,
        requested: bool,
        now_ms: i64,
    ) -> Result<OrderRecord> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(MARK_CANCEL_REQUEST)
            .bind(id.as_uuid())
            .bind(requested)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        let record = order_in(&mut tx, id).await?;
        let kind = if requested {
            "order.cancel_requested"
        } else {
            "order.cancel_declined"
        };
        append_event(
            &mut tx,
            &order_stream(id),
            record.version,
            kind,
            &status_payload(&record, kind),
            now_ms,
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Pay-first orders whose payment window has passed.
    pub async fn unpaid_orders_due(&self, now_ms: i64) -> Result<Vec<OrderId>> {
        let rows: Vec<(Uuid,)> = on_pool!(self, |p| sqlx::query_as(SELECT_UNPAID_DUE)
            .bind(now_ms)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(id,)| OrderId::from_uuid(id))
            .collect())
    }

    /// Events of `stream` after `after_version`, oldest first.
    pub async fn events_after(&self, stream: &str, after_version: i64) -> Result<Vec<StoredEvent>> {
        let rows: Vec<(i64, String, String, i64)> =
            on_pool!(self, |p| sqlx::query_as(SELECT_EVENTS)
                .bind(stream)
                .bind(after_version)
                .fetch_all(p)
                .await)?;
        Ok(rows
            .into_iter()
            .map(
                |(stream_version, kind, payload_json, created_at_ms)| StoredEvent {
                    stream_version,
                    kind,
                    payload_json,
                    created_at_ms,
                },
            )
            .collect())
    }

    /// Opens the table (开台), or returns the session already open there.
    pub async fn open_table_session(
        &self,
        brand: BrandId,
        store: StoreId,
        table: TableId,
        diners: Option<i64>,
        now_ms: i64,
    ) -> Result<TableSession> {
        let mut tx = self.begin().await?;
        let existing: Option<(Uuid, Uuid, Uuid, Option<i64>, i64)> =
            on_tx!(&mut tx, |c| sqlx::query_as(SELECT_OPEN_SESSION)
                .bind(table.as_uuid())
                .fetch_optional(&mut *c)
                .await)?;
        if let Some(row) = existing {
            return Ok(session_from(row));
        }
        let id = TableSessionId::new();
        on_tx!(&mut tx, |c| sqlx::query(INSERT_SESSION)
            .bind(id.as_uuid())
            .bind(brand.as_uuid())
            .bind(store.as_uuid())
            .bind(table.as_uuid())
            .bind(diners)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(TableSession {
            id,
            table_id: table,
            store_id: store,
            diners,
            opened_at_ms: now_ms,
        })
    }

    pub async fn open_table_session_of(&self, table: TableId) -> Result<Option<TableSession>> {
        let row: Option<(Uuid, Uuid, Uuid, Option<i64>, i64)> =
            on_pool!(self, |p| sqlx::query_as(SELECT_OPEN_SESSION)
                .bind(table.as_uuid())
                .fetch_optional(p)
                .await)?;
        Ok(row.map(session_from))
    }

    /// Clears the table (清台): its session closes and the next diners start a new one.
    pub async fn close_table_session(
        &self,
        brand: BrandId,
        table: TableId,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |c| sqlx::query(CLOSE_SESSION)
            .bind(table.as_uuid())
            .bind(brand.as_uuid())
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StorageError::NotFound);
        }
        tx.commit().await
    }
}

fn session_from(
    (id, table, store, diners, opened): (Uuid, Uuid, Uuid, Option<i64>, i64),
) -> TableSession {
    TableSession {
        id: TableSessionId::from_uuid(id),
        table_id: TableId::from_uuid(table),
        store_id: StoreId::from_uuid(store),
        diners,
        opened_at_ms: opened,
    }
}

/// The channel every event is announced on (see the PostgreSQL migration 0006).
const EVENT_CHANNEL: &str = "diancan_events";

impl Db {
    /// Calls `woke` with a stream's name whenever any instance commits an event to it
    /// (PostgreSQL LISTEN/NOTIFY; reconnects by itself). SQLite has one process, whose writers
    /// wake their readers directly, so this does nothing there. A notification lost while
    /// reconnecting is not a lost event: readers also re-read the log every few seconds.
    /// Returns once the first LISTEN is in place (or has failed and is being retried), so a
    /// caller that starts serving afterwards misses no notification.
    pub async fn listen_for_events(&self, woke: impl Fn(&str) + Send + 'static) {
        let Db::Postgres { pool, .. } = self else {
            return;
        };
        let pool = pool.clone();
        let mut listening = listen(&pool).await;
        tokio::spawn(async move {
            while !pool.is_closed() {
                let Some(mut listener) = listening.take() else {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    listening = listen(&pool).await;
                    continue;
                };
                loop {
                    match listener.recv().await {
                        Ok(notification) => woke(notification.payload()),
                        Err(error) => {
                            tracing::warn!(%error, "event notifications interrupted; listening again");
                            break;
                        }
                    }
                }
            }
        });
    }
}

async fn listen(pool: &sqlx::PgPool) -> Option<sqlx::postgres::PgListener> {
    let attempt = async {
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(EVENT_CHANNEL).await?;
        Ok::<_, sqlx::Error>(listener)
    };
    match attempt.await {
        Ok(listener) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "cannot listen for events; retrying");
            None
        }
    }
}
