//! Stores whose details are wrong: refused when sent, and when already stored (by a hand edit or
//! an older version), costing only that store while its owner repairs it.

use crate::app::{TestApp, code, store_profile};
use axum::http::StatusCode;
use serde_json::{Value, json};

fn profile_body(name: &str) -> Value {
    let profile = store_profile(name);
    json!({
        "name": profile.name,
        "address": profile.address,
        "location": {"latitude_e6": 31_235_000, "longitude_e6": 121_480_000},
        "rules": profile.rules,
    })
}

fn detail_fields(body: &Value) -> Vec<&str> {
    body["error"]["details"]
        .as_array()
        .map(|d| d.iter().map(|d| d["field"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_location_off_the_globe_is_refused_field_by_field() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let path = format!("/api/v1/console/stores/{}", app.a.store);
    let mut body = profile_body("alpha 店");
    body["location"] = json!({"latitude_e6": 2_000_000_000, "longitude_e6": 181_000_000});
    let (status, answer) = app.put(&path, Some(&token), body).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED"),
        "{answer}"
    );
    assert_eq!(
        detail_fields(&answer),
        ["location.latitude_e6", "location.longitude_e6"]
    );
    let (status, _) = app.get("/api/v1/stores", None).await;
    assert_eq!(status, StatusCode::OK);
    app.cleanup().await;
}

#[tokio::test]
async fn a_damaged_store_row_costs_that_store_alone_until_its_owner_repairs_it() {
    let app = TestApp::new().await;
    diancan_storage::testing::execute_unchecked(
        app.db(),
        "UPDATE stores SET latitude_e6 = 2000000000 WHERE id = $1",
        app.a.store.as_uuid(),
    )
    .await
    .unwrap();

    // Diners: the directory still answers, without the damaged store; that store alone is unavailable.
    let (status, stores) = app.get("/api/v1/stores", None).await;
    assert_eq!(status, StatusCode::OK, "{stores}");
    let ids: Vec<_> = stores
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(ids, [json!(app.b.store)]);
    for path in [
        format!("/api/v1/stores/{}", app.a.store),
        format!("/api/v1/stores/{}/menu", app.a.store),
    ] {
        let (status, body) = app.get(&path, None).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::SERVICE_UNAVAILABLE, "STORE_UNAVAILABLE"),
            "{path}"
        );
    }
    let (status, _) = app
        .get(&format!("/api/v1/stores/{}/menu", app.b.store), None)
        .await;
    assert_eq!(status, StatusCode::OK);

    // The owner: the store is listed and opens, saying what to fix.
    let token = app.login(&app.a.owner_login).await;
    let (status, listed) = app.get("/api/v1/console/stores", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed[0]["problems"][0]["field"], "location.latitude_e6");
    let path = format!("/api/v1/console/stores/{}", app.a.store);
    let (status, opened) = app.get(&path, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{opened}");
    assert_eq!(opened["location"], Value::Null);
    assert_eq!(opened["name"], "alpha 店");
    assert_eq!(opened["problems"][0]["code"], "OUT_OF_RANGE");
    let (status, me) = app.get("/api/v1/auth/me", Some(&token)).await;
    assert_eq!(
        (status, me["stores"][0]["id"].clone()),
        (StatusCode::OK, json!(app.a.store))
    );

    // Saving a good profile over it repairs it for everyone.
    let (status, saved) = app.put(&path, Some(&token), profile_body("alpha 店")).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert!(saved.get("problems").is_none());
    let (_, stores) = app.get("/api/v1/stores", None).await;
    assert_eq!(stores.as_array().unwrap().len(), 2);
    let (status, _) = app
        .get(&format!("/api/v1/stores/{}/menu", app.a.store), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    app.cleanup().await;
}
