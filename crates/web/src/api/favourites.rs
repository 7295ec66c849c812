//! A signed-in diner's starred dishes (收藏). Guests keep stars on the phone; the customer app
//! hands them over with one `POST` when the diner signs in, so nothing starred is lost.

use crate::customer_session::Customer;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diancan_domain::DishId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A guest may have starred this many dishes on the phone before signing in.
const MAX_FAVOURITES_PER_REQUEST: usize = 200;

#[derive(Serialize, ToSchema)]
pub struct FavouritesView {
    /// Starred dishes of the brand, newest first.
    pub dish_ids: Vec<DishId>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddFavourites {
    pub dish_ids: Vec<DishId>,
}

async fn current(state: &AppState, customer: &Customer) -> ApiResult<Json<FavouritesView>> {
    let dish_ids = state.db.favourites(customer.brand_id, customer.id).await?;
    Ok(Json(FavouritesView { dish_ids }))
}

/// The diner's starred dishes.
#[utoipa::path(get, path = "/api/v1/customer/favourites", tag = "customer",
    responses((status = 200, body = FavouritesView), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list_favourites(
    State(state): State<AppState>,
    customer: Customer,
) -> ApiResult<Json<FavouritesView>> {
    current(&state, &customer).await
}

/// Stars dishes (one tap, or the stars a guest made before signing in). All or nothing.
#[utoipa::path(post, path = "/api/v1/customer/favourites", tag = "customer",
    request_body = AddFavourites,
    responses((status = 200, body = FavouritesView), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "A dish the brand does not have"),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_favourites(
    State(state): State<AppState>,
    customer: Customer,
    ApiJson(body): ApiJson<AddFavourites>,
) -> ApiResult<Json<FavouritesView>> {
    if body.dish_ids.len() > MAX_FAVOURITES_PER_REQUEST {
        return Err(ApiError::invalid_field(
            "dish_ids",
            diancan_domain::validation::Problem::TooLarge {
                max: MAX_FAVOURITES_PER_REQUEST as i64,
            },
        ));
    }
    let now = state.clock.now().as_millisecond();
    if !state
        .db
        .add_favourites(customer.brand_id, customer.id, &body.dish_ids, now)
        .await?
    {
        return Err(ApiError::not_found());
    }
    current(&state, &customer).await
}

/// Unstars a dish; unstarring one that is not starred is not an error.
#[utoipa::path(delete, path = "/api/v1/customer/favourites/{dish_id}", tag = "customer",
    params(("dish_id" = DishId, Path)),
    responses((status = 204, description = "Not starred any more"), (status = 401, body = crate::error::ErrorBody)))]
pub async fn remove_favourite(
    State(state): State<AppState>,
    customer: Customer,
    ApiPath(dish_id): ApiPath<DishId>,
) -> ApiResult<StatusCode> {
    state.db.remove_favourite(customer.id, dish_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
