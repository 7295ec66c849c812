//! The document is a contract both ways: what it allows the API takes, what it forbids the API
//! refuses. Each test here is a finding of the fuzzer (scripts/fuzz-api.sh), pinned.

use crate::app::{TestApp, code};
use axum::http::StatusCode;
use serde_json::{Value, json};

fn document() -> Value {
    serde_json::to_value(diancan_web::openapi_document()).unwrap()
}

fn schema<'a>(document: &'a Value, name: &str) -> &'a Value {
    let schema = &document["components"]["schemas"][name];
    assert!(schema.is_object(), "no schema {name}");
    schema
}

/// The variant of a `oneOf` whose `tag` property allows `value`.
fn variant<'a>(one_of: &'a Value, tag: &str, value: &str) -> &'a Value {
    one_of["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| {
            v["properties"][tag]["enum"]
                .as_array()
                .is_some_and(|values| values.contains(&json!(value)))
        })
        .unwrap_or_else(|| panic!("no {tag} = {value} in {one_of}"))
}

/// `maxLength` is a promise about what is sent: a name of 61 characters with a leading space
/// was trimmed to 60 and taken.
#[tokio::test]
async fn a_text_over_its_limit_is_refused_even_when_trimming_would_fit_it() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let padded = format!(" {}", "面".repeat(60));
    let (status, body) = app
        .post(
            "/api/v1/console/categories",
            Some(&token),
            json!({"name": padded}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"][0]["code"], "TOO_LONG");
    app.cleanup().await;
}

/// Times are "HH:MM" as the pattern says; "9:00" and " 09:00" used to be taken.
#[tokio::test]
async fn times_and_weekdays_are_exactly_what_the_document_says() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let pattern = schema(&document(), "TimeOfDay")["pattern"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(pattern, "^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$");
    for start in ["9:00", " 09:00", "09:00 ", "+9:00"] {
        let window = json!([{"weekdays": [1], "start": start, "end": "11:00"}]);
        let (status, body) = app
            .post(
                "/api/v1/console/categories",
                Some(&token),
                json!({"name": "早餐", "availability": window}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{start:?}: {body}"
        );
    }
    let window = json!([{"weekdays": [1, 7], "start": "09:00", "end": "24:00"}]);
    let (status, body) = app
        .post(
            "/api/v1/console/categories",
            Some(&token),
            json!({"name": "早餐", "availability": window}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let document = document();
    let weekdays = schema(&document, "Weekdays");
    assert_eq!(weekdays["minItems"], 1);
    assert_eq!(
        (&weekdays["items"]["minimum"], &weekdays["items"]["maximum"]),
        (&json!(1), &json!(7))
    );
    app.cleanup().await;
}

/// The fees had no stated maximum: 9223372036854775806 fen was schema-valid and refused.
#[test]
fn store_fees_state_their_limits() {
    let document = document();
    let max = diancan_domain::money::MAX_ITEM_PRICE.fen();
    let seat = &schema(&document, "StoreRules")["properties"]["seat_fee_fen"];
    assert_eq!(
        (&seat["minimum"], seat["maximum"].as_i64()),
        (&json!(0), Some(max))
    );
    for kind in ["per_order", "per_item"] {
        let fee = &variant(schema(&document, "PackingFee"), "kind", kind)["properties"]["fee_fen"];
        assert_eq!(
            (&fee["minimum"], fee["maximum"].as_i64()),
            (&json!(0), Some(max)),
            "{kind}"
        );
    }
}

/// The cart body was documented as any JSON; now one shape per `kind`, and a `line` that is
/// not an object (which the document no longer allows) is refused.
#[tokio::test]
async fn the_cart_change_is_one_shape_per_kind() {
    let document = document();
    let body = schema(&document, "CartChangeBody");
    let put = variant(body, "kind", "put");
    let mut required: Vec<&str> = put["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    required.sort();
    assert_eq!(
        required,
        ["added_by", "kind", "line", "line_id", "quantity"]
    );
    assert_eq!(put["properties"]["quantity"]["maximum"], 99);
    assert_eq!(put["properties"]["added_by"]["minLength"], 1);
    for kind in ["put", "set_quantity", "remove", "clear"] {
        assert_eq!(
            variant(body, "kind", kind)["additionalProperties"],
            false,
            "{kind}"
        );
    }
    assert!(schema(&document, "CartLineValue")["oneOf"].is_array());

    let app = TestApp::new().await;
    let cart = format!("/api/v1/tables/{}/cart", app.a.table_token);
    let line_id = uuid::Uuid::now_v7();
    let put = |line: Value, added_by: &str| json!({"kind": "put", "line_id": line_id, "line": line, "quantity": 1, "added_by": added_by});
    let (status, body) = app.post(&cart, None, put(json!(5), "小王")).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_BODY")
    );
    let long = format!(" {}", "王".repeat(20));
    let (status, body) = app
        .post(&cart, None, put(json!({"sku_id": app.a.sku}), &long))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .post(&cart, None, put(json!({"sku_id": app.a.sku}), " 小王 "))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lines"][0]["added_by"], "小王");
    app.cleanup().await;
}

/// Which command needs `line` and which `lines` was prose; `{"command": "fire", "lines": null}`
/// was schema-valid and refused.
#[test]
fn each_kitchen_command_states_what_it_needs() {
    let document = document();
    let body = schema(&document, "TicketCommandBody");
    let needs = |command: &str| {
        let mut required: Vec<String> = variant(body, "command", command)["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_owned())
            .collect();
        required.sort();
        required
    };
    assert_eq!(needs("bump_item"), ["command", "line", "seen"]);
    assert_eq!(needs("fire"), ["command", "lines", "seen"]);
    assert_eq!(needs("hold"), ["command", "lines", "seen"]);
    assert_eq!(needs("bump_ticket"), ["command", "seen"]);
    assert_eq!(needs("recall"), ["command", "seen"]);
    for command in ["bump_item", "bump_ticket", "recall", "hold", "fire"] {
        let shape = variant(body, "command", command);
        assert_eq!(shape["additionalProperties"], false, "{command}");
    }
    let fire = variant(body, "command", "fire");
    assert_eq!(fire["properties"]["lines"]["minItems"], 1);
    assert_eq!(fire["properties"]["lines"]["type"], "array");
}

/// `after=-1` broke the documented `minimum: 0` and opened the stream anyway.
#[tokio::test]
async fn a_negative_stream_position_is_refused() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let path = format!(
        "/api/v1/console/stores/{}/kitchen/events?after=-1",
        app.a.store
    );
    // Before the fix this opened a stream that never ends; the bound only turns that into a
    // failure instead of a hang.
    let (status, body) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        app.get(&path, Some(&token)),
    )
    .await
    .expect("answered at once, not as a stream");
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_QUERY")
    );
    app.cleanup().await;
}

/// A combo without slots, or a single dish with some, was schema-valid and refused.
#[tokio::test]
async fn a_set_meal_needs_slots_and_the_document_says_so() {
    let document = document();
    let draft = schema(&document, "DishDraft");
    let kinds = &draft["allOf"][1];
    let combo = variant(kinds, "kind", "combo");
    assert_eq!(combo["properties"]["combo_slots"]["minItems"], 1);
    assert_eq!(combo["required"], json!(["kind", "combo_slots"]));
    let single = variant(kinds, "kind", "single");
    assert_eq!(single["properties"]["combo_slots"]["maxItems"], 0);
    assert_eq!(draft["allOf"][0]["additionalProperties"], false);
    let slot = schema(&document, "ComboSlotDraft");
    assert_eq!(slot["properties"]["choices"]["minItems"], 1);
    assert_eq!(slot["properties"]["max_select"]["minimum"], 1);

    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let mut dish = crate::app::noodle_draft(app.a.category, "SET-1");
    dish["kind"] = json!("combo");
    let (status, body) = app.post("/api/v1/console/dishes", Some(&token), dish).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "combo_slots");
    app.cleanup().await;
}

/// Uploads say which files they take and that the file is not empty; the state refusals a
/// schema-valid request can still get are documented with their codes.
#[test]
fn uploads_and_state_refusals_are_documented() {
    let document = document();
    let paths = &document["paths"];
    for (path, types) in [
        ("/api/v1/console/images", "image/png"),
        ("/api/v1/console/menu/import", "text/csv"),
    ] {
        let content = &paths[path]["post"]["requestBody"]["content"]["multipart/form-data"];
        let declared = content["encoding"]["file"]["contentType"].as_str().unwrap();
        assert!(declared.contains(types), "{path}: {declared}");
    }
    for upload in ["ImageUpload", "MenuUpload"] {
        assert_eq!(
            schema(&document, upload)["properties"]["file"]["minLength"],
            1
        );
    }
    let refusals = [
        ("post", "/api/v1/stores/{store_id}/quote", "STORE_CLOSED"),
        ("post", "/api/v1/stores/{store_id}/orders", "STORE_CLOSED"),
        ("post", "/api/v1/stores/{store_id}/quote", "LINE_PROBLEMS"),
        (
            "post",
            "/api/v1/console/stores/{store_id}/tables",
            "UNKNOWN_REFERENCE",
        ),
        ("post", "/api/v1/console/dishes", "UNKNOWN_REFERENCE"),
        ("put", "/api/v1/console/dishes/{dish_id}", "MIN_ABOVE_MAX"),
        ("post", "/api/v1/console/menu/import", "MENU_FILE_ROWS"),
    ];
    for (method, path, code) in refusals {
        let description = paths[path][method]["responses"]["422"]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(
            description.contains(code),
            "{method} {path} 422: {description}"
        );
    }
}

/// The fuzzer's allowances name only codes the document lists on that operation's 422.
#[test]
fn the_fuzzers_allowances_are_documented_refusals() {
    let hooks = include_str!("../../../../scripts/fuzz/hooks.py");
    let document = document();
    for (label, codes) in [
        ("POST /api/v1/stores/{store_id}/quote", "CART_STATE"),
        ("POST /api/v1/console/dishes", "DISH"),
    ] {
        assert!(hooks.contains(label), "{label}");
        assert!(hooks.contains(codes), "{codes}");
    }
    let quote = document["paths"]["/api/v1/stores/{store_id}/quote"]["post"]["responses"]["422"]
        ["description"]
        .as_str()
        .unwrap();
    for code in [
        "STORE_CLOSED",
        "LINE_PROBLEMS",
        "OUTSIDE_DELIVERY_ZONES",
        "BELOW_MINIMUM_ORDER",
        "DELIVERY_ADDRESS_REQUIRED",
    ] {
        assert!(hooks.contains(&format!("\"{code}\"")), "{code} in hooks.py");
        assert!(quote.contains(code), "{code} documented on the quote");
    }
}

/// `diners` is bounded in the document for every channel; a pickup with 0 diners was taken.
#[tokio::test]
async fn diners_are_bounded_whatever_the_channel() {
    let app = TestApp::new().await;
    let quote = format!("/api/v1/stores/{}/quote", app.a.store);
    let mut body = app.pickup_body(1).await;
    let (status, answer) = app.post(&quote, None, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    body["diners"] = json!(0);
    let (status, answer) = app.post(&quote, None, body).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::UNPROCESSABLE_ENTITY, "DINERS_OUT_OF_RANGE")
    );
    let document = document();
    let lines = &schema(&document, "QuoteBody")["properties"]["lines"];
    assert_eq!(
        (&lines["minItems"], &lines["maxItems"]),
        (&json!(1), &json!(50))
    );
    app.cleanup().await;
}

