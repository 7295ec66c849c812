//! What every response tells the browser it may not do: run scripts, styles or frames from
//! anywhere but our own origin, guess content types, or leak page addresses to other sites.

use axum::http::{HeaderValue, header};
use axum::response::Response;

/// The pages load their scripts and styles as files from `/static/…` and talk only to our own
/// API, so nothing else is allowed. The table page's first data sits in a
/// `<script type="application/json">` block, which the browser never executes, so it needs no
/// hash. Images may be `data:` (the empty favicon) and `blob:` (a photo previewed before upload).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
    form-action 'self'; object-src 'none'";

/// Sets the headers on a response, unless its handler chose its own.
pub async fn add(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}
