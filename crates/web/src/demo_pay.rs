//! Demo mode only: the payment pages of the gateway simulators, where the demo diner taps 支付.
//! The simulator then posts its signed notification to our notify address on the gateway's
//! own resend schedule, exactly as WeChat Pay and Alipay would. Never mounted outside demo mode.

use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use diancan_domain::membership::recharge::RechargeState;
use diancan_domain::payments::{PaymentProvider, PaymentState};
use diancan_integrations::payments::model::{Prepared, Provider};
use serde::{Deserialize, Serialize};

/// Where the demo diner is sent to pay `out_trade_no` (an order's payment or a recharge), coming back to `back` (a path on this site).
pub fn page_url(
    provider: PaymentProvider,
    out_trade_no: &str,
    prepared: &Prepared,
    back: Option<&str>,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(back) = back {
        query.append_pair("back", back);
    }
    if let (PaymentProvider::Alipay, Prepared::Redirect(page)) = (provider, prepared) {
        query.append_pair("to", page);
    }
    let query = query.finish();
    let path = format!("/demo/pay/{}/{out_trade_no}", provider.as_str());
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/demo/pay/{provider}/{out_trade_no}",
            get(|| async { crate::pages::shell("customer/pay-simulator.html") }).post(pay),
        )
        .route("/demo/pay/{provider}/{out_trade_no}/details", get(details))
}

/// What the simulator's page shows.
#[derive(Debug, Serialize)]
struct Details {
    provider: PaymentProvider,
    amount_fen: i64,
    state: PaymentState,
}

async fn details(
    State(state): State<AppState>,
    Path((provider, out_trade_no)): Path<(String, String)>,
) -> ApiResult<Json<Details>> {
    let payment = payment_of(&state, &provider, &out_trade_no).await?;
    Ok(Json(Details {
        provider: payment.provider,
        amount_fen: payment.amount_fen,
        state: payment.state,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayBody {
    /// Alipay `wap.pay`: the signed page address the diner was sent to.
    #[serde(default)]
    to: Option<String>,
}

async fn pay(
    State(state): State<AppState>,
    Path((provider, out_trade_no)): Path<(String, String)>,
    ApiJson(body): ApiJson<PayBody>,
) -> ApiResult<StatusCode> {
    let Some(simulators) = state.payment_simulators.clone() else {
        return Err(ApiError::not_found());
    };
    let payment = payment_of(&state, &provider, &out_trade_no).await?;
    let provider = match payment.provider {
        PaymentProvider::WechatPay => Provider::WechatPay,
        PaymentProvider::Alipay => Provider::Alipay,
    };
    let page = body.to.filter(|to| to.len() <= 8 * 1024);
    simulators
        .pay(provider, &payment.out_trade_no, page.as_deref())
        .map_err(|error| {
            ApiError::new(
                StatusCode::CONFLICT,
                "SIMULATED_PAYMENT_REFUSED",
                format!("模拟支付未完成：{error}"),
                format!("The simulated payment did not go through: {error}"),
            )
        })?;
    Ok(StatusCode::ACCEPTED)
}

async fn payment_of(state: &AppState, provider: &str, out_trade_no: &str) -> ApiResult<Simulated> {
    if out_trade_no.len() > 64 {
        return Err(ApiError::not_found());
    }
    if let Some(payment) = state.db.payment_by_trade_no(out_trade_no).await? {
        return match payment.provider.as_str() == provider {
            true => Ok(Simulated {
                provider: payment.provider,
                out_trade_no: payment.out_trade_no,
                amount_fen: payment.amount.fen(),
                state: payment.state,
            }),
            false => Err(ApiError::not_found()),
        };
    }
    // A member's recharge is paid through the same simulator.
    match state.db.recharge_by_trade_no(out_trade_no).await? {
        Some(recharge) if recharge.provider.as_str() == provider => Ok(Simulated {
            provider: recharge.provider,
            out_trade_no: recharge.out_trade_no,
            amount_fen: recharge.amount.fen(),
            state: match recharge.state {
                RechargeState::Pending => PaymentState::Pending,
                RechargeState::Paid => PaymentState::Paid,
                RechargeState::Closed => PaymentState::Closed,
            },
        }),
        _ => Err(ApiError::not_found()),
    }
}

/// What the simulator pays: an order's payment or a member's recharge.
struct Simulated {
    provider: PaymentProvider,
    out_trade_no: String,
    amount_fen: i64,
    state: PaymentState,
}
