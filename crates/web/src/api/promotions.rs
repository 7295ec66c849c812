//! 营销: the console sets up promotions and coupon templates (with the domain's checks and its
//! overlap warnings), previews what a cart would pay and why, and reads redemption figures;
//! diners claim coupons in the coupon centre and list their own. Rules travel as the domain's
//! own JSON (`conditions`, `benefit`, `stacking`); each handler parses and calls one use case.

use crate::auth::Staff;
use crate::customer_session::Customer;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diancan_domain::ordering::{Channel, LineRequest, Quote};
use diancan_domain::promotions::{
    Conditions, CouponBenefit, CouponSpec, ItemScope, PromotionBenefit, PromotionSpec, Stacking,
    Validity, overlap_warnings,
};
use diancan_domain::staff::Permission;
use diancan_domain::store::GeoPoint;
use diancan_domain::validation::{FieldErrors, Problem};
use diancan_domain::*;
use diancan_storage::promotions::{
    CouponTemplateRecord, HeldCoupon, Issuing, PromotionRecord, PromotionWindow,
};
use diancan_usecases::marketing::{self, CouponTemplateInput, PromotionInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A promotion as the console edits it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionBody {
    #[schema(min_length = 1, max_length = 40, example = "满50减5")]
    pub name: String,
    /// The domain's rule, e.g. `{"kind":"spend_and_save","scope":{},"tiers":[{"threshold":5000,"save":500}]}`.
    #[schema(value_type = Object)]
    pub benefit: serde_json::Value,
    /// Channels, stores, weekly hours, member level, first order, diners; `{}` is always.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub conditions: Option<serde_json::Value>,
    /// What it combines with; by default every other class.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub stacking: Option<serde_json::Value>,
    pub enabled: bool,
    /// The active window in milliseconds since the epoch, end exclusive; either may be left out.
    #[serde(default)]
    pub starts_at_ms: Option<i64>,
    #[serde(default)]
    pub ends_at_ms: Option<i64>,
    /// Orders one diner may use it on (1–100); guests cannot use a limited promotion.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub per_diner_limit: Option<i64>,
    /// On update: the `version` the editor read.
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PromotionView {
    pub id: PromotionId,
    pub name: String,
    /// `item`, `order` or `delivery_fee`; `null` when the stored rule is unreadable.
    pub class: Option<String>,
    #[schema(value_type = Object)]
    pub benefit: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub conditions: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub stacking: Option<serde_json::Value>,
    /// The stored rule does not read as a valid promotion: it is never applied until saved again.
    pub damaged: bool,
    pub enabled: bool,
    pub starts_at_ms: Option<i64>,
    pub ends_at_ms: Option<i64>,
    pub per_diner_limit: Option<i64>,
    pub version: i64,
    pub updated_at_ms: i64,
    /// Orders that used it and were not cancelled or refunded, and what it took off them.
    pub redeemed_orders: i64,
    pub discount_fen: Money,
}

/// A set-up the domain thinks is a mistake: two promotions that can never both apply, or that
/// stack and give away more than intended.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverlapWarningView {
    pub promotion_ids: Vec<PromotionId>,
    pub code: String,
    pub message: String,
    pub message_en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PromotionList {
    pub promotions: Vec<PromotionView>,
    pub warnings: Vec<OverlapWarningView>,
}

fn class_name(class: diancan_domain::promotions::Class) -> String {
    serde_json::to_value(class)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn promotion_view(record: PromotionRecord, stats: &[marketing_stats::Row]) -> PromotionView {
    let spec = record.rule.as_ref().map(|r| r.spec());
    let (redeemed_orders, discount_fen) = marketing_stats::of(stats, record.id.as_uuid());
    PromotionView {
        id: record.id,
        name: record.name,
        class: record.rule.as_ref().map(|r| class_name(r.class())),
        benefit: spec.and_then(|s| serde_json::to_value(&s.benefit).ok()),
        conditions: spec.and_then(|s| serde_json::to_value(&s.conditions).ok()),
        stacking: spec.and_then(|s| serde_json::to_value(&s.stacking).ok()),
        damaged: record.rule.is_none(),
        enabled: record.window.enabled,
        starts_at_ms: record.window.starts_at_ms,
        ends_at_ms: record.window.ends_at_ms,
        per_diner_limit: record.window.per_diner_limit,
        version: record.version,
        updated_at_ms: record.updated_at_ms,
        redeemed_orders,
        discount_fen,
    }
}

/// Redemption figures keyed by the record's id.
mod marketing_stats {
    use diancan_domain::Money;
    pub type Row = (uuid::Uuid, i64, Money);

    pub fn of(rows: &[Row], id: uuid::Uuid) -> (i64, Money) {
        rows.iter()
            .find(|r| r.0 == id)
            .map_or((0, Money::ZERO), |r| (r.1, r.2))
    }
}

/// Reads one part of a rule as its domain type; what does not read is a field problem.
fn part<T: serde::de::DeserializeOwned>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<serde_json::Value>,
) -> Option<T> {
    let value = value?;
    match serde_json::from_value(value) {
        Ok(parsed) => Some(parsed),
        Err(_) => {
            errors.add(field, Problem::Unreadable);
            None
        }
    }
}

fn invalid(errors: FieldErrors) -> ApiError {
    diancan_usecases::Error::Invalid(errors).into()
}

fn promotion_input(id: PromotionId, body: PromotionBody) -> ApiResult<PromotionInput> {
    let mut errors = FieldErrors::new();
    let benefit: Option<PromotionBenefit> = part(&mut errors, "benefit", Some(body.benefit));
    let conditions: Conditions =
        part(&mut errors, "conditions", body.conditions).unwrap_or_default();
    let stacking: Option<Stacking> = part(&mut errors, "stacking", body.stacking);
    let Some(benefit) = benefit else {
        return Err(invalid(errors));
    };
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let stacking = stacking.unwrap_or_else(|| Stacking::with_other_classes(benefit.class()));
    Ok(PromotionInput {
        spec: PromotionSpec {
            id,
            name: body.name.trim().to_owned(),
            conditions,
            benefit,
            stacking,
        },
        window: PromotionWindow {
            enabled: body.enabled,
            starts_at_ms: body.starts_at_ms,
            ends_at_ms: body.ends_at_ms,
            per_diner_limit: body.per_diner_limit,
        },
        version: body.version,
    })
}

async fn promotion_list(state: &AppState, staff: &Staff) -> ApiResult<PromotionList> {
    let (records, stats) = marketing::promotions(state, &staff.caller()).await?;
    let stats: Vec<marketing_stats::Row> = stats
        .iter()
        .map(|s| (s.promotion_id.as_uuid(), s.redeemed_orders, s.discount_fen))
        .collect();
    let live: Vec<_> = records
        .iter()
        .filter(|r| r.window.enabled)
        .filter_map(|r| r.rule.clone())
        .collect();
    let warnings = overlap_warnings(&live)
        .into_iter()
        .map(|w| OverlapWarningView {
            promotion_ids: w.promotions.to_vec(),
            code: w.kind.code().to_owned(),
            message: w.message_zh(),
            message_en: w.message_en(),
        })
        .collect();
    Ok(PromotionList {
        promotions: records
            .into_iter()
            .map(|r| promotion_view(r, &stats))
            .collect(),
        warnings,
    })
}

#[utoipa::path(get, path = "/api/v1/console/promotions", tag = "marketing",
    responses((status = 200, body = PromotionList, description = "Every promotion of the brand with its redemption figures, and warnings about promotions that overlap badly"),
        (status = 403, body = crate::error::ErrorBody, description = "Only owners and managers of the whole brand manage promotions")))]
