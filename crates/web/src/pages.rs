//! The static front ends (customer app, merchant console, kitchen display, API docs), embedded
//! in the binary. Assets live under `/static/{build}/…` and are cached for a year; the HTML shells
//! are never cached, so a new build is picked up at the next page load.

use axum::Router;
use axum::extract::{Path, State};
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
    shell_filled(name, |html| html)
}

/// The customer app's routes, which know what data the page will ask for first.
pub fn customer_router() -> Router<crate::state::AppState> {
    Router::new()
        .route("/t/{token}", get(table_page))
        .route("/s/{store_id}", get(store_page))
}

/// The table page hints its first two API calls (the table, then its store's menu) so a phone on
/// a slow network fetches them alongside the scripts instead of one round trip after another.
async fn table_page(
    State(state): State<crate::state::AppState>,
    Path(token): Path<String>,
) -> Response {
    let mut hints = Vec::new();
    if crate::table_token::verify(&state.config.table_token_key, &token).is_some() {
        hints.push(format!("/api/v1/tables/{token}"));
        if let Ok(table) = state.db.table_by_token(&token).await {
            hints.push(format!("/api/v1/stores/{}/menu", table.store_id));
        }
    }
    shell_with_hints("customer/index.html", &hints)
}

async fn store_page(Path(store_id): Path<String>) -> Response {
    let hints: Vec<String> = store_id
        .parse::<uuid::Uuid>()
        .map(|id| format!("/api/v1/stores/{id}/menu"))
        .into_iter()
        .collect();
    shell_with_hints("customer/index.html", &hints)
}

fn shell_with_hints(name: &str, fetches: &[String]) -> Response {
    let links: String = fetches
        .iter()
        // Only URL-safe characters reach here (a verified token, a UUID), so nothing needs escaping.
        .filter(|url| {
            url.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/-_".contains(&b))
        })
        .map(|url| {
            format!(
                "<link rel=\"preload\" as=\"fetch\" crossorigin=\"anonymous\" href=\"{url}\">\n"
            )
        })
        .collect();
    shell_filled(name, |html| {
        html.replacen("</head>", &format!("{links}</head>"), 1)
    })
}

/// An HTML shell with the asset prefix filled in, finished by `finish`.
fn shell_filled(name: &str, finish: impl FnOnce(String) -> String) -> Response {
    let Some(file) = Assets::get(name) else {
        return not_found_page();
    };
    let html = finish(
        String::from_utf8_lossy(&file.data)
            .replace("{{STATIC}}", &format!("/static/{}", *BUILD_ID)),
    );
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
