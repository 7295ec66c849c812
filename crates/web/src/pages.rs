//! The static front ends (customer app, merchant console, kitchen display, API docs), embedded
//! in the binary. Assets live under `/static/{build}/…` and are cached for a year; the HTML shells
//! are never cached, so a new build is picked up at the next page load.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::Embed;
use std::sync::LazyLock;

#[derive(Embed)]
#[folder = "../../assets/"]
struct Assets;

/// A short hash of every embedded file: changes whenever any asset changes.
static BUILD_ID: LazyLock<String> = LazyLock::new(|| {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut names: Vec<_> = Assets::iter().collect();
    names.sort();
    for name in names {
        if let Some(file) = Assets::get(&name) {
            hasher.update(name.as_bytes());
            hasher.update(file.metadata.sha256_hash());
        }
    }
    hex::encode(&hasher.finalize()[..6])
});

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { shell("customer/stores.html") }))
        .route("/t/{token}", get(|| async { shell("customer/index.html") }))
        .route(
            "/s/{store_id}",
            get(|| async { shell("customer/index.html") }),
        )
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(|| async { shell("console/index.html") }))
        .route(
            "/console/{*rest}",
            get(|| async { shell("console/index.html") }),
        )
        .route("/kitchen", get(|| async { shell("kitchen/index.html") }))
        .route("/api/v1/docs", get(|| async { shell("docs/index.html") }))
        .route("/static/{build}/{*path}", get(static_file))
}

/// An HTML shell with the asset prefix filled in.
fn shell(name: &str) -> Response {
    let Some(file) = Assets::get(name) else {
        return not_found_page();
    };
    let html = String::from_utf8_lossy(&file.data)
        .replace("{{STATIC}}", &format!("/static/{}", *BUILD_ID));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            ),
        ],
        html,
    )
        .into_response()
}

async fn static_file(Path((build, path)): Path<(String, String)>) -> Response {
    let Some(file) = Assets::get(&path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mime = HeaderValue::from_str(file.metadata.mimetype())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    // Only the current build's URLs are immutable; an old build id still serves, briefly cached.
    let cache = if build == *BUILD_ID {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=60"
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        file.data.into_owned(),
    )
        .into_response()
}

pub fn not_found_page() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html><meta charset=utf-8><title>404</title><p>页面不存在 · Page not found</p>",
    )
        .into_response()
}
