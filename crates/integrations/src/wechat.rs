//! WeChat mini-program login: the `wx.login()` code is exchanged for the user's openid through
//! `GET https://api.weixin.qq.com/sns/jscode2session?appid=…&secret=…&js_code=…&grant_type=authorization_code`.
//! The wire types mirror that call and [`JsCode2Session`] makes it; [`WeChatSimulator`] answers
//! like it, offline, for demo mode and tests; [`WeChatNotConfigured`] refuses, for a deployment
//! without an AppID.
//! The `session_key` in the answer is a secret: it is dropped at once and never logged.

use crate::sms::BoxFuture;
use diancan_domain::redacted::Redacted;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::fmt;

/// The mini-program code2session endpoint.
pub const JSCODE2SESSION_URL: &str = "https://api.weixin.qq.com/sns/jscode2session";
/// `errcode` for an invalid, expired or already used `js_code`.
pub const ERRCODE_INVALID_CODE: i64 = 40029;
/// `errcode` for a code that was already exchanged once.
pub const ERRCODE_CODE_USED: i64 = 40163;
/// `errcode` when the app's per-minute quota is spent.
pub const ERRCODE_RATE_LIMITED: i64 = 45011;

/// Who logged in: the openid is per mini-program; the unionid (when the app is bound to an
/// open-platform account) is the same across the brand's apps. Both are personal identifiers.
#[derive(Clone, PartialEq, Eq)]
pub struct WeChatSession {
    pub openid: String,
    pub unionid: Option<String>,
}

impl fmt::Debug for WeChatSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeChatSession")
            .field("openid", &"<redacted>")
            .field("unionid", &self.unionid.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeChatError {
    /// errcode 40029 or 40163: the diner should tap login again for a fresh code.
    #[error("invalid or used login code")]
    InvalidCode,
    #[error("WeChat rate limit reached")]
    RateLimited,
    #[error("WeChat answered errcode {errcode}: {errmsg}")]
    Api { errcode: i64, errmsg: String },
    #[error("WeChat could not be reached: {0}")]
    Transport(String),
    /// No AppID and secret are configured, so WeChat login is off.
    #[error("WeChat login is not configured")]
    NotConfigured,
}

/// Exchanges a mini-program login code for the user's identity.
pub trait WeChatLogin: Send + Sync {
    /// The AppID this login belongs to, which scopes every openid it returns.
    fn app_id(&self) -> &str;
    fn code2session<'a>(
        &'a self,
        js_code: &'a str,
    ) -> BoxFuture<'a, Result<WeChatSession, WeChatError>>;
}

/// The query of a code2session call. `Debug` hides the app secret.
pub struct Code2SessionRequest<'a> {
    pub appid: &'a str,
    pub secret: &'a str,
    pub js_code: &'a str,
}

impl Code2SessionRequest<'_> {
    /// The query pairs, for whichever HTTP client the deployment uses.
    pub fn query(&self) -> [(&'static str, &str); 4] {
        [
            ("appid", self.appid),
            ("secret", self.secret),
            ("js_code", self.js_code),
            ("grant_type", "authorization_code"),
        ]
    }
}

impl fmt::Debug for Code2SessionRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Code2SessionRequest")
            .field("appid", &self.appid)
            .field("secret", &"<redacted>")
            .field("js_code", &"<redacted>")
            .finish()
    }
}

/// The JSON WeChat answers with. Success has `openid` and `session_key` (errcode absent or 0).
#[derive(Deserialize, Default)]
pub struct Code2SessionResponse {
    pub openid: Option<String>,
    pub session_key: Option<String>,
    pub unionid: Option<String>,
    pub errcode: Option<i64>,
    pub errmsg: Option<String>,
}

impl fmt::Debug for Code2SessionResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Code2SessionResponse")
            .field("openid", &self.openid.as_ref().map(|_| "<redacted>"))
            .field(
                "session_key",
                &self.session_key.as_ref().map(|_| "<redacted>"),
            )
            .field("unionid", &self.unionid.as_ref().map(|_| "<redacted>"))
            .field("errcode", &self.errcode)
            .field("errmsg", &self.errmsg)
            .finish()
    }
}

impl Code2SessionResponse {
    pub fn from_json(body: &[u8]) -> Result<Self, WeChatError> {
        serde_json::from_slice(body).map_err(|e| WeChatError::Transport(format!("bad JSON: {e}")))
    }

