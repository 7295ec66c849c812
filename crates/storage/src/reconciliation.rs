//! 对账 in the database: runs claimed once per gateway account and date (the unique key decides
//! between instances), their mismatches replaced as a whole by each rerun, and the reads that
//! gather our side of a day.

use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::payments::{PAYMENT_COLUMNS, PaymentRow, payment_from};
use crate::refunds::{REFUND_COLUMNS, RefundRow, refund_from};
use crate::sql_batch::{Value, insert_rows};
use diancan_domain::payments::PaymentProvider;
use diancan_domain::reconciliation::*;
use diancan_domain::*;
use uuid::Uuid;

const RUN_COLUMNS: &str = "id, provider, merchant_id, bill_date, state, attempt, statement_lines, unreadable_lines, payments_checked, refunds_checked, mismatches, error, started_by, started_at_ms, finished_at_ms";
const CLAIM_NEW_RUN: &str = "INSERT INTO reconciliation_runs (id, provider, merchant_id, bill_date, state, attempt, started_by, started_at_ms)
    VALUES ($1, $2, $3, $4, 'running', 1, $5, $6)
    ON CONFLICT (provider, merchant_id, bill_date) DO NOTHING";
/// Claims an existing run again, unless another claim is at work on it (running and not yet
/// stale); `$6` says whether a finished run may be claimed too (a rerun asked for), else only a
/// failed one whose last try is older than `$7`.
const CLAIM_AGAIN: &str = "UPDATE reconciliation_runs
    SET state = 'running', attempt = attempt + 1, error = NULL, started_by = $4, started_at_ms = $5, finished_at_ms = NULL
    WHERE provider = $1 AND merchant_id = $2 AND bill_date = $3
      AND ((state = 'running' AND started_at_ms < $8)
        OR (state = 'failed' AND ($6 OR finished_at_ms < $7))
        OR (state = 'finished' AND $6))";
const FINISH_RUN: &str = "UPDATE reconciliation_runs
    SET state = 'finished', statement_lines = $3, unreadable_lines = $4, payments_checked = $5, refunds_checked = $6, mismatches = $7, finished_at_ms = $8
    WHERE id = $1 AND attempt = $2 AND state = 'running'";
const FAIL_RUN: &str =
    "UPDATE reconciliation_runs SET state = 'failed', error = $3, finished_at_ms = $4
    WHERE id = $1 AND attempt = $2 AND state = 'running'";
const DROP_OPEN_MISMATCHES: &str =
    "DELETE FROM reconciliation_mismatches WHERE run_id = $1 AND resolved_at_ms IS NULL";
const COUNT_MISMATCHES: &str = "SELECT COUNT(*) FROM reconciliation_mismatches WHERE run_id = $1";
const MISMATCH_COLUMNS: &str = "id, run_id, kind, out_trade_no, out_refund_no, brand_id, store_id, our_amount_fen, their_amount_fen, note, resolved_by, resolution_note, resolved_at_ms, created_at_ms";
/// A brand sees its own mismatches and the money nobody here knows about.
const MISMATCHES_OF_RUN: &str = "SELECT id, run_id, kind, out_trade_no, out_refund_no, brand_id, store_id, our_amount_fen, their_amount_fen, note, resolved_by, resolution_note, resolved_at_ms, created_at_ms
    FROM reconciliation_mismatches WHERE run_id = $1 AND (brand_id = $2 OR brand_id IS NULL)
    ORDER BY kind, out_trade_no, out_refund_no";
const RESOLVE_MISMATCH: &str = "UPDATE reconciliation_mismatches SET resolved_by = $3, resolution_note = $4, resolved_at_ms = $5
    WHERE id = $1 AND (brand_id = $2 OR brand_id IS NULL) AND resolved_at_ms IS NULL";

type RunRow = (
    Uuid,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    String,
    i64,
    Option<i64>,
);

fn run_from(row: RunRow) -> Result<ReconciliationRun> {
    let corrupt =
        |what: &str| StorageError::Corrupt(format!("reconciliation run {}: {what}", row.0));
    Ok(ReconciliationRun {
        id: ReconciliationRunId::from_uuid(row.0),
        provider: PaymentProvider::parse(&row.1).ok_or_else(|| corrupt("provider"))?,
        merchant_id: row.2.clone(),
        bill_date: row.3.parse().map_err(|_| corrupt("bill_date"))?,
        state: RunState::parse(&row.4).ok_or_else(|| corrupt("state"))?,
        attempt: row.5,
        counts: RunCounts {
            statement_lines: row.6,
            unreadable_lines: row.7,
            payments_checked: row.8,
            refunds_checked: row.9,
        },
        mismatches: row.10,
        error: row.11,
        started_by: row.12,
        started_at_ms: row.13,
        finished_at_ms: row.14,
    })
}