pub async fn list_promotions(
    State(state): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<PromotionList>> {
    staff.require(Permission::ManagePromotions)?;
    Ok(Json(promotion_list(&state, &staff).await?))
}

#[utoipa::path(post, path = "/api/v1/console/promotions", tag = "marketing",
    request_body = PromotionBody,
    responses((status = 201, body = PromotionView),
        (status = 403, body = crate::error::ErrorBody, description = "Only owners and managers of the whole brand manage promotions"),
        (status = 422, body = crate::error::ErrorBody, description = "VALIDATION_FAILED: a zero or negative amount, tiers that do not rise, a window that ends before it starts, a store of another brand, an unreadable rule")))]
pub async fn create_promotion(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<PromotionBody>,
) -> ApiResult<(StatusCode, Json<PromotionView>)> {
    staff.require(Permission::ManagePromotions)?;
    let mut input = promotion_input(PromotionId::new(), body)?;
    input.version = None;
    let saved = marketing::save_promotion(&state, &staff.caller(), input).await?;
    Ok((StatusCode::CREATED, Json(promotion_view(saved, &[]))))
}

#[utoipa::path(put, path = "/api/v1/console/promotions/{promotion_id}", tag = "marketing",
    params(("promotion_id" = PromotionId, Path)),
    request_body = PromotionBody,
    responses((status = 200, body = PromotionView),
        (status = 403, body = crate::error::ErrorBody, description = "Only owners and managers of the whole brand manage promotions"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "VERSION_CONFLICT: someone saved it since (send the `version` you read)"),
        (status = 422, body = crate::error::ErrorBody, description = "VALIDATION_FAILED, as for creating; `version` is required")))]
