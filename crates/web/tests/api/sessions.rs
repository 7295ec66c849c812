use crate::app::{PASSWORD, TestApp, code};
use axum::http::{Method, StatusCode, header};
use serde_json::json;

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
