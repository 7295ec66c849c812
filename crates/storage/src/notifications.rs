//! Notifications in the database: each diner's inbox, their opt-outs, their one-time WeChat
//! grants, every outside send (claimed before the call, settled after it, keyed by what caused
//! it so a redelivery never sends twice), and campaigns whose cursor and token bucket commit
//! with each batch's inbox rows, so a killed worker resumes where the last batch ended.

use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::outbox::OutboxEntry;
use crate::sql_batch::for_update;
use crate::tx::Tx;
use diancan_domain::customer::SealedPii;
use diancan_domain::notifications::*;
use diancan_domain::*;
use uuid::Uuid;

/// The outbox topic of an order moment a diner hears about (payload: [`NoticeRow`]).
pub const NOTIFY: &str = "notify";

/// What a notify outbox row carries: the diner, where it happened and the facts of the moment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NoticeRow {
    pub brand_id: BrandId,
    pub store_id: StoreId,
    pub customer_id: CustomerId,
    pub order_id: OrderId,
    pub notice: OrderNotice,
}

/// The notify row for `notice` about `order`, to write in the change's transaction.
pub fn notice_entry(
    order: &ordering::Order,
    customer: CustomerId,
    notice: OrderNotice,
) -> OutboxEntry {
    let row = NoticeRow {
        brand_id: order.brand_id,
        store_id: order.store_id,
        customer_id: customer,
        order_id: order.id,
        notice,
    };
    OutboxEntry {
        topic: NOTIFY,
        subject: Some(format!("order:{}", order.id)),
        payload: serde_json::to_value(&row).unwrap_or_default(),
    }
}

/// The notice of an order's status change, if the diner hears about it.
pub(crate) fn status_notice(
    from: ordering::OrderStatus,
    order: &ordering::Order,
) -> Option<OutboxEntry> {
    let customer = order.customer_id?;
    let kind = NotificationKind::for_order_change(from, order.status, order.channel)?;
    Some(notice_entry(
        order,
        customer,
        order_notice(order, kind, None),
    ))
}

/// The facts of `order` for a message of `kind`.
pub fn order_notice(
    order: &ordering::Order,
    kind: NotificationKind,
    amount: Option<Money>,
) -> OrderNotice {
    let first = order.quote.lines.first().map(|l| l.dish_name.as_str());
    OrderNotice {
        kind,
        pickup_number: order.pickup_number,
        summary: order_summary(first, order.quote.item_count),
        total: order.total,
        amount,
        at_ms: order.updated_at_ms,
    }
}

/// A message in a diner's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxMessage {
    pub id: InboxMessageId,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub order_id: Option<OrderId>,
    pub campaign_id: Option<CampaignId>,
    pub created_at_ms: i64,
    pub read_at_ms: Option<i64>,
}

/// A message to put in an inbox; `source` names its cause, once per diner.
#[derive(Debug, Clone)]
pub struct NewInboxMessage {
    pub brand_id: BrandId,
    pub customer_id: CustomerId,
    pub kind: NotificationKind,
    pub source: String,
    pub message: Message,
    pub order_id: Option<OrderId>,
    pub campaign_id: Option<CampaignId>,
}

/// What claiming an outside send found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryClaim {
    /// Ours to send now; for WeChat with the grant it spends.
    Claimed { grant: Option<ClaimedGrant> },
    /// WeChat only: the diner holds no grant for this kind; nothing was written.
    NoGrant,
    /// Settled already: `sent` when it reached the diner.
    Done { sent: bool },
    /// Another worker is sending it right now: try again later.
    InFlight,
}

/// The grant a WeChat send spends, with the openid it was given for (sealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedGrant {
    pub id: SubscribeGrantId,
    pub template_id: String,
    pub openid: SealedPii,
}

/// How an outside send ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    /// WeChat 43101: the grant is spent and marked refused.
    Refused,
    /// The provider refused the message itself; not retried.
    Failed,
}

/// A grant the diner gave for one template.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub kind: NotificationKind,
    pub template_id: String,
}

