//! Staff login, logout and "who am I".

use crate::auth::{self, Staff};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::forwarded::ClientIp;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use diancan_domain::login_throttle::{STAFF_LOGIN_ADDRESS_LIMIT, STAFF_LOGIN_BACKOFF};
use diancan_domain::staff::Role;
use diancan_domain::{BrandId, StaffId, StoreId};
use diancan_storage::{LoginClaim, StorageError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(max_length = 64)]
    pub login: String,
    #[schema(max_length = 256)]
    pub password: String,
}

/// No account's login name is longer; checked before a throttle row is keyed by it.
const MAX_LOGIN_CHARS: usize = 64;
/// Hashing cost grows with the password; no passphrase needs more.
const MAX_PASSWORD_CHARS: usize = 256;

impl LoginRequest {
    /// The shape of the credentials, before anything is looked up or counted.
    fn check(&self) -> ApiResult<()> {
        use diancan_domain::text::{Lines, check_text};
        let mut errors = diancan_domain::validation::FieldErrors::new();
        if let Err(problem) = check_text(self.login.trim(), MAX_LOGIN_CHARS, Lines::One) {
            errors.add("login", problem);
        }
        if self.password.chars().nth(MAX_PASSWORD_CHARS).is_some() {
            errors.add(
                "password",
                diancan_domain::validation::Problem::TooLong {
                    max: MAX_PASSWORD_CHARS,
                },
            );
        }
        Ok(errors.finish(|| ())?)
    }
}

#[derive(Serialize, ToSchema)]
pub struct StoreRef {
    pub id: StoreId,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct StaffView {
    pub id: StaffId,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub role_label: String,
    pub brand_id: BrandId,
    pub brand_name: String,
    /// The stores this person works in.
    pub stores: Vec<StoreRef>,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for devices; browsers also receive it as an HttpOnly cookie.
    pub token: String,
    pub staff: StaffView,
}

async fn staff_view(state: &AppState, staff: &Staff) -> ApiResult<StaffView> {
    let brand = state.db.brand(staff.brand_id).await?;
    let stores = state
        .db
        .stores_of_brand(staff.brand_id)
        .await?
        .into_iter()
        // A store that needs repair is still listed: its owner must be able to open it.
        .map(|entry| match entry {
            Ok(store) => StoreRef {
                id: store.id,
                name: store.profile.name,
            },
            Err(damaged) => StoreRef {
                id: damaged.id,
                name: damaged.stored.name,
            },
        })
        .filter(|s| staff.access.allows(s.id))
        .collect();
    Ok(StaffView {
        id: staff.id,
        login: staff.login.clone(),
        display_name: staff.display_name.clone(),
        role: staff.role,
        role_label: staff.role.label_zh().to_owned(),
        brand_id: brand.id,
        brand_name: brand.name,
        stores,
    })
}

fn wrong_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "WRONG_CREDENTIALS",
        "账号或密码错误",
        "Wrong login name or password",
    )
}

/// Logs a staff member in. Every attempt is counted before its password is checked, per login
/// name (a wait that doubles after five failures, at most a minute, so a stranger cannot lock
/// the owner out) and per client address (30 failures in 15 minutes), across all instances.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody, description = "Too many failures; see Retry-After")))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientIp,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    request.check()?;
    let now = state.clock.now_ms();
    let login_key = format!("login:{}", request.login.trim().to_lowercase());
    let address_key = client.throttle_key("ip");
    let claim = state
        .db
        .claim_login_attempt(
            &login_key,
            address_key.as_deref(),
            now,
            &STAFF_LOGIN_BACKOFF,
            &STAFF_LOGIN_ADDRESS_LIMIT,
        )
        .await?;
    if let LoginClaim::Refused { retry_after_ms } = claim {
        return Err(ApiError::too_many_attempts(
            (retry_after_ms.max(1) as u64).div_ceil(1_000),
        ));
    }

    let account = match state.db.staff_by_login(request.login.trim()).await {
        Ok(account) if account.active => Some(account),
        Ok(_) | Err(StorageError::NotFound) => None,
        Err(other) => return Err(other.into()),
    };
    let phc = account
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| crate::passwords::decoy_hash().to_owned());
    let password_ok = crate::passwords::verify(request.password, phc).await;
    let Some(account) = account.filter(|_| password_ok) else {
        // Already counted by the claim.
        tracing::info!(login = %login_key, "failed staff login");
        return Err(wrong_credentials());
    };
    state
        .db
        .login_succeeded(&login_key, address_key.as_deref())
        .await?;

    let (token, hash) = auth::new_session_token();
    state
        .db
        .create_session(
            &hash,
            account.id,
            account.brand_id,
            now,
            now + auth::SESSION_TTL_MS,
        )
        .await?;
    let staff: Staff = state.db.session_staff(&hash, now).await?.into();
    let body = LoginResponse {
        staff: staff_view(&state, &staff).await?,
        token: token.clone(),
    };
    let cookie = HeaderValue::from_str(&auth::session_cookie(&token, state.config.secure_cookies))
        .map_err(ApiError::internal)?;
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(body)).into_response())
}

/// Ends the current session (the token stops working everywhere at once).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "session",
    responses((status = 204, description = "Logged out")))]
pub async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    if let Some(token) = auth::session_token(&headers) {
        state.db.delete_session(&auth::token_hash(&token)).await?;
    }
    let cookie =
        HeaderValue::from_str(&auth::clear_session_cookie()).map_err(ApiError::internal)?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "session",
    responses((status = 200, body = StaffView), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(State(state): State<AppState>, staff: Staff) -> ApiResult<axum::Json<StaffView>> {
    Ok(axum::Json(staff_view(&state, &staff).await?))
}
