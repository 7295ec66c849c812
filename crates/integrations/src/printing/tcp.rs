//! Sends a job to a network printer on raw TCP port 9100, asking its real-time status (DLE EOT)
//! before and after, so an unreachable, switched-off, open or empty printer is a clear result
//! within the timeouts instead of a job that silently never comes out.

use super::escpos::{StatusQuery, status_request};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// The port network receipt printers listen on.
pub const RAW_PORT: u16 = 9100;

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// Waiting for one status byte; a printer answers DLE EOT at once, even offline.
    pub status: Duration,
    pub write: Duration,
}

impl Default for Timeouts {
    /// Together under 5 s, the time within which a dead printer must be noticed.
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(2),
            status: Duration::from_secs(1),
            write: Duration::from_secs(2),
        }
    }
}

/// What the printer reported about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterStatus {
    Ready,
    PaperOut,
    CoverOpen,
    /// Offline for another reason (error, feeding by hand).
    Offline,
}

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("PRINTER_UNREACHABLE: 打印机无法连接 / cannot reach printer {addr}: {reason}")]
    Unreachable { addr: SocketAddr, reason: String },
    #[error(
        "PRINTER_CLOSED_MID_JOB: 打印中连接断开 / printer closed the connection after {sent} of {total} bytes"
    )]
    ClosedMidJob { sent: usize, total: usize },
    #[error("PRINTER_NO_STATUS: 打印机不回复状态 / printer did not answer the status request")]
    NoStatus,
    #[error(
        "PRINTER_BAD_STATUS: 打印机状态字节无效 / status byte {0:#04x} is not an ESC/POS status"
    )]
    BadStatus(u8),
    /// The same, in answer to the status after the job's bytes: part of it may be on paper.
    #[error(
        "PRINTER_BAD_STATUS: 打印后状态字节无效 / status byte {0:#04x} after the job is not an ESC/POS status"
    )]
    BadStatusAfterJob(u8),
    #[error("PRINTER_NOT_READY: 打印机{} / printer is {status:?}", not_ready_zh(*status))]
    NotReady { status: PrinterStatus },
    /// The printer took the bytes, then said it cannot print: part of the job may be on paper.
    #[error(
        "PRINTER_NOT_READY: 打印后打印机{} / printer is {status:?} after taking the job",
        not_ready_zh(*status)
    )]
    NotReadyAfterJob { status: PrinterStatus },
}

fn not_ready_zh(status: PrinterStatus) -> &'static str {
    match status {
        PrinterStatus::Ready => "就绪",
        PrinterStatus::PaperOut => "缺纸",
        PrinterStatus::CoverOpen => "开盖",
        PrinterStatus::Offline => "离线",
    }
}

impl PrintError {
    pub fn code(&self) -> &'static str {
        match self {
            PrintError::Unreachable { .. } => "PRINTER_UNREACHABLE",
            PrintError::ClosedMidJob { .. } => "PRINTER_CLOSED_MID_JOB",
            PrintError::NoStatus => "PRINTER_NO_STATUS",
            PrintError::BadStatus(_) | PrintError::BadStatusAfterJob(_) => "PRINTER_BAD_STATUS",
            PrintError::NotReady { .. } | PrintError::NotReadyAfterJob { .. } => {
                "PRINTER_NOT_READY"
            }
        }
    }

    /// Whether some of the job's bytes reached the printer, so paper may show part or all of
    /// it: a resend must then say 重打.
    pub fn may_have_printed(&self) -> bool {
        match self {
            PrintError::ClosedMidJob { sent, .. } => *sent > 0,
            PrintError::NotReadyAfterJob { .. } | PrintError::BadStatusAfterJob(_) => true,
            _ => false,
        }
    }

    /// Whether the same job should go to the station's fallback printer rather than wait.
    pub fn use_fallback(&self) -> bool {
        !matches!(
            self,
            PrintError::BadStatus(_) | PrintError::BadStatusAfterJob(_)
        )
    }
}

