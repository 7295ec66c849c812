//! Diner login: a one-time code by SMS to a mainland mobile number, or a WeChat mini-program
//! login code. The store in the path decides the brand the diner becomes a customer of.

use crate::customer_session::{self, Customer};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::forwarded::ClientIp;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use diancan_domain::customer::{
    OTP_MAX_ATTEMPTS, OTP_SEND_LIMITS, OTP_TTL_MS, OtpCode, OtpRefusal, Phone, SendLimit,
};
use diancan_domain::{CustomerId, OtpChallengeId, StoreId};
use diancan_integrations::wechat::WeChatError;
use diancan_storage::{CustomerRecord, NewOtpChallenge, OtpAttempt};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Codes one client address may request per hour, whatever the phones (SMS pumping).
const OTP_SENDS_PER_ADDRESS_PER_HOUR: i64 = 30;
const DEFAULT_DISPLAY_NAME: &str = "顾客";
const MAX_WECHAT_CODE_LEN: usize = 128;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpRequest {
    /// Mainland China mobile number; "+86", spaces and dashes are fine.
    #[schema(example = "138 1234 5678", max_length = 32)]
    pub phone: String,
}

#[derive(Serialize, ToSchema)]
pub struct OtpSent {
    /// Where the code went, masked ("138****5678").
    pub phone_masked: String,
    pub expires_in_secs: i64,
    /// When another code may be requested for this phone.
    pub resend_after_secs: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneLoginRequest {
    #[schema(max_length = 32)]
    pub phone: String,
    /// The six digits from the SMS.
    #[schema(example = "123456", pattern = "^[0-9]{6}$")]
    pub code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeChatLoginRequest {
    /// The code from the mini-program's `wx.login()`.
    #[schema(min_length = 1, max_length = 128)]
    pub code: String,
}

/// A diner as they see themselves: never the full phone number.
#[derive(Serialize, ToSchema)]
pub struct CustomerView {
    pub id: CustomerId,
    /// "138****5678"; absent for WeChat-only customers.
    pub phone_masked: Option<String>,
    pub display_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CustomerLoginResponse {
    /// Send as `Authorization: Customer <token>`; browsers also get it as an HttpOnly cookie.
    pub token: String,
    pub customer: CustomerView,
}

impl From<&Customer> for CustomerView {
    fn from(c: &Customer) -> Self {
        CustomerView {
            id: c.id,
            phone_masked: c.phone.as_ref().map(Phone::masked),
            display_name: c.display_name.clone(),
        }
    }
}

fn invalid_phone() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_PHONE",
        "请输入有效的中国大陆手机号",
        "Enter a valid mainland China mobile number",
    )
}

fn otp_throttled(retry_after_secs: u64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "OTP_THROTTLED",
        format!("验证码发送过于频繁，请 {retry_after_secs} 秒后再试"),
        format!("Too many codes requested; try again in {retry_after_secs} seconds"),
    )
    .with_retry_after(retry_after_secs)
}

fn otp_wrong(attempts_left: i64) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "OTP_WRONG",
        format!("验证码错误，还可以再试 {attempts_left} 次"),
        format!("Wrong code; {attempts_left} attempts left"),
    )
}

fn otp_expired() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "OTP_EXPIRED",
        "验证码已失效，请重新获取",
        "The code has expired or was already used; request a new one",
    )
}

fn otp_locked() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "OTP_LOCKED",
        "验证码错误次数过多，请重新获取",
        "Too many wrong codes; request a new one",
    )
}

fn invalid_otp_format() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_OTP",
        "验证码是 6 位数字",
        "The code is six digits",
    )
}

pub(crate) fn wechat_code_invalid() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "WECHAT_CODE_INVALID",
        "微信登录已失效，请重新登录",
        "The WeChat login code is invalid or expired; log in again",
    )
}

pub(crate) fn wechat_unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "WECHAT_UNAVAILABLE",
        "微信登录暂时不可用，请稍后再试或使用手机号登录",
        "WeChat login is unavailable; try again later or log in by phone",
    )
}

fn sms_unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "SMS_UNAVAILABLE",
        "短信发送失败，请稍后再试",
        "The code could not be sent; please try again later",
    )
}

