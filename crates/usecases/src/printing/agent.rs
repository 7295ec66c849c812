//! Print agents: the console creates one (its device token shown once, only its SHA-256 kept),
//! lists and revokes them; an agent claims the jobs of the printers it feeds (a long poll the
//! print bell wakes), confirms each is on its disk before printing, and reports results and its
//! printers' status. Every report goes through the worker's own transitions
//! ([`super::record_outcome`]): printed only for the attempt that holds the job, a lease that ran
//! out while `sent` comes back `uncertain` and its next copy says 重打.

use super::{Outcome, PRINT_BELL, Recorded, record_outcome, render};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::kitchen::kitchen_store;
use crate::ordering::StaffCaller;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diancan_domain::printing::DocumentKind;
use diancan_domain::staff::Permission;
use diancan_domain::text::Name;
use diancan_domain::*;
use diancan_storage::printing::{Claimant, ClaimedJob, Failure, PrintAgent, Printer};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// How long an agent's attempt holds its job: time to spool, confirm and print, with room for
/// a slow shop network. An agent that dies gives the job up after this.
pub const AGENT_LEASE_MS: i64 = 60_000;
/// How long a claimed job waits for the agent's confirmation. A claim whose answer never
/// reached the agent (it died, or the connection dropped mid-answer) gives its jobs back after
/// this, not uncertain: an agent prints only what it confirmed.
pub const HANDOVER_LEASE_MS: i64 = 10_000;
/// The longest a claim waits for work before answering with none.
pub const MAX_WAIT: Duration = Duration::from_secs(25);
/// Jobs handed out per claim.
const BATCH: i64 = 16;

/// What the device token hashes to, as stored.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new agent and its device token, which is never shown again.
pub struct NewAgent {
    pub agent: PrintAgent,
    pub token: String,
}

pub async fn agents(ctx: &Context, staff: &StaffCaller, store: StoreId) -> Result<Vec<PrintAgent>> {
    kitchen_store(ctx, staff, store, Permission::ViewConsole).await?;
    Ok(ctx.db.print_agents(staff.brand_id, store).await?)
}

