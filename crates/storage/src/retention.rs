//! What the database forgets on purpose: idempotency keys after a day, login throttles after
//! their window, delivered outbox rows after a week, the live events of orders finished long
//! ago, a store's board, kitchen and printer streams after a few days, and print jobs that
//! ended a month ago. An open order's event stream is never touched.
//!
//! A store stream's versions come from its own counter (`order_board_streams`,
//! `kitchen_streams`, `printing_streams`), so forgetting old events never reuses a version; a
//! screen that asks for events older than the oldest kept one is told to reload its state
//! (`web::live` sends `reset` when the log skips versions).

use crate::db::Db;
use crate::error::Result;
use crate::events::{kitchen_stream, orders_stream};
use crate::printing::printing_stream;
use diancan_domain::StoreId;

/// How long each kind of row is kept, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub idempotency_keys_ms: i64,
    pub login_throttles_ms: i64,
    pub delivered_outbox_ms: i64,
    /// Events of orders completed or cancelled longer ago than this.
    pub finished_order_events_ms: i64,
    /// Board, kitchen and printer events of every store (a screen offline longer reloads).
    pub store_stream_events_ms: i64,
    /// Print jobs printed or failed longer ago than this (the console's print history).
    pub finished_print_jobs_ms: i64,
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl Default for Retention {
    fn default() -> Self {
        Retention {
            idempotency_keys_ms: DAY_MS,
            login_throttles_ms: DAY_MS,
            delivered_outbox_ms: 7 * DAY_MS,
            finished_order_events_ms: 30 * DAY_MS,
            store_stream_events_ms: 3 * DAY_MS,
            finished_print_jobs_ms: 30 * DAY_MS,
        }
    }
}

/// Rows removed by one sweep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub idempotency_keys: u64,
    pub login_throttles: u64,
    pub outbox_rows: u64,
    pub events: u64,
    pub store_stream_events: u64,
    pub print_jobs: u64,
}

const PURGE_KEYS: &str = "DELETE FROM idempotency_keys WHERE created_at_ms < $1";
const PURGE_THROTTLES: &str = "DELETE FROM login_throttle WHERE window_started_ms < $1";
const PURGE_OUTBOX: &str =
    "DELETE FROM outbox WHERE delivered_at_ms IS NOT NULL AND delivered_at_ms < $1";
/// Order streams are named `order:<id>` (see `events.rs`); only finished orders qualify.
const PURGE_EVENTS_POSTGRES: &str = "DELETE FROM events WHERE stream IN (
    SELECT 'order:' || id::text FROM orders WHERE status IN ('completed', 'cancelled') AND updated_at_ms < $1)";
const PURGE_EVENTS_SQLITE: &str = "DELETE FROM events WHERE stream IN (
    SELECT 'order:' || lower(substr(hex(id), 1, 8) || '-' || substr(hex(id), 9, 4) || '-' || substr(hex(id), 13, 4) || '-'
        || substr(hex(id), 17, 4) || '-' || substr(hex(id), 21, 12))
    FROM orders WHERE status IN ('completed', 'cancelled') AND updated_at_ms < $1)";
/// One store stream at a time, so the delete walks the `(stream, stream_version)` index.
const PURGE_STREAM: &str = "DELETE FROM events WHERE stream = $1 AND created_at_ms < $2";
const STORES: &str = "SELECT id FROM stores";
/// A job another job reprints stays until that reprint goes too (it points at it).
const PURGE_PRINT_JOBS: &str =
    "DELETE FROM print_jobs WHERE state IN ('printed', 'failed') AND updated_at_ms < $1
    AND NOT EXISTS (SELECT 1 FROM print_jobs AS later WHERE later.reprint_of = print_jobs.id)";

impl Db {
    /// One sweep; each kind in its own short transaction, so a sweep never holds the writer long.
    pub async fn purge_expired(&self, now_ms: i64, keep: &Retention) -> Result<Purged> {
        let events = match self {
            Db::Sqlite { .. } => PURGE_EVENTS_SQLITE,
            Db::Postgres { .. } => PURGE_EVENTS_POSTGRES,
        };
        Ok(Purged {
            idempotency_keys: self
                .delete(PURGE_KEYS, now_ms - keep.idempotency_keys_ms)
                .await?,
            login_throttles: self
                .delete(PURGE_THROTTLES, now_ms - keep.login_throttles_ms)
                .await?,
            outbox_rows: self
                .delete(PURGE_OUTBOX, now_ms - keep.delivered_outbox_ms)
                .await?,
            events: self
                .delete(events, now_ms - keep.finished_order_events_ms)
                .await?,
            store_stream_events: self
                .purge_store_streams(now_ms - keep.store_stream_events_ms)
                .await?,
            print_jobs: self
                .delete(PURGE_PRINT_JOBS, now_ms - keep.finished_print_jobs_ms)
                .await?,
        })
    }

    async fn purge_store_streams(&self, before_ms: i64) -> Result<u64> {
        let stores: Vec<(uuid::Uuid,)> =
            on_pool!(self, |p| sqlx::query_as(STORES).fetch_all(p).await)?;
        let mut removed = 0;
        for (store,) in stores {
            let store = StoreId::from_uuid(store);
            for stream in [
                orders_stream(store),
                kitchen_stream(store),
                printing_stream(store),
            ] {
                let mut tx = self.begin().await?;
                removed += on_tx!(&mut tx, |c| sqlx::query(PURGE_STREAM)
                    .bind(&stream)
                    .bind(before_ms)
                    .execute(&mut *c)
                    .await
                    .map(|r| r.rows_affected()))?;
                tx.commit().await?;
            }
        }
        Ok(removed)
    }

    async fn delete(&self, sql: &'static str, before_ms: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let removed = on_tx!(&mut tx, |c| sqlx::query(sql)
            .bind(before_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(removed)
    }
}
