//! A diner's order is reached with the diner's session or with the secret handed out when it was
//! placed, never with its id alone: anything else is told the order does not exist, in the very
//! words used for an order that does not.

use crate::app::{LogLines, TestApp, code};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

/// A guest's pickup order at tenant A, awaiting payment.
async fn guest_order(app: &TestApp, key: &str) -> (String, String) {
    let body = app.quoted(app.pickup_body(1).await).await;
    let (status, order) = app.place(key, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let secret = order["access_secret"]
        .as_str()
        .expect("a guest is handed the order's secret")
        .to_owned();
    (order["id"].as_str().unwrap().to_owned(), secret)
}

/// The status of opening the order's live stream, and its body when it is an error (a stream
/// that opened is dropped at once, unread).
async fn open_stream(app: &TestApp, id: &str, secret: Option<&str>) -> (StatusCode, Value) {
    let mut request = Request::get(format!("/api/v1/orders/{id}/events"));
    if let Some(secret) = secret {
        request = request.header("x-order-secret", secret);
    }
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    if status.is_success() {
        return (status, Value::Null);
    }
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// Every diner route on the order, as `secret` (or nothing) opens it: read, stream, hurry,
/// cancel. Hurry and cancel come last, since the cancel changes the order.
async fn every_route(app: &TestApp, id: &str, secret: Option<&str>) -> Vec<(StatusCode, Value)> {
    let mut answers = vec![
        app.with_secret(Method::GET, &format!("/api/v1/orders/{id}"), secret)
            .await,
        open_stream(app, id, secret).await,
    ];
    for action in ["hurry", "cancel"] {
        answers.push(
            app.with_secret(
                Method::POST,
                &format!("/api/v1/orders/{id}/{action}"),
                secret,
            )
            .await,
        );
    }
    answers
}

#[tokio::test]
async fn an_order_id_alone_or_a_wrong_secret_opens_nothing() {
    let app = TestApp::new().await;
    let (id, secret) = guest_order(&app, "guest-access-1").await;
    let (other_id, other_secret) = guest_order(&app, "guest-access-2").await;
    let (_, no_such_order) = app
        .with_secret(
            Method::GET,
            &format!("/api/v1/orders/{}", diancan_domain::OrderId::new()),
            None,
        )
        .await;
    assert_eq!(code(&no_such_order), "NOT_FOUND");

    let last = if secret.ends_with('x') { "y" } else { "x" };
    let wrong = format!("{}{last}", &secret[..secret.len() - 1]);
    for presented in [
        None,
        Some(wrong.as_str()),
        Some(other_secret.as_str()),
        Some(""),
    ] {
        for (status, body) in every_route(&app, &id, presented).await {
            assert_eq!(
                (status, &body),
                (StatusCode::NOT_FOUND, &no_such_order),
                "with {presented:?}: the same answer as for no order at all"
            );
        }
    }
    let (_, untouched) = app.as_guest(Method::GET, &id, "").await;
    assert_eq!(
        untouched["status"], "awaiting_payment",
        "nothing was cancelled"
    );

    // The right secret opens every route; the 409 is the order's own rule (not paid yet).
    let answers = every_route(&app, &id, Some(&secret)).await;
    let statuses: Vec<_> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::CONFLICT,
            StatusCode::OK
        ],
        "{answers:?}"
    );
    assert_eq!(code(&answers[2].1), "CANNOT_HURRY");
    assert_eq!(answers[3].1["status"], "cancelled");
    // …and only its own order.
    let (status, _) = app
        .with_secret(
            Method::GET,
            &format!("/api/v1/orders/{other_id}"),
            Some(&secret),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.cleanup().await;
}

#[tokio::test]
async fn a_retried_placement_hands_out_a_new_secret_and_the_first_stops_working() {
    let app = TestApp::new().await;
    let body = app.quoted(app.pickup_body(1).await).await;
    let (_, first) = app.place("guest-retry-1", &body).await;
    let (status, again) = app.place("guest-retry-1", &body).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(first["id"], again["id"]);
    let id = first["id"].as_str().unwrap();
    let path = format!("/api/v1/orders/{id}");
    for (secret, works) in [(&first, false), (&again, true)] {
        let (status, _) = app
            .with_secret(Method::GET, &path, secret["access_secret"].as_str())
            .await;
        assert_eq!(status == StatusCode::OK, works, "{secret}");
    }
    app.cleanup().await;
}

#[tokio::test]
async fn rotating_replaces_the_secret_and_revoking_leaves_none() {
    let app = TestApp::new().await;
    let (id, old) = guest_order(&app, "guest-rotate-1").await;
    let path = format!("/api/v1/orders/{id}");
    let secret_path = format!("/api/v1/orders/{id}/secret");

    for presented in [None, Some("not-the-secret")] {
        let (status, _) = app.with_secret(Method::POST, &secret_path, presented).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "rotating needs the pass");
    }
    let (status, rotated) = app
        .with_secret(Method::POST, &secret_path, Some(&old))
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new = rotated["access_secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(
        app.with_secret(Method::GET, &path, Some(&old)).await.0,
        StatusCode::NOT_FOUND,
        "the old secret stopped working"
    );
    assert_eq!(
        app.with_secret(Method::GET, &path, Some(&new)).await.0,
        StatusCode::OK
    );

    let (status, _) = app
        .with_secret(Method::DELETE, &secret_path, Some(&old))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "revoking needs the current pass"
    );
    let (status, _) = app
        .with_secret(Method::DELETE, &secret_path, Some(&new))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for secret in [&old, &new] {
        for (status, _) in every_route(&app, &id, Some(secret)).await {
            assert_eq!(status, StatusCode::NOT_FOUND, "revoked: nothing opens it");
        }
    }
    // Staff still reach it through the console.
    let manager = app.login("alpha-manager").await;
    let (status, board) = app
        .get(
            &format!("/api/v1/console/stores/{}/orders", app.a.store),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(board.to_string().contains(&id), "{board}");
    app.cleanup().await;
}