/// A campaign as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: CampaignId,
    pub brand_id: BrandId,
    pub content: CampaignContent,
    pub state: CampaignState,
    pub created_by: String,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub audience_count: i64,
    pub cursor: Option<CustomerId>,
    pub reached_count: i64,
    pub delivered_count: i64,
    pub bucket_milli: i64,
    pub bucket_at_ms: i64,
}

/// One diner of a campaign's audience with what they turned off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceMember {
    pub customer_id: CustomerId,
    pub preferences: Preferences,
}

/// What one committed batch changes on its campaign.
#[derive(Debug, Clone)]
pub struct CampaignBatch {
    /// The cursor the batch started after: the batch applies only if it is still there.
    pub after: Option<CustomerId>,
    pub last: CustomerId,
    pub reached: i64,
    pub inbox: Vec<NewInboxMessage>,
    pub bucket_milli: i64,
    pub bucket_at_ms: i64,
    pub finished: bool,
}

const SELECT_PREFERENCES: &str = "SELECT opted_out, sms_off FROM notification_preferences WHERE customer_id = $1 AND brand_id = $2";
const UPSERT_PREFERENCES: &str = "INSERT INTO notification_preferences (customer_id, brand_id, opted_out, sms_off, updated_at_ms)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (customer_id) DO UPDATE SET opted_out = excluded.opted_out, sms_off = excluded.sms_off, updated_at_ms = excluded.updated_at_ms";
const INBOX_PAGE: &str =
    "SELECT id, kind, title, body, order_id, campaign_id, created_at_ms, read_at_ms
    FROM inbox_messages WHERE brand_id = $1 AND customer_id = $2 AND ($3 IS NULL OR id < $3)
    ORDER BY id DESC LIMIT $4";
const UNREAD: &str = "SELECT COUNT(*) FROM inbox_messages
    WHERE brand_id = $1 AND customer_id = $2 AND read_at_ms IS NULL";
const MARK_READ: &str = "UPDATE inbox_messages SET read_at_ms = $4
    WHERE brand_id = $1 AND customer_id = $2 AND id = $3 AND read_at_ms IS NULL";
const MARK_ALL_READ: &str = "UPDATE inbox_messages SET read_at_ms = $3
    WHERE brand_id = $1 AND customer_id = $2 AND read_at_ms IS NULL";
const INSERT_GRANT: &str = "INSERT INTO subscribe_grants (id, brand_id, customer_id, kind, template_id, openid_sealed, state, created_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, 'available', $7)";
const AVAILABLE_GRANTS: &str = "SELECT kind, COUNT(*) FROM subscribe_grants
    WHERE brand_id = $1 AND customer_id = $2 AND state = 'available' GROUP BY kind";
const CLAIM_DELIVERY: &str = "INSERT INTO notification_deliveries (source, customer_id, channel, state, attempts, started_at_ms)
    VALUES ($1, $2, $3, 'sending', 1, $4) ON CONFLICT (source, customer_id, channel) DO NOTHING RETURNING attempts";
const SELECT_DELIVERY: &str = "SELECT state, started_at_ms, grant_id FROM notification_deliveries
    WHERE source = $1 AND customer_id = $2 AND channel = $3";
const RETAKE_DELIVERY: &str =
    "UPDATE notification_deliveries SET started_at_ms = $4, attempts = attempts + 1
    WHERE source = $1 AND customer_id = $2 AND channel = $3";
const SELECT_GRANT: &str =
    "SELECT id, template_id, openid_sealed FROM subscribe_grants WHERE id = $1";
const NEXT_GRANT: &str = "SELECT id, template_id, openid_sealed FROM subscribe_grants
    WHERE customer_id = $1 AND kind = $2 AND state = 'available' ORDER BY created_at_ms, id LIMIT 1";
const SPEND_GRANT: &str =
    "UPDATE subscribe_grants SET state = 'used', used_at_ms = $2 WHERE id = $1";
const REFUSE_GRANT: &str = "UPDATE subscribe_grants SET state = 'refused' WHERE id = $1";
const RETURN_GRANT: &str = "UPDATE subscribe_grants SET state = 'available', used_at_ms = NULL WHERE id = $1 AND state = 'used'";
const LINK_GRANT: &str = "UPDATE notification_deliveries SET grant_id = $4
    WHERE source = $1 AND customer_id = $2 AND channel = $3";
