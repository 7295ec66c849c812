//! 会员 over HTTP. The signed-in diner reads their membership (level, benefits, points and
//! stored value), their points ledger, tells their birthday once, and recharges through a
//! gateway with the brand's bonus; staff list and search members by phone, read a member's
//! ledgers, redeem or correct points, and configure the programme. Handlers parse, call one
//! use case, and shape the answer.

use crate::auth::Staff;
use crate::customer_session::Customer;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::forwarded::ClientIp;
use crate::state::AppState;
use crate::views::membership::*;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diancan_domain::customer::Phone;
use diancan_domain::membership::MAX_REASON_CHARS;
use diancan_domain::membership::levels::LevelRule;
use diancan_domain::membership::recharge::RechargeTier;
use diancan_domain::text::required_reason;
use diancan_domain::validation::{FieldErrors, Problem};
use diancan_domain::*;
use diancan_usecases::membership::{self, MAX_PAGE, ProgrammeInput, StaffPoints};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const DEFAULT_PAGE: i64 = 20;

fn page_limit(limit: Option<i64>) -> ApiResult<i64> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(limit) if (1..=MAX_PAGE).contains(&limit) => Ok(limit),
        Some(_) => Err(ApiError::bad_request(
            "INVALID_QUERY",
            "limit 须在 1 到 100 之间",
            "`limit` must be 1 to 100",
        )),
    }
}

