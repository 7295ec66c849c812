//! Placing orders, a batch at a time (group commit; the batching itself is in `lanes.rs`).
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
//! Rows are locked in a fixed order (stock by store then spec, then slots, then pickup counters),
//! so two instances' batches queue rather than deadlock. A dine-in order that opens its table
//! does so here, after its stock was granted, so a refused order opens nothing.

use super::orders::order_in;
use super::sessions::open_session_in;
use crate::catalog::{SkuStateRow, sku_state_from};
use crate::error::{Result, StorageError};
use crate::events::{announcement, menu_channel, order_stream, store_channel};
use crate::sql_batch::{ROWS_PER_STATEMENT, Value, for_update, insert_rows, placeholders};
use crate::tx::Tx;
use diancan_domain::catalog::SkuStoreState;
use diancan_domain::ordering::{Channel, Order, OrderEventKind, OrderStart, OrderTable, Quote};
use diancan_domain::schedule::BusinessDate;
use diancan_domain::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// A dine-in order's table: the sitting it joins, or the one its placement opens.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrderTable {
    pub table_id: TableId,
    pub code: String,
    pub area_name: String,
    pub session: SessionClaim,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionClaim {
    /// The table is open (开台) already.
    Open(TableSessionId),
    /// The first scan opens the table, in the order's own transaction: a refused order leaves
    /// the table as it was.
    OpenWithOrder { diners: Option<i64> },
}

/// An order to place, decided and priced by the use case; storage claims what it needs.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub id: OrderId,
    pub brand_id: BrandId,
    pub store_id: StoreId,
    pub channel: Channel,
    pub start: OrderStart,
    pub table: Option<NewOrderTable>,
    pub business_date: BusinessDate,
    pub diners: Option<i64>,
    /// The breakdown the diner confirmed; its lines become the order's lines and its stock
    /// claims are taken.
    pub quote: Quote,
    pub contact_sealed: Option<String>,
    pub note: Option<String>,
    pub ready_by_ms: Option<i64>,
    /// The key as scoped to its caller (a diner, or a guest).
    pub idempotency_key: String,
    /// A keyed digest of the request (never of personal data in the clear).
    pub request_hash: String,
    /// The logged-in diner, for their order history.
    pub customer_id: Option<CustomerId>,
    /// The keyed hash of the guest's access secret, stored with the order (see `access`).
    pub access_hash: Option<String>,
    /// A pickup/delivery slot with limited capacity: (slot start, capacity).
    pub slot: Option<(i64, i64)>,
    /// The brand's menu revision the order was priced from; the order is refused with
    /// [`PlaceError::MenuChanged`] if the menu changed since. `None` skips the check.
    pub menu_revision: Option<i64>,
    /// The promotions and coupons the quote used: redeemed with the order, or the order is
    /// refused and nothing is redeemed.
    pub redemptions: Vec<NewRedemption>,
    pub now_ms: i64,
}

/// One promotion or coupon an order uses, with what it took off.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRedemption {
    pub offer: Redeemed,
    pub label: String,
    pub amount: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redeemed {
    /// A promotion; with a limit, the diner's uses are counted (a limited one needs a diner).
    Promotion {
        id: PromotionId,
        per_diner_limit: Option<i64>,
    },
    /// One of the diner's coupons: it must still be theirs, unused and valid.
    Coupon {
        grant: CouponGrantId,
        template: CouponId,
    },
}

/// What placing an order did.
#[derive(Debug, Clone, PartialEq)]
pub enum Placed {
    Created(Order),
    /// The idempotency key was used before with the same request: here is that order.
    Replayed(Order),
}

#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("the idempotency key was used for a different request")]
    KeyReused,
    #[error("the chosen time slot is full")]
    SlotFull,
    #[error("not enough stock for {0}")]
    SoldOut(SkuId),
    /// The menu changed after the order was priced: price it again from the current menu.
    #[error("the menu changed since the order was priced")]
    MenuChanged,
    /// A chosen coupon is used, expired or not the diner's: nothing was redeemed or placed.
    #[error("coupon {0} cannot be used")]
    CouponUnavailable(CouponGrantId),
    /// The diner has used this promotion as often as it allows.
    #[error("promotion {0} reached its limit for this diner")]
    PromotionLimitReached(PromotionId),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for PlaceError {
    fn from(e: sqlx::Error) -> Self {
        PlaceError::Storage(e.into())
    }
}

