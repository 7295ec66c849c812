//! The Feie (飞鹅云) cloud-printer API: the request signature, the form it expects and its
//! response envelope (protocols.md §6.4). Used when a shop's printer is a Feie box, not on the LAN.

use sha1::{Digest, Sha1};
use std::time::Duration;

/// `sig = lowercase_hex(sha1(user + UKEY + stime))`.
pub fn signature(user: &str, ukey: &str, stime: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(user.as_bytes());
    hasher.update(ukey.as_bytes());
    hasher.update(stime.as_bytes());
    hex::encode(hasher.finalize())
}

/// Feie refuses print contents over 5000 bytes.
pub const MAX_CONTENT_BYTES: usize = 5000;

/// An account's credentials; `Debug` hides the key.
#[derive(Clone)]
pub struct FeieAccount {
    pub base_url: String,
    pub user: String,
    pub ukey: String,
}

impl std::fmt::Debug for FeieAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeieAccount")
            .field("base_url", &self.base_url)
            .field("user", &self.user)
            .field("ukey", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FeieError {
    #[error(
        "FEIE_CONTENT_TOO_LONG: 打印内容过长 / content is {0} bytes, Feie takes at most {MAX_CONTENT_BYTES}"
    )]
    ContentTooLong(usize),
    #[error("FEIE_UNREACHABLE: 飞鹅云无法连接 / cannot reach Feie: {0}")]
    Unreachable(String),
    #[error("FEIE_BAD_RESPONSE: 飞鹅云回复无法解析 / Feie answered something unreadable: {0}")]
    BadResponse(String),
    #[error("FEIE_REFUSED: 飞鹅云拒绝 / Feie refused (ret {ret}): {msg}")]
    Refused { ret: i64, msg: String },
}

impl FeieError {
    pub fn code(&self) -> &'static str {
        match self {
            FeieError::ContentTooLong(_) => "FEIE_CONTENT_TOO_LONG",
            FeieError::Unreachable(_) => "FEIE_UNREACHABLE",
            FeieError::BadResponse(_) => "FEIE_BAD_RESPONSE",
            FeieError::Refused { .. } => "FEIE_REFUSED",
        }
    }
}

/// `{"msg":"ok","ret":0,"data":…}`; any `ret` other than 0 is a refusal.
#[derive(Debug, serde::Deserialize)]
struct Envelope {
    ret: i64,
    msg: String,
    data: Option<serde_json::Value>,
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// One signed call of `apiname` with its own `params`; answers the envelope's `data`.
async fn call(
    http: &reqwest::Client,
    account: &FeieAccount,
    apiname: &str,
    params: &[(&str, &str)],
    stime: u64,
) -> Result<Option<serde_json::Value>, FeieError> {
    let stime = stime.to_string();
    let sig = signature(&account.user, &account.ukey, &stime);
    let mut pairs = vec![
        ("user", account.user.as_str()),
        ("stime", stime.as_str()),
        ("sig", sig.as_str()),
        ("apiname", apiname),
    ];
    pairs.extend_from_slice(params);
    let response = http
        .post(&account.base_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .timeout(Duration::from_secs(5))
        .body(form_encode(&pairs))
        .send()
        .await
        .map_err(|e| FeieError::Unreachable(e.to_string()))?;
    let text = response
        .text()
        .await
        .map_err(|e| FeieError::Unreachable(e.to_string()))?;
    let envelope: Envelope =
        serde_json::from_str(&text).map_err(|e| FeieError::BadResponse(e.to_string()))?;
    if envelope.ret != 0 {
        return Err(FeieError::Refused {
            ret: envelope.ret,
            msg: envelope.msg,
        });
    }
    Ok(envelope.data)
}

/// Prints `content` (Feie markup) on printer `sn`; answers Feie's order id for status queries.
pub async fn print_msg(
    http: &reqwest::Client,
    account: &FeieAccount,
    sn: &str,
    content: &str,
    stime: u64,
) -> Result<String, FeieError> {
    if content.len() > MAX_CONTENT_BYTES {
        return Err(FeieError::ContentTooLong(content.len()));
    }
    let params = [("sn", sn), ("content", content), ("times", "1")];
    match call(http, account, "Open_printMsg", &params, stime).await? {
        Some(serde_json::Value::String(order_id)) => Ok(order_id),
        other => Err(FeieError::BadResponse(format!("data is {other:?}"))),
    }
}

/// Whether Feie's order `order_id` has printed (`false`: still waiting for the printer).
pub async fn query_order_state(
    http: &reqwest::Client,
    account: &FeieAccount,
    order_id: &str,
    stime: u64,
) -> Result<bool, FeieError> {
    let params = [("orderid", order_id)];
    match call(http, account, "Open_queryOrderState", &params, stime).await? {
        Some(serde_json::Value::Bool(printed)) => Ok(printed),
        other => Err(FeieError::BadResponse(format!("data is {other:?}"))),
    }
}

/// What Feie says about a printer: "离线。", "在线，工作状态正常。", "在线，工作状态不正常。".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeieStatus {
    Ready,
    Offline,
    /// Online but not able to print (out of paper, cover open).
    NotReady,
}

impl FeieStatus {
    /// Feie's status text as it answers it.
    pub fn text(self) -> &'static str {
        match self {
            FeieStatus::Ready => "在线，工作状态正常。",
            FeieStatus::Offline => "离线。",
            FeieStatus::NotReady => "在线，工作状态不正常。",
        }
    }

