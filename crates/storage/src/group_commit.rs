//! Group commit for placing orders.
//!
//! Placing an order costs a flush to disk and a dozen statements; done one order per
//! transaction, a busy store spends its time waiting on round trips and on one hot row (the
//! day's pickup counter) rather than working. So orders that arrive together are placed together:
//! a lane task takes every order waiting in its queue and places the whole batch in one
//! transaction with a fixed number of statements (multi-row inserts, one read of the stock rows,
//! one bump of each pickup counter), then commits once and only then answers each caller.
//! Nothing waits on a timer: a lone order commits at once, and orders that arrive while a batch
//! is being written form the next one.
//!
//! Every decision an order needs is made on locked rows inside the transaction, in arrival
//! order: the idempotency key is claimed (`ON CONFLICT DO NOTHING RETURNING` tells who won), the
//! stock rows are read `FOR UPDATE` and taken with the domain's one rule
//! ([`SkuStoreState::take`]), slots likewise, and the brand's menu revision is checked against the
//! one the order was priced from. An order that fails (sold out, slot full, menu changed, key used
//! for another body) simply writes nothing; the rest of its batch is unaffected.
//!
//! The lane runs apart from the request, so a client that hangs up mid-request can never leave a
//! transaction open, nor get an answer for a write that was not committed.
//!
//! Lanes are chosen by store, so one store's orders never wait on each other's row locks inside
//! one instance. Rows are locked in a fixed order (stock by store then spec, then slots, then
//! pickup counters), so two instances' batches queue rather than deadlock; if PostgreSQL still
//! reports a deadlock (a console write, say) the whole batch rolled back and is simply run again.

use crate::catalog::{SkuStateRow, sku_state_from};
use crate::db::{Tx, WritePool};
use crate::error::{Result, StorageError};
use crate::ordering::{
    NewOrder, OrderRecord, PlaceError, Placed, StockClaim, order_in, order_stream, status_payload,
};
use diancan_domain::catalog::SkuStoreState;
use diancan_domain::schedule::BusinessDate;
use diancan_domain::{BrandId, OrderId, SkuId, StoreId, TableSessionId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Most orders in one transaction: bounds how long the first of them waits for its answer.
const MAX_BATCH: usize = 64;
/// Orders queued per lane before callers wait to hand theirs over.
const QUEUE_DEPTH: usize = 1024;
/// A batch that hit a deadlock is run this many times before its callers get the error.
const ATTEMPTS: u8 = 3;
/// Rows per multi-row statement, well under SQLite's 32,766 bound parameters.
const ROWS_PER_STATEMENT: usize = 500;

struct Job {
    order: NewOrder,
    reply: oneshot::Sender<Result<Placed, PlaceError>>,
}

/// The order lanes of one database (opaque), started on first use, so a `Db` can be made
/// outside a runtime.
#[derive(Clone)]
pub struct OrderLanes {
    pool: WritePool,
    count: usize,
    senders: Arc<OnceLock<Vec<mpsc::Sender<Job>>>>,
}

impl OrderLanes {
    pub(crate) fn new(pool: WritePool, count: usize) -> Self {
        OrderLanes {
            pool,
            count: count.max(1),
            senders: Arc::new(OnceLock::new()),
        }
    }

    pub(crate) async fn place(&self, order: NewOrder) -> Result<Placed, PlaceError> {
        let senders = self.senders.get_or_init(|| {
            (0..self.count)
                .map(|_| {
                    let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
                    tokio::spawn(run_lane(self.pool.clone(), receiver));
                    sender
                })
                .collect()
        });
        let lane = (order.store_id.as_uuid().as_u128() % senders.len() as u128) as usize;
        let (reply, answer) = oneshot::channel();
        senders[lane]
            .send(Job { order, reply })
            .await
            .map_err(|_| lane_gone())?;
        answer.await.map_err(|_| lane_gone())?
    }
}

fn lane_gone() -> PlaceError {
    PlaceError::Storage(StorageError::Unavailable(
        "the order writer has stopped".into(),
    ))
}

async fn run_lane(pool: WritePool, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Stable: within a store, orders keep their arrival order (who gets the last bowl).
        batch.sort_by_key(|job| job.order.store_id);
        let orders: Vec<&NewOrder> = batch.iter().map(|job| &job.order).collect();
        match place_with_retries(&pool, &orders).await {
            Ok(outcomes) => answer(batch, outcomes),
            // One bad order must not fail its neighbours: place each alone to find it.
            Err(error) if batch.len() > 1 => {
                tracing::warn!(%error, orders = batch.len(), "a batch failed; placing its orders one by one");
                for job in batch {
                    let outcome = place_with_retries(&pool, &[&job.order]).await;
                    match outcome {
                        Ok(outcomes) => answer(vec![job], outcomes),
                        Err(error) => fail(job, &error),
                    }
                }
            }
            Err(error) => batch.into_iter().for_each(|job| fail(job, &error)),
        }
    }
}