/// A status byte has bit 0 and 7 clear and bits 1 and 4 set (ESC/POS real-time status).
fn check_byte(byte: u8) -> Result<u8, PrintError> {
    if byte & 0x93 == 0x12 {
        Ok(byte)
    } else {
        Err(PrintError::BadStatus(byte))
    }
}

async fn ask(stream: &mut TcpStream, query: StatusQuery, t: Timeouts) -> Result<u8, PrintError> {
    let request = status_request(query);
    let write = timeout(t.write, stream.write_all(&request)).await;
    if !matches!(write, Ok(Ok(()))) {
        return Err(PrintError::ClosedMidJob { sent: 0, total: 0 });
    }
    let mut byte = [0u8; 1];
    match timeout(t.status, stream.read_exact(&mut byte)).await {
        Ok(Ok(_)) => check_byte(byte[0]),
        Ok(Err(_)) => Err(PrintError::ClosedMidJob { sent: 0, total: 0 }),
        Err(_) => Err(PrintError::NoStatus),
    }
}

/// Reads DLE EOT 1, and when the printer says it is offline, DLE EOT 2 for the cause.
pub async fn read_status(stream: &mut TcpStream, t: Timeouts) -> Result<PrinterStatus, PrintError> {
    let printer = ask(stream, StatusQuery::Printer, t).await?;
    if printer & 0x08 == 0 {
        return Ok(PrinterStatus::Ready);
    }
    let cause = ask(stream, StatusQuery::OfflineCause, t).await?;
    Ok(if cause & 0x20 != 0 {
        PrinterStatus::PaperOut
    } else if cause & 0x04 != 0 {
        PrinterStatus::CoverOpen
    } else {
        PrinterStatus::Offline
    })
}

async fn connect(addr: SocketAddr, t: Timeouts) -> Result<TcpStream, PrintError> {
    match timeout(t.connect, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(PrintError::Unreachable {
            addr,
            reason: e.to_string(),
        }),
        Err(_) => Err(PrintError::Unreachable {
            addr,
            reason: "connect timed out".into(),
        }),
    }
}

/// Prints one job: status must be ready before, the bytes are written, and the status after the
/// job proves the printer took all of it (an answer comes only once the bytes before it are read).
pub async fn print(addr: SocketAddr, job: &[u8], t: Timeouts) -> Result<(), PrintError> {
    let mut stream = connect(addr, t).await?;
    let total = job.len();
    let before = read_status(&mut stream, t)
        .await
        .map_err(|e| mid_job(e, 0, total))?;
    if before != PrinterStatus::Ready {
        return Err(PrintError::NotReady { status: before });
    }
    // Chunks so a printer that stops reading mid-job is noticed with how far it got.
    let mut sent = 0;
    for chunk in job.chunks(1024) {
        match timeout(t.write, stream.write_all(chunk)).await {
            Ok(Ok(())) => sent += chunk.len(),
            _ => return Err(PrintError::ClosedMidJob { sent, total }),
        }
    }
    let after = read_status(&mut stream, t)
        .await
        .map_err(|e| mid_job(e, sent, total))?;
    if after != PrinterStatus::Ready {
        return Err(PrintError::NotReadyAfterJob { status: after });
    }
    let _ = stream.shutdown().await;
    Ok(())
}

/// Asks a printer how it is without sending a job (to see whether a down printer is back).
pub async fn probe(addr: SocketAddr, t: Timeouts) -> Result<PrinterStatus, PrintError> {
    let mut stream = connect(addr, t).await?;
    let status = read_status(&mut stream, t).await;
    let _ = stream.shutdown().await;
    status
}

fn mid_job(error: PrintError, sent: usize, total: usize) -> PrintError {
    match error {
        PrintError::ClosedMidJob { .. } => PrintError::ClosedMidJob { sent, total },
        // Silent after taking bytes it answered for before: it stopped mid-job.
        PrintError::NoStatus if sent > 0 => PrintError::ClosedMidJob { sent, total },
        PrintError::BadStatus(byte) if sent > 0 => PrintError::BadStatusAfterJob(byte),
        other => other,
    }
}
