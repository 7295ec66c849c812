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

use crate::extract::ApiPath;
use crate::state::AppState;
use diancan_usecases::menus::CachedMenu;

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
        // One shell for the station screen, expo and the pickup screen; the script reads the path.
        .route("/kds", get(|| async { shell("kitchen/kds.html") }))
        .route("/kds/expo", get(|| async { shell("kitchen/kds.html") }))
        .route("/kds/pickup", get(|| async { shell("kitchen/kds.html") }))
        // The rider's phone: their deliveries, 取货 and 送达.
        .route("/rider", get(|| async { shell("rider/index.html") }))
        .route("/api/v1/docs", get(|| async { shell("docs/index.html") }))
        .route("/static/{build}/{*path}", get(static_file))
}

/// An HTML shell with the asset prefix filled in.
pub(crate) fn shell(name: &str) -> Response {
    shell_filled(name, |html| html)
}

/// The customer app's routes, which know what data the page will ask for first.
pub fn customer_router() -> Router<AppState> {
    Router::new()
        .route("/t/{token}", get(table_page))
        .route("/s/{store_id}", get(store_page))
}

/// The table page carries its first data (the table, its shared cart and its store's menu, as
/// the API would answer) inside the HTML, so a phone on a slow network needs no API round trip
/// before it can show the menu. A bad token gets the bare page, which then asks the API and shows
/// the API's error.
async fn table_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    use crate::api::public::table_landing;
    let page = "customer/index.html";
    let Ok(axum::Json(table)) = table_landing(State(state.clone()), ApiPath(token)).await else {
        return shell_with_data(page, None);
    };
    let (Ok(cart), Ok(menu)) = (
        state.db.cart(table.table_id).await,
        state.menus.get(&state, table.store_id).await,
    ) else {
        return shell_with_data(page, None);
    };
    let (Ok(table), Ok(cart)) = (serde_json::to_string(&table), serde_json::to_string(&cart))
    else {
        return shell_with_data(page, None);
    };
    shell_with_data(
        page,
        first_data(&[("table", &table), ("cart", &cart)], &menu).as_deref(),
    )
}

async fn store_page(State(state): State<AppState>, Path(store_id): Path<String>) -> Response {
    let data = match store_id.parse::<diancan_domain::StoreId>() {
        Ok(store_id) => match state.menus.get(&state, store_id).await {
            Ok(menu) => first_data(&[], &menu),
            Err(_) => None,
        },
        Err(_) => None,
    };
    shell_with_data("customer/index.html", data.as_deref())
}

/// `{"table": …, "cart": …, "menu": …, "etag": …}` made safe to sit inside a `<script>` element:
/// every `<` becomes `\u003c` (the same string to a JSON parser), so no dish name or note can
/// close the element.
fn first_data(parts: &[(&str, &str)], menu: &CachedMenu) -> Option<String> {
    let mut data = String::from("{");
    for (key, json) in parts {
        data.push_str(&format!("\"{key}\":{json},"));
    }
    let menu_json = std::str::from_utf8(&menu.body).ok()?;
    let etag = serde_json::to_string(&menu.etag).ok()?;
    data.push_str(&format!("\"menu\":{menu_json},\"etag\":{etag}}}"));
    Some(data.replace('<', "\\u003c"))
}

fn shell_with_data(name: &str, data: Option<&str>) -> Response {
    shell_filled(name, |html| match data {
        Some(data) => html.replacen(
            "</head>",
            &format!(
                "<script type=\"application/json\" id=\"first-data\">{data}</script>\n</head>"
            ),
            1,
        ),
        None => html,
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
