//! The durable event log that live streams replay from, and the announcements that wake them:
//! on PostgreSQL a NOTIFY reaches every instance; SQLite is one process, whose streams are
//! woken in memory by the caller.

use crate::db::Db;
use crate::error::Result;
use crate::outbox::OutboxEntry;
use crate::tx::Tx;
use diancan_domain::{OrderId, StoreId, TableId};
use serde::Serialize;

/// One entry of the durable event log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    pub stream_version: i64,
    pub kind: String,
    pub payload_json: String,
    pub created_at_ms: i64,
}

/// The live stream of one order (the diner's order page).
pub fn order_stream(id: OrderId) -> String {
    format!("order:{id}")
}

/// The shared cart of one table.
pub fn cart_stream(table: TableId) -> String {
    format!("cart:{table}")
}

/// Every order of a store (the orders board, the kitchen): a wake-up channel, not a log.
pub fn store_channel(store: StoreId) -> String {
    format!("store:{store}")
}

/// Every order change of a store, numbered per store (the orders board replays it).
pub fn orders_stream(store: StoreId) -> String {
    format!("orders:{store}")
}

/// A store's kitchen: every ticket change, numbered per store (the kitchen screens replay it).
pub fn kitchen_stream(store: StoreId) -> String {
    format!("kitchen:{store}")
}

/// Announced when a store's public menu changed (stock, 沽清): every instance drops its copy.
pub fn menu_channel(store: StoreId) -> String {
    format!("menu:{store}")
}

/// Announced after a listener reconnects: whatever was announced meanwhile is unknown, so every
/// stream reads its log again.
pub const EVERY_STREAM: &str = "*";

const INSERT_EVENT: &str = "INSERT INTO events (stream, stream_version, kind, payload_json, created_at_ms) VALUES ($1, $2, $3, $4, $5)";
const SELECT_EVENTS: &str = "SELECT stream_version, kind, payload_json, created_at_ms FROM events WHERE stream = $1 AND stream_version > $2 ORDER BY stream_version LIMIT 500";
/// The channel announcements travel on (PostgreSQL).
const ANNOUNCE_CHANNEL: &str = "diancan_events";
const NOTIFY_EACH: &str =
    "SELECT pg_notify('diancan_events', name) FROM unnest($1::text[]) AS name";

/// The outbox topic whose rows wake live streams and drop cached menus on every instance.
pub const ANNOUNCE: &str = "announce";

/// An outbox row announcing `names` (streams and channels) once the change commits.
pub(crate) fn announcement(subject: &str, names: Vec<String>) -> OutboxEntry {
    OutboxEntry {
        topic: ANNOUNCE,
        subject: Some(subject.to_owned()),
        payload: serde_json::json!({ "names": names }),
    }
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
        .map(drop))?;
    Ok(())
}

impl Db {
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

    /// Tells every instance's listeners (PostgreSQL NOTIFY, this one's included) that these
    /// streams or channels changed. A no-op on SQLite, where the caller wakes its own readers.
    pub async fn announce(&self, names: &[String]) -> Result<()> {
        if let Db::Postgres { pool, .. } = self
            && !names.is_empty()
        {
            sqlx::query(NOTIFY_EACH).bind(names).execute(pool).await?;
        }
        Ok(())
    }

    /// Calls `woke` with each announced name from any instance (PostgreSQL LISTEN; reconnects by
    /// itself and then calls `woke(EVERY_STREAM)`, since announcements made while it was away
    /// are lost). Does nothing on SQLite. Returns once the first LISTEN is in place (or has
    /// failed and is being retried), so a caller that starts serving afterwards misses nothing.
    pub async fn listen_for_announcements(&self, woke: impl Fn(&str) + Send + 'static) {
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
                    if listening.is_some() {
                        woke(EVERY_STREAM);
                    }
                    continue;
                };
                loop {
                    match listener.try_recv().await {
                        Ok(Some(notification)) => woke(notification.payload()),
                        // The connection dropped; the listener reconnects on the next call.
                        Ok(None) => woke(EVERY_STREAM),
                        Err(error) => {
                            tracing::warn!(%error, "announcements interrupted; listening again");
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
        listener.listen(ANNOUNCE_CHANNEL).await?;
        Ok::<_, sqlx::Error>(listener)
    };
    match attempt.await {
        Ok(listener) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "cannot listen for announcements; retrying");
            None
        }
    }
}
