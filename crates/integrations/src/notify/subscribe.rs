//! WeChat subscribe messages (protocols.md §8): `POST /cgi-bin/message/subscribe/send` with an
//! `access_token` from `GET /cgi-bin/token`. The token is fetched once and kept until shortly
//! before it expires (WeChat allows a limited number of fetches a day); an answer that says the
//! token is invalid or expired (40001, 42001) drops it and tries once more with a fresh one.

use super::{Notifier, NotifyError, Outgoing, Recipient};
use crate::sms::BoxFuture;
use diancan_domain::notifications::NotifyChannel;
use diancan_domain::redacted::Redacted;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Where the real API lives; another base only for a test double or an egress proxy.
pub const API_BASE: &str = "https://api.weixin.qq.com";
/// The diner has not subscribed to the template (or spent the consent): do not retry.
pub const ERRCODE_NOT_SUBSCRIBED: i64 = 43101;
pub const ERRCODE_INVALID_TOKEN: i64 = 40001;
pub const ERRCODE_TOKEN_EXPIRED: i64 = 42001;
pub const ERRCODE_INVALID_OPENID: i64 = 40003;
pub const ERRCODE_INVALID_TEMPLATE: i64 = 40037;
pub const ERRCODE_INVALID_DATA: i64 = 47003;
pub const ERRCODE_INVALID_PAGE: i64 = 41030;
/// A token is refreshed this long before WeChat says it expires.
const REFRESH_EARLY_MS: i64 = 5 * 60_000;

/// The JSON body of a send.
#[derive(Serialize)]
pub struct SendBody<'a> {
    pub touser: &'a str,
    pub template_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<&'a str>,
    pub miniprogram_state: &'a str,
    pub lang: &'static str,
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Debug for SendBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendBody")
            .field("touser", &"<redacted>")
            .field("template_id", &self.template_id)
            .finish_non_exhaustive()
    }
}

/// `{"thing2": {"value": "…"}, …}` from the fields in template order.
pub fn data_object(fields: &[(String, String)]) -> serde_json::Map<String, serde_json::Value> {
    fields
        .iter()
        .map(|(key, value)| (key.clone(), serde_json::json!({ "value": value })))
        .collect()
}

/// What WeChat answers a send (and the token call, when it fails).
#[derive(Debug, Deserialize, Default)]
pub struct ApiAnswer {
    #[serde(default)]
    pub errcode: i64,
    #[serde(default)]
    pub errmsg: String,
}

