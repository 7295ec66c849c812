//! 对账: each gateway's statement of one China date, fetched through its gateway module,
//! matched against our payments and refunds by the domain's one rule, and stored with its
//! mismatches. The run row is claimed first, so the daily worker on every instance and a
//! manager's rerun never match the same day twice at once.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::ordering::StaffCaller;
use diancan_domain::payments::PaymentProvider;
use diancan_domain::reconciliation::*;
use diancan_domain::staff::Permission;
use diancan_domain::validation::{FieldErrors, Problem};
use diancan_domain::{MismatchId, ReconciliationRunId};
use diancan_integrations::payments::model::{Statement, StatementKind};
use diancan_storage::reconciliation::{Claim, Claimed, DayWindow};
use jiff::civil::Date;
use jiff::tz::Offset;

/// Who the daily worker is in a run's `started_by`.
pub const BY_WORKER: &str = "worker";
/// A run left `running` this long belonged to an instance that died: another may take it.
const STALE_AFTER_MS: i64 = 15 * 60_000;
/// A failed daily run (the statement was not ready, the gateway was down) is tried again
/// after this long.
const RETRY_FAILED_AFTER_MS: i64 = 60 * 60_000;
/// WeChat Pay and Alipay publish a day's statement in the morning of the next (China time);
/// the daily run waits until then.
const STATEMENTS_READY_AT_HOUR: i8 = 10;
/// How many runs the console lists.
const RUNS_LISTED: i64 = 90;

/// Both gateways date their statements in China time, whatever the store's time zone.
const CHINA: Offset = Offset::constant(8);

/// Now, as a China date and hour.
fn china_now(ctx: &Context) -> jiff::civil::DateTime {
    CHINA.to_datetime(ctx.clock.now())
}

/// The China day `date` as epoch milliseconds, start inclusive, end exclusive.
fn day_bounds(date: Date) -> Result<(i64, i64)> {
    let start = |d: Date| {
        CHINA
            .to_timestamp(d.at(0, 0, 0, 0))
            .map(|t| t.as_millisecond())
            .map_err(|_| invalid_date())
    };
    let next = date.tomorrow().map_err(|_| invalid_date())?;
    Ok((start(date)?, start(next)?))
}

fn invalid_date() -> Error {
    let mut errors = FieldErrors::default();
    errors.add("date", Problem::InvalidTime);
    Error::Invalid(errors)
}

/// What starting a run did.
#[derive(Debug, Clone)]
pub enum Started {
    /// Matched now (finished), or tried and `failed` (its `error` says why).
    Ran(ReconciliationRun),
    /// Another instance or person is matching this day right now.
    AlreadyRunning(ReconciliationRun),
    /// Done before, and no rerun was asked for.
    AlreadyDone(ReconciliationRun),
}

