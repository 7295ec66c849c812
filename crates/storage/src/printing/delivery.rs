//! The print worker's side of the queue: lease due jobs (committing `sending` before a byte is
//! written), record each outcome only for the attempt that holds the job, take a printer down
//! (its jobs to the fallback, an alert on the store's printing stream) and up again.
//!
//! A job still `sending` when its lease runs out belonged to a worker that died mid-job: it is
//! due again, and marked `uncertain`, since that worker may have printed it without recording
//! so; from then on its paper says 重打. A print agent's attempt counts as sent only once the
//! agent confirmed it (`confirm_print_job`): one whose lease ran out unconfirmed cannot have
//! printed, and comes back as it was.

use super::{JOB_COLUMNS, JobRow, PRINTER_COLUMNS, PrintJob, Printer, PrinterRow};
use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::events::{announcement, append_event, store_channel};
use crate::tx::Tx;
use diancan_domain::printing::MAX_ATTEMPTS;
use diancan_domain::*;

/// A leased job with the printer it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub job: PrintJob,
    pub printer: Printer,
}

/// Why an attempt did not print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Stable code and message, kept as the job's `last_error`.
    pub error: String,
    /// Bytes may have reached the paper (connection lost mid-job, a bad status after them).
    pub uncertain: bool,
}

/// The store's printer alerts (`printer.down`, `printer.up`), which the board shows.
pub fn printing_stream(store: StoreId) -> String {
    format!("printing:{store}")
}

/// Whose jobs a claim takes: the server's worker prints to raw TCP and Feie printers; an agent
/// only to the `agent` printers it feeds, in its own store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimant {
    Server,
    Agent {
        agent: PrintAgentId,
        brand: BrandId,
        store: StoreId,
    },
}

fn claim_sql(tx: &Tx, claimant: Claimant) -> String {
    let lock = match tx {
        Tx::Sqlite(_) => "",
        Tx::Postgres(_) => " FOR UPDATE OF j SKIP LOCKED",
    };
    // The server's worker sends the bytes right after its claim; an agent only once it has
    // confirmed the job is on its disk (`confirm_print_job`), so an attempt whose lease ran out
    // unconfirmed (the agent never got the answer) cannot have printed and is not uncertain.
    let sent = match claimant {
        Claimant::Server => "$1",
        Claimant::Agent { .. } => "NULL",
    };
    let whose = match claimant {
        Claimant::Server => "p.connection IN ('tcp', 'feie')",
        Claimant::Agent { .. } => {
            "p.connection = 'agent' AND p.agent_id = $4 AND j.brand_id = $5 AND j.store_id = $6"
        }
    };
    format!(
        "UPDATE print_jobs SET attempts = attempts + 1, leased_until_ms = $2, sent_at_ms = {sent}, updated_at_ms = $1,
            uncertain = CASE WHEN state = 'sending' AND sent_at_ms IS NOT NULL THEN TRUE ELSE uncertain END, state = 'sending'
        WHERE id IN (SELECT j.id FROM print_jobs j JOIN printers p ON p.id = j.printer_id
            WHERE {whose} AND p.enabled AND p.down_since_ms IS NULL
              AND ((j.state = 'queued' AND j.next_attempt_ms <= $1) OR (j.state = 'sending' AND j.leased_until_ms <= $1))
            ORDER BY j.id LIMIT $3{lock})
        RETURNING {JOB_COLUMNS}"
    )
}

const MARK_PRINTED: &str = "UPDATE print_jobs SET state = 'printed', printed_at_ms = $3, leased_until_ms = NULL, last_error = NULL, updated_at_ms = $3
    WHERE id = $1 AND state = 'sending' AND attempts = $2";
const MARK_RETRY: &str = "UPDATE print_jobs SET state = CASE WHEN attempts >= $6 THEN 'failed' ELSE 'queued' END,
        next_attempt_ms = $3, last_error = $4, uncertain = (uncertain OR $5), leased_until_ms = NULL, updated_at_ms = $7
    WHERE id = $1 AND state = 'sending' AND attempts = $2";
