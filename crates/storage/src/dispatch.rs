//! Deliveries in the database. Every step of a delivery is one transaction: the order's row is
//! locked first, the delivery is read under that lock and the domain decides on both, then the
//! delivery, its history row and the order's change (its status, history, event and outbox rows,
//! through the same `change_in` every order change takes) commit together. Locking the order
//! first is what makes two staff giving the same order out at once leave one delivery; the
//! partial unique index on active deliveries says so again in the schema.

use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::ordering::{ChangeError, ChangeRequest, Decide, change_in, lock_order};
use crate::tx::Tx;
use diancan_domain::dispatch::*;
use diancan_domain::ordering::{Actor, Order, OrderRefusal};
use diancan_domain::*;
use std::sync::Arc;
use uuid::Uuid;

const DELIVERY_COLUMNS: &str = "id, order_id, brand_id, store_id, rider_staff_id, provider, external_id, state, fee_fen, rider_name, note, version, created_at_ms, updated_at_ms";
const INSERT_DELIVERY: &str = "INSERT INTO deliveries (id, order_id, brand_id, store_id, rider_staff_id, provider, external_id, state, fee_fen, rider_name, note, version, created_at_ms, updated_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
const UPDATE_DELIVERY: &str = "UPDATE deliveries SET state = $2, rider_name = $3, note = $4, version = $5, updated_at_ms = $6 WHERE id = $1 AND version = $7";
const INSERT_EVENT: &str = "INSERT INTO delivery_events (delivery_id, version, from_state, to_state, actor, note, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const ORDER_OF_DELIVERY: &str = "SELECT order_id FROM deliveries WHERE id = $1";
const ORDER_OF_EXTERNAL: &str =
    "SELECT order_id FROM deliveries WHERE provider = $1 AND external_id = $2";
const SELECT_EVENTS: &str = "SELECT delivery_id, version, from_state, to_state, actor, note, at_ms FROM delivery_events WHERE delivery_id = $1 ORDER BY version";
const ACTIVE_STATES: &str = "('requested', 'assigned', 'picked_up')";

type DeliveryRow = (
    Uuid,
    Uuid,
    Uuid,
    Uuid,
    Option<Uuid>,
    Option<String>,
    Option<String>,
    String,
    i64,
    Option<String>,
    Option<String>,
    i64,
    i64,
    i64,
);

type EventRow = (
    Uuid,
    i64,
    Option<String>,
    String,
    String,
    Option<String>,
    i64,
);

fn state(text: &str) -> Result<DeliveryState> {
    DeliveryState::parse(text)
        .ok_or_else(|| StorageError::Corrupt(format!("delivery state {text:?}")))
}

fn delivery_from(row: DeliveryRow) -> Result<Delivery> {
    let courier = match (row.4, row.5, row.6) {
        (Some(rider), None, None) => Courier::OwnRider {
            staff_id: StaffId::from_uuid(rider),
        },
        (None, Some(provider), Some(external_id)) => Courier::Provider {
            provider,
            external_id,
        },
        _ => {
            return Err(StorageError::Corrupt(format!(
                "delivery {} names no courier",
                row.0
            )));
        }
    };
    Ok(Delivery {
        id: DeliveryId::from_uuid(row.0),
        order_id: OrderId::from_uuid(row.1),
        brand_id: BrandId::from_uuid(row.2),
        store_id: StoreId::from_uuid(row.3),
        courier,
        state: state(&row.7)?,
        fee: Money::from_fen(row.8),
        rider_name: row.9,
        note: row.10,
        version: row.11,
        created_at_ms: row.12,
        updated_at_ms: row.13,
    })
}

fn event_from(row: EventRow) -> Result<DeliveryEvent> {
    Ok(DeliveryEvent {
        delivery_id: DeliveryId::from_uuid(row.0),
        version: row.1,
        from_state: row.2.as_deref().map(state).transpose()?,
        to_state: state(&row.3)?,
        actor: row.4,
        note: row.5,
        at_ms: row.6,
    })
}