/// Adds an agent; whoever may manage printers may.
pub async fn create_agent(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    name: &Name,
) -> Result<NewAgent> {
    kitchen_store(ctx, staff, store, Permission::ManageStore).await?;
    let token = format!("pa_{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
    let agent = ctx
        .db
        .create_print_agent(
            staff.brand_id,
            store,
            name,
            &token_hash(&token),
            ctx.clock.now_ms(),
        )
        .await?;
    Ok(NewAgent { agent, token })
}

/// Revokes an agent: its next request is refused, so it stops; the jobs it held come back when
/// their leases run out (marked uncertain: it may have printed them).
pub async fn revoke_agent(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    agent: PrintAgentId,
) -> Result<PrintAgent> {
    kitchen_store(ctx, staff, store, Permission::ManageStore).await?;
    Ok(ctx
        .db
        .revoke_print_agent(staff.brand_id, store, agent, ctx.clock.now_ms())
        .await?)
}

/// The live agent a device token belongs to. `NotFound` for an unknown or revoked one.
pub async fn agent_by_token(ctx: &Context, token: &str) -> Result<PrintAgent> {
    Ok(ctx
        .db
        .print_agent_by_token(&token_hash(token), ctx.clock.now_ms())
        .await?)
}

/// One job handed to an agent, its paper already laid out for its printer.
#[derive(Debug, Clone)]
pub struct AgentJob {
    pub id: i64,
    /// The attempt the agent holds; every later call about the job names it.
    pub attempt: i64,
    pub printer_id: PrinterId,
    /// The printer's `host:port` on the shop's LAN.
    pub address: String,
    pub document: DocumentKind,
    pub says_reprint: bool,
    pub bytes: Vec<u8>,
}

/// What a claim answers: jobs to print, and the agent's printers that are down (to be asked
/// whether they are ready again).
#[derive(Debug, Clone, Default)]
pub struct AgentWork {
    pub jobs: Vec<AgentJob>,
    pub down_printers: Vec<Printer>,
}

async fn claim_once(ctx: &Context, agent: &PrintAgent) -> Result<Vec<AgentJob>> {
    let claimant = Claimant::Agent {
        agent: agent.id,
        brand: agent.brand_id,
        store: agent.store_id,
    };
    let claimed = ctx
        .db
        .claim_agent_jobs(claimant, ctx.clock.now_ms(), HANDOVER_LEASE_MS, BATCH)
        .await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let store = ctx.db.store(agent.store_id).await?;
    let mut jobs = Vec::with_capacity(claimed.len());
    for claimed in claimed {
        match render(&claimed.job, &claimed.printer, &store) {
            Ok(bytes) => jobs.push(AgentJob {
                id: claimed.job.id,
                attempt: claimed.job.attempts,
                printer_id: claimed.printer.id,
                address: claimed.printer.address.clone(),
                document: claimed.job.document,
                says_reprint: claimed.job.says_reprint(),
                bytes,
            }),
            Err(error) => {
                let outcome = Outcome::GiveUp(format!("{}: {error}", error.code()));
                record_outcome(ctx, &claimed, outcome, &[]).await?;
            }
        }
    }
    Ok(jobs)
}

/// Leases the due jobs of the agent's working printers; with none, waits until jobs are queued
/// (the print bell) or `wait` (at most [`MAX_WAIT`]) has passed.
pub async fn claim(ctx: &Context, agent: &PrintAgent, wait: Duration) -> Result<AgentWork> {
    let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
    let jobs = loop {
        let rung = PRINT_BELL.notified();
        tokio::pin!(rung);
        rung.as_mut().enable();
        let jobs = claim_once(ctx, agent).await?;
        if !jobs.is_empty() || tokio::time::Instant::now() >= deadline {
            break jobs;
        }
        // Woken early or not, the next round claims again (and the last one after the deadline).
        let _ = tokio::time::timeout_at(deadline, rung).await;
    };
    let down_printers = ctx
        .db
        .agent_printers(agent.id)
        .await?
        .into_iter()
        .filter(|p| p.down_since_ms.is_some())
        .collect();
    Ok(AgentWork {
        jobs,
        down_printers,
    })
}

/// The job as it is and its printer, when it is of the agent's store; `None` when its printer
/// is no longer one the agent feeds (it moved to a fallback).
async fn agents_job(
    ctx: &Context,
    agent: &PrintAgent,
    job: i64,
    attempt: i64,
) -> Result<Option<ClaimedJob>> {
    let mut found = ctx.db.print_job(job).await?;
    if found.brand_id != agent.brand_id || found.store_id != agent.store_id {
        return Err(Error::NotFound);
    }
    let printer = ctx.db.printer_by_id(found.printer_id).await?;
    if printer.agent_id != Some(agent.id) {
        return Ok(None);
    }
    // The transitions check the attempt against the row; this is the one the agent holds.
    found.attempts = attempt;
    Ok(Some(ClaimedJob {
        job: found,
        printer,
    }))
}

/// The agent has the job on its disk and is about to print it: its lease is renewed, and from
/// now on a lease that runs out makes the job uncertain (the agent may have printed it). Refused
/// with [`Error::PrintJobNotHeld`] when that attempt no longer holds the job (its lease ran out
/// and it was handed out again, or it moved to a fallback): it must not be printed.
pub async fn received(ctx: &Context, agent: &PrintAgent, job: i64, attempt: i64) -> Result<()> {
    let Some(claimed) = agents_job(ctx, agent, job, attempt).await? else {
        return Err(Error::PrintJobNotHeld);
    };
    let now = ctx.clock.now_ms();
    if ctx
        .db
        .confirm_print_job(claimed.job.id, attempt, now + AGENT_LEASE_MS, now)
        .await?
    {
        Ok(())
    } else {
        Err(Error::PrintJobNotHeld)
    }
}

/// What an agent's attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentReport {
    Printed,
    Failed {
        /// Stable code and message, kept as the job's `last_error`.
        error: String,
        /// Bytes may have reached the paper: the next copy says 重打.
        uncertain: bool,
        /// The printer cannot print at all: its jobs go to the fallback.
        printer_down: bool,
    },
}

/// Records an agent's result. False when the attempt no longer held the job (nothing changed;
/// a result sent again after a restart is such a one).
pub async fn report(
    ctx: &Context,
    agent: &PrintAgent,
    job: i64,
    attempt: i64,
    report: AgentReport,
) -> Result<bool> {
    let Some(claimed) = agents_job(ctx, agent, job, attempt).await? else {
        return Ok(false);
    };
    let current = ctx.db.print_job(job).await?;
    let held = current.state == diancan_domain::printing::PrintJobState::Sending
        && current.attempts == attempt;
    if !held {
        return Ok(false);
    }
    let outcome = match report {
        AgentReport::Printed => Outcome::Printed,
        AgentReport::Failed {
            error,
            uncertain,
            printer_down,
        } => Outcome::Failed {
            failure: Failure { error, uncertain },
            printer_down,
        },
    };
    let recorded = record_outcome(ctx, &claimed, outcome, &[]).await?;
    if recorded == Recorded::PrinterDown {
        tracing::info!(agent = %agent.name, printer = %claimed.printer.name, "agent's printer down");
    }
    Ok(true)
}

/// The agent asked one of its printers how it is: down moves its jobs to the fallback and
/// alerts the board; up takes jobs again.
pub async fn printer_status(
    ctx: &Context,
    agent: &PrintAgent,
    printer: PrinterId,
    up: bool,
    error: &str,
) -> Result<()> {
    let printer = ctx.db.printer_by_id(printer).await?;
    if printer.agent_id != Some(agent.id) || printer.store_id != agent.store_id {
        return Err(Error::NotFound);
    }
    let now = ctx.clock.now_ms();
    let error = if error.is_empty() {
        "PRINTER_NOT_READY: 打印助手报告打印机不可用 / the print agent reports the printer cannot print"
    } else {
        error
    };
    if up {
        ctx.db.printer_came_up(&printer, now).await?;
    } else {
        ctx.db
            .printer_went_down(&printer, None, &[], error, now)
            .await?;
    }
    super::ring();
    Ok(())
}
