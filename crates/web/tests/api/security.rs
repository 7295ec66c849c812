//! What the browser is told: Content-Security-Policy and friends on every page.

use crate::app::TestApp;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};

/// Every route that answers with a page, including the 404 page.
fn page_routes(app: &TestApp) -> Vec<String> {
    vec![
        "/".into(),
        "/console/".into(),
        "/console/menu".into(),
        "/kitchen".into(),
        "/api/v1/docs".into(),
        format!("/t/{}", app.a.table_token),
        "/t/not-a-table".into(),
        format!("/s/{}", app.a.store),
        "/no/such/page".into(),
    ]
}

async fn page(app: &TestApp, path: &str) -> (StatusCode, HeaderMap, String) {
    let response = tower::ServiceExt::oneshot(
        app.router.clone(),
        Request::get(path).body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
        .await
        .unwrap();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

/// The policy's directives by name.
fn directives(policy: &str) -> Vec<(String, String)> {
    policy
        .split(';')
        .filter_map(|d| {
            let d = d.trim();
            let (name, value) = d.split_once(' ').unwrap_or((d, ""));
            (!name.is_empty()).then(|| (name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

#[tokio::test]
async fn every_page_carries_a_strict_content_security_policy() {
    let app = TestApp::new().await;
    for path in page_routes(&app) {
        let (_, headers, html) = page(&app, &path).await;
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path} is a page"
        );
        let policy = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap_or_else(|| panic!("{path} has no Content-Security-Policy"))
            .to_str()
            .unwrap();
        let found = directives(policy);
        for (name, value) in [
            ("default-src", "'self'"),
            ("script-src", "'self'"),
            ("style-src", "'self'"),
            ("img-src", "'self' data: blob:"),
            ("connect-src", "'self'"),
            ("frame-ancestors", "'none'"),
            ("base-uri", "'none'"),
            ("form-action", "'self'"),
            ("object-src", "'none'"),
        ] {
            assert!(
                found.contains(&(name.to_owned(), value.to_owned())),
                "{path}: {name} {value} in {policy}"
            );
        }
        assert!(!policy.contains("unsafe"), "{path}: {policy}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin", "{path}");
        assert_pages_obey_the_policy(&path, &html);
    }
    app.cleanup().await;
}

/// What the policy would block: inline scripts (data blocks excepted), `style` attributes and
/// elements, inline event handlers and `javascript:` links.
fn assert_pages_obey_the_policy(path: &str, html: &str) {
    let lower = html.to_lowercase();
    for (at, _) in lower.match_indices("<script") {
        let tag = &lower[at..at + lower[at..].find('>').unwrap()];
        assert!(
            tag.contains(" src=") || tag.contains("type=\"application/json\""),
            "{path}: inline script {tag}"
        );
    }
    for forbidden in [" style=", "<style", " onclick=", " onload=", "javascript:"] {
        assert!(!lower.contains(forbidden), "{path}: {forbidden}");
    }
}
