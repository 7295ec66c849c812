//! Telling diners: the `notify` outbox consumer puts each order moment in the diner's inbox and
//! sends it by WeChat (spending a grant) or SMS as their preferences allow, at least once and
//! never twice (the inbox by the row's id, outside sends by a claim settled after the call).
//! Campaigns: staff compose and send; a worker goes through the audience in batches, paced by
//! a token bucket, committing the cursor with each batch so a killed worker resumes cleanly.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::ordering::StaffCaller;
use diancan_domain::notifications::*;
use diancan_domain::staff::{Permission, StoreAccess};
use diancan_domain::*;
use diancan_integrations::notify::{NotifyError, Outgoing, Recipient};
use diancan_storage::notifications::*;
use diancan_storage::outbox::OutboxMessage;

/// A send claimed longer ago than this belongs to a worker that died mid-call.
const STALE_SEND_MS: i64 = 60_000;
/// A campaign worker holds its campaign this long per round.
const CAMPAIGN_LEASE_MS: i64 = 60_000;
/// Most inbox messages one page shows.
pub const MAX_PAGE: i64 = 100;

/// How fast campaigns go out: `per_minute` diners a minute on average, bursts of at most
/// `burst`, at most `batch` per committed batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignPace {
    pub per_minute: i64,
    pub burst: i64,
    pub batch: i64,
}

impl Default for CampaignPace {
    fn default() -> Self {
        CampaignPace {
            per_minute: 600,
            burst: 100,
            batch: 50,
        }
    }
}

/// Delivers one notify outbox row. `Err` means "try again later" (the outbox backs off).
pub async fn deliver_notice(ctx: &Context, message: &OutboxMessage) -> Result<(), String> {
    let row: NoticeRow = match serde_json::from_str(&message.payload_json) {
        Ok(row) => row,
        Err(error) => {
            tracing::error!(%error, id = message.id, "unreadable notice; dropped");
            return Ok(());
        }
    };
    let source = format!("outbox:{}", message.id);
    deliver(ctx, &row, &source).await.map_err(|e| e.to_string())
}