async fn place_with_retries(
    pool: &WritePool,
    orders: &[&NewOrder],
) -> Result<Vec<Result<Placed, PlaceError>>> {
    let mut attempt = 1;
    loop {
        match place_batch(pool, orders).await {
            Err(error) if error.is_transient() && attempt < ATTEMPTS => attempt += 1,
            other => return other,
        }
    }
}

fn answer(jobs: Vec<Job>, outcomes: Vec<Result<Placed, PlaceError>>) {
    for (job, outcome) in jobs.into_iter().zip(outcomes) {
        // The caller may have hung up; its order stands, and a retry replays it.
        let _ = job.reply.send(outcome);
    }
}

fn fail(job: Job, error: &StorageError) {
    tracing::error!(%error, order = %job.order.id, "placing an order failed");
    let _ = job
        .reply
        .send(Err(PlaceError::Storage(StorageError::Unavailable(
            error.to_string(),
        ))));
}

async fn place_batch(
    pool: &WritePool,
    orders: &[&NewOrder],
) -> Result<Vec<Result<Placed, PlaceError>>> {
    let mut tx = pool.begin().await?;
    let outcomes = place_in(&mut tx, orders).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// What became of one order of the batch while it is being decided.
enum Fate {
    /// Claimed its key; still to be placed unless stock or slot refuse it.
    Fresh,
    /// The same request as an earlier order of this batch: gets that order's outcome.
    SameAs(usize),
    Done(Box<Result<Placed, PlaceError>>),
}

async fn place_in(tx: &mut Tx, orders: &[&NewOrder]) -> Result<Vec<Result<Placed, PlaceError>>> {
    let claimed = claim_keys(tx, orders).await?;
    let mut fates = Vec::with_capacity(orders.len());
    for order in orders {
        fates.push(if claimed.contains(&order.id.as_uuid()) {
            Fate::Fresh
        } else {
            earlier_request(tx, order, orders).await?
        });
    }

    let fresh = |fates: &[Fate]| -> Vec<usize> {
        (0..fates.len())
            .filter(|&i| matches!(fates[i], Fate::Fresh))
            .collect()
    };
    let revisions = menu_revisions(tx, orders, &fresh(&fates)).await?;
    for i in fresh(&fates) {
        if orders[i]
            .menu_revision
            .is_some_and(|priced| revisions.get(&orders[i].brand_id) != Some(&priced))
        {
            fates[i] = Fate::Done(Box::new(Err(PlaceError::MenuChanged)));
        }
    }
    let mut stock = lock_stock(tx, orders, &fresh(&fates)).await?;
    let mut slots = lock_slots(tx, orders, &fresh(&fates)).await?;
    for i in fresh(&fates) {
        if let Some(refusal) = allocate(orders[i], &mut stock, &mut slots) {
            fates[i] = Fate::Done(Box::new(Err(refusal)));
        }
    }
    let placed = fresh(&fates);
    release_keys(tx, orders, &fates).await?;
    write_stock(tx, &stock).await?;
    write_slots(tx, &slots).await?;

    let numbers = pickup_numbers(tx, orders, &placed).await?;
    let rounds = rounds(tx, orders, &placed).await?;
    let records: Vec<OrderRecord> = placed
        .iter()
        .map(|&i| record_of(orders[i], numbers[&i], rounds.get(&i).copied().unwrap_or(1)))
        .collect();
    insert_orders(tx, orders, &placed, &records).await?;
    for &i in &placed {
        if let Some(table) = orders[i].clears_cart_of {
            let change = crate::carts::CartChange::Clear;
            crate::carts::apply_in(tx, orders[i].store_id, table, &change, orders[i].now_ms)
                .await?;
        }
    }
    for (&i, record) in placed.iter().zip(records) {
        fates[i] = Fate::Done(Box::new(Ok(Placed::Created(record))));
    }

    // Every order is decided now except same-batch retries, which mirror their twin.
    let mut twins = Vec::new();
    let mut outcomes: Vec<Result<Placed, PlaceError>> = Vec::with_capacity(orders.len());
    for (i, fate) in fates.into_iter().enumerate() {
        outcomes.push(match fate {
            Fate::Done(outcome) => *outcome,
            Fate::SameAs(twin) => {
                twins.push((i, twin));
                Err(PlaceError::KeyReused)
            }
            Fate::Fresh => unreachable!("every fresh order was placed or refused"),
        });
    }
    for (i, twin) in twins {
        outcomes[i] = replay_of(&outcomes[twin]);
    }
    Ok(outcomes)
}

/// The answer for a retry that arrived in the same batch as its original.
fn replay_of(original: &Result<Placed, PlaceError>) -> Result<Placed, PlaceError> {
    match original {
        Ok(Placed::Created(record) | Placed::Replayed(record)) => {
            Ok(Placed::Replayed(record.clone()))
        }
        Err(PlaceError::SoldOut(sku)) => Err(PlaceError::SoldOut(*sku)),
        Err(PlaceError::SlotFull) => Err(PlaceError::SlotFull),
        Err(PlaceError::KeyReused) => Err(PlaceError::KeyReused),
        Err(PlaceError::MenuChanged) => Err(PlaceError::MenuChanged),
        Err(PlaceError::Storage(error)) => Err(PlaceError::Storage(StorageError::Unavailable(
            error.to_string(),
        ))),
    }
}

/// Binds a list of [`Value`]s to a query, whichever database it is for.
macro_rules! bind_values {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                Value::Id(v) => query.bind(*v),
                Value::MaybeId(v) => query.bind(*v),
                Value::Int(v) => query.bind(*v),
                Value::MaybeInt(v) => query.bind(*v),
                Value::Text(v) => query.bind(v.as_str()),
                Value::MaybeText(v) => query.bind(v.as_deref()),
                Value::Bool(v) => query.bind(*v),
            };
        }
        query
    }};
}

