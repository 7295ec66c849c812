//! 储值 over HTTP: a signed-in diner pays an order from their balance and reads their ledger;
//! staff read a member's ledger, recharge or correct it, and refund paid orders to the channels
//! they were paid by. Handlers parse, call one use case, and shape the answer.

use crate::auth::Staff;
use crate::customer_session::Customer;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::order_pass::OrderPass;
use crate::state::AppState;
use crate::views::balance::BalanceView;
use crate::views::orders::OrderView;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diancan_domain::balance::MAX_REASON_CHARS;
use diancan_domain::text::required_reason;
use diancan_domain::validation::{FieldErrors, Problem};
use diancan_domain::*;
use diancan_storage::balance::{OrderRefund, Posted};
use diancan_usecases::payments::balance::{self, MAX_PAGE, StaffEntry};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Largest single staff entry: ¥100,000 (more is a typo).
const MAX_STAFF_ENTRY_FEN: i64 = 10_000_000;
const DEFAULT_PAGE: i64 = 20;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerPage {
    /// `next_before` of the previous page.
    pub before: Option<Uuid>,
    /// Entries per page (1-100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

impl LedgerPage {
    /// The page size asked for; one outside 1-100 is refused, as the document says.
    fn limit(&self) -> ApiResult<i64> {
        match self.limit {
            None => Ok(DEFAULT_PAGE),
            Some(limit) if (1..=MAX_PAGE).contains(&limit) => Ok(limit),
            Some(_) => Err(ApiError::bad_request(
                "INVALID_QUERY",
                "limit 须在 1 到 100 之间",
                "`limit` must be 1 to 100",
            )),
        }
    }
}

/// An order paid from the balance, and the balance left.
#[derive(Debug, Serialize, ToSchema)]
pub struct BalancePaidView {
    pub order: OrderView,
    pub balance_fen: i64,
    pub available_fen: i64,
}

/// Pays the order's whole total from the signed-in diner's balance at its brand.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/balance-payment", tag = "payments",
    params(("order_id" = OrderId, Path), OrderPass),
    responses((status = 200, body = BalancePaidView),
        (status = 401, description = "SIGN_IN_REQUIRED: only a signed-in diner has a balance", body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "INSUFFICIENT_BALANCE (with what is available) or ORDER_NOT_PAYABLE (with the order)", body = crate::error::ErrorBody)))]
pub async fn pay_by_balance(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<OrderId>,
    OrderPass(pass): OrderPass,
) -> ApiResult<Json<BalancePaidView>> {
    let (order, account) = balance::pay_by_balance(&state, id, &pass).await?;
    Ok(Json(BalancePaidView {
        order: OrderView::from(order),
        balance_fen: account.balance.fen(),
        available_fen: account.available().fen(),
    }))
}

/// The signed-in diner's balance at their brand, and their ledger newest first.
#[utoipa::path(get, path = "/api/v1/customer/balance", tag = "customer", params(LedgerPage),
    responses((status = 200, body = BalanceView), (status = 401, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn my_balance(
    State(state): State<AppState>,
    customer: Customer,
    ApiQuery(page): ApiQuery<LedgerPage>,
) -> ApiResult<Json<BalanceView>> {
    let limit = page.limit()?;
    let (account, entries) =
        balance::member_balance(&state, customer.brand_id, customer.id, page.before, limit).await?;
    Ok(Json(BalanceView::of(&account, &entries, limit)))
}

#[utoipa::path(get, path = "/api/v1/console/members/{customer_id}/balance", tag = "console members",
    params(("customer_id" = CustomerId, Path), LedgerPage),
    responses((status = 200, body = BalanceView),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "The role may not manage balances"),
        (status = 404, body = crate::error::ErrorBody, description = "No such member at this brand"),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn member_balance(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(customer): ApiPath<CustomerId>,
    ApiQuery(page): ApiQuery<LedgerPage>,
) -> ApiResult<Json<BalanceView>> {
    let limit = page.limit()?;
    let (account, entries) =
        balance::console_member_balance(&state, &staff.caller(), customer, page.before, limit)
            .await?;
    Ok(Json(BalanceView::of(&account, &entries, limit)))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffEntryKind {
    /// Cash (or another offline method) taken at the counter and put on the balance.
    Recharge,
    /// A correction, up (positive) or down (negative).
    Adjustment,
}

/// A staff entry on a member's balance.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffEntryBody {
    pub kind: StaffEntryKind,
    /// Fen: positive for a recharge; an adjustment is signed and not zero.
    #[schema(minimum = -10_000_000, maximum = 10_000_000)]
    pub amount_fen: i64,
    #[schema(min_length = 1, max_length = 100)]
    pub reason: String,
    /// A fresh UUID per request, sent again on a retry: the entry is written once.
    pub key: Uuid,
}

#[utoipa::path(post, path = "/api/v1/console/members/{customer_id}/balance", tag = "console members",
    params(("customer_id" = CustomerId, Path)), request_body = StaffEntryBody,
    responses((status = 201, body = BalanceView, description = "Written (or written before under this key)"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "The role may not manage balances"),
        (status = 404, body = crate::error::ErrorBody, description = "No such member at this brand"),
        (status = 409, body = crate::error::ErrorBody, description = "INSUFFICIENT_BALANCE (an adjustment below what is free) or BALANCE_LIMIT"),
        (status = 422, body = crate::error::ErrorBody, description = "Invalid fields; amount_fen MUST_BE_POSITIVE when a recharge is not positive or an adjustment is zero")))]