    /// The identity, or the error WeChat reported. The session key is dropped here: we do
    /// not decrypt WeChat's encrypted user data, so it is never needed.
    pub fn into_session(self) -> Result<WeChatSession, WeChatError> {
        match self.errcode.unwrap_or(0) {
            0 => match self.openid.filter(|o| !o.is_empty()) {
                Some(openid) => Ok(WeChatSession {
                    openid,
                    unionid: self.unionid.filter(|u| !u.is_empty()),
                }),
                None => Err(WeChatError::Api {
                    errcode: 0,
                    errmsg: "no openid in the answer".into(),
                }),
            },
            ERRCODE_INVALID_CODE | ERRCODE_CODE_USED => Err(WeChatError::InvalidCode),
            ERRCODE_RATE_LIMITED => Err(WeChatError::RateLimited),
            errcode => Err(WeChatError::Api {
                errcode,
                errmsg: self.errmsg.unwrap_or_default(),
            }),
        }
    }
}

/// The real login: one `GET jscode2session` per login code, for one mini-program.
pub struct JsCode2Session {
    app_id: String,
    secret: Redacted<String>,
    url: String,
    http: reqwest::Client,
}

impl fmt::Debug for JsCode2Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsCode2Session")
            .field("app_id", &self.app_id)
            .field("secret", &self.secret)
            .field("url", &self.url)
            .finish()
    }
}

impl JsCode2Session {
    /// A client for the app `app_id` with its AppSecret, calling `url` (normally
    /// [`JSCODE2SESSION_URL`]; another only for a test double or an egress proxy).
    pub fn new(
        app_id: impl Into<String>,
        secret: impl Into<String>,
        url: impl Into<String>,
    ) -> Result<JsCode2Session, WeChatError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| WeChatError::Transport(e.to_string()))?;
        Ok(JsCode2Session {
            app_id: app_id.into(),
            secret: Redacted::new(secret.into()),
            url: url.into(),
            http,
        })
    }
}

impl WeChatLogin for JsCode2Session {
    fn app_id(&self) -> &str {
        &self.app_id
    }

    fn code2session<'a>(
        &'a self,
        js_code: &'a str,
    ) -> BoxFuture<'a, Result<WeChatSession, WeChatError>> {
        Box::pin(async move {
            let request = Code2SessionRequest {
                appid: &self.app_id,
                secret: self.secret.expose(),
                js_code,
            };
            // `without_url`: the URL carries the secret in its query, so errors must not show it.
            let transport = |e: reqwest::Error| WeChatError::Transport(e.without_url().to_string());
            let response = self
                .http
                .get(&self.url)
                .query(&request.query())
                .send()
                .await
                .map_err(transport)?;
            if !response.status().is_success() {
                return Err(WeChatError::Transport(format!(
                    "jscode2session answered HTTP {}",
                    response.status()
                )));
            }
            let body = response.bytes().await.map_err(transport)?;
            Code2SessionResponse::from_json(&body)?.into_session()
        })
    }
}

/// The login of a deployment without an AppID: every code is refused as unavailable.
#[derive(Debug, Default, Clone, Copy)]
pub struct WeChatNotConfigured;

impl WeChatLogin for WeChatNotConfigured {
    fn app_id(&self) -> &str {
        ""
    }

    fn code2session<'a>(
        &'a self,
        _js_code: &'a str,
    ) -> BoxFuture<'a, Result<WeChatSession, WeChatError>> {
        Box::pin(async { Err(WeChatError::NotConfigured) })
    }
}

/// An offline stand-in for jscode2session: `sim-<anything>` logs in as a stable user derived
/// from `<anything>` (so `sim-alice` is always the same diner); any other code gets 40029.
#[derive(Debug, Clone)]
pub struct WeChatSimulator {
    app_id: String,
}

impl WeChatSimulator {
    pub const CODE_PREFIX: &'static str = "sim-";

    pub fn new(app_id: impl Into<String>) -> Self {
        WeChatSimulator {
            app_id: app_id.into(),
        }
    }

    /// What WeChat would have answered, as the real client would parse it.
    pub fn answer(&self, js_code: &str) -> Code2SessionResponse {
        match js_code
            .strip_prefix(Self::CODE_PREFIX)
            .filter(|u| !u.is_empty())
        {
            Some(user) => {
                let digest = Sha256::digest(format!("{}:{user}", self.app_id).as_bytes());
                let id = hex::encode(&digest[..14]);
                Code2SessionResponse {
                    openid: Some(format!("oSIM{id}")),
                    session_key: Some(hex::encode(&digest[14..30])),
                    unionid: Some(format!("uSIM{id}")),
                    ..Default::default()
                }
            }
            None => Code2SessionResponse {
                errcode: Some(ERRCODE_INVALID_CODE),
                errmsg: Some("invalid code".into()),
                ..Default::default()
            },
        }
    }
}

impl Default for WeChatSimulator {
    fn default() -> Self {
        WeChatSimulator::new("wxsimulator000000")
    }
}

impl WeChatLogin for WeChatSimulator {
    fn app_id(&self) -> &str {
        &self.app_id
    }

