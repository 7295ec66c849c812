//! The shared cart of a table, for every phone that scanned its code, with live updates.

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use diancan_domain::text::{Lines, check_text};
use diancan_domain::validation::{FieldErrors, Problem, check_range};
use diancan_storage::DiningTable;
use diancan_storage::carts::{CartChange, CartSnapshot};
use diancan_storage::events::cart_stream;

/// "小王", "Table guest 2": how a diner names themselves to the table.
const MAX_ADDED_BY_CHARS: usize = 20;
/// A line is the diner's selection (spec, options, note) as JSON, opaque here.
const MAX_LINE_JSON_BYTES: usize = 4_000;

/// Every string in a JSON value, keys included.
fn texts_in(value: &serde_json::Value) -> Box<dyn Iterator<Item = &str> + '_> {
    use serde_json::Value;
    match value {
        Value::String(text) => Box::new(std::iter::once(text.as_str())),
        Value::Array(items) => Box::new(items.iter().flat_map(texts_in)),
        Value::Object(fields) => Box::new(
            fields
                .iter()
                .flat_map(|(key, value)| std::iter::once(key.as_str()).chain(texts_in(value))),
        ),
        _ => Box::new(std::iter::empty()),
    }
}

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
    request_body(content = serde_json::Value, description = r#"{"kind":"put","line_id","line":{…},"quantity","added_by"} | {"kind":"set_quantity","line_id","quantity"} | {"kind":"remove","line_id"} | {"kind":"clear"}. `quantity` 1–99, `added_by` 1–20 characters, `line` at most 4000 bytes of JSON; no control or bidi characters in any text."#),
    responses((status = 200, description = "The cart after the change"), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "CART_FULL: the cart already has its most lines"),
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
            if added_by.trim().is_empty() {
                errors.add("added_by", Problem::Required);
            } else if let Err(problem) = check_text(added_by.trim(), MAX_ADDED_BY_CHARS, Lines::One)
            {
                errors.add("added_by", problem);
            }
            if line.to_string().len() > MAX_LINE_JSON_BYTES {
                errors.add(
                    "line",
                    Problem::TooLong {
                        max: MAX_LINE_JSON_BYTES,
                    },
                );
            } else if !texts_in(line)
                .all(|text| check_text(text, MAX_LINE_JSON_BYTES, Lines::Many).is_ok())
            {
                // Every phone at the table shows this line: no hidden or reversed text in it.
                errors.add("line", Problem::InvalidCharacters);
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
    client: crate::forwarded::ClientIp,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let table = table(&state, &token).await?;
    let owner = format!("table:{}", table.id);
    crate::live::open(state, owner, client, cart_stream(table.id), &headers)
}
