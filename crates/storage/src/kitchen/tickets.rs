//! Reading tickets: rows into domain tickets, a station's open board, today's bumped tickets
//! (for recall), an order's tickets (for expo) and the all-day counts.

use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::sql_batch::{Value, placeholders};
use crate::tx::Tx;
use diancan_domain::kitchen::*;
use diancan_domain::ordering::Channel;
use diancan_domain::schedule::BusinessDate;
use diancan_domain::*;
use std::collections::BTreeMap;
use uuid::Uuid;

pub(crate) const TICKET_COLUMNS: &str = "id, brand_id, store_id, order_id, station_id, label, channel, round, business_date, state, version, created_at_ms, bumped_by, bumped_at_ms, recalls";
const ITEM_COLUMNS: &str = "ticket_id, line, dish_id, sku_id, dish_name, specs_json, note, quantity, state, changed_by, changed_at_ms";
const SELECT_BOARD: &str = "SELECT id, brand_id, store_id, order_id, station_id, label, channel, round, business_date, state, version, created_at_ms, bumped_by, bumped_at_ms, recalls
    FROM kitchen_tickets WHERE brand_id = $1 AND store_id = $2 AND state IN ('open', 'recalled') ORDER BY created_at_ms, id";
const SELECT_BUMPED: &str = "SELECT id, brand_id, store_id, order_id, station_id, label, channel, round, business_date, state, version, created_at_ms, bumped_by, bumped_at_ms, recalls
    FROM kitchen_tickets WHERE brand_id = $1 AND store_id = $2 AND state = 'bumped' AND business_date = $3 ORDER BY bumped_at_ms DESC, id";
const SELECT_OF_ORDER: &str = "SELECT id, brand_id, store_id, order_id, station_id, label, channel, round, business_date, state, version, created_at_ms, bumped_by, bumped_at_ms, recalls
    FROM kitchen_tickets WHERE order_id = $1 ORDER BY created_at_ms, id";
const SELECT_ONE: &str = "SELECT id, brand_id, store_id, order_id, station_id, label, channel, round, business_date, state, version, created_at_ms, bumped_by, bumped_at_ms, recalls
    FROM kitchen_tickets WHERE id = $1 AND brand_id = $2 AND store_id = $3";
/// Open items of the whole store, summed per station and dish (the names are the same per dish).
const SELECT_ALL_DAY: &str = "SELECT t.station_id, i.dish_id, MIN(i.dish_name),
        CAST(SUM(CASE WHEN i.state IN ('waiting', 'fired') THEN i.quantity ELSE 0 END) AS BIGINT),
        CAST(SUM(CASE WHEN i.state = 'held' THEN i.quantity ELSE 0 END) AS BIGINT)
    FROM kitchen_ticket_items i JOIN kitchen_tickets t ON t.id = i.ticket_id
    WHERE t.brand_id = $1 AND t.store_id = $2 AND i.state IN ('waiting', 'held', 'fired')
    GROUP BY t.station_id, i.dish_id";
const SELECT_STREAM_VERSION: &str = "SELECT version FROM kitchen_streams WHERE store_id = $1";
const SELECT_PREP: &str = "SELECT id, prep_target_secs, prep_amber_after_secs, prep_red_after_secs FROM stations WHERE brand_id = $1 ORDER BY sort_order, name";
const UPDATE_PREP: &str = "UPDATE stations SET prep_target_secs = $3, prep_amber_after_secs = $4, prep_red_after_secs = $5 WHERE id = $1 AND brand_id = $2";

pub(crate) type TicketRow = (
    Uuid,
    Uuid,
    Uuid,
    Uuid,
    Option<Uuid>,
    String,
    String,
    i64,
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    i64,
);
type ItemRow = (
    Uuid,
    i64,
    Uuid,
    Uuid,
    String,
    String,
    Option<String>,
    i64,
    String,
    Option<String>,
    Option<i64>,
);

/// A station's prep-time target, for the board's amber and red.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StationPrep {
    pub station_id: StationId,
    pub target: PrepTarget,
}

fn corrupt(what: &str, id: Uuid) -> StorageError {
    StorageError::Corrupt(format!("kitchen ticket {id}: {what}"))
}

