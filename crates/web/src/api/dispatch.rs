//! 派单 and delivery: staff give a delivery order to a rider or a courier and follow it; the
//! rider's phone lists their deliveries and taps 取货 and 送达; couriers report to their webhook;
//! the diner's page reads the delivery's state. Each handler parses, calls one use case.

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::order_pass::OrderPass;
use crate::state::AppState;
use crate::views::orders::OrderView;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use diancan_domain::dispatch::{Courier, Delivery, DeliveryEvent, DeliveryState, DeliveryStep};
use diancan_domain::staff::Permission;
use diancan_domain::validation::Problem;
use diancan_domain::*;
use diancan_usecases::dispatch::{self, DispatchTo, Moved};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A courier's callback is never this large.
const MAX_CALLBACK_BYTES: usize = 16 * 1024;

/// A delivery as staff see it.
#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: DeliveryId,
    pub order_id: OrderId,
    pub state: DeliveryState,
    /// 骑手已接单, 配送中, …
    pub state_label: String,
    /// `own_rider` or `courier`.
    #[schema(example = "courier")]
    pub courier_kind: String,
    /// Our rider (with `own_rider`).
    pub rider_staff_id: Option<StaffId>,
    /// The courier provider and its id for the delivery (with `courier`).
    pub provider: Option<String>,
    pub external_id: Option<String>,
    /// The courier's rider, as it reported them.
    pub rider_name: Option<String>,
    /// What the courier charges the store; 0 for our riders.
    pub fee_fen: i64,
    /// Why it failed or was called back.
    pub note: Option<String>,
    pub version: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl From<&Delivery> for DeliveryView {
    fn from(d: &Delivery) -> Self {
        let (kind, rider, provider, external_id) = match &d.courier {
            Courier::OwnRider { staff_id } => ("own_rider", Some(*staff_id), None, None),
            Courier::Provider {
                provider,
                external_id,
            } => (
                "courier",
                None,
                Some(provider.clone()),
                Some(external_id.clone()),
            ),
        };
        DeliveryView {
            id: d.id,
            order_id: d.order_id,
            state: d.state,
            state_label: d.state.label_zh().to_owned(),
            courier_kind: kind.to_owned(),
            rider_staff_id: rider,
            provider,
            external_id,
            rider_name: d.rider_name.clone(),
            fee_fen: d.fee.fen(),
            note: d.note.clone(),
            version: d.version,
            created_at_ms: d.created_at_ms,
            updated_at_ms: d.updated_at_ms,
        }
    }
}

/// One step of a delivery's history.
#[derive(Serialize, ToSchema)]
pub struct DeliveryStepView {
    pub version: i64,
    pub from_state: Option<DeliveryState>,
    pub to_state: DeliveryState,
    pub to_label: String,
    /// `staff:<id>` or `courier:<provider>`.
    pub actor: String,
    pub note: Option<String>,
    pub at_ms: i64,
}

