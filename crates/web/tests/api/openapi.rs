//! The API contract is a reviewed artifact: any change to it shows up as a snapshot diff.

#[test]
fn openapi_document_is_unchanged() {
    let document = serde_json::to_value(diancan_web::openapi_document()).unwrap();
    // Sorted keys: JSON map order depends on which serde_json features a build unifies.
    insta::with_settings!({ sort_maps => true }, {
        insta::assert_json_snapshot!("openapi", document);
    });
}

#[test]
fn every_console_operation_declares_its_error_responses() {
    let document = serde_json::to_value(diancan_web::openapi_document()).unwrap();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2') || s == "304"),
                "{method} {path} has no success response"
            );
            if path.contains("/console/") {
                assert!(
                    responses.keys().any(|s| s.starts_with('4')),
                    "{method} {path} documents no 4xx"
                );
            }
        }
    }
}

/// What the shared extractors can answer is documented on every operation they serve, so a
/// client (and the fuzzer in CI) can rely on the list of statuses being complete.
#[test]
fn every_operation_documents_what_its_extractors_can_answer() {
    let document = serde_json::to_value(diancan_web::openapi_document()).unwrap();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let documents = |status: &str| responses.contains_key(status);
            let json_body = operation["requestBody"]["content"]
                .get("application/json")
                .is_some();
            if json_body {
                for status in ["400", "413", "415", "422"] {
                    assert!(documents(status), "{method} {path} lacks {status}");
                }
            }
            let has_path_param = operation["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "path"));
            if has_path_param {
                assert!(documents("404"), "{method} {path} lacks 404");
            }
            if path.ends_with("/events") {
                assert!(
                    documents("429"),
                    "{method} {path} lacks the stream cap's 429"
                );
            }
            if path.starts_with("/api/v1/console/") {
                assert!(
                    documents("401") && documents("403"),
                    "{method} {path} lacks 401/403"
                );
            }
            if method != "get" {
                assert!(documents("403"), "{method} {path} lacks the cross-site 403");
            }
            // A gateway's notify address answers in that gateway's own format, which its
            // protocol fixes (WeChat Pay's `{"code":"FAIL"}`, Alipay's bare `fail`).
            let gateway_answers =
                path.starts_with("/api/v1/payments/") && path.ends_with("/notify");
            for (status, response) in responses {
                if status.starts_with('4') && !(gateway_answers && status == "400") {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{method} {path} {status} is not an ErrorBody"
                    );
                }
            }
        }
    }
}

/// Every diner route on one order says how to prove it is yours; only the stream takes the
/// secret in its query.
#[test]
fn diner_order_routes_document_the_order_secret() {
    let document = serde_json::to_value(diancan_web::openapi_document()).unwrap();
    let routes = [
        ("get", "/api/v1/orders/{order_id}"),
        ("get", "/api/v1/orders/{order_id}/events"),
        ("post", "/api/v1/orders/{order_id}/hurry"),
        ("post", "/api/v1/orders/{order_id}/cancel"),
        ("post", "/api/v1/orders/{order_id}/secret"),
        ("delete", "/api/v1/orders/{order_id}/secret"),
    ];
    for (method, path) in routes {
        let parameters = document["paths"][path][method]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} is not documented"));
        let named = |name: &str, place: &str| {
            parameters
                .iter()
                .any(|p| p["name"] == name && p["in"] == place)
        };
        assert!(named("X-Order-Secret", "header"), "{method} {path}");
        assert_eq!(
            named("secret", "query"),
            path.ends_with("/events"),
            "{method} {path}"
        );
    }
    let placed = &document["components"]["schemas"]["PlacedOrderView"];
    assert!(
        placed.to_string().contains("access_secret"),
        "the placement documents the secret: {placed}"
    );
}

/// The numeric limits the document states are the domain's own, so a schema-valid value is one
/// the API takes (the API tests in `errors.rs` show each limit refused with its code).
#[test]
fn numeric_limits_in_the_document_are_the_domains() {
    use diancan_domain::catalog::MAX_STOCK;
    use diancan_domain::money::MAX_ITEM_PRICE;
    let document = serde_json::to_value(diancan_web::openapi_document()).unwrap();
    let schemas = &document["components"]["schemas"];
    let price = &schemas["SkuDraft"]["properties"]["price_fen"];
    assert_eq!(
        (price["minimum"].as_i64(), price["maximum"].as_i64()),
        (Some(1), Some(MAX_ITEM_PRICE.fen()))
    );
    let settings = &schemas["SkuStoreSettings"]["properties"];
    assert_eq!(
        settings["price_fen"]["maximum"].as_i64(),
        Some(MAX_ITEM_PRICE.fen())
    );
    for field in ["stock", "daily_limit", "low_stock_threshold"] {
        assert_eq!(
            (
                settings[field]["minimum"].as_i64(),
                settings[field]["maximum"].as_i64()
            ),
            (Some(0), Some(MAX_STOCK)),
            "{field}"
        );
    }
    let slots = &schemas["SlotRules"]["properties"];
    for field in ["lead_minutes", "capacity_per_slot"] {
        assert_eq!(
            slots[field]["maximum"].as_i64(),
            Some(i64::from(u16::MAX)),
            "{field}"
        );
    }
}
