//! The console's printing API: a store's printers (list, add, change), a test print, today's
//! print jobs with their state, and 重打 of a job (a new job whose paper says so).

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::views::printing::{PrintJobView, PrinterView};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diancan_domain::printing::*;
use diancan_domain::text::{optional_text, required_name};
use diancan_domain::validation::{FieldErrors, Problem};
use diancan_domain::*;
use diancan_storage::printing::PrinterSettings;
use diancan_usecases::printing;
use serde::Deserialize;
use utoipa::ToSchema;

/// Longest address: a host and port, an agent's name or a Feie SN all fit easily.
const MAX_ADDRESS_CHARS: usize = 100;
/// More stations than any kitchen has.
const MAX_STATIONS: usize = 50;

/// The two paper widths, as the schema's enum (an integer range would allow 59–79).
fn paper_mm_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .enum_values(Some([58, 80]))
        .description(Some("58 or 80"))
        .examples([80])
        .build()
}

fn yes() -> bool {
    true
}

/// A printer's settings, whole (PUT replaces them).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrinterBody {
    #[schema(max_length = 60, example = "后厨热菜")]
    pub name: String,
    pub connection: PrinterConnection,
    /// `tcp`: the printer's `ip:port` (port 9100 when left out); `agent`: the printer's
    /// `ip:port` on the shop's LAN, as its print agent reaches it; `feie`: the printer's SN.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[!-~]+$",
        example = "192.168.1.50:9100"
    )]
    pub address: String,
    /// The print agent that feeds it: required with connection `agent`, ignored otherwise.
    #[serde(default)]
    pub agent_id: Option<PrintAgentId>,
    /// 58 or 80.
    #[schema(schema_with = paper_mm_schema)]
    pub paper_mm: i64,
    /// Where its jobs go while it is off, open or out of paper: another printer of the store.
    #[serde(default)]
    pub fallback_id: Option<PrinterId>,
    /// Stations whose tickets it prints (each station at most one printer per store).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub stations: Vec<StationId>,
    /// Prints receipts; the first such printer is also the store's default for stations
    /// without a printer of their own.
    #[serde(default)]
    pub takes_receipts: bool,
    /// Prints takeaway packing slips.
    #[serde(default)]
    pub takes_packing_slips: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl PrinterBody {
    fn parse(self) -> ApiResult<PrinterSettings> {
        let mut errors = FieldErrors::new();
        let name = required_name(&mut errors, "name", &self.name);
        let address = optional_text(
            &mut errors,
            "address",
            Some(&self.address),
            MAX_ADDRESS_CHARS,
        );
        let address = match address {
            // IP and port, an agent's name or a Feie SN: printable ASCII, as the schema says.
            Some(a) if !a.chars().all(|c| c.is_ascii_graphic()) => {
                errors.add("address", Problem::InvalidCharacters);
                None
            }
            Some(a)
                if self.connection != PrinterConnection::Feie
                    && a.parse::<std::net::SocketAddr>().is_err()
                    && a.parse::<std::net::IpAddr>().is_err() =>
            {
                errors.add("address", Problem::InvalidCharacters);
                None
            }
            Some(a) => Some(a),
            None => {
                errors.add("address", Problem::Required);
                None
            }
        };
        let paper = PaperWidth::from_mm(self.paper_mm);
        if paper.is_none() {
            errors.add(
                "paper_mm",
                Problem::InvalidChoice {
                    allowed: vec!["58".into(), "80".into()],
                },
            );
        }
        let mut stations = self.stations;
        if stations.len() > MAX_STATIONS {
            errors.add(
                "stations",
                Problem::TooLarge {
                    max: MAX_STATIONS as i64,
                },
            );
        }
        let count = stations.len();
        stations.sort();
        stations.dedup();
        if stations.len() != count {
            errors.add("stations", Problem::Duplicate);
        }
        Ok(errors.finish(|| PrinterSettings {
            name: name.expect("checked"),
            connection: self.connection,
            address: address.expect("checked"),
            agent_id: self.agent_id,
            paper: paper.expect("checked"),
            fallback_id: self.fallback_id,
            stations,
            takes_receipts: self.takes_receipts,
            takes_packing_slips: self.takes_packing_slips,
            enabled: self.enabled,
        })?)
    }
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/printers", tag = "printing",
    params(("store_id" = StoreId, Path)),
    responses((status = 200, body = Vec<PrinterView>, description = "The store's printers by name, with whether each is ready"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_printers(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
) -> ApiResult<Json<Vec<PrinterView>>> {
    let printers = printing::printers(&state, &staff.caller(), store_id).await?;
    Ok(Json(printers.into_iter().map(PrinterView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/printers", tag = "printing",
    params(("store_id" = StoreId, Path)), request_body = PrinterBody,
    responses((status = 201, body = PrinterView),
        (status = 403, body = crate::error::ErrorBody, description = "The role may not manage the store"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "PRINTER_NAME_TAKEN, STATION_HAS_PRINTER"),
        (status = 422, body = crate::error::ErrorBody, description = "Invalid fields, UNKNOWN_STATION, UNKNOWN_FALLBACK, AGENT_REQUIRED, UNKNOWN_AGENT")))]
pub async fn create_printer(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
    ApiJson(body): ApiJson<PrinterBody>,
) -> ApiResult<(StatusCode, Json<PrinterView>)> {
    let settings = body.parse()?;
    let printer = printing::create_printer(&state, &staff.caller(), store_id, &settings).await?;
    Ok((StatusCode::CREATED, Json(printer.into())))
}

#[utoipa::path(put, path = "/api/v1/console/stores/{store_id}/printers/{printer_id}", tag = "printing",
    params(("store_id" = StoreId, Path), ("printer_id" = PrinterId, Path)), request_body = PrinterBody,
    responses((status = 200, body = PrinterView),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "PRINTER_NAME_TAKEN, STATION_HAS_PRINTER"),
        (status = 422, body = crate::error::ErrorBody, description = "Invalid fields, UNKNOWN_STATION, UNKNOWN_FALLBACK, FALLBACK_IS_SELF, AGENT_REQUIRED, UNKNOWN_AGENT")))]
pub async fn update_printer(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, printer_id)): ApiPath<(StoreId, PrinterId)>,
    ApiJson(body): ApiJson<PrinterBody>,
) -> ApiResult<Json<PrinterView>> {
    let settings = body.parse()?;
    let printer =
        printing::update_printer(&state, &staff.caller(), store_id, printer_id, &settings).await?;
    Ok(Json(printer.into()))
}

