//! The shared cart of a table, for every phone that scanned its code, with live updates.

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use diancan_domain::CartLineId;
use diancan_domain::text::{Lines, check_text, schema_pattern};
use diancan_domain::validation::{FieldErrors, Problem, check_range};
use diancan_storage::DiningTable;
use diancan_storage::carts::{CartChange, CartSnapshot};
use diancan_storage::events::cart_stream;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};

/// "小王", "Table guest 2": how a diner names themselves to the table.
const MAX_ADDED_BY_CHARS: usize = 20;
/// A line is the diner's selection (spec, options, note) as JSON, opaque here.
const MAX_LINE_JSON_BYTES: usize = 4_000;
/// Any one text in a line: a dish name, a note. Small enough that one text at its limit still
/// fits the line's bytes, so a value the document allows is one the API takes.
const MAX_LINE_TEXT_CHARS: usize = 500;

/// One change to the shared cart, one shape per `kind`. Quantities are absolute and line ids
/// are made by the phone, so a change replayed after a reconnect changes nothing more.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CartChangeBody {
    /// Adds the line, or replaces it with this selection and quantity.
    Put {
        line_id: CartLineId,
        /// The phone's selection for this line, kept as sent; at most 4000 bytes of JSON.
        #[schema(value_type = CartLine)]
        line: serde_json::Map<String, serde_json::Value>,
        #[schema(minimum = 1, maximum = 99)]
        quantity: i64,
        /// How the diner names themselves to the table ("小王").
        #[schema(max_length = 20)]
        added_by: String,
    },
    SetQuantity {
        line_id: CartLineId,
        #[schema(minimum = 1, maximum = 99)]
        quantity: i64,
    },
    Remove {
        line_id: CartLineId,
    },
    Clear,
}

impl CartChangeBody {
    fn change(self) -> CartChange {
        match self {
            Self::Put {
                line_id,
                line,
                quantity,
                added_by,
            } => CartChange::Put {
                line_id,
                line: serde_json::Value::Object(line),
                quantity,
                added_by: added_by.trim().to_owned(),
            },
            Self::SetQuantity { line_id, quantity } => {
                CartChange::SetQuantity { line_id, quantity }
            }
            Self::Remove { line_id } => CartChange::Remove { line_id },
            Self::Clear => CartChange::Clear,
        }
    }
}

/// The document's word for a cart line: a JSON object whose every text, keys included, follows
/// the shared text rule (`CartLineValue`).
pub struct CartLine;

impl utoipa::PartialSchema for CartLine {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property_names(Some(line_text()))
            .additional_properties(Some(Ref::from_schema_name("CartLineValue")))
            .into()
    }
}

impl utoipa::ToSchema for CartLine {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push(("CartLineValue".to_owned(), line_value()));
    }
}

fn line_text() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(MAX_LINE_TEXT_CHARS))
        .pattern(Some(schema_pattern(Lines::Many, false, false)))
}

/// Any JSON value whose texts are at most 500 characters without control or bidi characters.
fn line_value() -> RefOr<Schema> {
    let value = || Ref::from_schema_name("CartLineValue");
    OneOfBuilder::new()
        .item(line_text())
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .item(ObjectBuilder::new().schema_type(Type::Boolean))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(ArrayBuilder::new().items(value()))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property_names(Some(line_text()))
                .additional_properties(Some(value())),
        )
        .description(Some(
            "A value in a cart line: texts of at most 500 characters without control or bidi characters, numbers, booleans, null, and lists and objects of these",
        ))
        .into()
}

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

/// One change to the shared cart.
#[utoipa::path(post, path = "/api/v1/tables/{token}/cart", tag = "ordering", params(("token" = String, Path)),
    request_body = CartChangeBody,
    responses((status = 200, description = "The cart after the change"), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "CART_FULL: the cart already has its most lines"),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn change_cart(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiJson(body): ApiJson<CartChangeBody>,
) -> ApiResult<Json<CartSnapshot>> {
    let table = table(&state, &token).await?;
    let mut errors = FieldErrors::new();
    // Checked as sent: the document's limits hold before trimming.
    if let CartChangeBody::Put { added_by, .. } = &body
        && let Err(problem) = check_text(added_by, MAX_ADDED_BY_CHARS, Lines::One)
    {
        errors.add("added_by", problem);
    }
    let change = body.change();
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
            if added_by.is_empty() && errors.is_empty() {
                errors.add("added_by", Problem::Required);
            }
            if line.to_string().len() > MAX_LINE_JSON_BYTES {
                errors.add(
                    "line",
                    Problem::TooLong {
                        max: MAX_LINE_JSON_BYTES,
                    },
                );
            } else if !texts_in(line)
                .all(|text| check_text(text, MAX_LINE_TEXT_CHARS, Lines::Many).is_ok())
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
