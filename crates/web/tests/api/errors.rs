//! Bad input gets a 4xx with a stable code and field details, and leaves nothing half-written.

use crate::app::{TestApp, code, noodle_draft};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

async fn dish_count(app: &TestApp) -> usize {
    app.db().dishes(app.a.brand).await.unwrap().len()
}

#[tokio::test]
async fn malformed_and_unknown_input_is_refused_with_stable_codes() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let request = Request::post("/api/v1/console/categories")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"name\": "))
        .unwrap();
    let (status, _, body) = app.send_request(request).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "MALFORMED_JSON")
    );
    assert!(body["error"]["message"].as_str().unwrap().contains("JSON"));

    let (status, body) = app
        .post(
            "/api/v1/console/categories",
            Some(&token),
            json!({"name": "夜宵", "colour": "red"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_BODY")
    );
    assert!(
        body["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("colour")
    );

    let (status, body) = app
        .get("/api/v1/console/dishes/not-a-uuid", Some(&token))
        .await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let (status, body) = app.get("/api/v1/no/such/thing", None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "NO_SUCH_ENDPOINT")
    );
    app.cleanup().await;
}

#[tokio::test]
async fn invalid_dishes_report_every_field_and_write_nothing() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let before = dish_count(&app).await;
    let mut draft = noodle_draft(app.a.category, "NEW");
    draft["name"] = json!("   ");
    draft["skus"][0]["price_fen"] = json!(-500);
    draft["skus"][1]["price_fen"] = json!(999_999_999);
    draft["skus"][1]["code"] = json!("NEW-L");
    let (status, body) = app
        .post("/api/v1/console/dishes", Some(&token), draft)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED")
    );
    let details: Vec<(String, String)> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["field"].as_str().unwrap().to_owned(),
                d["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        details,
        [
            ("name".into(), "REQUIRED".into()),
            ("skus[0].price_fen".into(), "MUST_BE_POSITIVE".into()),
            ("skus[1].code".into(), "DUPLICATE".into()),
            ("skus[1].price_fen".into(), "TOO_LARGE".into()),
        ]
    );
    assert_eq!(body["error"]["details"][1]["message"], "必须大于 0");
    assert_eq!(dish_count(&app).await, before);

    // A SKU code another dish already uses is a conflict, not a second dish.
    let (status, body) = app
        .post(
            "/api/v1/console/dishes",
            Some(&token),
            noodle_draft(app.a.category, "ALPHA"),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "SKU_CODE_TAKEN")
    );
    assert_eq!(dish_count(&app).await, before);
    app.cleanup().await;
}

#[tokio::test]
async fn fake_and_oversized_images_are_refused() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let (status, body) = app
        .upload(
            "/api/v1/console/images",
            &token,
            "dish.jpg",
            b"this is not a picture at all",
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "IMAGE_UNSUPPORTED_FORMAT"
        )
    );
    let huge = vec![0xFFu8; 8 * 1024 * 1024 + 1];
    let (status, body) = app
        .upload("/api/v1/console/images", &token, "huge.jpg", &huge)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    app.cleanup().await;
}

#[tokio::test]
async fn a_menu_file_with_bad_rows_names_each_row_and_changes_nothing() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let (status, _, _) = app
        .send(
            axum::http::Method::GET,
            "/api/v1/console/menu/export?format=csv",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let header_row = diancan_integrations::menu_files::COLUMNS
        .iter()
        .map(|c| c.header())
        .collect::<Vec<_>>()
        .join(",");
    let file = format!(
        "{header_row}\n面食,1,新面,,,,,NEW-1,,0,是,,1,,,,\n面食,1,另一面,,,,,NEW-2,,abc,是,,2,,,,\n"
    );
    let before = dish_count(&app).await;
    let (status, body) = app
        .upload(
            "/api/v1/console/menu/import",
            &token,
            "menu.csv",
            file.as_bytes(),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "MENU_FILE_ROWS")
    );
    let messages: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("第 2 行") && m.contains("价格")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("第 3 行") && m.contains("价格")),
        "{messages:?}"
    );
    assert_eq!(dish_count(&app).await, before);
    app.cleanup().await;
}