pub async fn update_promotion(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(promotion_id): ApiPath<PromotionId>,
    ApiJson(body): ApiJson<PromotionBody>,
) -> ApiResult<Json<PromotionView>> {
    staff.require(Permission::ManagePromotions)?;
    if body.version.is_none() {
        return Err(ApiError::invalid_field("version", Problem::Required));
    }
    let input = promotion_input(promotion_id, body)?;
    let saved = marketing::save_promotion(&state, &staff.caller(), input).await?;
    Ok(Json(promotion_view(saved, &[])))
}

/// A coupon template as the console edits it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponTemplateBody {
    #[schema(min_length = 1, max_length = 40, example = "无门槛5元券")]
    pub name: String,
    /// e.g. `{"kind":"threshold","min_spend":3000,"off":500}`.
    #[schema(value_type = Object)]
    pub benefit: serde_json::Value,
    /// `{"kind":"days_after_claim","days":7}` or `{"kind":"fixed","from":"…","until":"…"}`.
    #[schema(value_type = Object)]
    pub validity: serde_json::Value,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub scope: Option<serde_json::Value>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub conditions: Option<serde_json::Value>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub stacking: Option<serde_json::Value>,
    #[serde(default)]
    pub stacks_with_same_class: bool,
    pub enabled: bool,
    /// In the coupon centre for diners to claim.
    pub claimable: bool,
    #[schema(minimum = 1, maximum = 100)]
    pub per_diner_limit: i64,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10000000)]
    pub total_limit: Option<i64>,
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponTemplateView {
    pub id: CouponId,
    pub name: String,
    pub class: Option<String>,
    #[schema(value_type = Object)]
    pub benefit: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub validity: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub scope: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub conditions: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub stacking: Option<serde_json::Value>,
    pub stacks_with_same_class: bool,
    pub damaged: bool,
    pub enabled: bool,
    pub claimable: bool,
    pub per_diner_limit: i64,
    pub total_limit: Option<i64>,
    pub issued: i64,
    pub version: i64,
    pub updated_at_ms: i64,
}

