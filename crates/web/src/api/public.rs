//! What anyone may read without logging in: the store directory, a store's orderable menu,
//! a table's QR landing data, and dish images.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use diancan_domain::store::GeoPoint;
use diancan_domain::{BrandId, ImageId, StoreId, TableId};
pub use diancan_usecases::storefront::{ImageUrls, PublicStore, StoreMenu, image_urls};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One parameter for the point, not two: a latitude without its longitude is no place, and a
/// pair that must come together is a rule a schema can state only as one value.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearQuery {
    /// `latitude_e6,longitude_e6` in micro-degrees (31.2304°, 121.4737° → `31230400,121473700`).
    #[param(
        pattern = "^-?(90000000|[0-8]?[0-9]{1,7}),-?(180000000|1[0-7][0-9]{7}|[0-9]{1,8})$",
        example = "31230400,121473700"
    )]
    pub near: Option<String>,
}

impl NearQuery {
    fn point(&self) -> ApiResult<Option<GeoPoint>> {
        let Some(near) = self.near.as_deref() else {
            return Ok(None);
        };
        // Off the globe is as malformed as half a pair: the pattern refuses both alike.
        near.split_once(',')
            .and_then(|(lat, lng)| GeoPoint::parse(lat.parse().ok()?, lng.parse().ok()?).ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "INVALID_QUERY",
                    "near 应为“纬度,经度”（微度，在地球范围内）",
                    "near must be latitude_e6,longitude_e6 on the globe",
                )
            })
    }
}

/// The store directory, nearest first when a point is given.
///
/// A store whose saved details need repair is left out until its owner fixes it.
#[utoipa::path(get, path = "/api/v1/stores", tag = "public", params(NearQuery),
    responses((status = 200, body = Vec<PublicStore>), (status = 400, body = crate::error::ErrorBody)))]
pub async fn list_stores(
    State(state): State<AppState>,
    ApiQuery(near): ApiQuery<NearQuery>,
) -> ApiResult<axum::Json<Vec<PublicStore>>> {
    let from = near.point()?;
    let now = state.clock.now();
    let brands: std::collections::HashMap<BrandId, String> = state
        .db
        .brands()
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect();
    let mut stores: Vec<PublicStore> = state
        .db
        .all_stores()
        .await?
        .iter()
        .map(|s| {
            PublicStore::new(
                s,
                brands.get(&s.brand_id).map(String::as_str).unwrap_or(""),
                now,
                from,
            )
        })
        .collect();
    if from.is_some() {
        stores.sort_by_key(|s| s.distance_m);
    }
    Ok(axum::Json(stores))
}

/// One store's header information.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}", tag = "public",
    params(("store_id" = StoreId, Path)),
    responses((status = 200, body = PublicStore), (status = 404, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody, description = "STORE_UNAVAILABLE: the store's details need repair")))]
pub async fn get_store(
    State(state): State<AppState>,
    ApiPath(store_id): ApiPath<StoreId>,
) -> ApiResult<axum::Json<PublicStore>> {
    let store = state.db.store(store_id).await?;
    let brand = state.db.brand(store.brand_id).await?;
    Ok(axum::Json(PublicStore::new(
        &store,
        &brand.name,
        state.clock.now(),
        None,
    )))
}

/// What can be ordered at the store now. Cached; send `If-None-Match` to get a 304.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/menu", tag = "public",
    params(("store_id" = StoreId, Path)),
    responses((status = 200, body = StoreMenu), (status = 304, description = "Unchanged since the ETag you sent"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody, description = "STORE_UNAVAILABLE: the store's details need repair")))]
pub async fn store_menu(
    State(state): State<AppState>,
    ApiPath(store_id): ApiPath<StoreId>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let menu = state.menus.get(&state, store_id).await?;
    let etag = HeaderValue::from_str(&menu.etag).map_err(ApiError::internal)?;
    let cache = HeaderValue::from_static("no-cache");
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == menu.etag.as_bytes())
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let body = if accepts_gzip {
        menu.gzipped.clone()
    } else {
        menu.body.clone()
    };
    let mut response = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ],
        body,
    )
        .into_response();
    if accepts_gzip {
        // Compressed once when cached; the compression layer leaves encoded responses alone.
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}

/// What a scanned table QR code opens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TableLanding {
    pub store_id: StoreId,
    pub table_id: TableId,
    pub table_code: String,
    pub area_name: String,
    pub seats: i64,
    /// Diners are seated (开台) and ordering at this table.
    pub session_open: bool,
    /// The store wants staff to open a table before its code can order.
    pub ordering_needs_open_table: bool,
}

#[utoipa::path(get, path = "/api/v1/tables/{token}", tag = "public",
    params(("token" = String, Path, description = "The token in the table's QR code")),
    responses((status = 200, body = TableLanding), (status = 404, body = crate::error::ErrorBody)))]
pub async fn table_landing(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<axum::Json<TableLanding>> {
    let table = diancan_usecases::tables::resolve(&state, &token).await?;
    let store = state.db.store(table.store_id).await?;
    let area_name = state
        .db
        .areas(store.brand_id, store.id)
        .await?
        .into_iter()
        .find(|a| a.id == table.area_id)
        .map(|a| a.name)
        .unwrap_or_default();
    let session_open = state.db.open_table_session_of(table.id).await?.is_some();
    let ordering_needs_open_table = store.profile.rules.table_ordering
        == diancan_domain::store::TableOrdering::RequireOpenTable;
    Ok(axum::Json(TableLanding {
        store_id: store.id,
        table_id: table.id,
        table_code: table.code,
        area_name,
        seats: table.seats,
        session_open,
        ordering_needs_open_table,
    }))
}

/// Dish images are immutable (a new upload gets a new id), so browsers keep them for a year.
pub async fn image(
    State(state): State<AppState>,
    ApiPath((id, variant)): ApiPath<(ImageId, String)>,
) -> ApiResult<Response> {
    let thumbnail = match variant.as_str() {
        "thumbnail" => true,
        "detail" => false,
        _ => return Err(ApiError::not_found()),
    };
    let bytes = state.db.image_bytes(id, thumbnail).await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        bytes,
    )
        .into_response())
}