/// One bound parameter of a statement built for the batch.
enum Value {
    Id(Uuid),
    MaybeId(Option<Uuid>),
    Int(i64),
    MaybeInt(Option<i64>),
    Text(String),
    MaybeText(Option<String>),
    Bool(bool),
}

/// `($1, $2, $3), ($4, $5, $6)` for `rows` rows of `width` parameters, numbered from `first`.
/// SQLite gets anonymous `?`s: it looks numbered names up one by one, which grows with the square
/// of the parameter count in a statement of hundreds of rows.
fn placeholders(tx: &Tx, first: usize, rows: usize, width: usize) -> String {
    let mut sql = String::with_capacity(rows * width * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            match tx {
                Tx::Sqlite(_) => sql.push('?'),
                Tx::Postgres(_) => sql.push_str(&format!("${}", first + row * width + column)),
            }
        }
        sql.push(')');
    }
    sql
}

/// Runs `head VALUES (...), (...) tail` over `rows`, a statement per [`ROWS_PER_STATEMENT`].
async fn insert_rows(tx: &mut Tx, head: &str, tail: &str, rows: Vec<Vec<Value>>) -> Result<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let width = chunk[0].len();
        let sql = format!(
            "{head} VALUES {} {tail}",
            placeholders(tx, 1, chunk.len(), width)
        );
        let values = chunk.iter().flatten();
        // Only placeholders vary (batch sizes), so these statements are not worth keeping prepared.
        on_tx!(tx, |c| bind_values!(
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).persistent(false),
            values
        )
        .execute(&mut *c)
        .await
        .map(drop))?;
    }
    Ok(())
}

async fn claim_keys(tx: &mut Tx, orders: &[&NewOrder]) -> Result<HashSet<Uuid>> {
    let rows: Vec<Vec<Value>> = orders
        .iter()
        .map(|o| {
            vec![
                Value::Id(o.store_id.as_uuid()),
                Value::Text(o.idempotency_key.clone()),
                Value::Text(o.request_hash.clone()),
                Value::Id(o.id.as_uuid()),
                Value::Int(o.now_ms),
            ]
        })
        .collect();
    let mut claimed = HashSet::new();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO idempotency_keys (store_id, idempotency_key, request_hash, order_id, created_at_ms) VALUES {}
             ON CONFLICT (store_id, idempotency_key) DO NOTHING RETURNING order_id",
            placeholders(tx, 1, chunk.len(), 5)
        );
        let values = chunk.iter().flatten();
        let won: Vec<(Uuid,)> = on_tx!(tx, |c| bind_values!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).persistent(false),
            values
        )
        .fetch_all(&mut *c)
        .await)?;
        claimed.extend(won.into_iter().map(|(id,)| id));
    }
    Ok(claimed)
}

