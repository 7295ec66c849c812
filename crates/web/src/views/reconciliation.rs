//! 对账 runs and their mismatches as the console shows them.

use diancan_domain::payments::PaymentProvider;
use diancan_domain::reconciliation::*;
use diancan_domain::*;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ReconciliationRunView {
    pub id: ReconciliationRunId,
    pub provider: PaymentProvider,
    /// Our account at the gateway (WeChat `mchid`, Alipay app id).
    pub merchant_id: String,
    /// The gateway's statement date, China time.
    #[schema(example = "2026-12-02")]
    pub date: String,
    pub state: RunState,
    /// How many times the day was run (a rerun counts one more).
    pub attempt: i64,
    pub statement_lines: i64,
    pub unreadable_lines: i64,
    pub payments_checked: i64,
    pub refunds_checked: i64,
    pub mismatches: i64,
    /// Why a failed run failed (the statement could not be fetched or read).
    pub error: Option<String>,
    /// `worker`, or the staff member who started it.
    pub started_by: String,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

impl From<ReconciliationRun> for ReconciliationRunView {
    fn from(run: ReconciliationRun) -> Self {
        ReconciliationRunView {
            id: run.id,
            provider: run.provider,
            merchant_id: run.merchant_id,
            date: run.bill_date.to_string(),
            state: run.state,
            attempt: run.attempt,
            statement_lines: run.counts.statement_lines,
            unreadable_lines: run.counts.unreadable_lines,
            payments_checked: run.counts.payments_checked,
            refunds_checked: run.counts.refunds_checked,
            mismatches: run.mismatches,
            error: run.error,
            started_by: run.started_by,
            started_at_ms: run.started_at_ms,
            finished_at_ms: run.finished_at_ms,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MismatchView {
    pub id: MismatchId,
    pub kind: MismatchKind,
    /// The kind in Chinese, as the console shows it.
    #[schema(example = "金额不符")]
    pub kind_zh: &'static str,
    pub out_trade_no: String,
    pub out_refund_no: Option<String>,
    /// Absent for money nobody here knows about.
    pub store_id: Option<StoreId>,
    pub our_amount_fen: Option<i64>,
    pub their_amount_fen: Option<i64>,
    pub note: String,
    pub resolved_by: Option<String>,
    pub resolution_note: Option<String>,
    pub resolved_at_ms: Option<i64>,
}

impl From<RecordedMismatch> for MismatchView {
    fn from(recorded: RecordedMismatch) -> Self {
        let m = recorded.mismatch;
        MismatchView {
            id: recorded.id,
            kind: m.kind,
            kind_zh: m.kind.label_zh(),
            out_trade_no: m.out_trade_no,
            out_refund_no: m.out_refund_no,
            store_id: m.store_id,
            our_amount_fen: m.our_amount.map(Money::fen),
            their_amount_fen: m.their_amount.map(Money::fen),
            note: m.note,
            resolved_by: recorded.resolved_by,
            resolution_note: recorded.resolution_note,
            resolved_at_ms: recorded.resolved_at_ms,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RunMismatchesView {
    pub run: ReconciliationRunView,
    pub mismatches: Vec<MismatchView>,
}
