//! The built `diancan` binary as a child process: a scratch SQLite file to point it at, a
//! one-shot command run to its end, and a server kept running until the test drops it. Output
//! is collected line by line, and waits are on lines arriving (a condition variable), never on
//! a fixed delay.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The binary cargo built for this package.
pub const DIANCAN: &str = env!("CARGO_BIN_EXE_diancan");

/// How long a command or a server start may take (the demo seeds and draws pictures).
pub const START_WAIT: Duration = Duration::from_secs(120);

/// A temporary folder with a SQLite database URL inside it.
pub struct Scratch {
    dir: tempfile::TempDir,
    pub url: String,
}

impl Scratch {
    pub fn new() -> Scratch {
        let dir = tempfile::tempdir().expect("a temp dir");
        let url = format!("sqlite://{}", dir.path().join("diancan.db").display());
        Scratch { dir, url }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn db_file(&self) -> PathBuf {
        self.path("diancan.db")
    }
}

/// `diancan --database-url <url> <args>`, with none of the operator's `DIANCAN_*` settings of
/// the shell that runs the tests leaking in.
pub fn diancan(url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(DIANCAN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("DIANCAN_") {
            command.env_remove(&key);
        }
    }
    command
        .env("RUST_LOG", "info")
        .arg("--database-url")
        .arg(url)
        .args(args);
    command
}

/// Lines a child wrote, shared with the threads that read its pipes.
#[derive(Default)]
struct Output {
    lines: Vec<String>,
    open_pipes: usize,
}

#[derive(Clone, Default)]
struct SharedOutput(Arc<(Mutex<Output>, Condvar)>);

impl SharedOutput {
    fn follow(&self, pipe: impl Read + Send + 'static, tag: &'static str) {
        self.0.0.lock().unwrap().open_pipes += 1;
        let shared = self.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let (output, changed) = &*shared.0;
                output.lock().unwrap().lines.push(format!("{tag}{line}"));
                changed.notify_all();
            }
            let (output, changed) = &*shared.0;
            output.lock().unwrap().open_pipes -= 1;
            changed.notify_all();
        });
    }

    /// Waits until `done` holds for the output so far, or `timeout` passes; returns whether it held.
    fn wait(&self, timeout: Duration, done: impl Fn(&Output) -> bool) -> bool {
        let (output, changed) = &*self.0;
        let deadline = Instant::now() + timeout;
        let mut guard = output.lock().unwrap();
        while !done(&guard) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            guard = changed.wait_timeout(guard, left).unwrap().0;
        }
        true
    }

    fn text(&self) -> String {
        self.0.0.lock().unwrap().lines.join("\n")
    }
}

/// A running child process, killed when dropped.
pub struct Process {
    child: Child,
    output: SharedOutput,
}

impl Process {
    /// Starts `command` with piped output; `stdin` (if any) is written and closed.
    pub fn spawn(mut command: Command, stdin: Option<&str>) -> Process {
        command
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start the diancan binary");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
        let output = SharedOutput::default();
        output.follow(child.stdout.take().expect("stdout"), "");
        output.follow(child.stderr.take().expect("stderr"), "");
        Process { child, output }
    }

    /// Everything the process printed so far, stdout and stderr interleaved as they came.
    pub fn output(&self) -> String {
        self.output.text()
    }

    /// Waits for a printed line containing `needle`; returns that line.
    pub fn wait_for_line(&self, needle: &str, timeout: Duration) -> Option<String> {
        let found = self
            .output
            .wait(timeout, |o| o.lines.iter().any(|l| l.contains(needle)));
        found.then(|| {
            self.output
                .0
                .0
                .lock()
                .unwrap()
                .lines
                .iter()
                .find(|l| l.contains(needle))
                .cloned()
                .expect("found above")
        })
    }

    /// Waits for the process to end by itself (its pipes close) and returns how it ended.
    pub fn wait_for_exit(mut self, timeout: Duration) -> Finished {
        let closed = self.output.wait(timeout, |o| o.open_pipes == 0);
        assert!(
            closed,
            "diancan did not finish within {timeout:?}; it printed:\n{}",
            self.output()
        );
        let status = self.child.wait().expect("wait for diancan");
        Finished {
            status,
            output: self.output(),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a one-shot command ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub output: String,
}

impl Finished {
    /// Fails the test, showing the output, unless the command succeeded.
    pub fn success(self) -> Finished {
        assert!(
            self.status.success(),
            "diancan failed ({}):\n{}",
            self.status,
            self.output
        );
        self
    }

    pub fn failure(self) -> Finished {
        assert!(
            !self.status.success(),
            "diancan should have failed but succeeded:\n{}",
            self.output
        );
        self
    }
}

/// Runs `diancan <args>` on `url` to its end.
pub fn run(url: &str, args: &[&str]) -> Finished {
    Process::spawn(diancan(url, args), None).wait_for_exit(START_WAIT)
}

/// `diancan serve` on 127.0.0.1:0, ready once it printed the address it listens on.
pub struct Server {
    pub process: Process,
    pub base_url: String,
    pub http: reqwest::Client,
}

impl Server {
    /// Starts `command` (a `serve` without `--listen`) and waits for its banner.
    pub fn start(mut command: Command) -> Server {
        command.args(["--listen", "127.0.0.1:0"]);
        let process = Process::spawn(command, None);
        const BANNER: &str = "is running on http://";
        let line = process
            .wait_for_line(BANNER, START_WAIT)
            .unwrap_or_else(|| {
                panic!(
                    "the server did not start; it printed:\n{}",
                    process.output()
                )
            });
        let base_url = line
            .split(BANNER)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(|address| format!("http://{address}"))
            .expect("an address after the banner");
        Server {
            process,
            base_url,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// GET `path`: the status and the body as text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self.http.get(self.url(path)).send().await.expect("GET");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// POST a JSON body to `path`: the status and the body as JSON (Null when empty).
    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }
}

/// The file's bytes, for comparing exports.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}
