//! Paying an order through a gateway: the diner asks for a payment of the order's own total and
//! is sent on (a redirect, a QR code, WeChat's in-app sheet); the gateway's notification comes
//! back to `/api/v1/payments/{provider}/notify` and is answered with the exact acknowledgement
//! its protocol expects, once the report is stored.

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::forwarded::ClientIp;
use crate::order_pass::OrderPass;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use diancan_domain::payments::{Payment, PaymentProvider, PaymentState};
use diancan_domain::redacted::Redacted;
use diancan_domain::*;
use diancan_integrations::payments::model::{IncomingNotification, Prepared};
use diancan_usecases::payments::{self, Checkout};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest `return_url` path accepted (it comes back to this site only).
const MAX_RETURN_PATH: usize = 512;
/// Longest payer id (openid 28, Alipay buyer id 16; room for future formats).
const MAX_PAYER_LEN: usize = 64;
/// A gateway notification is a few kilobytes; anything far larger is not one.
const MAX_NOTIFICATION_BYTES: usize = 64 * 1024;

/// How the diner's device will pay, and through which gateway.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "how", rename_all = "snake_case", deny_unknown_fields)]
pub enum StartPaymentBody {
    /// A phone browser outside the gateway's app: sent to the gateway's page and back.
    Browser {
        provider: PaymentProvider,
        /// A path on this site to come back to afterwards (`/s/…#order=…`).
        #[serde(default)]
        #[schema(
            max_length = 512,
            pattern = r"^/([^/\\\u0000-\u001f\u007f-\u009f][^\\\u0000-\u001f\u007f-\u009f]*)?$"
        )]
        return_path: Option<String>,
        /// Pay from the signed-in diner's balance first, the rest here (combined payment).
        #[serde(default)]
        use_balance: bool,
    },
    /// A QR code to scan with the gateway's app.
    Qr {
        provider: PaymentProvider,
        /// Pay from the signed-in diner's balance first, the rest here (combined payment).
        #[serde(default)]
        use_balance: bool,
    },
    /// Inside WeChat or Alipay, as the diner `payer` (openid / buyer id).
    InApp {
        provider: PaymentProvider,
        #[schema(max_length = 64, pattern = r"^[A-Za-z0-9_-]{1,64}$")]
        payer: String,
        /// Pay from the signed-in diner's balance first, the rest here (combined payment).
        #[serde(default)]
        use_balance: bool,
    },
}

impl StartPaymentBody {
    pub(crate) fn provider(&self) -> PaymentProvider {
        match self {
            StartPaymentBody::Browser { provider, .. }
            | StartPaymentBody::Qr { provider, .. }
            | StartPaymentBody::InApp { provider, .. } => *provider,
        }
    }

    pub(crate) fn use_balance(&self) -> bool {
        match self {
            StartPaymentBody::Browser { use_balance, .. }
            | StartPaymentBody::Qr { use_balance, .. }
            | StartPaymentBody::InApp { use_balance, .. } => *use_balance,
        }
    }

    pub(crate) fn return_path(&self) -> Option<&str> {
        match self {
            StartPaymentBody::Browser { return_path, .. } => return_path.as_deref(),
            _ => None,
        }
    }
}

/// A payment as the diner sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: PaymentId,
    pub provider: PaymentProvider,
    pub method: String,
    pub amount_fen: i64,
    pub state: PaymentState,
    pub created_at_ms: i64,
    pub paid_at_ms: Option<i64>,
}

impl From<&Payment> for PaymentView {
    fn from(p: &Payment) -> Self {
        PaymentView {
            id: p.id,
            provider: p.provider,
            method: p.method.clone(),
            amount_fen: p.amount.fen(),
            state: p.state,
            created_at_ms: p.created_at_ms,
            paid_at_ms: p.paid_at_ms,
        }
    }
}

