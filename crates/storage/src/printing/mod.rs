//! Printers and the durable print queue. Jobs are queued in the transaction of the order change
//! they belong to (`queue`), leased and settled by the print worker (`delivery`), and listed,
//! test-printed and reprinted from the console (here).

mod agents;
mod delivery;
mod queue;

pub use agents::PrintAgent;
pub use delivery::{Claimant, ClaimedJob, Failure, printing_stream};
pub use queue::PRINT_TOPIC;
pub(crate) use queue::{queue_cancelled, queue_sent_orders};

use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::tx::Tx;
use diancan_domain::printing::*;
use diancan_domain::text::Name;
use diancan_domain::*;
use queue::{NewJob, insert_jobs, routing_in};
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

/// A store's printer as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Printer {
    pub id: PrinterId,
    pub brand_id: BrandId,
    pub store_id: StoreId,
    pub name: String,
    pub connection: PrinterConnection,
    pub address: String,
    /// The print agent that feeds it (connection `agent`).
    pub agent_id: Option<PrintAgentId>,
    pub paper: PaperWidth,
    pub fallback_id: Option<PrinterId>,
    pub stations: Vec<StationId>,
    pub takes_receipts: bool,
    pub takes_packing_slips: bool,
    pub enabled: bool,
    /// Since when it has answered off, open or out of paper (`None`: working).
    pub down_since_ms: Option<i64>,
    pub last_error: Option<String>,
}

/// What the console sets on a printer; parsed at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterSettings {
    pub name: Name,
    pub connection: PrinterConnection,
    pub address: String,
    /// Required for connection `agent`: a live agent of the same store.
    pub agent_id: Option<PrintAgentId>,
    pub paper: PaperWidth,
    pub fallback_id: Option<PrinterId>,
    pub stations: Vec<StationId>,
    pub takes_receipts: bool,
    pub takes_packing_slips: bool,
    pub enabled: bool,
}

/// One job of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrintJob {
    /// The job number, printed at the foot of the paper.
    pub id: i64,
    pub brand_id: BrandId,
    pub store_id: StoreId,
    /// Where it goes now (the fallback, once its printer went down).
    pub printer_id: PrinterId,
    /// Where routing first sent it.
    pub routed_printer_id: PrinterId,
    pub document: DocumentKind,
    pub order_id: Option<OrderId>,
    pub ticket_id: Option<KitchenTicketId>,
    pub content: PrintContent,
    /// 0 for the original; n for the nth reprint someone asked for.
    pub reprint: i64,
    pub reprint_of: Option<i64>,
    pub requested_by: Option<String>,
    pub state: PrintJobState,
    pub attempts: i64,
    /// An earlier attempt may have printed without being recorded: the paper says 重打.
    pub uncertain: bool,
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub sent_at_ms: Option<i64>,
    pub printed_at_ms: Option<i64>,
}

impl PrintJob {
    pub fn says_reprint(&self) -> bool {
        says_reprint(self.reprint, self.uncertain)
    }
}

pub(crate) const PRINTER_COLUMNS: &str = "id, brand_id, store_id, name, connection, address, agent_id, paper_mm, fallback_id, takes_receipts, takes_packing_slips, enabled, down_since_ms, last_error";
pub(crate) const JOB_COLUMNS: &str = "id, brand_id, store_id, printer_id, routed_printer_id, document, order_id, ticket_id, content_json, reprint, reprint_of, requested_by, state, attempts, uncertain, next_attempt_ms, last_error, created_at_ms, sent_at_ms, printed_at_ms";

const SELECT_PRINTERS: &str = "SELECT id, brand_id, store_id, name, connection, address, agent_id, paper_mm, fallback_id, takes_receipts, takes_packing_slips, enabled, down_since_ms, last_error
    FROM printers WHERE brand_id = $1 AND store_id = $2 ORDER BY name";
const SELECT_STATIONS_OF_STORE: &str =
    "SELECT printer_id, station_id FROM printer_stations WHERE store_id = $1 ORDER BY station_id";
