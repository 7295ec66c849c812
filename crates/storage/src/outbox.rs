//! The transactional outbox. A change writes the side effects it causes as rows in its own
//! transaction, so they are never sent for a change that rolled back and never lost for one
//! that committed. A worker leases due rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so instances
//! never take the same row; SQLite: the single writer), hands them to their consumer, and marks
//! them delivered, or due again later with the error. Delivery is at least once: a consumer
//! deduplicates by the row's id.

use crate::db::Db;
use crate::error::Result;
use crate::sql_batch::{ROWS_PER_STATEMENT, Value, insert_rows, placeholders};
use crate::tx::Tx;
use serde::Serialize;

/// A side effect to deliver after the change commits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    /// Which consumer takes it ("announce", and later "print", "notify", "webhook", …).
    pub topic: &'static str,
    /// What it is about ("order:<id>"), for logs and deduplication.
    pub subject: Option<String>,
    pub payload: serde_json::Value,
}

/// A leased row, handed to its consumer.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub id: i64,
    pub topic: String,
    pub subject: Option<String>,
    pub payload_json: String,
    /// 1 on the first delivery.
    pub attempt: i64,
}

/// What became of one leased row: delivered, or due again at a time with the error.
pub type Settlement = std::result::Result<(), (i64, String)>;

/// The state of the outbox, for health checks and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxCounts {
    pub pending: i64,
    pub delivered: i64,
    /// Rows that failed at least once and are waiting to be tried again.
    pub retrying: i64,
}

const CLAIM_POSTGRES: &str = "UPDATE outbox SET leased_until_ms = $2, attempts = attempts + 1
    WHERE id IN (SELECT id FROM outbox
        WHERE delivered_at_ms IS NULL AND available_at_ms <= $1 AND (leased_until_ms IS NULL OR leased_until_ms <= $1)
        ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
    RETURNING id, topic, subject, payload_json, attempts";
const CLAIM_SQLITE: &str = "UPDATE outbox SET leased_until_ms = $2, attempts = attempts + 1
    WHERE id IN (SELECT id FROM outbox
        WHERE delivered_at_ms IS NULL AND available_at_ms <= $1 AND (leased_until_ms IS NULL OR leased_until_ms <= $1)
        ORDER BY id LIMIT $3)
    RETURNING id, topic, subject, payload_json, attempts";
const MARK_DELIVERED: &str = "UPDATE outbox SET delivered_at_ms";
const MARK_FAILED: &str = "UPDATE outbox SET available_at_ms = $2, leased_until_ms = NULL, last_error = $3 WHERE id = $1 AND delivered_at_ms IS NULL";
const COUNTS: &str = "SELECT
        COALESCE(SUM(CASE WHEN delivered_at_ms IS NULL THEN 1 ELSE 0 END), 0),
        COALESCE(SUM(CASE WHEN delivered_at_ms IS NOT NULL THEN 1 ELSE 0 END), 0),
        COALESCE(SUM(CASE WHEN delivered_at_ms IS NULL AND last_error IS NOT NULL THEN 1 ELSE 0 END), 0)
    FROM outbox";
/// A leased row is due again only when its lease runs out.
const NEXT_DUE: &str = "SELECT MIN(CASE WHEN leased_until_ms > available_at_ms THEN leased_until_ms ELSE available_at_ms END)
    FROM outbox WHERE delivered_at_ms IS NULL";

/// Writes `entries` inside the transaction of the change that causes them.
pub(crate) async fn enqueue(tx: &mut Tx, entries: &[OutboxEntry], now_ms: i64) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows = entries
        .iter()
        .map(|e| {
            vec![
                Value::Text(e.topic.to_owned()),
                Value::MaybeText(e.subject.clone()),
                Value::Text(e.payload.to_string()),
                Value::Int(now_ms),
                Value::Int(now_ms),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "INSERT INTO outbox (topic, subject, payload_json, created_at_ms, available_at_ms)",
        "",
        rows,
    )
    .await
}

/// Marks rows delivered inside `tx`, returning those that were not yet: a consumer that
/// applies rows in the same transaction applies each once, even when a lease ran out and two
/// workers hold the same row (the second waits on the first's row lock, then finds it done).
pub(crate) async fn mark_delivered(tx: &mut Tx, ids: &[i64], now_ms: i64) -> Result<Vec<i64>> {
    let mut marked = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let first = match tx {
            Tx::Sqlite(_) => "?",
            Tx::Postgres(_) => "$1",
        };
        let sql = format!(
            "{MARK_DELIVERED} = {first}, leased_until_ms = NULL, last_error = NULL WHERE delivered_at_ms IS NULL AND id IN {} RETURNING id",
            placeholders(tx, 2, 1, chunk.len())
        );
        let values: Vec<Value> = std::iter::once(Value::Int(now_ms))
            .chain(chunk.iter().map(|id| Value::Int(*id)))
            .collect();
        let rows: Vec<(i64,)> = on_tx!(tx, |c| bind_values!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).persistent(false),
            values.iter()
        )
        .fetch_all(&mut *c)
        .await)?;
        marked.extend(rows.into_iter().map(|(id,)| id));
    }
    Ok(marked)
}