const SETTLE_DELIVERY: &str = "UPDATE notification_deliveries SET state = $4, finished_at_ms = $5, last_error = $6
    WHERE source = $1 AND customer_id = $2 AND channel = $3 AND state = 'sending' RETURNING grant_id";
const DROP_DELIVERY: &str = "DELETE FROM notification_deliveries
    WHERE source = $1 AND customer_id = $2 AND channel = $3 AND state = 'sending' RETURNING grant_id";
const CAMPAIGN_COLUMNS: &str = "id, brand_id, title, body, audience, audience_days, state, created_by, created_at_ms, started_at_ms, finished_at_ms, audience_count, cursor, reached_count, delivered_count, bucket_milli, bucket_at_ms";
const INSERT_CAMPAIGN: &str = "INSERT INTO campaigns (id, brand_id, title, body, audience, audience_days, state, created_by, created_at_ms, audience_count, reached_count, delivered_count, bucket_milli, bucket_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $8, 0, 0, 0, 0, $8)";
const START_CAMPAIGN: &str = "UPDATE campaigns SET state = 'sending', started_at_ms = $3, audience_count = $4, bucket_milli = $5, bucket_at_ms = $3
    WHERE brand_id = $1 AND id = $2 AND state = 'draft'";
const LEASE_CAMPAIGN: &str = "UPDATE campaigns SET leased_until_ms = $2 WHERE id = $1";
const RELEASE_CAMPAIGN: &str = "UPDATE campaigns SET leased_until_ms = NULL WHERE id = $1";
/// The audience after a cursor: diners of the brand who existed when sending started, and (for
/// recent diners) ordered in the window before it, with what they turned off.
const AUDIENCE_AFTER: &str = "SELECT c.id, p.opted_out, p.sms_off FROM customers c
    LEFT JOIN notification_preferences p ON p.customer_id = c.id
    WHERE c.brand_id = $1 AND c.created_at_ms <= $2 AND ($3 IS NULL OR c.id > $3)
      AND ($4 IS NULL OR EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.brand_id = $1 AND o.placed_at_ms >= $4 AND o.placed_at_ms <= $2))
    ORDER BY c.id LIMIT $5";
const COUNT_AUDIENCE: &str = "SELECT COUNT(*) FROM customers c
    WHERE c.brand_id = $1 AND c.created_at_ms <= $2
      AND ($3 IS NULL OR EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.brand_id = $1 AND o.placed_at_ms >= $3 AND o.placed_at_ms <= $2))";
const ADVANCE_CAMPAIGN: &str = "UPDATE campaigns SET cursor = $3, reached_count = reached_count + $4, delivered_count = delivered_count + $5,
        bucket_milli = $6, bucket_at_ms = $7, state = $8, finished_at_ms = $9
    WHERE id = $1 AND state = 'sending' AND (cursor = $2 OR (cursor IS NULL AND $2 IS NULL))";
const FINISH_EMPTY: &str =
    "UPDATE campaigns SET state = 'finished', finished_at_ms = $2, leased_until_ms = NULL
    WHERE id = $1 AND state = 'sending'";

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: Uuid,
    brand_id: Uuid,
    title: String,
    body: String,
    audience: String,
    audience_days: i64,
    state: String,
    created_by: String,
    created_at_ms: i64,
    started_at_ms: Option<i64>,
    finished_at_ms: Option<i64>,
    audience_count: i64,
    cursor: Option<Uuid>,
    reached_count: i64,
    delivered_count: i64,
    bucket_milli: i64,
    bucket_at_ms: i64,
}

fn campaign_from(row: CampaignRow) -> Result<Campaign> {
    let corrupt = |what: &str| StorageError::Corrupt(format!("campaign {}: {what}", row.id));
    let audience = Audience::from_parts(&row.audience, row.audience_days)
        .ok_or_else(|| corrupt("audience"))?;
    let state = CampaignState::parse(&row.state).ok_or_else(|| corrupt("state"))?;
    Ok(Campaign {
        id: CampaignId::from_uuid(row.id),
        brand_id: BrandId::from_uuid(row.brand_id),
        content: CampaignContent {
            title: row.title,
            body: row.body,
            audience,
        },
        state,
        created_by: row.created_by,
        created_at_ms: row.created_at_ms,
        started_at_ms: row.started_at_ms,
        finished_at_ms: row.finished_at_ms,
        audience_count: row.audience_count,
        cursor: row.cursor.map(CustomerId::from_uuid),
        reached_count: row.reached_count,
        delivered_count: row.delivered_count,
        bucket_milli: row.bucket_milli,
        bucket_at_ms: row.bucket_at_ms,
    })
}