const INSERT_PRINTER: &str = "INSERT INTO printers (id, brand_id, store_id, name, connection, address, paper_mm, fallback_id, takes_receipts, takes_packing_slips, enabled, created_at_ms, updated_at_ms, agent_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)";
const UPDATE_PRINTER: &str = "UPDATE printers SET name = $4, connection = $5, address = $6, paper_mm = $7, fallback_id = $8, takes_receipts = $9, takes_packing_slips = $10, enabled = $11, updated_at_ms = $12, agent_id = $13
    WHERE id = $1 AND brand_id = $2 AND store_id = $3";
const CLEAR_STATIONS: &str = "DELETE FROM printer_stations WHERE printer_id = $1";
const INSERT_STATION: &str =
    "INSERT INTO printer_stations (store_id, station_id, printer_id) VALUES ($1, $2, $3)";
const STATION_OF_BRAND: &str = "SELECT COUNT(*) FROM stations WHERE id = $1 AND brand_id = $2";
const PRINTER_OF_STORE: &str =
    "SELECT COUNT(*) FROM printers WHERE id = $1 AND brand_id = $2 AND store_id = $3";
const SELECT_JOBS_SINCE: &str = "SELECT id, brand_id, store_id, printer_id, routed_printer_id, document, order_id, ticket_id, content_json, reprint, reprint_of, requested_by, state, attempts, uncertain, next_attempt_ms, last_error, created_at_ms, sent_at_ms, printed_at_ms
    FROM print_jobs WHERE brand_id = $1 AND store_id = $2 AND created_at_ms >= $3 ORDER BY id DESC LIMIT $4";
const SELECT_JOB: &str = "SELECT id, brand_id, store_id, printer_id, routed_printer_id, document, order_id, ticket_id, content_json, reprint, reprint_of, requested_by, state, attempts, uncertain, next_attempt_ms, last_error, created_at_ms, sent_at_ms, printed_at_ms
    FROM print_jobs WHERE id = $1";
const SELECT_JOB_BY_KEY: &str = "SELECT id, brand_id, store_id, printer_id, routed_printer_id, document, order_id, ticket_id, content_json, reprint, reprint_of, requested_by, state, attempts, uncertain, next_attempt_ms, last_error, created_at_ms, sent_at_ms, printed_at_ms
    FROM print_jobs WHERE dedupe_key = $1";
const LAST_REPRINT: &str =
    "SELECT COALESCE(MAX(reprint), 0) FROM print_jobs WHERE id = $1 OR reprint_of = $1";

#[derive(FromRow)]
pub(crate) struct PrinterRow {
    id: Uuid,
    brand_id: Uuid,
    store_id: Uuid,
    name: String,
    connection: String,
    address: String,
    agent_id: Option<Uuid>,
    paper_mm: i64,
    fallback_id: Option<Uuid>,
    takes_receipts: bool,
    takes_packing_slips: bool,
    enabled: bool,
    down_since_ms: Option<i64>,
    last_error: Option<String>,
}

