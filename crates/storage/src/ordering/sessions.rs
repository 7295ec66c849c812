//! Table sessions (开台 to 清台): at most one open per table; orders and the bill belong to it.

use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::tx::Tx;
use diancan_domain::*;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableSession {
    pub id: TableSessionId,
    pub table_id: TableId,
    pub store_id: StoreId,
    pub diners: Option<i64>,
    pub opened_at_ms: i64,
}

const INSERT_SESSION_IF_NONE: &str = "INSERT INTO table_sessions (id, brand_id, store_id, table_id, status, diners, opened_at_ms) VALUES ($1, $2, $3, $4, 'open', $5, $6)
    ON CONFLICT (table_id) WHERE status = 'open' DO NOTHING";
pub(crate) const SELECT_OPEN_SESSION: &str = "SELECT id, table_id, store_id, diners, opened_at_ms FROM table_sessions WHERE table_id = $1 AND status = 'open'";
const CLOSE_SESSION: &str = "UPDATE table_sessions SET status = 'closed', closed_at_ms = $3 WHERE table_id = $1 AND brand_id = $2 AND status = 'open'";

/// The table's open session, opening one inside `tx` when there is none (开台, or an order's
/// first scan, which then commits or rolls back with the order that needed it).
pub(crate) async fn open_session_in(
    tx: &mut Tx,
    brand: BrandId,
    store: StoreId,
    table: TableId,
    diners: Option<i64>,
    now_ms: i64,
) -> Result<TableSession> {
    on_tx!(tx, |c| sqlx::query(INSERT_SESSION_IF_NONE)
        .bind(TableSessionId::new().as_uuid())
        .bind(brand.as_uuid())
        .bind(store.as_uuid())
        .bind(table.as_uuid())
        .bind(diners)
        .bind(now_ms)
        .execute(&mut *c)
        .await
        .map(drop))?;
    let row: (Uuid, Uuid, Uuid, Option<i64>, i64) =
        on_tx!(tx, |c| sqlx::query_as(SELECT_OPEN_SESSION)
            .bind(table.as_uuid())
            .fetch_one(&mut *c)
            .await)?;
    Ok(session_from(row))
}

const SELECT_OPEN_IN_STORE: &str = "SELECT id, table_id, store_id, diners, opened_at_ms FROM table_sessions WHERE brand_id = $1 AND store_id = $2 AND status = 'open'";
const SELECT_TABLE_PLACE: &str = "SELECT t.code, a.name FROM dining_tables t JOIN areas a ON a.id = t.area_id WHERE t.id = $1 AND t.brand_id = $2 AND t.store_id = $3";
const MOVE_SESSION: &str = "UPDATE table_sessions SET table_id = $2 WHERE id = $1";
const MOVE_ORDERS: &str = "UPDATE orders SET table_id = $2, table_code = $3, area_name = $4, version = version + 1, updated_at_ms = $5 WHERE table_session_id = $1";
const JOIN_ORDERS: &str = "UPDATE orders SET table_session_id = $2, version = version + 1, updated_at_ms = $3 WHERE table_session_id = $1";
const CLOSE_SESSION_BY_ID: &str =
    "UPDATE table_sessions SET status = 'closed', closed_at_ms = $2 WHERE id = $1";

