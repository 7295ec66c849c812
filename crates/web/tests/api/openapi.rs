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
