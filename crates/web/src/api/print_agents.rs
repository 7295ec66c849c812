//! The console's print agents: add one (its device token is answered this once), list them
//! with when each was last seen, and revoke one (its next request is refused and it stops).

use crate::auth::Staff;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::views::printing::{NewPrintAgentView, PrintAgentView};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diancan_domain::text::required_name;
use diancan_domain::validation::FieldErrors;
use diancan_domain::*;
use diancan_usecases::printing::agent;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrintAgentBody {
    /// Where it runs, as the shop calls it ("前台电脑").
    #[schema(max_length = 60, example = "前台电脑")]
    pub name: String,
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/print-agents", tag = "printing",
    params(("store_id" = StoreId, Path)),
    responses((status = 200, body = Vec<PrintAgentView>, description = "The store's print agents by name, revoked ones included")))]
pub async fn list_agents(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
) -> ApiResult<Json<Vec<PrintAgentView>>> {
    let agents = agent::agents(&state, &staff.caller(), store_id).await?;
    Ok(Json(agents.into_iter().map(PrintAgentView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/print-agents", tag = "printing",
    params(("store_id" = StoreId, Path)), request_body = PrintAgentBody,
    responses((status = 201, body = NewPrintAgentView, description = "The agent and its device token, shown only now"),
        (status = 409, body = crate::error::ErrorBody, description = "AGENT_NAME_TAKEN")))]
pub async fn create_agent(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
    ApiJson(body): ApiJson<PrintAgentBody>,
) -> ApiResult<(StatusCode, Json<NewPrintAgentView>)> {
    let mut errors = FieldErrors::new();
    let name = required_name(&mut errors, "name", &body.name);
    let name = errors.finish(|| name.expect("checked"))?;
    let created = agent::create_agent(&state, &staff.caller(), store_id, &name).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewPrintAgentView {
            agent: created.agent.into(),
            token: created.token,
        }),
    ))
}

#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/print-agents/{agent_id}/revoke", tag = "printing",
    params(("store_id" = StoreId, Path), ("agent_id" = PrintAgentId, Path)),
    responses((status = 200, body = PrintAgentView, description = "Revoked (again: the first time stays)")))]
pub async fn revoke_agent(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, agent_id)): ApiPath<(StoreId, PrintAgentId)>,
) -> ApiResult<Json<PrintAgentView>> {
    let revoked = agent::revoke_agent(&state, &staff.caller(), store_id, agent_id).await?;
    Ok(Json(revoked.into()))
}
