//! Diner ordering: quote, place (idempotent, re-priced, stock taken atomically), follow the order
//! live, hurry it up, cancel it.

use crate::error::{ApiError, ApiResult, ErrorDetail};
use crate::extract::{ApiJson, ApiPath};
use crate::menu_cache::CachedMenu;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use diancan_domain::ordering::{
    Channel, LineRequest, OrderStatus, PricingContext, Quote, QuoteError, QuoteRequest,
    fingerprint, quote,
};
use diancan_domain::schedule::{BusinessDate, TimeOfDay, parse_time_zone};
use diancan_domain::store::{GeoPoint, PayMode, TableOrdering};
use diancan_domain::*;
use diancan_storage::DiningTable;
use diancan_storage::ordering::{
    NewOrder, NewOrderLine, OrderRecord, PlaceError, Placed, StockClaim, order_stream,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What the diner wants priced.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteBody {
    pub channel: Channel,
    pub lines: Vec<LineRequest>,
    #[serde(default)]
    pub diners: Option<i64>,
    #[serde(default)]
    pub delivery_to: Option<GeoPoint>,
    /// Dine-in: the token from the table's QR code.
    #[serde(default)]
    pub table_token: Option<String>,
}

/// A quote plus what the kitchen and the rider need, under an `Idempotency-Key` header.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderBody {
    pub channel: Channel,
    pub lines: Vec<LineRequest>,
    #[serde(default)]
    pub diners: Option<i64>,
    #[serde(default)]
    pub delivery_to: Option<GeoPoint>,
    #[serde(default)]
    pub table_token: Option<String>,
    /// The `version` of the quote the diner confirmed.
    pub quote_version: String,
    #[serde(default)]
    pub contact: Option<Contact>,
    #[serde(default)]
    pub delivery_address: Option<String>,
    /// "asap" (default) or a local time "HH:MM" today.
    #[serde(default)]
    pub pickup_time: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    pub phone: String,
}

/// An order as the diner (and the console) sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: OrderId,
    pub store_id: StoreId,
    pub channel: Channel,
    pub status: OrderStatus,
    pub status_label: String,
    pub version: i64,
    pub pickup_number: i64,
    pub table_code: Option<String>,
    pub area_name: Option<String>,
    /// 1 for the first order at a table, 2 for the first 加菜, …
    pub round: i64,
    pub diners: Option<i64>,
    pub quote: Quote,
    pub note: Option<String>,
    pub placed_at_ms: i64,
    pub ready_by_ms: Option<i64>,
    pub pay_by_ms: Option<i64>,
    pub cancel_requested: bool,
    pub can_cancel: bool,
    pub can_hurry: bool,
}

pub async fn order_view(state: &AppState, record: OrderRecord) -> ApiResult<OrderView> {
    let (table_code, area_name) = match record.table_id {
        Some(table) => {
            let tables = state.db.tables(record.brand_id, record.store_id).await?;
            let areas = state.db.areas(record.brand_id, record.store_id).await?;
            let found = tables.into_iter().find(|t| t.id == table);
            let area = found
                .as_ref()
                .and_then(|t| areas.into_iter().find(|a| a.id == t.area_id))
                .map(|a| a.name);
            (found.map(|t| t.code), area)
        }
        None => (None, None),
    };
    let quote: Quote = serde_json::from_str(&record.quote_json).map_err(ApiError::internal)?;
    Ok(OrderView {
        id: record.id,
        store_id: record.store_id,
        channel: record.channel,
        status: record.status,
        status_label: record.status.label_zh().to_owned(),
        version: record.version,
        pickup_number: record.pickup_number,
        table_code,
        area_name,
        round: record.round,
        diners: record.diners,
        quote,
        note: record.note,
        placed_at_ms: record.placed_at_ms,
        ready_by_ms: record.ready_by_ms,
        pay_by_ms: record.pay_by_ms,
        cancel_requested: record.cancel_requested,
        can_cancel: !record.status.is_final() && !record.cancel_requested,
        can_hurry: matches!(
            record.status,
            OrderStatus::Placed | OrderStatus::Accepted | OrderStatus::Preparing
        ),
    })
}