impl PrinterRow {
    pub(crate) fn into_printer(self, stations: Vec<StationId>) -> Result<Printer> {
        Ok(Printer {
            id: PrinterId::from_uuid(self.id),
            brand_id: BrandId::from_uuid(self.brand_id),
            store_id: StoreId::from_uuid(self.store_id),
            name: self.name,
            connection: PrinterConnection::parse(&self.connection)
                .ok_or_else(|| StorageError::Corrupt(format!("connection {}", self.connection)))?,
            address: self.address,
            agent_id: self.agent_id.map(PrintAgentId::from_uuid),
            paper: PaperWidth::from_mm(self.paper_mm)
                .ok_or_else(|| StorageError::Corrupt(format!("paper {}", self.paper_mm)))?,
            fallback_id: self.fallback_id.map(PrinterId::from_uuid),
            stations,
            takes_receipts: self.takes_receipts,
            takes_packing_slips: self.takes_packing_slips,
            enabled: self.enabled,
            down_since_ms: self.down_since_ms,
            last_error: self.last_error,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct JobRow {
    id: i64,
    brand_id: Uuid,
    store_id: Uuid,
    printer_id: Uuid,
    routed_printer_id: Uuid,
    document: String,
    order_id: Option<Uuid>,
    ticket_id: Option<Uuid>,
    content_json: String,
    reprint: i64,
    reprint_of: Option<i64>,
    requested_by: Option<String>,
    state: String,
    attempts: i64,
    uncertain: bool,
    next_attempt_ms: i64,
    last_error: Option<String>,
    created_at_ms: i64,
    sent_at_ms: Option<i64>,
    printed_at_ms: Option<i64>,
}

impl TryFrom<JobRow> for PrintJob {
    type Error = StorageError;

    fn try_from(r: JobRow) -> Result<PrintJob> {
        Ok(PrintJob {
            id: r.id,
            brand_id: BrandId::from_uuid(r.brand_id),
            store_id: StoreId::from_uuid(r.store_id),
            printer_id: PrinterId::from_uuid(r.printer_id),
            routed_printer_id: PrinterId::from_uuid(r.routed_printer_id),
            document: DocumentKind::parse(&r.document)
                .ok_or_else(|| StorageError::Corrupt(format!("document {}", r.document)))?,
            order_id: r.order_id.map(OrderId::from_uuid),
            ticket_id: r.ticket_id.map(KitchenTicketId::from_uuid),
            content: serde_json::from_str(&r.content_json)?,
            reprint: r.reprint,
            reprint_of: r.reprint_of,
            requested_by: r.requested_by,
            state: PrintJobState::parse(&r.state)
                .ok_or_else(|| StorageError::Corrupt(format!("job state {}", r.state)))?,
            attempts: r.attempts,
            uncertain: r.uncertain,
            next_attempt_ms: r.next_attempt_ms,
            last_error: r.last_error,
            created_at_ms: r.created_at_ms,
            sent_at_ms: r.sent_at_ms,
            printed_at_ms: r.printed_at_ms,
        })
    }
}

/// Every printer of a store with its stations, read inside `tx`.
pub(crate) async fn printers_in(
    tx: &mut Tx,
    brand: BrandId,
    store: StoreId,
) -> Result<Vec<Printer>> {
    let rows: Vec<PrinterRow> = on_tx!(tx, |c| sqlx::query_as(SELECT_PRINTERS)
        .bind(brand.as_uuid())
        .bind(store.as_uuid())
        .fetch_all(&mut *c)
        .await)?;
    let pairs: Vec<(Uuid, Uuid)> = on_tx!(tx, |c| sqlx::query_as(SELECT_STATIONS_OF_STORE)
        .bind(store.as_uuid())
        .fetch_all(&mut *c)
        .await)?;
    rows.into_iter()
        .map(|row| {
            let stations = pairs
                .iter()
                .filter(|(printer, _)| *printer == row.id)
                .map(|(_, station)| StationId::from_uuid(*station))
                .collect();
            row.into_printer(stations)
        })
        .collect()
}

async fn count(tx: &mut Tx, sql: &'static str, ids: &[Uuid]) -> Result<i64> {
    let (n,): (i64,) = on_tx!(tx, |c| {
        let mut q = sqlx::query_as(sql);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_one(&mut *c).await
    })?;
    Ok(n)
}

/// Checks what a printer's settings point at: its stations in the brand, its fallback another
/// printer of the same store.
async fn check_settings(
    tx: &mut Tx,
    brand: BrandId,
    store: StoreId,
    id: PrinterId,
    settings: &PrinterSettings,
) -> Result<()> {
    for station in &settings.stations {
        if count(tx, STATION_OF_BRAND, &[station.as_uuid(), brand.as_uuid()]).await? == 0 {
            return Err(StorageError::Refused("UNKNOWN_STATION"));
        }
    }
    if let Some(fallback) = settings.fallback_id {
        if fallback == id {
            return Err(StorageError::Refused("FALLBACK_IS_SELF"));
        }
        let ids = [fallback.as_uuid(), brand.as_uuid(), store.as_uuid()];
        if count(tx, PRINTER_OF_STORE, &ids).await? == 0 {
            return Err(StorageError::Refused("UNKNOWN_FALLBACK"));
        }
    }
    if settings.connection == PrinterConnection::Agent {
        let Some(agent) = settings.agent_id else {
            return Err(StorageError::Refused("AGENT_REQUIRED"));
        };
        if !agents::agent_of_store(tx, brand, store, agent).await? {
            return Err(StorageError::Refused("UNKNOWN_AGENT"));
        }
    }
    Ok(())
}

impl PrinterSettings {
    /// The agent stored with the printer: only an `agent` printer has one.
    fn agent(&self) -> Option<PrintAgentId> {
        self.agent_id
            .filter(|_| self.connection == PrinterConnection::Agent)
    }
}

async fn write_stations(
    tx: &mut Tx,
    store: StoreId,
    id: PrinterId,
    stations: &[StationId],
) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(CLEAR_STATIONS)
        .bind(id.as_uuid())
        .execute(&mut *c)
        .await
        .map(drop))?;
    for station in stations {
        on_tx!(tx, |c| sqlx::query(INSERT_STATION)
            .bind(store.as_uuid())
            .bind(station.as_uuid())
            .bind(id.as_uuid())
            .execute(&mut *c)
            .await
            .map(drop))?;
    }
    Ok(())
}

async fn printer_in(tx: &mut Tx, brand: BrandId, store: StoreId, id: PrinterId) -> Result<Printer> {
    printers_in(tx, brand, store)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(StorageError::NotFound)
}

impl Db {
    /// Adds a printer to a store. A station another printer of the store already serves is a
    /// conflict (`printer_stations`).
    pub async fn create_printer(
        &self,
        brand: BrandId,
        store: StoreId,
        settings: &PrinterSettings,
        now_ms: i64,
    ) -> Result<Printer> {
        let id = PrinterId::new();
        let mut tx = self.begin().await?;
        check_settings(&mut tx, brand, store, id, settings).await?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_PRINTER)
            .bind(id.as_uuid())
            .bind(brand.as_uuid())
            .bind(store.as_uuid())
            .bind(settings.name.as_str())
            .bind(settings.connection.as_str())
            .bind(settings.address.as_str())
            .bind(settings.paper.mm())
            .bind(settings.fallback_id.map(|f| f.as_uuid()))
            .bind(settings.takes_receipts)
            .bind(settings.takes_packing_slips)
            .bind(settings.enabled)
            .bind(now_ms)
            .bind(settings.agent().map(|a| a.as_uuid()))
            .execute(&mut *c)
            .await
            .map(drop))?;
        write_stations(&mut tx, store, id, &settings.stations).await?;
        let printer = printer_in(&mut tx, brand, store, id).await?;
        tx.commit().await?;
        Ok(printer)
    }