pub async fn post_member_entry(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(customer): ApiPath<CustomerId>,
    ApiJson(body): ApiJson<StaffEntryBody>,
) -> ApiResult<(StatusCode, Json<BalanceView>)> {
    let mut errors = FieldErrors::new();
    let reason = required_reason(&mut errors, "reason", &body.reason, MAX_REASON_CHARS);
    let (entry, bounds_ok) = match body.kind {
        StaffEntryKind::Recharge => (StaffEntry::Recharge, body.amount_fen > 0),
        StaffEntryKind::Adjustment => (StaffEntry::Adjustment, body.amount_fen != 0),
    };
    if !bounds_ok {
        errors.add("amount_fen", Problem::MustBePositive);
    } else if body.amount_fen.abs() > MAX_STAFF_ENTRY_FEN {
        errors.add(
            "amount_fen",
            Problem::TooLarge {
                max: MAX_STAFF_ENTRY_FEN,
            },
        );
    }
    errors.finish(|| ())?;
    let caller = staff.caller();
    let posting = balance::post_staff_entry(
        &state,
        &caller,
        customer,
        entry,
        Money::from_fen(body.amount_fen),
        reason,
        body.key,
    )
    .await?;
    debug_assert!(!matches!(posting.posted, Posted::Refused(_)));
    let (account, entries) =
        balance::console_member_balance(&state, &caller, customer, None, DEFAULT_PAGE).await?;
    Ok((
        StatusCode::CREATED,
        Json(BalanceView::of(&account, &entries, DEFAULT_PAGE)),
    ))
}

/// A refund of a paid order, all of what is left or part of it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// Fen to give back; everything not yet refunded when absent.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub amount_fen: Option<i64>,
    /// A fresh UUID per refund, sent again on a retry or a second click: refunded once.
    pub key: Uuid,
}

/// What a refund gave back, by channel.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderRefundView {
    /// Credited back to the member's balance.
    pub balance_fen: i64,
    /// Asked of the gateway (it answers asynchronously).
    pub gateway_fen: i64,
    /// True when this key refunded before: nothing more was given back.
    pub repeat: bool,
}

#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/orders/{order_id}/refunds", tag = "console orders",
    params(("store_id" = StoreId, Path), ("order_id" = OrderId, Path)), request_body = RefundBody,
    responses((status = 201, body = OrderRefundView, description = "Split between the balance and the gateway in the proportions the order was paid"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "The role may not refund"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "REFUND_ABOVE_PAID (with what is left) or NOT_PAID"),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn refund_order(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, order_id)): ApiPath<(StoreId, OrderId)>,
    ApiJson(body): ApiJson<RefundBody>,
) -> ApiResult<(StatusCode, Json<OrderRefundView>)> {
    if body.amount_fen.is_some_and(|fen| fen <= 0) {
        return Err(ApiError::invalid_field(
            "amount_fen",
            Problem::MustBePositive,
        ));
    }
    let outcome = balance::refund_order(
        &state,
        &staff.caller(),
        store_id,
        order_id,
        body.amount_fen.map(Money::from_fen),
        RefundId::from_uuid(body.key),
    )
    .await?;
    let view = match outcome {
        OrderRefund::Refunded { balance, gateway } => OrderRefundView {
            balance_fen: balance.fen(),
            gateway_fen: gateway.map_or(0, |r| r.amount.fen()),
            repeat: false,
        },
        OrderRefund::Repeat | OrderRefund::Refused(_) => OrderRefundView {
            balance_fen: 0,
            gateway_fen: 0,
            repeat: true,
        },
    };
    Ok((StatusCode::CREATED, Json(view)))
}
