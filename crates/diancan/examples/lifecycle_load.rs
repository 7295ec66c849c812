//! The load generator of `scripts/bench-lifecycle.sh`: concurrent clients that each loop over
//! whole pickup lifecycles and check every answer, so a server that answers fast but wrong fails.
//!
//! A lifecycle is quote → place (a fresh `Idempotency-Key`) → staff 收款 → 接单 → 开始制作 → 出餐 →
//! 取餐 → 完成. Each call must answer with the expected HTTP status, and each order answer with the
//! expected next status and a higher version. At the deadline no client starts another lifecycle
//! but those in flight finish, so the totals (placements acknowledged, lifecycles completed) can
//! be compared exactly with what the database holds afterwards.
//!
//! The report goes to stderr and one JSON object with the totals to stdout; the exit code is 1
//! when any call failed.
//!
//! ```text
//! cargo run --release --example lifecycle_load -- --base-url http://127.0.0.1:8080 \
//!     --setup order.json --clients 16 --seconds 15
//! ```

use clap::{ArgAction, Parser, builder::BoolishValueParser};
use diancan_domain::ordering::{OrderAction, OrderStatus};
use hdrhistogram::Histogram;
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Parser)]
#[command(about = "Whole pickup lifecycles under load, every answer checked")]
struct Args {
    /// The server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    base_url: String,
    /// JSON from the bench script: {"store": id, "token": an owner's or manager's bearer token,
    /// "cart": the quote request}.
    #[arg(long)]
    setup: PathBuf,
    /// Concurrent clients, each one lifecycle at a time.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// For how long clients start new lifecycles; those in flight then finish.
    #[arg(long, default_value_t = 15.0)]
    seconds: f64,
    /// Quote → place only, no staff actions (to compare with placement alone).
    #[arg(long, env = "BENCH_PLACE_ONLY", value_parser = BoolishValueParser::new(),
        action = ArgAction::Set, default_value = "false")]
    place_only: bool,
    /// Send the order version the client saw with each staff action; 0 for a server that does
    /// not know the field yet (it refuses unknown fields).
    #[arg(long, env = "BENCH_SEND_VERSION", value_parser = BoolishValueParser::new(),
        action = ArgAction::Set, default_value = "true")]
    send_version: bool,
}

#[derive(Deserialize)]
struct Setup {
    store: String,
    token: String,
    cart: Value,
}

/// The pickup lifecycle as staff walk it: each action and the status it must lead to.
const PICKUP_LIFECYCLE: [(OrderAction, OrderStatus); 6] = [
    (OrderAction::Pay, OrderStatus::Placed),
    (OrderAction::Accept, OrderStatus::Accepted),
    (OrderAction::StartPreparing, OrderStatus::Preparing),
    (OrderAction::MarkReady, OrderStatus::Ready),
    (OrderAction::HandOver, OrderStatus::PickedUp),
    (OrderAction::Complete, OrderStatus::Completed),
];

/// A pay-first store's new order waits for 收款.
const PLACED_STATUS: OrderStatus = OrderStatus::AwaitingPayment;

/// The kinds of call, each with its own latency histogram: quote, place, then one per action.
const QUOTE: usize = 0;
const PLACE: usize = 1;
const FIRST_ACTION: usize = 2;
const CALL_KINDS: usize = FIRST_ACTION + PICKUP_LIFECYCLE.len();

fn call_name(kind: usize) -> &'static str {
    match kind {
        QUOTE => "quote",
        PLACE => "place",
        action => PICKUP_LIFECYCLE[action - FIRST_ACTION].0.as_str(),
    }
}

/// The slowest answer a histogram holds, in microseconds; slower ones are recorded as this.
const LONGEST_CALL_US: u64 = 600_000_000;

/// No call may hang the run: a server that stops answering turns into timeout errors.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
struct QuoteAnswer {
    version: String,
}

#[derive(Deserialize)]
struct OrderAnswer {
    id: String,
    status: String,
    version: i64,
}

/// A call that went wrong: `kind` groups it in the report, `sample` shows one instance.
struct CallError {
    kind: String,
    sample: String,
}

impl CallError {
    fn new(call: usize, what: impl Into<String>, sample: impl Into<String>) -> CallError {
        CallError {
            kind: format!("{}: {}", call_name(call), what.into()),
            sample: sample.into(),
        }
    }
}