/// Which delivery a step is about.
#[derive(Debug, Clone)]
pub enum DeliveryKey {
    /// The order's active delivery, if it has one (派单 looks for none).
    ActiveOf(OrderId),
    Id(DeliveryId),
    /// A courier's report names its own id for the delivery.
    Courier {
        provider: String,
        external_id: String,
    },
}

/// The domain's decision on the locked order and its delivery (`None` when there is none yet):
/// a change, nothing to change (a repeated report), or a refusal.
pub type PlanDelivery = Box<dyn FnOnce(&Order, Option<&Delivery>) -> StepOutcome + Send>;

pub struct DeliveryRequest {
    pub key: DeliveryKey,
    /// Staff act within their brand and store: a delivery elsewhere is "not found". `None` for
    /// a courier, whose report is matched by its own id.
    pub scope: Option<(BrandId, StoreId)>,
    /// Who moves the order, as its history records it.
    pub actor: Actor,
    pub plan: PlanDelivery,
    pub now_ms: i64,
}

/// What a step did.
#[derive(Debug)]
pub struct DeliveryMoved {
    /// The delivery now: `None` only when a refusal-free plan found nothing to change and
    /// there is no delivery.
    pub delivery: Option<Delivery>,
    pub order: Order,
    /// False when the step was already taken (a repeated or late report): nothing was written.
    pub changed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("no such delivery")]
    NotFound,
    #[error("{0}")]
    Refused(DeliveryRefusal),
    /// The order refused the step it takes along (it changed meanwhile).
    #[error("{refusal}")]
    OrderRefused {
        refusal: OrderRefusal,
        order: Box<Order>,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A delivery with its history, oldest step first.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    pub delivery: Delivery,
    pub events: Vec<DeliveryEvent>,
}

async fn read_delivery(tx: &mut Tx, key: &DeliveryKey, order: OrderId) -> Result<Option<Delivery>> {
    let (filter, text): (String, Option<(&str, &str)>) = match key {
        DeliveryKey::ActiveOf(_) => (format!("order_id = $1 AND state IN {ACTIVE_STATES}"), None),
        DeliveryKey::Id(_) => ("order_id = $1 AND id = $2".into(), None),
        DeliveryKey::Courier {
            provider,
            external_id,
        } => (
            "order_id = $1 AND provider = $2 AND external_id = $3".into(),
            Some((provider, external_id)),
        ),
    };
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE {filter}");
    let row: Option<DeliveryRow> = on_tx!(tx, |c| {
        let query = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(order.as_uuid());
        let query = match (key, text) {
            (DeliveryKey::Id(id), _) => query.bind(id.as_uuid()),
            (_, Some((provider, external_id))) => query.bind(provider).bind(external_id),
            _ => query,
        };
        query.fetch_optional(&mut *c).await
    })?;
    row.map(delivery_from).transpose()
}

/// Which order the step's delivery belongs to, before anything is locked.
async fn order_of(tx: &mut Tx, key: &DeliveryKey) -> Result<Option<OrderId>> {
    let row: Option<(Uuid,)> = match key {
        DeliveryKey::ActiveOf(order) => return Ok(Some(*order)),
        DeliveryKey::Id(id) => on_tx!(tx, |c| sqlx::query_as(ORDER_OF_DELIVERY)
            .bind(id.as_uuid())
            .fetch_optional(&mut *c)
            .await)?,
        DeliveryKey::Courier {
            provider,
            external_id,
        } => on_tx!(tx, |c| sqlx::query_as(ORDER_OF_EXTERNAL)
            .bind(provider.as_str())
            .bind(external_id.as_str())
            .fetch_optional(&mut *c)
            .await)?,
    };
    Ok(row.map(|(id,)| OrderId::from_uuid(id)))
}