async fn deliver(ctx: &Context, row: &NoticeRow, source: &str) -> Result<()> {
    let kind = row.notice.kind;
    let preferences = ctx
        .db
        .notification_preferences(row.brand_id, row.customer_id)
        .await?;
    if !preferences.allows(kind) {
        return Ok(());
    }
    let store = match ctx.db.store(row.store_id).await {
        Ok(store) => store,
        // A store that is gone (or damaged) cannot be named; retrying will not help.
        Err(
            diancan_storage::StorageError::NotFound
            | diancan_storage::StorageError::StoreDamaged(_),
        ) => {
            tracing::warn!(store = %row.store_id, "notice for an unreadable store; dropped");
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    };
    let text = row.notice.message(&store.profile.name);
    ctx.db
        .deliver_to_inbox(
            &NewInboxMessage {
                brand_id: row.brand_id,
                customer_id: row.customer_id,
                kind,
                source: source.to_owned(),
                message: text.clone(),
                order_id: Some(row.order_id),
                campaign_id: None,
            },
            ctx.clock.now_ms(),
        )
        .await?;
    let values = SubscribeValues {
        pickup_number: row.notice.pickup_number,
        store_name: &store.profile.name,
        summary: &row.notice.summary,
        status: row.notice.status_phrase(),
        time: wechat_time(row.notice.at_ms, &store.profile.rules.time_zone),
        amount: row.notice.amount.unwrap_or(row.notice.total),
        title: &text.title,
        body: &text.body,
    };
    let page = format!("pages/order/detail?id={}", row.order_id);
    let by_wechat = send_wechat(ctx, source, row.customer_id, kind, &values, Some(page)).await?;
    if !preferences.route(kind, by_wechat, true).sms {
        return Ok(());
    }
    let customer = ctx.db.customer(row.brand_id, row.customer_id).await?;
    let Some(sealed) = customer.phone else {
        return Ok(());
    };
    send_sms(ctx, source, row.customer_id, &sealed, &text).await
}

/// Sends by WeChat if the diner holds a grant for `kind`; whether the message reached them
/// (now or on an earlier delivery). A failure worth retrying is an error, with the claim and
/// the grant given back.
async fn send_wechat(
    ctx: &Context,
    source: &str,
    customer: CustomerId,
    kind: NotificationKind,
    values: &SubscribeValues<'_>,
    page: Option<String>,
) -> Result<bool> {
    let notifiers = &ctx.notifiers;
    let Some(layout) = notifiers.templates.get(kind) else {
        return Ok(false);
    };
    let channel = NotifyChannel::Wechat;
    let now = ctx.clock.now_ms();
    let grant = match ctx
        .db
        .claim_delivery(source, customer, channel, Some(kind), now, STALE_SEND_MS)
        .await?
    {
        DeliveryClaim::Claimed { grant: Some(grant) } => grant,
        DeliveryClaim::Claimed { grant: None } | DeliveryClaim::NoGrant => return Ok(false),
        DeliveryClaim::Done { sent } => return Ok(sent),
        DeliveryClaim::InFlight => return Err(in_flight()),
    };
    let settle = |outcome, error: Option<String>| async move {
        ctx.db
            .settle_delivery(
                source,
                customer,
                channel,
                outcome,
                error.as_deref(),
                ctx.clock.now_ms(),
            )
            .await
    };
    let openid = match ctx.pii.open(grant.openid.as_bytes()) {
        Ok(openid) => openid,
        Err(error) => {
            settle(
                SendOutcome::Failed,
                Some(format!("openid unreadable: {error}")),
            )
            .await?;
            return Ok(false);
        }
    };
    let data = match layout.data(values) {
        Ok(data) => data,
        Err(error) => {
            settle(SendOutcome::Failed, Some(error.to_string())).await?;
            return Ok(false);
        }
    };
    let message = Outgoing {
        recipient: Recipient::Wechat {
            openid: openid.into(),
            template_id: grant.template_id.clone(),
            page,
            data,
        },
        title: values.title.to_owned(),
        body: values.body.to_owned(),
    };
    match notifiers.wechat.send(&message).await {
        Ok(()) => {
            settle(SendOutcome::Sent, None).await?;
            Ok(true)
        }
        Err(NotifyError::Refused) => {
            settle(SendOutcome::Refused, Some("43101".into())).await?;
            Ok(false)
        }
        Err(error) if error.is_transient() => {
            ctx.db.release_delivery(source, customer, channel).await?;
            Err(Error::Storage(diancan_storage::StorageError::Unavailable(
                format!("WeChat: {error}"),
            )))
        }
        Err(error) => {
            tracing::warn!(%error, source, "WeChat refused a subscribe message");
            settle(SendOutcome::Failed, Some(error.to_string())).await?;
            Ok(false)
        }
    }
}

async fn send_sms(
    ctx: &Context,
    source: &str,
    customer: CustomerId,
    sealed: &diancan_domain::customer::SealedPii,
    text: &Message,
) -> Result<()> {
    let channel = NotifyChannel::Sms;
    match ctx
        .db
        .claim_delivery(
            source,
            customer,
            channel,
            None,
            ctx.clock.now_ms(),
            STALE_SEND_MS,
        )
        .await?
    {
        DeliveryClaim::Claimed { .. } => {}
        DeliveryClaim::InFlight => return Err(in_flight()),
        DeliveryClaim::Done { .. } | DeliveryClaim::NoGrant => return Ok(()),
    }
    let settle = |outcome, error: Option<String>| async move {
        ctx.db
            .settle_delivery(
                source,
                customer,
                channel,
                outcome,
                error.as_deref(),
                ctx.clock.now_ms(),
            )
            .await
    };
    let phone = match ctx.pii.open_phone(sealed) {
        Ok(phone) => phone,
        Err(error) => {
            settle(
                SendOutcome::Failed,
                Some(format!("phone unreadable: {error}")),
            )
            .await?;
            return Ok(());
        }
    };
    let message = Outgoing {
        recipient: Recipient::Phone(phone),
        title: text.title.clone(),
        body: text.body.clone(),
    };
    match ctx.notifiers.sms.send(&message).await {
        Ok(()) => Ok(settle(SendOutcome::Sent, None).await?),
        Err(error) if error.is_transient() => {
            ctx.db.release_delivery(source, customer, channel).await?;
            Err(Error::Storage(diancan_storage::StorageError::Unavailable(
                format!("SMS: {error}"),
            )))
        }
        Err(error) => Ok(settle(SendOutcome::Failed, Some(error.to_string())).await?),
    }
}

fn in_flight() -> Error {
    Error::Storage(diancan_storage::StorageError::Unavailable(
        "another worker is sending this message".into(),
    ))
}

/// A signed-in diner, as the inbox knows them.
#[derive(Debug, Clone, Copy)]
pub struct Diner {
    pub brand_id: BrandId,
    pub customer_id: CustomerId,
}

/// A page of the diner's inbox (newest first) and how many are unread.
pub async fn inbox(
    ctx: &Context,
    diner: Diner,
    before: Option<InboxMessageId>,
    limit: i64,
) -> Result<(Vec<InboxMessage>, i64)> {
    let messages = ctx
        .db
        .inbox(
            diner.brand_id,
            diner.customer_id,
            before,
            limit.clamp(1, MAX_PAGE),
        )
        .await?;
    let unread = ctx
        .db
        .unread_count(diner.brand_id, diner.customer_id)
        .await?;
    Ok((messages, unread))
}

/// Marks one message read (or all of them); how many are still unread.
pub async fn mark_read(
    ctx: &Context,
    diner: Diner,
    message: Option<InboxMessageId>,
) -> Result<i64> {
    ctx.db
        .mark_inbox_read(
            diner.brand_id,
            diner.customer_id,
            message,
            ctx.clock.now_ms(),
        )
        .await?;
    Ok(ctx
        .db
        .unread_count(diner.brand_id, diner.customer_id)
        .await?)
}

pub async fn preferences(ctx: &Context, diner: Diner) -> Result<Preferences> {
    Ok(ctx
        .db
        .notification_preferences(diner.brand_id, diner.customer_id)
        .await?)
}

pub async fn set_preferences(ctx: &Context, diner: Diner, preferences: &Preferences) -> Result<()> {
    Ok(ctx
        .db
        .set_notification_preferences(
            diner.brand_id,
            diner.customer_id,
            preferences,
            ctx.clock.now_ms(),
        )
        .await?)
}

/// What the subscribe page asks consent for: the template of each kind.
pub fn subscribe_templates(ctx: &Context) -> Vec<(NotificationKind, String)> {
    ctx.notifiers
        .templates
        .iter()
        .map(|(kind, layout)| (kind, layout.template_id.clone()))
        .collect()
}

/// Records what `wx.requestSubscribeMessage` answered: each "accept" of one of our templates
/// is one grant for `openid` (the diner's, from a fresh `wx.login()`). Returns the kinds granted.
pub async fn record_consent(
    ctx: &Context,
    diner: Diner,
    openid: &str,
    answers: &[(String, ConsentAnswer)],
) -> Result<Vec<NotificationKind>> {
    let grants: Vec<NewGrant> = answers
        .iter()
        .filter(|(_, answer)| *answer == ConsentAnswer::Accept)
        .filter_map(|(template, _)| {
            ctx.notifiers
                .templates
                .kind_of(template)
                .map(|kind| NewGrant {
                    kind,
                    template_id: template.clone(),
                })
        })
        .collect();
    if grants.is_empty() {
        return Ok(Vec::new());
    }
    let sealed = diancan_domain::customer::SealedPii::from_bytes(ctx.pii.seal(openid));
    ctx.db
        .record_subscribe_grants(
            diner.brand_id,
            diner.customer_id,
            &grants,
            &sealed,
            ctx.clock.now_ms(),
        )
        .await?;
    // Demo mode: the simulated WeChat learns of the tap as the real one would.
    if let Some(simulator) = &ctx.notifiers.simulator {
        for grant in &grants {
            simulator.grant(openid, &grant.template_id);
        }
    }
    Ok(grants.into_iter().map(|g| g.kind).collect())
}

/// Unspent grants per kind, for the diner's page.
pub async fn grants(ctx: &Context, diner: Diner) -> Result<Vec<(NotificationKind, i64)>> {
    Ok(ctx
        .db
        .available_grants(diner.brand_id, diner.customer_id)
        .await?)
}

/// Campaigns reach every store's diners: only staff of the whole brand send them.
fn require_campaigns(staff: &StaffCaller) -> Result<()> {
    let permission = Permission::SendCampaigns;
    if staff.role.can(permission) && matches!(staff.access, StoreAccess::AllStores) {
        Ok(())
    } else {
        Err(Error::Forbidden(permission))
    }
}

/// How many diners `audience` reaches now (before composing).
pub async fn audience_preview(
    ctx: &Context,
    staff: &StaffCaller,
    audience: Audience,
) -> Result<i64> {
    require_campaigns(staff)?;
    Ok(ctx
        .db
        .count_audience(staff.brand_id, audience, ctx.clock.now_ms())
        .await?)
}

/// Staff compose a campaign (a draft until sent).
pub async fn compose_campaign(
    ctx: &Context,
    staff: &StaffCaller,
    content: &CampaignContent,
) -> Result<Campaign> {
    require_campaigns(staff)?;
    let by = format!("staff:{}", staff.id);
    Ok(ctx
        .db
        .create_campaign(
            CampaignId::new(),
            staff.brand_id,
            content,
            &by,
            ctx.clock.now_ms(),
        )
        .await?)
}

pub async fn campaigns(ctx: &Context, staff: &StaffCaller) -> Result<Vec<Campaign>> {
    require_campaigns(staff)?;
    Ok(ctx.db.campaigns(staff.brand_id, 50).await?)
}

pub async fn campaign(ctx: &Context, staff: &StaffCaller, id: CampaignId) -> Result<Campaign> {
    require_campaigns(staff)?;
    Ok(ctx.db.campaign(staff.brand_id, id).await?)
}

/// Starts sending a draft to its audience as it is now. Sending twice sends once: the second
/// time the campaign is no draft and is refused with its progress.
pub async fn send_campaign(ctx: &Context, staff: &StaffCaller, id: CampaignId) -> Result<Campaign> {
    require_campaigns(staff)?;
    let pace = ctx.campaign_pace;
    match ctx
        .db
        .start_campaign(
            staff.brand_id,
            id,
            pace.burst.max(1) * 1000,
            ctx.clock.now_ms(),
        )
        .await?
    {
        Some(campaign) => Ok(campaign),
        None => Err(Error::CampaignNotDraft(Box::new(
            ctx.db.campaign(staff.brand_id, id).await?,
        ))),
    }
}

/// What one campaign round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignRound {
    /// No campaign is sending (or every one is held by another worker).
    Idle,
    /// The bucket is empty: the next send is allowed in this many ms.
    Paced { wait_ms: i64 },
    /// A batch of this many diners was committed.
    Sent { reached: i64, finished: bool },
    /// The campaign had nobody left and is finished.
    Finished,
}