    fn code2session<'a>(
        &'a self,
        js_code: &'a str,
    ) -> BoxFuture<'a, Result<WeChatSession, WeChatError>> {
        Box::pin(async move { self.answer(js_code).into_session() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_answers_map_to_sessions_and_errors() {
        let ok = Code2SessionResponse::from_json(
            br#"{"openid":"oABC","session_key":"c2VjcmV0","unionid":"uXYZ"}"#,
        )
        .unwrap();
        let debug = format!("{ok:?}");
        assert!(
            !debug.contains("c2VjcmV0") && !debug.contains("oABC"),
            "{debug}"
        );
        assert_eq!(
            ok.into_session(),
            Ok(WeChatSession {
                openid: "oABC".into(),
                unionid: Some("uXYZ".into())
            })
        );
        let invalid = Code2SessionResponse::from_json(
            br#"{"errcode":40029,"errmsg":"invalid code, rid: 1"}"#,
        )
        .unwrap();
        assert_eq!(invalid.into_session(), Err(WeChatError::InvalidCode));
        let busy =
            Code2SessionResponse::from_json(br#"{"errcode":-1,"errmsg":"system error"}"#).unwrap();
        assert!(matches!(
            busy.into_session(),
            Err(WeChatError::Api { errcode: -1, .. })
        ));
        let limited =
            Code2SessionResponse::from_json(br#"{"errcode":45011,"errmsg":"limit"}"#).unwrap();
        assert_eq!(limited.into_session(), Err(WeChatError::RateLimited));
    }

    #[tokio::test]
    async fn the_simulator_is_stable_per_user_and_rejects_other_codes() {
        let wechat = WeChatSimulator::default();
        let alice = wechat.code2session("sim-alice").await.unwrap();
        assert_eq!(wechat.code2session("sim-alice").await.unwrap(), alice);
        assert_ne!(
            wechat.code2session("sim-bob").await.unwrap().openid,
            alice.openid
        );
        assert_ne!(
            WeChatSimulator::new("wxother")
                .code2session("sim-alice")
                .await
                .unwrap()
                .openid,
            alice.openid,
            "openids are per app"
        );
        assert_eq!(alice.openid.len(), 4 + 28);
        assert!(!format!("{alice:?}").contains(&alice.openid));
        for bad in ["alice", "sim-", "", "SIM-alice"] {
            assert_eq!(
                wechat.code2session(bad).await,
                Err(WeChatError::InvalidCode),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_request_hides_its_secret() {
        let request = Code2SessionRequest {
            appid: "wx123",
            secret: "s3cr3t",
            js_code: "0a1b",
        };
        assert_eq!(request.query()[3], ("grant_type", "authorization_code"));
        assert!(!format!("{request:?}").contains("s3cr3t"));
    }

    #[tokio::test]
    async fn the_real_client_sends_the_documented_query_and_maps_the_answer() {
        let wechat = crate::testing::FakeHttp::start(
            200,
            r#"{"openid":"oREAL1","session_key":"c2s=","unionid":"uREAL1"}"#,
        )
        .await;
        let client = JsCode2Session::new("wxapp1", "s3cr3t", &wechat.url).unwrap();
        assert!(!format!("{client:?}").contains("s3cr3t"));
        let session = client.code2session("0a1b2c").await.unwrap();
        assert_eq!(session.openid, "oREAL1");
        assert_eq!(session.unionid.as_deref(), Some("uREAL1"));
        let sent = &wechat.requests()[0];
        assert_eq!(sent.method, "GET");
        assert_eq!(sent.query("appid").as_deref(), Some("wxapp1"));
        assert_eq!(sent.query("secret").as_deref(), Some("s3cr3t"));
        assert_eq!(sent.query("js_code").as_deref(), Some("0a1b2c"));
        assert_eq!(
            sent.query("grant_type").as_deref(),
            Some("authorization_code")
        );

        let refused =
            crate::testing::FakeHttp::start(200, r#"{"errcode":40029,"errmsg":"invalid code"}"#)
                .await;
        let client = JsCode2Session::new("wxapp1", "s3cr3t", &refused.url).unwrap();
        assert_eq!(
            client.code2session("x").await,
            Err(WeChatError::InvalidCode)
        );

        let down = crate::testing::FakeHttp::start(502, "{}").await;
        let client = JsCode2Session::new("wxapp1", "s3cr3t", &down.url).unwrap();
        match client.code2session("x").await {
            Err(WeChatError::Transport(reason)) => assert!(!reason.contains("s3cr3t"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_unconfigured_login_refuses_every_code() {
        assert_eq!(
            WeChatNotConfigured.code2session("sim-alice").await,
            Err(WeChatError::NotConfigured)
        );
    }
}