type InboxRow = (
    Uuid,
    String,
    String,
    String,
    Option<Uuid>,
    Option<Uuid>,
    i64,
    Option<i64>,
);

fn inbox_from(row: InboxRow) -> Result<InboxMessage> {
    Ok(InboxMessage {
        id: InboxMessageId::from_uuid(row.0),
        kind: NotificationKind::parse(&row.1)
            .ok_or_else(|| StorageError::Corrupt(format!("inbox message {}: kind", row.0)))?,
        title: row.2,
        body: row.3,
        order_id: row.4.map(OrderId::from_uuid),
        campaign_id: row.5.map(CampaignId::from_uuid),
        created_at_ms: row.6,
        read_at_ms: row.7,
    })
}

fn preferences_from(opted_out: &str, sms_off: bool) -> Preferences {
    Preferences {
        // A kind this version does not know (written by a newer one) is simply not ours.
        opted_out: opted_out
            .split(',')
            .filter_map(NotificationKind::parse)
            .collect(),
        sms_off,
    }
}

/// Inserts inbox messages inside `tx`, skipping any whose (diner, source) is there already.
/// Returns how many were new.
async fn insert_inbox_in(tx: &mut Tx, messages: &[NewInboxMessage], now_ms: i64) -> Result<i64> {
    let mut inserted = 0;
    for message in messages {
        let sql = "INSERT INTO inbox_messages (id, brand_id, customer_id, kind, source, title, body, order_id, campaign_id, created_at_ms)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (customer_id, source) DO NOTHING";
        let done = on_tx!(tx, |c| sqlx::query(sql)
            .bind(InboxMessageId::new().as_uuid())
            .bind(message.brand_id.as_uuid())
            .bind(message.customer_id.as_uuid())
            .bind(message.kind.as_str())
            .bind(message.source.as_str())
            .bind(message.message.title.as_str())
            .bind(message.message.body.as_str())
            .bind(message.order_id.map(|id| id.as_uuid()))
            .bind(message.campaign_id.map(|id| id.as_uuid()))
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        inserted += done as i64;
    }
    Ok(inserted)
}

/// Locks a grant row on PostgreSQL; one a concurrent send holds is skipped.
fn skip_locked(tx: &Tx) -> &'static str {
    match tx {
        Tx::Sqlite(_) => "",
        Tx::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    }
}

