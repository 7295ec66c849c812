//! The load generator of `scripts/bench-streams.sh`: many live streams held open at once while
//! orders move, and how long each change takes to reach them.
//!
//! `live` mode opens `--boards` orders-board streams, `--kitchens` kitchen streams and
//! `--diners` order-page streams (spread over a few orders placed first), then places
//! `--orders` pickup orders one after another, paying and accepting each. For every order it
//! times, from the moment the staff action's answer arrived (the change had committed):
//! - to the `pay` change on every board stream (`order` event naming the order);
//! - to its `ticket.created` on every kitchen stream (written by the accept);
//! - to the `order.status` event on every order-page stream of the orders they follow.
//!
//! `idle` mode opens `--diners` order-page streams and holds them for `--hold-seconds`,
//! printing when they are all open (so the script can read the server's memory and CPU).
//!
//! The report goes to stderr and one JSON object to stdout.

use clap::Parser;
use hdrhistogram::Histogram;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Live streams held open while orders move")]
struct Args {
    #[arg(long)]
    base_url: String,
    /// JSON from the bench script: {"store", "token", "cart", "body"}.
    #[arg(long)]
    setup: PathBuf,
    /// `live` or `idle`.
    #[arg(long, default_value = "live")]
    mode: String,
    #[arg(long, default_value_t = 100)]
    boards: usize,
    #[arg(long, default_value_t = 100)]
    kitchens: usize,
    #[arg(long, default_value_t = 800)]
    diners: usize,
    /// Orders the diners' streams follow (each followed by diners / this many streams).
    #[arg(long, default_value_t = 100)]
    followed: usize,
    /// Orders moved while the streams listen (live mode).
    #[arg(long, default_value_t = 100)]
    orders: usize,
    /// How long idle mode holds its streams open.
    #[arg(long, default_value_t = 20)]
    hold_seconds: u64,
}

#[derive(Deserialize)]
struct Setup {
    store: String,
    token: String,
    cart: Value,
}

/// When each stream first saw each awaited thing (`kind:order id`).
type Seen = Arc<Mutex<HashMap<String, Vec<Instant>>>>;

struct Client {
    http: reqwest::Client,
    base: String,
    setup: Setup,
}

impl Client {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.setup.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "{path}: {status} {body}");
        Ok(body)
    }

    /// A new pickup order, quoted first; returns the placement answer.
    async fn place(&self, key: &str) -> anyhow::Result<Value> {
        let store = &self.setup.store;
        let quote = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/stores/{store}/quote"),
                Some(self.setup.cart.clone()),
                None,
            )
            .await?;
        let mut body = self.setup.cart.clone();
        body["quote_version"] = quote["version"].clone();
        self.call(
            reqwest::Method::POST,
            &format!("/api/v1/stores/{store}/orders"),
            Some(body),
            Some(key),
        )
        .await
    }

    async fn act(&self, order: &Value, action: &str) -> anyhow::Result<Value> {
        let store = &self.setup.store;
        let id = order["id"].as_str().unwrap_or_default();
        self.call(
            reqwest::Method::POST,
            &format!("/api/v1/console/stores/{store}/orders/{id}/actions"),
            Some(json!({"action": action, "version": order["version"]})),
            None,
        )
        .await
    }
}

/// Follows one SSE stream, recording when each awaited thing first arrives on it. `key_of`
/// turns an event (name, data) into what it announces, if anything.
fn follow(
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    seen: Seen,
    opened: Arc<tokio::sync::Semaphore>,
    key_of: impl Fn(&str, &Value) -> Option<String> + Send + 'static,
) {
    tokio::spawn(async move {
        let mut request = http.get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let mut response = match request.send().await {
            Ok(r) if r.status().is_success() => r,
            Ok(r) => {
                eprintln!("stream {url}: {}", r.status());
                return;
            }
            Err(error) => {
                eprintln!("stream {url}: {error}");
                return;
            }
        };
        opened.add_permits(1);
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim().to_owned())
                };
                let (Some(kind), Some(data)) = (field("event:"), field("data:")) else {
                    continue;
                };
                let Ok(data) = serde_json::from_str::<Value>(&data) else {
                    continue;
                };
                if let Some(key) = key_of(&kind, &data) {
                    let at = Instant::now();
                    seen.lock().unwrap().entry(key).or_default().push(at);
                }
            }
        }
    });
}

fn board_key(kind: &str, data: &Value) -> Option<String> {
    (kind == "order" && data["action"] == "pay")
        .then(|| format!("board:{}", data["order"]["id"].as_str().unwrap_or_default()))
}

fn kitchen_key(kind: &str, data: &Value) -> Option<String> {
    (kind == "ticket.created").then(|| {
        format!(
            "kitchen:{}",
            data["ticket"]["order_id"].as_str().unwrap_or_default()
        )
    })
}

/// An order page's stream carries no order id: the key names the order it follows.
fn diner_key(order: String) -> impl Fn(&str, &Value) -> Option<String> + Send + 'static {
    move |kind, data| {
        (kind == "order.status" && data["status"] == "placed").then(|| format!("diner:{order}"))
    }
}