type MismatchRow = (
    Uuid,
    Uuid,
    String,
    String,
    String,
    Option<Uuid>,
    Option<Uuid>,
    Option<i64>,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
);

fn mismatch_from(row: MismatchRow) -> Result<RecordedMismatch> {
    let kind = MismatchKind::parse(&row.2)
        .ok_or_else(|| StorageError::Corrupt(format!("mismatch {}: kind {:?}", row.0, row.2)))?;
    Ok(RecordedMismatch {
        id: MismatchId::from_uuid(row.0),
        run_id: ReconciliationRunId::from_uuid(row.1),
        mismatch: Mismatch {
            kind,
            out_trade_no: row.3,
            out_refund_no: Some(row.4).filter(|n| !n.is_empty()),
            brand_id: row.5.map(BrandId::from_uuid),
            store_id: row.6.map(StoreId::from_uuid),
            our_amount: row.7.map(Money::from_fen),
            their_amount: row.8.map(Money::from_fen),
            note: row.9,
        },
        resolved_by: row.10,
        resolution_note: row.11,
        resolved_at_ms: row.12,
        created_at_ms: row.13,
    })
}

/// Who may claim a run, and when.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub provider: PaymentProvider,
    pub merchant_id: &'a str,
    pub bill_date: jiff::civil::Date,
    pub by: &'a str,
    pub now_ms: i64,
    /// A rerun asked for by staff: a finished or failed run is claimed again at once.
    pub rerun: bool,
    /// A failed run is tried again by the worker only after this long.
    pub retry_failed_after_ms: i64,
    /// A run left `running` this long by a dead instance may be claimed by another.
    pub stale_after_ms: i64,
}

/// What claiming found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// This caller holds the run now (its `attempt` fences the writes that follow).
    Mine(ReconciliationRun),
    /// Someone else holds it, or it is done and nobody asked for a rerun: as it is.
    Taken(ReconciliationRun),
}

/// Our side of a day, gathered for matching.
pub struct DayWindow<'a> {
    pub provider: PaymentProvider,
    pub from_ms: i64,
    pub to_ms: i64,
    /// Our numbers the statement names: looked up whatever day we booked them.
    pub out_trade_nos: &'a [String],
    pub out_refund_nos: &'a [String],
}