impl Db {
    /// Writes side effects that belong to no other change (a test, a console action) in a
    /// transaction of their own.
    pub async fn enqueue_outbox(&self, entries: &[OutboxEntry], now_ms: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        enqueue(&mut tx, entries, now_ms).await?;
        tx.commit().await?;
        self.outbox_bell().notify_one();
        Ok(())
    }

    /// Leases up to `limit` due rows for `lease_ms`, oldest first. A worker that dies holding a
    /// lease simply lets it run out; the rows are then due again.
    pub async fn claim_outbox(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>> {
        let mut tx = self.begin().await?;
        let sql = match tx {
            Tx::Sqlite(_) => CLAIM_SQLITE,
            Tx::Postgres(_) => CLAIM_POSTGRES,
        };
        let rows: Vec<(i64, String, Option<String>, String, i64)> =
            on_tx!(&mut tx, |c| sqlx::query_as(sql)
                .bind(now_ms)
                .bind(now_ms + lease_ms)
                .bind(limit)
                .fetch_all(&mut *c)
                .await)?;
        tx.commit().await?;
        let mut messages: Vec<OutboxMessage> = rows
            .into_iter()
            .map(
                |(id, topic, subject, payload_json, attempt)| OutboxMessage {
                    id,
                    topic,
                    subject,
                    payload_json,
                    attempt,
                },
            )
            .collect();
        messages.sort_by_key(|m| m.id);
        Ok(messages)
    }

    /// Records what became of leased rows: delivered (`Ok`), or due again at the given time
    /// with the error (`Err`). One transaction for the whole lot.
    pub async fn settle_outbox(&self, outcomes: &[(i64, Settlement)], now_ms: i64) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        let delivered: Vec<i64> = outcomes
            .iter()
            .filter(|(_, outcome)| outcome.is_ok())
            .map(|(id, _)| *id)
            .collect();
        mark_delivered(&mut tx, &delivered, now_ms).await?;
        for (id, outcome) in outcomes {
            if let Err((retry_at_ms, error)) = outcome {
                on_tx!(&mut tx, |c| sqlx::query(MARK_FAILED)
                    .bind(id)
                    .bind(retry_at_ms)
                    .bind(error.chars().take(500).collect::<String>())
                    .execute(&mut *c)
                    .await
                    .map(drop))?;
            }
        }
        tx.commit().await
    }

    pub async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let (pending, delivered, retrying): (i64, i64, i64) =
            on_pool!(self, |p| sqlx::query_as(COUNTS).fetch_one(p).await)?;
        Ok(OutboxCounts {
            pending,
            delivered,
            retrying,
        })
    }

    /// When the earliest undelivered row is due, if any: how long the worker may sleep.
    pub async fn next_outbox_due(&self) -> Result<Option<i64>> {
        let (due,): (Option<i64>,) =
            on_pool!(self, |p| sqlx::query_as(NEXT_DUE).fetch_one(p).await)?;
        Ok(due)
    }
}
