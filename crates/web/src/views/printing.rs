//! Printers and print jobs as the console shows them.

use diancan_domain::printing::*;
use diancan_domain::*;
use diancan_storage::printing::{PrintJob, Printer};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct PrinterView {
    pub id: PrinterId,
    pub name: String,
    pub connection: PrinterConnection,
    /// `host:port` (raw TCP), the agent's name, or the Feie SN.
    pub address: String,
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
