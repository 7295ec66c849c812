//! The merchant console's stores, areas and tables.

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, ErrorDetail};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diancan_domain::staff::Permission;
use diancan_domain::store::{GeoPoint, StoreRules};
use diancan_domain::text::{Lines, Name, check_text, optional_text, required_name};
use diancan_domain::validation::{FieldErrors, Problem, check_range};
use diancan_domain::{AreaId, StoreId};
use diancan_storage::{Area, DiningTable, StoreEntry, StoreProfile};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A store as its staff see it, with every setting. A store whose saved details no longer read
/// (see `problems`) comes with what could be read, so its owner can correct it and save.
#[derive(Serialize, ToSchema)]
pub struct StoreView {
    pub id: StoreId,
    pub name: String,
    pub name_en: Option<String>,
    pub address: String,
    pub phone: Option<String>,
    /// Absent only when the saved coordinates are off the globe.
    pub location: Option<GeoPoint>,
    /// Absent only when the saved rules cannot be read.
    pub rules: Option<StoreRules>,
    /// What must be fixed before diners can see the store again; empty for a sound store.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<ErrorDetail>,
}

/// A store's editable profile: name, address, coordinates and trading rules.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreProfileBody {
    #[schema(max_length = 60)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 60)]
    pub name_en: Option<String>,
    #[schema(max_length = 200)]
    pub address: String,
    #[serde(default)]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
    pub location: LocationBody,
    pub rules: StoreRules,
}

/// Where the store is, in micro-degrees (31.2304° → 31230400).
#[derive(Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationBody {
    #[schema(minimum = -90000000, maximum = 90000000)]
    pub latitude_e6: i64,
    #[schema(minimum = -180000000, maximum = 180000000)]
    pub longitude_e6: i64,
}

pub const MAX_ADDRESS_CHARS: usize = 200;
pub const MAX_PHONE_CHARS: usize = 30;

impl From<StoreEntry> for StoreView {
    fn from(entry: StoreEntry) -> Self {
        match entry {
            Ok(store) => {
                let p = store.profile;
                StoreView {
                    id: store.id,
                    name: p.name,
                    name_en: p.name_en,
                    address: p.address,
                    phone: p.phone,
                    location: Some(p.location),
                    rules: Some(p.rules),
                    problems: Vec::new(),
                }
            }
            Err(damaged) => {
                let p = damaged.stored;
                let mut problems = FieldErrors::new();
                for error in damaged.problems {
                    problems.add(error.field, error.problem);
                }
                StoreView {
                    id: damaged.id,
                    name: p.name,
                    name_en: p.name_en,
                    address: p.address,
                    phone: p.phone,
                    location: p.location,
                    rules: p.rules,
                    problems: ApiError::validation(problems).details,
                }
            }
        }
    }
}