/// For an order whose key was taken already: the same request again, or a different one.
async fn earlier_request(tx: &mut Tx, order: &NewOrder, batch: &[&NewOrder]) -> Result<Fate> {
    const SELECT_KEY: &str = "SELECT request_hash, order_id FROM idempotency_keys WHERE store_id = $1 AND idempotency_key = $2";
    let (hash, existing): (String, Uuid) = on_tx!(tx, |c| sqlx::query_as(SELECT_KEY)
        .bind(order.store_id.as_uuid())
        .bind(&order.idempotency_key)
        .fetch_one(&mut *c)
        .await)?;
    if hash != order.request_hash {
        return Ok(Fate::Done(Box::new(Err(PlaceError::KeyReused))));
    }
    if let Some(twin) = batch.iter().position(|o| o.id.as_uuid() == existing) {
        return Ok(Fate::SameAs(twin));
    }
    let record = order_in(tx, OrderId::from_uuid(existing)).await?;
    Ok(Fate::Done(Box::new(Ok(Placed::Replayed(record)))))
}

/// The current menu revision of each brand with a fresh order in the batch, read so that a menu
/// edit cannot commit between this check and the batch's commit (PostgreSQL: `FOR SHARE`).
async fn menu_revisions(
    tx: &mut Tx,
    orders: &[&NewOrder],
    fresh: &[usize],
) -> Result<HashMap<BrandId, i64>> {
    let brands: std::collections::BTreeSet<BrandId> = fresh
        .iter()
        .filter(|&&i| orders[i].menu_revision.is_some())
        .map(|&i| orders[i].brand_id)
        .collect();
    let select = format!(
        "SELECT menu_revision FROM brands WHERE id = $1{}",
        match tx {
            Tx::Sqlite(_) => "",
            Tx::Postgres(_) => " FOR SHARE",
        }
    );
    let mut revisions = HashMap::new();
    for brand in brands {
        let (revision,): (i64,) =
            on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(select.as_str()))
                .bind(brand.as_uuid())
                .fetch_one(&mut *c)
                .await)?;
        revisions.insert(brand, revision);
    }
    Ok(revisions)
}

/// Stock rows the batch touches, locked, keyed by store and spec.
type StockRows = BTreeMap<(StoreId, SkuId), Locked<SkuStoreState>>;

/// A locked row as read, and as the batch leaves it.
struct Locked<T> {
    read: T,
    now: T,
}

async fn lock_stock(tx: &mut Tx, orders: &[&NewOrder], fresh: &[usize]) -> Result<StockRows> {
    let mut wanted: BTreeMap<StoreId, Vec<SkuId>> = BTreeMap::new();
    for &i in fresh {
        for claim in &orders[i].stock {
            wanted
                .entry(orders[i].store_id)
                .or_default()
                .push(claim.sku_id);
        }
    }
    for skus in wanted.values_mut() {
        skus.sort();
        skus.dedup();
    }
    // Specs never sold here yet get their row now, so every one can be locked.
    let new_rows = wanted
        .iter()
        .flat_map(|(store, skus)| {
            skus.iter().map(|sku| {
                vec![
                    Value::Id(store.as_uuid()),
                    Value::Id(sku.as_uuid()),
                    Value::Bool(false),
                ]
            })
        })
        .collect::<Vec<_>>();
    if new_rows.is_empty() {
        return Ok(StockRows::new());
    }
    insert_rows(
        tx,
        "INSERT INTO store_sku_states (store_id, sku_id, sold_out)",
        "ON CONFLICT (store_id, sku_id) DO NOTHING",
        new_rows,
    )
    .await?;
    let lock = for_update(tx);
    let mut rows = StockRows::new();
    for (store, skus) in wanted {
        let first = match tx {
            Tx::Sqlite(_) => "?",
            Tx::Postgres(_) => "$1",
        };
        let sql = format!(
            "SELECT sku_id, price_fen, stock, daily_limit, sold_count, sold_on, low_stock_threshold, sold_out
             FROM store_sku_states WHERE store_id = {first} AND sku_id IN {} ORDER BY sku_id{lock}",
            placeholders(tx, 2, 1, skus.len())
        );
        let values: Vec<Value> = std::iter::once(Value::Id(store.as_uuid()))
            .chain(skus.iter().map(|sku| Value::Id(sku.as_uuid())))
            .collect();
        let found: Vec<SkuStateRow> = on_tx!(tx, |c| bind_values!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).persistent(false),
            values.iter()
        )
        .fetch_all(&mut *c)
        .await)?;
        for row in found {
            let (sku, state) = sku_state_from(row)?;
            rows.insert(
                (store, sku),
                Locked {
                    read: state.clone(),
                    now: state,
                },
            );
        }
    }
    Ok(rows)
}

