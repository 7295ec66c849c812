//! A fake ESC/POS network printer on loopback for tests: it answers DLE EOT with the status it
//! is told to have, can drop the connection mid-job like a printer losing power, can be
//! switched off and on again at the same address, and decodes what it received (GB18030 text,
//! commands stripped) into lines with their print modes.

use super::escpos::{Align, DLE, EOT, ESC, FS, GS, LF};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One printed line as it would appear on paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedLine {
    pub text: String,
    pub align: Align,
    pub bold: bool,
    /// 1 normal, 2 for double width (each character takes twice the columns).
    pub width_factor: usize,
}

/// Everything one connection sent, decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrintedJob {
    pub raw: Vec<u8>,
    pub lines: Vec<PrintedLine>,
    pub qr_codes: Vec<String>,
    pub cuts: usize,
    pub drawer_kicks: usize,
    /// DLE EOT requests, in order of arrival (n = 1, 2, 4).
    pub status_requests: Vec<u8>,
    /// When the connection closed (ms since the Unix epoch; 0 for a job decoded by hand).
    pub received_at_ms: i64,
}

impl PrintedJob {
    pub fn texts(&self) -> Vec<&str> {
        self.lines.iter().map(|l| l.text.as_str()).collect()
    }
}

/// Length of the command starting at `bytes[0]`, or `None` while it is incomplete.
pub(super) fn command_len(bytes: &[u8]) -> Option<usize> {
    let need = match (bytes.first()?, bytes.get(1)) {
        (&ESC, Some(b'@')) | (&FS, Some(b'&')) | (&FS, Some(b'.')) => 2,
        (&ESC, Some(b'a' | b'E' | b'd' | b'-' | b'!')) | (&GS, Some(b'!')) | (&DLE, Some(&EOT)) => {
            3
        }
        (&ESC, Some(b'p')) => 5,
        (&GS, Some(b'V')) => match bytes.get(2)? {
            65 | 66 => 4,
            _ => 3,
        },
        (&GS, Some(b'(')) => {
            let (pl, ph) = (*bytes.get(3)?, *bytes.get(4)?);
            5 + usize::from(u16::from_le_bytes([pl, ph]))
        }
        (_, None) => return None,
        // An unknown command: take the prefix alone so decoding goes on.
        _ => 1,
    };
    (bytes.len() >= need).then_some(need)
}

/// Decodes a whole job. Text is GB18030; unknown commands are skipped.
pub fn decode(raw: &[u8]) -> PrintedJob {
    let mut job = PrintedJob {
        raw: raw.to_vec(),
        ..PrintedJob::default()
    };
    let (mut align, mut bold, mut width) = (Align::Left, false, 1);
    let mut text: Vec<u8> = Vec::new();
    let mut line_mode = (align, bold, width);
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == LF {
            let (decoded, _, _) = encoding_rs::GB18030.decode(&text);
            job.lines.push(PrintedLine {
                text: decoded.into_owned(),
                align: line_mode.0,
                bold: line_mode.1,
                width_factor: line_mode.2,
            });
            text.clear();
            i += 1;
            continue;
        }
        if ![ESC, GS, FS, DLE].contains(&b) {
            if text.is_empty() {
                line_mode = (align, bold, width);
            }
            text.push(b);
            i += 1;
            continue;
        }
        let len = command_len(&raw[i..]).unwrap_or(raw.len() - i);
        let cmd = &raw[i..i + len];
        match cmd {
            [ESC, b'@'] => (align, bold, width) = (Align::Left, false, 1),
            [ESC, b'a', n] => {
                align = match n {
                    1 => Align::Center,
                    2 => Align::Right,
                    _ => Align::Left,
                }
            }
            [ESC, b'E', n] => bold = *n & 1 == 1,
            [GS, b'!', n] => width = usize::from((n >> 4) & 0x07) + 1,
            [ESC, b'p', ..] => job.drawer_kicks += 1,
            [GS, b'V', ..] => job.cuts += 1,
            [DLE, EOT, n] => job.status_requests.push(*n),
            [GS, b'(', b'k', _, _, 0x31, 0x50, 0x30, data @ ..] => job
                .qr_codes
                .push(String::from_utf8_lossy(data).into_owned()),
            _ => {}
        }
        // Bold or size switched before any text of the line counts for the line.
        if text.is_empty() {
            line_mode = (align, bold, width);
        }
        i += len;
    }
    job
}