impl From<&DeliveryEvent> for DeliveryStepView {
    fn from(e: &DeliveryEvent) -> Self {
        DeliveryStepView {
            version: e.version,
            from_state: e.from_state,
            to_state: e.to_state,
            to_label: e.to_state.label_zh().to_owned(),
            actor: e.actor.clone(),
            note: e.note.clone(),
            at_ms: e.at_ms,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryRecordView {
    pub delivery: DeliveryView,
    pub history: Vec<DeliveryStepView>,
}

/// A delivery's step, with the order as it is after it.
#[derive(Serialize, ToSchema)]
pub struct DeliveryMovedView {
    pub delivery: DeliveryView,
    pub order: OrderView,
    /// False when a courier's report was already applied: nothing changed.
    pub changed: bool,
}

impl From<Moved> for DeliveryMovedView {
    fn from(m: Moved) -> Self {
        DeliveryMovedView {
            delivery: (&m.delivery).into(),
            order: m.order.into(),
            changed: m.changed,
        }
    }
}

/// 派单: exactly one of `rider_id` (one of the store's riders) and `courier` (a provider name
/// from the dispatch choices).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    #[serde(default)]
    pub rider_id: Option<StaffId>,
    #[serde(default)]
    #[schema(max_length = 64, example = "simulator")]
    pub courier: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelDeliveryBody {
    /// Why the delivery was called back (kept in its history).
    #[serde(default)]
    #[schema(max_length = 60, example = "顾客改为自取")]
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RiderChoice {
    pub id: StaffId,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CourierChoice {
    /// Send this as `courier`.
    pub name: String,
    pub label: String,
}

#[derive(Serialize, ToSchema)]
pub struct DispatchChoices {
    pub riders: Vec<RiderChoice>,
    pub couriers: Vec<CourierChoice>,
}

/// A delivery on the rider's phone: the address and phone are the diner's, shown only to the
/// rider the delivery was given to.
#[derive(Serialize, ToSchema)]
pub struct RiderDeliveryView {
    pub delivery: DeliveryView,
    pub order: OrderView,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// The delivery as the diner's page shows it.
#[derive(Serialize, ToSchema)]
pub struct DinerDeliveryView {
    pub state: DeliveryState,
    /// 骑手已接单 / 配送中 / 已送达 …
    pub state_label: String,
    /// The courier's rider, when it named them.
    pub rider_name: Option<String>,
    pub updated_at_ms: i64,
}

#[derive(Serialize, ToSchema)]
pub struct DinerDelivery {
    /// `null` before the order was given to a rider.
    pub delivery: Option<DinerDeliveryView>,
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/dispatch-choices", tag = "dispatch",
    params(("store_id" = StoreId, Path)),
    responses((status = 200, body = DispatchChoices, description = "The store's riders and the configured couriers"),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn dispatch_choices(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
) -> ApiResult<Json<DispatchChoices>> {
    staff.require(Permission::AssignDeliveries)?;
    staff.store(&state, store_id).await?;
    let (riders, couriers) = dispatch::dispatch_choices(&state, &staff.caller(), store_id).await?;
    Ok(Json(DispatchChoices {
        riders: riders
            .into_iter()
            .map(|r| RiderChoice {
                id: r.id,
                name: r.name,
            })
            .collect(),
        couriers: couriers
            .into_iter()
            .map(|(name, label)| CourierChoice {
                name: name.to_owned(),
                label: label.to_owned(),
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/orders/{order_id}/deliveries", tag = "dispatch",
    params(("store_id" = StoreId, Path), ("order_id" = OrderId, Path)),
    responses((status = 200, body = Vec<DeliveryRecordView>, description = "The order's deliveries, newest first, each with its history"),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn order_deliveries(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, order_id)): ApiPath<(StoreId, OrderId)>,
) -> ApiResult<Json<Vec<DeliveryRecordView>>> {
    staff.require(Permission::ViewConsole)?;
    staff.store(&state, store_id).await?;
    let records = dispatch::order_deliveries(&state, &staff.caller(), store_id, order_id).await?;
    Ok(Json(
        records
            .iter()
            .map(|r| DeliveryRecordView {
                delivery: (&r.delivery).into(),
                history: r.events.iter().map(DeliveryStepView::from).collect(),
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/orders/{order_id}/deliveries", tag = "dispatch",
    params(("store_id" = StoreId, Path), ("order_id" = OrderId, Path)), request_body = AssignBody,
    responses((status = 201, body = DeliveryMovedView, description = "Given out: our rider has it, or the courier was asked"),
        (status = 403, body = crate::error::ErrorBody, description = "The role may not hand deliveries out"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "DELIVERY_ALREADY_ASSIGNED, NOT_A_DELIVERY_ORDER, ORDER_NOT_DISPATCHABLE, COURIER_DECLINED"),
        (status = 422, body = crate::error::ErrorBody, description = "Neither or both of rider_id and courier, or a courier that is not configured; NOT_A_RIDER"),
        (status = 503, body = crate::error::ErrorBody, description = "COURIER_UNAVAILABLE")))]
pub async fn assign_delivery(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, order_id)): ApiPath<(StoreId, OrderId)>,
    ApiJson(body): ApiJson<AssignBody>,
) -> ApiResult<(StatusCode, Json<DeliveryMovedView>)> {
    staff.require(Permission::AssignDeliveries)?;
    staff.store(&state, store_id).await?;
    let to = match (body.rider_id, body.courier) {
        (Some(rider), None) => DispatchTo::OwnRider(rider),
        (None, Some(courier)) if diancan_domain::dispatch::valid_courier_text(&courier) => {
            DispatchTo::Courier(courier)
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid_field(
                "courier",
                Problem::InvalidCharacters,
            ));
        }
        _ => {
            return Err(ApiError::invalid_field(
                "rider_id",
                Problem::InvalidChoice {
                    allowed: vec!["rider_id".into(), "courier".into()],
                },
            ));
        }
    };
    let moved = dispatch::assign(&state, &staff.caller(), store_id, order_id, to).await?;
    Ok((StatusCode::CREATED, Json(moved.into())))
}

#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/orders/{order_id}/deliveries/cancel", tag = "dispatch",
    params(("store_id" = StoreId, Path), ("order_id" = OrderId, Path)), request_body = CancelDeliveryBody,
    responses((status = 200, body = DeliveryMovedView, description = "Called back; the order waits for the next 派单"),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody, description = "No active delivery"),
        (status = 409, body = crate::error::ErrorBody, description = "ILLEGAL_DELIVERY_STEP: the food already left"),
        (status = 422, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn cancel_delivery(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, order_id)): ApiPath<(StoreId, OrderId)>,
    ApiJson(body): ApiJson<CancelDeliveryBody>,
) -> ApiResult<Json<DeliveryMovedView>> {
    staff.require(Permission::AssignDeliveries)?;
    staff.store(&state, store_id).await?;
    let reason = match body.reason.as_deref() {
        Some(text) if !text.trim().is_empty() => Some(
            diancan_domain::text::Name::parse(text)
                .map_err(|problem| ApiError::invalid_field("reason", problem))?,
        ),
        _ => None,
    };
    let moved = dispatch::cancel(&state, &staff.caller(), store_id, order_id, reason).await?;
    Ok(Json(moved.into()))
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/rider/deliveries", tag = "dispatch",
    params(("store_id" = StoreId, Path)),
    responses((status = 200, body = Vec<RiderDeliveryView>, description = "The caller's own active deliveries, oldest first, with address and phone"),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn my_deliveries(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
) -> ApiResult<Json<Vec<RiderDeliveryView>>> {
    staff.require(Permission::DispatchDeliveries)?;
    staff.store(&state, store_id).await?;
    let mine = dispatch::my_deliveries(&state, &staff.caller(), store_id).await?;
    Ok(Json(
        mine.into_iter()
            .map(|m| RiderDeliveryView {
                delivery: (&m.delivery).into(),
                order: m.order.into(),
                contact_name: m.contact_name,
                phone: m.phone,
                address: m.address,
            })
            .collect(),
    ))
}

async fn rider_step(
    state: &AppState,
    staff: &Staff,
    store_id: StoreId,
    delivery_id: DeliveryId,
    step: DeliveryStep,
) -> ApiResult<Json<DeliveryMovedView>> {
    staff.require(Permission::ViewConsole)?;
    staff.store(state, store_id).await?;
    let moved = dispatch::rider_step(state, &staff.caller(), store_id, delivery_id, step).await?;
    Ok(Json(moved.into()))
}

/// 取货: the rider leaves with the food; the order goes out (配送中).
#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/deliveries/{delivery_id}/pick-up", tag = "dispatch",
    params(("store_id" = StoreId, Path), ("delivery_id" = DeliveryId, Path)),
    responses((status = 200, body = DeliveryMovedView),
        (status = 403, body = crate::error::ErrorBody, description = "NOT_YOUR_DELIVERY, or the role may not"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "ORDER_NOT_READY, ILLEGAL_DELIVERY_STEP, COURIER_DRIVES_DELIVERY")))]
pub async fn pick_up(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, delivery_id)): ApiPath<(StoreId, DeliveryId)>,
) -> ApiResult<Json<DeliveryMovedView>> {
    rider_step(
        &state,
        &staff,
        store_id,
        delivery_id,
        DeliveryStep::PickedUp,
    )
    .await
}

/// 送达: the diner has the food; the order is completed.
#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/deliveries/{delivery_id}/deliver", tag = "dispatch",
    params(("store_id" = StoreId, Path), ("delivery_id" = DeliveryId, Path)),
    responses((status = 200, body = DeliveryMovedView),
        (status = 403, body = crate::error::ErrorBody, description = "NOT_YOUR_DELIVERY, or the role may not"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "ILLEGAL_DELIVERY_STEP, COURIER_DRIVES_DELIVERY")))]
pub async fn deliver(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, delivery_id)): ApiPath<(StoreId, DeliveryId)>,
) -> ApiResult<Json<DeliveryMovedView>> {
    rider_step(
        &state,
        &staff,
        store_id,
        delivery_id,
        DeliveryStep::Delivered,
    )
    .await
}

/// A courier's status report, signed by the provider. A repeated or late report answers 200
/// with `changed: false`; one the order cannot take yet answers 409 and is sent again.
#[utoipa::path(post, path = "/api/v1/couriers/{provider}/callback", tag = "dispatch",
    params(("provider" = String, Path, description = "The courier provider's name")),
    request_body(content = String, description = "The courier's signed report, as sent", content_type = "application/json"),
    responses((status = 200, body = DeliveryMovedView, description = "Recorded (or already recorded)"),
        (status = 401, body = crate::error::ErrorBody, description = "BAD_COURIER_REPORT: signature or shape not believed"),
        (status = 404, body = crate::error::ErrorBody, description = "No such provider or delivery"),
        (status = 409, body = crate::error::ErrorBody, description = "ORDER_NOT_READY and other refusals: send again later"),
        (status = 413, body = crate::error::ErrorBody)))]
pub async fn courier_callback(
    State(state): State<AppState>,
    ApiPath(provider): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<DeliveryMovedView>> {
    if body.len() > MAX_CALLBACK_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "CALLBACK_TOO_LARGE",
            "回调过大",
            "A courier's report is never this large",
        ));
    }
    let signature = headers
        .get(diancan_integrations::couriers::simulator::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let moved = dispatch::courier_report(&state, &provider, signature, &body).await?;
    Ok(Json(moved.into()))
}

/// The delivery of the diner's order (骑手已接单 / 配送中 / 已送达).
#[utoipa::path(get, path = "/api/v1/orders/{order_id}/delivery", tag = "ordering", params(("order_id" = OrderId, Path), OrderPass),
    responses((status = 200, body = DinerDelivery), (status = 404, body = crate::error::ErrorBody)))]
pub async fn diner_delivery(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<OrderId>,
    OrderPass(pass): OrderPass,
) -> ApiResult<Json<DinerDelivery>> {
    let delivery = dispatch::diner_delivery(&state, id, &pass).await?;
    Ok(Json(DinerDelivery {
        delivery: delivery.map(|d| DinerDeliveryView {
            state: d.state,
            state_label: d.state.label_zh().to_owned(),
            rider_name: d.rider_name,
            updated_at_ms: d.updated_at_ms,
        }),
    }))
}