/// The store a diner's page is opened at: its business day decides member day and birthday.
/// A store of another brand does not exist for this diner.
async fn diners_store(state: &AppState, customer: &Customer, store: StoreId) -> ApiResult<()> {
    let store = state.db.store(store).await?;
    if store.brand_id != customer.brand_id {
        return Err(ApiError::not_found());
    }
    Ok(())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtStore {
    /// The store the diner is at (its calendar decides member day and birthday).
    pub store_id: StoreId,
}

/// The signed-in diner's membership at the brand: level, benefits, growth to the next level,
/// points and their next expiry, stored value, and the recharge tiers.
#[utoipa::path(get, path = "/api/v1/customer/membership", tag = "customer", params(AtStore),
    responses((status = 200, body = MembershipView), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn my_membership(
    State(state): State<AppState>,
    customer: Customer,
    ApiQuery(at): ApiQuery<AtStore>,
) -> ApiResult<Json<MembershipView>> {
    diners_store(&state, &customer, at.store_id).await?;
    let membership = membership::my_membership(&state, at.store_id, customer.id).await?;
    Ok(Json(MembershipView::from(&membership)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PointsPage {
    pub store_id: StoreId,
    /// `next_before` of the previous page.
    pub before: Option<Uuid>,
    /// Entries per page (1-100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// The signed-in diner's points ledger, newest first.
#[utoipa::path(get, path = "/api/v1/customer/membership/points", tag = "customer", params(PointsPage),
    responses((status = 200, body = PointsPageView), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn my_points(
    State(state): State<AppState>,
    customer: Customer,
    ApiQuery(page): ApiQuery<PointsPage>,
) -> ApiResult<Json<PointsPageView>> {
    let limit = page_limit(page.limit)?;
    diners_store(&state, &customer, page.store_id).await?;
    let membership = membership::my_membership(&state, page.store_id, customer.id).await?;
    let entries =
        membership::my_points(&state, page.store_id, customer.id, page.before, limit).await?;
    Ok(Json(PointsPageView::of(
        membership.member.points,
        &entries,
        limit,
    )))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BirthdayBody {
    pub store_id: StoreId,
    #[schema(minimum = 1, maximum = 12)]
    pub month: i8,
    #[schema(minimum = 1, maximum = 31)]
    pub day: i8,
}

/// Tells the diner's birthday, once (a birthday that could change would be every day).
#[utoipa::path(put, path = "/api/v1/customer/membership/birthday", tag = "customer", request_body = BirthdayBody,
    responses((status = 204, description = "Set"), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "BIRTHDAY_ALREADY_SET"),
        (status = 422, body = crate::error::ErrorBody, description = "BAD_BIRTHDAY")))]
pub async fn set_birthday(
    State(state): State<AppState>,
    customer: Customer,
    ApiJson(body): ApiJson<BirthdayBody>,
) -> ApiResult<StatusCode> {
    diners_store(&state, &customer, body.store_id).await?;
    membership::set_birthday(&state, body.store_id, customer.id, body.month, body.day).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A recharge of `amount_fen` at the store's brand, paid as `payment` says.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRechargeBody {
    pub store_id: StoreId,
    /// ¥1 to ¥5,000 in fen; the bonus is the highest tier it reaches.
    #[schema(minimum = 100, maximum = 500_000)]
    pub amount_fen: i64,
    pub payment: crate::api::payments::StartPaymentBody,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StartedRechargeView {
    pub recharge: RechargeView,
    pub next: crate::api::payments::NextStep,
    /// Demo mode only: the simulator's page where the demo diner taps 支付.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simulator_url: Option<String>,
}

/// Starts a stored-value recharge through a gateway. The amount and the bonus are credited
/// once, when the gateway reports the money arrived.
#[utoipa::path(post, path = "/api/v1/customer/recharges", tag = "customer", request_body = StartRechargeBody,
    responses((status = 201, body = StartedRechargeView),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "PAYMENT_METHOD_UNAVAILABLE"),
        (status = 422, body = crate::error::ErrorBody, description = "RECHARGE_OUT_OF_RANGE, or invalid payment fields"),
        (status = 503, body = crate::error::ErrorBody, description = "PAYMENT_GATEWAY_UNAVAILABLE: pay another way")))]
pub async fn start_recharge(
    State(state): State<AppState>,
    customer: Customer,
    client: ClientIp,
    ApiJson(body): ApiJson<StartRechargeBody>,
) -> ApiResult<(StatusCode, Json<StartedRechargeView>)> {
    if body.payment.use_balance() {
        return Err(ApiError::invalid_field(
            "payment.use_balance",
            Problem::InvalidChoice {
                allowed: vec!["false".into()],
            },
        ));
    }
    diners_store(&state, &customer, body.store_id).await?;
    let checkout = crate::api::payments::checkout_of(&state, &body.payment, client)?;
    let provider = body.payment.provider();
    let started = membership::start_recharge(
        &state,
        body.store_id,
        customer.id,
        provider,
        checkout,
        Money::from_fen(body.amount_fen),
    )
    .await?;
    let simulator_url = state.payment_simulators.as_ref().map(|_| {
        crate::demo_pay::page_url(
            provider,
            &started.recharge.out_trade_no,
            &started.prepared,
            body.payment.return_path(),
        )
    });
    Ok((
        StatusCode::CREATED,
        Json(StartedRechargeView {
            recharge: RechargeView::from(&started.recharge),
            next: crate::api::payments::next_step_of(&started.prepared),
            simulator_url,
        }),
    ))
}

/// One of the diner's recharges: pending until its money arrives, then paid.
#[utoipa::path(get, path = "/api/v1/customer/recharges/{recharge_id}", tag = "customer",
    params(("recharge_id" = RechargeId, Path), AtStore),
    responses((status = 200, body = RechargeView), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn my_recharge(
    State(state): State<AppState>,
    customer: Customer,
    ApiPath(id): ApiPath<RechargeId>,
    ApiQuery(at): ApiQuery<AtStore>,
) -> ApiResult<Json<RechargeView>> {
    diners_store(&state, &customer, at.store_id).await?;
    let recharge = membership::my_recharge(&state, at.store_id, customer.id, id).await?;
    Ok(Json(RechargeView::from(&recharge)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// A mainland mobile number: only the member with it.
    #[param(max_length = 32)]
    pub phone: Option<String>,
    /// `next_before` of the previous page.
    pub before: Option<MemberId>,
    /// Members per page (1-100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// The brand's members, newest first, or the one with a phone number.
#[utoipa::path(get, path = "/api/v1/console/members", tag = "console members", params(MembersQuery),
    responses((status = 200, body = MembersPageView),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "The role may not view members"),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    staff: Staff,
    ApiQuery(query): ApiQuery<MembersQuery>,
) -> ApiResult<Json<MembersPageView>> {
    let limit = page_limit(query.limit)?;
    let index = match query
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(text) => {
            let phone = Phone::parse(text)
                .map_err(|_| ApiError::invalid_field("phone", Problem::InvalidCharacters))?;
            Some(state.pii.phone_index(&phone))
        }
        None => None,
    };
    let (programme, listed) =
        membership::members(&state, &staff.caller(), index.as_ref(), query.before, limit).await?;
    let full = i64::try_from(listed.len()).unwrap_or(i64::MAX) >= limit;
    let mut rows = Vec::with_capacity(listed.len());
    for listing in &listed {
        let phone_masked = match &listing.customer.phone {
            Some(sealed) => Some(
                state
                    .pii
                    .open_phone(sealed)
                    .map_err(ApiError::internal)?
                    .masked(),
            ),
            None => None,
        };
        rows.push(MemberRowView {
            customer_id: listing.member.customer_id,
            member_id: listing.member.id,
            phone_masked,
            display_name: listing.customer.display_name.clone(),
            level: programme.levels.level_for(listing.member.growth).level,
            growth: listing.member.growth,
            points: listing.member.points,
            joined_at_ms: listing.member.joined_at_ms,
        });
    }
    Ok(Json(MembersPageView {
        next_before: listed.last().filter(|_| full).map(|l| l.member.id),
        members: rows,
    }))
}

/// One member: level, points, stored value and both ledgers (newest first).
#[utoipa::path(get, path = "/api/v1/console/members/{customer_id}/membership", tag = "console members",
    params(("customer_id" = CustomerId, Path)),
    responses((status = 200, body = ConsoleMemberView),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "The role may not view members"),
        (status = 404, body = crate::error::ErrorBody, description = "No such member at this brand")))]
pub async fn member(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(customer): ApiPath<CustomerId>,
) -> ApiResult<Json<ConsoleMemberView>> {
    let member = membership::console_member(&state, &staff.caller(), customer).await?;
    Ok(Json(ConsoleMemberView::from(&member)))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffPointsKind {
    /// Points spent at the counter (a dish, a gift).
    Redeem,
    /// A correction, up (positive) or down (negative).
    Adjust,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffPointsBody {
    pub kind: StaffPointsKind,
    /// Positive for a redemption; an adjustment is signed and not zero.
    #[schema(minimum = -1_000_000, maximum = 1_000_000)]
    pub points: i64,
    #[schema(min_length = 1, max_length = 100)]
    pub reason: String,
    /// A fresh UUID per request, sent again on a retry: written once.
    pub key: Uuid,
}

/// Redeems or corrects a member's points.
#[utoipa::path(post, path = "/api/v1/console/members/{customer_id}/points", tag = "console members",
    params(("customer_id" = CustomerId, Path)), request_body = StaffPointsBody,
    responses((status = 201, body = PointsPageView, description = "Written (or written before under this key)"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "The role may not redeem or correct points"),
        (status = 404, body = crate::error::ErrorBody, description = "No such member at this brand"),
        (status = 409, body = crate::error::ErrorBody, description = "INSUFFICIENT_POINTS (with what is available) or POINTS_LIMIT"),
        (status = 422, body = crate::error::ErrorBody, description = "BAD_POINTS_AMOUNT or invalid fields")))]
pub async fn post_points(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(customer): ApiPath<CustomerId>,
    ApiJson(body): ApiJson<StaffPointsBody>,
) -> ApiResult<(StatusCode, Json<PointsPageView>)> {
    let mut errors = FieldErrors::new();
    let reason = required_reason(&mut errors, "reason", &body.reason, MAX_REASON_CHARS);
    errors.finish(|| ())?;
    let what = match body.kind {
        StaffPointsKind::Redeem => StaffPoints::Redeem,
        StaffPointsKind::Adjust => StaffPoints::Adjust,
    };
    let caller = staff.caller();
    let posting = membership::post_staff_points(
        &state,
        &caller,
        customer,
        what,
        body.points,
        reason,
        body.key,
    )
    .await?;
    let entries = state
        .db
        .points_entries(posting.member.id, None, DEFAULT_PAGE)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(PointsPageView::of(
            posting.member.points,
            &entries,
            DEFAULT_PAGE,
        )),
    ))
}

