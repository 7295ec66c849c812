//! Notifications over HTTP. Diners: their inbox (消息), what they turned off, and the WeChat
//! consents they gave. Staff: campaigns (推送): compose, see who they would reach, send, and
//! follow the progress. Handlers parse, call one use case, and shape the answer.

use crate::auth::Staff;
use crate::customer_session::Customer;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diancan_domain::notifications::{
    Audience, CampaignContent, CampaignState, ConsentAnswer, MAX_BODY_CHARS, MAX_RECENT_DAYS,
    MAX_TITLE_CHARS, NotificationKind, Preferences,
};
use diancan_domain::validation::Problem;
use diancan_domain::*;
use diancan_storage::notifications::{Campaign, InboxMessage};
use diancan_usecases::notify::{self, Diner, MAX_PAGE};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

const DEFAULT_PAGE: i64 = 20;
/// A consent answer names at most this many templates (WeChat asks for at most three at once).
const MAX_ANSWERS: usize = 10;
const MAX_TEMPLATE_ID_LEN: usize = 64;
const MAX_WECHAT_CODE_LEN: usize = 128;

fn diner(customer: &Customer) -> Diner {
    Diner {
        brand_id: customer.brand_id,
        customer_id: customer.id,
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxPage {
    /// `next_before` of the previous page.
    pub before: Option<InboxMessageId>,
    /// Messages per page (1-100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct InboxMessageView {
    pub id: InboxMessageId,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    /// The order it is about, for a link to it.
    pub order_id: Option<OrderId>,
    pub created_at_ms: i64,
    pub read: bool,
}

impl From<InboxMessage> for InboxMessageView {
    fn from(m: InboxMessage) -> Self {
        InboxMessageView {
            id: m.id,
            kind: m.kind,
            title: m.title,
            body: m.body,
            order_id: m.order_id,
            created_at_ms: m.created_at_ms,
            read: m.read_at_ms.is_some(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct InboxView {
    /// Newest first.
    pub messages: Vec<InboxMessageView>,
    pub unread_count: i64,
    /// Pass as `before` for the next page; absent on the last.
    pub next_before: Option<InboxMessageId>,
}

#[derive(Serialize, ToSchema)]
pub struct UnreadView {
    pub unread_count: i64,
}

/// The signed-in diner's messages, newest first, and how many are unread.
#[utoipa::path(get, path = "/api/v1/customer/inbox", tag = "customer", params(InboxPage),
    responses((status = 200, body = InboxView), (status = 401, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn inbox(
    State(state): State<AppState>,
    customer: Customer,
    ApiQuery(page): ApiQuery<InboxPage>,
) -> ApiResult<Json<InboxView>> {
    let limit = match page.limit {
        None => DEFAULT_PAGE,
        Some(limit) if (1..=MAX_PAGE).contains(&limit) => limit,
        Some(_) => {
            return Err(ApiError::bad_request(
                "INVALID_QUERY",
                "limit 须在 1 到 100 之间",
                "`limit` must be 1 to 100",
            ));
        }
    };
    let (messages, unread_count) =
        notify::inbox(&state, diner(&customer), page.before, limit).await?;
    let next_before = (messages.len() as i64 == limit)
        .then(|| messages.last().map(|m| m.id))
        .flatten();
    Ok(Json(InboxView {
        messages: messages.into_iter().map(InboxMessageView::from).collect(),
        unread_count,
        next_before,
    }))
}

/// How many messages the diner has not read (for the badge on 消息).
#[utoipa::path(get, path = "/api/v1/customer/inbox/unread", tag = "customer",
    responses((status = 200, body = UnreadView), (status = 401, body = crate::error::ErrorBody)))]
pub async fn unread(
    State(state): State<AppState>,
    customer: Customer,
) -> ApiResult<Json<UnreadView>> {
    let (_, unread_count) = notify::inbox(&state, diner(&customer), None, 1).await?;
    Ok(Json(UnreadView { unread_count }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// One message; absent marks every message read.
    pub message_id: Option<InboxMessageId>,
}

/// Marks a message (or all) read. Another diner's message id changes nothing.
#[utoipa::path(post, path = "/api/v1/customer/inbox/read", tag = "customer", request_body = MarkRead,
    responses((status = 200, body = UnreadView), (status = 401, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    customer: Customer,
    ApiJson(body): ApiJson<MarkRead>,
) -> ApiResult<Json<UnreadView>> {
    let unread_count = notify::mark_read(&state, diner(&customer), body.message_id).await?;
    Ok(Json(UnreadView { unread_count }))
}

#[derive(Serialize, ToSchema)]
pub struct KindPreference {
    pub kind: NotificationKind,
    /// "取餐提醒".
    pub label: String,
    pub enabled: bool,
    /// The WeChat template to ask consent for (absent: this kind never goes by WeChat here).
    pub template_id: Option<String>,
    /// Unspent WeChat consents: each allows one message.
    pub wechat_grants: i64,
}

#[derive(Serialize, ToSchema)]
pub struct PreferencesView {
    pub kinds: Vec<KindPreference>,
    /// Text messages for pickup and refund notices when WeChat cannot carry them.
    pub sms_enabled: bool,
    /// The server's WeChat is the offline simulator: the page grants consent with a button.
    pub simulated_wechat: bool,
}

async fn preferences_view(state: &AppState, customer: &Customer) -> ApiResult<PreferencesView> {
    let preferences = notify::preferences(state, diner(customer)).await?;
    let grants = notify::grants(state, diner(customer)).await?;
    let templates = notify::subscribe_templates(state);
    Ok(PreferencesView {
        kinds: NotificationKind::ALL
            .into_iter()
            .map(|kind| KindPreference {
                kind,
                label: kind.label_zh().into(),
                enabled: preferences.allows(kind),
                template_id: templates
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map(|(_, t)| t.clone()),
                wechat_grants: grants
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map_or(0, |(_, n)| *n),
            })
            .collect(),
        sms_enabled: !preferences.sms_off,
        simulated_wechat: state.notifiers.simulator.is_some(),
    })
}

/// What the diner hears about, and by which ways.
#[utoipa::path(get, path = "/api/v1/customer/notification-preferences", tag = "customer",
    responses((status = 200, body = PreferencesView), (status = 401, body = crate::error::ErrorBody)))]
pub async fn get_preferences(
    State(state): State<AppState>,
    customer: Customer,
) -> ApiResult<Json<PreferencesView>> {
    Ok(Json(preferences_view(&state, &customer).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPreferences {
    /// Kinds the diner turns off; every other kind is on.
    #[schema(max_items = 5)]
    pub opted_out: Vec<NotificationKind>,
    pub sms_enabled: bool,
}

/// Turns kinds of messages off (or back on), and text messages.
#[utoipa::path(put, path = "/api/v1/customer/notification-preferences", tag = "customer",
    request_body = SetPreferences,
    responses((status = 200, body = PreferencesView), (status = 401, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_preferences(
    State(state): State<AppState>,
    customer: Customer,
    ApiJson(body): ApiJson<SetPreferences>,
) -> ApiResult<Json<PreferencesView>> {
    if body.opted_out.len() > NotificationKind::ALL.len() {
        return Err(ApiError::invalid_field(
            "opted_out",
            Problem::TooLarge {
                max: NotificationKind::ALL.len() as i64,
            },
        ));
    }
    let preferences = Preferences {
        opted_out: body.opted_out.into_iter().collect(),
        sms_off: !body.sms_enabled,
    };
    notify::set_preferences(&state, diner(&customer), &preferences).await?;
    Ok(Json(preferences_view(&state, &customer).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentBody {
    /// A fresh `wx.login()` code: it names the WeChat user the consents belong to.
    #[schema(min_length = 1, max_length = 128)]
    pub code: String,
    /// What `wx.requestSubscribeMessage` answered, one entry per template.
    #[schema(max_items = 10)]
    pub answers: Vec<ConsentItem>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentItem {
    #[schema(min_length = 1, max_length = 64)]
    pub template_id: String,
    pub answer: ConsentAnswer,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentRecorded {
    /// Kinds that gained one send each.
    pub granted: Vec<NotificationKind>,
    pub preferences: PreferencesView,
}

fn wechat_mismatch() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "WECHAT_IDENTITY_MISMATCH",
        "授权的微信账号与当前登录账号不一致",
        "The WeChat account that consented is not the one signed in",
    )
}

/// Records the diner's answers to a subscribe-message prompt: each "accept" of one of this
/// server's templates allows one WeChat message of its kind.
#[utoipa::path(post, path = "/api/v1/customer/subscribe-consents", tag = "customer",
    request_body = ConsentBody,
    responses((status = 200, body = ConsentRecorded),
        (status = 401, body = crate::error::ErrorBody, description = "Not signed in, or WECHAT_CODE_INVALID"),
        (status = 403, body = crate::error::ErrorBody, description = "WECHAT_IDENTITY_MISMATCH: the code is another WeChat user's"),
        (status = 422, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody, description = "WECHAT_UNAVAILABLE")))]
pub async fn record_consent(
    State(state): State<AppState>,
    customer: Customer,
    ApiJson(body): ApiJson<ConsentBody>,
) -> ApiResult<Json<ConsentRecorded>> {
    if body.answers.len() > MAX_ANSWERS {
        return Err(ApiError::invalid_field(
            "answers",
            Problem::TooLarge {
                max: MAX_ANSWERS as i64,
            },
        ));
    }
    if body.answers.iter().map(|a| &a.template_id).any(|t| {
        t.is_empty() || t.len() > MAX_TEMPLATE_ID_LEN || !t.bytes().all(|b| b.is_ascii_graphic())
    }) {
        return Err(ApiError::invalid_field(
            "answers",
            Problem::InvalidCharacters,
        ));
    }
    let code = body.code.trim();
    if code.is_empty()
        || code.len() > MAX_WECHAT_CODE_LEN
        || !code.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(crate::api::customer_auth::wechat_code_invalid());
    }
    let session = match state.wechat.code2session(code).await {
        Ok(session) => session,
        Err(diancan_integrations::wechat::WeChatError::InvalidCode) => {
            return Err(crate::api::customer_auth::wechat_code_invalid());
        }
        Err(error) => {
            tracing::error!(%error, "WeChat code2session failed");
            return Err(crate::api::customer_auth::wechat_unavailable());
        }
    };
    // A diner who signed in by WeChat consents only as that WeChat user.
    if customer.has_wechat {
        let kind = format!("wechat-openid:{}", state.wechat.app_id());
        let index = state.pii.external_id_index(&kind, &session.openid);
        match state
            .db
            .customer_by_wechat_index(customer.brand_id, &index)
            .await
        {
            Ok(found) if found.id == customer.id => {}
            Ok(_) | Err(diancan_storage::StorageError::NotFound) => return Err(wechat_mismatch()),
            Err(error) => return Err(error.into()),
        }
    }
    let answers: Vec<(String, ConsentAnswer)> = body
        .answers
        .into_iter()
        .map(|a| (a.template_id, a.answer))
        .collect();
    let granted =
        notify::record_consent(&state, diner(&customer), &session.openid, &answers).await?;
    Ok(Json(ConsentRecorded {
        granted,
        preferences: preferences_view(&state, &customer).await?,
    }))
}

/// Who a campaign reaches.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AudienceKind {
    /// Every diner of the brand.
    AllMembers,
    /// Diners who ordered in the last `days` days.
    RecentDiners,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignAudience {
    pub kind: AudienceKind,
    /// For `recent_diners`: 1-365.
    #[schema(minimum = 1, maximum = 365)]
    pub days: Option<i64>,
}

impl CampaignAudience {
    /// The audience, or why not. `days` is checked against its range whenever it is sent, as
    /// the schema states, even where the kind does not use it.
    fn parse(self) -> ApiResult<Audience> {
        let out_of_range = || {
            ApiError::invalid_field(
                "audience.days",
                Problem::OutOfRange {
                    min: 1,
                    max: MAX_RECENT_DAYS,
                },
            )
        };
        if self
            .days
            .is_some_and(|days| !(1..=MAX_RECENT_DAYS).contains(&days))
        {
            return Err(out_of_range());
        }
        match (self.kind, self.days) {
            (AudienceKind::AllMembers, _) => Ok(Audience::AllMembers),
            (AudienceKind::RecentDiners, Some(days)) => Ok(Audience::RecentDiners { days }),
            (AudienceKind::RecentDiners, None) => Err(out_of_range()),
        }
    }

    fn of(audience: Audience) -> CampaignAudience {
        match audience {
            Audience::AllMembers => CampaignAudience {
                kind: AudienceKind::AllMembers,
                days: None,
            },
            Audience::RecentDiners { days } => CampaignAudience {
                kind: AudienceKind::RecentDiners,
                days: Some(days),
            },
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComposeCampaign {
    #[schema(min_length = 1, max_length = 20)]
    pub title: String,
    #[schema(min_length = 1, max_length = 200)]
    pub body: String,
    pub audience: CampaignAudience,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudiencePreviewBody {
    pub audience: CampaignAudience,
}

#[derive(Serialize, ToSchema)]
pub struct AudiencePreview {
    pub audience_count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CampaignView {
    pub id: CampaignId,
    pub title: String,
    pub body: String,
    pub audience: CampaignAudience,
    pub state: CampaignState,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    /// Diners in the audience when sending started.
    pub audience_count: i64,
    /// Diners gone through so far (those who turned campaigns off included).
    pub reached_count: i64,
    /// Messages put in inboxes.
    pub delivered_count: i64,
}

impl From<Campaign> for CampaignView {
    fn from(c: Campaign) -> Self {
        CampaignView {
            id: c.id,
            title: c.content.title,
            body: c.content.body,
            audience: CampaignAudience::of(c.content.audience),
            state: c.state,
            created_at_ms: c.created_at_ms,
            started_at_ms: c.started_at_ms,
            finished_at_ms: c.finished_at_ms,
            audience_count: c.audience_count,
            reached_count: c.reached_count,
            delivered_count: c.delivered_count,
        }
    }
}

/// The brand's campaigns, newest first.
#[utoipa::path(get, path = "/api/v1/console/campaigns", tag = "console campaigns",
    responses((status = 200, body = Vec<CampaignView>), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "Only brand-wide owners and managers send campaigns")))]
pub async fn list_campaigns(
    State(state): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<Vec<CampaignView>>> {
    let campaigns = notify::campaigns(&state, &staff.caller()).await?;
    Ok(Json(
        campaigns.into_iter().map(CampaignView::from).collect(),
    ))
}

/// Composes a campaign (a draft: nothing is sent until `send`).
#[utoipa::path(post, path = "/api/v1/console/campaigns", tag = "console campaigns",
    request_body = ComposeCampaign,
    responses((status = 201, body = CampaignView), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn compose_campaign(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<ComposeCampaign>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    let audience = body.audience.parse()?;
    let content =
        CampaignContent::parse(&body.title, &body.body, audience).map_err(ApiError::validation)?;
    debug_assert!(content.title.chars().count() <= MAX_TITLE_CHARS);
    debug_assert!(content.body.chars().count() <= MAX_BODY_CHARS);
    let campaign = notify::compose_campaign(&state, &staff.caller(), &content).await?;
    Ok((StatusCode::CREATED, Json(CampaignView::from(campaign))))
}

/// How many diners an audience holds right now.
#[utoipa::path(post, path = "/api/v1/console/campaigns/preview", tag = "console campaigns",
    request_body = AudiencePreviewBody,
    responses((status = 200, body = AudiencePreview), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn preview_audience(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<AudiencePreviewBody>,
) -> ApiResult<Json<AudiencePreview>> {
    let audience = body.audience.parse()?;
    let audience_count = notify::audience_preview(&state, &staff.caller(), audience).await?;
    Ok(Json(AudiencePreview { audience_count }))
}

/// One campaign and its progress.
#[utoipa::path(get, path = "/api/v1/console/campaigns/{campaign_id}", tag = "console campaigns",
    params(("campaign_id" = CampaignId, Path)),
    responses((status = 200, body = CampaignView), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_campaign(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<CampaignId>,
) -> ApiResult<Json<CampaignView>> {
    let campaign = notify::campaign(&state, &staff.caller(), id).await?;
    Ok(Json(CampaignView::from(campaign)))
}

/// Starts sending a draft to its audience as it stands now; the worker sends in paced batches.
#[utoipa::path(post, path = "/api/v1/console/campaigns/{campaign_id}/send", tag = "console campaigns",
    params(("campaign_id" = CampaignId, Path)),
    responses((status = 200, body = CampaignView), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "CAMPAIGN_ALREADY_SENT: it is sending or finished")))]
pub async fn send_campaign(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<CampaignId>,
) -> ApiResult<Json<CampaignView>> {
    let campaign = notify::send_campaign(&state, &staff.caller(), id).await?;
    Ok(Json(CampaignView::from(campaign)))
}