fn quote_error(error: QuoteError) -> ApiError {
    let unprocessable = |code, zh: String, en: String| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, zh, en)
    };
    match error {
        QuoteError::StoreClosed { opens_at } => {
            let when = opens_at.map(|t| t.replace('T', " ")).unwrap_or_default();
            let (zh, en) = if when.is_empty() {
                (
                    "门店暂停营业，暂不接单".to_owned(),
                    "The store is not taking orders right now".to_owned(),
                )
            } else {
                (
                    format!("门店已打烊，{when} 开始营业"),
                    format!("The store is closed; it opens at {when}"),
                )
            };
            unprocessable("STORE_CLOSED", zh, en)
        }
        QuoteError::Empty => unprocessable(
            "EMPTY_ORDER",
            "购物车是空的".into(),
            "The cart is empty".into(),
        ),
        QuoteError::TooManyLines { max } => unprocessable(
            "TOO_MANY_LINES",
            format!("一次最多 {max} 行"),
            format!("At most {max} lines per order"),
        ),
        QuoteError::Lines(lines) => {
            let details = lines
                .iter()
                .map(|l| ErrorDetail {
                    field: format!("lines[{}]", l.index),
                    code: l.problem.code().to_owned(),
                    message: l.problem.message_zh(&l.item),
                    message_en: l.problem.message_en(&l.item),
                })
                .collect();
            let first = lines
                .first()
                .map(|l| (l.problem.message_zh(&l.item), l.problem.message_en(&l.item)))
                .unwrap_or_default();
            unprocessable("LINE_PROBLEMS", first.0, first.1).with_details(details)
        }
        QuoteError::DinersOutOfRange { max } => unprocessable(
            "DINERS_OUT_OF_RANGE",
            format!("就餐人数需在 1 到 {max} 之间"),
            format!("Diners must be 1 to {max}"),
        ),
        QuoteError::DeliveryAddressRequired => unprocessable(
            "DELIVERY_ADDRESS_REQUIRED",
            "请填写送餐地址".into(),
            "Enter a delivery address".into(),
        ),
        QuoteError::OutsideDeliveryZones => unprocessable(
            "OUTSIDE_DELIVERY_ZONES",
            "该地址不在配送范围内，可选择到店自取".into(),
            "This address is outside the delivery area; try pickup".into(),
        ),
        QuoteError::TotalTooLarge => unprocessable(
            "TOTAL_TOO_LARGE",
            "订单金额有误，暂不能下单".into(),
            "The order total is out of range; it cannot be placed".into(),
        ),
        QuoteError::BelowMinimumOrder {
            minimum_fen,
            subtotal_fen,
        } => unprocessable(
            "BELOW_MINIMUM_ORDER",
            format!("起送价 {minimum_fen}，还差 {}", minimum_fen - subtotal_fen),
            format!(
                "Minimum order {minimum_fen}; add {} more",
                minimum_fen - subtotal_fen
            ),
        ),
    }
}

/// The table a token names, if it is valid and belongs to this store.
async fn table_for(state: &AppState, store_id: StoreId, token: &str) -> ApiResult<DiningTable> {
    let table = crate::table_token::resolve(state, token).await?;
    if table.store_id != store_id {
        return Err(crate::table_token::unknown_table_code());
    }
    Ok(table)
}

fn price(menu: &CachedMenu, request: &QuoteRequest) -> ApiResult<Quote> {
    let rules = &menu.store.profile.rules;
    let context = PricingContext {
        menu: &menu.menu,
        store_open: menu.open_now,
        opens_at: menu.opens_at.clone(),
        packing_fee: rules.packing_fee,
        seat_fee_fen: rules.seat_fee_fen,
        store_location: menu.store.profile.location,
        delivery_zones: &rules.delivery_zones,
    };
    quote(&context, request).map_err(quote_error)
}