/// What the diner's device does next.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NextStep {
    /// Open this URL (the gateway's payment page, or the demo's simulator page).
    Redirect { url: String },
    /// Show this text as a QR code for the gateway's app to scan.
    QrCode { code: String },
    /// Call `WeixinJSBridge.invoke('getBrandWCPayRequest', params)`.
    WechatBridge { params: serde_json::Value },
    /// Call `my.tradePay({tradeNO})` in Alipay.
    AlipayTrade { trade_no: String },
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StartedPaymentView {
    pub payment: PaymentView,
    /// Held from the diner's balance for this payment (combined payment); 0 when none.
    pub balance_fen: i64,
    pub next: NextStep,
    /// Demo mode only: the simulator's page where the demo diner taps 支付.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simulator_url: Option<String>,
}

/// The ways this order can be paid, and its payments so far.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderPaymentsView {
    /// Gateways offered here, in the order the checkout shows them.
    pub providers: Vec<PaymentProvider>,
    pub payments: Vec<PaymentView>,
}

/// The gateways a diner may choose for this order, and its payments so far.
#[utoipa::path(get, path = "/api/v1/orders/{order_id}/payments", tag = "payments", params(("order_id" = OrderId, Path), OrderPass),
    responses((status = 200, body = OrderPaymentsView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn order_payments(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<OrderId>,
    OrderPass(pass): OrderPass,
) -> ApiResult<Json<OrderPaymentsView>> {
    let order = diancan_usecases::ordering::diner_order(&state, id, &pass).await?;
    let payments = state.db.payments_of_order(order.id).await?;
    Ok(Json(OrderPaymentsView {
        providers: state.payments.offered(),
        payments: payments.iter().map(PaymentView::from).collect(),
    }))
}

/// Starts paying the order's total through a gateway. Each call is a new payment: one left
/// unpaid is closed at its gateway when the order's deadline passes.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/payments", tag = "payments", params(("order_id" = OrderId, Path), OrderPass),
    request_body = StartPaymentBody,
    responses((status = 201, body = StartedPaymentView),
        (status = 404, body = crate::error::ErrorBody),
        (status = 401, description = "SIGN_IN_REQUIRED: `use_balance` needs a signed-in diner", body = crate::error::ErrorBody),
        (status = 409, description = "ORDER_NOT_PAYABLE (with the order), PAYMENT_METHOD_UNAVAILABLE, BALANCE_COVERS_ORDER (pay by balance instead)", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
        (status = 503, description = "PAYMENT_GATEWAY_UNAVAILABLE: pay another way", body = crate::error::ErrorBody)))]
pub async fn start_payment(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<OrderId>,
    OrderPass(pass): OrderPass,
    client: ClientIp,
    ApiJson(body): ApiJson<StartPaymentBody>,
) -> ApiResult<(StatusCode, Json<StartedPaymentView>)> {
    let checkout = checkout_of(&state, &body, client)?;
    let started = payments::start_payment(
        &state,
        id,
        &pass,
        body.provider(),
        checkout,
        body.use_balance(),
    )
    .await?;
    let simulator_url = state.payment_simulators.as_ref().map(|_| {
        crate::demo_pay::page_url(
            started.payment.provider,
            &started.payment.out_trade_no,
            &started.prepared,
            body.return_path(),
        )
    });
    Ok((
        StatusCode::CREATED,
        Json(StartedPaymentView {
            payment: PaymentView::from(&started.payment),
            balance_fen: started.balance_held.fen(),
            next: next_step_of(&started.prepared),
            simulator_url,
        }),
    ))
}

pub(crate) fn checkout_of(
    state: &AppState,
    body: &StartPaymentBody,
    client: ClientIp,
) -> ApiResult<Checkout> {
    use diancan_domain::validation::{FieldErrors, Problem};
    let mut errors = FieldErrors::new();
    let checkout = match body {
        StartPaymentBody::Qr { .. } => Checkout::Qr,
        StartPaymentBody::InApp { payer, .. } => {
            if payer.is_empty()
                || payer.len() > MAX_PAYER_LEN
                || !payer
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                errors.add("payer", Problem::InvalidCharacters);
            }
            Checkout::InApp {
                payer: Redacted::new(payer.clone()),
            }
        }
        StartPaymentBody::Browser { return_path, .. } => {
            let return_url = match return_path.as_deref() {
                None => None,
                Some(path) if is_own_path(path) => state.payments.public_url(path),
                Some(_) => {
                    errors.add("return_path", Problem::InvalidCharacters);
                    None
                }
            };
            Checkout::Browser {
                client_ip: client
                    .0
                    .map_or_else(|| "127.0.0.1".to_owned(), |ip| ip.to_string()),
                return_url,
            }
        }
    };
    Ok(errors.finish(|| checkout)?)
}