impl PlaceError {
    /// The same refusal again, for a retry that arrived in the same batch as its original.
    pub(crate) fn again(&self) -> PlaceError {
        match self {
            PlaceError::SoldOut(sku) => PlaceError::SoldOut(*sku),
            PlaceError::SlotFull => PlaceError::SlotFull,
            PlaceError::KeyReused => PlaceError::KeyReused,
            PlaceError::MenuChanged => PlaceError::MenuChanged,
            PlaceError::CouponUnavailable(grant) => PlaceError::CouponUnavailable(*grant),
            PlaceError::PromotionLimitReached(id) => PlaceError::PromotionLimitReached(*id),
            PlaceError::Storage(error) => {
                PlaceError::Storage(StorageError::Unavailable(error.to_string()))
            }
        }
    }
}

/// What became of one order of the batch while it is being decided.
enum Fate {
    /// Claimed its key; still to be placed unless stock or slot refuse it.
    Fresh,
    /// The same request as an earlier order of this batch: gets that order's outcome.
    SameAs(usize),
    Done(Box<Result<Placed, PlaceError>>),
}

pub(crate) async fn place_in(
    tx: &mut Tx,
    orders: &[&NewOrder],
) -> Result<Vec<Result<Placed, PlaceError>>> {
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
    let mut offers = lock_offers(tx, orders, &fresh(&fates)).await?;
    for i in fresh(&fates) {
        if let Some(refusal) = allocate(orders[i], &mut stock, &mut slots, &mut offers) {
            fates[i] = Fate::Done(Box::new(Err(refusal)));
        }
    }
    let placed = fresh(&fates);
    release_keys(tx, orders, &fates).await?;
    write_stock(tx, &stock).await?;
    write_slots(tx, &slots).await?;

    let numbers = pickup_numbers(tx, orders, &placed).await?;
    let sessions = open_sessions(tx, orders, &placed).await?;
    let rounds = rounds(tx, &sessions).await?;
    let records: Vec<Order> = placed
        .iter()
        .map(|&i| {
            let table = sessions.get(&i).copied();
            let round = rounds.get(&i).copied().unwrap_or(1);
            record_of(orders[i], numbers[&i], table, round)
        })
        .collect();
    let limited = limited_stores(orders, &placed, &stock);
    insert_orders(tx, &placed, &records, &limited).await?;
    redeem(tx, orders, &placed, &offers).await?;
    for &i in &placed {
        if let Some(hash) = &orders[i].access_hash {
            super::access::issue_in(tx, orders[i].id, hash, orders[i].now_ms).await?;
        }
    }
    for &i in &placed {
        // Ordering empties the table's shared cart: everyone's lines are in the order now.
        if let Some(table) = &orders[i].table {
            let change = crate::carts::CartChange::Clear;
            crate::carts::apply_in(
                tx,
                orders[i].store_id,
                table.table_id,
                &change,
                orders[i].now_ms,
            )
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
        Err(error) => Err(error.again()),
    }
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
        for (sku_id, _) in orders[i].quote.stock_claims() {
            wanted.entry(orders[i].store_id).or_default().push(sku_id);
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

/// Takes the order's stock and slot place from the locked rows, or says why not (taking nothing).
fn allocate(
    order: &NewOrder,
    stock: &mut StockRows,
    slots: &mut SlotRows,
    offers: &mut OfferRows,
) -> Option<PlaceError> {
    let claims = order.quote.stock_claims();
    let mut trial: Vec<((StoreId, SkuId), SkuStoreState)> = Vec::with_capacity(claims.len());
    for (sku_id, quantity) in &claims {
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
    let redeemed = match take_offers(order, offers) {
        Ok(redeemed) => redeemed,
        Err(refusal) => return Some(refusal),
    };
    if let Some((start, capacity)) = order.slot {
        let taken = slots.get(&(order.store_id, start)).map_or(0, |row| row.now);
        if taken >= capacity {
            give_back(offers, &redeemed);
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

/// A coupon grant as locked: whose it is, whether it is still unused, and when it is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct GrantLock {
    brand_id: BrandId,
    customer_id: CustomerId,
    available: bool,
    valid_from_ms: i64,
    valid_until_ms: i64,
}

/// The coupon grants and per-diner promotion counters the batch touches, locked.
#[derive(Default)]
struct OfferRows {
    grants: BTreeMap<CouponGrantId, Locked<GrantLock>>,
    /// For each grant taken in this batch, the order taking it.
    taken_by: HashMap<CouponGrantId, OrderId>,
    uses: BTreeMap<(PromotionId, CustomerId), Locked<i64>>,
}

/// Locks every coupon grant and limited-promotion counter the batch's orders want, in key
/// order (after stock and slots), so batches on two instances queue instead of deadlocking.
async fn lock_offers(tx: &mut Tx, orders: &[&NewOrder], fresh: &[usize]) -> Result<OfferRows> {
    const ENSURE_USE: &str =
        "INSERT INTO promotion_uses (promotion_id, customer_id, used) VALUES ($1, $2, 0)
        ON CONFLICT (promotion_id, customer_id) DO NOTHING";
    let mut grants = BTreeSet::new();
    let mut uses = BTreeSet::new();
    for &i in fresh {
        for redemption in &orders[i].redemptions {
            match redemption.offer {
                Redeemed::Coupon { grant, .. } => {
                    grants.insert(grant);
                }
                Redeemed::Promotion {
                    id,
                    per_diner_limit: Some(_),
                } => {
                    if let Some(customer) = orders[i].customer_id {
                        uses.insert((id, customer));
                    }
                }
                Redeemed::Promotion { .. } => {}
            }
        }
    }
    let mut rows = OfferRows::default();
    let select_grant = format!(
        "SELECT brand_id, customer_id, state, valid_from_ms, valid_until_ms FROM coupon_grants WHERE id = $1{}",
        for_update(tx)
    );
    for grant in grants {
        let row: Option<(Uuid, Uuid, String, i64, i64)> = on_tx!(tx, |c| sqlx::query_as(
            sqlx::AssertSqlSafe(select_grant.as_str())
        )
        .bind(grant.as_uuid())
        .fetch_optional(&mut *c)
        .await)?;
        if let Some((brand, customer, state, from, until)) = row {
            let lock = GrantLock {
                brand_id: BrandId::from_uuid(brand),
                customer_id: CustomerId::from_uuid(customer),
                available: state == "available",
                valid_from_ms: from,
                valid_until_ms: until,
            };
            rows.grants.insert(
                grant,
                Locked {
                    read: lock,
                    now: lock,
                },
            );
        }
    }
    let select_use = format!(
        "SELECT used FROM promotion_uses WHERE promotion_id = $1 AND customer_id = $2{}",
        for_update(tx)
    );
    for (promotion, customer) in uses {
        on_tx!(tx, |c| sqlx::query(ENSURE_USE)
            .bind(promotion.as_uuid())
            .bind(customer.as_uuid())
            .execute(&mut *c)
            .await
            .map(drop))?;
        let (used,): (i64,) = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            select_use.as_str()
        ))
        .bind(promotion.as_uuid())
        .bind(customer.as_uuid())
        .fetch_one(&mut *c)
        .await)?;
        rows.uses.insert(
            (promotion, customer),
            Locked {
                read: used,
                now: used,
            },
        );
    }
    Ok(rows)
}

/// What one order took from the locked offer rows, to give back if it is refused after all.
#[derive(Default)]
struct TakenOffers {
    grants: Vec<CouponGrantId>,
    uses: Vec<(PromotionId, CustomerId)>,
}

/// Takes the order's coupons and promotion uses from the locked rows, all or none.
fn take_offers(
    order: &NewOrder,
    rows: &mut OfferRows,
) -> std::result::Result<TakenOffers, PlaceError> {
    let mut taken = TakenOffers::default();
    for redemption in &order.redemptions {
        let refusal = match redemption.offer {
            Redeemed::Coupon { grant, .. } => {
                let usable = rows.grants.get(&grant).is_some_and(|row| {
                    let g = row.now;
                    g.available
                        && g.brand_id == order.brand_id
                        && Some(g.customer_id) == order.customer_id
                        && g.valid_from_ms <= order.now_ms
                        && order.now_ms < g.valid_until_ms
                });
                if usable {
                    if let Some(row) = rows.grants.get_mut(&grant) {
                        row.now.available = false;
                    }
                    rows.taken_by.insert(grant, order.id);
                    taken.grants.push(grant);
                    None
                } else {
                    Some(PlaceError::CouponUnavailable(grant))
                }
            }
            Redeemed::Promotion {
                id,
                per_diner_limit: Some(limit),
            } => match order.customer_id.and_then(|customer| {
                rows.uses
                    .get_mut(&(id, customer))
                    .map(|row| (customer, row))
            }) {
                Some((customer, row)) if row.now < limit => {
                    row.now += 1;
                    taken.uses.push((id, customer));
                    None
                }
                _ => Some(PlaceError::PromotionLimitReached(id)),
            },
            Redeemed::Promotion { .. } => None,
        };
        if let Some(refusal) = refusal {
            give_back(rows, &taken);
            return Err(refusal);
        }
    }
    Ok(taken)
}

fn give_back(rows: &mut OfferRows, taken: &TakenOffers) {
    for grant in &taken.grants {
        if let Some(row) = rows.grants.get_mut(grant) {
            row.now.available = true;
        }
        rows.taken_by.remove(grant);
    }
    for key in &taken.uses {
        if let Some(row) = rows.uses.get_mut(key) {
            row.now -= 1;
        }
    }
}

/// Marks the placed orders' coupons used (each only if still available: the count is checked),
/// writes the promotion counters and records every redemption. Runs after the orders are
/// written, which the grants and redemptions refer to.
async fn redeem(
    tx: &mut Tx,
    orders: &[&NewOrder],
    placed: &[usize],
    rows: &OfferRows,
) -> Result<()> {
    const USE_GRANT: &str =
        "UPDATE coupon_grants SET state = 'used', order_id = $2, used_at_ms = $3
        WHERE id = $1 AND state = 'available'";
    const WRITE_USES: &str =
        "UPDATE promotion_uses SET used = $3 WHERE promotion_id = $1 AND customer_id = $2";
    const INSERT_REDEMPTION: &str = "INSERT INTO redemptions (id, brand_id, order_id, customer_id, promotion_id, template_id, grant_id, label, amount_fen, created_at_ms)";
    let now_ms = placed.first().map_or(0, |&i| orders[i].now_ms);
    for (grant, order) in &rows.taken_by {
        let used = on_tx!(tx, |c| sqlx::query(USE_GRANT)
            .bind(grant.as_uuid())
            .bind(order.as_uuid())
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if used != 1 {
            // The row was locked and seen available: only a broken invariant gets here, and the
            // whole batch is rolled back rather than place an order on a coupon used elsewhere.
            return Err(StorageError::Corrupt(format!(
                "coupon grant {grant} changed under its lock"
            )));
        }
    }
    for ((promotion, customer), row) in &rows.uses {
        if row.now == row.read {
            continue;
        }
        on_tx!(tx, |c| sqlx::query(WRITE_USES)
            .bind(promotion.as_uuid())
            .bind(customer.as_uuid())
            .bind(row.now)
            .execute(&mut *c)
            .await
            .map(drop))?;
    }
    let redemption_rows: Vec<Vec<Value>> = placed
        .iter()
        .flat_map(|&i| {
            let order = orders[i];
            order.redemptions.iter().map(move |r| {
                let (promotion, template, grant) = match r.offer {
                    Redeemed::Promotion { id, .. } => (Some(id.as_uuid()), None, None),
                    Redeemed::Coupon { grant, template } => {
                        (None, Some(template.as_uuid()), Some(grant.as_uuid()))
                    }
                };
                vec![
                    Value::Id(Uuid::now_v7()),
                    Value::Id(order.brand_id.as_uuid()),
                    Value::Id(order.id.as_uuid()),
                    Value::MaybeId(order.customer_id.map(|c| c.as_uuid())),
                    Value::MaybeId(promotion),
                    Value::MaybeId(template),
                    Value::MaybeId(grant),
                    Value::Text(r.label.clone()),
                    Value::Int(r.amount.fen()),
                    Value::Int(order.now_ms),
                ]
            })
        })
        .collect();
    if !redemption_rows.is_empty() {
        insert_rows(tx, INSERT_REDEMPTION, "", redemption_rows).await?;
    }
    Ok(())
}

/// A refused order's key is given back, so the diner can try again with it.
async fn release_keys(tx: &mut Tx, orders: &[&NewOrder], fates: &[Fate]) -> Result<()> {
    const RELEASE: &str = "DELETE FROM idempotency_keys WHERE store_id = $1 AND order_id = $2";
    for (order, fate) in orders.iter().zip(fates) {
        let refused_fresh = matches!(fate, Fate::Done(outcome)
            if matches!(**outcome, Err(PlaceError::SoldOut(_) | PlaceError::SlotFull | PlaceError::MenuChanged
                | PlaceError::CouponUnavailable(_) | PlaceError::PromotionLimitReached(_))));
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

/// The table sittings of the placed dine-in orders: the one already open, or one opened now.
async fn open_sessions(
    tx: &mut Tx,
    orders: &[&NewOrder],
    placed: &[usize],
) -> Result<HashMap<usize, TableSessionId>> {
    let mut sessions = HashMap::new();
    for &i in placed {
        let order = orders[i];
        let Some(table) = &order.table else {
            continue;
        };
        let session = match table.session {
            SessionClaim::Open(session) => session,
            SessionClaim::OpenWithOrder { diners } => {
                open_session_in(
                    tx,
                    order.brand_id,
                    order.store_id,
                    table.table_id,
                    diners,
                    order.now_ms,
                )
                .await?
                .id
            }
        };
        sessions.insert(i, session);
    }
    Ok(sessions)
}

/// Dine-in rounds (加菜): the n-th order of a table session is round n.
async fn rounds(
    tx: &mut Tx,
    sessions: &HashMap<usize, TableSessionId>,
) -> Result<HashMap<usize, i64>> {
    const EARLIER: &str = "SELECT COUNT(*) FROM orders WHERE table_session_id = $1";
    let mut seen: HashMap<TableSessionId, i64> = HashMap::new();
    let mut rounds = HashMap::new();
    let mut members: Vec<(usize, TableSessionId)> =
        sessions.iter().map(|(&i, &s)| (i, s)).collect();
    // Arrival order decides which order of a sitting is the earlier round.
    members.sort();
    for (i, session) in members {
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

/// Stores whose counted stock (a count or a daily limit) the placed orders took: their public
/// menus say 仅剩 N 份 or 已售罄, so every instance must drop its copy.
fn limited_stores(orders: &[&NewOrder], placed: &[usize], stock: &StockRows) -> BTreeSet<StoreId> {
    placed
        .iter()
        .filter(|&&i| {
            orders[i].quote.stock_claims().iter().any(|(sku, _)| {
                stock
                    .get(&(orders[i].store_id, *sku))
                    .is_some_and(|row| row.read.stock.is_some() || row.read.daily_limit.is_some())
            })
        })
        .map(|&i| orders[i].store_id)
        .collect()
}

fn record_of(
    order: &NewOrder,
    pickup_number: i64,
    session: Option<TableSessionId>,
    round: i64,
) -> Order {
    Order {
        id: order.id,
        brand_id: order.brand_id,
        store_id: order.store_id,
        channel: order.channel,
        status: order.start.status,
        version: 1,
        table: order
            .table
            .as_ref()
            .zip(session)
            .map(|(t, session_id)| OrderTable {
                table_id: t.table_id,
                session_id,
                code: t.code.clone(),
                area_name: t.area_name.clone(),
            }),
        pickup_number,
        business_date: order.business_date,
        round,
        diners: order.diners,
        total: order.quote.total_fen,
        quote: order.quote.clone(),
        contact_sealed: order.contact_sealed.clone(),
        note: order.note.clone(),
        ready_by_ms: order.ready_by_ms,
        pay_by_ms: order.start.pay_by_ms,
        paid_at_ms: None,
        cancel_requested: false,
        last_hurry_ms: None,
        customer_id: order.customer_id,
        slot_start_ms: order.slot.map(|(start, _)| start),
        placed_at_ms: order.now_ms,
        updated_at_ms: order.now_ms,
    }
}

/// Writes the placed orders, their lines, their first transition, their first event and the
/// announcements of both.
async fn insert_orders(
    tx: &mut Tx,
    placed: &[usize],
    records: &[Order],
    limited: &BTreeSet<StoreId>,
) -> Result<()> {
    if placed.is_empty() {
        return Ok(());
    }
    let mut order_rows = Vec::with_capacity(records.len());
    for r in records {
        order_rows.push(vec![
            Value::Id(r.id.as_uuid()),
            Value::Id(r.brand_id.as_uuid()),
            Value::Id(r.store_id.as_uuid()),
            Value::Text(r.channel.as_str().into()),
            Value::Text(r.status.as_str().into()),
            Value::Int(r.version),
            Value::MaybeId(r.table.as_ref().map(|t| t.session_id.as_uuid())),
            Value::MaybeId(r.table.as_ref().map(|t| t.table_id.as_uuid())),
            Value::MaybeText(r.table.as_ref().map(|t| t.code.clone())),
            Value::MaybeText(r.table.as_ref().map(|t| t.area_name.clone())),
            Value::Int(r.pickup_number),
            Value::Text(r.business_date.to_string()),
            Value::Int(r.round),
            Value::MaybeInt(r.diners),
            Value::Int(r.total.fen()),
            Value::Text(serde_json::to_string(&r.quote)?),
            Value::MaybeText(r.contact_sealed.clone()),
            Value::MaybeText(r.note.clone()),
            Value::MaybeInt(r.ready_by_ms),
            Value::MaybeInt(r.pay_by_ms),
            Value::Bool(r.cancel_requested),
            Value::MaybeId(r.customer_id.map(|c| c.as_uuid())),
            Value::MaybeInt(r.slot_start_ms),
            Value::Int(r.placed_at_ms),
            Value::Int(r.updated_at_ms),
        ]);
    }
    insert_rows(
        tx,
        "INSERT INTO orders (id, brand_id, store_id, channel, status, version, table_session_id, table_id, table_code, area_name,
            pickup_number, business_date, round, diners, total_fen, quote_json, contact_json, note, ready_by_ms, pay_by_ms,
            cancel_requested, customer_id, slot_start_ms, placed_at_ms, updated_at_ms)",
        "",
        order_rows,
    )
    .await?;

    let line_rows = records
        .iter()
        .flat_map(|order| {
            order
                .quote
                .lines
                .iter()
                .enumerate()
                .map(move |(position, line)| {
                    let name = match &line.sku_name {
                        Some(spec) => format!("{}（{spec}）", line.dish_name),
                        None => line.dish_name.clone(),
                    };
                    vec![
                        Value::Id(order.id.as_uuid()),
                        Value::Int(position as i64),
                        Value::Id(line.sku_id.as_uuid()),
                        Value::Id(line.dish_id.as_uuid()),
                        Value::MaybeId(line.station_id.map(|s| s.as_uuid())),
                        Value::Text(name),
                        Value::Int(line.quantity),
                        Value::Int(line.unit_price_fen.fen()),
                        Value::Int(line.line_total_fen.fen()),
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
                Value::Text(OrderEventKind::Placed.as_str().into()),
                Value::Text(super::changes::event_payload(r, "place", None).to_string()),
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
    .await?;

    let mut announcements: Vec<_> = records
        .iter()
        .flat_map(|r| {
            let stream = order_stream(r.id);
            [
                announcement(&stream, vec![stream.clone(), store_channel(r.store_id)]),
                super::board::board_entry(r, OrderEventKind::Placed.as_str(), "place", None),
            ]
        })
        .collect();
    for store in limited {
        let channel = menu_channel(*store);
        announcements.push(announcement(&channel, vec![channel.clone()]));
    }
    let now_ms = records.first().map_or(0, |r| r.placed_at_ms);
    crate::outbox::enqueue(tx, &announcements, now_ms).await
}