/// Matches `provider`'s statement of `date`. `rerun` claims a finished day again (a manager
/// asked); without it only a new or failed-long-ago day is run (the worker).
pub async fn reconcile(
    ctx: &Context,
    provider: PaymentProvider,
    date: Date,
    by: &str,
    rerun: bool,
) -> Result<Started> {
    let configured = ctx
        .payments
        .get(provider)
        .ok_or(Error::PaymentUnavailable(provider))?;
    let claim = Claim {
        provider,
        merchant_id: &configured.account.merchant_id,
        bill_date: date,
        by,
        now_ms: ctx.clock.now_ms(),
        rerun,
        retry_failed_after_ms: RETRY_FAILED_AFTER_MS,
        stale_after_ms: STALE_AFTER_MS,
    };
    let run = match ctx.db.claim_reconciliation(claim).await? {
        Claimed::Mine(run) => run,
        Claimed::Taken(run) if run.state == RunState::Running => {
            return Ok(Started::AlreadyRunning(run));
        }
        Claimed::Taken(run) => return Ok(Started::AlreadyDone(run)),
    };
    let statement = match configured.gateway.statement(date).await {
        Ok(statement) => statement,
        Err(error) => {
            tracing::warn!(provider = provider.as_str(), %date, code = error.code(), %error,
                "reconciliation: statement not fetched");
            let reason = format!("{}: {error}", error.code());
            ctx.db
                .fail_reconciliation(&run, &reason, ctx.clock.now_ms())
                .await?;
            return Ok(Started::Ran(ReconciliationRun {
                state: RunState::Failed,
                error: Some(reason),
                ..run
            }));
        }
    };
    let (from_ms, to_ms) = day_bounds(date)?;
    let (lines, mut found) = lines_of(&statement);
    let out_trade_nos: Vec<String> = lines.iter().map(|l| l.out_trade_no.clone()).collect();
    let out_refund_nos: Vec<String> = lines
        .iter()
        .filter_map(|l| l.out_refund_no.clone())
        .collect();
    let books = ctx
        .db
        .books_for_reconciliation(&DayWindow {
            provider,
            from_ms,
            to_ms,
            out_trade_nos: &out_trade_nos,
            out_refund_nos: &out_refund_nos,
        })
        .await?;
    found.extend(diancan_domain::reconciliation::reconcile(&books, &lines));
    let counts = RunCounts {
        statement_lines: (statement.rows.len() + statement.problems.len()) as i64,
        unreadable_lines: statement.problems.len() as i64,
        payments_checked: books.booked_payments.len() as i64,
        refunds_checked: books.booked_refunds.len() as i64,
    };
    match ctx
        .db
        .finish_reconciliation(&run, counts, &found, ctx.clock.now_ms())
        .await
    {
        Ok(run) => {
            tracing::info!(provider = provider.as_str(), %date, mismatches = run.mismatches,
                "reconciliation finished");
            Ok(Started::Ran(run))
        }
        // Taken over while we matched (we were slow past the stale time): theirs stands.
        Err(diancan_storage::StorageError::NotFound) => {
            let now = ctx
                .db
                .reconciliation_run(run.id)
                .await?
                .ok_or(Error::NotFound)?;
            Ok(Started::AlreadyRunning(now))
        }
        Err(other) => Err(other.into()),
    }
}

/// The statement's lines in the domain's words, and a mismatch for each line it could not read.
fn lines_of(statement: &Statement) -> (Vec<StatementLine>, Vec<Mismatch>) {
    let lines = statement
        .rows
        .iter()
        .map(|row| StatementLine {
            kind: match row.kind {
                StatementKind::Payment => LineKind::Payment,
                StatementKind::Refund => LineKind::Refund,
            },
            out_trade_no: row.out_trade_no.clone(),
            out_refund_no: row.out_refund_no.clone(),
            transaction_id: row.transaction_id.clone(),
            amount: row.amount,
        })
        .collect();
    let unreadable = statement
        .problems
        .iter()
        .map(|problem| Mismatch {
            kind: MismatchKind::UnreadableLine,
            out_trade_no: format!("line {}", problem.line),
            out_refund_no: None,
            brand_id: None,
            store_id: None,
            our_amount: None,
            their_amount: None,
            note: format!(
                "账单第 {} 行无法读取 / unreadable: {}",
                problem.line, problem.reason
            ),
        })
        .collect();
    (lines, unreadable)
}

/// The daily run: yesterday (China time) at every configured gateway, once the statements are
/// out. Every instance calls this; the run row lets one of them do each.
pub async fn reconcile_yesterday(ctx: &Context) -> Result<()> {
    let now = china_now(ctx);
    if now.hour() < STATEMENTS_READY_AT_HOUR {
        return Ok(());
    }
    let yesterday = now.date().yesterday().map_err(|_| invalid_date())?;
    for provider in ctx.payments.offered() {
        if let Started::Ran(run) = reconcile(ctx, provider, yesterday, BY_WORKER, false).await?
            && run.state == RunState::Failed
        {
            tracing::warn!(provider = provider.as_str(), %yesterday,
                "daily reconciliation failed; retried later");
        }
    }
    Ok(())
}

fn require(staff: &StaffCaller) -> Result<()> {
    let permission = Permission::ReconcilePayments;
    let whole_brand = matches!(staff.access, diancan_domain::staff::StoreAccess::AllStores);
    if staff.role.can(permission) && whole_brand {
        Ok(())
    } else {
        Err(Error::Forbidden(permission))
    }
}

