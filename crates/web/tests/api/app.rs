//! The test application: the real router over an isolated database, a fixed clock,
//! and two brands (A and B) each with a store, an owner and a small menu.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use diancan_domain::catalog::{CategoryDraft, DishDraft};
use diancan_domain::money::Money;
use diancan_domain::schedule::{Schedule, TimeOfDay, TimeWindow, Weekdays};
use diancan_domain::staff::{Role, StoreAccess};
use diancan_domain::store::{GeoPoint, PackingFee, PayMode, StoreRules};
use diancan_domain::*;
use diancan_storage::testing::TestDb;
use diancan_storage::{Db, DiningTable, NewStaff, StoreProfile};
use diancan_web::forwarded::TrustedProxies;
use diancan_web::{AppConfig, AppState, Clock};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse 饺子";
/// Wednesday 2026-11-25 12:00 in Shanghai.
pub const NOON_SHANGHAI: &str = "2026-11-25T04:00:00Z";

/// Moves a [`movable_clock`] forward.
#[derive(Clone)]
pub struct ClockHand(Arc<AtomicI64>);

impl ClockHand {
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

/// A clock that stands at [`NOON_SHANGHAI`] until the test moves it.
pub fn movable_clock() -> (Clock, ClockHand) {
    let elapsed = Arc::new(AtomicI64::new(0));
    let start = NOON_SHANGHAI
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond();
    let hand = ClockHand(elapsed.clone());
    let clock = Clock::from_fn(move || {
        jiff::Timestamp::from_millisecond(start + elapsed.load(Ordering::SeqCst)).unwrap()
    });
    (clock, hand)
}

/// `request` as if it arrived on a socket from `peer` (in-process requests have no socket).
pub fn from_peer(mut request: Request<Body>, peer: &str) -> Request<Body> {
    let address = std::net::SocketAddr::new(peer.parse().unwrap(), 40_000);
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(address));
    request
}

#[derive(Clone)]
pub struct Tenant {
    pub brand: BrandId,
    pub store: StoreId,
    pub area: AreaId,
    pub table: TableId,
    pub table_token: String,
    pub category: CategoryId,
    pub dish: DishId,
    pub sku: SkuId,
    pub owner_login: String,
}

/// A test app listening on a socket.
pub struct Served {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
    }
}

pub struct TestApp {
    pub state: AppState,
    /// Delivers the outbox as `serve` would (live wake-ups, menu refreshes); `None` when a test
    /// stands between commits and their delivery.
    outbox: Option<diancan_usecases::workers::Workers>,
    pub router: axum::Router,
    pub a: Tenant,
    pub b: Tenant,
    /// The access secret each guest order placed through [`TestApp::place`] was given, by id.
    secrets: Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
    test_db: Option<TestDb>,
}

pub fn store_profile(name: &str) -> StoreProfile {
    StoreProfile {
        name: name.into(),
        name_en: None,
        address: "上海市黄浦区南京东路 1 号".into(),
        phone: None,
        location: GeoPoint::parse(31_235_000, 121_480_000).unwrap(),
        rules: StoreRules {
            time_zone: diancan_domain::schedule::StoreTimeZone::shanghai(),
            hours: Schedule::new(vec![TimeWindow {
                weekdays: Weekdays::ALL,
                start: TimeOfDay::parse("07:00").unwrap(),
                end: TimeOfDay::parse("22:00").unwrap(),
            }]),
            accepting_orders: true,
            pay_mode: PayMode::PayFirst,
            packing_fee: PackingFee::PerItem {
                fee_fen: Money::from_fen(100),
            },
            seat_fee_fen: Money::ZERO,
            business_day_starts_at: TimeOfDay::parse("04:00").unwrap(),
            table_ordering: Default::default(),
            delivery_zones: Vec::new(),
            slots: Default::default(),
            unpaid_timeout_minutes: 15,
            auto_accept: Default::default(),
        },
    }
}

pub fn noodle_draft(category: CategoryId, code: &str) -> Value {
    json!({
        "category_id": category,
        "name": "红烧牛肉面",
        "tags": ["招牌"],
        "skus": [{"code": format!("{code}-L"), "name": "大碗", "price_fen": 2800}, {"code": format!("{code}-M"), "name": "中碗", "price_fen": 2400}],
        "option_groups": [{"name": "辣度", "min_select": 1, "max_select": 1, "options": [{"name": "微辣"}, {"name": "特辣"}]}]
    })
}

