//! 员工 through the API: the owner creates an account with a role and its stores, the new
//! account signs in and works there; a taken login, a short password or a bad login name are
//! refused; switching an account off or setting a new password ends its sessions at once; an
//! owner cannot switch themselves off; managers and other brands see nothing.

use crate::app::{TestApp, code};
use axum::http::StatusCode;
use serde_json::json;

async fn sign_in(app: &TestApp, login: &str, password: &str) -> (StatusCode, String) {
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"login": login, "password": password}),
        )
        .await;
    (
        status,
        body["token"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn the_owner_creates_an_account_that_works_in_its_store_until_switched_off() {
    let app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    let (status, created) = app
        .post(
            "/api/v1/console/staff",
            Some(&owner),
            json!({"login": "cashier-two", "display_name": " 小王 ", "role": "cashier",
                "password": "长城长城 12345", "store_ids": [app.a.store]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["display_name"], "小王");
    assert_eq!(created["store_ids"], json!([app.a.store]));
    let id = created["id"].as_str().unwrap().to_owned();

    let (status, token) = sign_in(&app, "cashier-two", "长城长城 12345").await;
    assert_eq!(status, StatusCode::OK);
    let board = format!("/api/v1/console/stores/{}/board", app.a.store);
    assert_eq!(app.get(&board, Some(&token)).await.0, StatusCode::OK);

    // Refusals: a taken login, a short password, a login with spaces, no store named.
    for (body, expected) in [
        (
            json!({"login": "cashier-two", "display_name": "x", "role": "cashier", "password": "12345678", "store_ids": [app.a.store]}),
            (StatusCode::CONFLICT, "LOGIN_TAKEN"),
        ),
        (
            json!({"login": "cashier-3", "display_name": "x", "role": "cashier", "password": "1234", "store_ids": [app.a.store]}),
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED"),
        ),
        (
            json!({"login": "has space", "display_name": "x", "role": "cashier", "password": "12345678", "store_ids": [app.a.store]}),
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED"),
        ),
        (
            json!({"login": "cashier-4", "display_name": "x", "role": "cashier", "password": "12345678", "store_ids": []}),
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED"),
        ),
        (
            json!({"login": "cashier-5", "display_name": "x", "role": "cashier", "password": "12345678", "store_ids": [app.b.store]}),
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED"),
        ),
    ] {
        let (status, refused) = app.post("/api/v1/console/staff", Some(&owner), body).await;
        assert_eq!((status, code(&refused)), expected, "{refused}");
    }

    // Switched off: the open session ends at once, and signing in is refused.
    let (status, changed) = app
        .put(
            &format!("/api/v1/console/staff/{id}"),
            Some(&owner),
            json!({"display_name": "小王", "role": "cashier", "store_ids": [app.a.store], "active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["active"], false);
    assert_eq!(
        app.get(&board, Some(&token)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_ne!(
        sign_in(&app, "cashier-two", "长城长城 12345").await.0,
        StatusCode::OK
    );

    // Back on with a new password: the old one no longer works.
    let (status, _) = app
        .put(
            &format!("/api/v1/console/staff/{id}"),
            Some(&owner),
            json!({"display_name": "小王", "role": "waiter", "store_ids": [app.a.store], "active": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .post(
            &format!("/api/v1/console/staff/{id}/password"),
            Some(&owner),
            json!({"password": "新的密码 2026"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_ne!(
        sign_in(&app, "cashier-two", "长城长城 12345").await.0,
        StatusCode::OK
    );
    assert_eq!(
        sign_in(&app, "cashier-two", "新的密码 2026").await.0,
        StatusCode::OK
    );
    app.cleanup().await;
}

#[tokio::test]
async fn only_the_owner_manages_staff_and_never_their_own_access() {
    let app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    let manager = app.login("alpha-manager").await;
    let (status, _) = app.get("/api/v1/console/staff", Some(&manager)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, list) = app.get("/api/v1/console/staff", Some(&owner)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let me = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["login"] == json!(app.a.owner_login))
        .unwrap()
        .clone();
    assert_eq!(
        me["store_ids"],
        serde_json::Value::Null,
        "an owner works everywhere"
    );
    let (status, refused) = app
        .put(
            &format!("/api/v1/console/staff/{}", me["id"].as_str().unwrap()),
            Some(&owner),
            json!({"display_name": "老板", "role": "owner", "active": false}),
        )
        .await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::CONFLICT, "CANNOT_CHANGE_SELF")
    );

    // Another brand's owner cannot touch this brand's accounts.
    let other = app.login(&app.b.owner_login).await;
    let (status, _) = app
        .post(
            &format!(
                "/api/v1/console/staff/{}/password",
                me["id"].as_str().unwrap()
            ),
            Some(&other),
            json!({"password": "12345678910"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, theirs) = app.get("/api/v1/console/staff", Some(&other)).await;
    assert!(
        !theirs
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == me["id"]),
        "{theirs}"
    );
    app.cleanup().await;
}