/// Signs a diner in through the WeChat simulator; returns their session token.
async fn signed_in(app: &TestApp, who: &str) -> String {
    let (status, body) = app
        .post(
            &format!("/api/v1/stores/{}/customer/wechat-login", app.a.store),
            None,
            json!({"code": format!("sim-{who}")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// A request as the diner signed in with `token`.
async fn as_diner(app: &TestApp, method: Method, path: &str, token: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Customer {token}"))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = app.send_request(request).await;
    (status, body)
}

#[tokio::test]
async fn a_signed_in_diner_reaches_their_own_orders_without_a_secret_and_no_one_elses() {
    let app = TestApp::new().await;
    let alice = signed_in(&app, "alice").await;
    let bob = signed_in(&app, "bob").await;
    let body = app.quoted(app.pickup_body(1).await).await;
    let request = Request::post(format!("/api/v1/stores/{}/orders", app.a.store))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Customer {alice}"))
        .header("idempotency-key", "signed-in-access-1")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, _, order) = app.send_request(request).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert!(
        order.get("access_secret").is_none(),
        "her session is her key: {order}"
    );
    let id = order["id"].as_str().unwrap();
    let path = format!("/api/v1/orders/{id}");

    let (status, theirs) = as_diner(&app, Method::GET, &path, &bob).await;
    assert_eq!(
        (status, code(&theirs)),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
    let (status, _) = as_diner(&app, Method::POST, &format!("{path}/cancel"), &bob).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "bob cannot cancel alice's order"
    );
    assert_eq!(
        app.with_secret(Method::GET, &path, None).await.0,
        StatusCode::NOT_FOUND,
        "nor can a guest with the id"
    );

    let (status, mine) = as_diner(&app, Method::GET, &path, &alice).await;
    assert_eq!((status, &mine["id"]), (StatusCode::OK, &json!(id)));
    let (status, cancelled) = as_diner(&app, Method::POST, &format!("{path}/cancel"), &alice).await;
    assert_eq!(
        (status, &cancelled["status"]),
        (StatusCode::OK, &json!("cancelled"))
    );
    app.cleanup().await;
}

/// EventSource puts the secret in the URL; the request's trace names the path alone.
#[tokio::test]
async fn a_secret_in_the_stream_url_never_reaches_the_log() {
    let app = TestApp::new().await;
    let (id, secret) = guest_order(&app, "guest-log-1").await;
    let lines = LogLines::default();
    let guard = lines.capture();
    let response = app
        .router
        .clone()
        .oneshot(
            Request::get(format!("/api/v1/orders/{id}/events?secret={secret}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    drop(response);
    drop(guard);
    let logged = lines.text();
    assert!(
        logged.contains(&format!("path=/api/v1/orders/{id}/events")),
        "the request was traced: {logged}"
    );
    assert!(!logged.contains(&secret), "{logged}");
    app.cleanup().await;
}