/// What one client saw; clients keep their own and they are added up at the end, so recording
/// never contends.
struct Tally {
    latency_us: Vec<Histogram<u64>>,
    errors: BTreeMap<String, (u64, String)>,
    placed_acknowledged: u64,
    flows_completed: u64,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            latency_us: (0..CALL_KINDS)
                .map(|_| Histogram::new_with_bounds(1, LONGEST_CALL_US, 3).expect("valid bounds"))
                .collect(),
            errors: BTreeMap::new(),
            placed_acknowledged: 0,
            flows_completed: 0,
        }
    }

    fn error(&mut self, error: CallError) {
        let entry = self.errors.entry(error.kind).or_insert((0, error.sample));
        entry.0 += 1;
    }

    fn add(&mut self, other: Tally) {
        for (mine, theirs) in self.latency_us.iter_mut().zip(&other.latency_us) {
            mine.add(theirs).expect("same bounds");
        }
        for (kind, (count, sample)) in other.errors {
            self.errors.entry(kind).or_insert((0, sample)).0 += count;
        }
        self.placed_acknowledged += other.placed_acknowledged;
        self.flows_completed += other.flows_completed;
    }
}

struct Run {
    http: reqwest::Client,
    base: String,
    setup: Setup,
    place_only: bool,
    send_version: bool,
    deadline: Instant,
    /// Makes Idempotency-Keys unique across runs against the same database.
    nonce: u128,
}

impl Run {
    /// Sends one call and waits for the whole answer. Only answers with the expected status are
    /// timed: a quick refusal must not make the server look fast; it is counted as an error.
    async fn send(
        &self,
        tally: &mut Tally,
        call: usize,
        request: RequestBuilder,
        expected: StatusCode,
    ) -> Result<Vec<u8>, CallError> {
        let started = Instant::now();
        let failed = |e: reqwest::Error| {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "transport error"
            };
            CallError::new(call, what, e.to_string())
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let body = response.bytes().await.map_err(failed)?;
        if status != expected {
            let code = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_default();
            return Err(CallError::new(
                call,
                format!("HTTP {} {code}", status.as_u16()),
                String::from_utf8_lossy(&body[..body.len().min(300)]),
            ));
        }
        let took = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        tally.latency_us[call].saturating_record(took.max(1));
        Ok(Vec::from(body))
    }

    async fn lifecycle(&self, tally: &mut Tally, key: &str) -> Result<(), CallError> {
        let store = &self.setup.store;
        let quote = self
            .send(
                tally,
                QUOTE,
                self.http
                    .post(format!("{}/api/v1/stores/{store}/quote", self.base))
                    .json(&self.setup.cart),
                StatusCode::OK,
            )
            .await?;
        let quote: QuoteAnswer = parse(QUOTE, &quote)?;

        let mut order_body = self.setup.cart.clone();
        order_body["quote_version"] = Value::String(quote.version);
        let placed = self
            .send(
                tally,
                PLACE,
                self.http
                    .post(format!("{}/api/v1/stores/{store}/orders", self.base))
                    .header("Idempotency-Key", key)
                    .json(&order_body),
                StatusCode::CREATED,
            )
            .await?;
        // 201 is the server's word that the order is stored, whatever the body says next.
        tally.placed_acknowledged += 1;
        let mut order: OrderAnswer = parse(PLACE, &placed)?;
        expect_status(PLACE, &order, PLACED_STATUS)?;
        if self.place_only {
            tally.flows_completed += 1;
            return Ok(());
        }

        for (step, (action, next)) in PICKUP_LIFECYCLE.iter().enumerate() {
            let call = FIRST_ACTION + step;
            let mut request = json!({ "action": action.as_str() });
            if self.send_version {
                request["version"] = json!(order.version);
            }
            let answer = self
                .send(
                    tally,
                    call,
                    self.http
                        .post(format!(
                            "{}/api/v1/console/stores/{store}/orders/{}/actions",
                            self.base, order.id
                        ))
                        .bearer_auth(&self.setup.token)
                        .json(&request),
                    StatusCode::OK,
                )
                .await?;
            let answer: OrderAnswer = parse(call, &answer)?;
            if answer.id != order.id {
                return Err(CallError::new(
                    call,
                    "answered with another order",
                    format!("asked about {}, got {}", order.id, answer.id),
                ));
            }
            expect_status(call, &answer, *next)?;
            if answer.version <= order.version {
                return Err(CallError::new(
                    call,
                    "version did not grow",
                    format!("{} after {}", answer.version, order.version),
                ));
            }
            order = answer;
        }
        tally.flows_completed += 1;
        Ok(())
    }
}

