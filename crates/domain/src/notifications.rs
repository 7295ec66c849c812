//! What Diancan tells a diner, and how: the order moments worth a message (接单, 出餐, 配送,
//! 退款) and staff campaigns (推送), the Chinese texts with their limits, the diner's opt-outs,
//! the one-time WeChat subscribe grants, and the token bucket that paces a campaign.

use crate::money::Money;
use crate::ordering::{Channel, OrderStatus};
use crate::schedule::StoreTimeZone;
use crate::text::{Lines, check_text};
use crate::validation::{FieldErrors, Problem};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A title as the inbox and the WeChat card show it.
pub const MAX_TITLE_CHARS: usize = 20;
/// A message body: short enough for one SMS-sized paragraph on a phone.
pub const MAX_BODY_CHARS: usize = 200;
/// The longest "recent diners" window a campaign may name.
pub const MAX_RECENT_DAYS: i64 = 365;

/// What a message is about. Diners opt out per kind.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// 商家已接单.
    OrderAccepted,
    /// 餐品已备好: a pickup order is waiting at the counter.
    ReadyForPickup,
    /// 订单配送中.
    OutForDelivery,
    /// 退款成功.
    Refunded,
    /// 商家推送: a campaign staff composed.
    Campaign,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 5] = [
        NotificationKind::OrderAccepted,
        NotificationKind::ReadyForPickup,
        NotificationKind::OutForDelivery,
        NotificationKind::Refunded,
        NotificationKind::Campaign,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::OrderAccepted => "order_accepted",
            NotificationKind::ReadyForPickup => "ready_for_pickup",
            NotificationKind::OutForDelivery => "out_for_delivery",
            NotificationKind::Refunded => "refunded",
            NotificationKind::Campaign => "campaign",
        }
    }

    pub fn parse(text: &str) -> Option<NotificationKind> {
        NotificationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
    }

    /// What the preferences page calls it.
    pub fn label_zh(self) -> &'static str {
        match self {
            NotificationKind::OrderAccepted => "接单提醒",
            NotificationKind::ReadyForPickup => "取餐提醒",
            NotificationKind::OutForDelivery => "配送提醒",
            NotificationKind::Refunded => "退款提醒",
            NotificationKind::Campaign => "优惠活动",
        }
    }

    /// The moment of an order's change that the diner hears about, if any. A dine-in order
    /// that is ready is carried to the table, so only pickup orders get "ready".
    pub fn for_order_change(
        from: OrderStatus,
        to: OrderStatus,
        channel: Channel,
    ) -> Option<NotificationKind> {
        if from == to {
            return None;
        }
        match to {
            OrderStatus::Accepted => Some(NotificationKind::OrderAccepted),
            OrderStatus::Ready if channel == Channel::Pickup => {
                Some(NotificationKind::ReadyForPickup)
            }
            OrderStatus::OutForDelivery => Some(NotificationKind::OutForDelivery),
            _ => None,
        }
    }

    /// Worth a text message when WeChat cannot carry it: the diner must act (collect the food)
    /// or money moved. Marketing never goes by SMS: that needs its own consent by law.
    pub fn sms_worthy(self) -> bool {
        matches!(
            self,
            NotificationKind::ReadyForPickup | NotificationKind::Refunded
        )
    }
}

/// Where a message goes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyChannel {
    /// The diner's 消息 page in the app.
    Inbox,
    /// A WeChat subscribe message, spending one grant.
    Wechat,
    /// A text message through the SMS provider.
    Sms,
}

impl NotifyChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyChannel::Inbox => "inbox",
            NotifyChannel::Wechat => "wechat",
            NotifyChannel::Sms => "sms",
        }
    }
}

/// The facts of one order moment, as written with the change (so the message says what was
/// true then, not what is true when the worker gets to it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderNotice {
    pub kind: NotificationKind,
    pub pickup_number: i64,
    /// "宫保鸡丁等2件".
    pub summary: String,
    pub total: Money,
    /// The refunded amount, for [`NotificationKind::Refunded`].
    pub amount: Option<Money>,
    pub at_ms: i64,
}