/// Waits until `count` streams saw `key` (or the deadline), records how long after `from` each
/// did, and returns how many never did.
async fn awaited(
    seen: &Seen,
    key: &str,
    count: usize,
    from: Instant,
    deadline: Instant,
    histogram: &mut Histogram<u64>,
) -> anyhow::Result<u64> {
    loop {
        let arrived: Vec<Instant> = seen.lock().unwrap().get(key).cloned().unwrap_or_default();
        if arrived.len() >= count || Instant::now() > deadline {
            for at in &arrived {
                histogram.record(at.saturating_duration_since(from).as_micros() as u64)?;
            }
            return Ok((count - arrived.len().min(count)) as u64);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn percentiles(h: &Histogram<u64>) -> Value {
    json!({
        "count": h.len(),
        "p50_ms": h.value_at_quantile(0.50) as f64 / 1000.0,
        "p99_ms": h.value_at_quantile(0.99) as f64 / 1000.0,
        "max_ms": h.max() as f64 / 1000.0,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let setup: Setup = serde_json::from_str(&std::fs::read_to_string(&args.setup)?)?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let client = Client {
        http: http.clone(),
        base: args.base_url.clone(),
        setup,
    };
    let store = client.setup.store.clone();
    let seen: Seen = Arc::default();
    let opened = Arc::new(tokio::sync::Semaphore::new(0));

    // The orders the diners' pages follow, each by diners / followed streams.
    let mut followed = Vec::with_capacity(args.followed);
    for n in 0..args.followed.max(1) {
        followed.push(
            client
                .place(&format!("bench-streams-follow-{n}-{}", std::process::id()))
                .await?,
        );
    }
    let mut wanted = 0usize;
    for n in 0..args.diners {
        let order = &followed[n % followed.len()];
        let url = format!(
            "{}/api/v1/orders/{}/events?secret={}",
            args.base_url,
            order["id"].as_str().unwrap_or_default(),
            order["access_secret"].as_str().unwrap_or_default()
        );
        let id = order["id"].as_str().unwrap_or_default().to_owned();
        follow(
            http.clone(),
            url,
            None,
            seen.clone(),
            opened.clone(),
            diner_key(id),
        );
        wanted += 1;
    }
    if args.mode == "live" {
        for _ in 0..args.boards {
            let url = format!(
                "{}/api/v1/console/stores/{store}/board/events",
                args.base_url
            );
            follow(
                http.clone(),
                url,
                Some(client.setup.token.clone()),
                seen.clone(),
                opened.clone(),
                board_key,
            );
        }
        for _ in 0..args.kitchens {
            let url = format!(
                "{}/api/v1/console/stores/{store}/kitchen/events",
                args.base_url
            );
            follow(
                http.clone(),
                url,
                Some(client.setup.token.clone()),
                seen.clone(),
                opened.clone(),
                kitchen_key,
            );
        }
        wanted += args.boards + args.kitchens;
    }
    let started = Instant::now();
    let _all = tokio::time::timeout(Duration::from_secs(120), opened.acquire_many(wanted as u32))
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "only {} of {wanted} streams opened in 120 s",
                opened.available_permits()
            )
        })??;
    eprintln!(
        "{wanted} streams open after {:.1} s",
        started.elapsed().as_secs_f64()
    );

    if args.mode == "idle" {
        // The script reads the server's memory and CPU while they sit idle.
        println!("{}", json!({"open": wanted}));
        tokio::time::sleep(Duration::from_secs(args.hold_seconds)).await;
        return Ok(());
    }

    let mut board = Histogram::<u64>::new(3)?;
    let mut kitchen = Histogram::<u64>::new(3)?;
    let mut diner = Histogram::<u64>::new(3)?;
    let mut missing = 0u64;
    let per_order = followed.len();
    for n in 0..args.orders {
        let order = client
            .place(&format!("bench-streams-{n}-{}", std::process::id()))
            .await?;
        let paid = client.act(&order, "pay").await?;
        let paid_at = Instant::now();
        let accepted = client.act(&paid, "accept").await?;
        let accepted_at = Instant::now();
        // The diners' pages: pay one followed order too (each is paid once).
        let diner_paid = if let Some(followed_order) = followed.get(n) {
            client.act(followed_order, "pay").await?;
            Some((
                Instant::now(),
                followed_order["id"].as_str().unwrap_or_default().to_owned(),
            ))
        } else {
            None
        };
        let id = accepted["id"].as_str().unwrap_or_default().to_owned();
        let deadline = Instant::now() + Duration::from_secs(5);
        missing += awaited(
            &seen,
            &format!("board:{id}"),
            args.boards,
            paid_at,
            deadline,
            &mut board,
        )
        .await?;
        missing += awaited(
            &seen,
            &format!("kitchen:{id}"),
            args.kitchens,
            accepted_at,
            deadline,
            &mut kitchen,
        )
        .await?;
        if let Some((from, followed_id)) = diner_paid {
            let streams = args.diners / per_order + usize::from(n < args.diners % per_order);
            missing += awaited(
                &seen,
                &format!("diner:{followed_id}"),
                streams,
                from,
                deadline,
                &mut diner,
            )
            .await?;
        }
    }
    let report = json!({
        "streams": wanted,
        "orders": args.orders,
        "board": percentiles(&board),
        "kitchen": percentiles(&kitchen),
        "diner": percentiles(&diner),
        "missing": missing,
    });
    eprintln!("{report:#}");
    println!("{report}");
    if missing > 0 {
        std::process::exit(1);
    }
    Ok(())
}
