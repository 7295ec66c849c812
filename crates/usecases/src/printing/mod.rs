//! Printing: the console's printers, test prints, today's jobs and reprints, and the print
//! worker that drains the queue for raw TCP and Feie printers (`feie`); print agents claim the
//! jobs of their own printers through `agent`, and every attempt's outcome, whoever made it, is
//! recorded by [`record_outcome`]. Jobs are written by the order changes they belong to
//! (storage's kitchen hook); each transaction that queues jobs also writes an outbox row of
//! topic [`PRINT`], whose delivery rings the print bell: it wakes the worker at once (it also
//! looks every second) and every agent's waiting claim.
//!
//! ## Exactly once, and what a crash does
//! An attempt commits `sending` (with a lease) before its first byte is written, and records
//! `printed` only for the attempt that holds the job, after the printer's status following the
//! bytes says it took them all. A job whose lease runs out while `sending` belonged to a worker
//! that died between writing and recording: it is sent again (never lost), and since paper may
//! already show it, it is marked `uncertain` and that copy says 重打 (never a silent second
//! copy). The same holds after a connection lost mid-job or a bad status after the bytes. So
//! each job is printed once unmarked at most, at least once in all, and any extra copy says so.
//!
//! ## A printer that cannot print
//! Connecting, each status read and each write have timeouts that add up to under 5 s. A
//! printer that is unreachable, answers off, open or out of paper, or goes away mid-job is
//! marked down: its jobs move to its fallback in the same transaction and the board gets a
//! `printer.down` alert on the store's `printing:<store>` stream. Down printers are asked for
//! their status every couple of seconds and come back with `printer.up`. Other failures retry
//! with exponential backoff and jitter, and after `MAX_ATTEMPTS` the job is `failed` (shown in
//! the console, where it can be reprinted).

use crate::context::Context;
use crate::error::Result;
use crate::kitchen::kitchen_store;
use crate::ordering::StaffCaller;
use diancan_domain::ordering::{Actor, Channel};
use diancan_domain::printing::*;
use diancan_domain::staff::Permission;
use diancan_domain::*;
use diancan_integrations::printing::documents::{self, DocumentError, OrderSlip, SlipLine};
use diancan_integrations::printing::layout::Paper;
use diancan_integrations::printing::tcp::{self, PrintError, PrinterStatus, Timeouts};
use diancan_storage::printing::{ClaimedJob, Failure, PrintJob, Printer, PrinterSettings};
use diancan_storage::{StorageError, Store};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::sync::Notify;

pub mod agent;
mod feie;

/// The outbox topic whose rows wake the print worker.
pub const PRINT: &str = diancan_storage::printing::PRINT_TOPIC;

/// Rung when jobs were queued (by the outbox consumer of [`PRINT`], or a console action).
static PRINT_BELL: LazyLock<Arc<Notify>> = LazyLock::new(|| Arc::new(Notify::new()));

/// Wakes every print worker of this process.
pub fn ring() {
    PRINT_BELL.notify_waiters();
}

/// How the worker talks to printers.
#[derive(Debug, Clone)]
pub struct PrintSettings {
    pub timeouts: Timeouts,
    /// How long an attempt holds its job; a worker that dies gives it up after this.
    pub lease_ms: i64,
    /// Jobs leased per round.
    pub batch: i64,
    /// How often a down printer is asked whether it is ready again.
    pub probe_every: Duration,
}

impl Default for PrintSettings {
    fn default() -> Self {
        PrintSettings {
            timeouts: Timeouts::default(),
            lease_ms: 20_000,
            batch: 64,
            probe_every: Duration::from_secs(2),
        }
    }
}

/// The store's printers, for the console's settings page.
pub async fn printers(ctx: &Context, staff: &StaffCaller, store: StoreId) -> Result<Vec<Printer>> {
    kitchen_store(ctx, staff, store, Permission::ViewConsole).await?;
    Ok(ctx.db.printers(staff.brand_id, store).await?)
}

