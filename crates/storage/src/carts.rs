//! The shared cart of a table: everyone who scans the same table code edits one cart.
//! Each change bumps the cart's version and appends an event, so every phone converges on the
//! same lines, in the same order, and a phone back from a minute offline catches up.

use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::events::{announcement, append_event, cart_stream};
use crate::tx::Tx;
use diancan_domain::{CartLineId, StoreId, TableId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartLineRecord {
    pub id: CartLineId,
    /// The diner's selection as sent (spec, options, combo choices, note), opaque here.
    pub line: serde_json::Value,
    pub quantity: i64,
    /// Who added it, as they named themselves ("小王", "Table guest 2").
    pub added_by: String,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartSnapshot {
    pub table_id: TableId,
    pub version: i64,
    pub lines: Vec<CartLineRecord>,
}

/// One edit. Quantities are absolute, so replaying an edit after a reconnect changes nothing more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CartChange {
    Put {
        line_id: CartLineId,
        line: serde_json::Value,
        quantity: i64,
        added_by: String,
    },
    SetQuantity {
        line_id: CartLineId,
        quantity: i64,
    },
    Remove {
        line_id: CartLineId,
    },
    Clear,
}

const ENSURE_CART: &str =
    "INSERT INTO table_carts (table_id, store_id, version, updated_at_ms) VALUES ($1, $2, 0, $3)
    ON CONFLICT (table_id) DO NOTHING";
const BUMP_CART: &str = "UPDATE table_carts SET version = version + 1, updated_at_ms = $2 WHERE table_id = $1 RETURNING version";
const SELECT_VERSION: &str = "SELECT version FROM table_carts WHERE table_id = $1";
const SELECT_LINES: &str = "SELECT id, line_json, quantity, added_by, updated_at_ms FROM cart_lines WHERE table_id = $1 ORDER BY id";
const UPSERT_LINE: &str = "INSERT INTO cart_lines (id, table_id, line_json, quantity, added_by, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (id) DO UPDATE SET line_json = excluded.line_json, quantity = excluded.quantity, updated_at_ms = excluded.updated_at_ms
    WHERE cart_lines.table_id = excluded.table_id";
const SET_QUANTITY: &str =
    "UPDATE cart_lines SET quantity = $3, updated_at_ms = $4 WHERE id = $1 AND table_id = $2";
const DELETE_LINE: &str = "DELETE FROM cart_lines WHERE id = $1 AND table_id = $2";
const CLEAR_LINES: &str = "DELETE FROM cart_lines WHERE table_id = $1";
const COUNT_OTHER_LINES: &str = "SELECT COUNT(*) FROM cart_lines WHERE table_id = $1 AND id <> $2";

/// Lines one table's cart may hold: a whole table's order with room to spare, and a bound on
/// what every phone at the table reloads.
pub const MAX_CART_LINES: i64 = 60;

/// Why a cart change is refused: the code the web edge answers with.
pub const CART_FULL: &str = "CART_FULL";

type LineRow = (Uuid, String, i64, String, i64);

fn line_from(
    (id, line_json, quantity, added_by, updated_at_ms): LineRow,
) -> Result<CartLineRecord> {
    Ok(CartLineRecord {
        id: CartLineId::from_uuid(id),
        line: serde_json::from_str(&line_json)?,
        quantity,
        added_by,
        updated_at_ms,
    })
}

async fn exec(tx: &mut Tx, sql: &'static str, binds: (Uuid, Uuid)) -> Result<u64> {
    Ok(on_tx!(tx, |c| sqlx::query(sql)
        .bind(binds.0)
        .bind(binds.1)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?)
}

/// Applies one change inside `tx` and records it; used by the cart API and by order placement.
pub(crate) async fn apply_in(
    tx: &mut Tx,
    store: StoreId,
    table: TableId,
    change: &CartChange,
    now_ms: i64,
) -> Result<i64> {
    on_tx!(tx, |c| sqlx::query(ENSURE_CART)
        .bind(table.as_uuid())
        .bind(store.as_uuid())
        .bind(now_ms)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    // Bumping first takes the cart's row lock, which serializes every writer of this cart.
    let (version,): (i64,) = on_tx!(tx, |c| sqlx::query_as(BUMP_CART)
        .bind(table.as_uuid())
        .bind(now_ms)
        .fetch_one(&mut *c)
        .await)?;
    match change {
        CartChange::Put {
            line_id,
            line,
            quantity,
            added_by,
        } => {
            // Counted under the cart's row lock taken above, so parallel adds cannot all see room.
            let (others,): (i64,) = on_tx!(tx, |c| sqlx::query_as(COUNT_OTHER_LINES)
                .bind(table.as_uuid())
                .bind(line_id.as_uuid())
                .fetch_one(&mut *c)
                .await)?;
            if others >= MAX_CART_LINES {
                return Err(StorageError::Refused(CART_FULL));
            }
            let changed = on_tx!(tx, |c| sqlx::query(UPSERT_LINE)
                .bind(line_id.as_uuid())
                .bind(table.as_uuid())
                .bind(line.to_string())
                .bind(*quantity)
                .bind(added_by)
                .bind(now_ms)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?;
            if changed == 0 {
                return Err(StorageError::NotFound);
            }
        }
        CartChange::SetQuantity { line_id, quantity } => {
            on_tx!(tx, |c| sqlx::query(SET_QUANTITY)
                .bind(line_id.as_uuid())
                .bind(table.as_uuid())
                .bind(*quantity)
                .bind(now_ms)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        CartChange::Remove { line_id } => {
            exec(tx, DELETE_LINE, (line_id.as_uuid(), table.as_uuid())).await?;
        }
        CartChange::Clear => {
            on_tx!(tx, |c| sqlx::query(CLEAR_LINES)
                .bind(table.as_uuid())
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?;
        }
    }
    let payload = serde_json::to_value(change)?;
    let stream = cart_stream(table);
    append_event(tx, &stream, version, "cart.changed", &payload, now_ms).await?;
    crate::outbox::enqueue(tx, &[announcement(&stream, vec![stream.clone()])], now_ms).await?;
    Ok(version)
}

/// 换台: the lines the diners at `from` were still choosing follow them to `to`, inside the
/// transfer's transaction: `from`'s cart is cleared and each line arrives at `to` as an add,
/// so phones at either table converge through the changes they already understand. Lines
/// already at `to` stay (nothing anyone chose is dropped).
pub(crate) async fn move_cart_in(
    tx: &mut Tx,
    store: StoreId,
    from: TableId,
    to: TableId,
    now_ms: i64,
) -> Result<()> {
    let rows: Vec<LineRow> = on_tx!(tx, |c| sqlx::query_as(SELECT_LINES)
        .bind(from.as_uuid())
        .fetch_all(&mut *c)
        .await)?;
    if rows.is_empty() {
        return Ok(());
    }
    let lines = rows
        .into_iter()
        .map(line_from)
        .collect::<Result<Vec<_>>>()?;
    apply_in(tx, store, from, &CartChange::Clear, now_ms).await?;
    for line in lines {
        let put = CartChange::Put {
            line_id: line.id,
            line: line.line,
            quantity: line.quantity,
            added_by: line.added_by,
        };
        apply_in(tx, store, to, &put, now_ms).await?;
    }
    Ok(())
}

impl Db {
    pub async fn cart(&self, table: TableId) -> Result<CartSnapshot> {
        let (version, rows): (Option<(i64,)>, Vec<LineRow>) = on_pool!(self, |p| {
            let version = sqlx::query_as(SELECT_VERSION)
                .bind(table.as_uuid())
                .fetch_optional(p)
                .await?;
            let rows = sqlx::query_as(SELECT_LINES)
                .bind(table.as_uuid())
                .fetch_all(p)
                .await?;
            Ok::<_, sqlx::Error>((version, rows))
        })?;
        Ok(CartSnapshot {
            table_id: table,
            version: version.map(|(v,)| v).unwrap_or(0),
            lines: rows.into_iter().map(line_from).collect::<Result<_>>()?,
        })
    }

    pub async fn change_cart(
        &self,
        store: StoreId,
        table: TableId,
        change: &CartChange,
        now_ms: i64,
    ) -> Result<CartSnapshot> {
        let mut tx = self.begin().await?;
        apply_in(&mut tx, store, table, change, now_ms).await?;
        tx.commit().await?;
        self.outbox_bell().notify_one();
        self.cart(table).await
    }
}