impl ApiAnswer {
    /// The outcome of a send as the notifier reports it.
    pub fn into_result(self) -> Result<(), NotifyError> {
        match self.errcode {
            0 => Ok(()),
            ERRCODE_NOT_SUBSCRIBED => Err(NotifyError::Refused),
            ERRCODE_INVALID_OPENID
            | ERRCODE_INVALID_TEMPLATE
            | ERRCODE_INVALID_DATA
            | ERRCODE_INVALID_PAGE => Err(NotifyError::Rejected {
                errcode: self.errcode,
                errmsg: self.errmsg,
            }),
            // -1 busy, 45009 daily quota and whatever else: later may work.
            errcode => Err(NotifyError::Transient(format!(
                "errcode {errcode}: {}",
                self.errmsg
            ))),
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<i64>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

/// A cached access token and when to stop using it.
struct CachedToken {
    token: Redacted<String>,
    use_until_ms: i64,
}

/// The real client for one mini-program.
pub struct SubscribeClient {
    app_id: String,
    secret: Redacted<String>,
    base: String,
    /// developer | trial | formal: which build of the mini-program the card opens.
    state: String,
    http: reqwest::Client,
    now_ms: Arc<dyn Fn() -> i64 + Send + Sync>,
    token: tokio::sync::Mutex<Option<CachedToken>>,
}

impl fmt::Debug for SubscribeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscribeClient")
            .field("app_id", &self.app_id)
            .field("secret", &self.secret)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl SubscribeClient {
    /// A client for `app_id` with its AppSecret against `base` (normally [`API_BASE`]); `now_ms`
    /// is the clock the token's expiry is kept by.
    pub fn new(
        app_id: impl Into<String>,
        secret: impl Into<String>,
        base: impl Into<String>,
        now_ms: Arc<dyn Fn() -> i64 + Send + Sync>,
    ) -> Result<SubscribeClient, NotifyError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| NotifyError::Transient(e.to_string()))?;
        Ok(SubscribeClient {
            app_id: app_id.into(),
            secret: Redacted::new(secret.into()),
            base: base.into().trim_end_matches('/').to_owned(),
            state: "formal".into(),
            http,
            now_ms,
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// Opens cards in the developer or trial build instead of the released one.
    pub fn with_miniprogram_state(mut self, state: &str) -> Self {
        self.state = state.to_owned();
        self
    }

    /// The cached token, or a fresh one. Callers queue on the lock, so a burst fetches once.
    async fn access_token(&self) -> Result<Redacted<String>, NotifyError> {
        let mut cached = self.token.lock().await;
        let now = (self.now_ms)();
        if let Some(token) = cached.as_ref().filter(|t| t.use_until_ms > now) {
            return Ok(token.token.clone());
        }
        // The query carries the secret: errors must not show the URL.
        let transport = |e: reqwest::Error| NotifyError::Transient(e.without_url().to_string());
        let answer: TokenAnswer = self
            .http
            .get(format!("{}/cgi-bin/token", self.base))
            .query(&[
                ("grant_type", "client_credential"),
                ("appid", self.app_id.as_str()),
                ("secret", self.secret.expose().as_str()),
            ])
            .send()
            .await
            .map_err(transport)?
            .json()
            .await
            .map_err(transport)?;
        match (answer.access_token, answer.errcode) {
            (Some(token), 0) if !token.is_empty() => {
                let lifetime_ms = answer.expires_in.unwrap_or(7200) * 1000;
                let token = Redacted::new(token);
                *cached = Some(CachedToken {
                    token: token.clone(),
                    use_until_ms: now + (lifetime_ms - REFRESH_EARLY_MS).max(lifetime_ms / 2),
                });
                Ok(token)
            }
            (_, errcode) => Err(NotifyError::Transient(format!(
                "access token refused: errcode {errcode}: {}",
                answer.errmsg
            ))),
        }
    }

    async fn forget_token(&self) {
        *self.token.lock().await = None;
    }

    async fn post(&self, token: &str, body: &SendBody<'_>) -> Result<ApiAnswer, NotifyError> {
        let transport = |e: reqwest::Error| NotifyError::Transient(e.without_url().to_string());
        let response = self
            .http
            .post(format!("{}/cgi-bin/message/subscribe/send", self.base))
            .query(&[("access_token", token)])
            .json(body)
            .send()
            .await
            .map_err(transport)?;
        if !response.status().is_success() {
            return Err(NotifyError::Transient(format!(
                "subscribe/send answered HTTP {}",
                response.status()
            )));
        }
        response.json().await.map_err(transport)
    }
}

impl Notifier for SubscribeClient {
    fn channel(&self) -> NotifyChannel {
        NotifyChannel::Wechat
    }

    fn send<'a>(&'a self, message: &'a Outgoing) -> BoxFuture<'a, Result<(), NotifyError>> {
        Box::pin(async move {
            let Recipient::Wechat {
                openid,
                template_id,
                page,
                data,
            } = &message.recipient
            else {
                return Err(NotifyError::WrongRecipient);
            };
            let body = SendBody {
                touser: openid.expose(),
                template_id,
                page: page.as_deref(),
                miniprogram_state: &self.state,
                lang: "zh_CN",
                data: data_object(data),
            };
            let token = self.access_token().await?;
            let answer = self.post(token.expose(), &body).await?;
            if matches!(
                answer.errcode,
                ERRCODE_INVALID_TOKEN | ERRCODE_TOKEN_EXPIRED
            ) {
                // Another process may have refreshed it (WeChat keeps only the newest): once more.
                self.forget_token().await;
                let token = self.access_token().await?;
                return self.post(token.expose(), &body).await?.into_result();
            }
            answer.into_result()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    fn outgoing() -> Outgoing {
        Outgoing {
            recipient: Recipient::Wechat {
                openid: Redacted::new("oOPENID1".into()),
                template_id: "TPL1".into(),
                page: Some("pages/order/detail?id=1".into()),
                data: vec![
                    ("character_string1".into(), "42".into()),
                    ("phrase3".into(), "已接单".into()),
                ],
            },
            title: "商家已接单".into(),
            body: "…".into(),
        }
    }

    #[test]
    fn answers_map_to_outcomes() {
        let answer = |json: &str| {
            serde_json::from_str::<ApiAnswer>(json)
                .unwrap()
                .into_result()
        };
        assert_eq!(answer(r#"{"errcode":0,"errmsg":"ok","msgid":1}"#), Ok(()));
        assert_eq!(
            answer(r#"{"errcode":43101,"errmsg":"user refuse to accept the msg"}"#),
            Err(NotifyError::Refused)
        );
        assert!(matches!(
            answer(r#"{"errcode":47003,"errmsg":"argument invalid! data.thing2.value"}"#),
            Err(NotifyError::Rejected { errcode: 47003, .. })
        ));
        assert!(
            answer(r#"{"errcode":-1,"errmsg":"system error"}"#)
                .unwrap_err()
                .is_transient()
        );
    }

    #[tokio::test]
    async fn the_client_fetches_a_token_once_and_posts_the_documented_body() {
        // One answer serves both calls: it has a token and says ok.
        let wechat = crate::testing::FakeHttp::start(
            200,
            r#"{"access_token":"TOKEN1","expires_in":7200,"errcode":0,"errmsg":"ok","msgid":9}"#,
        )
        .await;
        let now = Arc::new(AtomicI64::new(1_000_000));
        let clock = now.clone();
        let client = SubscribeClient::new(
            "wxapp1",
            "s3cr3t",
            &wechat.url,
            Arc::new(move || clock.load(Ordering::SeqCst)),
        )
        .unwrap();
        assert!(!format!("{client:?}").contains("s3cr3t"));
        client.send(&outgoing()).await.unwrap();
        client.send(&outgoing()).await.unwrap();
        let requests = wechat.requests();
        assert_eq!(requests.len(), 3, "one token fetch, two sends");
        assert_eq!(requests[0].method, "GET");
        assert!(requests[0].target.starts_with("/cgi-bin/token?"));
        assert_eq!(
            requests[0].query("grant_type").as_deref(),
            Some("client_credential")
        );
        assert_eq!(requests[0].query("appid").as_deref(), Some("wxapp1"));
        assert_eq!(requests[0].query("secret").as_deref(), Some("s3cr3t"));
        let send = &requests[1];
        assert_eq!(send.method, "POST");
        assert!(send.target.starts_with("/cgi-bin/message/subscribe/send?"));
        assert_eq!(send.query("access_token").as_deref(), Some("TOKEN1"));
        let body: serde_json::Value = serde_json::from_slice(&send.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "touser": "oOPENID1", "template_id": "TPL1", "page": "pages/order/detail?id=1",
                "miniprogram_state": "formal", "lang": "zh_CN",
                "data": {"character_string1": {"value": "42"}, "phrase3": {"value": "已接单"}}
            })
        );
        // Past its life (less the early refresh) the token is fetched again.
        now.fetch_add(7_200_000 - REFRESH_EARLY_MS, Ordering::SeqCst);
        client.send(&outgoing()).await.unwrap();
        let requests = wechat.requests();
        assert_eq!(requests.len(), 5);
        assert!(requests[3].target.starts_with("/cgi-bin/token?"));
    }

    #[tokio::test]
    async fn a_phone_is_not_a_wechat_recipient() {
        let client =
            SubscribeClient::new("wxapp1", "s3cr3t", "http://127.0.0.1:9", Arc::new(|| 0)).unwrap();
        let message = Outgoing {
            recipient: Recipient::Phone(
                diancan_domain::customer::Phone::parse("13812345678").unwrap(),
            ),
            title: String::new(),
            body: String::new(),
        };
        assert_eq!(
            client.send(&message).await,
            Err(NotifyError::WrongRecipient)
        );
    }
}
