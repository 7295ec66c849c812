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

/// The reported store: an English name of a million characters with U+202E and NUL. Too big is a
/// 413 in our format; anything a person could type is held to the field's length and refuses
/// control and bidi-override characters, wherever the text is sent.
#[tokio::test]
async fn texts_are_bounded_and_free_of_control_and_bidi_characters() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let path = format!("/api/v1/console/stores/{}", app.a.store);
    let (_, store) = app.get(&path, Some(&token)).await;
    let mut profile = store.clone();
    profile.as_object_mut().unwrap().remove("id");

    profile["name_en"] = json!(format!("{}\u{202e}\u{0}", "x".repeat(1_000_000)));
    let (status, body) = app.put(&path, Some(&token), profile.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE"),
        "{body}"
    );
    for (name_en, problem) in [
        ("x".repeat(61), "TOO_LONG"),
        ("Beef \u{202e}88".to_owned(), "INVALID_CHARACTERS"),
        ("Beef\u{0}".to_owned(), "INVALID_CHARACTERS"),
    ] {
        profile["name_en"] = json!(name_en);
        let (status, body) = app.put(&path, Some(&token), profile.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["details"][0]["field"], "name_en");
        assert_eq!(body["error"]["details"][0]["code"], problem);
    }
    let (_, unchanged) = app.get(&path, Some(&token)).await;
    assert_eq!(unchanged, store);

    let mut dish = noodle_draft(app.a.category, "BIDI");
    dish["name"] = json!("牛肉面\u{2066}");
    dish["description"] = json!("慢炖\n六小时");
    let (status, body) = app
        .post("/api/v1/console/dishes", Some(&token), dish.clone())
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "name");
    dish["name"] = json!("牛肉面");
    let (status, body) = app.post("/api/v1/console/dishes", Some(&token), dish).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a description may span lines: {body}"
    );

    let cart = format!("/api/v1/tables/{}/cart", app.a.table_token);
    for (added_by, line) in [
        ("小王\u{0}", json!({"sku_id": app.a.sku})),
        (
            "小王",
            json!({"sku_id": app.a.sku, "note": "不要\u{202e}香菜"}),
        ),
    ] {
        let change = json!({"kind": "put", "line_id": uuid::Uuid::now_v7(), "line": line, "quantity": 1, "added_by": added_by});
        let (status, body) = app.post(&cart, None, change).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }

    let mut quote = app.pickup_body(1).await;
    quote["lines"][0]["note"] = json!("少辣\u{202e}");
    let (status, body) = app
        .post(
            &format!("/api/v1/stores/{}/quote", app.a.store),
            None,
            quote,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["details"][0]["code"],
        "NOTE_INVALID_CHARACTERS"
    );
    app.cleanup().await;
}

/// Login names of 2 MB were kept as throttle rows. A name no account can have is refused
/// before anything is looked up or counted.
#[tokio::test]
async fn an_impossible_login_name_is_refused_before_a_throttle_row_is_written() {
    let app = TestApp::new().await;
    let huge = "a".repeat(2 * 1024 * 1024);
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"login": huge, "password": "x"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE")
    );
    let long = "b".repeat(65);
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"login": long, "password": "x"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED")
    );
    assert_eq!(body["error"]["details"][0]["field"], "login");
    app.cleanup().await;
}

/// JSON has one number type, and the document's `type: integer` (JSON Schema) admits `7.0`: a
/// whole number written as a float is that integer; a fraction, or a float past 2^53 that no
/// longer spells one integer, is still refused.
#[tokio::test]
async fn whole_numbers_written_as_floats_are_integers() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let (status, body) = app
        .post(
            "/api/v1/console/categories",
            Some(&token),
            json!({"name": "夜宵", "sort_order": 7.0}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for refused in [json!(7.5), json!(1e17)] {
        let (status, body) = app
            .post(
                "/api/v1/console/categories",
                Some(&token),
                json!({"name": "早点", "sort_order": refused}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_BODY"),
            "{refused}"
        );
        assert!(
            body["error"]["message_en"]
                .as_str()
                .unwrap()
                .contains("sort_order"),
            "{body}"
        );
    }
    app.cleanup().await;
}

/// A window whose end equals its start is empty: the schema cannot say "differs from `start`",
/// so it is taken, and it adds nothing to the schedule.
#[tokio::test]
async fn an_empty_time_window_is_taken() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let (status, body) = app
        .post(
            "/api/v1/console/categories",
            Some(&token),
            json!({"name": "宵夜", "availability": [{"weekdays": [1, 2], "start": "11:00", "end": "11:00"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.cleanup().await;
}
