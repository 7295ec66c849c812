//! Staff side of ordering (first pieces; the live order board builds on these): today's orders,
//! moving an order along, deciding cancel requests, opening and clearing tables, new QR codes.

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::views::orders::OrderView;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diancan_domain::ordering::OrderCommand;
use diancan_domain::staff::Permission;
use diancan_domain::validation::Problem;
use diancan_domain::*;
use diancan_storage::ordering::TableSession;
use diancan_usecases::ordering;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/orders", tag = "console orders", params(("store_id" = StoreId, Path)),
    responses((status = 200, body = Vec<OrderView>, description = "Today's orders (the store's business day), newest first"),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn todays_orders(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
) -> ApiResult<Json<Vec<OrderView>>> {
    staff.require(Permission::ViewConsole)?;
    let store = staff.store(&state, store_id).await?;
    let rules = &store.profile.rules;
    let day = rules
        .time_zone
        .business_date(state.clock.now(), rules.business_day_starts_at);
    let orders = state.db.store_orders(staff.brand_id, store_id, day).await?;
    Ok(Json(orders.into_iter().map(OrderView::from).collect()))
}

/// What staff do to an order, and the version of the order they acted on.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffOrderAction {
    /// `pay` (cash at the counter), `accept`, `start_preparing`, `mark_ready`, `serve`, `hand_over`,
    /// `dispatch`, `complete`, `cancel`, or `decline_cancel`.
    #[schema(schema_with = command_names, example = "accept")]
    pub action: String,
    /// The order's `version` as the caller saw it; if the order changed since, nothing happens
    /// and the answer is 409 `ORDER_CHANGED` with the order as it is now.
    #[schema(minimum = 1)]
    pub version: i64,
    /// With `cancel`: why the store turns the order down (拒单), told to the diner and kept
    /// in the order's history. Ignored with any other action.
    #[serde(default)]
    #[schema(max_length = 60, example = "菜品售罄")]
    pub reason: Option<String>,
}

/// The commands as an enum in the document, from the domain's own list of names.
fn command_names() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(OrderCommand::NAMES))
        .build()
}

