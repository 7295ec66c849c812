//! `diancan print-agent`: runs in the shop, connects out to the server with its device token,
//! claims the jobs of the printers it feeds, and prints them on the LAN over raw TCP 9100
//! (with DLE EOT status). Each job is on disk (fsynced) before the server hears it arrived,
//! and only printed once the server confirms this attempt still holds it; after a crash the
//! spool says what to do: print what had not started, report what had a result, and report a
//! job caught mid-print as uncertain so its next copy says 重打. Network failures back off.

pub mod spool;

use super::tcp::{self, PrinterStatus, Timeouts};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use spool::{JobResult, Spool, SpooledJob, Stage};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where a test stops the agent dead, to kill it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HangPoint {
    /// The job is spooled and confirmed, nothing printed.
    AfterSpool,
    /// The job printed, its result spooled, not yet reported.
    AfterPrint,
}

#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The server's base URL, `https://diancan.example.com`.
    pub server: String,
    pub token: String,
    pub spool: PathBuf,
    pub timeouts: Timeouts,
    /// How long each claim waits for jobs on the server (at most 25 s).
    pub wait: Duration,
    /// How often a down printer is asked whether it is ready again.
    pub probe_every: Duration,
    /// Tests only: the agent tells this channel the job id and then hangs at that point.
    pub hang: Option<(HangPoint, tokio::sync::mpsc::UnboundedSender<i64>)>,
}