/// The brand's membership programme.
#[utoipa::path(get, path = "/api/v1/console/membership", tag = "console members",
    responses((status = 200, body = ProgrammeView),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn programme(
    State(state): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<ProgrammeView>> {
    let programme = membership::programme(&state, &staff.caller()).await?;
    Ok(Json(ProgrammeView::from(&programme)))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeBody {
    /// Four levels, 青铜 to 钻石: 青铜 from 0, thresholds rising, discounts up to 3000 bp.
    pub levels: Vec<LevelRule>,
    #[schema(minimum = 0, maximum = 100)]
    pub points_per_yuan: u32,
    #[schema(minimum = 0, maximum = 60)]
    pub expiry_months: u32,
    /// ISO weekday (1 = Monday … 7 = Sunday), or absent for no member day.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 7)]
    pub member_day_weekday: Option<i8>,
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 10)]
    pub member_day_multiplier: u32,
    /// At most eight tiers.
    pub recharge_tiers: Vec<RechargeTier>,
}

fn one() -> u32 {
    1
}

/// Configures the programme (brand-wide: owners, and managers of every store).
#[utoipa::path(put, path = "/api/v1/console/membership", tag = "console members", request_body = ProgrammeBody,
    responses((status = 200, body = ProgrammeView),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "The role may not configure membership"),
        (status = 422, body = crate::error::ErrorBody, description = "BAD_LEVELS, BAD_POINTS_RULE or BAD_RECHARGE_TIERS")))]
pub async fn save_programme(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<ProgrammeBody>,
) -> ApiResult<Json<ProgrammeView>> {
    let programme = membership::save_programme(
        &state,
        &staff.caller(),
        ProgrammeInput {
            levels: body.levels,
            points_per_yuan: body.points_per_yuan,
            expiry_months: body.expiry_months,
            member_day: body
                .member_day_weekday
                .map(|weekday| (weekday, body.member_day_multiplier)),
            recharge_tiers: body.recharge_tiers,
        },
    )
    .await?;
    Ok(Json(ProgrammeView::from(&programme)))
}
