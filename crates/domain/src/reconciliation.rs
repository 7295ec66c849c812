//! 对账: a gateway's statement of one day held against our payments and refunds. The rule is
//! one pure function, so the daily worker, a rerun from the console and the tests all find the
//! same mismatches; each mismatch has a stable key, so a rerun replaces rather than adds.

use crate::ids::{BrandId, MismatchId, ReconciliationRunId, StoreId};
use crate::membership::recharge::{Recharge, RechargeState};
use crate::money::Money;
use crate::payments::{Payment, PaymentProvider, PaymentState};
use crate::refunds::{Refund, RefundState};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One line of the gateway's statement, as the gateway module read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    pub kind: LineKind,
    pub out_trade_no: String,
    pub out_refund_no: Option<String>,
    pub transaction_id: String,
    pub amount: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Payment,
    Refund,
}

/// What disagrees.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MismatchKind {
    /// We booked money the gateway's statement does not list.
    MissingOnGateway,
    /// The gateway took or returned money we have no record of.
    MissingOnOurSide,
    /// Both sides list it, with different amounts.
    AmountDiffers,
    /// Both sides know it, but not in the same state (it took money for a payment we hold
    /// unpaid, a refund we hold failed, another transaction number).
    StateDiffers,
    /// A report we set aside at settlement because it did not match what we asked for.
    Flagged,
    /// A statement line the gateway module could not read.
    UnreadableLine,
}

impl MismatchKind {
    pub const ALL: [MismatchKind; 6] = [
        MismatchKind::MissingOnGateway,
        MismatchKind::MissingOnOurSide,
        MismatchKind::AmountDiffers,
        MismatchKind::StateDiffers,
        MismatchKind::Flagged,
        MismatchKind::UnreadableLine,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MismatchKind::MissingOnGateway => "missing_on_gateway",
            MismatchKind::MissingOnOurSide => "missing_on_our_side",
            MismatchKind::AmountDiffers => "amount_differs",
            MismatchKind::StateDiffers => "state_differs",
            MismatchKind::Flagged => "flagged",
            MismatchKind::UnreadableLine => "unreadable_line",
        }
    }

    pub fn parse(text: &str) -> Option<MismatchKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// What the console and the CSV call it.
    pub fn label_zh(self) -> &'static str {
        match self {
            MismatchKind::MissingOnGateway => "渠道无此笔",
            MismatchKind::MissingOnOurSide => "本系统无此笔",
            MismatchKind::AmountDiffers => "金额不符",
            MismatchKind::StateDiffers => "状态不符",
            MismatchKind::Flagged => "结算时已标记",
            MismatchKind::UnreadableLine => "账单行无法读取",
        }
    }
}

/// One disagreement. `(kind, out_trade_no, out_refund_no)` is its key within a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub kind: MismatchKind,
    pub out_trade_no: String,
    pub out_refund_no: Option<String>,
    /// The brand and store it belongs to, when our side knows it.
    pub brand_id: Option<BrandId>,
    pub store_id: Option<StoreId>,
    pub our_amount: Option<Money>,
    pub their_amount: Option<Money>,
    pub note: String,
}

/// Our side of one day: the payments paid that day and the refunds made that day (`booked`),
/// and, to recognise the gateway's lines, every payment and refund those lines name whatever
/// day we booked it (`named`). A record may be in both.
#[derive(Debug, Clone, Default)]
pub struct OurBooks {
    pub booked_payments: Vec<Payment>,
    pub booked_refunds: Vec<Refund>,
    pub named_payments: Vec<Payment>,
    pub named_refunds: Vec<Refund>,
    /// Members' stored-value recharges (充值) paid that day, and those the lines name: gateway
    /// money of ours that belongs to no order (so their mismatches name no store).
    pub booked_recharges: Vec<Recharge>,
    pub named_recharges: Vec<Recharge>,
}