fn ticket_from(row: TicketRow, items: Vec<TicketItem>) -> Result<KitchenTicket> {
    let (
        id,
        brand,
        store,
        order,
        station,
        label,
        channel,
        round,
        day,
        state,
        version,
        created,
        bumped_by,
        bumped_at,
        recalls,
    ) = row;
    let bumped = match (bumped_by, bumped_at) {
        (Some(by), Some(at_ms)) => Some(Mark { by, at_ms }),
        _ => None,
    };
    Ok(KitchenTicket {
        id: KitchenTicketId::from_uuid(id),
        order_id: OrderId::from_uuid(order),
        brand_id: BrandId::from_uuid(brand),
        store_id: StoreId::from_uuid(store),
        station_id: station.map(StationId::from_uuid),
        label,
        channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel", id))?,
        round,
        business_date: day
            .parse()
            .map(BusinessDate::from_date)
            .map_err(|_| corrupt("business date", id))?,
        items,
        state: TicketState::parse(&state).ok_or_else(|| corrupt("state", id))?,
        version,
        created_at_ms: created,
        bumped,
        recalls,
    })
}

fn item_from(row: ItemRow) -> Result<TicketItem> {
    let (ticket, line, dish, sku, dish_name, specs, note, quantity, state, changed_by, changed_at) =
        row;
    let changed = match (changed_by, changed_at) {
        (Some(by), Some(at_ms)) => Some(Mark { by, at_ms }),
        _ => None,
    };
    Ok(TicketItem {
        line,
        dish_id: DishId::from_uuid(dish),
        sku_id: SkuId::from_uuid(sku),
        dish_name,
        specs: serde_json::from_str(&specs).map_err(|_| corrupt("specs", ticket))?,
        note,
        quantity,
        state: ItemState::parse(&state).ok_or_else(|| corrupt("item state", ticket))?,
        changed,
    })
}

/// Joins tickets to their items (read in line order), keeping the tickets' order.
fn assemble(rows: Vec<TicketRow>, found: Vec<ItemRow>) -> Result<Vec<KitchenTicket>> {
    let mut items: BTreeMap<Uuid, Vec<TicketItem>> = BTreeMap::new();
    for row in found {
        let ticket = row.0;
        items.entry(ticket).or_default().push(item_from(row)?);
    }
    rows.into_iter()
        .map(|row| {
            let own = items.remove(&row.0).unwrap_or_default();
            ticket_from(row, own)
        })
        .collect()
}

fn items_sql(list: &str) -> String {
    format!(
        "SELECT {ITEM_COLUMNS} FROM kitchen_ticket_items WHERE ticket_id IN {list} ORDER BY ticket_id, line"
    )
}

/// `(?, ?, ?)` or `($1, $2, $3)`: one row of `count` placeholders, for an `IN` list.
fn in_list(postgres: bool, count: usize) -> String {
    let marks: Vec<String> = (1..=count)
        .map(|n| {
            if postgres {
                format!("${n}")
            } else {
                "?".to_owned()
            }
        })
        .collect();
    format!("({})", marks.join(", "))
}

/// Tickets with their items, read inside a transaction (for a change).
pub(crate) async fn tickets_in(tx: &mut Tx, rows: Vec<TicketRow>) -> Result<Vec<KitchenTicket>> {
    let mut found = Vec::new();
    for chunk in rows.chunks(crate::sql_batch::ROWS_PER_STATEMENT) {
        let sql = items_sql(&placeholders(tx, 1, 1, chunk.len()));
        let values: Vec<Value> = chunk.iter().map(|r| Value::Id(r.0)).collect();
        let mut part: Vec<ItemRow> = on_tx!(tx, |c| bind_values!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).persistent(false),
            values.iter()
        )
        .fetch_all(&mut *c)
        .await)?;
        found.append(&mut part);
    }
    assemble(rows, found)
}