/// What the keyed code hash covers: binding the challenge id means a leaked hash of one
/// challenge says nothing about another.
fn code_hash_input(challenge: OtpChallengeId, code: &OtpCode) -> String {
    format!("otp-code:{challenge}:{}", code.expose())
}

/// Counts one hit on a throttle; refuses with the seconds left in the window when over `max`.
async fn throttle(state: &AppState, key: &str, limit: SendLimit, now: i64) -> ApiResult<()> {
    let hit = state.db.hit_throttle(key, now, limit.window_ms).await?;
    if hit.count > limit.max {
        let left_ms = (hit.window_started_ms + limit.window_ms - now).max(1_000) as u64;
        return Err(otp_throttled(left_ms.div_ceil(1_000)));
    }
    Ok(())
}

/// Sends a six-digit login code by SMS. At most one a minute and five an hour per phone;
/// the answer is the same whether or not the phone is already a customer.
#[utoipa::path(post, path = "/api/v1/stores/{store_id}/customer/otp", tag = "customer",
    params(("store_id" = StoreId, Path)), request_body = OtpRequest,
    responses((status = 202, body = OtpSent), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody, description = "Too many codes; see Retry-After"),
        (status = 503, body = crate::error::ErrorBody)))]
pub async fn request_otp(
    State(state): State<AppState>,
    ApiPath(store_id): ApiPath<StoreId>,
    client: ClientIp,
    ApiJson(request): ApiJson<OtpRequest>,
) -> ApiResult<Response> {
    let store = state.db.store(store_id).await?;
    let phone = Phone::parse(&request.phone).map_err(|_| invalid_phone())?;
    let index = state.pii.phone_index(&phone);
    let now = state.clock.now_ms();
    let address_limit = SendLimit {
        name: "otp-ip",
        window_ms: 3600 * 1000,
        max: OTP_SENDS_PER_ADDRESS_PER_HOUR,
    };
    if let Some(key) = client.throttle_key(address_limit.name) {
        throttle(&state, &key, address_limit, now).await?;
    }
    // Keyed by the blind index: the throttle table never holds a phone number.
    for limit in OTP_SEND_LIMITS {
        throttle(
            &state,
            &format!("{}:{}", limit.name, index.to_hex()),
            limit,
            now,
        )
        .await?;
    }

    let code = OtpCode::from_random(rand::random_range(0..1_000_000));
    let challenge_id = OtpChallengeId::new();
    let challenge = NewOtpChallenge {
        id: challenge_id,
        brand_id: store.brand_id,
        code_hash: state.pii.blind_index(&code_hash_input(challenge_id, &code)),
        phone_index: index,
        expires_at_ms: now + OTP_TTL_MS,
    };
    state
        .db
        .create_otp_challenge(&challenge, now, now - 24 * 3600 * 1000)
        .await?;
    if let Err(error) = state.sms.send_code(&phone, &code).await {
        tracing::error!(phone = %phone, %error, "could not send a login code");
        return Err(sms_unavailable());
    }
    let body = OtpSent {
        phone_masked: phone.masked(),
        expires_in_secs: OTP_TTL_MS / 1000,
        resend_after_secs: OTP_SEND_LIMITS[0].window_ms / 1000,
    };
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}

