//! Sending verification codes by SMS. Real gateways (阿里云短信, 腾讯云短信) plug in behind
//! [`SmsSender`]: [`WebhookSms`] hands each code to the deployment's own gateway adapter over a
//! documented HTTP call. [`LogSms`] writes the code to the log and exists for demo mode only;
//! [`NoSms`] refuses, for a deployment that has configured no provider.

use diancan_domain::customer::{OtpCode, Phone};
use diancan_domain::redacted::Redacted;
use std::future::Future;
use std::pin::Pin;

/// A future that a trait object can return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// The gateway refused or could not be reached; `reason` is for the log, not the diner.
    #[error("SMS gateway failed: {reason}")]
    Gateway { reason: String },
    /// No provider is configured, so phone login is off.
    #[error("no SMS provider is configured")]
    NotConfigured,
}

/// Something that delivers a one-time code (and order notices) to a phone.
pub trait SmsSender: Send + Sync {
    fn send_code<'a>(
        &'a self,
        phone: &'a Phone,
        code: &'a OtpCode,
    ) -> BoxFuture<'a, Result<(), SmsError>>;

    /// A short notice ("取餐号 42 已出餐…"). A provider that only sends codes refuses.
    fn send_notice<'a>(
        &'a self,
        _phone: &'a Phone,
        _text: &'a str,
    ) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(async { Err(SmsError::NotConfigured) })
    }
}

/// Demo provider: sends nothing, logs the code with the phone masked so a developer can log in
/// from the server's console. The server selects it only in demo mode, which its banner names.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogSms;

impl SmsSender for LogSms {
    fn send_code<'a>(
        &'a self,
        phone: &'a Phone,
        code: &'a OtpCode,
    ) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(async move {
            tracing::info!(
                phone = %phone.masked(),
                code = code.expose(),
                "验证码 (development SMS provider, nothing sent)"
            );
            Ok(())
        })
    }

    fn send_notice<'a>(
        &'a self,
        phone: &'a Phone,
        text: &'a str,
    ) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(async move {
            tracing::info!(phone = %phone.masked(), text, "短信通知 (development SMS provider, nothing sent)");
            Ok(())
        })
    }
}

/// The provider of a deployment that configured none: every send fails, and nothing is logged.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSms;

impl SmsSender for NoSms {
    fn send_code<'a>(
        &'a self,
        _phone: &'a Phone,
        _code: &'a OtpCode,
    ) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(async { Err(SmsError::NotConfigured) })
    }
}

/// What [`WebhookSms`] posts, as JSON, for each code:
///
/// ```json
/// {"phone": "13812345678", "code": "246810", "purpose": "login", "ttl_secs": 300}
/// ```
///
/// and for each order notice (see [`WebhookNotice`]):
///
/// ```json
/// {"phone": "13812345678", "purpose": "notice", "text": "取餐号 42 已出餐，请到老王面馆取餐。"}
/// ```
///
/// with `Authorization: Bearer <token>` and `Content-Type: application/json`. Any 2xx answer
/// means sent; anything else (or no answer within 10 s) fails the send, and the diner is told
/// to try again. The receiver is the deployment's adapter to its SMS gateway (a template
/// message on 阿里云/腾讯云); it must not log the code either.
#[derive(serde::Serialize)]
pub struct WebhookMessage<'a> {
    pub phone: &'a str,
    pub code: &'a str,
    pub purpose: &'static str,
    pub ttl_secs: u64,
}

/// What [`WebhookSms`] posts for an order notice.
#[derive(serde::Serialize)]
pub struct WebhookNotice<'a> {
    pub phone: &'a str,
    pub purpose: &'static str,
    pub text: &'a str,
}

/// How long a code lives; sent so the adapter can say so in the message.
pub const CODE_TTL_SECS: u64 = 300;

/// Sends codes through the deployment's gateway adapter (see [`WebhookMessage`]).
pub struct WebhookSms {
    url: String,
    token: Redacted<String>,
    http: reqwest::Client,
}