async fn tenant(db: &Db, slug: &str, password_hash: &str) -> Tenant {
    let now = 1_795_000_000_000;
    let brand = db
        .create_brand(&format!("{slug} 面馆"), slug, now)
        .await
        .unwrap();
    let store = db
        .create_store(brand.id, &store_profile(&format!("{slug} 店")), now)
        .await
        .unwrap();
    let area = db.create_area(brand.id, store.id, "大厅", 1).await.unwrap();
    let owner_login = format!("{slug}-owner");
    db.create_staff(
        &NewStaff {
            brand_id: brand.id,
            login: owner_login.clone(),
            display_name: "老板".into(),
            password_hash: password_hash.into(),
            role: Role::Owner,
            access: StoreAccess::AllStores,
        },
        now,
    )
    .await
    .unwrap();
    for role in [Role::Manager, Role::Kitchen, Role::Waiter] {
        db.create_staff(
            &NewStaff {
                brand_id: brand.id,
                login: format!("{slug}-{}", role.as_str()),
                display_name: role.label_zh().into(),
                password_hash: password_hash.into(),
                role,
                access: StoreAccess::Only(vec![store.id]),
            },
            now,
        )
        .await
        .unwrap();
    }
    let category = CategoryDraft {
        name: "面食".into(),
        name_en: None,
        sort_order: 1,
        availability: Schedule::always(),
    }
    .parse(CategoryId::new(), brand.id)
    .unwrap();
    db.create_category(&category).await.unwrap();
    let draft: DishDraft =
        serde_json::from_value(noodle_draft(category.id, &slug.to_uppercase())).unwrap();
    let dish = draft
        .parse(DishId::new(), brand.id, &HashSet::new())
        .unwrap();
    db.save_dish(&dish, true, now).await.unwrap();
    let key = diancan_web::table_token::load_or_create_key(db)
        .await
        .unwrap();
    let table_id = TableId::new();
    let token = diancan_web::table_token::issue(&key, table_id);
    db.create_table(
        brand.id,
        &DiningTable {
            id: table_id,
            store_id: store.id,
            area_id: area.id,
            code: "A1".into(),
            seats: 4,
            qr_token: token.clone(),
        },
    )
    .await
    .unwrap();
    Tenant {
        brand: brand.id,
        store: store.id,
        area: area.id,
        table: table_id,
        table_token: token,
        category: category.id,
        dish: dish.id,
        sku: dish.skus[0].id,
        owner_login,
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_clock(Clock::fixed(NOON_SHANGHAI.parse().unwrap())).await
    }

    pub async fn with_clock(clock: Clock) -> TestApp {
        let test_db = match std::env::var("DIANCAN_TEST_DATABASE").as_deref() {
            Ok("postgres") => TestDb::postgres()
                .await
                .expect("DIANCAN_TEST_DATABASE=postgres needs a reachable PostgreSQL"),
            _ => TestDb::sqlite().await,
        };
        let db = test_db.db.clone();
        let hash = diancan_web::passwords::hash(PASSWORD.into(), true).await;
        let a = tenant(&db, "alpha", &hash).await;
        let b = tenant(&db, "beta", &hash).await;
        // The keys every instance shares through the database, as `diancan serve` loads them.
        let config = AppConfig {
            fast_password_hashing: true,
            table_token_key: diancan_web::table_token::load_or_create_key(&db)
                .await
                .unwrap(),
            request_digest_key: diancan_usecases::tables::load_or_create_secret(
                &db,
                "request_digest_key",
            )
            .await
            .unwrap(),
            order_access_key: diancan_usecases::tables::load_or_create_secret(
                &db,
                "order_access_key",
            )
            .await
            .unwrap(),
            ..AppConfig::default()
        };
        let state = AppState::new(db, clock, config);
        let router = diancan_web::router(state.clone());
        TestApp {
            outbox: Some(diancan_usecases::workers::spawn_outbox(state.core.clone())),
            state,
            router,
            a,
            b,
            secrets: Default::default(),
            test_db: Some(test_db),
        }
    }

    /// Rebuilds the router with `tweak` applied to this instance's configuration.
    pub fn reconfigure(&mut self, tweak: impl FnOnce(&mut AppConfig)) {
        let mut config = (*self.state.config).clone();
        tweak(&mut config);
        self.state.config = Arc::new(config);
        self.router = diancan_web::router(self.state.clone());
    }

    /// Pays through both gateway simulators, as demo mode does (their pages mounted).
    pub fn simulate_payments(&mut self) {
        self.state = self.state.clone().with_simulated_payments();
        self.router = diancan_web::router(self.state.clone());
        // The outbox asks the gateways for refunds: it needs them too.
        if self.outbox.is_some() {
            self.start_outbox();
        }
    }

    /// Believes `X-Forwarded-*` from the proxies in `ranges`.
    pub fn trust_proxies(&mut self, ranges: &[&str]) {
        let ranges = ranges.iter().map(|r| r.parse().unwrap()).collect();
        self.reconfigure(|config| config.trusted_proxies = TrustedProxies::new(ranges));
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// A pickup cart: `quantity` bowls of tenant A's noodles (spec 0, first spice level).
    pub async fn pickup_body(&self, quantity: i64) -> Value {
        let (_, menu) = self
            .get(&format!("/api/v1/stores/{}/menu", self.a.store), None)
            .await;
        let dish = &menu["categories"][0]["dishes"][0];
        serde_json::json!({
            "channel": "pickup",
            "lines": [{"sku_id": dish["skus"][0]["id"], "quantity": quantity, "option_ids": [dish["option_groups"][0]["options"][0]["id"]]}]
        })
    }

    /// `body` with the quote version this instance gives it now, ready to place.
    pub async fn quoted(&self, mut body: Value) -> Value {
        let (status, quote) = self
            .post(
                &format!("/api/v1/stores/{}/quote", self.a.store),
                None,
                body.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{quote}");
        body["quote_version"] = quote["version"].clone();
        body
    }

    /// Places `body` at tenant A's store under the idempotency key `key`.
    pub async fn place(&self, key: &str, body: &Value) -> (StatusCode, Value) {
        let request = Request::post(format!("/api/v1/stores/{}/orders", self.a.store))
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", key)
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, _, body) = self.send_request(request).await;
        if let (Some(id), Some(secret)) = (body["id"].as_str(), body["access_secret"].as_str()) {
            self.secrets
                .lock()
                .unwrap()
                .insert(id.to_owned(), secret.to_owned());
        }
        (status, body)
    }

    /// The access secret the last placement of order `id` through [`TestApp::place`] gave.
    pub fn secret_of(&self, id: &str) -> String {
        self.secrets
            .lock()
            .unwrap()
            .get(id)
            .cloned()
            .unwrap_or_else(|| panic!("order {id} was not placed by a guest through place()"))
    }

    /// A guest's request on their order `id` (`action` is `""`, `"/hurry"`, `"/cancel"`, …),
    /// carrying its secret as the customer app does.
    pub async fn as_guest(&self, method: Method, id: &str, action: &str) -> (StatusCode, Value) {
        let secret = self.secret_of(id);
        self.with_secret(
            method,
            &format!("/api/v1/orders/{id}{action}"),
            Some(&secret),
        )
        .await
    }

    /// A request to `path` with `secret` (if any) as `X-Order-Secret`.
    pub async fn with_secret(
        &self,
        method: Method,
        path: &str,
        secret: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(secret) = secret {
            builder = builder.header("x-order-secret", secret);
        }
        let (status, _, body) = self
            .send_request(builder.body(Body::empty()).unwrap())
            .await;
        (status, body)
    }

    /// Serves this app on a real loopback socket (for SSE and hung-up clients), as `diancan serve`
    /// does; [`Served::stop`] shuts it down and waits for it.
    pub async fn serve(&self) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(diancan_web::serve(
            listener,
            self.state.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        Served { base, stop, server }
    }

    /// Another instance on the same database, as behind a load balancer: its own caches.
    pub fn second_instance(&self) -> TestApp {
        self.second_instance_with(|_| {})
    }

    /// Another instance whose configuration `tweak` adjusts.
    pub fn second_instance_with(&self, tweak: impl FnOnce(&mut AppConfig)) -> TestApp {
        let mut config = AppConfig {
            fast_password_hashing: true,
            table_token_key: self.state.config.table_token_key.clone(),
            request_digest_key: self.state.config.request_digest_key.clone(),
            order_access_key: self.state.config.order_access_key.clone(),
            ..AppConfig::default()
        };
        tweak(&mut config);
        let state = AppState::new(self.db().clone(), self.state.clock.clone(), config);
        TestApp {
            outbox: config_runs_workers(&state)
                .then(|| diancan_usecases::workers::spawn_outbox(state.core.clone())),
            router: diancan_web::router(state.clone()),
            state,
            a: self.a.clone(),
            b: self.b.clone(),
            secrets: self.secrets.clone(),
            test_db: None,
        }
    }

    /// Stops delivering the outbox (as if the process died right after its commits).
    pub fn stop_outbox(&mut self) {
        self.outbox = None;
    }

    /// Starts delivering the outbox (again), as a restarted process does.
    pub fn start_outbox(&mut self) {
        self.outbox = Some(diancan_usecases::workers::spawn_outbox(
            self.state.core.clone(),
        ));
    }

    /// Waits until every outbox row is delivered. Call it before [`TestApp::stop_outbox`]:
    /// a deliverer stopped mid-round would keep its rows leased past the fixed clock's end.
    pub async fn outbox_drained(&self) {
        let db = self.db().clone();
        wait_until("the outbox is delivered", || {
            let db = db.clone();
            async move { db.outbox_counts().await.unwrap().pending == 0 }
        })
        .await;
    }

    /// The URL of the test database (for reading a column no API shows).
    pub fn database_url(&self) -> &str {
        &self
            .test_db
            .as_ref()
            .expect("the first instance owns the test database")
            .url
    }

    /// Adds a staff member to tenant A who logs in with [`PASSWORD`].
    pub async fn add_staff(&self, login: &str, role: Role, access: StoreAccess) {
        let hash = diancan_web::passwords::hash(PASSWORD.into(), true).await;
        self.db()
            .create_staff(
                &NewStaff {
                    brand_id: self.a.brand,
                    login: login.into(),
                    display_name: role.label_zh().into(),
                    password_hash: hash,
                    role,
                    access,
                },
                self.state.clock.now_ms(),
            )
            .await
            .unwrap();
    }

    /// A staff action on tenant A's order `order`, acting on the order's `version` as seen.
    pub async fn act(
        &self,
        token: &str,
        order: &str,
        action: &str,
        version: &Value,
    ) -> (StatusCode, Value) {
        self.post(
            &format!(
                "/api/v1/console/stores/{}/orders/{order}/actions",
                self.a.store
            ),
            Some(token),
            json!({"action": action, "version": version}),
        )
        .await
    }

    /// Sends one request through the router; returns status, headers and the JSON body (or Null).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
            None => builder.body(Body::empty()).unwrap(),
        };
        self.send_request(request).await
    }

    /// A new diner of `brand`, signed in as a WeChat customer: their id and bearer token.
    pub async fn signed_in_diner(&self, brand: BrandId) -> (CustomerId, String) {
        use sha2::Digest;
        let now = self.state.clock.now_ms();
        let record = self
            .db()
            .customer_by_wechat_or_create(
                brand,
                &diancan_domain::customer::BlindIndex::from_bytes(
                    uuid::Uuid::now_v7().as_bytes().to_vec(),
                ),
                "食客",
                now,
            )
            .await
            .unwrap();
        let token = uuid::Uuid::now_v7().simple().to_string();
        let hash = sha2::Sha256::digest(token.as_bytes()).to_vec();
        self.db()
            .create_customer_session(&hash, &record, now, now + 3_600_000)
            .await
            .unwrap();
        (record.id, token)
    }

    /// `method path` as the signed-in diner `token`, with a JSON body when given.
    pub async fn as_diner(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Customer {token}"));
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        let (status, _, body) = self.send_request(request.body(body).unwrap()).await;
        (status, body)
    }

    pub async fn send_request(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
            .await
            .unwrap();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, headers, value)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let (status, _, body) = self.send(Method::GET, path, token, None).await;
        (status, body)
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let (status, _, body) = self.send(Method::POST, path, token, Some(body)).await;
        (status, body)
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let (status, _, body) = self.send(Method::PUT, path, token, Some(body)).await;
        (status, body)
    }

    pub async fn login(&self, login: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"login": login, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Uploads `bytes` as the `file` field of a multipart form.
    pub async fn upload(
        &self,
        path: &str,
        token: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> (StatusCode, Value) {
        let boundary = "diancan-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        let (status, _, body) = self.send_request(request).await;
        (status, body)
    }

    pub async fn cleanup(mut self) {
        if let Some(test_db) = self.test_db.take() {
            test_db.cleanup().await;
        }
    }
}

/// Waits until `check` holds, checking every 10 ms for at most 10 s (then fails, saying `what`).
pub async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// The error code of an error response body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

fn config_runs_workers(state: &AppState) -> bool {
    state.config.run_workers
}

/// Collects everything logged while a test runs.
#[derive(Clone, Default)]
pub struct LogLines(Arc<std::sync::Mutex<Vec<u8>>>);

impl LogLines {
    /// Records every span and event at any level on this thread until the guard is dropped
    /// (in-process requests on a current-thread test runtime stay on it).
    pub fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for LogLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One event block of a live stream (`id:`, `event:`, `data:` lines).
pub struct SseBlock(String);

impl SseBlock {
    /// The value of the block's `name` line (`"id:"`, `"event:"`, `"data:"`), trimmed.
    pub fn field(&self, name: &str) -> Option<String> {
        self.0
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
    }
}

/// Reads a live response's event blocks until `keep` has kept `want` of them; waits at most
/// 10 s for each chunk, so a stream that goes quiet fails the test instead of hanging it.
pub async fn read_sse<T>(
    response: &mut reqwest::Response,
    want: usize,
    mut keep: impl FnMut(&SseBlock) -> Option<T>,
) -> Vec<T> {
    let mut buffer = String::new();
    let mut kept = Vec::new();
    while kept.len() < want {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), response.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("stream still open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block = SseBlock(buffer.drain(..end + 2).collect());
            if let Some(value) = keep(&block) {
                kept.push(value);
            }
        }
    }
    kept
}