fn parse<T: serde::de::DeserializeOwned>(call: usize, body: &[u8]) -> Result<T, CallError> {
    serde_json::from_slice(body).map_err(|e| {
        CallError::new(
            call,
            "unreadable answer",
            format!(
                "{e}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ),
        )
    })
}

fn expect_status(call: usize, order: &OrderAnswer, expected: OrderStatus) -> Result<(), CallError> {
    if order.status == expected.as_str() {
        Ok(())
    } else {
        Err(CallError::new(
            call,
            format!("status {} instead of {}", order.status, expected.as_str()),
            format!("order {}", order.id),
        ))
    }
}

async fn client(run: Arc<Run>, client: usize) -> Tally {
    let mut tally = Tally::new();
    let mut lifecycle = 0u64;
    while Instant::now() < run.deadline {
        lifecycle += 1;
        let key = format!("lifecycle-{}-{client}-{lifecycle}", run.nonce);
        if let Err(error) = run.lifecycle(&mut tally, &key).await {
            tally.error(error);
        }
    }
    tally
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn summary(histogram: &Histogram<u64>) -> Value {
    json!({
        "count": histogram.len(),
        "p50_ms": ms(histogram.value_at_quantile(0.50)),
        "p99_ms": ms(histogram.value_at_quantile(0.99)),
        "max_ms": ms(histogram.max()),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.clients > 0, "--clients must be at least 1");
    anyhow::ensure!(args.seconds > 0.0, "--seconds must be positive");
    let setup: Setup = serde_json::from_slice(&std::fs::read(&args.setup)?)?;
    let http = reqwest::Client::builder()
        .timeout(CALL_TIMEOUT)
        .tcp_nodelay(true)
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let started = Instant::now();
    let run = Arc::new(Run {
        http,
        base: args.base_url.trim_end_matches('/').to_owned(),
        setup,
        place_only: args.place_only,
        send_version: args.send_version,
        deadline: started + Duration::from_secs_f64(args.seconds),
        nonce: SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis(),
    });
    let clients: Vec<_> = (0..args.clients)
        .map(|n| tokio::spawn(client(run.clone(), n)))
        .collect();
    let mut total = Tally::new();
    for handle in clients {
        total.add(handle.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();

    let mut overall = Histogram::<u64>::new_with_bounds(1, LONGEST_CALL_US, 3)?;
    let mut by_kind = serde_json::Map::new();
    let mut slowest: Option<(usize, u64)> = None;
    for (kind, histogram) in total.latency_us.iter().enumerate() {
        if histogram.is_empty() {
            continue;
        }
        overall.add(histogram)?;
        by_kind.insert(call_name(kind).to_owned(), summary(histogram));
        let p99 = histogram.value_at_quantile(0.99);
        if slowest.is_none_or(|(_, worst)| p99 > worst) {
            slowest = Some((kind, p99));
        }
    }
    let calls = overall.len();
    let errors: u64 = total.errors.values().map(|(count, _)| count).sum();
    let flows_per_s = total.flows_completed as f64 / elapsed;
    let calls_per_s = calls as f64 / elapsed;
    let what = if args.place_only {
        "quote → place flows"
    } else {
        "whole pickup lifecycles"
    };

    eprintln!(
        "{} clients, {what}, new ones started for {:.1} s, all done after {elapsed:.2} s{}",
        args.clients,
        args.seconds,
        if args.send_version || args.place_only {
            ""
        } else {
            " (staff actions without version)"
        }
    );
    eprintln!(
        "  {} completed ({flows_per_s:.1}/s), {calls} calls ({calls_per_s:.1}/s), {} placements acknowledged",
        total.flows_completed, total.placed_acknowledged
    );
    eprintln!(
        "  {:<16} {:>8} {:>9} {:>9} {:>9}",
        "call", "count", "p50 ms", "p99 ms", "max ms"
    );
    let line = |name: &str, h: &Histogram<u64>| {
        eprintln!(
            "  {name:<16} {:>8} {:>9.2} {:>9.2} {:>9.2}",
            h.len(),
            ms(h.value_at_quantile(0.50)),
            ms(h.value_at_quantile(0.99)),
            ms(h.max())
        )
    };
    for (kind, histogram) in total.latency_us.iter().enumerate() {
        if !histogram.is_empty() {
            line(call_name(kind), histogram);
        }
    }
    line("overall", &overall);
    if errors == 0 {
        eprintln!("  no errors");
    } else {
        eprintln!("  {errors} ERRORS:");
        for (kind, (count, sample)) in &total.errors {
            eprintln!("    {count:>6} × {kind}   e.g. {sample}");
        }
    }

    let totals = json!({
        "mode": if args.place_only { "place_only" } else { "lifecycle" },
        "clients": args.clients,
        "seconds": elapsed,
        "send_version": args.send_version,
        "placed_acknowledged": total.placed_acknowledged,
        "lifecycles_completed": if args.place_only { 0 } else { total.flows_completed },
        "flows_completed": total.flows_completed,
        "flows_per_s": flows_per_s,
        "calls": calls,
        "calls_per_s": calls_per_s,
        "errors": errors,
        "errors_by_kind": total.errors.iter().map(|(k, (n, _))| (k.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "calls_by_kind": by_kind,
        "overall": summary(&overall),
        "slowest": slowest.map(|(kind, p99)| json!({ "kind": call_name(kind), "p99_ms": ms(p99) })),
    });
    println!("{totals}");
    if errors > 0 {
        std::process::exit(1);
    }
    Ok(())
}
