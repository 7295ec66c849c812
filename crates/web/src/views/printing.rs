//! Printers and print jobs as the console shows them.

use base64::Engine;
use diancan_domain::printing::*;
use diancan_domain::*;
use diancan_storage::printing::{PrintAgent, PrintJob, Printer};
use diancan_usecases::printing::agent::{AgentJob, AgentWork};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct PrinterView {
    pub id: PrinterId,
    pub name: String,
    pub connection: PrinterConnection,
    /// `host:port` (raw TCP, or on the shop's LAN for an agent's printer), or the Feie SN.
    pub address: String,
    /// The print agent that feeds it (connection `agent`).
    pub agent_id: Option<PrintAgentId>,
    /// 58 or 80.
    pub paper_mm: i64,
    pub fallback_id: Option<PrinterId>,
    /// The stations whose tickets it prints; a station without a printer prints on the
    /// store's default printer (the first that takes receipts).
    pub stations: Vec<StationId>,
    pub takes_receipts: bool,
    pub takes_packing_slips: bool,
    pub enabled: bool,
    /// `ready`, or `down` while it answered off, open or out of paper (its jobs go to the
    /// fallback; the board shows the alert).
    #[schema(example = "ready")]
    pub status: &'static str,
    pub down_since_ms: Option<i64>,
    pub last_error: Option<String>,
}

impl From<Printer> for PrinterView {
    fn from(p: Printer) -> Self {
        PrinterView {
            id: p.id,
            status: if p.down_since_ms.is_some() {
                "down"
            } else {
                "ready"
            },
            name: p.name,
            connection: p.connection,
            address: p.address,
            agent_id: p.agent_id,
            paper_mm: p.paper.mm(),
            fallback_id: p.fallback_id,
            stations: p.stations,
            takes_receipts: p.takes_receipts,
            takes_packing_slips: p.takes_packing_slips,
            enabled: p.enabled,
            down_since_ms: p.down_since_ms,
            last_error: p.last_error,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PrintJobView {
    /// The job number, printed at the foot of the paper.
    pub id: i64,
    pub document: DocumentKind,
    pub state: PrintJobState,
    /// Where it prints now; differs from `routed_printer_id` once it went to the fallback.
    pub printer_id: PrinterId,
    pub routed_printer_id: PrinterId,
    pub order_id: Option<OrderId>,
    pub ticket_id: Option<KitchenTicketId>,
    pub station: Option<String>,
    /// The table code or pickup number the paper is headed with.
    pub label: Option<String>,
    /// 0 for the original, n for the nth reprint.
    pub reprint: i64,
    pub reprint_of: Option<i64>,
    pub requested_by: Option<String>,
    /// The paper says 重打: a reprint, or a resend after an attempt that may have printed.
    pub says_reprint: bool,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub printed_at_ms: Option<i64>,
}

impl From<PrintJob> for PrintJobView {
    fn from(j: PrintJob) -> Self {
        let c = &j.content;
        let label = c
            .table_code
            .clone()
            .or_else(|| c.pickup_number.map(|n| n.to_string()));
        PrintJobView {
            says_reprint: j.says_reprint(),
            id: j.id,
            document: j.document,
            state: j.state,
            printer_id: j.printer_id,
            routed_printer_id: j.routed_printer_id,
            order_id: j.order_id,
            ticket_id: j.ticket_id,
            station: c.station.clone(),
            label,
            reprint: j.reprint,
            reprint_of: j.reprint_of,
            requested_by: j.requested_by,
            attempts: j.attempts,
            last_error: j.last_error,
            created_at_ms: j.created_at_ms,
            printed_at_ms: j.printed_at_ms,
        }
    }
}

/// A print agent as the console lists it; its token is never shown again.
#[derive(Serialize, ToSchema)]
pub struct PrintAgentView {
    pub id: PrintAgentId,
    pub name: String,
    pub created_at_ms: i64,
    /// Set once revoked: its token is refused from then on.
    pub revoked_at_ms: Option<i64>,
    /// When it last called the server (it calls at least every 25 s while running).
    pub last_seen_ms: Option<i64>,
}

impl From<PrintAgent> for PrintAgentView {
    fn from(a: PrintAgent) -> Self {
        PrintAgentView {
            id: a.id,
            name: a.name,
            created_at_ms: a.created_at_ms,
            revoked_at_ms: a.revoked_at_ms,
            last_seen_ms: a.last_seen_ms,
        }
    }
}

/// A new agent with its device token: shown this once, only its hash is kept.
#[derive(Serialize, ToSchema)]
pub struct NewPrintAgentView {
    pub agent: PrintAgentView,
    /// Pass to `diancan print-agent --token`.
    #[schema(example = "pa_3q2X…")]
    pub token: String,
}

/// One job for the agent: print `bytes_base64` on `address`, then report with `attempt`.
#[derive(Serialize, ToSchema)]
pub struct AgentJobView {
    /// The job number (at the foot of the paper).
    pub id: i64,
    /// The attempt this claim holds; name it when confirming and reporting.
    pub attempt: i64,
    pub printer_id: PrinterId,
    /// The printer's `host:port` on the shop's LAN.
    pub address: String,
    pub document: DocumentKind,
    /// The paper says 重打.
    pub says_reprint: bool,
    /// The ESC/POS bytes, base64 (standard alphabet, padded).
    pub bytes_base64: String,
}

impl From<AgentJob> for AgentJobView {
    fn from(j: AgentJob) -> Self {
        AgentJobView {
            id: j.id,
            attempt: j.attempt,
            printer_id: j.printer_id,
            address: j.address,
            document: j.document,
            says_reprint: j.says_reprint,
            bytes_base64: base64::engine::general_purpose::STANDARD.encode(&j.bytes),
        }
    }
}

/// A printer of the agent that is down: ask it (DLE EOT) and report when it is ready.
#[derive(Serialize, ToSchema)]
pub struct AgentPrinterView {
    pub printer_id: PrinterId,
    pub address: String,
}

#[derive(Serialize, ToSchema)]
pub struct AgentWorkView {
    pub jobs: Vec<AgentJobView>,
    pub down_printers: Vec<AgentPrinterView>,
}

impl From<AgentWork> for AgentWorkView {
    fn from(w: AgentWork) -> Self {
        AgentWorkView {
            jobs: w.jobs.into_iter().map(AgentJobView::from).collect(),
            down_printers: w
                .down_printers
                .into_iter()
                .map(|p| AgentPrinterView {
                    printer_id: p.id,
                    address: p.address,
                })
                .collect(),
        }
    }
}