/// Prices a cart: the authoritative breakdown the checkout shows.
#[utoipa::path(post, path = "/api/v1/stores/{store_id}/quote", tag = "ordering", params(("store_id" = StoreId, Path)),
    request_body = QuoteBody,
    responses((status = 200, body = Quote), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn quote_order(
    State(state): State<AppState>,
    ApiPath(store_id): ApiPath<StoreId>,
    ApiJson(body): ApiJson<QuoteBody>,
) -> ApiResult<Json<Quote>> {
    if let (Channel::DineIn, Some(token)) = (body.channel, &body.table_token) {
        table_for(&state, store_id, token).await?;
    }
    let menu = state.menus.get_current(&state, store_id).await?;
    let request = QuoteRequest {
        channel: body.channel,
        lines: body.lines,
        diners: body.diners,
        delivery_to: body.delivery_to,
    };
    Ok(Json(price(&menu, &request)?))
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

fn stock_claims(quote: &Quote) -> Vec<StockClaim> {
    quote
        .stock_claims()
        .into_iter()
        .map(|(sku_id, quantity)| StockClaim { sku_id, quantity })
        .collect()
}

/// The slot a pickup or delivery order takes when the store limits orders per slot.
fn slot_claim(
    rules: &diancan_domain::store::StoreRules,
    ready_by_ms: Option<i64>,
) -> Option<(i64, i64)> {
    let capacity = rules.slots.capacity_per_slot as i64;
    let width = rules.slots.slot_minutes.max(1) as i64 * 60_000;
    ready_by_ms
        .filter(|_| capacity > 0)
        .map(|at| (at - at.rem_euclid(width), capacity))
}

/// The diner behind a customer session, if any, and only for this brand: guests order too.
async fn signed_in_customer(
    state: &AppState,
    headers: &HeaderMap,
    brand: BrandId,
) -> Option<CustomerId> {
    let token = crate::customer_session::customer_token(headers)?;
    let record = state
        .db
        .session_customer(&crate::auth::token_hash(&token), state.clock.now_ms())
        .await
        .ok()?;
    (record.brand_id == brand).then_some(record.id)
}

/// A diner's order history and what they have spent.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderHistory {
    pub orders: Vec<OrderView>,
    /// Sum of the totals of orders that were not cancelled.
    pub spent_fen: i64,
}

#[utoipa::path(get, path = "/api/v1/customer/orders", tag = "customer",
    responses((status = 200, body = OrderHistory), (status = 401, body = crate::error::ErrorBody)))]
pub async fn customer_orders(
    State(state): State<AppState>,
    customer: crate::customer_session::Customer,
) -> ApiResult<Json<OrderHistory>> {
    let records = state.db.customer_orders(customer.id).await?;
    let spent_fen = records
        .iter()
        .filter(|o| o.status != OrderStatus::Cancelled)
        .map(|o| o.total_fen)
        .sum();
    let mut orders = Vec::new();
    for record in records {
        orders.push(order_view(&state, record).await?);
    }
    Ok(Json(OrderHistory { orders, spent_fen }))
}

/// When a pickup order should be ready: as soon as the kitchen can, or at a chosen time today.
fn ready_by(
    menu: &CachedMenu,
    pickup_time: Option<&str>,
    now: jiff::Timestamp,
) -> ApiResult<Option<i64>> {
    let rules = &menu.store.profile.rules;
    let earliest = now.as_millisecond() + rules.slots.lead_minutes as i64 * 60_000;
    let Some(text) = pickup_time.filter(|t| *t != "asap") else {
        return Ok(Some(earliest));
    };
    let bad = || {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_PICKUP_TIME",
            format!(
                "取餐时间需为营业时间内、至少 {} 分钟后",
                rules.slots.lead_minutes
            ),
            format!(
                "Pickup time must be within opening hours and at least {} minutes from now",
                rules.slots.lead_minutes
            ),
        )
    };
    let time = TimeOfDay::parse(text).map_err(|_| bad())?;
    let zone =
        parse_time_zone(&rules.time_zone).map_err(|_| ApiError::internal("store time zone"))?;
    let today = now.to_zoned_datetime(zone.clone()).datetime().date();
    let local = today.at(
        (time.minutes() / 60) as i8,
        (time.minutes() % 60) as i8,
        0,
        0,
    );
    let at = local
        .to_zoned_datetime(zone)
        .map_err(|_| bad())?
        .timestamp()
        .as_millisecond();
    if at < earliest || !rules.hours.contains(local) {
        return Err(bad());
    }
    Ok(Some(at))
}