impl StoreProfileBody {
    /// Every field at once, into the domain's types: nothing unchecked reaches the database.
    fn parse(self) -> Result<StoreProfile, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = required_name(&mut errors, "name", &self.name);
        let name_en = optional_text(
            &mut errors,
            "name_en",
            self.name_en.as_deref(),
            Name::MAX_CHARS,
        );
        let address = optional_text(
            &mut errors,
            "address",
            Some(&self.address),
            MAX_ADDRESS_CHARS,
        );
        if address.is_none() && self.address.trim().is_empty() {
            errors.add("address", Problem::Required);
        }
        let phone = optional_text(&mut errors, "phone", self.phone.as_deref(), MAX_PHONE_CHARS);
        let location = GeoPoint::parse(self.location.latitude_e6, self.location.longitude_e6)
            .map_err(|e| errors.absorb("location", e))
            .ok();
        if let Err(rule_errors) = self.rules.validate() {
            errors.absorb("rules", rule_errors);
        }
        errors.finish(|| StoreProfile {
            name: name.map(Name::into_string).unwrap_or_default(),
            name_en,
            address: address.unwrap_or_default(),
            phone,
            location: location.expect("checked"),
            rules: self.rules,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/console/stores", tag = "console",
    responses((status = 200, body = Vec<StoreView>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list_stores(
    State(state): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<Vec<StoreView>>> {
    staff.require(Permission::ViewConsole)?;
    let stores = state.db.stores_of_brand(staff.brand_id).await?;
    Ok(Json(
        stores
            .into_iter()
            .map(StoreView::from)
            .filter(|s| staff.access.allows(s.id))
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/console/stores", tag = "console", request_body = StoreProfileBody,
    responses((status = 201, body = StoreView), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_store(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<StoreProfileBody>,
) -> ApiResult<(StatusCode, Json<StoreView>)> {
    staff.require(Permission::ManageBrand)?;
    let profile = body.parse()?;
    let store = state
        .db
        .create_store(staff.brand_id, &profile, state.clock.now_ms())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(StoreView::from(StoreEntry::Ok(store))),
    ))
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}", tag = "console", params(("store_id" = StoreId, Path)),
    responses((status = 200, body = StoreView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_store(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
) -> ApiResult<Json<StoreView>> {
    Ok(Json(staff.store_entry(&state, store_id).await?.into()))
}

#[utoipa::path(put, path = "/api/v1/console/stores/{store_id}", tag = "console", params(("store_id" = StoreId, Path)),
    request_body = StoreProfileBody,
    responses((status = 200, body = StoreView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_store(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
    ApiJson(body): ApiJson<StoreProfileBody>,
) -> ApiResult<Json<StoreView>> {
    staff.require(Permission::ManageStore)?;
    // A damaged store passes too: saving a good profile over it is how it is repaired.
    let _sound_or_damaged = staff.store_entry(&state, store_id).await?;
    let profile = body.parse()?;
    let store = state
        .db
        .update_store(staff.brand_id, store_id, &profile, state.clock.now_ms())
        .await?;
    state.menus.invalidate_all();
    Ok(Json(StoreView::from(StoreEntry::Ok(store))))
}

/// A store's dining areas and tables, with each table's QR link.
#[derive(Serialize, ToSchema)]
pub struct FloorPlan {
    pub areas: Vec<AreaView>,
    pub tables: Vec<TableView>,
}

#[derive(Serialize, ToSchema)]
pub struct AreaView {
    pub id: AreaId,
    pub name: String,
    pub sort_order: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TableView {
    pub id: diancan_domain::TableId,
    pub area_id: AreaId,
    pub code: String,
    pub seats: i64,
    /// The path printed in the table's QR code.
    pub qr_path: String,
}

impl From<Area> for AreaView {
    fn from(a: Area) -> Self {
        AreaView {
            id: a.id,
            name: a.name,
            sort_order: a.sort_order,
        }
    }
}

impl From<DiningTable> for TableView {
    fn from(t: DiningTable) -> Self {
        TableView {
            id: t.id,
            area_id: t.area_id,
            code: t.code,
            seats: t.seats,
            qr_path: format!("/t/{}", t.qr_token),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/tables", tag = "console", params(("store_id" = StoreId, Path)),
    responses((status = 200, body = FloorPlan), (status = 404, body = crate::error::ErrorBody)))]
pub async fn floor_plan(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
) -> ApiResult<Json<FloorPlan>> {
    staff.require(Permission::ServeTables)?;
    staff.store(&state, store_id).await?;
    let areas = state.db.areas(staff.brand_id, store_id).await?;
    let tables = state.db.tables(staff.brand_id, store_id).await?;
    Ok(Json(FloorPlan {
        areas: areas.into_iter().map(Into::into).collect(),
        tables: tables.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaBody {
    #[schema(max_length = 60)]
    pub name: String,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000)]
    pub sort_order: i64,
}

#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/areas", tag = "console", params(("store_id" = StoreId, Path)),
    request_body = AreaBody,
    responses((status = 201, body = AreaView), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_area(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
    ApiJson(body): ApiJson<AreaBody>,
) -> ApiResult<(StatusCode, Json<AreaView>)> {
    staff.require(Permission::ManageStore)?;
    staff.store(&state, store_id).await?;
    let mut errors = FieldErrors::new();
    let name = required_name(&mut errors, "name", &body.name);
    check_range(&mut errors, "sort_order", body.sort_order, 0, 1_000_000);
    let name = errors.finish(|| name.expect("checked"))?;
    let area = state
        .db
        .create_area(staff.brand_id, store_id, name.as_str(), body.sort_order)
        .await?;
    Ok((StatusCode::CREATED, Json(area.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TableBody {
    pub area_id: AreaId,
    /// What is printed on the table card, such as "A3".
    #[schema(min_length = 1, max_length = 12)]
    pub code: String,
    #[schema(minimum = 1, maximum = 100)]
    pub seats: i64,
}

/// What a table card can print ("A3", "包间 2").
const MAX_TABLE_CODE_CHARS: usize = 12;

#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/tables", tag = "console", params(("store_id" = StoreId, Path)),
    request_body = TableBody,
    responses((status = 201, body = TableView), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody, description = "VALIDATION_FAILED; `area_id` with UNKNOWN_REFERENCE when this store has no such area")))]
pub async fn create_table(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
    ApiJson(body): ApiJson<TableBody>,
) -> ApiResult<(StatusCode, Json<TableView>)> {
    staff.require(Permission::ManageStore)?;
    staff.store(&state, store_id).await?;
    let mut errors = FieldErrors::new();
    let code = body.code.trim();
    if code.is_empty() {
        errors.add("code", Problem::Required);
    } else if let Err(problem) = check_text(code, MAX_TABLE_CODE_CHARS, Lines::One) {
        errors.add("code", problem);
    }
    check_range(&mut errors, "seats", body.seats, 1, 100);
    errors.finish(|| ())?;
    let table_id = diancan_domain::TableId::new();
    let token = crate::table_token::issue(&state.config.table_token_key, table_id);
    let table = state
        .db
        .create_table(
            staff.brand_id,
            &DiningTable {
                id: table_id,
                store_id,
                area_id: body.area_id,
                code: code.to_owned(),
                seats: body.seats,
                qr_token: token,
            },
        )
        .await
        .map_err(|e| match e {
            diancan_storage::StorageError::NotFound => {
                ApiError::invalid_field("area_id", Problem::UnknownReference)
            }
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, Json(table.into())))
}