/// Logs a diner in with the code from the SMS, creating the customer on first login.
/// A code works once, for five minutes, and is locked after five wrong tries.
#[utoipa::path(post, path = "/api/v1/stores/{store_id}/customer/login", tag = "customer",
    params(("store_id" = StoreId, Path)), request_body = PhoneLoginRequest,
    responses((status = 200, body = CustomerLoginResponse), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn login_with_code(
    State(state): State<AppState>,
    ApiPath(store_id): ApiPath<StoreId>,
    ApiJson(request): ApiJson<PhoneLoginRequest>,
) -> ApiResult<Response> {
    let store = state.db.store(store_id).await?;
    let phone = Phone::parse(&request.phone).map_err(|_| invalid_phone())?;
    let code = OtpCode::parse(&request.code).map_err(|_| invalid_otp_format())?;
    let index = state.pii.phone_index(&phone);
    let now = state.clock.now_ms();
    let attempt = state
        .db
        .claim_otp_attempt(store.brand_id, &index, OTP_MAX_ATTEMPTS, now)
        .await?;
    let (challenge_id, code_hash, attempts) = match attempt {
        OtpAttempt::Open {
            challenge_id,
            code_hash,
            attempts,
        } => (challenge_id, code_hash, attempts),
        OtpAttempt::Refused(OtpRefusal::Locked) => return Err(otp_locked()),
        OtpAttempt::Refused(OtpRefusal::Expired | OtpRefusal::NoChallenge) => {
            return Err(otp_expired());
        }
    };
    if !state
        .pii
        .verify_index(&code_hash_input(challenge_id, &code), &code_hash)
    {
        tracing::info!(phone = %phone, attempts, "wrong customer login code");
        return Err(otp_wrong(OTP_MAX_ATTEMPTS - attempts));
    }
    if !state.db.consume_otp_challenge(challenge_id).await? {
        return Err(otp_expired());
    }
    let record = state
        .db
        .customer_by_phone_or_create(
            store.brand_id,
            &index,
            &state.pii.seal_phone(&phone),
            DEFAULT_DISPLAY_NAME,
            now,
        )
        .await?;
    logged_in(&state, record).await
}

/// Logs a diner in with a WeChat mini-program login code (exchanged through jscode2session).
#[utoipa::path(post, path = "/api/v1/stores/{store_id}/customer/wechat-login", tag = "customer",
    params(("store_id" = StoreId, Path)), request_body = WeChatLoginRequest,
    responses((status = 200, body = CustomerLoginResponse), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn login_with_wechat(
    State(state): State<AppState>,
    ApiPath(store_id): ApiPath<StoreId>,
    ApiJson(request): ApiJson<WeChatLoginRequest>,
) -> ApiResult<Response> {
    let store = state.db.store(store_id).await?;
    let code = request.code.trim();
    // A wx.login() code is short printable ASCII; anything else never reaches WeChat.
    if code.is_empty()
        || code.len() > MAX_WECHAT_CODE_LEN
        || !code.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(wechat_code_invalid());
    }
    let session = match state.wechat.code2session(code).await {
        Ok(session) => session,
        Err(WeChatError::InvalidCode) => return Err(wechat_code_invalid()),
        Err(error) => {
            tracing::error!(%error, "WeChat code2session failed");
            return Err(wechat_unavailable());
        }
    };
    let kind = format!("wechat-openid:{}", state.wechat.app_id());
    let index = state.pii.external_id_index(&kind, &session.openid);
    let record = state
        .db
        .customer_by_wechat_or_create(store.brand_id, &index, "微信顾客", state.clock.now_ms())
        .await?;
    logged_in(&state, record).await
}

async fn logged_in(state: &AppState, record: CustomerRecord) -> ApiResult<Response> {
    // The first sign-in makes the diner a member of the brand. A failure here costs the
    // sign-in nothing: the membership is opened on their first visit to the 会员 page.
    if let Err(error) =
        diancan_usecases::membership::join_on_sign_in(state, record.brand_id, record.id).await
    {
        tracing::warn!(%error, "joining membership at sign-in failed");
    }
    let (token, cookie) = customer_session::start_session(state, &record).await?;
    let customer = Customer::from_record(state, record)?;
    let body = CustomerLoginResponse {
        token,
        customer: CustomerView::from(&customer),
    };
    let cookie = HeaderValue::from_str(&cookie).map_err(ApiError::internal)?;
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(body)).into_response())
}

/// The logged-in diner.
#[utoipa::path(get, path = "/api/v1/customer/me", tag = "customer",
    responses((status = 200, body = CustomerView), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(customer: Customer) -> axum::Json<CustomerView> {
    axum::Json(CustomerView::from(&customer))
}

/// Ends the diner's session on this device.
#[utoipa::path(post, path = "/api/v1/customer/logout", tag = "customer",
    responses((status = 204, description = "Logged out")))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let cookie = customer_session::end_session(&state, &headers).await?;
    let cookie = HeaderValue::from_str(&cookie).map_err(ApiError::internal)?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}
