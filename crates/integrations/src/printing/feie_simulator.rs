//! A local stand-in for the Feie cloud (飞鹅云), for demo mode and tests: it listens on
//! loopback, refuses any call whose `sig` is not `sha1(user + UKEY + stime)` of its account,
//! takes `Open_printMsg` (keeping each paper), answers `Open_queryOrderState` and
//! `Open_queryPrinterStatus`, and can be told its printers are offline.

use super::feie::{FeieAccount, FeieStatus, MAX_CONTENT_BYTES, signature};
use crate::testing::read_request;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// A paper Feie took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeiePaper {
    pub sn: String,
    /// The markup as sent.
    pub content: String,
    pub order_id: String,
    /// Printed at once (the printer was online), or still waiting in Feie's queue.
    pub printed: bool,
}

struct Shared {
    user: String,
    ukey: String,
    offline: AtomicBool,
    next_order: AtomicU64,
    papers: Mutex<Vec<FeiePaper>>,
    /// Calls refused for a bad signature (a test asserts there were none).
    bad_signatures: AtomicU64,
    arrived: Notify,
}

/// The simulator; dropping it stops listening.
pub struct FeieSimulator {
    /// `http://127.0.0.1:<port>/Api/Open/`
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FeieSimulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The demo account's credentials (the simulator accepts only these).
pub const DEMO_USER: &str = "demo@diancan.local";
pub const DEMO_UKEY: &str = "DEMOUKEY12345678";

fn envelope(ret: i64, msg: &str, data: serde_json::Value) -> String {
    serde_json::json!({ "msg": msg, "ret": ret, "data": data, "serverExecutedTime": 1 }).to_string()
}

impl Shared {
    fn answer(&self, body: &[u8]) -> String {
        let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
        let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
        if field("user") != self.user {
            return envelope(-2, "参数错误 : 该帐号未注册.", serde_json::Value::Null);
        }
        if field("stime").is_empty()
            || field("sig") != signature(&self.user, &self.ukey, field("stime"))
        {
            self.bad_signatures.fetch_add(1, Ordering::SeqCst);
            return envelope(-3, "参数错误 : 签名错误.", serde_json::Value::Null);
        }
        let offline = self.offline.load(Ordering::SeqCst);
        match field("apiname") {
            "Open_printMsg" => {
                let content = field("content");
                if field("sn").is_empty() || content.is_empty() {
                    return envelope(-2, "参数错误 : 缺少参数.", serde_json::Value::Null);
                }
                if content.len() > MAX_CONTENT_BYTES {
                    return envelope(-6, "参数错误 : 内容过长.", serde_json::Value::Null);
                }
                let n = self.next_order.fetch_add(1, Ordering::SeqCst) + 1;
                let order_id = format!("{}_sim_{n}", field("sn"));
                self.papers.lock().unwrap().push(FeiePaper {
                    sn: field("sn").to_owned(),
                    content: content.to_owned(),
                    order_id: order_id.clone(),
                    printed: !offline,
                });
                self.arrived.notify_waiters();
                envelope(0, "ok", order_id.into())
            }
            "Open_queryOrderState" => {
                let papers = self.papers.lock().unwrap();
                match papers.iter().find(|p| p.order_id == field("orderid")) {
                    Some(paper) => envelope(0, "ok", paper.printed.into()),
                    None => envelope(-2, "参数错误 : 订单不存在.", serde_json::Value::Null),
                }
            }
            "Open_queryPrinterStatus" => {
                let status = if offline {
                    FeieStatus::Offline
                } else {
                    FeieStatus::Ready
                };
                envelope(0, "ok", status.text().into())
            }
            _ => envelope(-1, "参数错误 : 接口不存在.", serde_json::Value::Null),
        }
    }
}

impl FeieSimulator {
    /// Listens on loopback for the account `user` / `ukey`.
    pub async fn start(user: &str, ukey: &str) -> std::io::Result<FeieSimulator> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/Api/Open/", listener.local_addr()?);
        let shared = Arc::new(Shared {
            user: user.to_owned(),
            ukey: ukey.to_owned(),
            offline: AtomicBool::new(false),
            next_order: AtomicU64::new(0),
            papers: Mutex::new(Vec::new()),
            bad_signatures: AtomicU64::new(0),
            arrived: Notify::new(),
        });
        let served = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let shared = served.clone();
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut socket).await else {
                        return;
                    };
                    let body = shared.answer(&request.body);
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Ok(FeieSimulator { url, shared, task })
    }

    /// The account our side signs with to reach this simulator.
    pub fn account(&self) -> FeieAccount {
        FeieAccount {
            base_url: self.url.clone(),
            user: self.shared.user.clone(),
            ukey: self.shared.ukey.clone(),
        }
    }

    /// Every printer of the account is offline (`true`) or back online.
    pub fn set_offline(&self, offline: bool) {
        self.shared.offline.store(offline, Ordering::SeqCst);
    }

    pub fn papers(&self) -> Vec<FeiePaper> {
        self.shared.papers.lock().unwrap().clone()
    }

    pub fn bad_signatures(&self) -> u64 {
        self.shared.bad_signatures.load(Ordering::SeqCst)
    }

    /// Waits (up to `timeout`) until at least `n` papers arrived.
    pub async fn wait_for_papers(&self, n: usize, timeout: std::time::Duration) -> Vec<FeiePaper> {
        let wait = async {
            loop {
                let notified = self.shared.arrived.notified();
                if self.papers().len() >= n {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(timeout, wait).await;
        self.papers()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printing::feie;

    #[tokio::test]
    async fn it_checks_signatures_prints_and_answers_status() {
        let sim = FeieSimulator::start("test@example.com", "ABCDEFGH12345678")
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let account = sim.account();
        let order = feie::print_msg(
            &http,
            &account,
            "916500004",
            "<CB>测试</CB><BR>",
            1704081600,
        )
        .await
        .unwrap();
        assert!(
            feie::query_order_state(&http, &account, &order, 1)
                .await
                .unwrap()
        );
        assert_eq!(sim.papers()[0].content, "<CB>测试</CB><BR>");
        assert_eq!(
            feie::query_printer_status(&http, &account, "916500004", 2)
                .await
                .unwrap(),
            FeieStatus::Ready
        );
        sim.set_offline(true);
        assert_eq!(
            feie::query_printer_status(&http, &account, "916500004", 3)
                .await
                .unwrap(),
            FeieStatus::Offline
        );
        let forged = FeieAccount {
            ukey: "WRONGKEY".into(),
            ..account
        };
        let err = feie::print_msg(&http, &forged, "916500004", "x", 4)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "FEIE_REFUSED");
        assert_eq!(sim.bad_signatures(), 1);
        assert_eq!(sim.papers().len(), 1);
    }
}