const CONFIRM: &str = "UPDATE print_jobs SET leased_until_ms = $3, sent_at_ms = $4 WHERE id = $1 AND state = 'sending' AND attempts = $2";
const RENEW_LEASE: &str = "UPDATE print_jobs SET leased_until_ms = $3 WHERE id = $1 AND state = 'sending' AND attempts = $2";
/// A job the worker leased but never started (its printer went down first): as it was.
const RELEASE: &str = "UPDATE print_jobs SET state = 'queued', attempts = attempts - 1, leased_until_ms = NULL, updated_at_ms = $3
    WHERE id = $1 AND state = 'sending' AND attempts = $2";
const PRINTER_DOWN: &str = "UPDATE printers SET down_since_ms = $2, last_error = $3 WHERE id = $1 AND down_since_ms IS NULL";
const PRINTER_ERROR: &str = "UPDATE printers SET last_error = $2 WHERE id = $1";
const PRINTER_UP: &str = "UPDATE printers SET down_since_ms = NULL, last_error = NULL WHERE id = $1 AND down_since_ms IS NOT NULL";
/// Every job waiting for a down or disabled printer whose fallback works moves there, and so
/// does one its dead worker left `sending` (uncertain from then on).
const REROUTE: &str = "UPDATE print_jobs SET
        printer_id = (SELECT p.fallback_id FROM printers p WHERE p.id = print_jobs.printer_id),
        uncertain = CASE WHEN state = 'sending' AND sent_at_ms IS NOT NULL THEN TRUE ELSE uncertain END,
        state = 'queued', leased_until_ms = NULL, next_attempt_ms = $1, updated_at_ms = $1
    WHERE printer_id IN (SELECT p.id FROM printers p JOIN printers f ON f.id = p.fallback_id
            WHERE (p.down_since_ms IS NOT NULL OR NOT p.enabled) AND f.enabled AND f.down_since_ms IS NULL)
      AND (state = 'queued' OR (state = 'sending' AND leased_until_ms <= $1))";
const BUMP_STREAM: &str = "INSERT INTO printing_streams (store_id, version) VALUES ($1, 1)
    ON CONFLICT (store_id) DO UPDATE SET version = printing_streams.version + 1 RETURNING version";
const MOVED_COUNT: &str = "SELECT COUNT(*) FROM print_jobs WHERE printer_id = $1 AND state = 'queued' AND routed_printer_id <> printer_id";

/// Writes an alert on the store's printing stream and announces it to the board.
async fn alert(
    tx: &mut Tx,
    printer: &Printer,
    kind: &str,
    payload: serde_json::Value,
    now_ms: i64,
) -> Result<()> {
    let (version,): (i64,) = on_tx!(tx, |c| sqlx::query_as(BUMP_STREAM)
        .bind(printer.store_id.as_uuid())
        .fetch_one(&mut *c)
        .await)?;
    let stream = printing_stream(printer.store_id);
    append_event(tx, &stream, version, kind, &payload, now_ms).await?;
    let names = vec![stream.clone(), store_channel(printer.store_id)];
    crate::outbox::enqueue(tx, &[announcement(&stream, names)], now_ms).await
}