/// Why a table could not be moved or joined.
#[derive(Debug, thiserror::Error)]
pub enum TableMoveError {
    /// Either table is not in the store, or the first has nobody seated.
    #[error("no such table or sitting")]
    NotFound,
    /// 换台 needs an empty table to move to.
    #[error("the table to move to is taken")]
    TargetTaken,
    /// 并台 needs diners at both tables, and two different tables.
    #[error("the table to join has nobody seated")]
    TargetIdle,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for TableMoveError {
    fn from(error: sqlx::Error) -> Self {
        TableMoveError::Storage(error.into())
    }
}

async fn table_place(
    tx: &mut Tx,
    brand: BrandId,
    store: StoreId,
    table: TableId,
) -> std::result::Result<(String, String), TableMoveError> {
    let place: Option<(String, String)> = on_tx!(tx, |c| sqlx::query_as(SELECT_TABLE_PLACE)
        .bind(table.as_uuid())
        .bind(brand.as_uuid())
        .bind(store.as_uuid())
        .fetch_optional(&mut *c)
        .await)?;
    place.ok_or(TableMoveError::NotFound)
}

async fn open_session_at(
    tx: &mut Tx,
    store: StoreId,
    table: TableId,
) -> Result<Option<TableSession>> {
    let sql = format!("{SELECT_OPEN_SESSION}{}", crate::sql_batch::for_update(tx));
    let row: Option<(Uuid, Uuid, Uuid, Option<i64>, i64)> =
        on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(table.as_uuid())
            .fetch_optional(&mut *c)
            .await)?;
    Ok(row.map(session_from).filter(|s| s.store_id == store))
}

/// Wakes the store's floor plans (and boards) once the sitting change commits.
async fn announce_floor(tx: &mut Tx, store: StoreId, now_ms: i64) -> Result<()> {
    let channel = crate::events::store_channel(store);
    crate::outbox::enqueue(
        tx,
        &[crate::events::announcement(&channel, vec![channel.clone()])],
        now_ms,
    )
    .await
}

/// The ids of a sitting's orders inside `tx`.
async fn order_ids_of(tx: &mut Tx, session: TableSessionId) -> Result<Vec<OrderId>> {
    Ok(super::orders::session_orders_in(tx, session)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect())
}

/// The events, board entries and announcements of the orders `moved` (now in `session`),
/// each at the version the move gave it.
async fn record_moved(
    tx: &mut Tx,
    store: StoreId,
    session: TableSessionId,
    moved: &[OrderId],
    action: &str,
    now_ms: i64,
) -> Result<()> {
    use crate::events::{announcement, order_stream, store_channel};
    use crate::sql_batch::{Value, insert_rows};
    use diancan_domain::ordering::OrderEventKind;
    let orders: Vec<_> = super::orders::session_orders_in(tx, session)
        .await?
        .into_iter()
        .filter(|o| moved.contains(&o.id))
        .collect();
    let kind = OrderEventKind::TableChanged.as_str();
    let mut events = Vec::with_capacity(orders.len());
    let mut outbox = Vec::with_capacity(orders.len() * 2 + 1);
    for order in &orders {
        let stream = order_stream(order.id);
        events.push(vec![
            Value::Text(stream.clone()),
            Value::Int(order.version),
            Value::Text(kind.into()),
            Value::Text(super::changes::event_payload(order, action, None).to_string()),
            Value::Int(now_ms),
        ]);
        outbox.push(announcement(&stream, vec![stream.clone()]));
        outbox.push(super::board::board_entry(order, kind, action, None));
    }
    outbox.push(announcement(
        &store_channel(store),
        vec![store_channel(store)],
    ));
    if !events.is_empty() {
        insert_rows(
            tx,
            "INSERT INTO events (stream, stream_version, kind, payload_json, created_at_ms)",
            "",
            events,
        )
        .await?;
    }
    crate::outbox::enqueue(tx, &outbox, now_ms).await
}

impl Db {
    /// The store's open sittings (the floor plan).
    pub async fn open_table_sessions(
        &self,
        brand: BrandId,
        store: StoreId,
    ) -> Result<Vec<TableSession>> {
        let rows: Vec<(Uuid, Uuid, Uuid, Option<i64>, i64)> =
            on_pool!(self, |p| sqlx::query_as(SELECT_OPEN_IN_STORE)
                .bind(brand.as_uuid())
                .bind(store.as_uuid())
                .fetch_all(p)
                .await)?;
        Ok(rows.into_iter().map(session_from).collect())
    }