impl Db {
    pub async fn notification_preferences(
        &self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Preferences> {
        let row: Option<(String, bool)> = on_pool!(self, |p| sqlx::query_as(SELECT_PREFERENCES)
            .bind(customer.as_uuid())
            .bind(brand.as_uuid())
            .fetch_optional(p)
            .await)?;
        Ok(row
            .map(|(opted_out, sms_off)| preferences_from(&opted_out, sms_off))
            .unwrap_or_default())
    }

    pub async fn set_notification_preferences(
        &self,
        brand: BrandId,
        customer: CustomerId,
        preferences: &Preferences,
        now_ms: i64,
    ) -> Result<()> {
        let opted_out: Vec<&str> = preferences.opted_out.iter().map(|k| k.as_str()).collect();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(UPSERT_PREFERENCES)
            .bind(customer.as_uuid())
            .bind(brand.as_uuid())
            .bind(opted_out.join(","))
            .bind(preferences.sms_off)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await
    }

    /// Puts one message in an inbox unless its source put it there already; whether it was new.
    pub async fn deliver_to_inbox(&self, message: &NewInboxMessage, now_ms: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let inserted = insert_inbox_in(&mut tx, std::slice::from_ref(message), now_ms).await?;
        tx.commit().await?;
        Ok(inserted == 1)
    }

    /// A page of the diner's inbox, newest first, before message `before`.
    pub async fn inbox(
        &self,
        brand: BrandId,
        customer: CustomerId,
        before: Option<InboxMessageId>,
        limit: i64,
    ) -> Result<Vec<InboxMessage>> {
        let rows: Vec<InboxRow> = on_pool!(self, |p| sqlx::query_as(INBOX_PAGE)
            .bind(brand.as_uuid())
            .bind(customer.as_uuid())
            .bind(before.map(|id| id.as_uuid()))
            .bind(limit)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(inbox_from).collect()
    }

    pub async fn unread_count(&self, brand: BrandId, customer: CustomerId) -> Result<i64> {
        let (count,): (i64,) = on_pool!(self, |p| sqlx::query_as(UNREAD)
            .bind(brand.as_uuid())
            .bind(customer.as_uuid())
            .fetch_one(p)
            .await)?;
        Ok(count)
    }

    /// Marks one message (or, with `None`, every message) read; how many changed.
    pub async fn mark_inbox_read(
        &self,
        brand: BrandId,
        customer: CustomerId,
        message: Option<InboxMessageId>,
        now_ms: i64,
    ) -> Result<u64> {
        let mut tx = self.begin().await?;
        let changed = match message {
            Some(id) => on_tx!(&mut tx, |c| sqlx::query(MARK_READ)
                .bind(brand.as_uuid())
                .bind(customer.as_uuid())
                .bind(id.as_uuid())
                .bind(now_ms)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?,
            None => on_tx!(&mut tx, |c| sqlx::query(MARK_ALL_READ)
                .bind(brand.as_uuid())
                .bind(customer.as_uuid())
                .bind(now_ms)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?,
        };
        tx.commit().await?;
        Ok(changed)
    }

    /// Records the templates a diner accepted: one grant (one send) each.
    pub async fn record_subscribe_grants(
        &self,
        brand: BrandId,
        customer: CustomerId,
        grants: &[NewGrant],
        openid: &SealedPii,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        for grant in grants {
            on_tx!(&mut tx, |c| sqlx::query(INSERT_GRANT)
                .bind(SubscribeGrantId::new().as_uuid())
                .bind(brand.as_uuid())
                .bind(customer.as_uuid())
                .bind(grant.kind.as_str())
                .bind(grant.template_id.as_str())
                .bind(openid.as_bytes())
                .bind(now_ms)
                .execute(&mut *c)
                .await
                .map(drop))?;
        }
        tx.commit().await
    }

    /// Unspent grants per kind.
    pub async fn available_grants(
        &self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<(NotificationKind, i64)>> {
        let rows: Vec<(String, i64)> = on_pool!(self, |p| sqlx::query_as(AVAILABLE_GRANTS)
            .bind(brand.as_uuid())
            .bind(customer.as_uuid())
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .filter_map(|(kind, n)| NotificationKind::parse(&kind).map(|k| (k, n)))
            .collect())
    }

    /// Claims the send of `source` to `customer` on `channel`. WeChat sends (`grant_kind`) also
    /// spend one of the diner's grants in the same transaction, or find none and write nothing.
    /// A claim older than `stale_ms` belongs to a worker that died mid-send: it is taken over
    /// (the send may then reach the diner twice; losing it is worse).
    pub async fn claim_delivery(
        &self,
        source: &str,
        customer: CustomerId,
        channel: NotifyChannel,
        grant_kind: Option<NotificationKind>,
        now_ms: i64,
        stale_ms: i64,
    ) -> Result<DeliveryClaim> {
        let mut tx = self.begin().await?;
        let fresh: Option<(i64,)> = on_tx!(&mut tx, |c| sqlx::query_as(CLAIM_DELIVERY)
            .bind(source)
            .bind(customer.as_uuid())
            .bind(channel.as_str())
            .bind(now_ms)
            .fetch_optional(&mut *c)
            .await)?;
        let mut grant = None;
        if fresh.is_none() {
            let sql = format!("{SELECT_DELIVERY}{}", for_update(&tx));
            let (state, started_at_ms, grant_id): (String, i64, Option<Uuid>) = on_tx!(
                &mut tx,
                |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(source)
                    .bind(customer.as_uuid())
                    .bind(channel.as_str())
                    .fetch_one(&mut *c)
                    .await
            )?;
            if state != "sending" {
                tx.rollback().await?;
                return Ok(DeliveryClaim::Done {
                    sent: state == "sent",
                });
            }
            if started_at_ms > now_ms - stale_ms {
                tx.rollback().await?;
                return Ok(DeliveryClaim::InFlight);
            }
            on_tx!(&mut tx, |c| sqlx::query(RETAKE_DELIVERY)
                .bind(source)
                .bind(customer.as_uuid())
                .bind(channel.as_str())
                .bind(now_ms)
                .execute(&mut *c)
                .await
                .map(drop))?;
            if let Some(id) = grant_id {
                let (id, template_id, openid): (Uuid, String, Vec<u8>) =
                    on_tx!(&mut tx, |c| sqlx::query_as(SELECT_GRANT)
                        .bind(id)
                        .fetch_one(&mut *c)
                        .await)?;
                grant = Some(ClaimedGrant {
                    id: SubscribeGrantId::from_uuid(id),
                    template_id,
                    openid: SealedPii::from_bytes(openid),
                });
            }
        }
        if let (Some(kind), None) = (grant_kind, &grant) {
            let sql = format!("{NEXT_GRANT}{}", skip_locked(&tx));
            let next: Option<(Uuid, String, Vec<u8>)> = on_tx!(&mut tx, |c| sqlx::query_as(
                sqlx::AssertSqlSafe(sql.as_str())
            )
            .bind(customer.as_uuid())
            .bind(kind.as_str())
            .fetch_optional(&mut *c)
            .await)?;
            let Some((id, template_id, openid)) = next else {
                tx.rollback().await?;
                return Ok(DeliveryClaim::NoGrant);
            };
            on_tx!(&mut tx, |c| sqlx::query(SPEND_GRANT)
                .bind(id)
                .bind(now_ms)
                .execute(&mut *c)
                .await
                .map(drop))?;
            on_tx!(&mut tx, |c| sqlx::query(LINK_GRANT)
                .bind(source)
                .bind(customer.as_uuid())
                .bind(channel.as_str())
                .bind(id)
                .execute(&mut *c)
                .await
                .map(drop))?;
            grant = Some(ClaimedGrant {
                id: SubscribeGrantId::from_uuid(id),
                template_id,
                openid: SealedPii::from_bytes(openid),
            });
        }
        tx.commit().await?;
        Ok(DeliveryClaim::Claimed { grant })
    }

    /// Records how a claimed send ended. A refused WeChat send marks its grant refused.
    pub async fn settle_delivery(
        &self,
        source: &str,
        customer: CustomerId,
        channel: NotifyChannel,
        outcome: SendOutcome,
        error: Option<&str>,
        now_ms: i64,
    ) -> Result<()> {
        let state = match outcome {
            SendOutcome::Sent => "sent",
            SendOutcome::Refused => "refused",
            SendOutcome::Failed => "failed",
        };
        let error = error.map(|e| e.chars().take(300).collect::<String>());
        let mut tx = self.begin().await?;
        let grant: Option<(Option<Uuid>,)> = on_tx!(&mut tx, |c| sqlx::query_as(SETTLE_DELIVERY)
            .bind(source)
            .bind(customer.as_uuid())
            .bind(channel.as_str())
            .bind(state)
            .bind(now_ms)
            .bind(error.as_deref())
            .fetch_optional(&mut *c)
            .await)?;
        if let (SendOutcome::Refused, Some((Some(id),))) = (outcome, grant) {
            on_tx!(&mut tx, |c| sqlx::query(REFUSE_GRANT)
                .bind(id)
                .execute(&mut *c)
                .await
                .map(drop))?;
        }
        tx.commit().await
    }

    /// Gives up a claimed send that failed for now: the claim goes and its grant is available
    /// again, so the retry finds both as they were.
    pub async fn release_delivery(
        &self,
        source: &str,
        customer: CustomerId,
        channel: NotifyChannel,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let grant: Option<(Option<Uuid>,)> = on_tx!(&mut tx, |c| sqlx::query_as(DROP_DELIVERY)
            .bind(source)
            .bind(customer.as_uuid())
            .bind(channel.as_str())
            .fetch_optional(&mut *c)
            .await)?;
        if let Some((Some(id),)) = grant {
            on_tx!(&mut tx, |c| sqlx::query(RETURN_GRANT)
                .bind(id)
                .execute(&mut *c)
                .await
                .map(drop))?;
        }
        tx.commit().await
    }

    pub async fn create_campaign(
        &self,
        id: CampaignId,
        brand: BrandId,
        content: &CampaignContent,
        created_by: &str,
        now_ms: i64,
    ) -> Result<Campaign> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_CAMPAIGN)
            .bind(id.as_uuid())
            .bind(brand.as_uuid())
            .bind(content.title.as_str())
            .bind(content.body.as_str())
            .bind(content.audience.as_str())
            .bind(content.audience.days())
            .bind(created_by)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await?;
        self.campaign(brand, id).await
    }

    pub async fn campaign(&self, brand: BrandId, id: CampaignId) -> Result<Campaign> {
        let sql =
            format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE brand_id = $1 AND id = $2");
        let row: Option<CampaignRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(brand.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(p)
                .await)?;
        campaign_from(row.ok_or(StorageError::NotFound)?)
    }

    /// The brand's campaigns, newest first.
    pub async fn campaigns(&self, brand: BrandId, limit: i64) -> Result<Vec<Campaign>> {
        let sql = format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE brand_id = $1 ORDER BY created_at_ms DESC, id DESC LIMIT $2"
        );
        let rows: Vec<CampaignRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(brand.as_uuid())
                .bind(limit)
                .fetch_all(p)
                .await)?;
        rows.into_iter().map(campaign_from).collect()
    }

    /// How many diners `audience` holds at `now_ms`.
    pub async fn count_audience(
        &self,
        brand: BrandId,
        audience: Audience,
        now_ms: i64,
    ) -> Result<i64> {
        let (count,): (i64,) = on_pool!(self, |p| sqlx::query_as(COUNT_AUDIENCE)
            .bind(brand.as_uuid())
            .bind(now_ms)
            .bind(audience.since_ms(now_ms))
            .fetch_one(p)
            .await)?;
        Ok(count)
    }

    /// Starts sending a draft: its audience is fixed as of `now_ms`. `None` if it was no draft.
    pub async fn start_campaign(
        &self,
        brand: BrandId,
        id: CampaignId,
        bucket_milli: i64,
        now_ms: i64,
    ) -> Result<Option<Campaign>> {
        let campaign = self.campaign(brand, id).await?;
        let mut tx = self.begin().await?;
        let (count,): (i64,) = on_tx!(&mut tx, |c| sqlx::query_as(COUNT_AUDIENCE)
            .bind(brand.as_uuid())
            .bind(now_ms)
            .bind(campaign.content.audience.since_ms(now_ms))
            .fetch_one(&mut *c)
            .await)?;
        let started = on_tx!(&mut tx, |c| sqlx::query(START_CAMPAIGN)
            .bind(brand.as_uuid())
            .bind(id.as_uuid())
            .bind(now_ms)
            .bind(count)
            .bind(bucket_milli)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected() == 1))?;
        if !started {
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        self.outbox_bell().notify_one();
        self.campaign(brand, id).await.map(Some)
    }

    /// Leases one campaign that is sending and that no worker holds, for `lease_ms`.
    pub async fn lease_sending_campaign(
        &self,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Campaign>> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE state = 'sending' AND (leased_until_ms IS NULL OR leased_until_ms <= $1)
             ORDER BY started_at_ms, id LIMIT 1{}",
            skip_locked(&tx)
        );
        let row: Option<CampaignRow> = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(now_ms)
        .fetch_optional(&mut *c)
        .await)?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let campaign = campaign_from(row)?;
        on_tx!(&mut tx, |c| sqlx::query(LEASE_CAMPAIGN)
            .bind(campaign.id.as_uuid())
            .bind(now_ms + lease_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await?;
        Ok(Some(campaign))
    }

    pub async fn release_campaign(&self, id: CampaignId) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(RELEASE_CAMPAIGN)
            .bind(id.as_uuid())
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await
    }