pub async fn create_printer(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    settings: &PrinterSettings,
) -> Result<Printer> {
    kitchen_store(ctx, staff, store, Permission::ManageStore).await?;
    let now = ctx.clock.now_ms();
    Ok(ctx
        .db
        .create_printer(staff.brand_id, store, settings, now)
        .await?)
}

pub async fn update_printer(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    id: PrinterId,
    settings: &PrinterSettings,
) -> Result<Printer> {
    kitchen_store(ctx, staff, store, Permission::ManageStore).await?;
    let now = ctx.clock.now_ms();
    Ok(ctx
        .db
        .update_printer(staff.brand_id, store, id, settings, now)
        .await?)
}

fn staff_label(staff: &StaffCaller) -> String {
    Actor::Staff {
        id: staff.id,
        role: staff.role,
    }
    .label()
}

/// Queues a test page on one printer.
pub async fn test_print(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    printer: PrinterId,
) -> Result<PrintJob> {
    kitchen_store(ctx, staff, store, Permission::ManageStore).await?;
    let now = ctx.clock.now_ms();
    let job = ctx
        .db
        .queue_test_print(staff.brand_id, store, printer, &staff_label(staff), now)
        .await?;
    ring();
    Ok(job)
}

/// Jobs a console list shows at most: a busy day's tickets.
pub const JOBS_LISTED: i64 = 2_000;

/// The store's jobs of its current business day, newest first.
pub async fn jobs_today(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
) -> Result<Vec<PrintJob>> {
    let (store_row, today) = kitchen_store(ctx, staff, store, Permission::ViewConsole).await?;
    let rules = &store_row.profile.rules;
    let starts = rules.business_day_starts_at.minutes();
    let since = today
        .date()
        .at((starts / 60) as i8, (starts % 60) as i8, 0, 0)
        .to_zoned_datetime(rules.time_zone.zone().clone())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or_else(|_| ctx.clock.now_ms() - 24 * 3_600_000);
    Ok(ctx
        .db
        .print_jobs_since(staff.brand_id, store, since, JOBS_LISTED)
        .await?)
}

/// 重打 a job: a new job whose paper says 重打, recorded with who asked. Anyone who may take
/// orders may reprint (a torn or lost ticket is a counter's and a kitchen's daily business).
pub async fn reprint(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    job: i64,
) -> Result<PrintJob> {
    kitchen_store(ctx, staff, store, Permission::AcceptOrders).await?;
    let now = ctx.clock.now_ms();
    let job = ctx
        .db
        .reprint(staff.brand_id, store, job, &staff_label(staff), now)
        .await?;
    ring();
    Ok(job)
}

fn paper(width: PaperWidth) -> Paper {
    match width {
        PaperWidth::Mm58 => Paper::Mm58,
        PaperWidth::Mm80 => Paper::Mm80,
    }
}

fn channel(channel: Option<Channel>) -> documents::Channel {
    match channel {
        Some(Channel::DineIn) => documents::Channel::DineIn,
        Some(Channel::Delivery) => documents::Channel::Delivery,
        _ => documents::Channel::Pickup,
    }
}