/// A path on this site (never `//host` or a scheme), so the gateway cannot be told to send the
/// diner elsewhere.
fn is_own_path(path: &str) -> bool {
    path.len() <= MAX_RETURN_PATH
        && path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(|c| c.is_control() || c == '\\')
}

pub(crate) fn next_step_of(prepared: &Prepared) -> NextStep {
    match prepared {
        Prepared::Redirect(url) => NextStep::Redirect { url: url.clone() },
        Prepared::QrCode(code) => NextStep::QrCode { code: code.clone() },
        Prepared::WechatBridge(params) => NextStep::WechatBridge {
            params: serde_json::to_value(params).unwrap_or_default(),
        },
        Prepared::AlipayTradeNo(trade_no) => NextStep::AlipayTrade {
            trade_no: trade_no.clone(),
        },
        // A diner's checkout never prepares a 付款码 payment (the cashier's screen does).
        Prepared::PaymentCode(_) => NextStep::QrCode {
            code: String::new(),
        },
    }
}

/// A gateway's notification. The answer is the gateway's own acknowledgement (WeChat Pay: JSON
/// with 200, or 4xx/5xx to be sent again; Alipay: the bare text `success`, or `fail`).
#[utoipa::path(post, path = "/api/v1/payments/{provider}/notify", tag = "payments",
    params(("provider" = PaymentProvider, Path)),
    request_body(content = String, description = "The gateway's signed notification, as sent", content_type = "application/octet-stream"),
    responses((status = 200, description = "Recorded: `{\"code\":\"SUCCESS\"}` or `success`"),
        (status = 400, description = "Not believed (signature, format, addressee): sent again by the gateway"),
        (status = 404, body = crate::error::ErrorBody, description = "That gateway is not configured here"),
        (status = 413, body = crate::error::ErrorBody)))]
pub async fn notify(
    State(state): State<AppState>,
    ApiPath(provider): ApiPath<PaymentProvider>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let Some(configured) = state.payments.get(provider) else {
        return Err(crate::error::ApiError::not_found());
    };
    if body.len() > MAX_NOTIFICATION_BYTES {
        return Err(crate::error::ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "NOTIFICATION_TOO_LARGE",
            "通知过大",
            "A payment notification is never this large",
        ));
    }
    let incoming = IncomingNotification {
        headers: headers
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
        body: body.to_vec(),
    };
    let answer = payments::receive_notification(
        &state,
        configured.gateway.as_ref(),
        &configured.account,
        &incoming,
    )
    .await;
    Ok((
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, answer.content_type)],
        answer.body,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/console/payments/health", tag = "payments",
    responses((status = 200, body = Vec<diancan_usecases::payments::health::HealthReport>,
        description = "Each configured gateway's circuit breaker, success rate (basis points) and latency percentiles over its recent calls, in this instance")))]
pub async fn gateway_health(
    State(state): State<AppState>,
    staff: crate::auth::Staff,
) -> ApiResult<Json<Vec<diancan_usecases::payments::health::HealthReport>>> {
    staff.require(diancan_domain::staff::Permission::ViewConsole)?;
    Ok(Json(state.core.payments.health()))
}
