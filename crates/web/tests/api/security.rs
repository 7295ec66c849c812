//! What the browser is told (Content-Security-Policy and friends on every page) and what the
//! server refuses from it (cookie-authenticated writes sent by another site).

use crate::app::{TestApp, code, from_peer};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::json;

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

/// A state change as a browser sends it: the session cookie, and where the page came from.
fn cookie_write(method: Method, path: &str, cookie: &str, origin: Option<&str>) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "shop.example")
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    request.body(Body::from("{}")).unwrap()
}

/// The owner's bearer token, and the same session as the cookie a browser would send.
async fn signed_in(app: &TestApp) -> (String, String) {
    let token = app.login(&app.a.owner_login).await;
    let cookie = format!("diancan_session={token}");
    (token, cookie)
}

fn assert_refused(status: StatusCode, body: &serde_json::Value) {
    assert_eq!(
        (status, code(body)),
        (StatusCode::FORBIDDEN, "CROSS_SITE_REQUEST"),
        "{body}"
    );
}

fn rotate_path(app: &TestApp) -> String {
    format!(
        "/api/v1/console/stores/{}/tables/{}/rotate-token",
        app.a.store, app.a.table
    )
}

#[tokio::test]
async fn cookie_writes_from_another_site_are_refused() {
    let app = TestApp::new().await;
    let (_, cookie) = signed_in(&app).await;

    let (status, _, body) = app
        .send_request(cookie_write(
            Method::POST,
            &rotate_path(&app),
            &cookie,
            Some("https://evil.example"),
        ))
        .await;
    assert_refused(status, &body);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("其他网站")
    );
    // The table code still works: nothing was rotated.
    let (status, _) = app
        .get(&format!("/api/v1/tables/{}", app.a.table_token), None)
        .await;
    assert_eq!(status, StatusCode::OK);

    // An upload is a cookie write like any other.
    let upload = Request::post("/api/v1/console/images")
        .header(header::HOST, "shop.example")
        .header(header::COOKIE, &cookie)
        .header(header::ORIGIN, "https://evil.example")
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=x")
        .body(Body::from("--x--\r\n"))
        .unwrap();
    let (status, _, body) = app.send_request(upload).await;
    assert_refused(status, &body);

    // Without Origin, the browser's fetch metadata says where the request came from.
    let mut sneaky = cookie_write(Method::POST, &rotate_path(&app), &cookie, None);
    sneaky
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    let (status, _, body) = app.send_request(sneaky).await;
    assert_refused(status, &body);
    // A diner's cookie is protected the same way.
    let (status, _, body) = app
        .send_request(cookie_write(
            Method::POST,
            "/api/v1/customer/logout",
            "diancan_customer=some-token",
            Some("https://evil.example"),
        ))
        .await;
    assert_refused(status, &body);
    app.cleanup().await;
}

#[tokio::test]
async fn our_own_pages_and_bearer_tokens_still_write() {
    let app = TestApp::new().await;
    let (token, cookie) = signed_in(&app).await;

    let (status, _, body) = app
        .send_request(cookie_write(
            Method::POST,
            &rotate_path(&app),
            &cookie,
            Some("https://shop.example"),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut same_origin = cookie_write(Method::POST, &rotate_path(&app), &cookie, None);
    same_origin
        .headers_mut()
        .insert("sec-fetch-site", "same-origin".parse().unwrap());
    let (status, _, body) = app.send_request(same_origin).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A device with a bearer token is no browser another site can steer.
    let mut device = cookie_write(
        Method::POST,
        &rotate_path(&app),
        &cookie,
        Some("https://evil.example"),
    );
    device.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    let (status, _, body) = app.send_request(device).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Reading is not a state change, and login carries no session to abuse.
    let mut read = cookie_write(Method::GET, "/api/v1/auth/me", &cookie, None);
    read.headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let (status, _, _) = app.send_request(read).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"login": app.a.owner_login, "password": crate::app::PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.cleanup().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_host_is_our_origin() {
    let mut app = TestApp::new().await;
    app.trust_proxies(&["10.0.0.1"]);
    let (_, cookie) = signed_in(&app).await;
    // The proxy reaches us at an inside address and says what the browser asked for.
    let via = |peer: &str, origin: &str| {
        let mut request = cookie_write(Method::POST, &rotate_path(&app), &cookie, Some(origin));
        let headers = request.headers_mut();
        headers.insert(header::HOST, "10.0.0.5:8080".parse().unwrap());
        headers.insert("x-forwarded-host", "shop.example".parse().unwrap());
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        from_peer(request, peer)
    };
    let (status, _, body) = app
        .send_request(via("10.0.0.1", "https://shop.example"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = app
        .send_request(via("10.0.0.1", "http://shop.example"))
        .await;
    // The proxy says the page was https.
    assert_refused(status, &body);
    // From anyone else the forwarded host is just a claim.
    let (status, _, body) = app
        .send_request(via("198.51.100.9", "https://shop.example"))
        .await;
    assert_refused(status, &body);
    app.cleanup().await;
}
