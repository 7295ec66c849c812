//! Reading orders: rows mapped into the domain's [`Order`] once, here, and the queries the
//! board, the diner's history and the workers need. Writes go through the write lanes.

use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::tx::Tx;
use diancan_domain::ordering::{Channel, Order, OrderStatus, OrderTable, Quote};
use diancan_domain::schedule::BusinessDate;
use diancan_domain::*;
use sqlx::FromRow;
use uuid::Uuid;

pub(crate) const ORDER_COLUMNS: &str = "id, brand_id, store_id, channel, status, version, table_session_id, table_id, table_code, area_name,
    pickup_number, business_date, round, diners, total_fen, quote_json, contact_json, note, ready_by_ms, pay_by_ms, paid_at_ms,
    cancel_requested, last_hurry_ms, customer_id, slot_start_ms, placed_at_ms, updated_at_ms";

const WHERE_ID: &str = "WHERE id = $1";
const WHERE_STORE_DAY: &str =
    "WHERE brand_id = $1 AND store_id = $2 AND business_date = $3 ORDER BY placed_at_ms DESC";
const WHERE_SESSION: &str = "WHERE table_session_id = $1 ORDER BY placed_at_ms";
const WHERE_OPEN_SESSIONS: &str = "WHERE brand_id = $1 AND store_id = $2 AND table_session_id IN
    (SELECT id FROM table_sessions WHERE brand_id = $1 AND store_id = $2 AND status = 'open') ORDER BY placed_at_ms";
const WHERE_CUSTOMER: &str = "WHERE customer_id = $1 ORDER BY placed_at_ms DESC LIMIT 100";
const SELECT_UNPAID_DUE: &str =
    "SELECT id FROM orders WHERE status = 'awaiting_payment' AND pay_by_ms <= $1 LIMIT 200";

const SELECT_HISTORY: &str = "SELECT version, from_status, to_status, action, actor, at_ms, reason
    FROM order_transitions WHERE order_id = $1 ORDER BY version";

type HistoryRow = (
    i64,
    Option<String>,
    String,
    String,
    String,
    i64,
    Option<String>,
);

/// One step of an order's history, as written.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OrderTransition {
    pub version: i64,
    pub from_status: Option<String>,
    pub to_status: String,
    pub action: String,
    /// `diner`, `staff:<id>`, `system:<what>`, a gateway's name.
    pub actor: String,
    pub at_ms: i64,
    pub reason: Option<String>,
}

fn select(filter: &str) -> String {
    format!("SELECT {ORDER_COLUMNS} FROM orders {filter}")
}

#[derive(FromRow)]
pub(crate) struct OrderRow {
    id: Uuid,
    brand_id: Uuid,
    store_id: Uuid,
    channel: String,
    status: String,
    version: i64,
    table_session_id: Option<Uuid>,
    table_id: Option<Uuid>,
    table_code: Option<String>,
    area_name: Option<String>,
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
    paid_at_ms: Option<i64>,
    cancel_requested: bool,
    last_hurry_ms: Option<i64>,
    customer_id: Option<Uuid>,
    slot_start_ms: Option<i64>,
    placed_at_ms: i64,
    updated_at_ms: i64,
}

impl TryFrom<OrderRow> for Order {
    type Error = StorageError;
    fn try_from(r: OrderRow) -> Result<Self> {
        let corrupt = |what: &str| StorageError::Corrupt(format!("order {}: {what}", r.id));
        let quote: Quote = serde_json::from_str(&r.quote_json).map_err(|_| corrupt("quote"))?;
        let business_date = r
            .business_date
            .parse()
            .map(BusinessDate::from_date)
            .map_err(|_| corrupt("business date"))?;
        let table = match (r.table_id, r.table_session_id) {
            (Some(table), Some(session)) => Some(OrderTable {
                table_id: TableId::from_uuid(table),
                session_id: TableSessionId::from_uuid(session),
                code: r.table_code.clone().unwrap_or_default(),
                area_name: r.area_name.clone().unwrap_or_default(),
            }),
            _ => None,
        };
        Ok(Order {
            id: OrderId::from_uuid(r.id),
            brand_id: BrandId::from_uuid(r.brand_id),
            store_id: StoreId::from_uuid(r.store_id),
            channel: Channel::parse(&r.channel).ok_or_else(|| corrupt("channel"))?,
            status: OrderStatus::parse(&r.status).ok_or_else(|| corrupt("status"))?,
            version: r.version,
            table,
            pickup_number: r.pickup_number,
            business_date,
            round: r.round,
            diners: r.diners,
            total: Money::from_fen(r.total_fen),
            quote,
            contact_sealed: r.contact_json,
            note: r.note,
            ready_by_ms: r.ready_by_ms,
            pay_by_ms: r.pay_by_ms,
            paid_at_ms: r.paid_at_ms,
            cancel_requested: r.cancel_requested,
            last_hurry_ms: r.last_hurry_ms,
            customer_id: r.customer_id.map(CustomerId::from_uuid),
            slot_start_ms: r.slot_start_ms,
            placed_at_ms: r.placed_at_ms,
            updated_at_ms: r.updated_at_ms,
        })
    }
}