impl Db {
    /// Leases up to `limit` due jobs of working TCP and Feie printers for `lease_ms`, oldest
    /// first.
    pub async fn claim_print_jobs(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedJob>> {
        self.claim_jobs_for(Claimant::Server, now_ms, lease_ms, limit)
            .await
    }

    /// The same lease, for the due jobs of the working printers one agent feeds.
    pub async fn claim_agent_jobs(
        &self,
        claimant: Claimant,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedJob>> {
        self.claim_jobs_for(claimant, now_ms, lease_ms, limit).await
    }

    async fn claim_jobs_for(
        &self,
        claimant: Claimant,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedJob>> {
        let mut tx = self.begin().await?;
        let sql = claim_sql(&tx, claimant);
        let rows: Vec<JobRow> = on_tx!(&mut tx, |c| {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(now_ms)
                .bind(now_ms + lease_ms)
                .bind(limit);
            if let Claimant::Agent {
                agent,
                brand,
                store,
            } = claimant
            {
                query = query
                    .bind(agent.as_uuid())
                    .bind(brand.as_uuid())
                    .bind(store.as_uuid());
            }
            query.fetch_all(&mut *c).await
        })?;
        let mut claimed = Vec::with_capacity(rows.len());
        let mut printers: Vec<Printer> = Vec::new();
        for row in rows {
            let job = PrintJob::try_from(row)?;
            let printer = match printers.iter().find(|p| p.id == job.printer_id) {
                Some(p) => p.clone(),
                None => {
                    let p = printer_row(&mut tx, job.printer_id).await?;
                    printers.push(p.clone());
                    p
                }
            };
            claimed.push(ClaimedJob { job, printer });
        }
        tx.commit().await?;
        claimed.sort_by_key(|c| c.job.id);
        Ok(claimed)
    }

    /// Extends the lease of attempt `attempt` on job `id` to `until_ms`, right before its bytes
    /// go out. False when that attempt no longer holds the job (a lease that ran out while the
    /// job waited behind others was taken by another worker): it must not be sent.
    pub async fn renew_print_lease(&self, id: i64, attempt: i64, until_ms: i64) -> Result<bool> {
        let held = on_pool_write(self, RENEW_LEASE, id, attempt, until_ms).await?;
        Ok(held == 1)
    }

    /// An agent has attempt `attempt` of job `id` on its disk and prints it now: the lease runs
    /// to `until_ms` and, from here on, a lease that runs out makes the job uncertain. False
    /// when that attempt no longer holds the job: it must not be printed.
    pub async fn confirm_print_job(
        &self,
        id: i64,
        attempt: i64,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = on_tx!(&mut tx, |c| sqlx::query(CONFIRM)
            .bind(id)
            .bind(attempt)
            .bind(until_ms)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Records that the attempt `attempt` of job `id` printed. False when that attempt no
    /// longer holds the job (its lease ran out and another attempt took it).
    pub async fn print_job_printed(&self, id: i64, attempt: i64, now_ms: i64) -> Result<bool> {
        let done = on_pool_write(self, MARK_PRINTED, id, attempt, now_ms).await?;
        Ok(done == 1)
    }

    /// Records a failed attempt on a working printer: due again at `retry_at_ms`, or `failed`
    /// once it has had [`MAX_ATTEMPTS`] (at once when `give_up`: no attempt can print it).
    pub async fn print_job_failed(
        &self,
        id: i64,
        attempt: i64,
        failure: &Failure,
        retry_at_ms: i64,
        give_up: bool,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(MARK_RETRY)
            .bind(id)
            .bind(attempt)
            .bind(retry_at_ms)
            .bind(failure.error.chars().take(500).collect::<String>())
            .bind(failure.uncertain)
            .bind(if give_up { 0 } else { MAX_ATTEMPTS })
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await
    }

    /// The printer answered that it cannot print (or could not be reached): the failed attempt
    /// and the leased jobs not yet tried go back to the queue, every queued job of the printer
    /// moves to its fallback if that one works, and on the first such answer an alert
    /// `printer.down` is written for the board. Returns the fallback the jobs went to.
    pub async fn printer_went_down(
        &self,
        printer: &Printer,
        failed: Option<(i64, i64, &Failure)>,
        untried: &[(i64, i64)],
        error: &str,
        now_ms: i64,
    ) -> Result<Option<PrinterId>> {
        let error: String = error.chars().take(500).collect();
        let mut tx = self.begin().await?;
        let newly_down = on_tx!(&mut tx, |c| sqlx::query(PRINTER_DOWN)
            .bind(printer.id.as_uuid())
            .bind(now_ms)
            .bind(error.as_str())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?
            == 1;
        if !newly_down {
            on_tx!(&mut tx, |c| sqlx::query(PRINTER_ERROR)
                .bind(printer.id.as_uuid())
                .bind(error.as_str())
                .execute(&mut *c)
                .await
                .map(drop))?;
        }
        if let Some((id, attempt, failure)) = failed {
            // Waiting for a printer is no failure of the job: it does not count towards failing.
            on_tx!(&mut tx, |c| sqlx::query(MARK_RETRY)
                .bind(id)
                .bind(attempt)
                .bind(now_ms)
                .bind(failure.error.chars().take(500).collect::<String>())
                .bind(failure.uncertain)
                .bind(i64::MAX)
                .bind(now_ms)
                .execute(&mut *c)
                .await
                .map(drop))?;
        }
        for (id, attempt) in untried {
            on_tx!(&mut tx, |c| sqlx::query(RELEASE)
                .bind(id)
                .bind(attempt)
                .bind(now_ms)
                .execute(&mut *c)
                .await
                .map(drop))?;
        }
        on_tx!(&mut tx, |c| sqlx::query(REROUTE)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        let fallback = match printer.fallback_id {
            Some(f) => {
                let fallback = printer_row(&mut tx, f).await?;
                (fallback.enabled && fallback.down_since_ms.is_none()).then_some(f)
            }
            None => None,
        };
        if newly_down {
            let moved = match fallback {
                Some(f) => {
                    let (n,): (i64,) = on_tx!(&mut tx, |c| sqlx::query_as(MOVED_COUNT)
                        .bind(f.as_uuid())
                        .fetch_one(&mut *c)
                        .await)?;
                    n
                }
                None => 0,
            };
            let payload = serde_json::json!({
                "printer_id": printer.id,
                "name": printer.name,
                "error": error,
                "fallback_id": fallback,
                "jobs_on_fallback": moved,
            });
            alert(&mut tx, printer, "printer.down", payload, now_ms).await?;
        }
        tx.commit().await?;
        Ok(fallback)
    }

    /// The printer answered ready again: it takes jobs from now on, and the board is told.
    pub async fn printer_came_up(&self, printer: &Printer, now_ms: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let up = on_tx!(&mut tx, |c| sqlx::query(PRINTER_UP)
            .bind(printer.id.as_uuid())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?
            == 1;
        if up {
            let payload = serde_json::json!({ "printer_id": printer.id, "name": printer.name });
            alert(&mut tx, printer, "printer.up", payload, now_ms).await?;
        }
        tx.commit().await?;
        Ok(up)
    }

    /// Moves the jobs of down or disabled printers to working fallbacks (also those a dead
    /// worker left `sending`). Returns how many moved.
    pub async fn reroute_print_jobs(&self, now_ms: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let moved = on_tx!(&mut tx, |c| sqlx::query(REROUTE)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(moved)
    }

    /// Enabled TCP and Feie printers that are down, to be asked whether they are ready again.
    pub async fn down_printers(&self) -> Result<Vec<Printer>> {
        let sql = format!(
            "SELECT {PRINTER_COLUMNS} FROM printers WHERE down_since_ms IS NOT NULL AND enabled AND connection IN ('tcp', 'feie') ORDER BY id"
        );
        let rows: Vec<PrinterRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .fetch_all(p)
                .await)?;
        rows.into_iter()
            .map(|r| r.into_printer(Vec::new()))
            .collect()
    }

    /// The enabled printers `agent` feeds, down ones first: the agent asks the down ones
    /// whether they are ready again.
    pub async fn agent_printers(&self, agent: PrintAgentId) -> Result<Vec<Printer>> {
        let sql = format!(
            "SELECT {PRINTER_COLUMNS} FROM printers WHERE agent_id = $1 AND enabled AND connection = 'agent' ORDER BY id"
        );
        let rows: Vec<PrinterRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(agent.as_uuid())
                .fetch_all(p)
                .await)?;
        rows.into_iter()
            .map(|r| r.into_printer(Vec::new()))
            .collect()
    }

    /// One printer by id, whichever store (without its stations): who holds a job.
    pub async fn printer_by_id(&self, id: PrinterId) -> Result<Printer> {
        let mut tx = self.begin().await?;
        let sql = format!("SELECT {PRINTER_COLUMNS} FROM printers WHERE id = $1");
        let row: Option<PrinterRow> = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(id.as_uuid())
        .fetch_optional(&mut *c)
        .await)?;
        tx.commit().await?;
        row.ok_or(StorageError::NotFound)?.into_printer(Vec::new())
    }
}

async fn printer_row(tx: &mut Tx, id: PrinterId) -> Result<Printer> {
    let sql = format!("SELECT {PRINTER_COLUMNS} FROM printers WHERE id = $1");
    let row: PrinterRow = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id.as_uuid())
        .fetch_one(&mut *c)
        .await)?;
    row.into_printer(Vec::new())
}

async fn on_pool_write(
    db: &Db,
    sql: &'static str,
    id: i64,
    attempt: i64,
    now_ms: i64,
) -> Result<u64> {
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, |c| sqlx::query(sql)
        .bind(id)
        .bind(attempt)
        .bind(now_ms)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n)
}