    fn parse(text: &str) -> FeieStatus {
        if text.contains("离线") {
            FeieStatus::Offline
        } else if text.contains("不正常") {
            FeieStatus::NotReady
        } else {
            FeieStatus::Ready
        }
    }
}

/// Asks Feie how printer `sn` is.
pub async fn query_printer_status(
    http: &reqwest::Client,
    account: &FeieAccount,
    sn: &str,
    stime: u64,
) -> Result<FeieStatus, FeieError> {
    let params = [("sn", sn)];
    match call(http, account, "Open_queryPrinterStatus", &params, stime).await? {
        Some(serde_json::Value::String(text)) => Ok(FeieStatus::parse(&text)),
        other => Err(FeieError::BadResponse(format!("data is {other:?}"))),
    }
}

/// A Feie account with the HTTP client that reaches it: what the print worker holds.
#[derive(Debug, Clone)]
pub struct FeieClient {
    http: reqwest::Client,
    pub account: FeieAccount,
}

impl FeieClient {
    pub fn new(account: FeieAccount) -> FeieClient {
        FeieClient {
            http: reqwest::Client::new(),
            account,
        }
    }

    pub async fn print(&self, sn: &str, content: &str, stime: u64) -> Result<String, FeieError> {
        print_msg(&self.http, &self.account, sn, content, stime).await
    }

    pub async fn printer_status(&self, sn: &str, stime: u64) -> Result<FeieStatus, FeieError> {
        query_printer_status(&self.http, &self.account, sn, stime).await
    }

    pub async fn order_printed(&self, order_id: &str, stime: u64) -> Result<bool, FeieError> {
        query_order_state(&self.http, &self.account, order_id, stime).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeHttp;

    #[test]
    fn signature_matches_feie_1() {
        assert_eq!(
            signature("test@example.com", "ABCDEFGH12345678", "1704081600"),
            "83f65479dfc02418d247d01726273a0417cefc34"
        );
    }

    #[tokio::test]
    async fn print_msg_sends_a_signed_form_and_reads_the_order_id() {
        let fake = FakeHttp::start(200, r#"{"msg":"ok","ret":0,"data":"316500004_20160823165104_1853029628","serverExecutedTime":5}"#).await;
        let account = FeieAccount {
            base_url: fake.url.clone(),
            user: "test@example.com".into(),
            ukey: "ABCDEFGH12345678".into(),
        };
        let http = reqwest::Client::new();
        let id = print_msg(
            &http,
            &account,
            "916500004",
            "<CB>测试</CB><BR>",
            1704081600,
        )
        .await
        .unwrap();
        assert_eq!(id, "316500004_20160823165104_1853029628");
        let request = &fake.requests()[0];
        let body = String::from_utf8(request.body.clone()).unwrap();
        assert!(
            body.contains("sig=83f65479dfc02418d247d01726273a0417cefc34"),
            "{body}"
        );
        assert!(
            body.contains("content=%3CCB%3E%E6%B5%8B%E8%AF%95%3C%2FCB%3E%3CBR%3E"),
            "{body}"
        );
        assert!(!format!("{account:?}").contains("ABCDEFGH"));
    }

    #[tokio::test]
    async fn refusals_and_limits_get_their_codes() {
        let fake = FakeHttp::start(
            200,
            r#"{"msg":"参数错误 : 该帐号未注册.","ret":-2,"data":null}"#,
        )
        .await;
        let account = FeieAccount {
            base_url: fake.url.clone(),
            user: "u".into(),
            ukey: "k".into(),
        };
        let http = reqwest::Client::new();
        let err = print_msg(&http, &account, "sn", "x", 1).await.unwrap_err();
        assert_eq!(err.code(), "FEIE_REFUSED");
        let err = print_msg(&http, &account, "sn", &"x".repeat(5001), 1)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "FEIE_CONTENT_TOO_LONG");
    }
}