/// Every mismatch between our books and the gateway's lines, in a stable order.
pub fn reconcile(ours: &OurBooks, lines: &[StatementLine]) -> Vec<Mismatch> {
    let mut found = Vec::new();
    let paid_lines: HashMap<&str, &StatementLine> = lines
        .iter()
        .filter(|l| l.kind == LineKind::Payment)
        .map(|l| (l.out_trade_no.as_str(), l))
        .collect();
    let refund_lines: HashMap<&str, &StatementLine> = lines
        .iter()
        .filter(|l| l.kind == LineKind::Refund)
        .filter_map(|l| Some((l.out_refund_no.as_deref()?, l)))
        .collect();
    let payments: HashMap<&str, &Payment> = ours
        .named_payments
        .iter()
        .chain(&ours.booked_payments)
        .map(|p| (p.out_trade_no.as_str(), p))
        .collect();
    let refunds: HashMap<&str, &Refund> = ours
        .named_refunds
        .iter()
        .chain(&ours.booked_refunds)
        .map(|r| (r.out_refund_no.as_str(), r))
        .collect();

    for payment in &ours.booked_payments {
        let ours_says = |kind, their_amount, note: String| Mismatch {
            kind,
            out_trade_no: payment.out_trade_no.clone(),
            out_refund_no: None,
            brand_id: Some(payment.brand_id),
            store_id: Some(payment.store_id),
            our_amount: Some(payment.amount),
            their_amount,
            note,
        };
        match paid_lines.get(payment.out_trade_no.as_str()) {
            None => found.push(ours_says(
                MismatchKind::MissingOnGateway,
                None,
                "本系统已收款，渠道账单无此笔 / paid here, not on the gateway's statement".into(),
            )),
            Some(line) if line.amount != payment.amount => found.push(ours_says(
                MismatchKind::AmountDiffers,
                Some(line.amount),
                "金额不符 / amounts differ".into(),
            )),
            Some(line) if payment.transaction_id.as_deref() != Some(&line.transaction_id) => found
                .push(ours_says(
                    MismatchKind::StateDiffers,
                    Some(line.amount),
                    format!(
                        "渠道交易号不同 / another transaction id: ours {}, theirs {}",
                        payment.transaction_id.as_deref().unwrap_or("-"),
                        line.transaction_id
                    ),
                )),
            Some(_) => {}
        }
    }
    let recharges: HashMap<&str, &Recharge> = ours
        .named_recharges
        .iter()
        .chain(&ours.booked_recharges)
        .map(|r| (r.out_trade_no.as_str(), r))
        .collect();
    reconcile_recharges(ours, &paid_lines, &recharges, lines, &mut found);

    for line in lines.iter().filter(|l| l.kind == LineKind::Payment) {
        if recharges.contains_key(line.out_trade_no.as_str()) {
            continue;
        }
        let Some(payment) = payments.get(line.out_trade_no.as_str()) else {
            found.push(Mismatch {
                kind: MismatchKind::MissingOnOurSide,
                out_trade_no: line.out_trade_no.clone(),
                out_refund_no: None,
                brand_id: None,
                store_id: None,
                our_amount: None,
                their_amount: Some(line.amount),
                note: format!(
                    "渠道已收款，本系统无此笔 / taken by the gateway ({}), unknown here",
                    line.transaction_id
                ),
            });
            continue;
        };
        let theirs = |kind, note: String| Mismatch {
            kind,
            out_trade_no: line.out_trade_no.clone(),
            out_refund_no: None,
            brand_id: Some(payment.brand_id),
            store_id: Some(payment.store_id),
            our_amount: Some(payment.amount),
            their_amount: Some(line.amount),
            note,
        };
        if let Some(reason) = &payment.flagged {
            found.push(theirs(
                MismatchKind::Flagged,
                format!("结算时已标记 / flagged at settlement: {reason}"),
            ));
        } else if payment.state != PaymentState::Paid {
            found.push(theirs(
                MismatchKind::StateDiffers,
                format!(
                    "渠道已收款，本系统为{} / taken by the gateway, {} here",
                    match payment.state {
                        PaymentState::Pending => "待支付",
                        PaymentState::Closed => "已关闭",
                        PaymentState::Paid => "已支付",
                    },
                    payment.state.as_str()
                ),
            ));
        }
    }
    // A flagged payment the gateway does not list is still shown: its report was suspect.
    for payment in ours.booked_payments.iter().chain(&ours.named_payments) {
        if let Some(reason) = &payment.flagged
            && !paid_lines.contains_key(payment.out_trade_no.as_str())
            && payment.state != PaymentState::Paid
        {
            found.push(Mismatch {
                kind: MismatchKind::Flagged,
                out_trade_no: payment.out_trade_no.clone(),
                out_refund_no: None,
                brand_id: Some(payment.brand_id),
                store_id: Some(payment.store_id),
                our_amount: Some(payment.amount),
                their_amount: None,
                note: format!("结算时已标记 / flagged at settlement: {reason}"),
            });
        }
    }

    for refund in ours
        .booked_refunds
        .iter()
        .filter(|r| r.state != RefundState::Failed)
    {
        let ours_says = |kind, their_amount, note: &str| Mismatch {
            kind,
            out_trade_no: payment_no(&payments, refund),
            out_refund_no: Some(refund.out_refund_no.clone()),
            brand_id: Some(refund.brand_id),
            store_id: Some(refund.store_id),
            our_amount: Some(refund.amount),
            their_amount,
            note: note.to_owned(),
        };
        match refund_lines.get(refund.out_refund_no.as_str()) {
            None => found.push(ours_says(
                MismatchKind::MissingOnGateway,
                None,
                "本系统已退款，渠道账单无此笔 / refunded here, not on the gateway's statement",
            )),
            Some(line) if line.amount != refund.amount => found.push(ours_says(
                MismatchKind::AmountDiffers,
                Some(line.amount),
                "退款金额不符 / refund amounts differ",
            )),
            Some(_) => {}
        }
    }
    for line in lines.iter().filter(|l| l.kind == LineKind::Refund) {
        let number = line.out_refund_no.clone().unwrap_or_default();
        match refunds.get(number.as_str()) {
            None => found.push(Mismatch {
                kind: MismatchKind::MissingOnOurSide,
                out_trade_no: line.out_trade_no.clone(),
                out_refund_no: Some(number),
                brand_id: payments.get(line.out_trade_no.as_str()).map(|p| p.brand_id),
                store_id: payments.get(line.out_trade_no.as_str()).map(|p| p.store_id),
                our_amount: None,
                their_amount: Some(line.amount),
                note: "渠道已退款，本系统无此笔 / refunded by the gateway, unknown here".into(),
            }),
            Some(refund) if refund.state == RefundState::Failed => found.push(Mismatch {
                kind: MismatchKind::StateDiffers,
                out_trade_no: line.out_trade_no.clone(),
                out_refund_no: Some(number),
                brand_id: Some(refund.brand_id),
                store_id: Some(refund.store_id),
                our_amount: Some(refund.amount),
                their_amount: Some(line.amount),
                note: "渠道已退款，本系统为退款失败 / refunded by the gateway, failed here".into(),
            }),
            Some(_) => {}
        }
    }
    found.sort_by(|a, b| {
        (a.kind, &a.out_trade_no, &a.out_refund_no).cmp(&(
            b.kind,
            &b.out_trade_no,
            &b.out_refund_no,
        ))
    });
    found.dedup_by(|a, b| {
        (a.kind, &a.out_trade_no, &a.out_refund_no) == (b.kind, &b.out_trade_no, &b.out_refund_no)
    });
    found
}