    /// The next `limit` diners of a sending campaign's audience after its cursor.
    pub async fn audience_after(
        &self,
        campaign: &Campaign,
        limit: i64,
    ) -> Result<Vec<AudienceMember>> {
        let at = campaign.started_at_ms.unwrap_or(campaign.created_at_ms);
        let rows: Vec<(Uuid, Option<String>, Option<bool>)> =
            on_pool!(self, |p| sqlx::query_as(AUDIENCE_AFTER)
                .bind(campaign.brand_id.as_uuid())
                .bind(at)
                .bind(campaign.cursor.map(|c| c.as_uuid()))
                .bind(campaign.content.audience.since_ms(at))
                .bind(limit)
                .fetch_all(p)
                .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, opted_out, sms_off)| AudienceMember {
                customer_id: CustomerId::from_uuid(id),
                preferences: preferences_from(
                    opted_out.as_deref().unwrap_or(""),
                    sms_off.unwrap_or(false),
                ),
            })
            .collect())
    }

    /// Commits one batch: its inbox messages, the cursor past its last diner, the counts and
    /// the bucket, in one transaction, only if the cursor is still where the batch began.
    /// Returns whether it applied (another worker's batch may have got there first).
    pub async fn commit_campaign_batch(
        &self,
        campaign: CampaignId,
        batch: &CampaignBatch,
        now_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT cursor FROM campaigns WHERE id = $1{}",
            for_update(&tx)
        );
        let _: Option<(Option<Uuid>,)> = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(campaign.as_uuid())
        .fetch_optional(&mut *c)
        .await)?;
        let delivered = insert_inbox_in(&mut tx, &batch.inbox, now_ms).await?;
        let (state, finished_at) = if batch.finished {
            (CampaignState::Finished, Some(now_ms))
        } else {
            (CampaignState::Sending, None)
        };
        let applied = on_tx!(&mut tx, |c| sqlx::query(ADVANCE_CAMPAIGN)
            .bind(campaign.as_uuid())
            .bind(batch.after.map(|c| c.as_uuid()))
            .bind(batch.last.as_uuid())
            .bind(batch.reached)
            .bind(delivered)
            .bind(batch.bucket_milli)
            .bind(batch.bucket_at_ms)
            .bind(state.as_str())
            .bind(finished_at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected() == 1))?;
        if applied {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(applied)
    }

    /// Finishes a sending campaign with nobody left after its cursor.
    pub async fn finish_campaign(&self, campaign: CampaignId, now_ms: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(FINISH_EMPTY)
            .bind(campaign.as_uuid())
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await
    }
}

