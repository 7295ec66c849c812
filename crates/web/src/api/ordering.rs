//! Diner ordering: quote, place (idempotent, re-priced, stock taken atomically), follow the order
//! live, hurry it up, cancel it. Each handler parses, calls one use case, and maps its result.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::forwarded::ClientIp;
use crate::order_pass::{OrderPass, StreamPass};
use crate::state::AppState;
use crate::views::orders::{OrderHistory, OrderSecretView, OrderView, PlacedOrderView};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use diancan_domain::ordering::{Channel, LineRequest, Quote};
use diancan_domain::store::GeoPoint;
use diancan_domain::*;
use diancan_storage::events::order_stream;
use diancan_usecases::contact::Contact;
use diancan_usecases::ordering::{self, Cart, PlaceOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What the diner wants priced.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteBody {
    pub channel: Channel,
    #[schema(min_items = 1, max_items = 50)]
    pub lines: Vec<LineRequest>,
    /// Dine-in: how many diners (tableware and seat fee); 1–50 whatever the channel.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 50)]
    pub diners: Option<i64>,
    #[serde(default)]
    pub delivery_to: Option<GeoPoint>,
    /// Dine-in: the token from the table's QR code.
    #[serde(default)]
    pub table_token: Option<String>,
    /// The promotions and coupons the diner picked, as the quote names them (`promotion:<id>`,
    /// `coupon:<id>`); leave it out to get the best combination. An empty list uses none.
    #[serde(default)]
    #[schema(max_items = 64)]
    pub chosen: Option<Vec<String>>,
}

/// A quote plus what the kitchen and the rider need, under an `Idempotency-Key` header.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderBody {
    pub channel: Channel,
    #[schema(min_items = 1, max_items = 50)]
    pub lines: Vec<LineRequest>,
    /// Dine-in: how many diners (tableware and seat fee); 1–50 whatever the channel.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 50)]
    pub diners: Option<i64>,
    #[serde(default)]
    pub delivery_to: Option<GeoPoint>,
    #[serde(default)]
    pub table_token: Option<String>,
    /// As in the quote: the diner's own pick of promotions and coupons, or none for the best.
    #[serde(default)]
    #[schema(max_items = 64)]
    pub chosen: Option<Vec<String>>,
    /// The `version` of the quote the diner confirmed.
    pub quote_version: String,
    #[serde(default)]
    pub contact: Option<Contact>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub delivery_address: Option<String>,
    /// "asap" (default) or a local time "HH:MM" today.
    #[serde(default)]
    pub pickup_time: Option<String>,
    /// For the whole order; may span lines.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub note: Option<String>,
}

/// The document bounds `diners` for every channel; pricing only looks at it for dine-in.
fn check_diners(diners: Option<i64>) -> ApiResult<()> {
    use diancan_domain::ordering::{MAX_DINERS, QuoteError};
    match diners {
        Some(diners) if !(1..=MAX_DINERS).contains(&diners) => Err(diancan_usecases::Error::Quote(
            QuoteError::DinersOutOfRange { max: MAX_DINERS },
        )
        .into()),
        _ => Ok(()),
    }
}

/// The diner's pick, parsed at the edge: each entry must name a promotion or a coupon.
pub(crate) fn parse_chosen(
    chosen: Option<Vec<String>>,
) -> ApiResult<Option<Vec<diancan_domain::promotions::OfferRef>>> {
    use diancan_domain::validation::{FieldErrors, Problem};
    let Some(chosen) = chosen else {
        return Ok(None);
    };
    let mut errors = FieldErrors::new();
    if chosen.len() > 64 {
        errors.add("chosen", Problem::TooLarge { max: 64 });
    }
    let mut offers = Vec::with_capacity(chosen.len());
    for (i, source) in chosen.iter().enumerate() {
        match diancan_domain::ordering::parse_offer_source(source) {
            Some(offer) => offers.push(offer),
            None => errors.add(format!("chosen[{i}]"), Problem::UnknownReference),
        }
    }
    Ok(errors
        .finish(|| Some(offers))
        .map_err(diancan_usecases::Error::from)?)
}

impl QuoteBody {
    fn cart(self) -> ApiResult<Cart> {
        Ok(Cart {
            channel: self.channel,
            lines: self.lines,
            diners: self.diners,
            delivery_to: self.delivery_to,
            table_token: self.table_token,
            chosen: parse_chosen(self.chosen)?,
        })
    }
}

