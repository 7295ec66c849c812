//! The shared cart of a table, for every phone that scanned its code, with live updates.

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use diancan_domain::validation::{FieldErrors, Problem, check_range};
use diancan_storage::DiningTable;
use diancan_storage::carts::{CartChange, CartSnapshot};
use diancan_storage::events::cart_stream;

const MAX_CART_LINES: usize = 60;

async fn table(state: &AppState, token: &str) -> ApiResult<DiningTable> {
    Ok(diancan_usecases::tables::resolve(state, token).await?)
}

#[utoipa::path(get, path = "/api/v1/tables/{token}/cart", tag = "ordering", params(("token" = String, Path)),
    responses((status = 200, description = "The table's shared cart: {table_id, version, lines[{id, line, quantity, added_by, updated_at_ms}]}"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_cart(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<CartSnapshot>> {
    let table = table(&state, &token).await?;
    Ok(Json(state.db.cart(table.id).await?))
}

/// One change to the shared cart. Quantities are absolute and line ids are made by the phone,
/// so a change replayed after a reconnect changes nothing more.
#[utoipa::path(post, path = "/api/v1/tables/{token}/cart", tag = "ordering", params(("token" = String, Path)),
    request_body(content = serde_json::Value, description = r#"{"kind":"put","line_id","line":{…},"quantity","added_by"} | {"kind":"set_quantity","line_id","quantity"} | {"kind":"remove","line_id"} | {"kind":"clear"}"#),
    responses((status = 200, description = "The cart after the change"), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn change_cart(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiJson(change): ApiJson<CartChange>,
) -> ApiResult<Json<CartSnapshot>> {
    let table = table(&state, &token).await?;
    let mut errors = FieldErrors::new();
    match &change {
        CartChange::Put {
            line,
            quantity,
            added_by,
            ..
        } => {
            check_range(
                &mut errors,
                "quantity",
                *quantity,
                1,
                diancan_domain::ordering::MAX_QUANTITY,
            );
            if added_by.trim().is_empty() || added_by.chars().count() > 20 {
                errors.add("added_by", Problem::OutOfRange { min: 1, max: 20 });
            }
            if line.to_string().len() > 4_000 {
                errors.add("line", Problem::TooLong { max: 4_000 });
            }
            if state.db.cart(table.id).await?.lines.len() >= MAX_CART_LINES {
                errors.add(
                    "line",
                    Problem::TooLarge {
                        max: MAX_CART_LINES as i64,
                    },
                );
            }
        }
        CartChange::SetQuantity { quantity, .. } => check_range(
            &mut errors,
            "quantity",
            *quantity,
            1,
            diancan_domain::ordering::MAX_QUANTITY,
        ),
        CartChange::Remove { .. } | CartChange::Clear => {}
    }
    errors.finish(|| ())?;
    let snapshot = state
        .db
        .change_cart(table.store_id, table.id, &change, state.clock.now_ms())
        .await?;
    Ok(Json(snapshot))
}

/// Live cart changes as Server-Sent Events (`cart.changed`, id = cart version).
#[utoipa::path(get, path = "/api/v1/tables/{token}/cart/events", tag = "ordering", params(("token" = String, Path)),
    responses((status = 200, description = "text/event-stream of cart.changed"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn cart_events(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let table = table(&state, &token).await?;
    let after = crate::live::last_event_id(&headers);
    Ok(crate::live::stream_events(state, cart_stream(table.id), after).into_response())
}
