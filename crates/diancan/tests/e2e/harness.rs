//! What every browser test stands on: the real server with the demo restaurant on a fresh
//! SQLite file, a ChromeDriver child process, and a browser session that leaves a screenshot
//! behind when the test fails.

use anyhow::Context;
use diancan::demo::DemoTour;
use diancan_web::{AppConfig, Clock};
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use thirtyfour::cdp::domains::page::AddScriptToEvaluateOnNewDocument;
use thirtyfour::prelude::*;
use tokio::sync::oneshot;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a browser step waits for the page before giving up.
pub const PAGE_WAIT: Duration = Duration::from_secs(15);

/// The server under test, stopped when dropped.
pub struct TestApp {
    pub base_url: String,
    pub tour: DemoTour,
    pub http: reqwest::Client,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts the real application on 127.0.0.1:0 with the demo restaurant seeded.
    pub async fn spawn() -> anyhow::Result<TestApp> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("e2e.db").display());
        let db = diancan::cli::connect(&url, 4, false).await?;
        diancan::demo::seed_if_empty(&db, true).await?;
        let tour = diancan::demo::tour(&db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the demo restaurant has no tour table"))?;
        let config = AppConfig {
            fast_password_hashing: true,
            ..AppConfig::default()
        };
        // As `cargo run`: payments go through the gateway simulators.
        let state = diancan::server::app_state(db, Clock::system(), config)
            .await?
            .with_simulated_payments();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(error) = diancan_web::serve(listener, state, shutdown).await {
                eprintln!("e2e: the server stopped with an error: {error}");
            }
        });
        Ok(TestApp {
            base_url,
            tour,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()?,
            _stop: stop,
            _dir: dir,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// GETs a JSON document from the server, failing on any status but 200.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        let response = self.http.get(self.url(path)).send().await?;
        let status = response.status();
        let body = response.text().await?;
        anyhow::ensure!(status == 200, "GET {path} answered {status}: {body}");
        Ok(serde_json::from_str(&body)?)
    }
}

/// The window the page is drawn in.
#[derive(Clone, Copy, Debug)]
pub enum Viewport {
    /// 1280×900, the console's home.
    Laptop,
    /// 390×844 at 2× with touch, as Chromium's device emulation draws a phone.
    Phone,
}

/// A running ChromeDriver, killed when dropped.
struct ChromeDriver {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ChromeDriver {
    async fn start(log: PathBuf) -> anyhow::Result<ChromeDriver> {
        let port = free_port()?;
        let mut child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().context("chromedriver's stdout")?;
        let driver = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        // ChromeDriver says so on stdout once it listens: wait for that line, not for a time.
        // The reader keeps draining stdout afterwards, so a later line never meets a closed pipe.
        let (said_started, started) = oneshot::channel::<()>();
        std::thread::spawn(move || {
            let mut said_started = Some(said_started);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("started successfully")
                    && let Some(tell) = said_started.take()
                {
                    let _ = tell.send(());
                }
            }
        });
        let started = tokio::time::timeout(Duration::from_secs(20), started).await;
        anyhow::ensure!(
            matches!(started, Ok(Ok(()))),
            "chromedriver did not start on {} within 20 s (log: {})",
            driver.url,
            driver.log.display()
        );
        Ok(driver)
    }

    fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Whether the browser is here; under CI=true its absence is a failure, elsewhere a loud skip.
pub fn browser_available(test: &str) -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "e2e test {test}: {} not installed (apt-get install chromium chromium-driver)",
        missing.join(" and ")
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("\n!!!!! SKIPPED: {message} !!!!!\n");
    false
}

fn capabilities(
    viewport: Viewport,
    profile: &Path,
) -> WebDriverResult<thirtyfour::ChromeCapabilities> {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(CHROMIUM)?;
    for arg in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        // Without these Chromium keeps calling out to Google, which this network refuses.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--lang=zh-CN",
    ] {
        caps.add_arg(arg)?;
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.display()))?;
    match viewport {
        Viewport::Laptop => caps.add_arg("--window-size=1280,900")?,
        Viewport::Phone => caps.add_experimental_option(
            "mobileEmulation",
            serde_json::json!({
                "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 2.0, "touch": true }
            }),
        )?,
    }
    Ok(caps)
}

