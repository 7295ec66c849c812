//! The HTTP hop to a gateway, behind a small trait so tests and the simulators can answer on
//! loopback. Signatures are made and checked on the exact bytes this carries.

use super::error::PaymentError;
use crate::sms::BoxFuture;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// A header's value by name in any case: HTTP names are case-insensitive, and the gateways
/// and proxies in between spell them differently.
pub fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

pub trait Transport: Send + Sync {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PaymentError>>;
}

/// How long one gateway call may take, connection included. WeChat and Alipay answer in well
/// under a second; longer means trouble, and the caller queries instead of waiting.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// A gateway answer larger than this is not one of theirs.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// The real transport: reqwest with a timeout on every call.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    pub fn new() -> Result<ReqwestTransport, PaymentError> {
        let client = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("diancan/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PaymentError::Transport {
                reason: e.to_string(),
                timed_out: false,
            })?;
        Ok(ReqwestTransport { client })
    }
}

fn transport_error(error: reqwest::Error) -> PaymentError {
    PaymentError::Transport {
        timed_out: error.is_timeout(),
        reason: error.to_string(),
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PaymentError>> {
        Box::pin(async move {
            let method = match request.method {
                Method::Get => reqwest::Method::GET,
                Method::Post => reqwest::Method::POST,
            };
            let mut builder = self.client.request(method, &request.url);
            for (name, value) in &request.headers {
                builder = builder.header(*name, value);
            }
            if request.method == Method::Post {
                builder = builder.body(request.body);
            }
            let mut response = builder.send().await.map_err(transport_error)?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
                if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(PaymentError::malformed("gateway answer over 1 MiB"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeHttp;

    #[tokio::test]
    async fn carries_method_headers_and_exact_body_both_ways() {
        let fake = FakeHttp::start(200, r#"{"prepay_id":"wx1"}"#).await;
        let transport = ReqwestTransport::new().unwrap();
        let response = transport
            .send(HttpRequest {
                method: Method::Post,
                url: format!("{}v3/pay/transactions/jsapi", fake.url),
                headers: vec![("authorization", "WECHATPAY2-SHA256-RSA2048 x".into())],
                body: br#"{"a":1}"#.to_vec(),
            })
            .await
            .unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, br#"{"prepay_id":"wx1"}"#);
        assert_eq!(response.header("Content-Type"), Some("application/json"));
        let seen = &fake.requests()[0];
        assert_eq!(seen.method, "POST");
        assert_eq!(seen.target, "/v3/pay/transactions/jsapi");
        assert_eq!(seen.body, br#"{"a":1}"#);
        assert_eq!(
            seen.header("authorization"),
            Some("WECHATPAY2-SHA256-RSA2048 x")
        );
    }

    #[tokio::test]
    async fn an_unreachable_gateway_is_an_unknown_outcome() {
        // Bind then drop a listener: the port is closed, so the connection is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let error = ReqwestTransport::new()
            .unwrap()
            .send(HttpRequest {
                method: Method::Get,
                url: format!("http://127.0.0.1:{port}/"),
                headers: vec![],
                body: vec![],
            })
            .await
            .unwrap_err();
        assert!(matches!(error, PaymentError::Transport { .. }));
        assert!(error.outcome_unknown());
    }
}