#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/printers/{printer_id}/test", tag = "printing",
    params(("store_id" = StoreId, Path), ("printer_id" = PrinterId, Path)),
    responses((status = 202, body = PrintJobView, description = "A test page is queued; follow its state in the print jobs"),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn test_print(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, printer_id)): ApiPath<(StoreId, PrinterId)>,
) -> ApiResult<(StatusCode, Json<PrintJobView>)> {
    let job = printing::test_print(&state, &staff.caller(), store_id, printer_id).await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/print-jobs", tag = "printing",
    params(("store_id" = StoreId, Path)),
    responses((status = 200, body = Vec<PrintJobView>, description = "The print jobs of the store's business day, newest first"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_print_jobs(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
) -> ApiResult<Json<Vec<PrintJobView>>> {
    let jobs = printing::jobs_today(&state, &staff.caller(), store_id).await?;
    Ok(Json(jobs.into_iter().map(PrintJobView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/print-jobs/{job_id}/reprint", tag = "printing",
    params(("store_id" = StoreId, Path), ("job_id" = i64, Path, description = "The job number")),
    responses((status = 201, body = PrintJobView, description = "The new job: the next reprint of the original, its paper says 重打"),
        (status = 403, body = crate::error::ErrorBody, description = "The role may not take orders"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn reprint(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, job_id)): ApiPath<(StoreId, i64)>,
) -> ApiResult<(StatusCode, Json<PrintJobView>)> {
    if job_id < 1 {
        return Err(ApiError::not_found());
    }
    let job = printing::reprint(&state, &staff.caller(), store_id, job_id).await?;
    Ok((StatusCode::CREATED, Json(job.into())))
}