/// Slot counters the batch touches: places taken, keyed by store and slot start.
type SlotRows = BTreeMap<(StoreId, i64), Locked<i64>>;

async fn lock_slots(tx: &mut Tx, orders: &[&NewOrder], fresh: &[usize]) -> Result<SlotRows> {
    const ENSURE: &str =
        "INSERT INTO slot_counters (store_id, slot_start_ms, taken) VALUES ($1, $2, 0)
        ON CONFLICT (store_id, slot_start_ms) DO NOTHING";
    let wanted: std::collections::BTreeSet<(StoreId, i64)> = fresh
        .iter()
        .filter_map(|&i| orders[i].slot.map(|(start, _)| (orders[i].store_id, start)))
        .collect();
    let select = format!(
        "SELECT taken FROM slot_counters WHERE store_id = $1 AND slot_start_ms = $2{}",
        for_update(tx)
    );
    let mut rows = SlotRows::new();
    for (store, start) in wanted {
        on_tx!(tx, |c| sqlx::query(ENSURE)
            .bind(store.as_uuid())
            .bind(start)
            .execute(&mut *c)
            .await
            .map(drop))?;
        let (taken,): (i64,) =
            on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(select.as_str()))
                .bind(store.as_uuid())
                .bind(start)
                .fetch_one(&mut *c)
                .await)?;
        rows.insert(
            (store, start),
            Locked {
                read: taken,
                now: taken,
            },
        );
    }
    Ok(rows)
}

fn for_update(tx: &Tx) -> &'static str {
    // SQLite has one writer at a time already (BEGIN IMMEDIATE) and no row locks to ask for.
    match tx {
        Tx::Sqlite(_) => "",
        Tx::Postgres(_) => " FOR UPDATE",
    }
}

/// Takes the order's stock and slot place from the locked rows, or says why not (taking nothing).
fn allocate(order: &NewOrder, stock: &mut StockRows, slots: &mut SlotRows) -> Option<PlaceError> {
    let mut trial: Vec<((StoreId, SkuId), SkuStoreState)> = Vec::with_capacity(order.stock.len());
    for StockClaim { sku_id, quantity } in &order.stock {
        let key = (order.store_id, *sku_id);
        let mut state = trial
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, s)| s.clone())
            .or_else(|| stock.get(&key).map(|row| row.now.clone()))
            .unwrap_or_default();
        if !state.take(*quantity, order.business_date) {
            return Some(PlaceError::SoldOut(*sku_id));
        }
        trial.push((key, state));
    }
    if let Some((start, capacity)) = order.slot {
        let taken = slots.get(&(order.store_id, start)).map_or(0, |row| row.now);
        if taken >= capacity {
            return Some(PlaceError::SlotFull);
        }
        if let Some(row) = slots.get_mut(&(order.store_id, start)) {
            row.now += 1;
        }
    }
    for (key, state) in trial {
        if let Some(row) = stock.get_mut(&key) {
            row.now = state;
        }
    }
    None
}