/// A manager starts (or reruns) a day. Only a past China day has a statement.
pub async fn start_reconciliation(
    ctx: &Context,
    staff: &StaffCaller,
    provider: PaymentProvider,
    date: Date,
    by: &str,
) -> Result<Started> {
    require(staff)?;
    let today = china_now(ctx).date();
    if date >= today {
        let mut errors = FieldErrors::default();
        // Only a day that has ended has a statement.
        errors.add("date", Problem::InvalidTime);
        return Err(Error::Invalid(errors));
    }
    reconcile(ctx, provider, date, by, true).await
}

pub async fn runs(ctx: &Context, staff: &StaffCaller) -> Result<Vec<ReconciliationRun>> {
    require(staff)?;
    Ok(ctx.db.reconciliation_runs(RUNS_LISTED).await?)
}

/// A run and the mismatches the caller's brand may see.
pub async fn run_mismatches(
    ctx: &Context,
    staff: &StaffCaller,
    run: ReconciliationRunId,
) -> Result<(ReconciliationRun, Vec<RecordedMismatch>)> {
    require(staff)?;
    let found = ctx
        .db
        .reconciliation_run(run)
        .await?
        .ok_or(Error::NotFound)?;
    let mismatches = ctx.db.mismatches_of_run(run, staff.brand_id).await?;
    Ok((found, mismatches))
}

/// Marks a mismatch resolved with a note (1–200 characters) saying what was done.
pub async fn resolve_mismatch(
    ctx: &Context,
    staff: &StaffCaller,
    mismatch: MismatchId,
    by: &str,
    note: &str,
) -> Result<RecordedMismatch> {
    require(staff)?;
    let note = note.trim();
    let length = note.chars().count();
    if length == 0 || length > MAX_RESOLUTION_NOTE_CHARS {
        let mut errors = FieldErrors::default();
        let problem = if length == 0 {
            Problem::Required
        } else {
            Problem::TooLong {
                max: MAX_RESOLUTION_NOTE_CHARS,
            }
        };
        errors.add("note", problem);
        return Err(Error::Invalid(errors));
    }
    ctx.db
        .resolve_mismatch(mismatch, staff.brand_id, by, note, ctx.clock.now_ms())
        .await?
        .ok_or(Error::NotFound)
}

/// The mismatches as a CSV for Excel: UTF-8 with a byte-order mark (without it Excel reads
/// the Chinese as GBK), every field quoted, amounts in yuan as the gateways print them.
pub fn mismatches_csv(run: &ReconciliationRun, mismatches: &[RecordedMismatch]) -> Vec<u8> {
    let mut out = String::from('\u{feff}');
    let header = [
        "渠道 provider",
        "账单日期 date",
        "类型 kind",
        "说明 kind_zh",
        "商户订单号 out_trade_no",
        "退款单号 out_refund_no",
        "本系统金额 our_amount",
        "渠道金额 their_amount",
        "备注 note",
        "处理人 resolved_by",
        "处理说明 resolution",
    ];
    push_row(&mut out, header.iter().map(|h| h.to_string()));
    let yuan = |m: Option<diancan_domain::money::Money>| {
        m.map(diancan_integrations::payments::yuan::format)
            .unwrap_or_default()
    };
    for recorded in mismatches {
        let m = &recorded.mismatch;
        push_row(
            &mut out,
            [
                run.provider.as_str().to_owned(),
                run.bill_date.to_string(),
                m.kind.as_str().to_owned(),
                m.kind.label_zh().to_owned(),
                m.out_trade_no.clone(),
                m.out_refund_no.clone().unwrap_or_default(),
                yuan(m.our_amount),
                yuan(m.their_amount),
                m.note.clone(),
                recorded.resolved_by.clone().unwrap_or_default(),
                recorded.resolution_note.clone().unwrap_or_default(),
            ]
            .into_iter(),
        );
    }
    out.into_bytes()
}

fn push_row(out: &mut String, fields: impl Iterator<Item = String>) {
    let quoted: Vec<String> = fields
        .map(|field| {
            // A leading = + - @ makes Excel run the cell as a formula: written as text instead.
            let field = if field.starts_with(['=', '+', '-', '@']) {
                format!("'{field}")
            } else {
                field
            };
            format!("\"{}\"", field.replace('"', "\"\""))
        })
        .collect();
    out.push_str(&quoted.join(","));
    out.push_str("\r\n");
}
