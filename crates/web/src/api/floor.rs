//! The floor plan over the API: every table with its state (live over SSE), and 换台 / 并台.

use crate::api::console_orders::TableSessionView;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use diancan_domain::ordering::{OrderStatus, TableState};
use diancan_domain::*;
use diancan_storage::events::store_channel;
use diancan_usecases::floor::{self, FloorTable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One table as the floor plan draws it.
#[derive(Serialize, ToSchema)]
pub struct FloorTableView {
    pub id: TableId,
    pub area_id: AreaId,
    /// "A3"
    pub code: String,
    pub seats: i64,
    pub state: TableState,
    pub session: Option<TableSessionView>,
    /// Orders of the sitting that are not cancelled (every round, joined tables included).
    pub orders: i64,
    pub total_fen: i64,
    pub unpaid_fen: i64,
}

#[derive(Serialize, ToSchema)]
pub struct FloorView {
    pub tables: Vec<FloorTableView>,
}

fn view(tables: Vec<FloorTable>) -> ApiResult<FloorView> {
    let mut out = Vec::with_capacity(tables.len());
    for t in tables {
        let live: Vec<_> = t
            .orders
            .iter()
            .filter(|o| o.status != OrderStatus::Cancelled)
            .collect();
        let overflow = || ApiError::internal("a table's bill does not fit in i64 fen");
        let total = Money::checked_sum(live.iter().map(|o| o.total)).ok_or_else(overflow)?;
        let unpaid = Money::checked_sum(live.iter().filter(|o| !o.is_paid()).map(|o| o.total))
            .ok_or_else(overflow)?;
        out.push(FloorTableView {
            id: t.table.id,
            area_id: t.table.area_id,
            code: t.table.code,
            seats: t.table.seats,
            state: t.state,
            session: t.session.map(TableSessionView::from),
            orders: live.len() as i64,
            total_fen: total.fen(),
            unpaid_fen: unpaid.fen(),
        });
    }
    Ok(FloorView { tables: out })
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/floor", tag = "console orders",
    params(("store_id" = StoreId, Path)),
    responses((status = 200, body = FloorView), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn floor_plan(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
) -> ApiResult<Json<FloorView>> {
    staff.store(&state, store_id).await?;
    let tables = floor::floor(&state, &staff.caller(), store_id).await?;
    Ok(Json(view(tables)?))
}

/// The floor plan as Server-Sent Events: the whole plan on connect and whenever a table's
/// sitting or one of its orders changes.
#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/floor/events", tag = "console orders",
    params(("store_id" = StoreId, Path)),
    responses((status = 200, description = "text/event-stream: `floor` (data: a FloorView) on connect and whenever it changes; `heartbeat` after 2 s of silence"),
        (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody, description = "TOO_MANY_STREAMS")))]
pub async fn floor_events(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
    client: crate::forwarded::ClientIp,
) -> ApiResult<Response> {
    staff.store(&state, store_id).await?;
    let caller = staff.caller();
    floor::floor(&state, &caller, store_id).await?;
    let read = move |state: AppState| {
        let caller = caller.clone();
        async move {
            let tables = floor::floor(&state, &caller, store_id)
                .await
                .map_err(|e| e.to_string())?;
            let view = view(tables).map_err(|e| e.to_string())?;
            serde_json::to_string(&view).map_err(|e| e.to_string())
        }
    };
    let owner = format!("staff:{}", staff.id);
    crate::live::open_snapshots(state, owner, client, store_channel(store_id), "floor", read)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// The empty table the diners move to.
    pub to_table_id: TableId,
}

/// 换台: the diners move to an empty table, their orders and bill with them.
#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/tables/{table_id}/transfer", tag = "console orders",
    params(("store_id" = StoreId, Path), ("table_id" = TableId, Path)), request_body = TransferBody,
    responses((status = 200, body = TableSessionView, description = "The sitting, now at the new table"),
        (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "No such table, or nobody seated at it"),
        (status = 409, body = crate::error::ErrorBody, description = "TABLE_TAKEN"),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn transfer_table(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, table_id)): ApiPath<(StoreId, TableId)>,
    ApiJson(body): ApiJson<TransferBody>,
) -> ApiResult<Json<TableSessionView>> {
    staff.store(&state, store_id).await?;
    let session = floor::transfer(
        &state,
        &staff.caller(),
        store_id,
        table_id,
        body.to_table_id,
    )
    .await?;
    Ok(Json(session.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The seated table whose bill the diners join.
    pub into_table_id: TableId,
}

/// 并台: the diners at this table join another seated table's bill; this table is free again.
#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/tables/{table_id}/merge", tag = "console orders",
    params(("store_id" = StoreId, Path), ("table_id" = TableId, Path)), request_body = MergeBody,
    responses((status = 200, body = TableSessionView, description = "The sitting both tables now share"),
        (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "No such table, or nobody seated at it"),
        (status = 409, body = crate::error::ErrorBody, description = "TABLE_NOT_OPEN: nobody sits at the table to join"),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn merge_tables(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, table_id)): ApiPath<(StoreId, TableId)>,
    ApiJson(body): ApiJson<MergeBody>,
) -> ApiResult<Json<TableSessionView>> {
    staff.store(&state, store_id).await?;
    let session = floor::merge(
        &state,
        &staff.caller(),
        store_id,
        table_id,
        body.into_table_id,
    )
    .await?;
    Ok(Json(session.into()))
}