impl PlaceOrderBody {
    fn order(self, idempotency_key: String, customer: Option<CustomerId>) -> ApiResult<PlaceOrder> {
        Ok(PlaceOrder {
            cart: Cart {
                channel: self.channel,
                lines: self.lines,
                diners: self.diners,
                delivery_to: self.delivery_to,
                table_token: self.table_token,
                chosen: parse_chosen(self.chosen)?,
            },
            quote_version: self.quote_version,
            contact: self.contact,
            delivery_address: self.delivery_address,
            pickup_time: self.pickup_time,
            note: self.note,
            customer,
            idempotency_key,
        })
    }
}

/// Prices a cart: the authoritative breakdown the checkout shows, with the best combination of
/// the store's promotions and (signed in) the diner's coupons, or the diner's own pick.
#[utoipa::path(post, path = "/api/v1/stores/{store_id}/quote", tag = "ordering", params(("store_id" = StoreId, Path)),
    request_body = QuoteBody,
    responses((status = 200, body = Quote), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody, description = "A cart the store cannot take now: STORE_CLOSED (outside its hours or paused), LINE_PROBLEMS (a dish or spec that is not on this menu, off the shelf or sold out, per line in `details`), OUTSIDE_DELIVERY_ZONES, BELOW_MINIMUM_ORDER, DELIVERY_ADDRESS_REQUIRED, EMPTY_ORDER, TOO_MANY_LINES, DINERS_OUT_OF_RANGE, TOTAL_TOO_LARGE, OFFERS_REFUSED (the chosen promotions or coupons cannot be used, each reason in `details`); or a body that breaks a rule (VALIDATION_FAILED)")))]
pub async fn quote_order(
    State(state): State<AppState>,
    ApiPath(store_id): ApiPath<StoreId>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<QuoteBody>,
) -> ApiResult<Json<Quote>> {
    check_diners(body.diners)?;
    let customer = signed_in_customer(&state, &headers, store_id).await;
    let diner = diancan_usecases::marketing::Diner::at(&state, store_id, customer).await?;
    Ok(Json(
        ordering::quote(&state, store_id, &body.cart()?, diner).await?,
    ))
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<String> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    let valid = (8..=100).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(ApiError::bad_request(
            "IDEMPOTENCY_KEY_REQUIRED",
            "下单请求需要 Idempotency-Key 请求头（8–100 位字母数字）",
            "Placing an order needs an Idempotency-Key header (8–100 letters, digits, - or _)",
        ));
    }
    Ok(key.to_owned())
}

/// The diner behind a customer session, if any, and only for this store's brand: guests order too.
async fn signed_in_customer(
    state: &AppState,
    headers: &HeaderMap,
    store: StoreId,
) -> Option<CustomerId> {
    let token = crate::customer_session::customer_token(headers)?;
    let record = state
        .db
        .session_customer(&crate::auth::token_hash(&token), state.clock.now_ms())
        .await
        .ok()?;
    let menu = state.menus.get(state, store).await.ok()?;
    (record.brand_id == menu.store.brand_id).then_some(record.id)
}

#[utoipa::path(get, path = "/api/v1/customer/orders", tag = "customer",
    responses((status = 200, body = OrderHistory), (status = 401, body = crate::error::ErrorBody)))]
pub async fn customer_orders(
    State(state): State<AppState>,
    customer: crate::customer_session::Customer,
) -> ApiResult<Json<OrderHistory>> {
    let orders = state.db.customer_orders(customer.id).await?;
    Ok(Json(OrderHistory::of(orders)))
}

/// Places an order. Send the same `Idempotency-Key` on every retry: you get the same order back,
/// never a second one.
#[utoipa::path(post, path = "/api/v1/stores/{store_id}/orders", tag = "ordering",
    params(("store_id" = StoreId, Path), ("Idempotency-Key" = String, Header, pattern = "^[A-Za-z0-9_-]{8,100}$", description = "Unique per checkout; reuse it for retries")),
    request_body = PlaceOrderBody,
    responses((status = 201, body = PlacedOrderView), (status = 200, body = PlacedOrderView, description = "The same key was sent before: that order (a guest gets a new secret; the earlier one stops working)"),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "STALE_QUOTE, SOLD_OUT, SLOT_FULL, MENU_CHANGED, IDEMPOTENCY_KEY_REUSED, TABLE_NOT_OPEN, COUPON_UNAVAILABLE (a chosen coupon was used on another order meanwhile or expired: nothing was placed), PROMOTION_LIMIT_REACHED"),
        (status = 422, body = crate::error::ErrorBody, description = "A cart the store cannot take now: STORE_CLOSED (outside its hours or paused), LINE_PROBLEMS (a dish or spec that is not on this menu, off the shelf or sold out, per line in `details`), OUTSIDE_DELIVERY_ZONES, BELOW_MINIMUM_ORDER, DELIVERY_ADDRESS_REQUIRED, EMPTY_ORDER, TOO_MANY_LINES, DINERS_OUT_OF_RANGE, TOTAL_TOO_LARGE, INVALID_PICKUP_TIME, OFFERS_REFUSED; or a body that breaks a rule (VALIDATION_FAILED)")))]