/// "宫保鸡丁" or "宫保鸡丁等3件": the first dish and the count of items.
pub fn order_summary(first_dish: Option<&str>, item_count: i64) -> String {
    match first_dish {
        None => format!("{item_count}件商品"),
        Some(name) if item_count <= 1 => truncate(name, 16),
        Some(name) => format!("{}等{item_count}件", truncate(name, 12)),
    }
}

/// A title and a body within their limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub title: String,
    pub body: String,
}

impl OrderNotice {
    /// The Chinese text the inbox and SMS carry. The store's name is cut to fit the limits.
    pub fn message(&self, store_name: &str) -> Message {
        let store = truncate(store_name, 30);
        let number = self.pickup_number;
        let (title, body) = match self.kind {
            NotificationKind::OrderAccepted => (
                "商家已接单".to_owned(),
                format!(
                    "{store}已接单（取餐号 {number}，{}），正在为您准备。",
                    self.summary
                ),
            ),
            NotificationKind::ReadyForPickup => (
                "餐品已备好".to_owned(),
                format!("取餐号 {number} 已出餐，请到{store}取餐。"),
            ),
            NotificationKind::OutForDelivery => (
                "订单配送中".to_owned(),
                format!(
                    "您在{store}的订单（{}）已出发，请保持电话畅通。",
                    self.summary
                ),
            ),
            NotificationKind::Refunded => (
                "退款成功".to_owned(),
                format!(
                    "{store}订单（取餐号 {number}）退款 {} 已原路退回。",
                    amount_text(self.amount.unwrap_or(self.total))
                ),
            ),
            NotificationKind::Campaign => ("商家消息".to_owned(), self.summary.clone()),
        };
        Message {
            title: truncate(&title, MAX_TITLE_CHARS),
            body: truncate(&body, MAX_BODY_CHARS),
        }
    }

    /// The WeChat card's short status word (a `phrase` is at most five characters).
    pub fn status_phrase(&self) -> &'static str {
        match self.kind {
            NotificationKind::OrderAccepted => "已接单",
            NotificationKind::ReadyForPickup => "待取餐",
            NotificationKind::OutForDelivery => "配送中",
            NotificationKind::Refunded => "已退款",
            NotificationKind::Campaign => "新消息",
        }
    }
}

/// "¥34.00": always two decimals, as WeChat's `amount` fields and receipts show money.
pub fn amount_text(money: Money) -> String {
    let fen = money.fen();
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", fen / 100, fen % 100)
}

/// At most `max` characters, with "…" in place of the rest.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().nth(max).is_none() {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Who a campaign reaches.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Audience {
    /// Every diner known to the brand.
    AllMembers,
    /// Diners who placed an order at any of the brand's stores in the last `days` days.
    RecentDiners { days: i64 },
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::AllMembers => "all_members",
            Audience::RecentDiners { .. } => "recent_diners",
        }
    }

    /// The window in days, or 0 for all members (how storage keeps it).
    pub fn days(self) -> i64 {
        match self {
            Audience::AllMembers => 0,
            Audience::RecentDiners { days } => days,
        }
    }

    pub fn from_parts(kind: &str, days: i64) -> Option<Audience> {
        match kind {
            "all_members" => Some(Audience::AllMembers),
            "recent_diners" if (1..=MAX_RECENT_DAYS).contains(&days) => {
                Some(Audience::RecentDiners { days })
            }
            _ => None,
        }
    }

    /// Orders placed at or after this instant make a diner "recent".
    pub fn since_ms(self, now_ms: i64) -> Option<i64> {
        match self {
            Audience::AllMembers => None,
            Audience::RecentDiners { days } => Some(now_ms - days * 24 * 3600 * 1000),
        }
    }
}

/// A campaign's text and audience, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignContent {
    pub title: String,
    pub body: String,
    pub audience: Audience,
}

impl CampaignContent {
    /// Trims and checks what staff typed; every problem at once.
    pub fn parse(title: &str, body: &str, audience: Audience) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let title = required(&mut errors, "title", title, MAX_TITLE_CHARS, Lines::One);
        let body = required(&mut errors, "body", body, MAX_BODY_CHARS, Lines::Many);
        if let Audience::RecentDiners { days } = audience
            && !(1..=MAX_RECENT_DAYS).contains(&days)
        {
            errors.add(
                "audience.days",
                Problem::OutOfRange {
                    min: 1,
                    max: MAX_RECENT_DAYS,
                },
            );
        }
        errors.finish(|| CampaignContent {
            title: title.unwrap_or_default(),
            body: body.unwrap_or_default(),
            audience,
        })
    }

    pub fn message(&self) -> Message {
        Message {
            title: self.title.clone(),
            body: self.body.clone(),
        }
    }
}