pub(crate) fn numbered(backend: crate::db::Backend, first: usize, count: usize) -> String {
    (0..count)
        .map(|i| match backend {
            crate::db::Backend::Sqlite => format!("?{}", first + i),
            crate::db::Backend::Postgres => format!("${}", first + i),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The refund columns named through the alias `r`, for a join with payments.
fn refund_columns_of_r() -> String {
    REFUND_COLUMNS
        .split(", ")
        .map(|column| format!("r.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Db {
    /// Claims the run of `claim`'s account and date: a new row, or the existing one when it
    /// may be run again. Two instances claiming together get one `Mine` between them.
    pub async fn claim_reconciliation(&self, claim: Claim<'_>) -> Result<Claimed> {
        let date = claim.bill_date.to_string();
        let mut tx = self.begin().await?;
        let inserted = on_tx!(&mut tx, |c| sqlx::query(CLAIM_NEW_RUN)
            .bind(ReconciliationRunId::new().as_uuid())
            .bind(claim.provider.as_str())
            .bind(claim.merchant_id)
            .bind(date.as_str())
            .bind(claim.by)
            .bind(claim.now_ms)
            .execute(&mut *c)
            .await
            .map(|done| done.rows_affected() == 1))?;
        let reclaimed = !inserted
            && on_tx!(&mut tx, |c| sqlx::query(CLAIM_AGAIN)
                .bind(claim.provider.as_str())
                .bind(claim.merchant_id)
                .bind(date.as_str())
                .bind(claim.by)
                .bind(claim.now_ms)
                .bind(claim.rerun)
                .bind(claim.now_ms - claim.retry_failed_after_ms)
                .bind(claim.now_ms - claim.stale_after_ms)
                .execute(&mut *c)
                .await
                .map(|done| done.rows_affected() == 1))?;
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM reconciliation_runs WHERE provider = $1 AND merchant_id = $2 AND bill_date = $3"
        );
        let row: RunRow = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(claim.provider.as_str())
        .bind(claim.merchant_id)
        .bind(date.as_str())
        .fetch_one(&mut *c)
        .await)?;
        tx.commit().await?;
        let run = run_from(row)?;
        Ok(if inserted || reclaimed {
            Claimed::Mine(run)
        } else {
            Claimed::Taken(run)
        })
    }

    /// Records what the run's claim found: its open mismatches are replaced by `found` (a
    /// resolved one found again stays resolved), in one transaction. Refused with `NotFound`
    /// when the claim is no longer this one's (another instance took the run over).
    pub async fn finish_reconciliation(
        &self,
        run: &ReconciliationRun,
        counts: RunCounts,
        found: &[Mismatch],
        now_ms: i64,
    ) -> Result<ReconciliationRun> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(DROP_OPEN_MISMATCHES)
            .bind(run.id.as_uuid())
            .execute(&mut *c)
            .await
            .map(drop))?;
        let rows: Vec<Vec<Value>> = found
            .iter()
            .map(|m| {
                vec![
                    Value::Id(MismatchId::new().as_uuid()),
                    Value::Id(run.id.as_uuid()),
                    Value::Text(m.kind.as_str().to_owned()),
                    Value::Text(m.out_trade_no.clone()),
                    Value::Text(m.out_refund_no.clone().unwrap_or_default()),
                    Value::MaybeId(m.brand_id.map(|b| b.as_uuid())),
                    Value::MaybeId(m.store_id.map(|s| s.as_uuid())),
                    Value::MaybeInt(m.our_amount.map(Money::fen)),
                    Value::MaybeInt(m.their_amount.map(Money::fen)),
                    Value::Text(m.note.clone()),
                    Value::Int(now_ms),
                ]
            })
            .collect();
        if !rows.is_empty() {
            insert_rows(
                &mut tx,
                "INSERT INTO reconciliation_mismatches (id, run_id, kind, out_trade_no, out_refund_no, brand_id, store_id, our_amount_fen, their_amount_fen, note, created_at_ms)",
                "ON CONFLICT (run_id, kind, out_trade_no, out_refund_no) DO NOTHING",
                rows,
            )
            .await?;
        }
        let total: i64 = on_tx!(&mut tx, |c| sqlx::query_scalar(COUNT_MISMATCHES)
            .bind(run.id.as_uuid())
            .fetch_one(&mut *c)
            .await)?;
        let finished = on_tx!(&mut tx, |c| sqlx::query(FINISH_RUN)
            .bind(run.id.as_uuid())
            .bind(run.attempt)
            .bind(counts.statement_lines)
            .bind(counts.unreadable_lines)
            .bind(counts.payments_checked)
            .bind(counts.refunds_checked)
            .bind(total)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|done| done.rows_affected() == 1))?;
        if !finished {
            tx.rollback().await?;
            return Err(StorageError::NotFound);
        }
        tx.commit().await?;
        Ok(ReconciliationRun {
            state: RunState::Finished,
            counts,
            mismatches: total,
            finished_at_ms: Some(now_ms),
            ..run.clone()
        })
    }

    /// The run could not fetch or read its statement; its mismatches are left as they were.
    pub async fn fail_reconciliation(
        &self,
        run: &ReconciliationRun,
        error: &str,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(FAIL_RUN)
            .bind(run.id.as_uuid())
            .bind(run.attempt)
            .bind(error)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await
    }

    pub async fn reconciliation_run(
        &self,
        id: ReconciliationRunId,
    ) -> Result<Option<ReconciliationRun>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM reconciliation_runs WHERE id = $1");
        let row: Option<RunRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id.as_uuid())
                .fetch_optional(p)
                .await)?;
        row.map(run_from).transpose()
    }

    /// The latest runs, newest date first.
    pub async fn reconciliation_runs(&self, limit: i64) -> Result<Vec<ReconciliationRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM reconciliation_runs ORDER BY bill_date DESC, provider LIMIT $1"
        );
        let rows: Vec<RunRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(limit)
                .fetch_all(p)
                .await)?;
        rows.into_iter().map(run_from).collect()
    }

    /// A run's mismatches that `brand` may see: its own, and money nobody here knows about.
    pub async fn mismatches_of_run(
        &self,
        run: ReconciliationRunId,
        brand: BrandId,
    ) -> Result<Vec<RecordedMismatch>> {
        let rows: Vec<MismatchRow> = on_pool!(self, |p| sqlx::query_as(MISMATCHES_OF_RUN)
            .bind(run.as_uuid())
            .bind(brand.as_uuid())
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(mismatch_from).collect()
    }

    /// Marks a mismatch resolved with staff's note. `None` when `brand` may not see it; an
    /// already resolved one keeps its first resolution and is returned as it is.
    pub async fn resolve_mismatch(
        &self,
        id: MismatchId,
        brand: BrandId,
        by: &str,
        note: &str,
        now_ms: i64,
    ) -> Result<Option<RecordedMismatch>> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(RESOLVE_MISMATCH)
            .bind(id.as_uuid())
            .bind(brand.as_uuid())
            .bind(by)
            .bind(note)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        let sql = format!(
            "SELECT {MISMATCH_COLUMNS} FROM reconciliation_mismatches WHERE id = $1 AND (brand_id = $2 OR brand_id IS NULL)"
        );
        let row: Option<MismatchRow> = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(id.as_uuid())
        .bind(brand.as_uuid())
        .fetch_optional(&mut *c)
        .await)?;
        tx.commit().await?;
        row.map(mismatch_from).transpose()
    }

    /// Our side of a day at one gateway: what we booked in the window, and whatever the
    /// statement's numbers name.
    pub async fn books_for_reconciliation(&self, window: &DayWindow<'_>) -> Result<OurBooks> {
        let provider = window.provider.as_str();
        let booked_sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE provider = $1 AND state = 'paid' AND paid_at_ms >= $2 AND paid_at_ms < $3
             UNION SELECT {PAYMENT_COLUMNS} FROM payments WHERE provider = $1 AND flagged IS NOT NULL AND updated_at_ms >= $2 AND updated_at_ms < $3"
        );
        let rows: Vec<PaymentRow> = on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            booked_sql.as_str()
        ))
        .bind(provider)
        .bind(window.from_ms)
        .bind(window.to_ms)
        .fetch_all(p)
        .await)?;
        let mut books = OurBooks::default();
        for payment in rows.into_iter().map(payment_from) {
            let payment = payment?;
            // A flagged payment is not money we booked: it is shown, not expected on the bill.
            if payment.flagged.is_some() {
                books.named_payments.push(payment);
            } else {
                books.booked_payments.push(payment);
            }
        }
        let refunds_sql = format!(
            "SELECT {} FROM refunds r JOIN payments p ON p.id = r.payment_id
             WHERE p.provider = $1 AND r.created_at_ms >= $2 AND r.created_at_ms < $3",
            refund_columns_of_r()
        );
        let rows: Vec<RefundRow> = on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            refunds_sql.as_str()
        ))
        .bind(provider)
        .bind(window.from_ms)
        .bind(window.to_ms)
        .fetch_all(p)
        .await)?;
        books.booked_refunds = rows.into_iter().map(refund_from).collect::<Result<_>>()?;
        // The refunds' payments, so a refund's mismatch names its out_trade_no.
        for chunk in window.out_trade_nos.chunks(400) {
            let sql = format!(
                "SELECT {PAYMENT_COLUMNS} FROM payments WHERE provider = {} AND out_trade_no IN ({})",
                numbered(self.backend(), 1, 1),
                numbered(self.backend(), 2, chunk.len())
            );
            let rows: Vec<PaymentRow> = on_pool!(self, |p| {
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(provider);
                for no in chunk {
                    query = query.bind(no.as_str());
                }
                query.fetch_all(p).await
            })?;
            for payment in rows.into_iter().map(payment_from) {
                books.named_payments.push(payment?);
            }
        }
        for chunk in window.out_refund_nos.chunks(400) {
            let sql = format!(
                "SELECT {REFUND_COLUMNS} FROM refunds WHERE out_refund_no IN ({})",
                numbered(self.backend(), 1, chunk.len())
            );
            let rows: Vec<RefundRow> = on_pool!(self, |p| {
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
                for no in chunk {
                    query = query.bind(no.as_str());
                }
                query.fetch_all(p).await
            })?;
            for refund in rows.into_iter().map(refund_from) {
                books.named_refunds.push(refund?);
            }
        }
        // The payments our refunds belong to, when the statement did not name them.
        let known: std::collections::HashSet<PaymentId> = books
            .booked_payments
            .iter()
            .chain(&books.named_payments)
            .map(|p| p.id)
            .collect();
        let missing: Vec<PaymentId> = books
            .booked_refunds
            .iter()
            .chain(&books.named_refunds)
            .map(|r| r.payment_id)
            .filter(|id| !known.contains(id))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for id in missing {
            let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1");
            let row: Option<PaymentRow> =
                on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(id.as_uuid())
                    .fetch_optional(p)
                    .await)?;
            if let Some(row) = row {
                books.named_payments.push(payment_from(row)?);
            }
        }
        // Members' recharges are gateway money of ours too.
        let (booked, named) = self.recharges_for_reconciliation(window).await?;
        books.booked_recharges = booked;
        books.named_recharges = named;
        Ok(books)
    }
}