/// With several specs each needs a name, now stated in the document; and a padded name over
/// the limit was trimmed into it.
#[tokio::test]
async fn several_specs_each_need_a_name_within_its_limit() {
    let document = document();
    let draft = schema(&document, "DishDraft");
    let specs = &draft["allOf"][2]["oneOf"];
    assert_eq!(specs[0]["properties"]["skus"]["maxItems"], 1);
    let several = &specs[1]["properties"]["skus"];
    assert_eq!(several["minItems"], 2);
    assert_eq!(several["items"]["required"], json!(["name"]));

    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let mut dish = crate::app::noodle_draft(app.a.category, "PAD");
    dish["skus"][0]["name"] = json!(format!(" {}", "大".repeat(60)));
    let (status, body) = app.post("/api/v1/console/dishes", Some(&token), dish).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "skus[0].name");
    assert_eq!(body["error"]["details"][0]["code"], "TOO_LONG");
    app.cleanup().await;
}

/// The uploads' only part is `file`, and a point takes only its two fields: the document says
/// so, and another part is refused instead of skipped.
#[tokio::test]
async fn closed_objects_refuse_what_the_document_does_not_list() {
    let document = document();
    for closed in ["GeoPoint", "ImageUpload", "MenuUpload"] {
        assert_eq!(
            schema(&document, closed)["additionalProperties"],
            false,
            "{closed}"
        );
    }
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let boundary = "contract-boundary";
    let part = |name: &str, content: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"menu.csv\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n"
        )
    };
    let file = part("file", "分类,菜品");
    let note = part("note", "{}");
    for body in [
        format!("{note}{file}--{boundary}--\r\n"),
        format!("{file}{note}--{boundary}--\r\n"),
    ] {
        let request = axum::http::Request::post("/api/v1/console/menu/import")
            .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
            .header(
                axum::http::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(axum::body::Body::from(body))
            .unwrap();
        let (status, _, body) = app.send_request(request).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "INVALID_UPLOAD"),
            "{body}"
        );
        assert!(
            body["error"]["message_en"]
                .as_str()
                .unwrap()
                .contains("one part"),
            "{body}"
        );
    }
    app.cleanup().await;
}

