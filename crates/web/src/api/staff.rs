//! 员工: the brand's staff accounts, for its owner: list, create with a role and the stores
//! each works in, change a role, stores or name, switch an account off, set a new password.
//! Any change ends the account's sessions, so a new role or a revoked account takes effect on
//! the next request. An owner cannot switch themselves off or demote themselves.

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diancan_domain::staff::{Permission, Role, StoreAccess};
use diancan_domain::text::{Lines, Name, check_text};
use diancan_domain::validation::{FieldErrors, Problem};
use diancan_domain::*;
use diancan_storage::{NewStaff, StaffChange, StaffMember};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const MAX_LOGIN_CHARS: usize = 64;
const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 128;

#[derive(Serialize, ToSchema)]
pub struct StaffAccountView {
    pub id: StaffId,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub role_label: &'static str,
    pub active: bool,
    /// `null`: every store of the brand.
    pub store_ids: Option<Vec<StoreId>>,
}

impl From<StaffMember> for StaffAccountView {
    fn from(m: StaffMember) -> Self {
        StaffAccountView {
            id: m.id,
            login: m.login,
            display_name: m.display_name,
            role_label: m.role.label_zh(),
            role: m.role,
            active: m.active,
            store_ids: match m.access {
                StoreAccess::AllStores => None,
                StoreAccess::Only(stores) => Some(stores.into_iter().collect()),
            },
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaffBody {
    /// What they sign in with: letters, digits, `.`, `_`, `-`.
    #[schema(
        min_length = 3,
        max_length = 64,
        pattern = r"^[A-Za-z0-9._-]+$",
        example = "cashier2"
    )]
    pub login: String,
    #[schema(max_length = 60, example = "小王")]
    pub display_name: String,
    pub role: Role,
    /// 8 to 128 characters.
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    /// The stores they work in; `null` for every store of the brand.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 500)]
    pub store_ids: Option<Vec<StoreId>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffChangeBody {
    #[schema(max_length = 60)]
    pub display_name: String,
    pub role: Role,
    /// The stores they work in; `null` for every store of the brand.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 500)]
    pub store_ids: Option<Vec<StoreId>>,
    pub active: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
}

fn check_password(errors: &mut FieldErrors, password: &str) {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        errors.add(
            "password",
            Problem::TooShort {
                min: MIN_PASSWORD_CHARS,
            },
        );
    } else if let Err(problem) = check_text(password, MAX_PASSWORD_CHARS, Lines::One) {
        // Control and bidi characters cannot be typed on a login form anyway.
        errors.add("password", problem);
    }
}

/// Who may work where: an owner everywhere; anyone else in the stores named (none named is
/// refused, or the account could do nothing).
fn access(errors: &mut FieldErrors, role: Role, stores: Option<Vec<StoreId>>) -> StoreAccess {
    match (role, stores) {
        (Role::Owner, _) | (_, None) => StoreAccess::AllStores,
        (_, Some(stores)) if stores.is_empty() => {
            errors.add("store_ids", Problem::Required);
            StoreAccess::AllStores
        }
        (_, Some(stores)) => StoreAccess::Only(stores.into_iter().collect()),
    }
}

fn store_ref(error: diancan_storage::StorageError) -> ApiError {
    match error {
        diancan_storage::StorageError::NotFound => {
            ApiError::invalid_field("store_ids", Problem::UnknownReference)
        }
        other => other.into(),
    }
}

async fn member(state: &AppState, brand: BrandId, id: StaffId) -> ApiResult<StaffAccountView> {
    state
        .db
        .brand_staff(brand)
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .map(StaffAccountView::from)
        .ok_or_else(ApiError::not_found)
}

#[utoipa::path(get, path = "/api/v1/console/staff", tag = "console",
    responses((status = 200, body = Vec<StaffAccountView>), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_staff(
    State(state): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<Vec<StaffAccountView>>> {
    staff.require(Permission::ManageBrand)?;
    let members = state.db.brand_staff(staff.brand_id).await?;
    Ok(Json(
        members.into_iter().map(StaffAccountView::from).collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/console/staff", tag = "console", request_body = NewStaffBody,
    responses((status = 201, body = StaffAccountView), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "LOGIN_TAKEN"),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_staff(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<NewStaffBody>,
) -> ApiResult<(StatusCode, Json<StaffAccountView>)> {
    staff.require(Permission::ManageBrand)?;
    let mut errors = FieldErrors::new();
    let login = body.login.trim();
    if login.chars().count() < 3 {
        errors.add("login", Problem::TooShort { min: 3 });
    } else if let Err(problem) = check_text(login, MAX_LOGIN_CHARS, Lines::One) {
        errors.add("login", problem);
    } else if !login
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        errors.add("login", Problem::InvalidCharacters);
    }
    let name = diancan_domain::text::required_name(&mut errors, "display_name", &body.display_name);
    check_password(&mut errors, &body.password);
    let access = access(&mut errors, body.role, body.store_ids);
    let name = errors.finish(|| name.expect("checked"))?;
    let password_hash =
        crate::passwords::hash(body.password, state.config.fast_password_hashing).await;
    let id = state
        .db
        .create_staff(
            &NewStaff {
                brand_id: staff.brand_id,
                login: login.to_owned(),
                display_name: name.into_string(),
                password_hash,
                role: body.role,
                access,
            },
            state.clock.now_ms(),
        )
        .await
        .map_err(store_ref)?;
    Ok((
        StatusCode::CREATED,
        Json(member(&state, staff.brand_id, id).await?),
    ))
}

#[utoipa::path(put, path = "/api/v1/console/staff/{staff_id}", tag = "console",
    params(("staff_id" = StaffId, Path)), request_body = StaffChangeBody,
    responses((status = 200, body = StaffAccountView), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "CANNOT_CHANGE_SELF: an owner cannot switch themselves off or demote themselves"),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_staff(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(staff_id): ApiPath<StaffId>,
    ApiJson(body): ApiJson<StaffChangeBody>,
) -> ApiResult<Json<StaffAccountView>> {
    staff.require(Permission::ManageBrand)?;
    if staff_id == staff.id && (!body.active || body.role != Role::Owner) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "CANNOT_CHANGE_SELF",
            "不能停用自己的账号或降低自己的角色",
            "You cannot switch off or demote your own account",
        ));
    }
    let mut errors = FieldErrors::new();
    let name: Option<Name> =
        diancan_domain::text::required_name(&mut errors, "display_name", &body.display_name);
    let access = access(&mut errors, body.role, body.store_ids);
    let name = errors.finish(|| name.expect("checked"))?;
    state
        .db
        .update_staff(
            staff.brand_id,
            staff_id,
            &StaffChange {
                display_name: name.into_string(),
                role: body.role,
                access,
                active: body.active,
            },
        )
        .await
        .map_err(|e| match e {
            // Either the account or a store is not the brand's: the account first.
            diancan_storage::StorageError::NotFound => ApiError::not_found(),
            other => other.into(),
        })?;
    Ok(Json(member(&state, staff.brand_id, staff_id).await?))
}

#[utoipa::path(post, path = "/api/v1/console/staff/{staff_id}/password", tag = "console",
    params(("staff_id" = StaffId, Path)), request_body = PasswordBody,
    responses((status = 204, description = "Set; the account's sessions ended"),
        (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_password(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(staff_id): ApiPath<StaffId>,
    ApiJson(body): ApiJson<PasswordBody>,
) -> ApiResult<StatusCode> {
    staff.require(Permission::ManageBrand)?;
    let mut errors = FieldErrors::new();
    check_password(&mut errors, &body.password);
    errors.finish(|| ())?;
    let hash = crate::passwords::hash(body.password, state.config.fast_password_hashing).await;
    state
        .db
        .set_staff_password(staff.brand_id, staff_id, &hash)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
