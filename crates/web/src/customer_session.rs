//! Diner sessions: an opaque random token (only its SHA-256 is stored) sent as the HttpOnly
//! cookie `diancan_customer` or as `Authorization: Customer <token>`, and the [`Customer`]
//! extractor that order history and other diner endpoints take.

use crate::auth::{new_session_token, token_hash};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use diancan_domain::customer::{CUSTOMER_SESSION_TTL_MS, Phone};
use diancan_domain::{BrandId, CustomerId};
use diancan_storage::{CustomerRecord, StorageError};

pub const CUSTOMER_COOKIE: &str = "diancan_customer";
const AUTH_SCHEME: &str = "Customer ";

/// A logged-in diner. Extracting it fails with 401 when there is no live customer session.
/// The phone is opened from its sealed form; its `Debug` shows only the masked number.
#[derive(Debug, Clone)]
pub struct Customer {
    pub id: CustomerId,
    pub brand_id: BrandId,
    pub phone: Option<Phone>,
    pub has_wechat: bool,
    pub display_name: String,
}

impl Customer {
    pub fn from_record(state: &AppState, record: CustomerRecord) -> ApiResult<Customer> {
        let phone = record
            .phone
            .as_ref()
            .map(|sealed| state.pii.open_phone(sealed))
            .transpose()
            .map_err(ApiError::internal)?;
        Ok(Customer {
            id: record.id,
            brand_id: record.brand_id,
            phone,
            has_wechat: record.has_wechat,
            display_name: record.display_name,
        })
    }
}

/// The customer token from `Authorization: Customer …` or the `diancan_customer` cookie.
pub fn customer_token(headers: &HeaderMap) -> Option<String> {
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix(AUTH_SCHEME))
    {
        return Some(token.trim().to_owned());
    }
    crate::auth::cookie(headers, CUSTOMER_COOKIE)
}

/// Starts a session for `customer`; returns the token and its `Set-Cookie` value.
pub async fn start_session(
    state: &AppState,
    customer: &CustomerRecord,
) -> ApiResult<(String, String)> {
    let (token, hash) = new_session_token();
    let now = state.clock.now_ms();
    state
        .db
        .create_customer_session(&hash, customer, now, now + CUSTOMER_SESSION_TTL_MS)
        .await?;
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{CUSTOMER_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        CUSTOMER_SESSION_TTL_MS / 1000
    );
    Ok((token, cookie))
}

pub async fn end_session(state: &AppState, headers: &HeaderMap) -> ApiResult<String> {
    if let Some(token) = customer_token(headers) {
        state
            .db
            .delete_customer_session(&token_hash(&token))
            .await?;
    }
    Ok(format!(
        "{CUSTOMER_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
    ))
}

impl FromRequestParts<AppState> for Customer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = customer_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        match state
            .db
            .session_customer(&token_hash(&token), state.clock.now_ms())
            .await
        {
            Ok(record) => Customer::from_record(state, record),
            Err(StorageError::NotFound) => Err(ApiError::unauthenticated()),
            Err(other) => Err(other.into()),
        }
    }
}