/// Places an order. Send the same `Idempotency-Key` on every retry: you get the same order back,
/// never a second one.
#[utoipa::path(post, path = "/api/v1/stores/{store_id}/orders", tag = "ordering",
    params(("store_id" = StoreId, Path), ("Idempotency-Key" = String, Header, description = "Unique per checkout; reuse it for retries")),
    request_body = PlaceOrderBody,
    responses((status = 201, body = OrderView), (status = 200, body = OrderView, description = "The same key was sent before: that order"),
        (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody, description = "STALE_QUOTE, SOLD_OUT, SLOT_FULL, MENU_CHANGED, IDEMPOTENCY_KEY_REUSED, TABLE_NOT_OPEN"),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn place_order(
    State(state): State<AppState>,
    ApiPath(store_id): ApiPath<StoreId>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PlaceOrderBody>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    let request_hash = fingerprint(&serde_json::to_vec(&body).map_err(ApiError::internal)?);
    // The cached menu prices the order; the write checks it is still the current one, so a menu
    // edit on another instance costs one repricing here rather than a query on every order.
    let mut menu = state.menus.get(&state, store_id).await?;
    let mut repriced = false;
    loop {
        let store = menu.store.clone();
        let rules = &store.profile.rules;
        let now = state.clock.now();

        let (table, session) = match (body.channel, &body.table_token) {
            (Channel::DineIn, Some(token)) => {
                let table = table_for(&state, store_id, token).await?;
                let open = state.db.open_table_session_of(table.id).await?;
                let session = match (open, rules.table_ordering) {
                    (Some(session), _) => session,
                    (None, TableOrdering::OpenOnFirstScan) => {
                        state
                            .db
                            .open_table_session(
                                store.brand_id,
                                store_id,
                                table.id,
                                body.diners,
                                now.as_millisecond(),
                            )
                            .await?
                    }
                    (None, TableOrdering::RequireOpenTable) => {
                        return Err(ApiError::new(
                            StatusCode::CONFLICT,
                            "TABLE_NOT_OPEN",
                            "本桌尚未开台，请联系服务员开台后点餐",
                            "This table is not open yet; ask a waiter to open it",
                        ));
                    }
                };
                (Some(table), Some(session))
            }
            (Channel::DineIn, None) => {
                return Err(ApiError::invalid_field(
                    "table_token",
                    diancan_domain::validation::Problem::Required,
                ));
            }
            _ => (None, None),
        };
        let request = QuoteRequest {
            channel: body.channel,
            lines: body.lines.clone(),
            diners: body.diners,
            delivery_to: body.delivery_to,
        };
        let quote = price(&menu, &request)?;
        if quote.version != body.quote_version && !repriced {
            // This instance's menu may be older than the one the diner was quoted from.
            repriced = true;
            menu = state.menus.get_current(&state, store_id).await?;
            continue;
        }
        if quote.version != body.quote_version {
            let fresh = serde_json::to_value(&quote).map_err(ApiError::internal)?;
            return Ok((
                StatusCode::CONFLICT,
                Json(serde_json::json!({"error": {
                    "code": "STALE_QUOTE",
                    "message": format!("价格或菜品有变化，请确认新的金额 {}", quote.total_fen),
                    "message_en": format!("Prices or items changed; please confirm the new total {}", quote.total_fen),
                    "quote": fresh,
                }})),
            )
                .into_response());
        }
        let contact_json = match (body.channel, &body.contact) {
            (Channel::Delivery, None) => {
                return Err(ApiError::invalid_field(
                    "contact",
                    diancan_domain::validation::Problem::Required,
                ));
            }
            (_, Some(contact)) => Some(crate::contact::seal(
                &state,
                contact,
                body.delivery_address.as_deref(),
            )?),
            (_, None) => None,
        };
        let mut note_errors = diancan_domain::validation::FieldErrors::new();
        let note = diancan_domain::text::optional_note(
            &mut note_errors,
            "note",
            body.note.as_deref(),
            200,
        );
        note_errors.finish(|| ())?;
        let zone =
            parse_time_zone(&rules.time_zone).map_err(|_| ApiError::internal("store time zone"))?;
        let business_date = BusinessDate::of(now, &zone, rules.business_day_starts_at);
        let pay_first = rules.pay_mode == PayMode::PayFirst || body.channel != Channel::DineIn;
        let status = if pay_first {
            OrderStatus::AwaitingPayment
        } else {
            OrderStatus::Placed
        };
        let ready_by_ms = if body.channel == Channel::DineIn {
            None
        } else {
            ready_by(&menu, body.pickup_time.as_deref(), now)?
        };
        let order = NewOrder {
            id: OrderId::new(),
            brand_id: store.brand_id,
            store_id,
            channel: body.channel,
            status,
            table_session_id: session.as_ref().map(|s| s.id),
            table_id: table.as_ref().map(|t| t.id),
            business_date,
            diners: body.diners,
            total_fen: quote.total_fen.fen(),
            quote_json: serde_json::to_string(&quote).map_err(ApiError::internal)?,
            contact_json,
            note,
            ready_by_ms,
            pay_by_ms: pay_first
                .then(|| now.as_millisecond() + rules.unpaid_timeout_minutes as i64 * 60_000),
            lines: quote
                .lines
                .iter()
                .map(|l| NewOrderLine {
                    sku_id: l.sku_id,
                    dish_id: l.dish_id,
                    station_id: l.station_id,
                    name: match &l.sku_name {
                        Some(spec) => format!("{}（{spec}）", l.dish_name),
                        None => l.dish_name.clone(),
                    },
                    quantity: l.quantity,
                    unit_price_fen: l.unit_price_fen.fen(),
                    line_total_fen: l.line_total_fen.fen(),
                })
                .collect(),
            stock: stock_claims(&quote),
            idempotency_key: key.clone(),
            request_hash: request_hash.clone(),
            clears_cart_of: table.as_ref().map(|t| t.id),
            customer_id: signed_in_customer(&state, &headers, store.brand_id).await,
            slot: slot_claim(rules, ready_by_ms),
            menu_revision: Some(menu.revision),
            now_ms: now.as_millisecond(),
        };
        let placed = state.db.place_order(&order).await;
        if matches!(placed, Err(PlaceError::MenuChanged)) && !repriced {
            // The menu changed after this instance cached it: price again from the current one.
            repriced = true;
            menu = state.menus.get_current(&state, store_id).await?;
            continue;
        }
        let (status_code, record) = match placed {
            Ok(Placed::Created(record)) => (StatusCode::CREATED, record),
            Ok(Placed::Replayed(record)) => (StatusCode::OK, record),
            Err(PlaceError::KeyReused) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "IDEMPOTENCY_KEY_REUSED",
                    "该请求编号已用于另一个订单，请重新提交",
                    "This Idempotency-Key was used for a different order; submit again",
                ));
            }
            Err(PlaceError::SlotFull) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "SLOT_FULL",
                    "该时段订单已满，请选择其他取餐时间",
                    "That time slot is full; choose another time",
                ));
            }
            Err(PlaceError::SoldOut(sku)) => {
                let name = quote
                    .lines
                    .iter()
                    .find(|l| l.sku_id == sku)
                    .map(|l| l.dish_name.clone())
                    .unwrap_or_default();
                state.menus.invalidate_all();
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "SOLD_OUT",
                    format!("{name}刚刚售罄"),
                    format!("{name} just sold out"),
                ));
            }
            Err(PlaceError::MenuChanged) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "MENU_CHANGED",
                    "菜单刚刚更新，请重新确认后下单",
                    "The menu was just updated; please check your order again",
                ));
            }
            Err(PlaceError::Storage(error)) => return Err(error.into()),
        };
        if status_code == StatusCode::CREATED {
            state.live.notify(&order_stream(record.id));
            if let Some(table) = &table {
                state
                    .live
                    .notify(&diancan_storage::ordering::cart_stream(table.id));
            }
            // Only counted stock changes what the public menu says (sold out, 仅剩 N 份).
            let limited: std::collections::HashSet<SkuId> = menu
                .menu
                .categories
                .iter()
                .flat_map(|c| &c.dishes)
                .flat_map(|d| &d.skus)
                .filter(|s| s.limited)
                .map(|s| s.id)
                .collect();
            if quote
                .stock_claims()
                .iter()
                .any(|(sku, _)| limited.contains(sku))
            {
                state.menus.invalidate_all();
            }
        }
        return Ok((status_code, Json(order_view(&state, record).await?)).into_response());
    }
}