/// Where failure screenshots go: `<target dir>/e2e-screenshots`, found from this test binary's
/// own path (`<target>/debug/deps/e2e-…`) so that CARGO_TARGET_DIR is respected.
fn screenshot_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("e2e-screenshots")
}

/// Runs `body` against a fresh server and browser. A failure (an `Err` or a panic) saves
/// `<test>.png` and `<test>.html`, quits the browser, then fails the test with the cause.
pub async fn browser_test<F, Fut>(test: &str, viewport: Viewport, body: F)
where
    F: FnOnce(std::sync::Arc<TestApp>, WebDriver) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    if !browser_available(test) {
        return;
    }
    let app = std::sync::Arc::new(TestApp::spawn().await.expect("start the server"));
    let scratch = tempfile::tempdir().expect("a temp dir for the browser profile");
    let chromedriver = ChromeDriver::start(scratch.path().join("chromedriver.log"))
        .await
        .expect("start chromedriver");
    let caps = capabilities(viewport, &scratch.path().join("profile")).expect("capabilities");
    let driver = match WebDriver::new(chromedriver.url.as_str(), caps).await {
        Ok(driver) => driver,
        Err(error) => panic!(
            "could not open a Chromium session: {error}\nchromedriver's log ends:\n{}",
            chromedriver.log_tail(40)
        ),
    };
    watch_for_blocked_content(&driver)
        .await
        .expect("watch for Content-Security-Policy violations");

    // Spawned, so that a panic inside the body is caught here and the browser still quits.
    let outcome = match tokio::spawn(body(app.clone(), driver.clone())).await {
        Ok(Ok(())) => Ok(blocked_content(&driver).await),
        other => other,
    };
    let failed = !matches!(outcome, Ok(Ok(())));
    if failed {
        let page = current_url(&driver).await;
        let saved = save_failure_artifacts(&driver, test).await;
        eprintln!("e2e test {test} failed on {page}\n{saved}");
    }
    if let Err(error) = driver.quit().await {
        eprintln!("e2e test {test}: quitting the browser failed: {error}");
    }
    drop(chromedriver);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(error)) => panic!("e2e test {test} failed: {error:?}"),
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(join) => panic!("e2e test {test}: {join}"),
    }
}

/// Records every Content-Security-Policy violation on every page this browser opens, so a test
/// that still passes while the policy blocks a script, style or image fails anyway.
async fn watch_for_blocked_content(driver: &WebDriver) -> WebDriverResult<()> {
    let script = "document.addEventListener('securitypolicyviolation', (e) => {
        const seen = JSON.parse(sessionStorage.getItem('csp-violations') || '[]');
        seen.push(`${location.pathname}: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline code'}`);
        sessionStorage.setItem('csp-violations', JSON.stringify(seen));
    });";
    before_every_page(driver, script).await
}

/// Runs `script` in every page this browser opens from now on, before the page's own scripts
/// (to watch what a page asks of the browser: speech, audio, policy violations).
pub async fn before_every_page(driver: &WebDriver, script: &str) -> WebDriverResult<()> {
    driver
        .cdp()
        .send(AddScriptToEvaluateOnNewDocument {
            source: script.to_owned(),
            world_name: None,
            include_command_line_api: None,
        })
        .await?;
    Ok(())
}

async fn blocked_content(driver: &WebDriver) -> anyhow::Result<()> {
    let seen = driver
        .execute(
            "return sessionStorage.getItem('csp-violations') || '[]';",
            Vec::new(),
        )
        .await?;
    let seen: Vec<String> = serde_json::from_str(&seen.convert::<String>()?)?;
    anyhow::ensure!(
        seen.is_empty(),
        "the Content-Security-Policy blocked: {}",
        seen.join("; ")
    );
    Ok(())
}

async fn current_url(driver: &WebDriver) -> String {
    match driver.current_url().await {
        Ok(url) => url.to_string(),
        Err(_) => "(unknown page)".into(),
    }
}

async fn save_failure_artifacts(driver: &WebDriver, test: &str) -> String {
    let dir = screenshot_dir();
    if let Err(error) = std::fs::create_dir_all(&dir) {
        return format!("could not create {}: {error}", dir.display());
    }
    let png = dir.join(format!("{test}.png"));
    let html = dir.join(format!("{test}.html"));
    let mut notes = Vec::new();
    match driver.screenshot(&png).await {
        Ok(()) => notes.push(format!("screenshot: {}", png.display())),
        Err(error) => notes.push(format!("no screenshot: {error}")),
    }
    if let Ok(source) = driver.source().await
        && std::fs::write(&html, source).is_ok()
    {
        notes.push(format!("page source: {}", html.display()));
    }
    notes.join("\n")
}