/// A refused order's key is given back, so the diner can try again with it.
async fn release_keys(tx: &mut Tx, orders: &[&NewOrder], fates: &[Fate]) -> Result<()> {
    const RELEASE: &str = "DELETE FROM idempotency_keys WHERE store_id = $1 AND order_id = $2";
    for (order, fate) in orders.iter().zip(fates) {
        let refused_fresh = matches!(fate, Fate::Done(outcome)
            if matches!(**outcome, Err(PlaceError::SoldOut(_) | PlaceError::SlotFull | PlaceError::MenuChanged)));
        if refused_fresh {
            on_tx!(tx, |c| sqlx::query(RELEASE)
                .bind(order.store_id.as_uuid())
                .bind(order.id.as_uuid())
                .execute(&mut *c)
                .await
                .map(drop))?;
        }
    }
    Ok(())
}

async fn write_stock(tx: &mut Tx, rows: &StockRows) -> Result<()> {
    const WRITE: &str = "UPDATE store_sku_states SET stock = $3, sold_count = $4, sold_on = $5 WHERE store_id = $1 AND sku_id = $2";
    for ((store, sku), row) in rows {
        if row.now == row.read {
            continue;
        }
        on_tx!(tx, |c| sqlx::query(WRITE)
            .bind(store.as_uuid())
            .bind(sku.as_uuid())
            .bind(row.now.stock)
            .bind(row.now.sold_count)
            .bind(row.now.sold_on.map(|d| d.to_string()))
            .execute(&mut *c)
            .await
            .map(drop))?;
    }
    Ok(())
}

async fn write_slots(tx: &mut Tx, rows: &SlotRows) -> Result<()> {
    const WRITE: &str =
        "UPDATE slot_counters SET taken = $3 WHERE store_id = $1 AND slot_start_ms = $2";
    for ((store, start), row) in rows {
        if row.now == row.read {
            continue;
        }
        on_tx!(tx, |c| sqlx::query(WRITE)
            .bind(store.as_uuid())
            .bind(*start)
            .bind(row.now)
            .execute(&mut *c)
            .await
            .map(drop))?;
    }
    Ok(())
}

/// Numbers the placed orders per store and business day, in arrival order.
async fn pickup_numbers(
    tx: &mut Tx,
    orders: &[&NewOrder],
    placed: &[usize],
) -> Result<HashMap<usize, i64>> {
    const BUMP: &str = "INSERT INTO pickup_counters (store_id, business_date, last_number) VALUES ($1, $2, $3)
        ON CONFLICT (store_id, business_date) DO UPDATE SET last_number = pickup_counters.last_number + $3 RETURNING last_number";
    let mut per_day: BTreeMap<(StoreId, BusinessDate), Vec<usize>> = BTreeMap::new();
    for &i in placed {
        per_day
            .entry((orders[i].store_id, orders[i].business_date))
            .or_default()
            .push(i);
    }
    let mut numbers = HashMap::new();
    for ((store, day), members) in per_day {
        let count = members.len() as i64;
        let (last,): (i64,) = on_tx!(tx, |c| sqlx::query_as(BUMP)
            .bind(store.as_uuid())
            .bind(day.to_string())
            .bind(count)
            .fetch_one(&mut *c)
            .await)?;
        for (k, i) in members.into_iter().enumerate() {
            numbers.insert(i, last - count + 1 + k as i64);
        }
    }
    Ok(numbers)
}

/// Dine-in rounds (加菜): the n-th order of a table session is round n.
async fn rounds(
    tx: &mut Tx,
    orders: &[&NewOrder],
    placed: &[usize],
) -> Result<HashMap<usize, i64>> {
    const EARLIER: &str = "SELECT COUNT(*) FROM orders WHERE table_session_id = $1";
    let mut seen: HashMap<TableSessionId, i64> = HashMap::new();
    let mut rounds = HashMap::new();
    for &i in placed {
        let Some(session) = orders[i].table_session_id else {
            continue;
        };
        let before = match seen.get(&session) {
            Some(&n) => n,
            None => {
                let (n,): (i64,) = on_tx!(tx, |c| sqlx::query_as(EARLIER)
                    .bind(session.as_uuid())
                    .fetch_one(&mut *c)
                    .await)?;
                n
            }
        };
        seen.insert(session, before + 1);
        rounds.insert(i, before + 1);
    }
    Ok(rounds)
}

