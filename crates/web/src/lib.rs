//! Diancan's web edge: the `/api/v1` JSON API with its OpenAPI document, the static pages
//! (customer app, merchant console, kitchen display), images and health checks.
#![forbid(unsafe_code)]

mod api;
mod auth;
mod cross_site;
pub mod customer_session;
mod demo_pay;
mod error;
mod extract;
pub mod forwarded;
pub mod live;
pub mod menu_transfer;
mod order_pass;
mod pages;
pub mod passwords;
pub mod pii_key;
mod security_headers;
mod state;
pub mod table_token;
mod usecase_errors;
mod views;

pub use api::openapi_document;
pub use error::ApiError;
pub use state::{AppConfig, AppState, Clock};

use axum::Router;
use std::future::Future;
use tokio::net::TcpListener;

/// The whole application as one router, built from its state.
pub fn router(state: AppState) -> Router {
    let mut app = api::router(state.clone())
        .merge(pages::router())
        .merge(pages::customer_router());
    if state.payment_simulators.is_some() {
        app = app.merge(demo_pay::router());
    }
    app
        // Photos may be up to 8 MiB; every other body is far smaller.
        .layer(axum::extract::DefaultBodyLimit::max(9 * 1024 * 1024))
        .layer(axum::middleware::from_fn(detach_writes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cross_site::refuse_cross_site_writes,
        ))
        .layer(axum::middleware::map_response(security_headers::add))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_response,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The span each request is traced in. It names the path without the query: a live stream's
/// `?secret=` (an order's key) must never reach the logs.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        version = ?request.version(),
    )
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let _workers = state
        .config
        .run_workers
        .then(|| diancan_usecases::workers::spawn(state.core.clone(), Default::default()));
    let _couriers = state
        .courier_simulator
        .clone()
        .filter(|_| state.config.run_workers)
        .map(|simulator| {
            diancan_usecases::workers::spawn_courier_simulator(state.core.clone(), simulator)
        });
    state.hub.listen_across_instances().await;
    // Without a configured public address, gateways (the demo's simulators) reach us here.
    if let Ok(address) = listener.local_addr() {
        state.payments.set_public_base(&format!("http://{address}"));
    }
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Runs every state-changing request to completion even if the client hangs up:
/// a dropped connection must never cancel a write halfway or lose an acknowledged one.
async fn detach_writes(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::Method;
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(join_error) => {
            tracing::error!(%join_error, "request task failed");
            axum::response::IntoResponse::into_response(ApiError::internal("request task failed"))
        }
    }
}
