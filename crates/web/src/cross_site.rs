//! Refuses state changes that another site made a signed-in browser send (CSRF). A browser
//! attaches our session cookie to a form or fetch from any page; it also says where that page
//! came from (`Origin`, or `Sec-Fetch-Site`), and a page cannot lie about that.

use crate::error::ApiError;
use crate::forwarded::{RequestedOrigin, peer_address};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Cookie-authenticated writes must come from our own pages. Requests with an `Authorization`
/// header are left alone: a page on another site cannot add one without our CORS consent,
/// and devices with bearer tokens send no cookie to be abused.
pub async fn refuse_cross_site_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe
        && !parts.headers.contains_key(header::AUTHORIZATION)
        && crate::auth::carries_session_cookie(&parts.headers)
    {
        let target = state
            .config
            .trusted_proxies
            .requested_origin(peer_address(&parts), &parts);
        if !sent_by_our_own_page(&parts.headers, &target) {
            tracing::warn!(
                method = %parts.method,
                path = parts.uri.path(),
                origin = ?parts.headers.get(header::ORIGIN),
                "refused a cross-site request"
            );
            return cross_site_request().into_response();
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

fn cross_site_request() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "CROSS_SITE_REQUEST",
        "请求来自其他网站，已拒绝；请在本系统的页面中操作",
        "This request came from another site and was refused; use Diancan's own pages",
    )
}

/// `Origin` must name the address the browser used; without it, `Sec-Fetch-Site` must say the
/// request came from our own origin (or the user, typing). A request with neither is not from a
/// browser that could be tricked, so it passes.
fn sent_by_our_own_page(headers: &HeaderMap, target: &RequestedOrigin) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin
            .to_str()
            .is_ok_and(|origin| same_origin(origin, target));
    }
    match headers.get("sec-fetch-site").map(|v| v.to_str()) {
        Some(Ok(site)) => matches!(site, "same-origin" | "none"),
        Some(Err(_)) => false,
        None => true,
    }
}

/// Compares `Origin` (`scheme://host[:port]`, or `null`) with the target. The host must match
/// exactly; the scheme too when a trusted proxy told us what it is.
fn same_origin(origin: &str, target: &RequestedOrigin) -> bool {
    let Some((scheme, host)) = origin.split_once("://") else {
        return false;
    };
    let Some(target_host) = &target.host else {
        return false;
    };
    let scheme = scheme.to_ascii_lowercase();
    if target.scheme.as_ref().is_some_and(|s| *s != scheme) {
        return false;
    }
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return false,
    };
    let normal = |host: &str| {
        let host = host.to_ascii_lowercase();
        match host.strip_suffix(default_port) {
            Some(bare) => bare.to_owned(),
            None => host,
        }
    };
    normal(host) == normal(target_host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str, scheme: Option<&str>) -> RequestedOrigin {
        RequestedOrigin {
            host: Some(host.into()),
            scheme: scheme.map(str::to_owned),
        }
    }

    #[test]
    fn an_origin_matches_only_the_host_the_browser_used() {
        let shop = target("shop.example", None);
        assert!(same_origin("https://shop.example", &shop));
        assert!(same_origin("http://SHOP.example", &shop));
        assert!(same_origin("https://shop.example:443", &shop));
        assert!(!same_origin("https://evil.example", &shop));
        assert!(!same_origin("https://shop.example.evil.example", &shop));
        assert!(!same_origin("https://shop.example:8443", &shop));
        assert!(!same_origin("null", &shop));
        assert!(!same_origin("file://shop.example", &shop));
        let local = target("127.0.0.1:8080", None);
        assert!(same_origin("http://127.0.0.1:8080", &local));
        assert!(!same_origin("http://127.0.0.1:8081", &local));
        assert!(!same_origin("http://127.0.0.1", &local));
    }

    #[test]
    fn a_scheme_from_a_trusted_proxy_must_match_too() {
        let shop = target("shop.example", Some("https"));
        assert!(same_origin("https://shop.example", &shop));
        assert!(!same_origin("http://shop.example", &shop));
    }

    #[test]
    fn without_origin_the_fetch_metadata_decides() {
        let shop = target("shop.example", None);
        let with = |site: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("sec-fetch-site", site.parse().unwrap());
            sent_by_our_own_page(&headers, &shop)
        };
        assert!(with("same-origin"));
        assert!(with("none"));
        assert!(!with("same-site"));
        assert!(!with("cross-site"));
        assert!(sent_by_our_own_page(&HeaderMap::new(), &shop));
        let no_host = RequestedOrigin {
            host: None,
            scheme: None,
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, "https://shop.example".parse().unwrap());
        assert!(!sent_by_our_own_page(&headers, &no_host));
    }
}