impl Db {
    async fn tickets_from_rows(&self, rows: Vec<TicketRow>) -> Result<Vec<KitchenTicket>> {
        let postgres = matches!(self, Db::Postgres { .. });
        let mut found = Vec::new();
        for chunk in rows.chunks(crate::sql_batch::ROWS_PER_STATEMENT) {
            let sql = items_sql(&in_list(postgres, chunk.len()));
            let values: Vec<Value> = chunk.iter().map(|r| Value::Id(r.0)).collect();
            let mut part: Vec<ItemRow> = on_pool!(self, |p| bind_values!(
                sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).persistent(false),
                values.iter()
            )
            .fetch_all(p)
            .await)?;
            found.append(&mut part);
        }
        assemble(rows, found)
    }

    /// A store's open tickets (open or recalled), oldest first; `station` narrows to one
    /// station's screen (`None` = every station: expo).
    pub async fn open_tickets(
        &self,
        brand: BrandId,
        store: StoreId,
        station: Option<StationId>,
    ) -> Result<Vec<KitchenTicket>> {
        let rows: Vec<TicketRow> = on_pool!(self, |p| sqlx::query_as(SELECT_BOARD)
            .bind(brand.as_uuid())
            .bind(store.as_uuid())
            .fetch_all(p)
            .await)?;
        let rows = of_station(rows, station);
        self.tickets_from_rows(rows).await
    }

    /// The tickets bumped on business day `day`, latest first: what a cook may recall.
    pub async fn bumped_tickets(
        &self,
        brand: BrandId,
        store: StoreId,
        station: Option<StationId>,
        day: BusinessDate,
    ) -> Result<Vec<KitchenTicket>> {
        let rows: Vec<TicketRow> = on_pool!(self, |p| sqlx::query_as(SELECT_BUMPED)
            .bind(brand.as_uuid())
            .bind(store.as_uuid())
            .bind(day.to_string())
            .fetch_all(p)
            .await)?;
        let rows = of_station(rows, station);
        self.tickets_from_rows(rows).await
    }

    /// Every ticket of one order, all stations (expo).
    pub async fn tickets_of_order(&self, order: OrderId) -> Result<Vec<KitchenTicket>> {
        let rows: Vec<TicketRow> = on_pool!(self, |p| sqlx::query_as(SELECT_OF_ORDER)
            .bind(order.as_uuid())
            .fetch_all(p)
            .await)?;
        self.tickets_from_rows(rows).await
    }

    pub async fn kitchen_ticket(
        &self,
        brand: BrandId,
        store: StoreId,
        id: KitchenTicketId,
    ) -> Result<KitchenTicket> {
        let row: Option<TicketRow> = on_pool!(self, |p| sqlx::query_as(SELECT_ONE)
            .bind(id.as_uuid())
            .bind(brand.as_uuid())
            .bind(store.as_uuid())
            .fetch_optional(p)
            .await)?;
        let row = row.ok_or(StorageError::NotFound)?;
        self.tickets_from_rows(vec![row])
            .await?
            .pop()
            .ok_or(StorageError::NotFound)
    }

    /// The all-day counts of a store, straight from the items (what the fold must equal).
    pub async fn all_day_counts(&self, brand: BrandId, store: StoreId) -> Result<AllDayCounts> {
        let rows: Vec<(Option<Uuid>, Uuid, String, i64, i64)> =
            on_pool!(self, |p| sqlx::query_as(SELECT_ALL_DAY)
                .bind(brand.as_uuid())
                .bind(store.as_uuid())
                .fetch_all(p)
                .await)?;
        let mut counts = AllDayCounts::default();
        for (station, dish, dish_name, open, held) in rows {
            let item = |to: ItemState, quantity: i64| ItemMove {
                line: 0,
                station_id: station.map(StationId::from_uuid),
                dish_id: DishId::from_uuid(dish),
                dish_name: dish_name.clone(),
                quantity,
                from: None,
                to,
            };
            counts.apply(&[item(ItemState::Waiting, open), item(ItemState::Held, held)]);
        }
        Ok(counts)
    }

    /// The last event's version on the store's kitchen stream (0 before the first ticket). A
    /// screen reads it before its tickets and follows the stream from there: an event it also
    /// read in the tickets carries a version it already has, so nothing is missed or doubled.
    pub async fn kitchen_stream_version(&self, store: StoreId) -> Result<i64> {
        let row: Option<(i64,)> = on_pool!(self, |p| sqlx::query_as(SELECT_STREAM_VERSION)
            .bind(store.as_uuid())
            .fetch_optional(p)
            .await)?;
        Ok(row.map_or(0, |(version,)| version))
    }

    /// Each station's prep-time target, in the brand's station order.
    pub async fn station_prep_targets(&self, brand: BrandId) -> Result<Vec<StationPrep>> {
        let rows: Vec<(Uuid, i64, i64, i64)> = on_pool!(self, |p| sqlx::query_as(SELECT_PREP)
            .bind(brand.as_uuid())
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|(id, target, amber, red)| {
                let target = PrepTarget::parse(target, amber, red)
                    .map_err(|_| StorageError::Corrupt(format!("station {id}: prep target")))?;
                Ok(StationPrep {
                    station_id: StationId::from_uuid(id),
                    target,
                })
            })
            .collect()
    }

    pub async fn set_station_prep_target(
        &self,
        brand: BrandId,
        station: StationId,
        target: PrepTarget,
    ) -> Result<()> {
        // A write: through the writer (SQLite's read pool refuses writes).
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |c| sqlx::query(UPDATE_PREP)
            .bind(station.as_uuid())
            .bind(brand.as_uuid())
            .bind(target.target_secs() as i64)
            .bind(target.amber_after_secs() as i64)
            .bind(target.red_after_secs() as i64)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StorageError::NotFound);
        }
        tx.commit().await
    }
}

fn of_station(rows: Vec<TicketRow>, station: Option<StationId>) -> Vec<TicketRow> {
    match station {
        None => rows,
        Some(station) => rows
            .into_iter()
            .filter(|r| r.4 == Some(station.as_uuid()))
            .collect(),
    }
}