fn record_of(order: &NewOrder, pickup_number: i64, round: i64) -> OrderRecord {
    OrderRecord {
        id: order.id,
        brand_id: order.brand_id,
        store_id: order.store_id,
        channel: order.channel,
        status: order.status,
        version: 1,
        table_session_id: order.table_session_id,
        table_id: order.table_id,
        pickup_number,
        business_date: order.business_date.to_string(),
        round,
        diners: order.diners,
        total_fen: order.total_fen,
        quote_json: order.quote_json.clone(),
        contact_json: order.contact_json.clone(),
        note: order.note.clone(),
        ready_by_ms: order.ready_by_ms,
        pay_by_ms: order.pay_by_ms,
        cancel_requested: false,
        customer_id: order.customer_id,
        slot_start_ms: order.slot.map(|(start, _)| start),
        placed_at_ms: order.now_ms,
        updated_at_ms: order.now_ms,
    }
}

/// Writes the placed orders, their lines, their first transition and their first event.
async fn insert_orders(
    tx: &mut Tx,
    orders: &[&NewOrder],
    placed: &[usize],
    records: &[OrderRecord],
) -> Result<()> {
    if placed.is_empty() {
        return Ok(());
    }
    let order_rows = records
        .iter()
        .map(|r| {
            vec![
                Value::Id(r.id.as_uuid()),
                Value::Id(r.brand_id.as_uuid()),
                Value::Id(r.store_id.as_uuid()),
                Value::Text(r.channel.as_str().into()),
                Value::Text(r.status.as_str().into()),
                Value::Int(r.version),
                Value::MaybeId(r.table_session_id.map(|s| s.as_uuid())),
                Value::MaybeId(r.table_id.map(|t| t.as_uuid())),
                Value::Int(r.pickup_number),
                Value::Text(r.business_date.clone()),
                Value::Int(r.round),
                Value::MaybeInt(r.diners),
                Value::Int(r.total_fen),
                Value::Text(r.quote_json.clone()),
                Value::MaybeText(r.contact_json.clone()),
                Value::MaybeText(r.note.clone()),
                Value::MaybeInt(r.ready_by_ms),
                Value::MaybeInt(r.pay_by_ms),
                Value::Bool(r.cancel_requested),
                Value::MaybeId(r.customer_id.map(|c| c.as_uuid())),
                Value::MaybeInt(r.slot_start_ms),
                Value::Int(r.placed_at_ms),
                Value::Int(r.updated_at_ms),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "INSERT INTO orders (id, brand_id, store_id, channel, status, version, table_session_id, table_id, pickup_number, business_date, round, diners,
            total_fen, quote_json, contact_json, note, ready_by_ms, pay_by_ms, cancel_requested, customer_id, slot_start_ms, placed_at_ms, updated_at_ms)",
        "",
        order_rows,
    )
    .await?;

    let line_rows = placed
        .iter()
        .flat_map(|&i| {
            let order = orders[i];
            order.lines.iter().enumerate().map(move |(position, line)| {
                vec![
                    Value::Id(order.id.as_uuid()),
                    Value::Int(position as i64),
                    Value::Id(line.sku_id.as_uuid()),
                    Value::Id(line.dish_id.as_uuid()),
                    Value::MaybeId(line.station_id.map(|s| s.as_uuid())),
                    Value::Text(line.name.clone()),
                    Value::Int(line.quantity),
                    Value::Int(line.unit_price_fen),
                    Value::Int(line.line_total_fen),
                ]
            })
        })
        .collect::<Vec<_>>();
    if !line_rows.is_empty() {
        insert_rows(
            tx,
            "INSERT INTO order_lines (order_id, position, sku_id, dish_id, station_id, name, quantity, unit_price_fen, line_total_fen)",
            "",
            line_rows,
        )
        .await?;
    }

    let transition_rows = records
        .iter()
        .map(|r| {
            vec![
                Value::Id(r.id.as_uuid()),
                Value::Int(r.version),
                Value::MaybeText(None),
                Value::Text(r.status.as_str().into()),
                Value::Text("place".into()),
                Value::Text("diner".into()),
                Value::Int(r.placed_at_ms),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "INSERT INTO order_transitions (order_id, version, from_status, to_status, action, actor, at_ms)",
        "",
        transition_rows,
    )
    .await?;

    let event_rows = records
        .iter()
        .map(|r| {
            vec![
                Value::Text(order_stream(r.id)),
                Value::Int(r.version),
                Value::Text("order.placed".into()),
                Value::Text(status_payload(r, "place").to_string()),
                Value::Int(r.placed_at_ms),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "INSERT INTO events (stream, stream_version, kind, payload_json, created_at_ms)",
        "",
        event_rows,
    )
    .await
}
