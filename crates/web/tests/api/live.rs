//! SSE on a real socket: a reconnecting phone sends Last-Event-ID and misses nothing, and a new
//! status arrives without polling. In process: streams are capped per owner and per address,
//! and end after their lifetime.

use crate::app::{TestApp, code, from_peer};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use std::time::Duration;
use tower::ServiceExt;

/// Reads the event stream until `want` ids have arrived; returns them with their event names.
async fn read_events(response: &mut reqwest::Response, want: usize) -> Vec<(String, String)> {
    crate::app::read_sse(response, want, |block| {
        Some((block.field("id:")?, block.field("event:")?))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_status_streams_live_and_replays_after_last_event_id() {
    let app = TestApp::new().await;
    let served = app.serve().await;
    let base = served.base.clone();
    let http = reqwest::Client::new();

    let body = app.quoted(app.pickup_body(1).await).await;
    let order: serde_json::Value = http
        .post(format!("{base}/api/v1/stores/{}/orders", app.a.store))
        .header("idempotency-key", "live-order-1")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = order["id"].as_str().unwrap().to_owned();
    let secret = order["access_secret"].as_str().unwrap().to_owned();
    let staff = app.login("alpha-manager").await;
    // Staff act on the socket too, each time on the version the last answer showed.
    let act = |action: &'static str, version: serde_json::Value| {
        let (http, base, staff, id) = (http.clone(), base.clone(), staff.clone(), id.clone());
        let store = app.a.store;
        async move {
            let response = http
                .post(format!(
                    "{base}/api/v1/console/stores/{store}/orders/{id}/actions"
                ))
                .bearer_auth(staff)
                .json(&json!({"action": action, "version": version}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.json::<serde_json::Value>().await.unwrap()
        }
    };
    let paid = act("pay", order["version"].clone()).await;

    // A phone that saw event 1 reconnects: it gets 2 from the log, then 3 live.
    let mut stream = http
        .get(format!("{base}/api/v1/orders/{id}/events"))
        .header("x-order-secret", &secret)
        .header("last-event-id", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    assert_eq!(
        read_events(&mut stream, 1).await,
        [("2".to_owned(), "order.status".to_owned())]
    );
    act("accept", paid["version"].clone()).await;
    assert_eq!(
        read_events(&mut stream, 1).await,
        [("3".to_owned(), "order.status".to_owned())]
    );

    // A fresh phone gets everything from the start; EventSource sends the secret in the query.
    let mut fresh = http
        .get(format!("{base}/api/v1/orders/{id}/events?secret={secret}"))
        .send()
        .await
        .unwrap();
    let ids: Vec<String> = read_events(&mut fresh, 3)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["1", "2", "3"]);

    drop(stream);
    drop(fresh);
    served.stop().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_at_one_table_see_each_others_cart_changes() {
    let app = TestApp::new().await;
    let served = app.serve().await;
    let base = served.base.clone();
    let http = reqwest::Client::new();
    let token = app.a.table_token.clone();
    let mut watcher = http
        .get(format!("{base}/api/v1/tables/{token}/cart/events"))
        .send()
        .await
        .unwrap();
    let line = diancan_domain::CartLineId::new();
    let put = json!({"kind": "put", "line_id": line, "line": {"sku_id": app.a.sku}, "quantity": 1, "added_by": "小李"});
    let response = http
        .post(format!("{base}/api/v1/tables/{token}/cart"))
        .json(&put)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        read_events(&mut watcher, 1).await,
        [("1".to_owned(), "cart.changed".to_owned())]
    );
    let cart: serde_json::Value = http
        .get(format!("{base}/api/v1/tables/{token}/cart"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cart["lines"][0]["added_by"], "小李");
    drop(watcher);
    served.stop().await;
    app.cleanup().await;
}

/// Two instances on one PostgreSQL: the phone watches its order through one, staff move it
/// through the other, and the new status arrives by the database's notification alone (no
/// stream polls the log). On SQLite there is one process, whose in-memory wake-up the test
/// above covers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_set_through_another_instance_arrives_live() {
    let app = TestApp::new().await;
    if app.db().backend() == diancan_storage::Backend::Sqlite {
        app.cleanup().await;
        return;
    }
    let watching = app.second_instance();
    // serve() takes connections only once the instance listens for notifications.
    let served = watching.serve().await;
    let base = served.base.clone();

    let body = app.quoted(app.pickup_body(1).await).await;
    let (status, order) = app.place("across-1", &body).await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap().to_owned();

    let http = reqwest::Client::new();
    let mut stream = http
        .get(format!("{base}/api/v1/orders/{id}/events"))
        .header("x-order-secret", app.secret_of(&id))
        .send()
        .await
        .unwrap();
    assert_eq!(
        read_events(&mut stream, 1).await,
        [("1".to_owned(), "order.placed".to_owned())],
        "the log so far"
    );

    let staff = app.login("alpha-manager").await;
    let (status, moved) = app
        .post(
            &format!("/api/v1/console/stores/{}/orders/{id}/actions", app.a.store),
            Some(&staff),
            json!({"action": "pay", "version": order["version"]}),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(
        read_events(&mut stream, 1).await,
        [("2".to_owned(), "order.status".to_owned())],
        "woken by the other instance's commit"
    );

    drop(stream);
    served.stop().await;
    app.cleanup().await;
}

/// An instance commits a payment and dies before delivering its announcements. The phone
/// follows the order through the instance that carries on, which is not delivering yet; when
/// its deliverer starts, the undelivered announcement wakes the stream: event 2 arrives once,
/// and the outbox ends empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announcements_left_by_a_dead_instance_wake_streams_once_after_restart() {
    let mut dying = TestApp::new().await;
    // Stopped between rounds, the deliverer holds no lease (the clock never passes one).
    dying.outbox_drained().await;
    dying.stop_outbox();
    let body = dying.quoted(dying.pickup_body(1).await).await;
    let (status, order) = dying.place("restart-0001", &body).await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap().to_owned();

    // The instance that carries on; on SQLite (one process) its hub is the one that wakes.
    let mut carrying_on = dying.second_instance_with(|config| config.run_workers = false);
    let served = carrying_on.serve().await;
    let http = reqwest::Client::new();
    let mut stream = http
        .get(format!("{}/api/v1/orders/{id}/events", served.base))
        .header("x-order-secret", dying.secret_of(&id))
        .header("last-event-id", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);

    let manager = dying.login("alpha-manager").await;
    let (status, paid) = dying.act(&manager, &id, "pay", &order["version"]).await;
    assert_eq!(status, 200, "{paid}");
    let left = dying.db().outbox_counts().await.unwrap();
    assert!(
        left.pending >= 2,
        "the placement's and the payment's announcements are undelivered: {left:?}"
    );

    carrying_on.start_outbox();
    assert_eq!(
        read_events(&mut stream, 1).await,
        [("2".to_owned(), "order.status".to_owned())]
    );
    dying.outbox_drained().await;

    // Exactly once: the next event on the stream is the next change, not event 2 again.
    let (status, accepted) = carrying_on
        .act(&manager, &id, "accept", &paid["version"])
        .await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(
        read_events(&mut stream, 1).await,
        [("3".to_owned(), "order.status".to_owned())]
    );
    dying.outbox_drained().await;

    drop(stream);
    served.stop().await;
    drop(carrying_on);
    dying.cleanup().await;
}

/// Opens `path` in process; the response (and with it the stream's slot) lives as long as the
/// returned value.
async fn open(app: &TestApp, request: Request<Body>) -> axum::response::Response {
    app.router.clone().oneshot(request).await.unwrap()
}

fn order_stream(id: &str, secret: &str) -> Request<Body> {
    Request::get(format!("/api/v1/orders/{id}/events"))
        .header("x-order-secret", secret)
        .body(Body::empty())
        .unwrap()
}

/// Checks a refused stream's answer: 429, a stable code, and when to come back.
async fn assert_refused(response: axum::response::Response) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(code(&body), "TOO_MANY_STREAMS");
}

#[tokio::test]
async fn streams_per_order_are_capped_and_a_closed_one_frees_its_slot() {
    let mut app = TestApp::new().await;
    app.reconfigure(|config| config.stream_limits.per_owner = 2);
    let body = app.quoted(app.pickup_body(1).await).await;
    let (_, order) = app.place("stream-cap-1", &body).await;
    let id = order["id"].as_str().unwrap().to_owned();
    let secret = app.secret_of(&id);

    let first = open(&app, order_stream(&id, &secret)).await;
    let second = open(&app, order_stream(&id, &secret)).await;
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_refused(open(&app, order_stream(&id, &secret)).await).await;

    // Another order has its own count.
    let (_, other) = app.place("stream-cap-2", &body).await;
    let other_id = other["id"].as_str().unwrap().to_owned();
    let elsewhere = open(&app, order_stream(&other_id, &app.secret_of(&other_id))).await;
    assert_eq!(elsewhere.status(), StatusCode::OK);

    // The phone closes one stream: its slot is free again, and the counts go back to nothing.
    drop(first);
    let again = open(&app, order_stream(&id, &secret)).await;
    assert_eq!(again.status(), StatusCode::OK);
    drop((second, again, elsewhere));
    assert_eq!(app.state.streams.count(&format!("order:{id}")), 0);
    app.cleanup().await;
}

#[tokio::test]
async fn streams_per_client_address_are_capped_behind_a_trusted_proxy_too() {
    let mut app = TestApp::new().await;
    app.trust_proxies(&["10.0.0.1"]);
    app.reconfigure(|config| config.stream_limits.per_address = 2);
    let via_proxy = |client: &str| {
        let request = Request::get(format!("/api/v1/tables/{}/cart/events", app.a.table_token))
            .header("x-forwarded-for", client)
            .body(Body::empty())
            .unwrap();
        from_peer(request, "10.0.0.1")
    };
    let one = open(&app, via_proxy("203.0.113.7")).await;
    let two = open(&app, via_proxy("203.0.113.7")).await;
    assert_eq!(
        (one.status(), two.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_refused(open(&app, via_proxy("203.0.113.7")).await).await;
    // Another diner behind the same proxy is counted on their own.
    let neighbour = open(&app, via_proxy("203.0.113.8")).await;
    assert_eq!(neighbour.status(), StatusCode::OK);
    drop(one);
    assert_eq!(
        open(&app, via_proxy("203.0.113.7")).await.status(),
        StatusCode::OK
    );
    drop((two, neighbour));
    app.cleanup().await;
}

/// Reads an in-process event stream until the server ends it; returns its ids and whether it
/// told the client when to reconnect.
async fn read_to_end(response: axum::response::Response) -> (Vec<String>, bool) {
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = tokio::time::timeout(
        Duration::from_secs(10),
        axum::body::to_bytes(response.into_body(), 1 << 20),
    )
    .await
    .expect("the stream ends after its lifetime")
    .unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let ids = text
        .lines()
        .filter_map(|l| l.strip_prefix("id:"))
        .map(|v| v.trim().to_owned())
        .collect();
    (ids, text.lines().any(|l| l.starts_with("retry:")))
}

#[tokio::test]
async fn a_stream_ends_after_its_lifetime_and_the_reconnect_gets_only_newer_events() {
    let mut app = TestApp::new().await;
    app.reconfigure(|config| config.stream_limits.max_lifetime = Duration::from_millis(200));
    let body = app.quoted(app.pickup_body(1).await).await;
    let (_, order) = app.place("stream-life-1", &body).await;
    let id = order["id"].as_str().unwrap().to_owned();
    let secret = app.secret_of(&id);
    let manager = app.login("alpha-manager").await;
    let (status, paid) = app.act(&manager, &id, "pay", &order["version"]).await;
    assert_eq!(status, StatusCode::OK, "{paid}");

    let (ids, retry) = read_to_end(open(&app, order_stream(&id, &secret)).await).await;
    assert_eq!(ids, ["1", "2"]);
    assert!(retry, "the stream says when to reconnect");
    assert_eq!(
        app.state.streams.count(&format!("order:{id}")),
        0,
        "its slot is free"
    );

    let (status, accepted) = app.act(&manager, &id, "accept", &paid["version"]).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let mut reconnect = order_stream(&id, &secret);
    reconnect
        .headers_mut()
        .insert("last-event-id", "2".parse().unwrap());
    let (ids, _) = read_to_end(open(&app, reconnect).await).await;
    assert_eq!(ids, ["3"], "only what came after Last-Event-ID");
    app.cleanup().await;
}

/// The pickup screen needs no login, so its streams are counted too: per store and address.
#[tokio::test]
async fn public_pickup_screens_are_capped_like_every_stream() {
    let mut app = TestApp::new().await;
    app.reconfigure(|config| config.stream_limits.per_owner = 2);
    let pickup = || {
        Request::get(format!("/api/v1/stores/{}/pickup/events", app.a.store))
            .body(Body::empty())
            .unwrap()
    };
    let first = open(&app, pickup()).await;
    let second = open(&app, pickup()).await;
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_refused(open(&app, pickup()).await).await;
    drop(first);
    assert_eq!(open(&app, pickup()).await.status(), StatusCode::OK);
    drop(second);
    app.cleanup().await;
}