impl AgentConfig {
    pub fn new(server: &str, token: &str, spool: PathBuf) -> AgentConfig {
        AgentConfig {
            server: server.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            spool,
            timeouts: Timeouts::default(),
            wait: Duration::from_secs(25),
            probe_every: Duration::from_secs(2),
            hang: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(
        "AGENT_TOKEN_INVALID: 设备令牌无效或已撤销，请在管理后台重新添加打印助手 / the device token is unknown or was revoked; add the agent again in the console"
    )]
    Revoked,
    #[error("AGENT_SPOOL_FAILED: 无法写入打印缓存目录 / cannot write the spool directory: {0}")]
    Spool(#[from] std::io::Error),
}

/// A failure talking to the server that a later try may not have.
#[derive(Debug)]
enum CallError {
    Revoked,
    /// 409 or 404: the job is no longer this attempt's.
    NotHeld,
    Network(String),
}

#[derive(Deserialize)]
struct WorkBody {
    jobs: Vec<JobBody>,
    down_printers: Vec<DownPrinter>,
}

#[derive(Deserialize)]
struct JobBody {
    id: i64,
    attempt: i64,
    printer_id: String,
    address: String,
    bytes_base64: String,
}

#[derive(Deserialize)]
struct DownPrinter {
    printer_id: String,
    address: String,
}

/// The agent's printers that are down: printer id → address.
type DownSet = Arc<Mutex<BTreeMap<String, String>>>;

struct Client {
    http: reqwest::Client,
    config: AgentConfig,
}

impl Client {
    async fn post(
        &self,
        path: &str,
        body: serde_json::Value,
        timeout: Duration,
    ) -> Result<reqwest::Response, CallError> {
        let response = self
            .http
            .post(format!("{}/api/v1/agent/{path}", self.config.server))
            .bearer_auth(&self.config.token)
            .json(&body)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| CallError::Network(e.to_string()))?;
        match response.status().as_u16() {
            200..=299 => Ok(response),
            401 => Err(CallError::Revoked),
            404 | 409 => Err(CallError::NotHeld),
            status => Err(CallError::Network(format!("server answered {status}"))),
        }
    }

    async fn claim(&self) -> Result<WorkBody, CallError> {
        let wait_ms = self.config.wait.as_millis() as u64;
        let response = self
            .post(
                "claim",
                serde_json::json!({ "wait_ms": wait_ms }),
                self.config.wait + Duration::from_secs(15),
            )
            .await?;
        response
            .json()
            .await
            .map_err(|e| CallError::Network(e.to_string()))
    }

    async fn received(&self, job: &SpooledJob) -> Result<(), CallError> {
        let path = format!("jobs/{}/received", job.id);
        self.post(
            &path,
            serde_json::json!({ "attempt": job.attempt }),
            Duration::from_secs(15),
        )
        .await
        .map(drop)
    }

    async fn report(&self, job: &SpooledJob, result: &JobResult) -> Result<(), CallError> {
        let path = format!("jobs/{}/result", job.id);
        let body = serde_json::json!({
            "attempt": job.attempt,
            "result": if result.printed { "printed" } else { "failed" },
            "error": result.error,
            "uncertain": result.uncertain,
            "printer_down": result.printer_down,
        });
        match self.post(&path, body, Duration::from_secs(15)).await {
            // Not held any more: the server settled it otherwise; nothing left to tell.
            Ok(_) | Err(CallError::NotHeld) => Ok(()),
            Err(other) => Err(other),
        }
    }

    async fn printer_up(&self, printer_id: &str) -> Result<(), CallError> {
        let path = format!("printers/{printer_id}/status");
        self.post(
            &path,
            serde_json::json!({ "status": "up" }),
            Duration::from_secs(15),
        )
        .await
        .map(drop)
    }
}

/// Runs until the token is refused (or the spool cannot be written): claims, prints, reports,
/// and asks down printers whether they are back.
pub async fn run(config: AgentConfig) -> Result<std::convert::Infallible, AgentError> {
    let spool = Spool::open(&config.spool)?;
    let client = Arc::new(Client {
        http: reqwest::Client::new(),
        config,
    });
    let down: DownSet = Arc::default();
    let prober = tokio::spawn(probe_down(client.clone(), down.clone()));
    let result = work(&client, &spool, &down).await;
    prober.abort();
    result
}

async fn work(
    client: &Client,
    spool: &Spool,
    down: &DownSet,
) -> Result<std::convert::Infallible, AgentError> {
    let mut backoff = Backoff::default();
    loop {
        // What a crash or a lost connection left in the spool comes first, in job order.
        let leftover = spool.jobs()?;
        let mut failed = None;
        for job in leftover {
            if let Err(error) = carry_on(client, spool, down, job).await {
                failed = Some(error);
                break;
            }
        }
        if failed.is_none() {
            match client.claim().await {
                Ok(work) => {
                    remember_down(down, work.down_printers);
                    // Every job is on disk before the server hears of any.
                    let jobs: Vec<SpooledJob> = work
                        .jobs
                        .into_iter()
                        .map(|j| SpooledJob {
                            id: j.id,
                            attempt: j.attempt,
                            printer_id: j.printer_id,
                            address: j.address,
                            bytes_base64: j.bytes_base64,
                            stage: Stage::Received,
                        })
                        .collect();
                    for job in &jobs {
                        spool.write(job)?;
                    }
                    for job in jobs {
                        if let Err(error) = carry_on(client, spool, down, job).await {
                            failed = Some(error);
                            break;
                        }
                    }
                }
                Err(error) => failed = Some(error),
            }
        }
        match failed {
            None => backoff.reset(),
            Some(CallError::Revoked) => return Err(AgentError::Revoked),
            Some(CallError::NotHeld) => {}
            Some(CallError::Network(error)) => {
                let delay = backoff.next();
                tracing::warn!(%error, ?delay, "cannot reach the server; trying again");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Takes one spooled job from wherever it stopped to reported and gone.
async fn carry_on(
    client: &Client,
    spool: &Spool,
    down: &DownSet,
    mut job: SpooledJob,
) -> Result<(), CallError> {
    loop {
        match job.stage.clone() {
            Stage::Received => {
                match client.received(&job).await {
                    Ok(()) => {}
                    Err(CallError::NotHeld) => {
                        tracing::info!(job = job.id, "no longer ours; not printing it");
                        spool.remove(job.id, job.attempt).map_err(spool_error)?;
                        return Ok(());
                    }
                    Err(other) => return Err(other),
                }
                hang(client, HangPoint::AfterSpool, job.id).await;
                let result = if down.lock().unwrap().contains_key(&job.printer_id) {
                    // Its printer went down with an earlier job: straight to the fallback.
                    JobResult {
                        printed: false,
                        error: Some("PRINTER_DOWN: 打印机不可用 / the printer is down".into()),
                        uncertain: false,
                        printer_down: true,
                    }
                } else {
                    job.stage = Stage::Printing;
                    spool.write(&job).map_err(spool_error)?;
                    print(client, down, &job).await
                };
                job.stage = Stage::Done { result };
                spool.write(&job).map_err(spool_error)?;
                if matches!(&job.stage, Stage::Done { result } if result.printed) {
                    hang(client, HangPoint::AfterPrint, job.id).await;
                }
            }
            Stage::Printing => {
                // Killed while the bytes were going out: the paper may exist.
                job.stage = Stage::Done {
                    result: JobResult {
                        printed: false,
                        error: Some(
                            "AGENT_RESTARTED_MID_JOB: 打印助手打印中重启 / the agent restarted while printing".into(),
                        ),
                        uncertain: true,
                        printer_down: false,
                    },
                };
                spool.write(&job).map_err(spool_error)?;
            }
            Stage::Done { result } => {
                client.report(&job, &result).await?;
                spool.remove(job.id, job.attempt).map_err(spool_error)?;
                return Ok(());
            }
        }
    }
}

fn spool_error(error: std::io::Error) -> CallError {
    // A spool that cannot be written stops the agent from promising anything: treat it as a
    // failure to go on, retried with backoff, and loudly logged.
    tracing::error!(%error, "cannot write the spool");
    CallError::Network(format!("spool: {error}"))
}

async fn print(client: &Client, down: &DownSet, job: &SpooledJob) -> JobResult {
    let bytes = match STANDARD.decode(&job.bytes_base64) {
        Ok(bytes) => bytes,
        Err(error) => {
            return JobResult {
                printed: false,
                error: Some(format!("AGENT_BAD_JOB: 任务内容无法解码 / {error}")),
                uncertain: false,
                printer_down: false,
            };
        }
    };
    let Some(addr) = socket(&job.address) else {
        return JobResult {
            printed: false,
            error: Some(format!(
                "PRINTER_BAD_ADDRESS: 打印机地址无效 / {:?} is no host:port",
                job.address
            )),
            uncertain: false,
            printer_down: true,
        };
    };
    match tcp::print(addr, &bytes, client.config.timeouts).await {
        Ok(()) => JobResult {
            printed: true,
            error: None,
            uncertain: false,
            printer_down: false,
        },
        Err(error) => {
            if error.use_fallback() {
                down.lock()
                    .unwrap()
                    .insert(job.printer_id.clone(), job.address.clone());
            }
            JobResult {
                printed: false,
                error: Some(error.to_string()),
                uncertain: error.may_have_printed(),
                printer_down: error.use_fallback(),
            }
        }
    }
}

fn socket(address: &str) -> Option<std::net::SocketAddr> {
    address
        .parse()
        .ok()
        .or_else(|| format!("{address}:{}", tcp::RAW_PORT).parse().ok())
}

fn remember_down(down: &DownSet, printers: Vec<DownPrinter>) {
    let mut set = down.lock().unwrap();
    set.clear();
    set.extend(printers.into_iter().map(|p| (p.printer_id, p.address)));
}

async fn hang(client: &Client, point: HangPoint, job: i64) {
    if let Some((at, tell)) = &client.config.hang
        && *at == point
    {
        let _ = tell.send(job);
        std::future::pending::<()>().await;
    }
}

/// Asks each down printer how it is, every `probe_every`; a ready one is reported up.
async fn probe_down(client: Arc<Client>, down: DownSet) {
    let mut tick = tokio::time::interval(client.config.probe_every);
    loop {
        tick.tick().await;
        let printers: Vec<(String, String)> = down
            .lock()
            .unwrap()
            .iter()
            .map(|(id, address)| (id.clone(), address.clone()))
            .collect();
        for (id, address) in printers {
            let Some(addr) = socket(&address) else {
                continue;
            };
            if let Ok(PrinterStatus::Ready) = tcp::probe(addr, client.config.timeouts).await
                && client.printer_up(&id).await.is_ok()
            {
                tracing::info!(printer = %id, "printer ready again");
                down.lock().unwrap().remove(&id);
            }
        }
    }
}

/// 1 s, 2 s, 4 s … up to 30 s between tries, with up to a fifth more at random so many shops
/// do not reconnect in step after an outage.
#[derive(Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let base = (1_000u64 << (self.failures - 1).min(5)).min(30_000);
        Duration::from_millis(base + rand::random_range(0..=base / 5))
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}
