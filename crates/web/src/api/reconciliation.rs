//! The console's 对账 API: the runs, a run's mismatches (as JSON and as a CSV for Excel), a
//! rerun of a past day, and resolving a mismatch with a note. Owners and managers of the whole
//! brand only: the statements cover every store's money.

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::views::reconciliation::*;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use diancan_domain::payments::PaymentProvider;
use diancan_domain::staff::Permission;
use diancan_domain::validation::{FieldErrors, Problem};
use diancan_domain::*;
use diancan_usecases::payments::reconciliation::{self, Started};
use serde::Deserialize;
use utoipa::ToSchema;

/// A day to reconcile at one gateway.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRunBody {
    pub provider: PaymentProvider,
    /// A past day, China time (the gateways' statement date).
    #[schema(pattern = r"^\d{4}-\d{2}-\d{2}$", example = "2026-12-02")]
    pub date: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// What was done about it.
    #[schema(min_length = 1, max_length = 200, example = "顾客已补差价")]
    pub note: String,
}

/// Who staff are in a run or a resolution: their display name and login.
fn by(staff: &Staff) -> String {
    format!("{} ({})", staff.display_name, staff.login)
}

#[utoipa::path(get, path = "/api/v1/console/reconciliation/runs", tag = "reconciliation",
    responses((status = 200, body = Vec<ReconciliationRunView>, description = "The latest runs, newest day first")))]
pub async fn list_runs(
    State(state): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<Vec<ReconciliationRunView>>> {
    staff.require(Permission::ReconcilePayments)?;
    let runs = reconciliation::runs(&state, &staff.caller()).await?;
    Ok(Json(runs.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/console/reconciliation/runs", tag = "reconciliation",
    request_body = StartRunBody,
    responses((status = 201, body = ReconciliationRunView, description = "The day was matched (`finished`), or its statement could not be fetched (`failed`, with the reason)"),
        (status = 403, body = crate::error::ErrorBody, description = "Only owners and managers of the whole brand reconcile"),
        (status = 409, body = crate::error::ErrorBody, description = "RECONCILIATION_RUNNING: the day is being matched right now; PAYMENT_METHOD_UNAVAILABLE: the gateway is not configured"),
        (status = 422, body = crate::error::ErrorBody, description = "The date is not a past day")))]
pub async fn start_run(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<StartRunBody>,
) -> ApiResult<(StatusCode, Json<ReconciliationRunView>)> {
    staff.require(Permission::ReconcilePayments)?;
    let date = body.date.parse::<jiff::civil::Date>().map_err(|_| {
        let mut errors = FieldErrors::new();
        errors.add("date", Problem::InvalidTime);
        ApiError::from(diancan_usecases::Error::Invalid(errors))
    })?;
    let started = reconciliation::start_reconciliation(
        &state,
        &staff.caller(),
        body.provider,
        date,
        &by(&staff),
    )
    .await?;
    match started {
        Started::Ran(run) | Started::AlreadyDone(run) => {
            Ok((StatusCode::CREATED, Json(run.into())))
        }
        Started::AlreadyRunning(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "RECONCILIATION_RUNNING",
            "这一天正在对账，请稍后刷新",
            "This day is being reconciled right now; refresh in a moment",
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/console/reconciliation/runs/{run_id}/mismatches", tag = "reconciliation",
    params(("run_id" = ReconciliationRunId, Path)),
    responses((status = 200, body = RunMismatchesView, description = "The run and the mismatches of this brand (and money nobody here knows about)"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn run_mismatches(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(run_id): ApiPath<ReconciliationRunId>,
) -> ApiResult<Json<RunMismatchesView>> {
    staff.require(Permission::ReconcilePayments)?;
    let (run, mismatches) = reconciliation::run_mismatches(&state, &staff.caller(), run_id).await?;
    Ok(Json(RunMismatchesView {
        run: run.into(),
        mismatches: mismatches.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/console/reconciliation/runs/{run_id}/mismatches.csv", tag = "reconciliation",
    params(("run_id" = ReconciliationRunId, Path)),
    responses((status = 200, content_type = "text/csv", body = String, description = "The same mismatches as a CSV: UTF-8 with a byte-order mark so Excel reads the Chinese, amounts in yuan"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn run_mismatches_csv(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(run_id): ApiPath<ReconciliationRunId>,
) -> ApiResult<Response> {
    staff.require(Permission::ReconcilePayments)?;
    let (run, mismatches) = reconciliation::run_mismatches(&state, &staff.caller(), run_id).await?;
    let file = format!(
        "attachment; filename=\"reconciliation-{}-{}.csv\"",
        run.provider.as_str(),
        run.bill_date
    );
    let body = reconciliation::mismatches_csv(&run, &mismatches);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, file),
        ],
        body,
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/console/reconciliation/mismatches/{mismatch_id}/resolve", tag = "reconciliation",
    params(("mismatch_id" = MismatchId, Path)), request_body = ResolveBody,
    responses((status = 200, body = MismatchView, description = "Resolved with the note; one already resolved keeps its first resolution"),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody, description = "The note is empty or over 200 characters")))]
pub async fn resolve_mismatch(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(mismatch_id): ApiPath<MismatchId>,
    ApiJson(body): ApiJson<ResolveBody>,
) -> ApiResult<Json<MismatchView>> {
    staff.require(Permission::ReconcilePayments)?;
    let resolved = reconciliation::resolve_mismatch(
        &state,
        &staff.caller(),
        mismatch_id,
        &by(&staff),
        &body.note,
    )
    .await?;
    Ok(Json(resolved.into()))
}