fn required(
    errors: &mut FieldErrors,
    field: &str,
    text: &str,
    max: usize,
    lines: Lines,
) -> Option<String> {
    if let Err(problem) = check_text(text, max, lines) {
        errors.add(field, problem);
        return None;
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        errors.add(field, Problem::Required);
        return None;
    }
    Some(trimmed.to_owned())
}

/// A campaign's progress.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    /// Composed, not sent yet: may still be edited away.
    Draft,
    /// The worker is going through the audience.
    Sending,
    /// Everyone in the audience has it.
    Finished,
}

impl CampaignState {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignState::Draft => "draft",
            CampaignState::Sending => "sending",
            CampaignState::Finished => "finished",
        }
    }

    pub fn parse(text: &str) -> Option<CampaignState> {
        [
            CampaignState::Draft,
            CampaignState::Sending,
            CampaignState::Finished,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What a diner turned off. Everything is on until they say otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Preferences {
    pub opted_out: BTreeSet<NotificationKind>,
    /// Text messages at all (for the kinds worth one).
    pub sms_off: bool,
}

/// Where one message goes, decided from the diner's preferences and what we hold for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Route {
    pub inbox: bool,
    pub wechat: bool,
    pub sms: bool,
}

impl Preferences {
    pub fn allows(&self, kind: NotificationKind) -> bool {
        !self.opted_out.contains(&kind)
    }

    /// An opted-out kind goes nowhere. Otherwise the inbox always has it; WeChat when the
    /// diner holds a grant for it; SMS only for kinds worth one, when WeChat cannot carry it,
    /// the diner has a phone, and has not turned texts off.
    pub fn route(&self, kind: NotificationKind, has_grant: bool, has_phone: bool) -> Route {
        if !self.allows(kind) {
            return Route::default();
        }
        Route {
            inbox: true,
            wechat: has_grant,
            sms: !has_grant && has_phone && !self.sms_off && kind.sms_worthy(),
        }
    }
}

/// What `wx.requestSubscribeMessage` answered for one template.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAnswer {
    /// One send allowed.
    Accept,
    Reject,
    /// The diner turned the mini-program's messages off in settings.
    Ban,
    /// WeChat filtered the template (its title matched another's).
    Filter,
}

/// A one-time grant: available until a send spends it; refused when WeChat said (43101) the
/// diner had not subscribed after all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantState {
    Available,
    Used,
    Refused,
}

impl GrantState {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantState::Available => "available",
            GrantState::Used => "used",
            GrantState::Refused => "refused",
        }
    }
}

/// What one field of a subscribe-message template shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscribeField {
    PickupNumber,
    StoreName,
    Summary,
    Status,
    Time,
    Amount,
    Title,
    Body,
}

/// A template chosen in the mini-program's console and the meaning of each of its keys
/// (`thing2` → the store's name, …): template libraries differ per account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateLayout {
    pub template_id: String,
    pub fields: Vec<(String, SubscribeField)>,
}

/// A value WeChat would refuse (47003), found before sending.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("subscribe field {key}: {why}")]
pub struct SubscribeDataError {
    pub key: String,
    pub why: &'static str,
}