/// With `DIANCAN_SCREENSHOTS=<dir>` set, saves what the browser shows as `<dir>/<name>.png`: the
/// README's pictures come from these runs (`DIANCAN_SCREENSHOTS=docs/screenshots cargo test -p
/// diancan --test e2e`). Without it, does nothing.
pub async fn picture(driver: &WebDriver, name: &str) -> anyhow::Result<()> {
    let Some(dir) = std::env::var_os("DIANCAN_SCREENSHOTS") else {
        return Ok(());
    };
    // Relative to the workspace, not to the crate the test runs in.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(dir);
    std::fs::create_dir_all(&dir)?;
    // Let sheets finish sliding in and toasts fade (up to 3 s); a picture, not an assertion.
    driver
        .execute(
            "return new Promise((done) => { const start = Date.now(); (function wait() {
                 const toast = document.querySelector('.toast:not([hidden])');
                 if ((!toast && Date.now() - start > 600) || Date.now() - start > 3000) done();
                 else setTimeout(wait, 100);
             })(); });",
            Vec::new(),
        )
        .await?;
    driver.screenshot(&dir.join(format!("{name}.png"))).await?;
    Ok(())
}

/// A name no demo dish has, short enough for any name field.
pub fn unique_name(prefix: &str) -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("{prefix}{}", &id[id.len() - 6..])
}

/// Another browser for tests that need two phones at one table; closed when the guard drops.
pub struct ExtraBrowser {
    pub driver: WebDriver,
    _chromedriver: ChromeDriver,
    _scratch: tempfile::TempDir,
}

pub async fn extra_browser(viewport: Viewport) -> anyhow::Result<ExtraBrowser> {
    let scratch = tempfile::tempdir()?;
    let chromedriver = ChromeDriver::start(scratch.path().join("chromedriver.log")).await?;
    let caps = capabilities(viewport, &scratch.path().join("profile"))?;
    let driver = WebDriver::new(chromedriver.url.as_str(), caps).await?;
    Ok(ExtraBrowser {
        driver,
        _chromedriver: chromedriver,
        _scratch: scratch,
    })
}

impl TestApp {
    /// Logs in as the demo owner and returns a bearer token.
    pub async fn owner_token(&self) -> anyhow::Result<String> {
        let response = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"login": "owner", "password": diancan::demo::DEMO_PASSWORD}))
            .send()
            .await?;
        let body: serde_json::Value = response.json().await?;
        body["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("no token: {body}"))
    }

    /// Places a guest's pickup order of `quantity` × `sku` through the API, quoted first as the
    /// customer app does; returns the placement answer (with the guest's `access_secret`).
    pub async fn place_pickup(
        &self,
        sku: &serde_json::Value,
        quantity: i64,
        key: &str,
    ) -> anyhow::Result<serde_json::Value> {
        let store = self.tour.store_id;
        let mut body = serde_json::json!({"channel": "pickup", "lines": [{"sku_id": sku, "quantity": quantity}]});
        let quote: serde_json::Value = self
            .http
            .post(self.url(&format!("/api/v1/stores/{store}/quote")))
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        body["quote_version"] = quote["version"].clone();
        let response = self
            .http
            .post(self.url(&format!("/api/v1/stores/{store}/orders")))
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == 201,
            "placing: {}",
            response.text().await?
        );
        Ok(response.json().await?)
    }

    /// Opens the tour store around the clock, so a test passes whatever the time in Shanghai.
    pub async fn open_store_all_day(&self, token: &str) -> anyhow::Result<()> {
        let path = format!("/api/v1/console/stores/{}", self.tour.store_id);
        let store: serde_json::Value = self
            .http
            .get(self.url(&path))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        let mut profile = serde_json::json!({});
        for key in ["name", "name_en", "address", "phone", "location", "rules"] {
            profile[key] = store[key].clone();
        }
        profile["rules"]["hours"] = serde_json::json!([]);
        let response = self
            .http
            .put(self.url(&path))
            .bearer_auth(token)
            .json(&profile)
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == 200,
            "opening the store: {}",
            response.text().await?
        );
        Ok(())
    }
}