/// The condition the fake reports and acts out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FakeCondition {
    pub paper_out: bool,
    pub cover_open: bool,
    /// Close the connection after this many bytes of the job, as a printer switched off mid-job.
    pub drop_after: Option<usize>,
    /// Never answer status requests (an old printer without real-time status).
    pub silent: bool,
    /// Report paper out to the next connection only, then have paper again.
    pub paper_out_once: bool,
}

impl FakeCondition {
    /// The byte a real printer answers to DLE EOT n (fixed bits 1 and 4 set).
    pub fn status_byte(self, n: u8) -> u8 {
        let offline = self.paper_out || self.cover_open;
        let bits = match n {
            1 => u8::from(offline) << 3,
            2 => (u8::from(self.cover_open) << 2) | (u8::from(self.paper_out) << 5),
            4 if self.paper_out => 0x60,
            _ => 0,
        };
        0x12 | bits
    }
}

#[derive(Default)]
struct Shared {
    condition: Mutex<FakeCondition>,
    jobs: Mutex<Vec<PrintedJob>>,
    job_done: Notify,
}

/// The fake printer; dropping it stops listening.
pub struct FakePrinter {
    pub addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    /// The listener and every open connection; `None` while switched off.
    power: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for FakePrinter {
    fn drop(&mut self) {
        self.power_off();
    }
}

fn listen(listener: TcpListener, shared: Arc<Shared>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Connections live in the set, so switching off (aborting this task) cuts them too.
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        connections.spawn(serve(stream, shared.clone()));
                    }
                    Err(_) => break,
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    })
}

impl FakePrinter {
    pub async fn start(condition: FakeCondition) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        *shared.condition.lock().unwrap() = condition;
        let task = listen(listener, shared.clone());
        Ok(FakePrinter {
            addr,
            shared,
            power: Mutex::new(Some(task)),
        })
    }

    /// Switched off: connections are cut mid-job and new ones refused.
    pub fn power_off(&self) {
        if let Some(task) = self.power.lock().unwrap().take() {
            task.abort();
        }
    }

    /// Switched on again at the same address.
    pub async fn power_on(&self) -> std::io::Result<()> {
        self.power_off();
        let listener = TcpListener::bind(self.addr).await?;
        *self.power.lock().unwrap() = Some(listen(listener, self.shared.clone()));
        Ok(())
    }

    pub fn set_condition(&self, condition: FakeCondition) {
        *self.shared.condition.lock().unwrap() = condition;
    }

    /// Jobs whose connection has closed, oldest first.
    pub fn jobs(&self) -> Vec<PrintedJob> {
        self.shared.jobs.lock().unwrap().clone()
    }

    /// Waits until `count` jobs have finished arriving.
    pub async fn wait_for_jobs(&self, count: usize) -> Vec<PrintedJob> {
        loop {
            let notified = self.shared.job_done.notified();
            let jobs = self.jobs();
            if jobs.len() >= count {
                return jobs;
            }
            notified.await;
        }
    }
}

async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut raw = Vec::new();
    let mut answered = 0;
    let mut buf = [0u8; 4096];
    let once = {
        let mut condition = shared.condition.lock().unwrap();
        std::mem::take(&mut condition.paper_out_once)
    };
    loop {
        let mut condition = *shared.condition.lock().unwrap();
        condition.paper_out |= once;
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        raw.extend_from_slice(&buf[..n]);
        if let Some(limit) = condition.drop_after
            && raw.len() >= limit
        {
            raw.truncate(limit);
            break;
        }
        // Answer each complete DLE EOT once, in order.
        let requests = decode(&raw).status_requests;
        for n in &requests[answered..] {
            if !condition.silent
                && stream
                    .write_all(&[condition.status_byte(*n)])
                    .await
                    .is_err()
            {
                break;
            }
        }
        answered = requests.len();
    }
    drop(stream);
    let mut job = decode(&raw);
    job.received_at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    shared.jobs.lock().unwrap().push(job);
    shared.job_done.notify_waiters();
}