/// Tags and allergens were strings of any length and characters in the document.
#[tokio::test]
async fn tags_and_allergens_state_their_limits() {
    let document = document();
    let draft = &schema(&document, "DishDraft")["allOf"][0]["properties"];
    assert_eq!(draft["tags"]["items"]["maxLength"], 8);
    assert_eq!(draft["allergens"]["items"]["maxLength"], 20);
    assert_eq!(draft["tags"]["items"]["minLength"], 1);
    assert!(draft["tags"]["items"]["pattern"].is_string());

    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let mut dish = crate::app::noodle_draft(app.a.category, "TAG");
    dish["tags"] = json!([" 招牌招牌招牌招牌"]);
    let (status, body) = app.post("/api/v1/console/dishes", Some(&token), dish).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"][0]["code"], "TOO_LONG");
    app.cleanup().await;
}

/// A dine-in order without `table_token` was schema-valid and refused (`table_token` REQUIRED).
#[test]
fn a_dine_in_order_names_its_table_in_the_document() {
    let document = document();
    let body = schema(&document, "PlaceOrderBody");
    let dine_in = variant(&body["allOf"][1], "channel", "dine_in");
    assert_eq!(dine_in["required"], json!(["channel", "table_token"]));
    assert_eq!(dine_in["properties"]["table_token"]["type"], "string");
    let elsewhere = variant(&body["allOf"][1], "channel", "pickup");
    assert_eq!(
        elsewhere["properties"]["channel"]["enum"],
        json!(["pickup", "delivery"])
    );
}