/// Redemption statistics of one template.
#[derive(Debug, Serialize, ToSchema)]
pub struct CouponTemplateStatsView {
    pub template_id: CouponId,
    pub issued: i64,
    /// Coupons used on an order that stands.
    pub used: i64,
    pub redeemed_orders: i64,
    pub discount_fen: Money,
    /// Redemptions given back by a cancel or a full refund.
    pub returned: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponTemplateList {
    pub templates: Vec<CouponTemplateView>,
    pub stats: Vec<CouponTemplateStatsView>,
}

fn template_view(record: CouponTemplateRecord) -> CouponTemplateView {
    let spec = record.coupon.as_ref().map(|c| c.spec());
    CouponTemplateView {
        id: record.id,
        name: record.name,
        class: record.coupon.as_ref().map(|c| class_name(c.class())),
        benefit: spec.and_then(|s| serde_json::to_value(&s.benefit).ok()),
        validity: spec.and_then(|s| serde_json::to_value(s.validity).ok()),
        scope: spec.and_then(|s| serde_json::to_value(&s.scope).ok()),
        conditions: spec.and_then(|s| serde_json::to_value(&s.conditions).ok()),
        stacking: spec.and_then(|s| serde_json::to_value(&s.stacking).ok()),
        stacks_with_same_class: spec.is_some_and(|s| s.stacks_with_same_class),
        damaged: record.coupon.is_none(),
        enabled: record.issuing.enabled,
        claimable: record.issuing.claimable,
        per_diner_limit: record.issuing.per_diner_limit,
        total_limit: record.issuing.total_limit,
        issued: record.issued,
        version: record.version,
        updated_at_ms: record.updated_at_ms,
    }
}

fn template_input(id: CouponId, body: CouponTemplateBody) -> ApiResult<CouponTemplateInput> {
    let mut errors = FieldErrors::new();
    let benefit: Option<CouponBenefit> = part(&mut errors, "benefit", Some(body.benefit));
    let validity: Option<Validity> = part(&mut errors, "validity", Some(body.validity));
    let scope: ItemScope = part(&mut errors, "scope", body.scope).unwrap_or_default();
    let conditions: Conditions =
        part(&mut errors, "conditions", body.conditions).unwrap_or_default();
    let stacking: Option<Stacking> = part(&mut errors, "stacking", body.stacking);
    let (Some(benefit), Some(validity)) = (benefit, validity) else {
        return Err(invalid(errors));
    };
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let stacking = stacking.unwrap_or_else(|| Stacking::with_other_classes(benefit.class()));
    Ok(CouponTemplateInput {
        spec: CouponSpec {
            id,
            name: body.name.trim().to_owned(),
            benefit,
            scope,
            conditions,
            validity,
            stacks_with_same_class: body.stacks_with_same_class,
            stacking,
        },
        issuing: Issuing {
            enabled: body.enabled,
            claimable: body.claimable,
            per_diner_limit: body.per_diner_limit,
            total_limit: body.total_limit,
        },
        version: body.version,
    })
}

#[utoipa::path(get, path = "/api/v1/console/coupon-templates", tag = "marketing",
    responses((status = 200, body = CouponTemplateList, description = "Every coupon template of the brand and its redemption statistics"),
        (status = 403, body = crate::error::ErrorBody, description = "Only owners and managers of the whole brand manage coupons")))]