    /// Replaces a printer's settings (and the stations it serves).
    pub async fn update_printer(
        &self,
        brand: BrandId,
        store: StoreId,
        id: PrinterId,
        settings: &PrinterSettings,
        now_ms: i64,
    ) -> Result<Printer> {
        let mut tx = self.begin().await?;
        check_settings(&mut tx, brand, store, id, settings).await?;
        let updated = on_tx!(&mut tx, |c| sqlx::query(UPDATE_PRINTER)
            .bind(id.as_uuid())
            .bind(brand.as_uuid())
            .bind(store.as_uuid())
            .bind(settings.name.as_str())
            .bind(settings.connection.as_str())
            .bind(settings.address.as_str())
            .bind(settings.paper.mm())
            .bind(settings.fallback_id.map(|f| f.as_uuid()))
            .bind(settings.takes_receipts)
            .bind(settings.takes_packing_slips)
            .bind(settings.enabled)
            .bind(now_ms)
            .bind(settings.agent().map(|a| a.as_uuid()))
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if updated == 0 {
            tx.rollback().await?;
            return Err(StorageError::NotFound);
        }
        write_stations(&mut tx, store, id, &settings.stations).await?;
        let printer = printer_in(&mut tx, brand, store, id).await?;
        tx.commit().await?;
        Ok(printer)
    }

    /// A store's printers by name.
    pub async fn printers(&self, brand: BrandId, store: StoreId) -> Result<Vec<Printer>> {
        let mut tx = self.begin().await?;
        let printers = printers_in(&mut tx, brand, store).await?;
        tx.commit().await?;
        Ok(printers)
    }

    /// The store's jobs created since `since_ms`, newest first, at most `limit`.
    pub async fn print_jobs_since(
        &self,
        brand: BrandId,
        store: StoreId,
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<PrintJob>> {
        let rows: Vec<JobRow> = on_pool!(self, |p| sqlx::query_as(SELECT_JOBS_SINCE)
            .bind(brand.as_uuid())
            .bind(store.as_uuid())
            .bind(since_ms)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(PrintJob::try_from).collect()
    }

    /// One job by its number, whichever store (the worker's and the tests' view).
    pub async fn print_job(&self, id: i64) -> Result<PrintJob> {
        let row: JobRow = on_pool!(self, |p| sqlx::query_as(SELECT_JOB)
            .bind(id)
            .fetch_optional(p)
            .await)?
        .ok_or(StorageError::NotFound)?;
        row.try_into()
    }

    /// Queues a test page on one printer of the store.
    pub async fn queue_test_print(
        &self,
        brand: BrandId,
        store: StoreId,
        printer: PrinterId,
        by: &str,
        now_ms: i64,
    ) -> Result<PrintJob> {
        let mut tx = self.begin().await?;
        printer_in(&mut tx, brand, store, printer).await?;
        let key = format!("test:{}", Uuid::now_v7());
        let job = NewJob {
            brand,
            store,
            printer,
            document: DocumentKind::Test,
            order_id: None,
            ticket_id: None,
            content: PrintContent {
                order_id: None,
                channel: None,
                table_code: None,
                pickup_number: None,
                round: 1,
                station: None,
                placed_at_ms: now_ms,
                lines: Vec::new(),
                subtotal: Money::ZERO,
                adjustments: Vec::new(),
                total: Money::ZERO,
                note: None,
            },
            reprint: 0,
            reprint_of: None,
            requested_by: Some(by.to_owned()),
            dedupe_key: key.clone(),
        };
        insert_jobs(&mut tx, vec![job], now_ms).await?;
        let job = job_by_key(&mut tx, &key).await?;
        tx.commit().await?;
        self.outbox_bell().notify_one();
        Ok(job)
    }

    /// 重打: a new job with the same paper, numbered as the next reprint of the original, to
    /// the printer the original went to (or its fallback while that one is down). Never the
    /// old job sent again: the record shows who asked, and the paper says 重打.
    pub async fn reprint(
        &self,
        brand: BrandId,
        store: StoreId,
        job: i64,
        by: &str,
        now_ms: i64,
    ) -> Result<PrintJob> {
        let mut tx = self.begin().await?;
        let row: Option<JobRow> = on_tx!(&mut tx, |c| sqlx::query_as(SELECT_JOB)
            .bind(job)
            .fetch_optional(&mut *c)
            .await)?;
        let old: PrintJob = row.ok_or(StorageError::NotFound)?.try_into()?;
        if old.brand_id != brand || old.store_id != store {
            tx.rollback().await?;
            return Err(StorageError::NotFound);
        }
        let original = old.reprint_of.unwrap_or(old.id);
        let (last,): (i64,) = on_tx!(&mut tx, |c| sqlx::query_as(LAST_REPRINT)
            .bind(original)
            .fetch_one(&mut *c)
            .await)?;
        let routing = routing_in(&mut tx, brand, store).await?;
        let printer = diancan_domain::printing::Routing(&routing).avoiding_down(old.printer_id);
        let key = format!("reprint:{original}:{}", last + 1);
        let new = NewJob {
            brand,
            store,
            printer,
            document: old.document,
            order_id: old.order_id,
            ticket_id: old.ticket_id,
            content: old.content,
            reprint: last + 1,
            reprint_of: Some(original),
            requested_by: Some(by.to_owned()),
            dedupe_key: key.clone(),
        };
        insert_jobs(&mut tx, vec![new], now_ms).await?;
        let job = job_by_key(&mut tx, &key).await?;
        tx.commit().await?;
        self.outbox_bell().notify_one();
        Ok(job)
    }
}

async fn job_by_key(tx: &mut Tx, key: &str) -> Result<PrintJob> {
    let row: JobRow = on_tx!(tx, |c| sqlx::query_as(SELECT_JOB_BY_KEY)
        .bind(key)
        .fetch_one(&mut *c)
        .await)?;
    row.try_into()
}
