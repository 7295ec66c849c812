//! Staff login and sessions: opaque random tokens (only their SHA-256 is stored), sent as an
//! HttpOnly cookie to browsers or as a bearer token by devices, and the scoping checks that keep
//! every request inside the caller's brand and stores.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diancan_domain::staff::{Permission, Role, StoreAccess};
use diancan_domain::{BrandId, StaffId, StoreId};
use diancan_storage::{SessionStaff, StorageError, Store, StoreEntry};
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "diancan_session";
pub const SESSION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// A new random session token and the hash to store for it.
pub fn new_session_token() -> (String, Vec<u8>) {
    let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The session token from `Authorization: Bearer …` or the session cookie.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_owned());
    }
    cookie(headers, SESSION_COOKIE)
}

/// The value of the cookie `name`, if the request carries a non-empty one.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, value)| *cookie == name && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// Whether a browser attached one of our session cookies (staff or diner) to this request.
pub fn carries_session_cookie(headers: &HeaderMap) -> bool {
    [SESSION_COOKIE, crate::customer_session::CUSTOMER_COOKIE]
        .into_iter()
        .any(|name| cookie(headers, name).is_some())
}

pub fn session_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        SESSION_TTL_MS / 1000
    )
}

pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// A logged-in staff member. Extracting it fails with 401 when there is no live session.
#[derive(Debug, Clone)]
pub struct Staff {
    pub id: StaffId,
    pub brand_id: BrandId,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub access: StoreAccess,
}

impl From<SessionStaff> for Staff {
    fn from(s: SessionStaff) -> Self {
        Staff {
            id: s.staff_id,
            brand_id: s.brand_id,
            login: s.login,
            display_name: s.display_name,
            role: s.role,
            access: s.access,
        }
    }
}

impl Staff {
    /// The role may take this action, and brand-wide changes (the menu, the brand) come only
    /// from staff who work for the whole brand, not from one store's manager.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        let whole_brand = matches!(self.access, StoreAccess::AllStores);
        if self.role.can(permission) && (whole_brand || !permission.is_brand_wide()) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// Who is calling, as the use cases know staff.
    pub fn caller(&self) -> diancan_usecases::ordering::StaffCaller {
        diancan_usecases::ordering::StaffCaller {
            id: self.id,
            brand_id: self.brand_id,
            role: self.role,
            access: self.access.clone(),
        }
    }

    /// A store the caller may work in: another brand's store does not exist for them (404),
    /// a store of their brand they are not assigned to is forbidden (403).
    pub async fn store(&self, state: &AppState, store_id: StoreId) -> ApiResult<Store> {
        self.store_entry(state, store_id)
            .await?
            .map_err(|damaged| StorageError::StoreDamaged(damaged.id).into())
    }

    /// The same checks, for a store that may need repair: the console opens and saves it anyway.
    pub async fn store_entry(&self, state: &AppState, store_id: StoreId) -> ApiResult<StoreEntry> {
        let entry = state
            .db
            .store_entry_in_brand(self.brand_id, store_id)
            .await?;
        if !self.access.allows(store_id) {
            return Err(ApiError::forbidden());
        }
        Ok(entry)
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = session_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        match state
            .db
            .session_staff(&token_hash(&token), state.clock.now_ms())
            .await
        {
            Ok(staff) => Ok(staff.into()),
            Err(StorageError::NotFound) => Err(ApiError::unauthenticated()),
            Err(other) => Err(other.into()),
        }
    }
}
