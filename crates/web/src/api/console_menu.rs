//! The merchant console's menu: stations, categories, dishes (specs, options, combos),
//! images, and each store's prices, shelf, stock and 沽清.

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiMultipart, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diancan_domain::catalog::{
    Category, CategoryDraft, Dish, DishDraft, SkuStoreSettings, Station,
};
use diancan_domain::staff::Permission;
use diancan_domain::text::{optional_text, required_name};
use diancan_domain::validation::{FieldErrors, check_range};
use diancan_domain::*;
use diancan_storage::{ImageData, StoreMenuSettings};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The brand's whole catalog, for the menu editor.
#[derive(Serialize, ToSchema)]
pub struct CatalogView {
    pub stations: Vec<Station>,
    pub categories: Vec<Category>,
    pub dishes: Vec<Dish>,
    pub image_urls: crate::api::public::ImageUrls,
}

#[utoipa::path(get, path = "/api/v1/console/menu", tag = "console menu",
    responses((status = 200, body = CatalogView), (status = 401, body = crate::error::ErrorBody)))]
pub async fn catalog(State(state): State<AppState>, staff: Staff) -> ApiResult<Json<CatalogView>> {
    staff.require(Permission::ViewConsole)?;
    Ok(Json(CatalogView {
        stations: state.db.stations(staff.brand_id).await?,
        categories: state.db.categories(staff.brand_id).await?,
        dishes: state.db.dishes(staff.brand_id).await?,
        image_urls: crate::api::public::image_urls(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StationBody {
    #[schema(max_length = 60)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 60)]
    pub name_en: Option<String>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000)]
    pub sort_order: i64,
}

#[utoipa::path(post, path = "/api/v1/console/stations", tag = "console menu", request_body = StationBody,
    responses((status = 201, body = Station), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_station(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<StationBody>,
) -> ApiResult<(StatusCode, Json<Station>)> {
    staff.require(Permission::EditMenu)?;
    let mut errors = FieldErrors::new();
    let name = required_name(&mut errors, "name", &body.name);
    let name_en = optional_text(&mut errors, "name_en", body.name_en.as_deref(), 60);
    check_range(&mut errors, "sort_order", body.sort_order, 0, 1_000_000);
    let station = errors.finish(|| Station {
        id: StationId::new(),
        brand_id: staff.brand_id,
        name: name.expect("checked"),
        name_en,
        sort_order: body.sort_order,
    })?;
    state.db.create_station(&station).await?;
    state.menus.invalidate_all();
    Ok((StatusCode::CREATED, Json(station)))
}

#[utoipa::path(post, path = "/api/v1/console/categories", tag = "console menu", request_body = CategoryDraft,
    responses((status = 201, body = Category), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_category(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(draft): ApiJson<CategoryDraft>,
) -> ApiResult<(StatusCode, Json<Category>)> {
    staff.require(Permission::EditMenu)?;
    let category = draft.parse(CategoryId::new(), staff.brand_id)?;
    state.db.create_category(&category).await?;
    state.menus.invalidate_all();
    Ok((StatusCode::CREATED, Json(category)))
}

#[utoipa::path(put, path = "/api/v1/console/categories/{category_id}", tag = "console menu", request_body = CategoryDraft,
    params(("category_id" = CategoryId, Path)),
    responses((status = 200, body = Category), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_category(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<CategoryId>,
    ApiJson(draft): ApiJson<CategoryDraft>,
) -> ApiResult<Json<Category>> {
    staff.require(Permission::EditMenu)?;
    let category = draft.parse(id, staff.brand_id)?;
    state.db.update_category(&category).await?;
    state.menus.invalidate_all();
    Ok(Json(category))
}

#[utoipa::path(delete, path = "/api/v1/console/categories/{category_id}", tag = "console menu",
    params(("category_id" = CategoryId, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn delete_category(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<CategoryId>,
) -> ApiResult<StatusCode> {
    staff.require(Permission::EditMenu)?;
    state.db.delete_category(staff.brand_id, id).await?;
    state.menus.invalidate_all();
    Ok(StatusCode::NO_CONTENT)
}

async fn parse_dish(
    state: &AppState,
    staff: &Staff,
    id: DishId,
    draft: DishDraft,
) -> ApiResult<Dish> {
    let known_skus = if draft.kind == catalog::DishKind::Combo {
        state.db.brand_sku_ids(staff.brand_id).await?
    } else {
        Default::default()
    };
    Ok(draft.parse(id, staff.brand_id, &known_skus)?)
}

#[utoipa::path(post, path = "/api/v1/console/dishes", tag = "console menu", request_body = DishDraft,
    responses((status = 201, body = Dish), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody, description = "VALIDATION_FAILED, per field in `details`: UNKNOWN_REFERENCE for a category, station, image or combo spec the brand does not have; OUT_OF_RANGE or MIN_ABOVE_MAX for `min_select`/`max_select` against the number of options or choices; DUPLICATE for a spec code used twice")))]
pub async fn create_dish(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(draft): ApiJson<DishDraft>,
) -> ApiResult<(StatusCode, Json<Dish>)> {
    staff.require(Permission::EditMenu)?;
    let dish = parse_dish(&state, &staff, DishId::new(), draft).await?;
    state
        .db
        .save_dish(&dish, true, state.clock.now_ms())
        .await?;
    state.menus.invalidate_all();
    Ok((StatusCode::CREATED, Json(dish)))
}

#[utoipa::path(get, path = "/api/v1/console/dishes/{dish_id}", tag = "console menu", params(("dish_id" = DishId, Path)),
    responses((status = 200, body = Dish), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_dish(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<DishId>,
) -> ApiResult<Json<Dish>> {
    staff.require(Permission::ViewConsole)?;
    Ok(Json(state.db.dish(staff.brand_id, id).await?))
}

/// Replaces a dish. Send SKU ids back to keep them (and the stores' stock and prices for them).
#[utoipa::path(put, path = "/api/v1/console/dishes/{dish_id}", tag = "console menu", request_body = DishDraft,
    params(("dish_id" = DishId, Path)),
    responses((status = 200, body = Dish), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody, description = "VALIDATION_FAILED, per field in `details`: UNKNOWN_REFERENCE for a category, station, image or combo spec the brand does not have; OUT_OF_RANGE or MIN_ABOVE_MAX for `min_select`/`max_select` against the number of options or choices; DUPLICATE for a spec code used twice")))]
pub async fn update_dish(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<DishId>,
    ApiJson(draft): ApiJson<DishDraft>,
) -> ApiResult<Json<Dish>> {
    staff.require(Permission::EditMenu)?;
    let dish = parse_dish(&state, &staff, id, draft).await?;
    state
        .db
        .save_dish(&dish, false, state.clock.now_ms())
        .await?;
    state.menus.invalidate_all();
    Ok(Json(dish))
}

#[utoipa::path(delete, path = "/api/v1/console/dishes/{dish_id}", tag = "console menu", params(("dish_id" = DishId, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn delete_dish(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<DishId>,
) -> ApiResult<StatusCode> {
    staff.require(Permission::EditMenu)?;
    state.db.delete_dish(staff.brand_id, id).await?;
    state.menus.invalidate_all();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct ImageView {
    pub id: ImageId,
    pub thumbnail_url: String,
    pub detail_url: String,
    pub width: u32,
    pub height: u32,
}

/// Multipart upload with one `file` field: JPEG, PNG or WebP up to 8 MiB.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImageUpload {
    /// Not empty: an empty part is refused (400 `INVALID_UPLOAD`).
    #[schema(format = Binary, value_type = String, min_length = 1)]
    file: Vec<u8>,
}

/// Uploads a dish photo; it is checked, resized to a thumbnail and a detail picture, and stored.
#[utoipa::path(post, path = "/api/v1/console/images", tag = "console menu",
    request_body(content = ImageUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = ImageView), (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn upload_image(
    State(state): State<AppState>,
    staff: Staff,
    ApiMultipart(multipart): ApiMultipart,
) -> ApiResult<(StatusCode, Json<ImageView>)> {
    staff.require(Permission::EditMenu)?;
    let bytes =
        crate::api::upload::single_file(multipart, diancan_integrations::images::MAX_UPLOAD_BYTES)
            .await?
            .bytes;
    let processed =
        tokio::task::spawn_blocking(move || diancan_integrations::images::process_upload(&bytes))
            .await
            .map_err(ApiError::internal)?
            .map_err(crate::api::upload::image_error)?;
    let image = ImageData {
        id: ImageId::new(),
        thumbnail: processed.thumbnail,
        detail: processed.detail,
        width: processed.width,
        height: processed.height,
    };
    state
        .db
        .save_image(staff.brand_id, &image, state.clock.now_ms())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ImageView {
            id: image.id,
            thumbnail_url: format!("/images/{}/thumbnail", image.id),
            detail_url: format!("/images/{}/detail", image.id),
            width: image.width,
            height: image.height,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/menu-settings", tag = "console menu", params(("store_id" = StoreId, Path)),
    responses((status = 200, description = "Per-dish `listed` and per-SKU price, stock, daily limit and sold-out for the store"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn store_menu_settings(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
) -> ApiResult<Json<StoreMenuSettings>> {
    staff.require(Permission::ViewConsole)?;
    staff.store(&state, store_id).await?;
    Ok(Json(state.db.store_menu_settings(store_id).await?))
}

/// Sets a store's price, stock, daily limit, low-stock warning and 沽清 for one spec.
/// Kitchens and cashiers may change stock and sold-out; changing the price needs a manager.
#[utoipa::path(put, path = "/api/v1/console/stores/{store_id}/skus/{sku_id}", tag = "console menu",
    params(("store_id" = StoreId, Path), ("sku_id" = SkuId, Path)), request_body = SkuStoreSettings,
    responses((status = 200, body = SkuStoreSettings), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_sku_settings(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, sku_id)): ApiPath<(StoreId, SkuId)>,
    ApiJson(settings): ApiJson<SkuStoreSettings>,
) -> ApiResult<Json<SkuStoreSettings>> {
    staff.store(&state, store_id).await?;
    settings.validate()?;
    let current = state
        .db
        .store_menu_settings(store_id)
        .await?
        .sku_states
        .remove(&sku_id)
        .unwrap_or_default();
    let needed = if current.price_fen == settings.price_fen {
        Permission::ManageStock
    } else {
        Permission::ManageStore
    };
    staff.require(needed)?;
    state
        .db
        .set_sku_settings(staff.brand_id, store_id, sku_id, &settings)
        .await?;
    state.menus.invalidate_all();
    Ok(Json(settings))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DishListing {
    /// Whether this store sells the dish.
    pub listed: bool,
}

#[utoipa::path(put, path = "/api/v1/console/stores/{store_id}/dishes/{dish_id}", tag = "console menu",
    params(("store_id" = StoreId, Path), ("dish_id" = DishId, Path)), request_body = DishListing,
    responses((status = 200, body = DishListing), (status = 404, body = crate::error::ErrorBody)))]
pub async fn set_dish_listing(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, dish_id)): ApiPath<(StoreId, DishId)>,
    ApiJson(listing): ApiJson<DishListing>,
) -> ApiResult<Json<DishListing>> {
    staff.require(Permission::ManageStore)?;
    staff.store(&state, store_id).await?;
    state
        .db
        .set_dish_listed(staff.brand_id, store_id, dish_id, listing.listed)
        .await?;
    state.menus.invalidate_all();
    Ok(Json(listing))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (UTF-8 with BOM, opens in Excel) or `xlsx`.
    #[param(pattern = "^(csv|xlsx)$")]
    pub format: Option<String>,
}

/// The brand menu as a spreadsheet: one row per spec, with tastes and add-ons in one column.
#[utoipa::path(get, path = "/api/v1/console/menu/export", tag = "console menu", params(ExportQuery),
    responses((status = 200, description = "The file, in the format asked for",
        content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, body = crate::error::ErrorBody)))]
pub async fn export_menu(
    State(state): State<AppState>,
    staff: Staff,
    crate::extract::ApiQuery(query): crate::extract::ApiQuery<ExportQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    staff.require(Permission::ViewConsole)?;
    let (file_name, mime) = match query.format.as_deref().unwrap_or("csv") {
        "csv" => ("menu.csv", "text/csv; charset=utf-8"),
        "xlsx" => (
            "menu.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => {
            return Err(ApiError::bad_request(
                "INVALID_QUERY",
                "格式只能是 csv 或 xlsx",
                "format must be csv or xlsx",
            ));
        }
    };
    let bytes = crate::menu_transfer::export(&state.db, staff.brand_id, file_name).await?;
    let disposition = format!("attachment; filename=\"{file_name}\"");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(ApiError::internal)?,
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Multipart upload with one `file` field: a menu as .csv or .xlsx, up to 5 MiB.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MenuUpload {
    /// Not empty: an empty part is refused (400 `INVALID_UPLOAD`).
    #[schema(format = Binary, value_type = String, min_length = 1)]
    file: Vec<u8>,
}

/// Imports a menu file: every row is checked first and nothing changes unless all are valid.
#[utoipa::path(post, path = "/api/v1/console/menu/import", tag = "console menu",
    request_body(content = MenuUpload, content_type = "multipart/form-data"),
    responses((status = 200, description = "Counts of what was created and updated"),
        (status = 400, body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody, description = "FILE_TOO_LARGE (over 5 MiB) or MENU_FILE_TOO_LARGE: past 10,000 rows, 100 columns, 250,000 cells or 32 MiB unpacked"),
        (status = 422, body = crate::error::ErrorBody, description = "A file that is not a menu: MENU_FILE_NOT_UTF8, MENU_FILE_UNREADABLE, MENU_FILE_EMPTY, MENU_FILE_MISSING_COLUMNS; or row-level errors such as `第 12 行: 价格必须大于 0` (MENU_FILE_ROWS, per row in `details`)")))]
pub async fn import_menu(
    State(state): State<AppState>,
    staff: Staff,
    ApiMultipart(multipart): ApiMultipart,
) -> ApiResult<Json<diancan_storage::MenuImportReport>> {
    staff.require(Permission::EditMenu)?;
    let file = crate::api::upload::single_file(multipart, 5 * 1024 * 1024).await?;
    let sheet = crate::menu_transfer::read(file.file_name, file.bytes).await?;
    let report =
        crate::menu_transfer::import(&state.db, staff.brand_id, sheet, state.clock.now_ms())
            .await?;
    state.menus.invalidate_all();
    Ok(Json(report))
}