/// "11-26 12:05" in the store's time zone.
fn local_time(store: &Store, at_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(at_ms)
        .map(|t| {
            t.to_zoned_datetime(store.profile.rules.time_zone.zone().clone())
                .strftime("%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// The job's paper, laid out for the printer it goes to now.
pub fn render(job: &PrintJob, printer: &Printer, store: &Store) -> Result<Vec<u8>, DocumentError> {
    let paper = paper(printer.paper);
    let c = &job.content;
    if job.document == DocumentKind::Test {
        return documents::test_page(
            &printer.name,
            paper,
            &local_time(store, job.created_at_ms),
            job.says_reprint(),
            Some(job.id),
        );
    }
    let station = c.station.clone().unwrap_or_default();
    let slip = OrderSlip {
        store_name: store.profile.name.clone(),
        order_no: c
            .order_id
            .map(|o| o.as_uuid().simple().to_string()[..12].to_owned())
            .unwrap_or_default(),
        pickup_number: c.pickup_number.map(|n| n.to_string()),
        table_code: c.table_code.clone(),
        channel: channel(c.channel),
        placed_at: local_time(store, c.placed_at_ms),
        lines: c
            .lines
            .iter()
            .map(|l| SlipLine {
                name: l.name.clone(),
                specs: l.specs.clone(),
                note: l.note.clone(),
                quantity: u32::try_from(l.quantity).unwrap_or(0),
                amount: l.amount,
                station: Some(station.clone()),
            })
            .collect(),
        subtotal: c.subtotal,
        adjustments: c.adjustments.clone(),
        total: c.total,
        payment: None,
        note: c.note.clone(),
        delivery: None,
        status_url: None,
        reprint: job.says_reprint(),
        job_number: Some(job.id),
    };
    match job.document {
        DocumentKind::Kitchen => documents::kitchen_ticket(&slip, &station, paper),
        DocumentKind::Addition => documents::delta_ticket(&slip, &station, paper),
        DocumentKind::Cancel => documents::cancel_ticket(&slip, &station, paper),
        DocumentKind::PackingSlip => documents::packing_slip(&slip, paper),
        DocumentKind::Receipt | DocumentKind::Test => documents::receipt(&slip, paper),
    }
}

/// Raw TCP printers are addressed `host:port`, the port 9100 when left out.
pub fn socket(address: &str) -> Option<SocketAddr> {
    address
        .parse()
        .ok()
        .or_else(|| format!("{address}:{}", tcp::RAW_PORT).parse().ok())
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrintRound {
    pub printed: usize,
    pub failed: usize,
}

/// One round of the worker: lease the due jobs and print them, each printer's jobs in order
/// (a lease renewed before the bytes go out once half of it has passed) and printers side by
/// side.
pub async fn print_due(
    ctx: &Context,
    settings: &PrintSettings,
) -> Result<PrintRound, StorageError> {
    let now = ctx.clock.now_ms();
    let claimed = ctx
        .db
        .claim_print_jobs(now, settings.lease_ms, settings.batch)
        .await?;
    if claimed.is_empty() {
        return Ok(PrintRound::default());
    }
    let mut by_printer: BTreeMap<PrinterId, Vec<ClaimedJob>> = BTreeMap::new();
    for job in claimed {
        by_printer.entry(job.printer.id).or_default().push(job);
    }
    let mut running = tokio::task::JoinSet::new();
    for jobs in by_printer.into_values() {
        let (ctx, settings) = (ctx.clone(), settings.clone());
        running.spawn(async move { print_on_one_printer(&ctx, &settings, now, jobs).await });
    }
    let mut round = PrintRound::default();
    while let Some(done) = running.join_next().await {
        match done {
            Ok(Ok(r)) => {
                round.printed += r.printed;
                round.failed += r.failed;
            }
            Ok(Err(error)) => return Err(error),
            // A panic in one printer's task: its jobs' leases run out and they are tried again.
            Err(error) => tracing::error!(%error, "print task died"),
        }
    }
    Ok(round)
}

async fn print_on_one_printer(
    ctx: &Context,
    settings: &PrintSettings,
    claimed_at_ms: i64,
    jobs: Vec<ClaimedJob>,
) -> Result<PrintRound, StorageError> {
    let mut round = PrintRound::default();
    let mut stores: BTreeMap<StoreId, Store> = BTreeMap::new();
    for (index, claimed) in jobs.iter().enumerate() {
        let (job, printer) = (&claimed.job, &claimed.printer);
        if let std::collections::btree_map::Entry::Vacant(entry) = stores.entry(job.store_id) {
            entry.insert(ctx.db.store(job.store_id).await?);
        }
        // Past half its lease (it waited behind others), the lease is renewed before the bytes
        // go out, and a job whose lease another worker took meanwhile is left to that one.
        let started = ctx.clock.now_ms();
        if started > claimed_at_ms + settings.lease_ms / 2
            && !ctx
                .db
                .renew_print_lease(job.id, job.attempts, started + settings.lease_ms)
                .await?
        {
            tracing::warn!(
                job = job.id,
                "lease ran out while waiting; another attempt holds it"
            );
            continue;
        }
        let outcome = match render(job, printer, &stores[&job.store_id]) {
            Err(error) => Outcome::GiveUp(format!("{}: {error}", error.code())),
            Ok(bytes) => send(ctx, settings, printer, &bytes).await,
        };
        let untried: Vec<(i64, i64)> = jobs[index + 1..]
            .iter()
            .map(|c| (c.job.id, c.job.attempts))
            .collect();
        match record_outcome(ctx, claimed, outcome, &untried).await? {
            Recorded::Printed => round.printed += 1,
            Recorded::Failed => round.failed += 1,
            Recorded::PrinterDown => {
                round.failed += 1;
                return Ok(round);
            }
        }
    }
    Ok(round)
}

/// Sends one job's bytes the way its printer is reached from the server.
async fn send(ctx: &Context, settings: &PrintSettings, printer: &Printer, bytes: &[u8]) -> Outcome {
    match printer.connection {
        PrinterConnection::Tcp => match socket(&printer.address) {
            None => Outcome::GiveUp(format!(
                "PRINTER_BAD_ADDRESS: 打印机地址无效 / {:?} is no host:port",
                printer.address
            )),
            Some(addr) => match tcp::print(addr, bytes, settings.timeouts).await {
                Ok(()) => Outcome::Printed,
                Err(error) => Outcome::from_tcp(&error),
            },
        },
        PrinterConnection::Feie => feie::send(ctx, printer, bytes).await,
        // Claims never hand an agent's printer to the server; should one get here, it waits
        // for its agent rather than fail.
        PrinterConnection::Agent => Outcome::Failed {
            failure: Failure {
                error: "PRINTER_NEEDS_AGENT: 该打印机由打印助手出单 / this printer prints through its print agent".into(),
                uncertain: false,
            },
            printer_down: false,
        },
    }
}

/// What one attempt at a job came to, whoever made it (the server's worker or a print agent).
pub enum Outcome {
    Printed,
    /// Cannot print on any attempt (a text the paper refuses, an address that is none).
    GiveUp(String),
    /// Did not print; `printer_down` when the printer cannot print at all (its jobs go to the
    /// fallback), else the job is retried with backoff.
    Failed {
        failure: Failure,
        printer_down: bool,
    },
}

impl Outcome {
    pub fn from_tcp(error: &PrintError) -> Outcome {
        Outcome::Failed {
            failure: Failure {
                error: error.to_string(),
                uncertain: error.may_have_printed(),
            },
            printer_down: error.use_fallback(),
        }
    }
}

/// How [`record_outcome`] left the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Printed,
    Failed,
    /// The printer went down: its other jobs (`untried` among them) moved on.
    PrinterDown,
}

/// Records an attempt's outcome with the queue's one set of transitions: printed only for the
/// attempt that still holds the job, a retry with backoff and jitter, a give-up, or the printer
/// down with its jobs to the fallback (`untried`: the jobs leased with it not yet tried).
pub async fn record_outcome(
    ctx: &Context,
    claimed: &ClaimedJob,
    outcome: Outcome,
    untried: &[(i64, i64)],
) -> Result<Recorded, StorageError> {
    let (job, printer) = (&claimed.job, &claimed.printer);
    let now = ctx.clock.now_ms();
    match outcome {
        Outcome::Printed => {
            if !ctx.db.print_job_printed(job.id, job.attempts, now).await? {
                tracing::warn!(
                    job = job.id,
                    "printed after its lease ran out; another attempt holds it"
                );
            }
            Ok(Recorded::Printed)
        }
        Outcome::GiveUp(error) => {
            tracing::error!(job = job.id, %error, "print job cannot be printed");
            let failure = Failure {
                error,
                uncertain: false,
            };
            ctx.db
                .print_job_failed(job.id, job.attempts, &failure, now, true, now)
                .await?;
            Ok(Recorded::Failed)
        }
        Outcome::Failed {
            failure,
            printer_down: true,
        } => {
            tracing::warn!(printer = %printer.name, error = %failure.error, "printer down; its jobs go to the fallback");
            ctx.db
                .printer_went_down(
                    printer,
                    Some((job.id, job.attempts, &failure)),
                    untried,
                    &failure.error,
                    now,
                )
                .await?;
            ring();
            Ok(Recorded::PrinterDown)
        }
        Outcome::Failed { failure, .. } => {
            tracing::warn!(job = job.id, error = %failure.error, attempt = job.attempts, "print failed; will retry");
            let retry_at = now + with_jitter(retry_delay_ms(job.attempts));
            ctx.db
                .print_job_failed(job.id, job.attempts, &failure, retry_at, false, now)
                .await?;
            Ok(Recorded::Failed)
        }
    }
}

fn with_jitter(delay_ms: i64) -> i64 {
    delay_ms + rand::random_range(0..=delay_ms / 5)
}

/// Asks each down printer how it is; one that answers ready takes jobs again. Jobs still
/// waiting for a down or disabled printer (one a dead worker left `sending`, one queued while
/// its fallback was down too) first move to a working fallback.
pub async fn probe_down_printers(
    ctx: &Context,
    settings: &PrintSettings,
) -> Result<usize, StorageError> {
    ctx.db.reroute_print_jobs(ctx.clock.now_ms()).await?;
    let mut up = 0;
    for printer in ctx.db.down_printers().await? {
        let ready = match printer.connection {
            PrinterConnection::Feie => feie::ready(ctx, &printer).await,
            _ => match socket(&printer.address) {
                Some(addr) => matches!(
                    tcp::probe(addr, settings.timeouts).await,
                    Ok(PrinterStatus::Ready)
                ),
                None => false,
            },
        };
        if ready && ctx.db.printer_came_up(&printer, ctx.clock.now_ms()).await? {
            tracing::info!(printer = %printer.name, "printer ready again");
            up += 1;
        }
    }
    Ok(up)
}

/// The worker: a round whenever jobs were queued (the bell) and at least every second, and
/// the down printers probed every `probe_every`. Rounds never overlap, so a slow printer only
/// delays the next round, and every wait is bounded by the printer timeouts.
pub async fn run_worker(ctx: Context, settings: PrintSettings) {
    let bell = PRINT_BELL.clone();
    let mut last_probe = tokio::time::Instant::now();
    loop {
        let rung = bell.notified();
        tokio::pin!(rung);
        rung.as_mut().enable();
        if last_probe.elapsed() >= settings.probe_every {
            last_probe = tokio::time::Instant::now();
            if let Err(error) = probe_down_printers(&ctx, &settings).await {
                tracing::warn!(%error, "probing printers failed; will retry");
            }
        }
        match print_due(&ctx, &settings).await {
            Ok(round) if round.printed + round.failed > 0 => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "print round failed; will retry"),
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), rung).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diancan_domain::schedule::{Schedule, StoreTimeZone, TimeOfDay};
    use diancan_domain::store::{GeoPoint, PackingFee, PayMode, StoreRules};
    use diancan_integrations::printing::fake_printer::decode;
    use diancan_integrations::printing::text_width::display_width;
    use diancan_storage::StoreProfile;

    fn store() -> Store {
        Store {
            id: StoreId::new(),
            brand_id: BrandId::new(),
            profile: StoreProfile {
                name: "老街面馆".into(),
                name_en: None,
                address: "上海".into(),
                phone: None,
                location: GeoPoint::parse(31_235_000, 121_480_000).unwrap(),
                rules: StoreRules {
                    time_zone: StoreTimeZone::shanghai(),
                    hours: Schedule::always(),
                    accepting_orders: true,
                    pay_mode: PayMode::PayFirst,
                    packing_fee: PackingFee::PerItem {
                        fee_fen: Money::ZERO,
                    },
                    seat_fee_fen: Money::ZERO,
                    business_day_starts_at: TimeOfDay::parse("04:00").unwrap(),
                    table_ordering: Default::default(),
                    delivery_zones: Vec::new(),
                    slots: Default::default(),
                    unpaid_timeout_minutes: 15,
                    auto_accept: Default::default(),
                },
            },
        }
    }

    fn printer(paper: PaperWidth) -> Printer {
        Printer {
            id: PrinterId::new(),
            brand_id: BrandId::new(),
            store_id: StoreId::new(),
            name: "后厨".into(),
            connection: PrinterConnection::Tcp,
            address: "127.0.0.1:9100".into(),
            agent_id: None,
            paper,
            fallback_id: None,
            stations: Vec::new(),
            takes_receipts: false,
            takes_packing_slips: false,
            enabled: true,
            down_since_ms: None,
            last_error: None,
        }
    }

    fn job(document: DocumentKind, reprint: i64, uncertain: bool) -> PrintJob {
        let printer = PrinterId::new();
        PrintJob {
            id: 42,
            brand_id: BrandId::new(),
            store_id: StoreId::new(),
            printer_id: printer,
            routed_printer_id: printer,
            document,
            order_id: Some(OrderId::new()),
            ticket_id: None,
            content: PrintContent {
                order_id: Some(OrderId::new()),
                channel: Some(Channel::DineIn),
                table_code: Some("A3".into()),
                pickup_number: Some(7),
                round: 2,
                station: Some("热菜".into()),
                placed_at_ms: 1_795_000_000_000,
                lines: vec![PrintLine {
                    name: "红烧牛肉面加大加辣超级无敌豪华版".into(),
                    specs: vec!["大份".into(), "微辣".into()],
                    note: Some("不要香菜".into()),
                    quantity: 2,
                    amount: Money::ZERO,
                }],
                subtotal: Money::from_fen(5600),
                adjustments: Vec::new(),
                total: Money::from_fen(5600),
                note: None,
            },
            reprint,
            reprint_of: None,
            requested_by: None,
            state: PrintJobState::Sending,
            attempts: 1,
            uncertain,
            next_attempt_ms: 0,
            last_error: None,
            created_at_ms: 0,
            sent_at_ms: None,
            printed_at_ms: None,
        }
    }

    fn texts(bytes: &[u8]) -> Vec<String> {
        decode(bytes).lines.into_iter().map(|l| l.text).collect()
    }

    #[test]
    fn each_document_says_what_it_is_and_fits_the_paper_it_goes_to() {
        let store = store();
        for (document, title) in [
            (DocumentKind::Kitchen, "热菜单"),
            (DocumentKind::Addition, "加菜 · 热菜"),
            (DocumentKind::Cancel, "退菜 · 热菜"),
        ] {
            for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
                let bytes = render(&job(document, 0, false), &printer(paper), &store).unwrap();
                let decoded = decode(&bytes);
                let lines = texts(&bytes);
                assert!(lines.iter().any(|l| l == title), "{lines:?}");
                assert!(lines.iter().any(|l| l.trim() == "打印单 #42"), "{lines:?}");
                assert!(!lines.iter().any(|l| l.contains("重打")));
                let columns = match paper {
                    PaperWidth::Mm58 => 32,
                    PaperWidth::Mm80 => 48,
                };
                for line in &decoded.lines {
                    assert!(
                        display_width(&line.text) * line.width_factor <= columns,
                        "{line:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_reprint_and_a_resend_after_doubt_say_so() {
        let store = store();
        let paper = printer(PaperWidth::Mm80);
        for (reprint, uncertain) in [(1, false), (0, true)] {
            let bytes = render(
                &job(DocumentKind::Kitchen, reprint, uncertain),
                &paper,
                &store,
            );
            assert_eq!(texts(&bytes.unwrap())[0], "【重打】");
        }
        let test = render(&job(DocumentKind::Test, 0, false), &paper, &store).unwrap();
        assert!(texts(&test).iter().any(|l| l == "打印测试"));
    }
}