pub async fn list_coupon_templates(
    State(state): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<CouponTemplateList>> {
    staff.require(Permission::ManagePromotions)?;
    let (templates, stats) = marketing::coupon_templates(&state, &staff.caller()).await?;
    Ok(Json(CouponTemplateList {
        templates: templates.into_iter().map(template_view).collect(),
        stats: stats
            .into_iter()
            .map(|s| CouponTemplateStatsView {
                template_id: s.template_id,
                issued: s.issued,
                used: s.used,
                redeemed_orders: s.redeemed_orders,
                discount_fen: s.discount_fen,
                returned: s.returned,
            })
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/console/coupon-templates", tag = "marketing",
    request_body = CouponTemplateBody,
    responses((status = 201, body = CouponTemplateView),
        (status = 403, body = crate::error::ErrorBody, description = "Only owners and managers of the whole brand manage coupons"),
        (status = 422, body = crate::error::ErrorBody, description = "VALIDATION_FAILED: a zero or negative value, an amount off not below its threshold, validity that ends before it starts, limits out of range")))]
pub async fn create_coupon_template(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<CouponTemplateBody>,
) -> ApiResult<(StatusCode, Json<CouponTemplateView>)> {
    staff.require(Permission::ManagePromotions)?;
    let mut input = template_input(CouponId::new(), body)?;
    input.version = None;
    let saved = marketing::save_coupon_template(&state, &staff.caller(), input).await?;
    Ok((StatusCode::CREATED, Json(template_view(saved))))
}

#[utoipa::path(put, path = "/api/v1/console/coupon-templates/{template_id}", tag = "marketing",
    params(("template_id" = CouponId, Path)),
    request_body = CouponTemplateBody,
    responses((status = 200, body = CouponTemplateView),
        (status = 403, body = crate::error::ErrorBody, description = "Only owners and managers of the whole brand manage coupons"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "VERSION_CONFLICT: saved by someone since, or a total limit below what was issued"),
        (status = 422, body = crate::error::ErrorBody, description = "VALIDATION_FAILED, as for creating; `version` is required")))]
pub async fn update_coupon_template(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(template_id): ApiPath<CouponId>,
    ApiJson(body): ApiJson<CouponTemplateBody>,
) -> ApiResult<Json<CouponTemplateView>> {
    staff.require(Permission::ManagePromotions)?;
    if body.version.is_none() {
        return Err(ApiError::invalid_field("version", Problem::Required));
    }
    let input = template_input(template_id, body)?;
    let saved = marketing::save_coupon_template(&state, &staff.caller(), input).await?;
    Ok(Json(template_view(saved)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantCouponBody {
    pub customer_id: CustomerId,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantedCoupon {
    pub grant_id: CouponGrantId,
}

#[utoipa::path(post, path = "/api/v1/console/coupon-templates/{template_id}/grants", tag = "marketing",
    params(("template_id" = CouponId, Path)),
    request_body = GrantCouponBody,
    responses((status = 201, body = GrantedCoupon, description = "The diner holds one more of this coupon"),
        (status = 403, body = crate::error::ErrorBody, description = "Only owners and managers of the whole brand give coupons"),
        (status = 404, body = crate::error::ErrorBody, description = "No such template or diner at the brand, or the template is switched off"),
        (status = 409, body = crate::error::ErrorBody, description = "COUPONS_ALL_CLAIMED: the total limit is reached; COUPON_LIMIT_REACHED: the diner holds as many as allowed")))]
pub async fn grant_coupon(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(template_id): ApiPath<CouponId>,
    ApiJson(body): ApiJson<GrantCouponBody>,
) -> ApiResult<(StatusCode, Json<GrantedCoupon>)> {
    staff.require(Permission::ManagePromotions)?;
    let grant_id =
        marketing::grant_coupon(&state, &staff.caller(), template_id, body.customer_id).await?;
    Ok((StatusCode::CREATED, Json(GrantedCoupon { grant_id })))
}

/// A cart to preview, at an hour of the merchant's choosing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    pub channel: Channel,
    #[schema(min_items = 1, max_items = 50)]
    pub lines: Vec<LineRequest>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 50)]
    pub diners: Option<i64>,
    #[serde(default)]
    pub delivery_to: Option<GeoPoint>,
    /// Price with exactly these promotions (`promotion:<id>`); leave out for the best.
    #[serde(default)]
    #[schema(max_items = 64)]
    pub chosen: Option<Vec<String>>,
    /// The instant to price at (milliseconds since the epoch); now by default.
    #[serde(default)]
    pub at_ms: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/promotions/preview", tag = "marketing",
    params(("store_id" = StoreId, Path)),
    request_body = PreviewBody,
    responses((status = 200, body = Quote, description = "What a guest would pay for this cart, every discount with its source, and each promotion left out with its reason (`not_applicable`); the store's hours are ignored"),
        (status = 403, body = crate::error::ErrorBody, description = "Only owners and managers of the whole brand preview promotions"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody, description = "LINE_PROBLEMS, OFFERS_REFUSED, OUTSIDE_DELIVERY_ZONES, BELOW_MINIMUM_ORDER, DELIVERY_ADDRESS_REQUIRED, EMPTY_ORDER, TOO_MANY_LINES, DINERS_OUT_OF_RANGE, TOTAL_TOO_LARGE, VALIDATION_FAILED")))]
pub async fn preview(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
    ApiJson(body): ApiJson<PreviewBody>,
) -> ApiResult<Json<Quote>> {
    staff.require(Permission::ManagePromotions)?;
    if let Some(diners) = body.diners
        && !(1..=diancan_domain::ordering::MAX_DINERS).contains(&diners)
    {
        return Err(ApiError::invalid_field(
            "diners",
            Problem::OutOfRange { min: 1, max: 50 },
        ));
    }
    let at = match body.at_ms {
        Some(ms) => Some(
            jiff::Timestamp::from_millisecond(ms)
                .map_err(|_| ApiError::invalid_field("at_ms", Problem::InvalidTime))?,
        ),
        None => None,
    };
    let cart = diancan_usecases::ordering::Cart {
        channel: body.channel,
        lines: body.lines,
        diners: body.diners,
        delivery_to: body.delivery_to,
        table_token: None,
        chosen: super::ordering::parse_chosen(body.chosen)?,
    };
    Ok(Json(
        marketing::preview(&state, &staff.caller(), store_id, &cart, at).await?,
    ))
}