pub async fn place_order(
    State(state): State<AppState>,
    ApiPath(store_id): ApiPath<StoreId>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PlaceOrderBody>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    check_diners(body.diners)?;
    let customer = signed_in_customer(&state, &headers, store_id).await;
    let placed = ordering::place(&state, store_id, body.order(key, customer)?).await?;
    let status = if placed.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let placed = PlacedOrderView {
        access_secret: placed.secret.map(|s| s.reveal().to_owned()),
        order: placed.order.into(),
    };
    Ok((status, Json(placed)).into_response())
}

/// The diner's order: with their customer session, or with the secret handed out at placement.
#[utoipa::path(get, path = "/api/v1/orders/{order_id}", tag = "ordering", params(("order_id" = OrderId, Path), OrderPass),
    responses((status = 200, body = OrderView)))]
pub async fn get_order(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<OrderId>,
    OrderPass(pass): OrderPass,
) -> ApiResult<Json<OrderView>> {
    let order = ordering::diner_order(&state, id, &pass).await?;
    if order.status != diancan_domain::ordering::OrderStatus::Cancelled {
        return Ok(Json(order.into()));
    }
    // A cancelled order tells the diner why, when the store said.
    let history = state.db.order_history(id).await?;
    Ok(Json(OrderView::from(order).with_cancel_reason(&history)))
}

/// Live order status as Server-Sent Events, replayed after `Last-Event-ID`. The stream ends
/// after its lifetime (about 30 minutes); `EventSource` reconnects by itself and misses nothing.
#[utoipa::path(get, path = "/api/v1/orders/{order_id}/events", tag = "ordering", params(("order_id" = OrderId, Path), StreamPass),
    responses((status = 200, description = "text/event-stream: order.placed, order.status, order.hurry, order.cancel_requested, order.cancel_declined; id = order version")))]
pub async fn order_events(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<OrderId>,
    OrderPass(pass): StreamPass,
    client: ClientIp,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let order = ordering::diner_order(&state, id, &pass).await?;
    // Counted per diner when their session opened it, else per order (its guest's phones).
    let owner = match order.customer_id {
        Some(customer) if pass.customer == Some(customer) => format!("customer:{customer}"),
        _ => format!("order:{id}"),
    };
    crate::live::open(state, owner, client, order_stream(id), &headers)
}

/// 催单: at most once every two minutes per order.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/hurry", tag = "ordering", params(("order_id" = OrderId, Path), OrderPass),
    responses((status = 202, description = "The kitchen was told"),
        (status = 409, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn hurry_order(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<OrderId>,
    OrderPass(pass): OrderPass,
) -> ApiResult<StatusCode> {
    ordering::hurry(&state, id, &pass).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Cancels at once before the store accepts; afterwards asks the store, which confirms or declines.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/cancel", tag = "ordering", params(("order_id" = OrderId, Path), OrderPass),
    responses((status = 200, body = OrderView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn cancel_order(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<OrderId>,
    OrderPass(pass): OrderPass,
) -> ApiResult<Json<OrderView>> {
    Ok(Json(
        ordering::diner_cancel(&state, id, &pass).await?.into(),
    ))
}

/// Replaces the order's access secret: the one sent stops working, the new one is in the answer
/// (a diner who shared a link takes it back this way).
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/secret", tag = "ordering", params(("order_id" = OrderId, Path), OrderPass),
    responses((status = 200, body = OrderSecretView)))]
pub async fn rotate_order_secret(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<OrderId>,
    OrderPass(pass): OrderPass,
) -> ApiResult<Json<OrderSecretView>> {
    let secret = ordering::rotate_secret(&state, id, &pass).await?;
    Ok(Json(OrderSecretView {
        access_secret: secret.reveal().to_owned(),
    }))
}

/// Revokes the order's access secret: afterwards only the diner's session (and staff) reach it.
#[utoipa::path(delete, path = "/api/v1/orders/{order_id}/secret", tag = "ordering", params(("order_id" = OrderId, Path), OrderPass),
    responses((status = 204, description = "The secret no longer opens the order")))]
pub async fn revoke_order_secret(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<OrderId>,
    OrderPass(pass): OrderPass,
) -> ApiResult<StatusCode> {
    ordering::revoke_secret(&state, id, &pass).await?;
    Ok(StatusCode::NO_CONTENT)
}
