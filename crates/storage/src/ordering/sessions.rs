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

impl Db {
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
        tx.commit().await?;
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
        tx.commit().await
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