impl std::fmt::Debug for WebhookSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSms")
            .field("url", &self.url)
            .field("token", &self.token)
            .finish()
    }
}

impl WebhookSms {
    pub fn new(url: impl Into<String>, token: impl Into<String>) -> Result<WebhookSms, SmsError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| SmsError::Gateway {
                reason: e.to_string(),
            })?;
        Ok(WebhookSms {
            url: url.into(),
            token: Redacted::new(token.into()),
            http,
        })
    }
}

impl SmsSender for WebhookSms {
    fn send_code<'a>(
        &'a self,
        phone: &'a Phone,
        code: &'a OtpCode,
    ) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(async move {
            let message = WebhookMessage {
                phone: phone.expose(),
                code: code.expose(),
                purpose: "login",
                ttl_secs: CODE_TTL_SECS,
            };
            self.post(&message).await
        })
    }

    fn send_notice<'a>(
        &'a self,
        phone: &'a Phone,
        text: &'a str,
    ) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(async move {
            let notice = WebhookNotice {
                phone: phone.expose(),
                purpose: "notice",
                text,
            };
            self.post(&notice).await
        })
    }
}

impl WebhookSms {
    /// Errors name the status or the transport failure, never the message.
    async fn post(&self, message: &impl serde::Serialize) -> Result<(), SmsError> {
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(self.token.expose())
            .json(message)
            .send()
            .await
            .map_err(|e| SmsError::Gateway {
                reason: format!("webhook unreachable: {}", e.without_url()),
            })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(SmsError::Gateway {
                reason: format!("webhook answered {}", response.status()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Collects formatted log lines for the assertions below.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_log_provider_shows_the_code_but_masks_the_phone() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let phone = Phone::parse("13812345678").unwrap();
        let code = OtpCode::parse("246810").unwrap();
        LogSms.send_code(&phone, &code).await.unwrap();

        let logged = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        assert!(logged.contains("138****5678"), "{logged}");
        assert!(logged.contains("246810"), "{logged}");
        assert!(!logged.contains("13812345678"), "{logged}");
    }

    #[tokio::test]
    async fn the_webhook_posts_the_documented_json_and_logs_nothing() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let gateway = crate::testing::FakeHttp::start(200, "{}").await;
        let sms = WebhookSms::new(&gateway.url, "tok3n").unwrap();
        assert!(!format!("{sms:?}").contains("tok3n"));
        let phone = Phone::parse("13812345678").unwrap();
        let code = OtpCode::parse("246810").unwrap();
        sms.send_code(&phone, &code).await.unwrap();

        let sent = &gateway.requests()[0];
        assert_eq!(sent.method, "POST");
        assert_eq!(sent.header("authorization"), Some("Bearer tok3n"));
        assert_eq!(sent.header("content-type"), Some("application/json"));
        let body: serde_json::Value = serde_json::from_slice(&sent.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"phone": "13812345678", "code": "246810", "purpose": "login", "ttl_secs": 300})
        );
        let logged = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        assert!(!logged.contains("246810"), "{logged}");

        let refusing = crate::testing::FakeHttp::start(500, "{}").await;
        let sms = WebhookSms::new(&refusing.url, "tok3n").unwrap();
        assert!(matches!(
            sms.send_code(&phone, &code).await,
            Err(SmsError::Gateway { .. })
        ));
        assert_eq!(
            NoSms.send_code(&phone, &code).await,
            Err(SmsError::NotConfigured)
        );
    }

    #[tokio::test]
    async fn notices_go_to_the_webhook_with_their_own_purpose() {
        let gateway = crate::testing::FakeHttp::start(200, "{}").await;
        let sms = WebhookSms::new(&gateway.url, "tok3n").unwrap();
        let phone = Phone::parse("13812345678").unwrap();
        sms.send_notice(&phone, "取餐号 42 已出餐").await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&gateway.requests()[0].body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"phone": "13812345678", "purpose": "notice", "text": "取餐号 42 已出餐"})
        );
        assert_eq!(
            NoSms.send_notice(&phone, "x").await,
            Err(SmsError::NotConfigured)
        );
    }
}
