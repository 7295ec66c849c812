//! Telling diners things outside the app: WeChat subscribe messages (one send per grant, see
//! protocols.md §8) and text messages through the SMS provider. Each channel is a [`Notifier`];
//! the in-app inbox is storage, not an edge, and lives there.

pub mod sms;
pub mod subscribe;
pub mod subscribe_simulator;

use crate::sms::BoxFuture;
use diancan_domain::customer::Phone;
use diancan_domain::notifications::{NotificationKind, NotifyChannel, TemplateLayout};
use diancan_domain::redacted::Redacted;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Who receives one message, in the form its channel needs.
#[derive(Debug, Clone)]
pub enum Recipient {
    /// A subscribe message to `openid` with `template_id` and its filled-in fields.
    Wechat {
        openid: Redacted<String>,
        template_id: String,
        /// The mini-program page the card opens ("pages/order/detail?id=…").
        page: Option<String>,
        data: Vec<(String, String)>,
    },
    Phone(Phone),
}

/// One message to one diner.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub recipient: Recipient,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// WeChat 43101: the diner has not subscribed (or spent the grant elsewhere). Normal, and
    /// never worth a retry: the grant is gone.
    #[error("the diner has not subscribed to this template")]
    Refused,
    /// The provider refused the message itself (invalid openid, template, data or page):
    /// retrying the same message fails the same way.
    #[error("the provider refused the message: {errcode} {errmsg}")]
    Rejected { errcode: i64, errmsg: String },
    /// Unreachable, busy or over quota: worth trying again later.
    #[error("the provider failed: {0}")]
    Transient(String),
    #[error("this channel is not configured")]
    NotConfigured,
    /// The recipient is not one this channel sends to (a phone given to WeChat).
    #[error("wrong recipient for this channel")]
    WrongRecipient,
}

impl NotifyError {
    /// Whether the same message may succeed later.
    pub fn is_transient(&self) -> bool {
        matches!(self, NotifyError::Transient(_))
    }
}

/// A channel that delivers messages to diners.
pub trait Notifier: Send + Sync {
    fn channel(&self) -> NotifyChannel;
    fn send<'a>(&'a self, message: &'a Outgoing) -> BoxFuture<'a, Result<(), NotifyError>>;
}

/// A channel nobody configured: every send fails as [`NotifyError::NotConfigured`].
#[derive(Debug, Clone, Copy)]
pub struct NotConfigured(pub NotifyChannel);

impl Notifier for NotConfigured {
    fn channel(&self) -> NotifyChannel {
        self.0
    }
    fn send<'a>(&'a self, _message: &'a Outgoing) -> BoxFuture<'a, Result<(), NotifyError>> {
        Box::pin(async { Err(NotifyError::NotConfigured) })
    }
}

/// The subscribe templates a mini-program chose, per kind of message. A kind without one
/// never goes by WeChat.
#[derive(Debug, Clone, Default)]
pub struct SubscribeTemplates(BTreeMap<NotificationKind, TemplateLayout>);

impl SubscribeTemplates {
    pub fn with(mut self, kind: NotificationKind, layout: TemplateLayout) -> Self {
        self.0.insert(kind, layout);
        self
    }

    pub fn get(&self, kind: NotificationKind) -> Option<&TemplateLayout> {
        self.0.get(&kind)
    }

    /// The kind a template id belongs to (what a diner's consent answer names).
    pub fn kind_of(&self, template_id: &str) -> Option<NotificationKind> {
        self.0
            .iter()
            .find(|(_, l)| l.template_id == template_id)
            .map(|(k, _)| *k)
    }

    pub fn iter(&self) -> impl Iterator<Item = (NotificationKind, &TemplateLayout)> {
        self.0.iter().map(|(k, l)| (*k, l))
    }

    /// The demo's templates: one per kind, with fields like those in WeChat's library.
    pub fn demo() -> SubscribeTemplates {
        use diancan_domain::notifications::SubscribeField as F;
        let order = |id: &str| TemplateLayout {
            template_id: id.into(),
            fields: vec![
                ("character_string1".into(), F::PickupNumber),
                ("thing2".into(), F::StoreName),
                ("phrase3".into(), F::Status),
                ("time4".into(), F::Time),
                ("thing5".into(), F::Summary),
            ],
        };
        SubscribeTemplates::default()
            .with(NotificationKind::OrderAccepted, order("SIM-ORDER-ACCEPTED"))
            .with(NotificationKind::ReadyForPickup, order("SIM-ORDER-READY"))
            .with(
                NotificationKind::OutForDelivery,
                order("SIM-ORDER-DELIVERY"),
            )
            .with(
                NotificationKind::Refunded,
                TemplateLayout {
                    template_id: "SIM-REFUND".into(),
                    fields: vec![
                        ("character_string1".into(), F::PickupNumber),
                        ("amount2".into(), F::Amount),
                        ("thing3".into(), F::StoreName),
                        ("time4".into(), F::Time),
                    ],
                },
            )
            .with(
                NotificationKind::Campaign,
                TemplateLayout {
                    template_id: "SIM-CAMPAIGN".into(),
                    fields: vec![
                        ("thing1".into(), F::Title),
                        ("thing2".into(), F::Body),
                        ("thing3".into(), F::StoreName),
                    ],
                },
            )
    }
}

/// Every channel a server notifies through.
#[derive(Clone)]
pub struct Notifiers {
    pub wechat: Arc<dyn Notifier>,
    pub sms: Arc<dyn Notifier>,
    pub templates: SubscribeTemplates,
    /// Demo mode: the simulated WeChat, where a diner's consent is recorded as a credit (the
    /// real WeChat learns of it from the diner's tap, not from us).
    pub simulator: Option<Arc<subscribe_simulator::SubscribeSimulator>>,
}

impl Default for Notifiers {
    /// Nothing configured: only the inbox works.
    fn default() -> Self {
        Notifiers {
            wechat: Arc::new(NotConfigured(NotifyChannel::Wechat)),
            sms: Arc::new(NotConfigured(NotifyChannel::Sms)),
            templates: SubscribeTemplates::default(),
            simulator: None,
        }
    }
}

impl Notifiers {
    /// Demo mode: WeChat through the simulator with the demo templates.
    pub fn simulated(sms: Arc<dyn Notifier>) -> Notifiers {
        let simulator = Arc::new(subscribe_simulator::SubscribeSimulator::default());
        Notifiers {
            wechat: simulator.clone(),
            sms,
            templates: SubscribeTemplates::demo(),
            simulator: Some(simulator),
        }
    }
}