/// The text for one key, fitted to what its prefix allows (protocols.md §8): long `thing`s are
/// cut, an amount or a time must already have its shape.
pub fn fit_value(key: &str, value: &str) -> Result<String, SubscribeDataError> {
    let prefix = key.trim_end_matches(|c: char| c.is_ascii_digit());
    let error = |why| SubscribeDataError {
        key: key.to_owned(),
        why,
    };
    let count = value.chars().count();
    match prefix {
        "thing" => Ok(truncate(value, 20)),
        "name" => Ok(truncate(value, 10)),
        "phrase" if count <= 5 && value.chars().all(|c| !c.is_ascii()) => Ok(value.to_owned()),
        "phrase" => Err(error("a phrase is at most five Chinese characters")),
        "character_string" | "letter" | "number"
            if count <= 32 && value.chars().all(|c| c.is_ascii_graphic()) =>
        {
            let ok = match prefix {
                "letter" => value.chars().all(|c| c.is_ascii_alphabetic()),
                "number" => value.chars().all(|c| c.is_ascii_digit() || c == '.'),
                _ => true,
            };
            if ok {
                Ok(value.to_owned())
            } else {
                Err(error("characters this key does not take"))
            }
        }
        "character_string" | "letter" | "number" => {
            Err(error("at most 32 letters, digits or symbols"))
        }
        "amount" => {
            let digits = value.strip_prefix('¥').unwrap_or(value);
            let (whole, decimals) = digits.split_once('.').unwrap_or((digits, ""));
            let ok = !whole.is_empty()
                && whole.len() <= 10
                && whole.bytes().all(|b| b.is_ascii_digit())
                && decimals.len() <= 2
                && decimals.bytes().all(|b| b.is_ascii_digit());
            if ok {
                Ok(value.to_owned())
            } else {
                Err(error("an amount is ¥ and at most ten digits"))
            }
        }
        "time" | "date" if count <= 32 => Ok(value.to_owned()),
        "phone_number" if count <= 17 => Ok(value.to_owned()),
        "car_number" if count <= 8 => Ok(value.to_owned()),
        _ => Err(error("a key WeChat does not know, or a value too long")),
    }
}

/// "2024年01月01日 12:30" in the store's time zone, as a `time` key shows it.
pub fn wechat_time(at_ms: i64, zone: &StoreTimeZone) -> String {
    let Ok(at) = jiff::Timestamp::from_millisecond(at_ms) else {
        return String::new();
    };
    at.to_zoned_datetime(zone.zone().clone())
        .strftime("%Y年%m月%d日 %H:%M")
        .to_string()
}

/// What a subscribe message shows, per field.
pub struct SubscribeValues<'a> {
    pub pickup_number: i64,
    pub store_name: &'a str,
    pub summary: &'a str,
    pub status: &'a str,
    pub time: String,
    pub amount: Money,
    pub title: &'a str,
    pub body: &'a str,
}

impl TemplateLayout {
    /// The `data` of a send: every key of the layout with its fitted value.
    pub fn data(
        &self,
        values: &SubscribeValues<'_>,
    ) -> Result<Vec<(String, String)>, SubscribeDataError> {
        self.fields
            .iter()
            .map(|(key, field)| {
                let raw = match field {
                    SubscribeField::PickupNumber => values.pickup_number.to_string(),
                    SubscribeField::StoreName => values.store_name.to_owned(),
                    SubscribeField::Summary => values.summary.to_owned(),
                    SubscribeField::Status => values.status.to_owned(),
                    SubscribeField::Time => values.time.clone(),
                    SubscribeField::Amount => amount_text(values.amount),
                    SubscribeField::Title => values.title.to_owned(),
                    SubscribeField::Body => values.body.to_owned(),
                };
                fit_value(key, &raw).map(|value| (key.clone(), value))
            })
            .collect()
    }
}

/// Paces a campaign: `per_minute` sends a minute on average, bursts of at most `capacity`.
/// Kept in thousandths of a send so a slow rate still refills between two looks; the state is
/// stored with the campaign, so every instance draws on the same bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    pub per_minute: i64,
    pub capacity: i64,
    /// Thousandths of a send available at `at_ms`.
    pub milli_tokens: i64,
    pub at_ms: i64,
}

impl TokenBucket {
    /// A full bucket at `now_ms`.
    pub fn full(per_minute: i64, capacity: i64, now_ms: i64) -> TokenBucket {
        let capacity = capacity.max(1);
        TokenBucket {
            per_minute: per_minute.max(1),
            capacity,
            milli_tokens: capacity * 1000,
            at_ms: now_ms,
        }
    }

    /// The bucket as it stands at `now_ms` (a clock that went back refills nothing).
    pub fn refilled(self, now_ms: i64) -> TokenBucket {
        let elapsed = (now_ms - self.at_ms).max(0);
        // per_minute sends per 60,000 ms is per_minute thousandths per 60 ms.
        let gained = elapsed.saturating_mul(self.per_minute) / 60;
        TokenBucket {
            milli_tokens: self
                .milli_tokens
                .saturating_add(gained)
                .min(self.capacity * 1000),
            at_ms: now_ms.max(self.at_ms),
            ..self
        }
    }

