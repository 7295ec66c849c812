//! 档口出餐时限: each station's prep-time target and when its tickets turn amber and red on the
//! kitchen screens. Stations are the brand's, so the targets are too.

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diancan_domain::kitchen::{InvalidPrepTarget, PrepTarget};
use diancan_domain::staff::Permission;
use diancan_domain::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct StationPrepView {
    pub station_id: StationId,
    pub name: String,
    pub target_secs: u32,
    pub amber_after_secs: u32,
    pub red_after_secs: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrepBody {
    /// What the station promises (seconds, 1 to 14,400).
    #[schema(minimum = 1, maximum = 14400, example = 600)]
    pub target_secs: i64,
    /// When a ticket turns amber; no later than red.
    #[schema(minimum = 1, maximum = 14400, example = 480)]
    pub amber_after_secs: i64,
    #[schema(minimum = 1, maximum = 14400, example = 600)]
    pub red_after_secs: i64,
}

async fn views(state: &AppState, brand: BrandId) -> ApiResult<Vec<StationPrepView>> {
    let names = state.db.stations(brand).await?;
    let targets = state.db.station_prep_targets(brand).await?;
    Ok(targets
        .into_iter()
        .filter_map(|prep| {
            let station = names.iter().find(|s| s.id == prep.station_id)?;
            Some(StationPrepView {
                station_id: prep.station_id,
                name: station.name.as_str().to_owned(),
                target_secs: prep.target.target_secs(),
                amber_after_secs: prep.target.amber_after_secs(),
                red_after_secs: prep.target.red_after_secs(),
            })
        })
        .collect())
}

#[utoipa::path(get, path = "/api/v1/console/kitchen/stations", tag = "kitchen",
    responses((status = 200, body = Vec<StationPrepView>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn station_targets(
    State(state): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<Vec<StationPrepView>>> {
    staff.require(Permission::ViewConsole)?;
    Ok(Json(views(&state, staff.brand_id).await?))
}

#[utoipa::path(put, path = "/api/v1/console/kitchen/stations/{station_id}/prep", tag = "kitchen",
    params(("station_id" = StationId, Path)), request_body = PrepBody,
    responses((status = 200, body = StationPrepView), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody, description = "PREP_TARGET_INVALID")))]
pub async fn set_station_target(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(station_id): ApiPath<StationId>,
    ApiJson(body): ApiJson<PrepBody>,
) -> ApiResult<Json<StationPrepView>> {
    staff.require(Permission::EditMenu)?;
    let target = PrepTarget::parse(body.target_secs, body.amber_after_secs, body.red_after_secs)
        .map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                InvalidPrepTarget::CODE,
                InvalidPrepTarget::MESSAGE_ZH,
                InvalidPrepTarget::MESSAGE_EN,
            )
        })?;
    state
        .db
        .set_station_prep_target(staff.brand_id, station_id, target)
        .await?;
    views(&state, staff.brand_id)
        .await?
        .into_iter()
        .find(|v| v.station_id == station_id)
        .map(Json)
        .ok_or_else(ApiError::not_found)
}