async fn write_delivery(tx: &mut Tx, decision: &DeliveryDecision) -> Result<()> {
    let d = &decision.delivery;
    if decision.event.from_state.is_none() {
        let (rider, provider, external_id) = match &d.courier {
            Courier::OwnRider { staff_id } => (Some(staff_id.as_uuid()), None, None),
            Courier::Provider {
                provider,
                external_id,
            } => (None, Some(provider.as_str()), Some(external_id.as_str())),
        };
        on_tx!(tx, |c| sqlx::query(INSERT_DELIVERY)
            .bind(d.id.as_uuid())
            .bind(d.order_id.as_uuid())
            .bind(d.brand_id.as_uuid())
            .bind(d.store_id.as_uuid())
            .bind(rider)
            .bind(provider)
            .bind(external_id)
            .bind(d.state.as_str())
            .bind(d.fee.fen())
            .bind(d.rider_name.as_deref())
            .bind(d.note.as_deref())
            .bind(d.version)
            .bind(d.created_at_ms)
            .bind(d.updated_at_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
    } else {
        let done = on_tx!(tx, |c| sqlx::query(UPDATE_DELIVERY)
            .bind(d.id.as_uuid())
            .bind(d.state.as_str())
            .bind(d.rider_name.as_deref())
            .bind(d.note.as_deref())
            .bind(d.version)
            .bind(d.updated_at_ms)
            .bind(d.version - 1)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if done != 1 {
            // Every step locks the order first, so this means a write that skipped the lock.
            return Err(StorageError::Conflict {
                constraint: "deliveries.version".into(),
            });
        }
    }
    let e = &decision.event;
    on_tx!(tx, |c| sqlx::query(INSERT_EVENT)
        .bind(e.delivery_id.as_uuid())
        .bind(e.version)
        .bind(e.from_state.map(DeliveryState::as_str))
        .bind(e.to_state.as_str())
        .bind(e.actor.as_str())
        .bind(e.note.as_deref())
        .bind(e.at_ms)
        .execute(&mut *c)
        .await
        .map(drop))?;
    Ok(())
}

/// The order's changes a delivery's step takes along: its status actions, or a notice that
/// bumps its version and tells its stream and the board what the delivery is now.
fn order_requests(
    decision: &DeliveryDecision,
    actor: &Actor,
    scope: (BrandId, StoreId),
    now_ms: i64,
) -> Vec<ChangeRequest> {
    let state = decision.delivery.state.as_str();
    let order_id = decision.delivery.order_id;
    let request = |decide: Decide| ChangeRequest {
        order_id,
        scope: Some(scope),
        decide,
        now_ms,
    };
    if decision.order_actions.is_empty() {
        let note = decision.event.note.clone();
        return vec![request(Arc::new(move |o: &Order| {
            Ok(o.note_delivery(state, note.as_deref()))
        }))];
    }
    decision
        .order_actions
        .iter()
        .map(|&action| {
            let actor = actor.clone();
            request(Arc::new(move |o: &Order| {
                o.delivery_transition(action, &actor, state, now_ms)
            }))
        })
        .collect()
}

impl Db {
    /// Takes one step of a delivery (or makes a new one) as `request.plan` decides, with the
    /// order's change it takes along, in one transaction.
    pub async fn move_delivery(
        &self,
        request: DeliveryRequest,
    ) -> std::result::Result<DeliveryMoved, DeliveryError> {
        let mut tx = self.begin().await?;
        let Some(order_id) = order_of(&mut tx, &request.key).await? else {
            tx.rollback().await?;
            return Err(DeliveryError::NotFound);
        };
        let order = match lock_order(&mut tx, order_id).await? {
            Some(order)
                if request.scope.is_none_or(|(brand, store)| {
                    order.brand_id == brand && order.store_id == store
                }) =>
            {
                order
            }
            _ => {
                tx.rollback().await?;
                return Err(DeliveryError::NotFound);
            }
        };
        let current = read_delivery(&mut tx, &request.key, order_id).await?;
        if current.is_none() && !matches!(request.key, DeliveryKey::ActiveOf(_)) {
            tx.rollback().await?;
            return Err(DeliveryError::NotFound);
        }
        let decision = match (request.plan)(&order, current.as_ref()) {
            Ok(Some(decision)) => decision,
            Ok(None) => {
                tx.rollback().await?;
                return Ok(DeliveryMoved {
                    delivery: current,
                    order,
                    changed: false,
                });
            }
            Err(refusal) => {
                tx.rollback().await?;
                return Err(DeliveryError::Refused(refusal));
            }
        };
        let scope = (order.brand_id, order.store_id);
        let requests = order_requests(&decision, &request.actor, scope, request.now_ms);
        let refs: Vec<&ChangeRequest> = requests.iter().collect();
        let mut changed = None;
        for outcome in change_in(&mut tx, &refs).await? {
            match outcome {
                Ok(order) => changed = Some(order),
                Err(ChangeError::Refused { refusal, order }) => {
                    tx.rollback().await?;
                    return Err(DeliveryError::OrderRefused { refusal, order });
                }
                Err(ChangeError::NotFound) => {
                    tx.rollback().await?;
                    return Err(DeliveryError::NotFound);
                }
                Err(ChangeError::Storage(error)) => return Err(error.into()),
            }
        }
        match write_delivery(&mut tx, &decision).await {
            Ok(()) => {}
            Err(StorageError::Conflict { .. }) => {
                tx.rollback().await?;
                return Err(DeliveryError::Refused(DeliveryRefusal::AlreadyAssigned));
            }
            Err(error) => return Err(error.into()),
        }
        tx.commit().await?;
        self.outbox_bell().notify_one();
        Ok(DeliveryMoved {
            delivery: Some(decision.delivery),
            order: changed.unwrap_or(order),
            changed: true,
        })
    }

    /// Every delivery of an order in `scope`, newest first, each with its history.
    pub async fn deliveries_of_order(
        &self,
        scope: (BrandId, StoreId),
        order: OrderId,
    ) -> Result<Vec<DeliveryRecord>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE order_id = $1 AND brand_id = $2 AND store_id = $3 ORDER BY created_at_ms DESC, id DESC"
        );
        let rows: Vec<DeliveryRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(order.as_uuid())
                .bind(scope.0.as_uuid())
                .bind(scope.1.as_uuid())
                .fetch_all(p)
                .await)?;
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            let delivery = delivery_from(row)?;
            let events: Vec<EventRow> = on_pool!(self, |p| sqlx::query_as(SELECT_EVENTS)
                .bind(delivery.id.as_uuid())
                .fetch_all(p)
                .await)?;
            let events = events.into_iter().map(event_from).collect::<Result<_>>()?;
            records.push(DeliveryRecord { delivery, events });
        }
        Ok(records)
    }

    /// The latest delivery of an order (active or not), for the diner's page.
    pub async fn latest_delivery(&self, order: OrderId) -> Result<Option<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE order_id = $1 ORDER BY created_at_ms DESC, id DESC LIMIT 1"
        );
        let row: Option<DeliveryRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(order.as_uuid())
                .fetch_optional(p)
                .await)?;
        row.map(delivery_from).transpose()
    }

    /// The deliveries of `scope` made at or after `since_ms`, oldest first (the board's
    /// today: the latest of each order is what its card shows).
    pub async fn store_deliveries_since(
        &self,
        scope: (BrandId, StoreId),
        since_ms: i64,
    ) -> Result<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE brand_id = $1 AND store_id = $2 AND created_at_ms >= $3 ORDER BY created_at_ms, id"
        );
        let rows: Vec<DeliveryRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(scope.0.as_uuid())
                .bind(scope.1.as_uuid())
                .bind(since_ms)
                .fetch_all(p)
                .await)?;
        rows.into_iter().map(delivery_from).collect()
    }

    /// The active deliveries `rider` carries in `scope`, oldest first.
    pub async fn rider_deliveries(
        &self,
        scope: (BrandId, StoreId),
        rider: StaffId,
    ) -> Result<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE rider_staff_id = $1 AND brand_id = $2 AND store_id = $3 AND state IN {ACTIVE_STATES} ORDER BY created_at_ms, id"
        );
        let rows: Vec<DeliveryRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(rider.as_uuid())
                .bind(scope.0.as_uuid())
                .bind(scope.1.as_uuid())
                .fetch_all(p)
                .await)?;
        rows.into_iter().map(delivery_from).collect()
    }
}