/// The refund notice of a refund that just succeeded, written in its transaction, for an
/// order with a signed-in diner.
pub(crate) async fn refund_notice_in(tx: &mut Tx, out_refund_no: &str, now_ms: i64) -> Result<()> {
    let sql = format!(
        "SELECT {} FROM orders WHERE id = (SELECT order_id FROM refunds WHERE out_refund_no = $1)",
        crate::ordering::ORDER_COLUMNS
    );
    let row: Option<crate::ordering::OrderRow> =
        on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(out_refund_no)
            .fetch_optional(&mut *c)
            .await)?;
    let Some(row) = row else { return Ok(()) };
    let order = ordering::Order::try_from(row)?;
    let Some(customer) = order.customer_id else {
        return Ok(());
    };
    let (amount,): (i64,) = on_tx!(tx, |c| sqlx::query_as(
        "SELECT amount_fen FROM refunds WHERE out_refund_no = $1"
    )
    .bind(out_refund_no)
    .fetch_one(&mut *c)
    .await)?;
    let mut notice = order_notice(
        &order,
        NotificationKind::Refunded,
        Some(Money::from_fen(amount)),
    );
    notice.at_ms = now_ms;
    let mut entry = notice_entry(&order, customer, notice);
    // One message per refund, not per order: an order refunded twice tells the diner twice.
    entry.subject = Some(format!("refund:{out_refund_no}"));
    crate::outbox::enqueue(tx, &[entry], now_ms).await
}
