use crate::app::{PASSWORD, TestApp, code, from_peer, movable_clock};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::{Value, json};

#[tokio::test]
async fn login_sets_an_http_only_cookie_and_logout_ends_the_session() {
    let app = TestApp::new().await;
    let (status, headers, body) = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"login": app.a.owner_login, "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(body["staff"]["role"], "owner");

    // The cookie works as well as the bearer token.
    let request = axum::http::Request::get("/api/v1/auth/me")
        .header(header::COOKIE, format!("other=1; diancan_session={token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, _, me) = app.send_request(request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["login"], app.a.owner_login);

    let (status, _, _) = app
        .send(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get("/api/v1/auth/me", Some(&token)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED")
    );
    app.cleanup().await;
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_login_for_a_while() {
    let app = TestApp::new().await;
    let login = app.a.owner_login.clone();
    for _ in 0..5 {
        let (status, body) = app
            .post(
                "/api/v1/auth/login",
                None,
                json!({"login": login, "password": "wrong"}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNAUTHORIZED, "WRONG_CREDENTIALS")
        );
    }
    let (status, headers, body) = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"login": login, "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS")
    );
    assert!(headers.contains_key(header::RETRY_AFTER));
    // Another account is not locked by someone guessing this one.
    app.login(&app.b.owner_login).await;
    app.cleanup().await;
}

#[tokio::test]
async fn unknown_logins_and_wrong_passwords_look_the_same() {
    let app = TestApp::new().await;
    let (s1, b1) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"login": "nobody", "password": "x"}),
        )
        .await;
    let (s2, b2) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"login": app.a.owner_login, "password": "x"}),
        )
        .await;
    assert_eq!((s1, code(&b1)), (s2, code(&b2)));
    app.cleanup().await;
}

#[tokio::test]
async fn roles_limit_what_staff_may_change() {
    let app = TestApp::new().await;
    let kitchen = app.login("alpha-kitchen").await;
    let waiter = app.login("alpha-waiter").await;
    let path = format!("/api/v1/console/stores/{}/skus/{}", app.a.store, app.a.sku);
    // The kitchen may mark a dish sold out (沽清) but not change its price.
    let sold_out = json!({"price_fen": null, "stock": null, "daily_limit": null, "low_stock_threshold": null, "sold_out": true});
    assert_eq!(
        app.put(&path, Some(&kitchen), sold_out).await.0,
        StatusCode::OK
    );
    let repriced = json!({"price_fen": 100, "stock": null, "daily_limit": null, "low_stock_threshold": null, "sold_out": true});
    let (status, body) = app.put(&path, Some(&kitchen), repriced).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    // A waiter edits no menu.
    let (status, _) = app
        .post(
            "/api/v1/console/categories",
            Some(&waiter),
            json!({"name": "夜宵"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_are_verified_at_most_the_limit() {
    let app = TestApp::new().await;
    let guesses: Vec<_> = (0..50)
        .map(|i| {
            let router = app.router.clone();
            let body = json!({"login": app.a.owner_login, "password": format!("guess {i}")});
            tokio::spawn(async move {
                let request = axum::http::Request::post("/api/v1/auth/login")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(axum::body::Body::from(body.to_string()))
                    .unwrap();
                tower::ServiceExt::oneshot(router, request)
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut verified = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            StatusCode::TOO_MANY_REQUESTS => {}
            StatusCode::UNAUTHORIZED => verified += 1,
            other => panic!("unexpected answer {other}"),
        }
    }
    // The clock stands still, so only the free attempts before the first wait get a hearing.
    assert_eq!(verified, 5, "password checks among 50 parallel guesses");
    app.cleanup().await;
}

fn retry_after(headers: &HeaderMap) -> i64 {
    headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_stranger_guessing_keeps_the_owner_waiting_seconds_not_locked_out() {
    let (clock, hand) = movable_clock();
    let app = TestApp::with_clock(clock).await;
    let attempt = |password: &str| {
        app.send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"login": app.a.owner_login, "password": password})),
        )
    };
    for _ in 0..5 {
        assert_eq!(attempt("wrong").await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, headers, body) = attempt(PASSWORD).await;
    assert_eq!(
        (status, code(&body), retry_after(&headers)),
        (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS", 1)
    );
    assert!(
        body["error"]["message"].as_str().unwrap().contains("1 秒"),
        "{body}"
    );
    hand.advance_ms(1_000);
    assert_eq!(attempt(PASSWORD).await.0, StatusCode::OK);

    // A guesser who keeps going waits twice as long after each failure, never more than a minute.
    let mut waits = Vec::new();
    while waits.len() < 8 {
        let (status, headers, _) = attempt("wrong").await;
        match status {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = retry_after(&headers);
                waits.push(wait);
                hand.advance_ms(wait * 1_000);
            }
            other => panic!("unexpected answer {other}"),
        }
    }
    assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
    hand.advance_ms(60_000);
    assert_eq!(attempt(PASSWORD).await.0, StatusCode::OK);
    app.cleanup().await;
}

/// A login as it reaches us from `peer`, optionally through a proxy that says who it serves.
fn login_from(
    peer: &str,
    forwarded_for: Option<&str>,
    login: &str,
    password: &str,
) -> Request<Body> {
    let mut request =
        Request::post("/api/v1/auth/login").header(header::CONTENT_TYPE, "application/json");
    if let Some(client) = forwarded_for {
        request = request.header("x-forwarded-for", client);
    }
    let body = json!({"login": login, "password": password}).to_string();
    from_peer(request.body(Body::from(body)).unwrap(), peer)
}

async fn answer(app: &TestApp, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    app.send_request(request).await
}

#[tokio::test]
async fn a_guesser_behind_the_proxy_does_not_lock_out_the_owner_behind_it() {
    let mut app = TestApp::new().await;
    app.trust_proxies(&["10.0.0.0/8"]);
    let proxy = "10.0.0.1";
    // Made-up names, so only the per-client limit is in play.
    for i in 0..30 {
        let guess = login_from(proxy, Some("203.0.113.7"), &format!("guess-{i}"), "x");
        assert_eq!(answer(&app, guess).await.0, StatusCode::UNAUTHORIZED);
    }
    let guess = login_from(proxy, Some("203.0.113.7"), "guess-30", "x");
    let (status, headers, body) = answer(&app, guess).await;
    assert_eq!(
        (status, code(&body), retry_after(&headers)),
        (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS", 15 * 60)
    );
    let owner = login_from(proxy, Some("198.51.100.2"), &app.a.owner_login, PASSWORD);
    let (status, _, body) = answer(&app, owner).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.cleanup().await;
}

#[tokio::test]
async fn a_client_talking_to_us_directly_cannot_name_another_address() {
    let mut app = TestApp::new().await;
    app.trust_proxies(&["10.0.0.1"]);
    for i in 0..30 {
        let forged = format!("198.51.100.{i}");
        let guess = login_from("203.0.113.7", Some(&forged), &format!("guess-{i}"), "x");
        assert_eq!(answer(&app, guess).await.0, StatusCode::UNAUTHORIZED);
    }
    let guess = login_from("203.0.113.7", Some("192.0.2.1"), "guess-30", "x");
    assert_eq!(answer(&app, guess).await.0, StatusCode::TOO_MANY_REQUESTS);
    app.cleanup().await;
}