/// Recharges by the same rules as payments: booked ones must be on the statement with the
/// same amount and transaction, and a line for a recharge we hold unpaid or flagged is shown.
fn reconcile_recharges(
    ours: &OurBooks,
    paid_lines: &HashMap<&str, &StatementLine>,
    recharges: &HashMap<&str, &Recharge>,
    lines: &[StatementLine],
    found: &mut Vec<Mismatch>,
) {
    let mismatch = |r: &Recharge, kind, their_amount, note: String| Mismatch {
        kind,
        out_trade_no: r.out_trade_no.clone(),
        out_refund_no: None,
        brand_id: Some(r.brand_id),
        store_id: None,
        our_amount: Some(r.amount),
        their_amount,
        note,
    };
    for r in ours.booked_recharges.iter().filter(|r| r.flagged.is_none()) {
        match paid_lines.get(r.out_trade_no.as_str()) {
            None => found.push(mismatch(
                r,
                MismatchKind::MissingOnGateway,
                None,
                "会员充值已入账，渠道账单无此笔 / recharge credited here, not on the gateway's statement"
                    .into(),
            )),
            Some(line) if line.amount != r.amount => found.push(mismatch(
                r,
                MismatchKind::AmountDiffers,
                Some(line.amount),
                "会员充值金额不符 / recharge amounts differ".into(),
            )),
            Some(line) if r.transaction_id.as_deref() != Some(&line.transaction_id) => {
                found.push(mismatch(
                    r,
                    MismatchKind::StateDiffers,
                    Some(line.amount),
                    format!(
                        "会员充值渠道交易号不同 / another transaction id: ours {}, theirs {}",
                        r.transaction_id.as_deref().unwrap_or("-"),
                        line.transaction_id
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    for line in lines.iter().filter(|l| l.kind == LineKind::Payment) {
        let Some(r) = recharges.get(line.out_trade_no.as_str()) else {
            continue;
        };
        if let Some(reason) = &r.flagged {
            found.push(mismatch(
                r,
                MismatchKind::Flagged,
                Some(line.amount),
                format!("会员充值结算时已标记 / recharge flagged at settlement: {reason}"),
            ));
        } else if r.state != RechargeState::Paid {
            found.push(mismatch(
                r,
                MismatchKind::StateDiffers,
                Some(line.amount),
                format!(
                    "渠道已收款，会员充值为{} / taken by the gateway, recharge {} here",
                    match r.state {
                        RechargeState::Pending => "待支付",
                        RechargeState::Closed => "已关闭",
                        RechargeState::Paid => "已支付",
                    },
                    r.state.as_str()
                ),
            ));
        }
    }
    for r in ours.booked_recharges.iter().chain(&ours.named_recharges) {
        if let Some(reason) = &r.flagged
            && !paid_lines.contains_key(r.out_trade_no.as_str())
        {
            found.push(mismatch(
                r,
                MismatchKind::Flagged,
                None,
                format!("会员充值结算时已标记 / recharge flagged at settlement: {reason}"),
            ));
        }
    }
}

fn payment_no(payments: &HashMap<&str, &Payment>, refund: &Refund) -> String {
    payments
        .values()
        .find(|p| p.id == refund.payment_id)
        .map(|p| p.out_trade_no.clone())
        .unwrap_or_default()
}

/// The state of one run.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Claimed by an instance, statement not yet matched.
    Running,
    /// Matched: its mismatches are listed.
    Finished,
    /// The statement could not be fetched or read; a rerun may try again.
    Failed,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Finished => "finished",
            RunState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<RunState> {
        [RunState::Running, RunState::Finished, RunState::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One run: a gateway account's statement of one China date, matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconciliationRun {
    pub id: ReconciliationRunId,
    pub provider: PaymentProvider,
    pub merchant_id: String,
    pub bill_date: jiff::civil::Date,
    pub state: RunState,
    /// Claims of this row so far: a write from an older claim is refused.
    pub attempt: i64,
    pub counts: RunCounts,
    pub mismatches: i64,
    pub error: Option<String>,
    /// `worker` or the staff member who started it.
    pub started_by: String,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

/// How much a run looked at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub statement_lines: i64,
    pub unreadable_lines: i64,
    pub payments_checked: i64,
    pub refunds_checked: i64,
}

/// A mismatch as stored, with what staff did about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedMismatch {
    pub id: MismatchId,
    pub run_id: ReconciliationRunId,
    pub mismatch: Mismatch,
    pub resolved_by: Option<String>,
    pub resolution_note: Option<String>,
    pub resolved_at_ms: Option<i64>,
    pub created_at_ms: i64,
}

/// The longest note staff may write when resolving a mismatch, in characters.
pub const MAX_RESOLUTION_NOTE_CHARS: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{OrderId, PaymentId, RefundId};

    fn paid(no: &str, fen: i64) -> Payment {
        Payment {
            id: PaymentId::new(),
            brand_id: BrandId::new(),
            store_id: StoreId::new(),
            order_id: OrderId::new(),
            provider: crate::payments::PaymentProvider::WechatPay,
            method: "h5".into(),
            out_trade_no: no.into(),
            amount: Money::from_fen(fen),
            state: PaymentState::Paid,
            transaction_id: Some(format!("T{no}")),
            paid_at_ms: Some(1),
            flagged: None,
            refund_due: false,
            created_at_ms: 1,
            updated_at_ms: 1,
        }
    }

    fn refund(of: &Payment, no: &str, fen: i64) -> Refund {
        Refund {
            id: RefundId::new(),
            brand_id: of.brand_id,
            store_id: of.store_id,
            order_id: of.order_id,
            payment_id: of.id,
            out_refund_no: no.into(),
            amount: Money::from_fen(fen),
            reason: "取消".into(),
            state: RefundState::Succeeded,
            gateway_refund_id: None,
            requested_by: "system".into(),
            created_at_ms: 2,
            updated_at_ms: 2,
        }
    }

    fn line(payment: &Payment, fen: i64) -> StatementLine {
        StatementLine {
            kind: LineKind::Payment,
            out_trade_no: payment.out_trade_no.clone(),
            out_refund_no: None,
            transaction_id: payment.transaction_id.clone().unwrap_or_default(),
            amount: Money::from_fen(fen),
        }
    }

    fn refund_line(payment: &Payment, no: &str, fen: i64) -> StatementLine {
        StatementLine {
            kind: LineKind::Refund,
            out_refund_no: Some(no.into()),
            ..line(payment, fen)
        }
    }

    fn kinds(found: &[Mismatch]) -> Vec<(MismatchKind, &str, Option<&str>)> {
        found
            .iter()
            .map(|m| (m.kind, m.out_trade_no.as_str(), m.out_refund_no.as_deref()))
            .collect()
    }

    #[test]
    fn agreeing_books_have_no_mismatch() {
        let a = paid("A00001", 3800);
        let r = refund(&a, "A00001R", 800);
        let ours = OurBooks {
            booked_payments: vec![a.clone()],
            booked_refunds: vec![r],
            ..OurBooks::default()
        };
        let lines = [line(&a, 3800), refund_line(&a, "A00001R", 800)];
        assert_eq!(reconcile(&ours, &lines), []);
    }

    #[test]
    fn recharges_are_our_money_too() {
        use crate::ids::CustomerId;
        let recharge = |no: &str, fen: i64, state: RechargeState, flagged: Option<&str>| Recharge {
            out_trade_no: no.into(),
            state,
            transaction_id: Some(format!("T{no}")),
            flagged: flagged.map(str::to_owned),
            ..Recharge::start(
                BrandId::new(),
                CustomerId::new(),
                PaymentProvider::WechatPay,
                "h5",
                Money::from_fen(fen),
                Money::ZERO,
                0,
            )
        };
        let line_of = |r: &Recharge, fen: i64| StatementLine {
            kind: LineKind::Payment,
            out_trade_no: r.out_trade_no.clone(),
            out_refund_no: None,
            transaction_id: format!("T{}", r.out_trade_no),
            amount: Money::from_fen(fen),
        };
        let agreeing = recharge("R1", 10_000, RechargeState::Paid, None);
        let absent = recharge("R2", 5_000, RechargeState::Paid, None);
        let unpaid_here = recharge("R3", 2_000, RechargeState::Closed, None);
        let flagged = recharge("R4", 3_000, RechargeState::Pending, Some("amount"));
        let ours = OurBooks {
            booked_recharges: vec![agreeing.clone(), absent.clone()],
            named_recharges: vec![unpaid_here.clone(), flagged.clone()],
            ..OurBooks::default()
        };
        let lines = [
            line_of(&agreeing, 10_000),
            line_of(&unpaid_here, 2_000),
            line_of(&flagged, 1),
        ];
        let found: Vec<(MismatchKind, String)> = reconcile(&ours, &lines)
            .into_iter()
            .map(|m| {
                assert_eq!(m.store_id, None);
                (m.kind, m.out_trade_no)
            })
            .collect();
        assert_eq!(
            found,
            vec![
                (MismatchKind::MissingOnGateway, "R2".to_owned()),
                (MismatchKind::StateDiffers, "R3".to_owned()),
                (MismatchKind::Flagged, "R4".to_owned()),
            ]
        );
    }

    #[test]
    fn every_kind_of_disagreement_is_found_once() {
        let missing_there = paid("A00001", 100);
        let cheaper_there = paid("A00002", 200);
        let pending_here = Payment {
            state: PaymentState::Pending,
            transaction_id: None,
            ..paid("A00003", 300)
        };
        let flagged = Payment {
            state: PaymentState::Pending,
            flagged: Some("amount".into()),
            ..paid("A00004", 400)
        };
        let refunded_here = refund(&cheaper_there, "A00002R", 50);
        let failed_here = RefundState::Failed;
        let failed = Refund {
            state: failed_here,
            ..refund(&cheaper_there, "A00002R2", 20)
        };
        let ours = OurBooks {
            booked_payments: vec![missing_there.clone(), cheaper_there.clone()],
            booked_refunds: vec![refunded_here.clone()],
            named_payments: vec![pending_here.clone(), flagged.clone()],
            named_refunds: vec![failed.clone()],
            ..OurBooks::default()
        };
        let stranger = paid("Z99999", 999);
        let lines = [
            line(&cheaper_there, 199),
            StatementLine {
                transaction_id: "TPAID".into(),
                ..line(&pending_here, 300)
            },
            StatementLine {
                transaction_id: "TFLAG".into(),
                ..line(&flagged, 1)
            },
            line(&stranger, 999),
            refund_line(&cheaper_there, "A00002R2", 20),
            refund_line(&cheaper_there, "A00002X", 5),
        ];
        let found = reconcile(&ours, &lines);
        assert_eq!(
            kinds(&found),
            [
                (MismatchKind::MissingOnGateway, "A00001", None),
                (MismatchKind::MissingOnGateway, "A00002", Some("A00002R")),
                (MismatchKind::MissingOnOurSide, "A00002", Some("A00002X")),
                (MismatchKind::MissingOnOurSide, "Z99999", None),
                (MismatchKind::AmountDiffers, "A00002", None),
                (MismatchKind::StateDiffers, "A00002", Some("A00002R2")),
                (MismatchKind::StateDiffers, "A00003", None),
                (MismatchKind::Flagged, "A00004", None),
            ]
        );
        let differs = &found[4];
        assert_eq!(
            (differs.our_amount, differs.their_amount),
            (Some(Money::from_fen(200)), Some(Money::from_fen(199)))
        );
        assert_eq!(found[3].brand_id, None, "nobody here knows the stranger");
        assert_eq!(found[2].brand_id, Some(cheaper_there.brand_id));
    }

    #[test]
    fn a_flagged_payment_the_gateway_never_lists_is_still_shown() {
        let flagged = Payment {
            state: PaymentState::Pending,
            flagged: Some("amount".into()),
            ..paid("A00004", 400)
        };
        let ours = OurBooks {
            named_payments: vec![flagged],
            ..OurBooks::default()
        };
        assert_eq!(
            kinds(&reconcile(&ours, &[])),
            [(MismatchKind::Flagged, "A00004", None)]
        );
    }
}