    /// 换台: the sitting at `from` moves to the empty table `to`, with its orders (which from
    /// now on name the new table, so dishes still coming are served there), their kitchen
    /// tickets (relabelled on every screen), the cart they were still choosing, and its bill.
    pub async fn move_table_session(
        &self,
        brand: BrandId,
        store: StoreId,
        from: TableId,
        to: TableId,
        now_ms: i64,
    ) -> std::result::Result<TableSession, TableMoveError> {
        let mut tx = self.begin().await?;
        let (code, area) = table_place(&mut tx, brand, store, to).await?;
        table_place(&mut tx, brand, store, from).await?;
        let session = open_session_at(&mut tx, store, from)
            .await?
            .ok_or(TableMoveError::NotFound)?;
        if from == to || open_session_at(&mut tx, store, to).await?.is_some() {
            return Err(TableMoveError::TargetTaken);
        }
        // The one-open-sitting-per-table index refuses a sitting that opened at `to` meanwhile.
        on_tx!(&mut tx, |c| sqlx::query(MOVE_SESSION)
            .bind(session.id.as_uuid())
            .bind(to.as_uuid())
            .execute(&mut *c)
            .await
            .map(drop))
        .map_err(|e| match StorageError::from(e) {
            StorageError::Conflict { .. } => TableMoveError::TargetTaken,
            other => TableMoveError::Storage(other),
        })?;
        let moved = order_ids_of(&mut tx, session.id).await?;
        on_tx!(&mut tx, |c| sqlx::query(MOVE_ORDERS)
            .bind(session.id.as_uuid())
            .bind(to.as_uuid())
            .bind(&code)
            .bind(&area)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        crate::kitchen::relabel_orders_in(&mut tx, store, &moved, &code, now_ms).await?;
        crate::carts::move_cart_in(&mut tx, store, from, to, now_ms).await?;
        record_moved(&mut tx, store, session.id, &moved, "transfer", now_ms).await?;
        tx.commit().await?;
        self.outbox_bell().notify_one();
        Ok(TableSession {
            table_id: to,
            ..session
        })
    }

    /// 并台: the sitting at `from` joins the one at `into`: its orders (keeping the table they
    /// are served at) go on that bill, and `from` is free again.
    pub async fn merge_table_sessions(
        &self,
        brand: BrandId,
        store: StoreId,
        from: TableId,
        into: TableId,
        now_ms: i64,
    ) -> std::result::Result<TableSession, TableMoveError> {
        let mut tx = self.begin().await?;
        table_place(&mut tx, brand, store, from).await?;
        table_place(&mut tx, brand, store, into).await?;
        if from == into {
            return Err(TableMoveError::TargetIdle);
        }
        let joining = open_session_at(&mut tx, store, from)
            .await?
            .ok_or(TableMoveError::NotFound)?;
        let kept = open_session_at(&mut tx, store, into)
            .await?
            .ok_or(TableMoveError::TargetIdle)?;
        let moved = order_ids_of(&mut tx, joining.id).await?;
        on_tx!(&mut tx, |c| sqlx::query(JOIN_ORDERS)
            .bind(joining.id.as_uuid())
            .bind(kept.id.as_uuid())
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        on_tx!(&mut tx, |c| sqlx::query(CLOSE_SESSION_BY_ID)
            .bind(joining.id.as_uuid())
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        record_moved(&mut tx, store, kept.id, &moved, "merge", now_ms).await?;
        tx.commit().await?;
        self.outbox_bell().notify_one();
        Ok(kept)
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
        let session = open_session_in(&mut tx, brand, store, table, diners, now_ms).await?;
        announce_floor(&mut tx, store, now_ms).await?;
        tx.commit().await?;
        self.outbox_bell().notify_one();
        Ok(session)
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
        let store: Option<(Uuid,)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT store_id FROM dining_tables WHERE id = $1"
        )
        .bind(table.as_uuid())
        .fetch_optional(&mut *c)
        .await)?;
        if let Some((store,)) = store {
            announce_floor(&mut tx, StoreId::from_uuid(store), now_ms).await?;
        }
        tx.commit().await?;
        self.outbox_bell().notify_one();
        Ok(())
    }
}

pub(crate) fn session_from(
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
