//! The orders board's store-wide log (`orders:<store>`). An order change does not write to it:
//! that would make every order write of a store queue on one row. It writes an outbox row of
//! topic [`BOARD_TOPIC`] instead, in its own transaction; the outbox consumer then appends a
//! whole batch of them to their stores' logs in one transaction, numbered without gaps from
//! `order_board_streams`, and marks those rows delivered in the same transaction, so each
//! change reaches the log exactly once even when two workers hold the same row.

use crate::db::Db;
use crate::error::Result;
use crate::events::orders_stream;
use crate::outbox::{OutboxEntry, OutboxMessage, mark_delivered};
use crate::sql_batch::{Value, insert_rows};
use diancan_domain::ordering::Order;
use diancan_domain::{OrderId, StoreId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The outbox topic whose rows the board log is made of.
pub const BOARD_TOPIC: &str = "board";

const BUMP_STREAM: &str = "INSERT INTO order_board_streams (store_id, version) VALUES ($1, $2)
    ON CONFLICT (store_id) DO UPDATE SET version = order_board_streams.version + $2 RETURNING version";
const STREAM_VERSION: &str = "SELECT version FROM order_board_streams WHERE store_id = $1";

/// One change of one order as the board's log records it: which order, at which of its
/// versions, and what happened. Boards fetch nothing per event: the stream sends the order as
/// it is now alongside.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardChange {
    pub store_id: StoreId,
    pub order_id: OrderId,
    pub order_version: i64,
    /// The order event's kind (`order.placed`, `order.status`, `order.hurry`, …).
    pub kind: String,
    /// What was done (`place`, `accept`, `cancel`, `hurry`, …).
    pub action: String,
    pub status: String,
    /// Why staff turned the order down, when they did (or why its delivery failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The state of the order's delivery, when the change was one of its steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_state: Option<String>,
}

/// The outbox row announcing `order`'s change to its store's board.
pub(crate) fn board_entry(
    order: &Order,
    kind: &str,
    action: &str,
    reason: Option<&str>,
) -> OutboxEntry {
    let change = BoardChange {
        store_id: order.store_id,
        order_id: order.id,
        order_version: order.version,
        kind: kind.to_owned(),
        action: action.to_owned(),
        status: order.status.as_str().to_owned(),
        reason: reason.map(str::to_owned),
        delivery_state: None,
    };
    OutboxEntry {
        topic: BOARD_TOPIC,
        subject: Some(format!("order:{}", order.id)),
        payload: serde_json::to_value(change).unwrap_or_default(),
    }
}

impl Db {
    /// Appends the changes of leased `board` rows to their stores' logs and marks the rows
    /// delivered, in one transaction. Rows another worker already applied are skipped; a row
    /// that cannot be read is marked delivered and logged (retrying would not make it
    /// readable). Returns the streams that grew, to be announced once this commits.
    pub async fn append_to_boards(
        &self,
        messages: &[&OutboxMessage],
        now_ms: i64,
    ) -> Result<Vec<String>> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin().await?;
        let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
        let fresh = mark_delivered(&mut tx, &ids, now_ms).await?;
        // Per store, in row order, so each store's log follows the order the changes were
        // written in as far as one batch can tell.
        let mut by_store: BTreeMap<StoreId, Vec<BoardChange>> = BTreeMap::new();
        for message in messages.iter().filter(|m| fresh.contains(&m.id)) {
            match serde_json::from_str::<BoardChange>(&message.payload_json) {
                Ok(change) => by_store.entry(change.store_id).or_default().push(change),
                Err(error) => {
                    tracing::error!(%error, id = message.id, "unreadable board change; dropped")
                }
            }
        }
        let mut grown = Vec::with_capacity(by_store.len());
        let mut rows = Vec::new();
        // Stores in id order: two workers' transactions take the stream rows in one order.
        for (store, changes) in &by_store {
            let count = changes.len() as i64;
            let (last,): (i64,) = on_tx!(&mut tx, |c| sqlx::query_as(BUMP_STREAM)
                .bind(store.as_uuid())
                .bind(count)
                .fetch_one(&mut *c)
                .await)?;
            let stream = orders_stream(*store);
            for (offset, change) in changes.iter().enumerate() {
                rows.push(vec![
                    Value::Text(stream.clone()),
                    Value::Int(last - count + 1 + offset as i64),
                    Value::Text(change.kind.clone()),
                    Value::Text(serde_json::to_string(change).unwrap_or_default()),
                    Value::Int(now_ms),
                ]);
            }
            grown.push(stream);
        }
        if !rows.is_empty() {
            insert_rows(
                &mut tx,
                "INSERT INTO events (stream, stream_version, kind, payload_json, created_at_ms)",
                "",
                rows,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(grown)
    }

    /// The last version of a store's board log (0 before its first order): where a board that
    /// just read today's orders starts following.
    pub async fn board_stream_version(&self, store: StoreId) -> Result<i64> {
        let row: Option<(i64,)> = on_pool!(self, |p| sqlx::query_as(STREAM_VERSION)
            .bind(store.as_uuid())
            .fetch_optional(p)
            .await)?;
        Ok(row.map_or(0, |(v,)| v))
    }
}