#[utoipa::path(get, path = "/api/v1/orders/{order_id}", tag = "ordering", params(("order_id" = OrderId, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_order(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<OrderId>,
) -> ApiResult<Json<OrderView>> {
    let record = state.db.order(id).await?;
    Ok(Json(order_view(&state, record).await?))
}

/// Live order status as Server-Sent Events, replayed after `Last-Event-ID`.
#[utoipa::path(get, path = "/api/v1/orders/{order_id}/events", tag = "ordering", params(("order_id" = OrderId, Path)),
    responses((status = 200, description = "text/event-stream: order.placed, order.status, order.hurry, order.cancel_requested, order.cancel_declined; id = order version"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn order_events(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<OrderId>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    state.db.order(id).await?;
    let after = crate::live::last_event_id(&headers);
    Ok(crate::live::stream_events(state, order_stream(id), after).into_response())
}

/// 催单: at most once every two minutes per order.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/hurry", tag = "ordering", params(("order_id" = OrderId, Path)),
    responses((status = 202, description = "The kitchen was told"), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn hurry_order(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<OrderId>,
) -> ApiResult<StatusCode> {
    const HURRY_EVERY_MS: i64 = 2 * 60 * 1000;
    let order = state.db.order(id).await?;
    if !matches!(
        order.status,
        OrderStatus::Placed | OrderStatus::Accepted | OrderStatus::Preparing
    ) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "CANNOT_HURRY",
            "当前状态无需催单",
            "This order cannot be hurried now",
        ));
    }
    let now = state.clock.now_ms();
    if !state.db.hurry_order(id, now, now - HURRY_EVERY_MS).await? {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "HURRY_TOO_SOON",
            "已经催过了，后厨正在加紧制作，请两分钟后再催",
            "The kitchen was just reminded; try again in two minutes",
        ));
    }
    state.live.notify(&order_stream(id));
    Ok(StatusCode::ACCEPTED)
}

/// Cancels at once before the store accepts; afterwards asks the store, which confirms or declines.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/cancel", tag = "ordering", params(("order_id" = OrderId, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn cancel_order(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<OrderId>,
) -> ApiResult<Json<OrderView>> {
    let order = state.db.order(id).await?;
    let now = state.clock.now_ms();
    let record = if order.status.diner_may_cancel_directly() {
        state
            .db
            .transition_order(
                id,
                None,
                diancan_domain::ordering::OrderAction::Cancel,
                "diner",
                now,
            )
            .await
            .map_err(crate::api::console_orders::transition_error)?
    } else if !order.status.is_final() {
        state.db.set_cancel_request(id, true, now).await?
    } else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "ORDER_FINISHED",
            "订单已完成或已取消",
            "The order is already finished or cancelled",
        ));
    };
    state.live.notify(&order_stream(id));
    state.menus.invalidate_all();
    Ok(Json(order_view(&state, record).await?))
}
