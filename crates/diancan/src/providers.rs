//! Which login providers a server uses. Demo mode gets the WeChat simulator and SMS codes in
//! the log; otherwise only what is configured, and a provider left unconfigured refuses (its
//! login answers 503), so no code is ever logged and no simulated diner logs in.

use crate::cli::{ProviderArgs, SmsProvider};
use diancan_integrations::notify::sms::SmsNotifier;
use diancan_integrations::notify::subscribe::{API_BASE, SubscribeClient};
use diancan_integrations::notify::{Notifiers, SubscribeTemplates};
use diancan_integrations::sms::{LogSms, NoSms, SmsSender, WebhookSms};
use diancan_integrations::wechat::{
    JSCODE2SESSION_URL, JsCode2Session, WeChatLogin, WeChatNotConfigured, WeChatSimulator,
};
use std::sync::Arc;

pub struct Providers {
    pub sms: Arc<dyn SmsSender>,
    pub wechat: Arc<dyn WeChatLogin>,
    /// Order notices and campaigns beyond the inbox: WeChat subscribe messages and SMS.
    pub notifiers: Notifiers,
    /// One line each for the start-up banner.
    pub notes: Vec<String>,
}

fn reachable(url: &str) -> anyhow::Result<()> {
    diancan_integrations::check_reachable(url)
        .map_err(|why| anyhow::anyhow!("登录服务地址不可用 · {why}"))
}

impl Providers {
    pub fn choose(args: &ProviderArgs, demo: bool) -> anyhow::Result<Providers> {
        if demo {
            return Ok(Providers {
                sms: Arc::new(LogSms),
                wechat: Arc::new(WeChatSimulator::default()),
                notifiers: Notifiers::simulated(Arc::new(SmsNotifier(Arc::new(LogSms)))),
                notes: Vec::new(),
            });
        }
        let mut notes = Vec::new();
        let wechat: Arc<dyn WeChatLogin> = match (&args.wechat_app_id, &args.wechat_app_secret) {
            (Some(app_id), Some(secret)) => {
                notes.push(format!("微信登录 WeChat login: AppID {app_id}"));
                let url = args.wechat_api_url.as_deref().unwrap_or(JSCODE2SESSION_URL);
                reachable(url)?;
                Arc::new(JsCode2Session::new(app_id, secret, url)?)
            }
            (None, None) => {
                notes.push("微信登录未配置 WeChat login: off (set DIANCAN_WECHAT_APP_ID and DIANCAN_WECHAT_APP_SECRET)".into());
                Arc::new(WeChatNotConfigured)
            }
            _ => anyhow::bail!(
                "微信登录需要 AppID 和 AppSecret · WeChat login needs both DIANCAN_WECHAT_APP_ID and DIANCAN_WECHAT_APP_SECRET"
            ),
        };
        let sms: Arc<dyn SmsSender> = match args.sms_provider {
            Some(SmsProvider::Webhook) => {
                let (Some(url), Some(token)) = (&args.sms_webhook_url, &args.sms_webhook_token)
                else {
                    anyhow::bail!(
                        "短信 webhook 需要地址和令牌 · the SMS webhook needs DIANCAN_SMS_WEBHOOK_URL and DIANCAN_SMS_WEBHOOK_TOKEN"
                    );
                };
                reachable(url)?;
                notes.push(format!("短信验证码 SMS codes: webhook {url}"));
                Arc::new(WebhookSms::new(url, token)?)
            }
            None => {
                notes.push(
                    "短信验证码未配置 SMS codes: off (set DIANCAN_SMS_PROVIDER=webhook)".into(),
                );
                Arc::new(NoSms)
            }
        };
        let mut notifiers = Notifiers {
            sms: Arc::new(SmsNotifier(sms.clone())),
            ..Notifiers::default()
        };
        match (
            &args.wechat_subscribe_templates,
            &args.wechat_app_id,
            &args.wechat_app_secret,
        ) {
            (Some(path), Some(app_id), Some(secret)) => {
                let templates = read_templates(path)?;
                let base = args.wechat_api_base.as_deref().unwrap_or(API_BASE);
                reachable(base)?;
                let clock: Arc<dyn Fn() -> i64 + Send + Sync> =
                    Arc::new(|| jiff::Timestamp::now().as_millisecond());
                notifiers.wechat = Arc::new(SubscribeClient::new(app_id, secret, base, clock)?);
                notes.push(format!(
                    "微信订阅消息 WeChat notices: {} templates",
                    templates.iter().count()
                ));
                notifiers.templates = templates;
            }
            (Some(_), _, _) => anyhow::bail!(
                "微信订阅消息需要 AppID 和 AppSecret · WeChat notices need DIANCAN_WECHAT_APP_ID and DIANCAN_WECHAT_APP_SECRET"
            ),
            (None, _, _) => notes.push(
                "微信订阅消息未配置 WeChat notices: off (set DIANCAN_WECHAT_SUBSCRIBE_TEMPLATES)"
                    .into(),
            ),
        }
        Ok(Providers {
            sms,
            wechat,
            notifiers,
            notes,
        })
    }
}

/// The templates file (see `--wechat-subscribe-templates`), checked at start-up.
fn read_templates(path: &std::path::Path) -> anyhow::Result<SubscribeTemplates> {
    use diancan_domain::notifications::{NotificationKind, TemplateLayout};
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "订阅消息模板文件无法读取 · cannot read {}: {e}",
            path.display()
        )
    })?;
    let layouts: std::collections::BTreeMap<NotificationKind, TemplateLayout> =
        serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "订阅消息模板文件格式错误 · {} is not a templates file: {e}",
                path.display()
            )
        })?;
    Ok(layouts
        .into_iter()
        .fold(SubscribeTemplates::default(), |all, (kind, layout)| {
            all.with(kind, layout)
        }))
}
