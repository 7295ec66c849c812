//! An offline WeChat for subscribe messages, for demo mode and tests. It keeps what the real
//! one keeps: per (openid, template) consent credits, set when a diner taps "accept" (here by
//! [`SubscribeSimulator::grant`]); each send spends one, a send without one is answered 43101,
//! and data keys are checked by their prefix rules (47003 naming the field) as WeChat does.
//! Sends are read back through [`SubscribeSimulator::sent`].

use super::subscribe::{ApiAnswer, ERRCODE_INVALID_DATA, ERRCODE_NOT_SUBSCRIBED, SendBody};
use super::subscribe::{ERRCODE_INVALID_OPENID, data_object};
use super::{Notifier, NotifyError, Outgoing, Recipient};
use crate::sms::BoxFuture;
use diancan_domain::notifications::{NotifyChannel, fit_value};
use std::collections::HashMap;
use std::sync::Mutex;

/// A message the simulator accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedSend {
    pub openid: String,
    pub template_id: String,
    pub page: Option<String>,
    pub data: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    credits: HashMap<(String, String), u32>,
    sent: Vec<SimulatedSend>,
    /// Tests: fail this many coming sends as a busy WeChat (-1) would…
    fail_next: u32,
    /// …after letting this many through.
    pass_first: u32,
}

#[derive(Default)]
pub struct SubscribeSimulator {
    state: Mutex<State>,
}

impl std::fmt::Debug for SubscribeSimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscribeSimulator").finish_non_exhaustive()
    }
}

impl SubscribeSimulator {
    /// The diner `openid` tapped "accept" for `template_id`: one send allowed.
    pub fn grant(&self, openid: &str, template_id: &str) {
        let mut state = self.state.lock().expect("simulator lock");
        *state
            .credits
            .entry((openid.to_owned(), template_id.to_owned()))
            .or_default() += 1;
    }

    /// Credits left for (openid, template).
    pub fn credits(&self, openid: &str, template_id: &str) -> u32 {
        let state = self.state.lock().expect("simulator lock");
        state
            .credits
            .get(&(openid.to_owned(), template_id.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Every message accepted so far, oldest first.
    pub fn sent(&self) -> Vec<SimulatedSend> {
        self.state.lock().expect("simulator lock").sent.clone()
    }

    /// Answers the next `n` sends with "system busy", as WeChat does under load.
    pub fn fail_next(&self, n: u32) {
        self.fail_after(0, n);
    }

    /// Lets `passing` sends through, then answers `n` with "system busy".
    pub fn fail_after(&self, passing: u32, n: u32) {
        let mut state = self.state.lock().expect("simulator lock");
        state.pass_first = passing;
        state.fail_next = n;
    }

    /// What WeChat would answer the JSON body of a send.
    pub fn answer(&self, body: &[u8]) -> ApiAnswer {
        #[derive(serde::Deserialize)]
        struct Body {
            touser: String,
            template_id: String,
            page: Option<String>,
            data: serde_json::Map<String, serde_json::Value>,
        }
        let refuse = |errcode, errmsg: String| ApiAnswer { errcode, errmsg };
        let Ok(body) = serde_json::from_slice::<Body>(body) else {
            return refuse(ERRCODE_INVALID_DATA, "argument invalid!".into());
        };
        if body.touser.is_empty() {
            return refuse(ERRCODE_INVALID_OPENID, "invalid openid".into());
        }
        let mut data = Vec::new();
        for (key, value) in &body.data {
            let text = value.get("value").and_then(|v| v.as_str()).unwrap_or("");
            match fit_value(key, text) {
                Ok(fitted) if fitted == text => data.push((key.clone(), text.to_owned())),
                _ => {
                    return refuse(
                        ERRCODE_INVALID_DATA,
                        format!("argument invalid! data.{key}.value invalid"),
                    );
                }
            }
        }
        let mut state = self.state.lock().expect("simulator lock");
        if state.fail_next > 0 {
            if state.pass_first > 0 {
                state.pass_first -= 1;
            } else {
                state.fail_next -= 1;
                return refuse(-1, "system error".into());
            }
        }
        let key = (body.touser.clone(), body.template_id.clone());
        match state.credits.get_mut(&key) {
            Some(credits) if *credits > 0 => *credits -= 1,
            _ => {
                return refuse(
                    ERRCODE_NOT_SUBSCRIBED,
                    "user refuse to accept the msg".into(),
                );
            }
        }
        state.sent.push(SimulatedSend {
            openid: body.touser,
            template_id: body.template_id,
            page: body.page,
            data,
        });
        ApiAnswer {
            errcode: 0,
            errmsg: "ok".into(),
        }
    }
}

impl Notifier for SubscribeSimulator {
    fn channel(&self) -> NotifyChannel {
        NotifyChannel::Wechat
    }

    /// The same body the real client posts, answered here and read as the real client reads it.
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
                miniprogram_state: "developer",
                lang: "zh_CN",
                data: data_object(data),
            };
            let bytes =
                serde_json::to_vec(&body).map_err(|e| NotifyError::Transient(e.to_string()))?;
            self.answer(&bytes).into_result()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diancan_domain::redacted::Redacted;

    fn to(openid: &str, data: Vec<(&str, &str)>) -> Outgoing {
        Outgoing {
            recipient: Recipient::Wechat {
                openid: Redacted::new(openid.into()),
                template_id: "T1".into(),
                page: None,
                data: data
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            },
            title: String::new(),
            body: String::new(),
        }
    }

    #[tokio::test]
    async fn each_accept_allows_one_send_and_bad_data_is_refused_by_field() {
        let wechat = SubscribeSimulator::default();
        let message = to("oA", vec![("thing1", "红烧牛肉面"), ("phrase2", "已接单")]);
        assert_eq!(wechat.send(&message).await, Err(NotifyError::Refused));
        wechat.grant("oA", "T1");
        assert_eq!(wechat.send(&message).await, Ok(()));
        assert_eq!(wechat.send(&message).await, Err(NotifyError::Refused));
        assert_eq!(wechat.sent().len(), 1);
        assert!(
            wechat.sent()[0]
                .data
                .contains(&("phrase2".into(), "已接单".into()))
        );

        wechat.grant("oA", "T1");
        let long = "长".repeat(21);
        match wechat.send(&to("oA", vec![("thing1", &long)])).await {
            Err(NotifyError::Rejected { errcode, errmsg }) => {
                assert_eq!(errcode, 47003);
                assert!(errmsg.contains("thing1"), "{errmsg}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            wechat.credits("oA", "T1"),
            1,
            "a refused message spends nothing"
        );
        wechat.fail_next(1);
        assert!(wechat.send(&message).await.unwrap_err().is_transient());
        assert_eq!(wechat.send(&message).await, Ok(()));
    }
}