#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/orders/{order_id}/actions", tag = "console orders",
    params(("store_id" = StoreId, Path), ("order_id" = OrderId, Path)), request_body = StaffOrderAction,
    responses((status = 200, body = OrderView), (status = 403, body = crate::error::ErrorBody, description = "The role may not take this action"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "ORDER_CHANGED (stale version), ILLEGAL_TRANSITION, NO_CANCEL_REQUEST; `order` is the order now"),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn act_on_order(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, order_id)): ApiPath<(StoreId, OrderId)>,
    ApiJson(body): ApiJson<StaffOrderAction>,
) -> ApiResult<Json<OrderView>> {
    staff.require(Permission::ViewConsole)?;
    let command = OrderCommand::parse(&body.action).ok_or_else(|| {
        ApiError::invalid_field(
            "action",
            Problem::InvalidChoice {
                allowed: OrderCommand::NAMES.iter().map(|n| n.to_string()).collect(),
            },
        )
    })?;
    let reason = match body.reason.as_deref() {
        Some(text) if !text.trim().is_empty() => Some(
            diancan_domain::text::Name::parse(text)
                .map_err(|problem| ApiError::invalid_field("reason", problem))?,
        ),
        _ => None,
    };
    let order = ordering::act(
        &state,
        &staff.caller(),
        store_id,
        order_id,
        command,
        body.version,
        reason,
    )
    .await?;
    Ok(Json(order.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenTableBody {
    #[serde(default)]
    #[schema(minimum = 1, maximum = 50)]
    pub diners: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct TableSessionView {
    pub id: TableSessionId,
    pub table_id: TableId,
    pub diners: Option<i64>,
    pub opened_at_ms: i64,
}

impl From<TableSession> for TableSessionView {
    fn from(s: TableSession) -> Self {
        TableSessionView {
            id: s.id,
            table_id: s.table_id,
            diners: s.diners,
            opened_at_ms: s.opened_at_ms,
        }
    }
}

async fn store_table(
    state: &AppState,
    staff: &Staff,
    store_id: StoreId,
    table_id: TableId,
) -> ApiResult<diancan_storage::DiningTable> {
    staff.store(state, store_id).await?;
    state
        .db
        .tables(staff.brand_id, store_id)
        .await?
        .into_iter()
        .find(|t| t.id == table_id)
        .ok_or_else(ApiError::not_found)
}

/// 开台: seat diners at a table (returns the open session if there is one).
#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/tables/{table_id}/session", tag = "console orders",
    params(("store_id" = StoreId, Path), ("table_id" = TableId, Path)), request_body = OpenTableBody,
    responses((status = 200, body = TableSessionView), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn open_table(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, table_id)): ApiPath<(StoreId, TableId)>,
    ApiJson(body): ApiJson<OpenTableBody>,
) -> ApiResult<Json<TableSessionView>> {
    staff.require(Permission::ServeTables)?;
    let table = store_table(&state, &staff, store_id, table_id).await?;
    if let Some(diners) = body.diners
        && !(1..=50).contains(&diners)
    {
        return Err(ApiError::invalid_field(
            "diners",
            diancan_domain::validation::Problem::OutOfRange { min: 1, max: 50 },
        ));
    }
    let session = state
        .db
        .open_table_session(
            staff.brand_id,
            store_id,
            table.id,
            body.diners,
            state.clock.now_ms(),
        )
        .await?;
    Ok(Json(session.into()))
}

/// 清台: the bill is settled and the table is free for the next diners.
#[utoipa::path(delete, path = "/api/v1/console/stores/{store_id}/tables/{table_id}/session", tag = "console orders",
    params(("store_id" = StoreId, Path), ("table_id" = TableId, Path)),
    responses((status = 204, description = "Cleared"), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn clear_table(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, table_id)): ApiPath<(StoreId, TableId)>,
) -> ApiResult<StatusCode> {
    staff.require(Permission::ServeTables)?;
    let table = store_table(&state, &staff, store_id, table_id).await?;
    state
        .db
        .close_table_session(staff.brand_id, table.id, state.clock.now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct RotatedToken {
    /// The new path to print; the old code stops working now.
    pub qr_path: String,
}

/// Issues a new QR code for a table; the old one stops working at once.
#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/tables/{table_id}/rotate-token", tag = "console orders",
    params(("store_id" = StoreId, Path), ("table_id" = TableId, Path)),
    responses((status = 200, body = RotatedToken), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn rotate_table_token(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, table_id)): ApiPath<(StoreId, TableId)>,
) -> ApiResult<Json<RotatedToken>> {
    staff.require(Permission::ManageStore)?;
    let table = store_table(&state, &staff, store_id, table_id).await?;
    let token = diancan_usecases::tables::issue(&state.keys.table_token, table.id);
    state
        .db
        .set_table_token(staff.brand_id, table.id, &token)
        .await?;
    Ok(Json(RotatedToken {
        qr_path: format!("/t/{token}"),
    }))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QrQuery {
    /// The public address diners' phones reach, such as `https://order.example.com`; the table
    /// path is appended. Defaults to the address the console was opened on. Bounded: a QR code
    /// holds only so much, and a longer address would not fit one.
    #[param(pattern = "^https?://[!-~]*$", max_length = 200)]
    pub base: Option<String>,
}

/// The longest public address a table card's QR code is drawn for (the schema says the same).
const MAX_QR_BASE_CHARS: usize = 200;

/// The table's QR code as SVG, for printing on table cards.
#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/tables/{table_id}/qr.svg", tag = "console orders",
    params(("store_id" = StoreId, Path), ("table_id" = TableId, Path), QrQuery),
    responses((status = 200, description = "image/svg+xml", content_type = "image/svg+xml"), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn table_qr(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, table_id)): ApiPath<(StoreId, TableId)>,
    crate::extract::ApiQuery(query): crate::extract::ApiQuery<QrQuery>,
    headers: axum::http::HeaderMap,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    staff.require(Permission::ServeTables)?;
    let table = store_table(&state, &staff, store_id, table_id).await?;
    let base = match query.base {
        Some(base)
            if (base.starts_with("https://") || base.starts_with("http://"))
                && base.len() <= MAX_QR_BASE_CHARS
                && base.chars().all(|c| c.is_ascii_graphic()) =>
        {
            base.trim_end_matches('/').to_owned()
        }
        Some(_) => {
            return Err(ApiError::invalid_field(
                "base",
                diancan_domain::validation::Problem::InvalidCharacters,
            ));
        }
        None => {
            let host = headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    let url = format!("{base}/t/{}", table.qr_token);
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(ApiError::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}
