//! The print agent's own API (`Authorization: Bearer <device token>`): claim jobs (a long poll
//! that answers once jobs are queued or after at most 25 s), confirm a job is on the agent's
//! disk before printing it, report its result, and report a printer down or up again.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::views::printing::AgentWorkView;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use diancan_domain::validation::{FieldErrors, Problem};
use diancan_domain::*;
use diancan_storage::printing::PrintAgent;
use diancan_usecases::printing::agent::{self, AgentReport};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

/// Longest error text an agent may report (the printer's answer, in its words).
const MAX_ERROR_CHARS: usize = 500;

/// The agent behind the request's device token; 401 for an unknown or revoked one.
pub struct Agent(pub PrintAgent);

fn token_invalid() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "AGENT_TOKEN_INVALID",
        "打印助手的设备令牌无效或已撤销，请在管理后台重新添加打印助手",
        "The print agent's device token is unknown or was revoked; add the agent again in the console",
    )
}

impl FromRequestParts<AppState> for Agent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or_else(token_invalid)?;
        match agent::agent_by_token(state, token).await {
            Ok(found) => Ok(Agent(found)),
            Err(diancan_usecases::Error::NotFound) => Err(token_invalid()),
            Err(other) => Err(other.into()),
        }
    }
}

fn default_wait() -> u64 {
    25_000
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// How long to wait for jobs when there are none, in ms (at most 25 000).
    #[serde(default = "default_wait")]
    #[schema(maximum = 25000, example = 25000)]
    pub wait_ms: u64,
}

#[utoipa::path(post, path = "/api/v1/agent/claim", tag = "print agent",
    request_body = ClaimBody,
    responses((status = 200, body = AgentWorkView, description = "Jobs now held by this agent (write each to disk, then confirm it), and its printers that are down; no jobs after the wait")))]
pub async fn claim(
    State(state): State<AppState>,
    Agent(agent): Agent,
    ApiJson(body): ApiJson<ClaimBody>,
) -> ApiResult<Json<AgentWorkView>> {
    let wait = Duration::from_millis(body.wait_ms.min(agent::MAX_WAIT.as_millis() as u64));
    let work = agent::claim(&state, &agent, wait).await?;
    Ok(Json(work.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttemptBody {
    /// The attempt the claim handed out.
    #[schema(minimum = 1)]
    pub attempt: i64,
}

#[utoipa::path(post, path = "/api/v1/agent/jobs/{job_id}/received", tag = "print agent",
    params(("job_id" = i64, Path, description = "The job number")), request_body = AttemptBody,
    responses((status = 204, description = "Still held: print it now"),
        (status = 409, body = crate::error::ErrorBody, description = "PRINT_JOB_NOT_HELD: do not print it; drop it from the spool")))]
pub async fn received(
    State(state): State<AppState>,
    Agent(agent): Agent,
    ApiPath(job_id): ApiPath<i64>,
    ApiJson(body): ApiJson<AttemptBody>,
) -> ApiResult<StatusCode> {
    agent::received(&state, &agent, job_id, body.attempt).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ResultKind {
    Printed,
    Failed,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultBody {
    #[schema(minimum = 1)]
    pub attempt: i64,
    pub result: ResultKind,
    /// With `failed`: the stable code and message of what went wrong.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub error: Option<String>,
    /// With `failed`: bytes may have reached the paper (the next copy says 重打).
    #[serde(default)]
    pub uncertain: bool,
    /// With `failed`: the printer cannot print at all (its jobs go to the fallback).
    #[serde(default)]
    pub printer_down: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ResultView {
    /// False when this attempt no longer held the job: nothing changed (a result sent again
    /// after a restart, or one whose lease had run out).
    pub recorded: bool,
}

#[utoipa::path(post, path = "/api/v1/agent/jobs/{job_id}/result", tag = "print agent",
    params(("job_id" = i64, Path, description = "The job number")), request_body = ResultBody,
    responses((status = 200, body = ResultView, description = "Recorded, or already settled; either way drop it from the spool")))]
pub async fn result(
    State(state): State<AppState>,
    Agent(agent): Agent,
    ApiPath(job_id): ApiPath<i64>,
    ApiJson(body): ApiJson<ResultBody>,
) -> ApiResult<Json<ResultView>> {
    let report = match body.result {
        ResultKind::Printed => AgentReport::Printed,
        ResultKind::Failed => {
            let error = body.error.unwrap_or_default();
            if error.chars().count() > MAX_ERROR_CHARS {
                let mut errors = FieldErrors::new();
                errors.add(
                    "error",
                    Problem::TooLong {
                        max: MAX_ERROR_CHARS,
                    },
                );
                errors.finish(|| ())?;
            }
            AgentReport::Failed {
                error: if error.is_empty() {
                    "AGENT_PRINT_FAILED: 打印助手打印失败 / the agent could not print".into()
                } else {
                    error
                },
                uncertain: body.uncertain,
                printer_down: body.printer_down,
            }
        }
    };
    let recorded = agent::report(&state, &agent, job_id, body.attempt, report).await?;
    Ok(Json(ResultView { recorded }))
}

#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PrinterState {
    Up,
    Down,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrinterStatusBody {
    pub status: PrinterState,
    /// With `down`: what the printer answered (off, cover open, out of paper, unreachable).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub error: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/agent/printers/{printer_id}/status", tag = "print agent",
    params(("printer_id" = PrinterId, Path)), request_body = PrinterStatusBody,
    responses((status = 204, description = "Recorded: down moves its jobs to the fallback and alerts the board")))]
pub async fn printer_status(
    State(state): State<AppState>,
    Agent(agent): Agent,
    ApiPath(printer_id): ApiPath<PrinterId>,
    ApiJson(body): ApiJson<PrinterStatusBody>,
) -> ApiResult<StatusCode> {
    let error: String = body.error.unwrap_or_default();
    if error.chars().count() > MAX_ERROR_CHARS {
        let mut errors = FieldErrors::new();
        errors.add(
            "error",
            Problem::TooLong {
                max: MAX_ERROR_CHARS,
            },
        );
        errors.finish(|| ())?;
    }
    let up = body.status == PrinterState::Up;
    agent::printer_status(&state, &agent, printer_id, up, &error).await?;
    Ok(StatusCode::NO_CONTENT)
}