/// Sends one batch of one sending campaign: the diners after its cursor, as many as the
/// bucket allows. The inbox messages, the new cursor and the bucket commit together; WeChat
/// sends are claimed one by one before that, so a batch redone after a crash skips them.
pub async fn campaign_round(ctx: &Context) -> Result<CampaignRound> {
    let pace = ctx.campaign_pace;
    let now = ctx.clock.now_ms();
    let Some(campaign) = ctx
        .db
        .lease_sending_campaign(now, CAMPAIGN_LEASE_MS)
        .await?
    else {
        return Ok(CampaignRound::Idle);
    };
    let outcome = campaign_batch(ctx, &campaign, pace, now).await;
    ctx.db.release_campaign(campaign.id).await?;
    outcome
}

async fn campaign_batch(
    ctx: &Context,
    campaign: &Campaign,
    pace: CampaignPace,
    now: i64,
) -> Result<CampaignRound> {
    let bucket = TokenBucket {
        per_minute: pace.per_minute.max(1),
        capacity: pace.burst.max(1),
        milli_tokens: campaign.bucket_milli,
        at_ms: campaign.bucket_at_ms,
    }
    .refilled(now);
    let allowed = (bucket.milli_tokens / 1000).min(pace.batch.max(1));
    if allowed == 0 {
        return Ok(CampaignRound::Paced {
            wait_ms: bucket.wait_ms(now),
        });
    }
    let members = ctx.db.audience_after(campaign, allowed).await?;
    let Some(last) = members.last().map(|m| m.customer_id) else {
        ctx.db.finish_campaign(campaign.id, now).await?;
        return Ok(CampaignRound::Finished);
    };
    let source = format!("campaign:{}", campaign.id);
    let text = campaign.content.message();
    let brand = ctx.db.brand(campaign.brand_id).await?;
    let mut inbox = Vec::with_capacity(members.len());
    for member in &members {
        if !member.preferences.allows(NotificationKind::Campaign) {
            continue;
        }
        inbox.push(NewInboxMessage {
            brand_id: campaign.brand_id,
            customer_id: member.customer_id,
            kind: NotificationKind::Campaign,
            source: source.clone(),
            message: text.clone(),
            order_id: None,
            campaign_id: Some(campaign.id),
        });
        let values = SubscribeValues {
            pickup_number: 0,
            store_name: &brand.name,
            summary: "",
            status: "新消息",
            time: String::new(),
            amount: Money::ZERO,
            title: &text.title,
            body: &text.body,
        };
        send_wechat(
            ctx,
            &source,
            member.customer_id,
            NotificationKind::Campaign,
            &values,
            Some("pages/inbox/index".into()),
        )
        .await?;
    }
    let reached = members.len() as i64;
    let (_, after) = bucket.take(now, reached);
    let finished = reached < allowed;
    let batch = CampaignBatch {
        after: campaign.cursor,
        last,
        reached,
        inbox,
        bucket_milli: after.milli_tokens,
        bucket_at_ms: after.at_ms,
        finished,
    };
    if !ctx
        .db
        .commit_campaign_batch(campaign.id, &batch, ctx.clock.now_ms())
        .await?
    {
        // Another worker's batch moved the cursor first: nothing of ours was written.
        return Ok(CampaignRound::Sent {
            reached: 0,
            finished: false,
        });
    }
    Ok(CampaignRound::Sent { reached, finished })
}

/// The campaign worker: a batch whenever the bucket allows, a look a second otherwise.
pub async fn run_campaigns(ctx: Context) {
    loop {
        let pause_ms = match campaign_round(&ctx).await {
            Ok(CampaignRound::Sent { .. }) | Ok(CampaignRound::Finished) => 0,
            Ok(CampaignRound::Paced { wait_ms }) => wait_ms.clamp(10, 1_000),
            Ok(CampaignRound::Idle) => 1_000,
            Err(error) => {
                tracing::warn!(%error, "campaign round failed; will retry");
                1_000
            }
        };
        if pause_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(pause_ms as u64)).await;
        }
    }
}