/// A template in the coupon centre.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimableCouponView {
    pub template_id: CouponId,
    pub name: String,
    pub class: Option<String>,
    #[schema(value_type = Object)]
    pub benefit: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub validity: Option<serde_json::Value>,
    /// How many of it this diner holds already, and how many they may.
    pub claimed: i64,
    pub per_diner_limit: i64,
    /// Left to give out; `null` without a total limit.
    pub remaining: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/customer/coupon-centre", tag = "customer",
    responses((status = 200, body = Vec<ClaimableCouponView>, description = "The brand's coupons a diner may claim"),
        (status = 401, body = crate::error::ErrorBody)))]
pub async fn coupon_centre(
    State(state): State<AppState>,
    customer: Customer,
) -> ApiResult<Json<Vec<ClaimableCouponView>>> {
    let claimable = marketing::coupon_centre(&state, customer.brand_id, Some(customer.id)).await?;
    Ok(Json(
        claimable
            .into_iter()
            .map(|c| {
                let view = template_view(c.template.clone());
                ClaimableCouponView {
                    template_id: view.id,
                    name: view.name,
                    class: view.class,
                    benefit: view.benefit,
                    validity: view.validity,
                    claimed: c.claimed,
                    per_diner_limit: c.template.issuing.per_diner_limit,
                    remaining: c
                        .template
                        .issuing
                        .total_limit
                        .map(|t| t - c.template.issued),
                }
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/customer/coupon-centre/{template_id}/claim", tag = "customer",
    params(("template_id" = CouponId, Path)),
    responses((status = 201, body = GrantedCoupon),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "Not a claimable coupon of this brand"),
        (status = 409, body = crate::error::ErrorBody, description = "COUPONS_ALL_CLAIMED; COUPON_LIMIT_REACHED (the diner holds as many as allowed)")))]
pub async fn claim_coupon(
    State(state): State<AppState>,
    customer: Customer,
    ApiPath(template_id): ApiPath<CouponId>,
) -> ApiResult<(StatusCode, Json<GrantedCoupon>)> {
    let grant_id =
        marketing::claim_coupon(&state, customer.brand_id, customer.id, template_id).await?;
    Ok((StatusCode::CREATED, Json(GrantedCoupon { grant_id })))
}

/// One of the diner's coupons.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyCouponView {
    pub grant_id: CouponGrantId,
    /// What the checkout's `chosen` list names it by: `coupon:<grant id>`.
    pub source: String,
    pub template_id: CouponId,
    pub name: String,
    pub class: Option<String>,
    #[schema(value_type = Object)]
    pub benefit: Option<serde_json::Value>,
    /// `available` or `used`.
    pub state: String,
    pub claimed_at_ms: i64,
    pub valid_from_ms: i64,
    pub valid_until_ms: i64,
    pub order_id: Option<OrderId>,
}

fn my_coupon(held: HeldCoupon) -> MyCouponView {
    let view = template_view(held.template);
    MyCouponView {
        grant_id: held.grant.id,
        source: format!("coupon:{}", held.grant.id),
        template_id: held.grant.coupon_id,
        name: view.name,
        class: view.class,
        benefit: view.benefit,
        state: if held.order_id.is_some() {
            "used".into()
        } else {
            "available".into()
        },
        claimed_at_ms: held.grant.claimed_at.as_millisecond(),
        valid_from_ms: held.valid_from_ms,
        valid_until_ms: held.valid_until_ms,
        order_id: held.order_id,
    }
}

#[utoipa::path(get, path = "/api/v1/customer/coupons", tag = "customer",
    responses((status = 200, body = Vec<MyCouponView>, description = "The diner's coupons at the brand: unused ones first, soonest to expire first"),
        (status = 401, body = crate::error::ErrorBody)))]
pub async fn my_coupons(
    State(state): State<AppState>,
    customer: Customer,
) -> ApiResult<Json<Vec<MyCouponView>>> {
    let held = marketing::my_coupons(&state, customer.brand_id, customer.id).await?;
    Ok(Json(held.into_iter().map(my_coupon).collect()))
}