    /// Takes up to `wanted` whole sends at `now_ms`: how many were granted, and the bucket after.
    pub fn take(self, now_ms: i64, wanted: i64) -> (i64, TokenBucket) {
        let bucket = self.refilled(now_ms);
        let granted = (bucket.milli_tokens / 1000).min(wanted.max(0));
        (
            granted,
            TokenBucket {
                milli_tokens: bucket.milli_tokens - granted * 1000,
                ..bucket
            },
        )
    }

    /// How long until one more send is allowed (0 if one is).
    pub fn wait_ms(self, now_ms: i64) -> i64 {
        let bucket = self.refilled(now_ms);
        let missing = 1000 - bucket.milli_tokens;
        if missing <= 0 {
            0
        } else {
            (missing * 60 + self.per_minute - 1) / self.per_minute
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(kind: NotificationKind) -> OrderNotice {
        OrderNotice {
            kind,
            pickup_number: 42,
            summary: order_summary(Some("红烧牛肉面"), 3),
            total: Money::from_fen(3400),
            amount: Some(Money::from_fen(1200)),
            at_ms: 0,
        }
    }

    #[test]
    fn order_moments_are_the_accept_the_pickup_ready_and_the_delivery() {
        use NotificationKind::*;
        use OrderStatus as S;
        assert_eq!(
            NotificationKind::for_order_change(S::Placed, S::Accepted, Channel::DineIn),
            Some(OrderAccepted)
        );
        assert_eq!(
            NotificationKind::for_order_change(S::Preparing, S::Ready, Channel::Pickup),
            Some(ReadyForPickup)
        );
        assert_eq!(
            NotificationKind::for_order_change(S::Preparing, S::Ready, Channel::DineIn),
            None
        );
        assert_eq!(
            NotificationKind::for_order_change(S::Ready, S::OutForDelivery, Channel::Delivery),
            Some(OutForDelivery)
        );
        assert_eq!(
            NotificationKind::for_order_change(S::Accepted, S::Accepted, Channel::DineIn),
            None
        );
        assert_eq!(
            NotificationKind::for_order_change(S::Accepted, S::Preparing, Channel::Pickup),
            None
        );
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn every_text_fits_its_limits_whatever_the_store_is_called() {
        let long_store = "非常非常长的门店名字".repeat(20);
        for kind in NotificationKind::ALL {
            let message = notice(kind).message(&long_store);
            assert!(message.title.chars().count() <= MAX_TITLE_CHARS, "{kind:?}");
            assert!(message.body.chars().count() <= MAX_BODY_CHARS, "{kind:?}");
            assert!(fit_value("phrase3", notice(kind).status_phrase()).is_ok());
        }
        let accepted = notice(NotificationKind::OrderAccepted).message("老王面馆");
        assert_eq!(accepted.title, "商家已接单");
        assert_eq!(
            accepted.body,
            "老王面馆已接单（取餐号 42，红烧牛肉面等3件），正在为您准备。"
        );
        let refunded = notice(NotificationKind::Refunded).message("老王面馆");
        assert!(refunded.body.contains("¥12.00"), "{}", refunded.body);
        assert_eq!(order_summary(Some("面"), 1), "面");
        assert_eq!(order_summary(None, 2), "2件商品");
    }

    #[test]
    fn campaigns_need_a_title_and_a_body_within_limits() {
        let ok = CampaignContent::parse(" 周三会员日 ", "全场八折", Audience::AllMembers).unwrap();
        assert_eq!(ok.title, "周三会员日");
        let errors =
            CampaignContent::parse(&"长".repeat(21), "  ", Audience::RecentDiners { days: 0 })
                .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "body", "audience.days"]);
        assert!(CampaignContent::parse("标题", "a\u{202e}b", Audience::AllMembers).is_err());
        assert_eq!(
            Audience::from_parts("recent_diners", 30),
            Some(Audience::RecentDiners { days: 30 })
        );
        assert_eq!(Audience::from_parts("recent_diners", 0), None);
    }

    #[test]
    fn opted_out_kinds_go_nowhere_and_sms_stands_in_for_wechat_only_when_it_matters() {
        let mut prefs = Preferences::default();
        let kind = NotificationKind::ReadyForPickup;
        assert_eq!(
            prefs.route(kind, true, true),
            Route {
                inbox: true,
                wechat: true,
                sms: false
            }
        );
        assert_eq!(
            prefs.route(kind, false, true),
            Route {
                inbox: true,
                wechat: false,
                sms: true
            }
        );
        assert!(!prefs.route(NotificationKind::Campaign, false, true).sms);
        assert!(
            !prefs
                .route(NotificationKind::OrderAccepted, false, true)
                .sms
        );
        prefs.sms_off = true;
        assert!(!prefs.route(kind, false, true).sms);
        prefs.opted_out.insert(kind);
        assert_eq!(prefs.route(kind, true, true), Route::default());
    }

    #[test]
    fn subscribe_values_follow_the_key_prefix_rules() {
        assert_eq!(
            fit_value("thing2", &"字".repeat(25))
                .unwrap()
                .chars()
                .count(),
            20
        );
        assert!(fit_value("phrase3", "制作中").is_ok());
        assert!(fit_value("phrase3", "正在制作您的餐").is_err());
        assert!(fit_value("amount5", "¥34.00").is_ok());
        assert!(fit_value("amount5", "34元").is_err());
        assert!(fit_value("character_string1", "T20240101120000001").is_ok());
        assert!(fit_value("character_string1", "取餐号").is_err());
        assert!(fit_value("number4", "42").is_ok());
        assert!(fit_value("letter1", "a1").is_err());
        assert!(fit_value("mystery1", "x").is_err());
        let layout = TemplateLayout {
            template_id: "T1".into(),
            fields: vec![
                ("character_string1".into(), SubscribeField::PickupNumber),
                ("thing2".into(), SubscribeField::StoreName),
                ("phrase3".into(), SubscribeField::Status),
                ("time4".into(), SubscribeField::Time),
                ("amount5".into(), SubscribeField::Amount),
            ],
        };
        let data = layout
            .data(&SubscribeValues {
                pickup_number: 7,
                store_name: "老王面馆",
                summary: "",
                status: "已接单",
                time: wechat_time(1_704_083_400_000, &StoreTimeZone::shanghai()),
                amount: Money::from_fen(3400),
                title: "",
                body: "",
            })
            .unwrap();
        assert_eq!(data[0], ("character_string1".into(), "7".into()));
        assert_eq!(data[3].1, "2024年01月01日 12:30");
        assert_eq!(data[4].1, "¥34.00");
    }

    #[test]
    fn the_bucket_grants_bursts_then_the_rate() {
        let bucket = TokenBucket::full(60, 10, 0);
        let (granted, bucket) = bucket.take(0, 25);
        assert_eq!(granted, 10);
        assert_eq!(bucket.wait_ms(0), 1000);
        let (granted, bucket) = bucket.take(999, 5);
        assert_eq!(granted, 0);
        let (granted, bucket) = bucket.take(3_000, 5);
        assert_eq!(granted, 3);
        // Never more than the capacity, however long it rested.
        let (granted, _) = bucket.take(10_000_000, 100);
        assert_eq!(granted, 10);
        // A clock that goes back grants nothing extra.
        let (granted, _) = TokenBucket::full(60, 1, 5_000).take(5_000, 1);
        assert_eq!(granted, 1);
        let spent = TokenBucket {
            milli_tokens: 0,
            ..TokenBucket::full(60, 1, 5_000)
        };
        assert_eq!(spent.take(1_000, 1).0, 0);
    }

    proptest::proptest! {
        #[test]
        fn the_bucket_never_grants_more_than_the_burst_plus_the_rate(
            per_minute in 1i64..10_000, capacity in 1i64..500,
            steps in proptest::collection::vec((0i64..20_000, 0i64..300), 1..60)
        ) {
            let mut bucket = TokenBucket::full(per_minute, capacity, 0);
            let (mut now, mut total) = (0i64, 0i64);
            for (advance, wanted) in steps {
                now += advance;
                let (granted, next) = bucket.take(now, wanted);
                proptest::prop_assert!(granted <= wanted);
                total += granted;
                bucket = next;
            }
            proptest::prop_assert!(total <= capacity + now * per_minute / 60_000 + 1);
        }
    }
}
