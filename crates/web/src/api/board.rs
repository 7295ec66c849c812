//! The live orders board: today's orders with the point in the store's log they were read at,
//! the log itself as Server-Sent Events (replayed after `Last-Event-ID`, so a board that was
//! offline catches up), and one order's detail with its whole history and its table's bill.

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use crate::views::orders::OrderView;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::response::sse::Event;
use diancan_domain::staff::Permission;
use diancan_domain::store::AutoAccept;
use diancan_domain::*;
use diancan_storage::events::{StoredEvent, orders_stream};
use diancan_storage::ordering::OrderTransition;
use diancan_storage::ordering::board::BoardChange;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa::ToSchema;

/// What a board shows when it opens.
#[derive(Serialize, ToSchema)]
pub struct BoardView {
    /// The store's log version this list was read at: follow `board/events?after=` from here.
    pub stream_version: i64,
    /// Today's orders (the store's business day), newest first.
    pub orders: Vec<OrderView>,
    /// Which channels the store accepts without a tap.
    pub auto_accept: AutoAccept,
    /// The latest delivery of each of these orders that has one (派单), oldest first.
    pub deliveries: Vec<BoardDelivery>,
}

/// Where a delivery order's delivery is, as its card shows it.
#[derive(Serialize, ToSchema)]
pub struct BoardDelivery {
    pub order_id: OrderId,
    pub state: diancan_domain::dispatch::DeliveryState,
    pub state_label: String,
    /// Why it failed or was called back.
    pub note: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/board", tag = "console orders",
    params(("store_id" = StoreId, Path)),
    responses((status = 200, body = BoardView), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn board(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
) -> ApiResult<Json<BoardView>> {
    staff.require(Permission::ViewConsole)?;
    let store = staff.store(&state, store_id).await?;
    let rules = &store.profile.rules;
    // The version first: a change made while the list is read is then replayed, not missed.
    let stream_version = state.db.board_stream_version(store_id).await?;
    let day = rules
        .time_zone
        .business_date(state.clock.now(), rules.business_day_starts_at);
    let orders = state.db.store_orders(staff.brand_id, store_id, day).await?;
    let deliveries = match orders.iter().map(|o| o.placed_at_ms).min() {
        Some(since) => state
            .db
            .store_deliveries_since((staff.brand_id, store_id), since)
            .await?
            .into_iter()
            .map(|d| BoardDelivery {
                order_id: d.order_id,
                state: d.state,
                state_label: d.state.label_zh().to_owned(),
                note: d.note,
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(Json(BoardView {
        stream_version,
        orders: orders.into_iter().map(OrderView::from).collect(),
        auto_accept: rules.auto_accept,
        deliveries,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardEventsQuery {
    /// Events after this version (the board's `stream_version`); `Last-Event-ID` wins.
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// One change on the board, as the stream sends it.
#[derive(Serialize, ToSchema)]
pub struct BoardEvent {
    /// `place`, `pay`, `accept`, `cancel`, `hurry`, `cancel_requested`, …
    pub action: String,
    /// The order event's kind (`order.placed`, `order.status`, `order.hurry`, …).
    pub kind: String,
    /// The order's version this change made; the order below may be newer.
    pub order_version: i64,
    /// The order's status right after this change (the order below may have moved on).
    pub status: String,
    /// Why staff turned the order down, when they did (or why its delivery failed).
    pub reason: Option<String>,
    /// With a delivery's step (`action` `delivery`, `dispatch`, `complete`): the state the
    /// delivery is in after it (`assigned`, `picked_up`, `delivered`, `failed`, …).
    pub delivery_state: Option<String>,
    /// The order as it is now.
    pub order: OrderView,
}

/// The store's orders as Server-Sent Events, replayed after `Last-Event-ID` (or `after`).
#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/board/events", tag = "console orders",
    params(("store_id" = StoreId, Path), BoardEventsQuery),
    responses((status = 200, description = "text/event-stream: `order` events (data: a BoardEvent), each with the log version as `id`; `heartbeat` after 2 s of silence"),
        (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody, description = "TOO_MANY_STREAMS")))]
pub async fn board_events(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<BoardEventsQuery>,
    client: crate::forwarded::ClientIp,
    headers: HeaderMap,
) -> ApiResult<Response> {
    staff.require(Permission::ViewConsole)?;
    staff.store(&state, store_id).await?;
    if query.after.is_some_and(|after| after < 0) {
        return Err(ApiError::bad_request(
            "INVALID_QUERY",
            "after 不能为负数",
            "`after` must not be negative",
        ));
    }
    let after = crate::live::resume_after(&headers, query.after);
    let brand = staff.brand_id;
    let hydrate: crate::live::Hydrate = Arc::new(move |state, stored| {
        Box::pin(async move { with_orders(&state, brand, store_id, stored).await })
    });
    // Counted per staff account, as the kitchen's streams are.
    crate::live::open_hydrated(
        state,
        format!("staff:{}", staff.id),
        client,
        orders_stream(store_id),
        after,
        crate::live::heartbeat(),
        hydrate,
    )
}

/// Each stored change with its order as it is now: one read for the whole batch. A change
/// whose order cannot be read is skipped (logged by storage); the rest still go out.
async fn with_orders(
    state: &AppState,
    brand: BrandId,
    store: StoreId,
    stored: Vec<StoredEvent>,
) -> Result<Vec<Event>, String> {
    let changes: Vec<(i64, BoardChange)> = stored
        .into_iter()
        .filter_map(|e| {
            serde_json::from_str::<BoardChange>(&e.payload_json)
                .ok()
                .map(|c| (e.stream_version, c))
        })
        .collect();
    let mut ids: Vec<OrderId> = changes.iter().map(|(_, c)| c.order_id).collect();
    ids.sort();
    ids.dedup();
    let orders: HashMap<OrderId, diancan_domain::ordering::Order> = state
        .db
        .store_orders_by_ids(brand, store, &ids)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut events = Vec::with_capacity(changes.len());
    for (version, change) in changes {
        let Some(order) = orders.get(&change.order_id) else {
            continue;
        };
        let event = BoardEvent {
            action: change.action,
            kind: change.kind,
            order_version: change.order_version,
            status: change.status,
            reason: change.reason,
            delivery_state: change.delivery_state,
            order: OrderView::from(order.clone()),
        };
        let data = serde_json::to_string(&event).map_err(|e| e.to_string())?;
        events.push(
            Event::default()
                .id(version.to_string())
                .event("order")
                .data(data),
        );
    }
    Ok(events)
}

/// One step of an order's history.
#[derive(Serialize, ToSchema)]
pub struct OrderStepView {
    pub version: i64,
    pub from_status: Option<String>,
    pub to_status: String,
    pub action: String,
    /// `diner`, `staff:<id>`, `system:<what>`, or a gateway.
    pub actor: String,
    /// The staff member's name when a staff member did it.
    pub actor_name: Option<String>,
    pub at_ms: i64,
    pub reason: Option<String>,
}

/// A dine-in sitting's bill: every round of the table, and what they come to.
#[derive(Serialize, ToSchema)]
pub struct TableBillView {
    pub table_session_id: TableSessionId,
    /// Every order of the sitting (round 1, then each 加菜), oldest first.
    pub orders: Vec<OrderView>,
    /// The rounds not cancelled, added up.
    pub total_fen: i64,
    /// What of that is still unpaid.
    pub unpaid_fen: i64,
}

/// An order with everything that happened to it.
#[derive(Serialize, ToSchema)]
pub struct OrderDetailView {
    pub order: OrderView,
    pub history: Vec<OrderStepView>,
    pub table_bill: Option<TableBillView>,
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/orders/{order_id}", tag = "console orders",
    params(("store_id" = StoreId, Path), ("order_id" = OrderId, Path)),
    responses((status = 200, body = OrderDetailView), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn order_detail(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, order_id)): ApiPath<(StoreId, OrderId)>,
) -> ApiResult<Json<OrderDetailView>> {
    staff.require(Permission::ViewConsole)?;
    staff.store(&state, store_id).await?;
    let order = state
        .db
        .store_orders_by_ids(staff.brand_id, store_id, &[order_id])
        .await?
        .pop()
        .ok_or_else(ApiError::not_found)?;
    let history = state.db.order_history(order_id).await?;
    let names = staff_names(&state, staff.brand_id, &history).await?;
    let table_bill = match &order.table {
        Some(table) => Some(table_bill(
            table.session_id,
            state.db.session_orders(table.session_id).await?,
        )?),
        None => None,
    };
    Ok(Json(OrderDetailView {
        order: OrderView::from(order).with_cancel_reason(&history),
        history: history
            .into_iter()
            .map(|step| OrderStepView {
                actor_name: names.get(&step.actor).cloned(),
                version: step.version,
                from_status: step.from_status,
                to_status: step.to_status,
                action: step.action,
                actor: step.actor,
                at_ms: step.at_ms,
                reason: step.reason,
            })
            .collect(),
        table_bill,
    }))
}

fn table_bill(
    session: TableSessionId,
    orders: Vec<diancan_domain::ordering::Order>,
) -> ApiResult<TableBillView> {
    use diancan_domain::ordering::OrderStatus;
    let counted = || orders.iter().filter(|o| o.status != OrderStatus::Cancelled);
    let overflow = || ApiError::internal("a table bill does not fit in i64 fen");
    let total = Money::checked_sum(counted().map(|o| o.total)).ok_or_else(overflow)?;
    let unpaid = Money::checked_sum(counted().filter(|o| !o.is_paid()).map(|o| o.total))
        .ok_or_else(overflow)?;
    Ok(TableBillView {
        table_session_id: session,
        orders: orders.into_iter().map(OrderView::from).collect(),
        total_fen: total.fen(),
        unpaid_fen: unpaid.fen(),
    })
}

/// The names of the staff a history names (`staff:<id>`), from the brand's accounts.
async fn staff_names(
    state: &AppState,
    brand: BrandId,
    history: &[OrderTransition],
) -> ApiResult<HashMap<String, String>> {
    if !history.iter().any(|s| s.actor.starts_with("staff:")) {
        return Ok(HashMap::new());
    }
    Ok(state
        .db
        .staff_names(brand)
        .await?
        .into_iter()
        .map(|(id, name)| (format!("staff:{id}"), name))
        .collect())
}