/// Maps rows of a list: a row that cannot be read is logged and left out, so one bad order
/// never hides the others.
fn readable(rows: Vec<OrderRow>) -> Vec<Order> {
    rows.into_iter()
        .filter_map(|row| match Order::try_from(row) {
            Ok(order) => Some(order),
            Err(error) => {
                tracing::error!(%error, "an order row cannot be read; left out of the list");
                None
            }
        })
        .collect()
}

/// A sitting's orders as they are inside `tx` (after a change to them).
pub(crate) async fn session_orders_in(tx: &mut Tx, session: TableSessionId) -> Result<Vec<Order>> {
    let sql = select(WHERE_SESSION);
    let rows: Vec<OrderRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(session.as_uuid())
        .fetch_all(&mut *c)
        .await)?;
    Ok(readable(rows))
}

pub(crate) async fn order_in(tx: &mut Tx, id: OrderId) -> Result<Order> {
    let sql = select(WHERE_ID);
    let row: OrderRow = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id.as_uuid())
        .fetch_one(&mut *c)
        .await)?;
    row.try_into()
}

impl Db {
    pub async fn order(&self, id: OrderId) -> Result<Order> {
        let sql = select(WHERE_ID);
        let row: OrderRow = on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
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
    ) -> Result<Vec<Order>> {
        let sql = select(WHERE_STORE_DAY);
        let rows: Vec<OrderRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(brand.as_uuid())
                .bind(store.as_uuid())
                .bind(day.to_string())
                .fetch_all(p)
                .await)?;
        Ok(readable(rows))
    }

    /// The orders of `ids` that belong to the store, in no particular order (a board's events
    /// name orders; it wants them as they are now).
    pub async fn store_orders_by_ids(
        &self,
        brand: BrandId,
        store: StoreId,
        ids: &[OrderId],
    ) -> Result<Vec<Order>> {
        let mut orders = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(100) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = select(&format!(
                "WHERE brand_id = $1 AND store_id = $2 AND id IN ({})",
                list.join(", ")
            ));
            let rows: Vec<OrderRow> = on_pool!(self, |p| {
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                    .persistent(false)
                    .bind(brand.as_uuid())
                    .bind(store.as_uuid());
                for id in chunk {
                    query = query.bind(id.as_uuid());
                }
                query.fetch_all(p).await
            })?;
            orders.extend(readable(rows));
        }
        Ok(orders)
    }

    /// An order's status history, oldest first: who did what, when, and why if they said.
    pub async fn order_history(&self, id: OrderId) -> Result<Vec<OrderTransition>> {
        let rows: Vec<HistoryRow> = on_pool!(self, |p| sqlx::query_as(SELECT_HISTORY)
            .bind(id.as_uuid())
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(
                |(version, from_status, to_status, action, actor, at_ms, reason)| OrderTransition {
                    version,
                    from_status,
                    to_status,
                    action,
                    actor,
                    at_ms,
                    reason,
                },
            )
            .collect())
    }

    /// A diner's orders across the brand's stores, newest first (order history).
    pub async fn customer_orders(&self, customer: CustomerId) -> Result<Vec<Order>> {
        let sql = select(WHERE_CUSTOMER);
        let rows: Vec<OrderRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(customer.as_uuid())
                .fetch_all(p)
                .await)?;
        Ok(readable(rows))
    }

    /// The orders of every open sitting of the store, oldest first, in one query (the floor
    /// plan reads them at every change in the store).
    pub async fn open_sessions_orders(&self, brand: BrandId, store: StoreId) -> Result<Vec<Order>> {
        let sql = select(WHERE_OPEN_SESSIONS);
        let rows: Vec<OrderRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(brand.as_uuid())
                .bind(store.as_uuid())
                .fetch_all(p)
                .await)?;
        Ok(readable(rows))
    }

    pub async fn session_orders(&self, session: TableSessionId) -> Result<Vec<Order>> {
        let sql = select(WHERE_SESSION);
        let rows: Vec<OrderRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(session.as_uuid())
                .fetch_all(p)
                .await)?;
        Ok(readable(rows))
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
}
