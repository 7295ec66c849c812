//! Delivering the outbox: lease the due rows, hand each to the consumer of its topic, record
//! what happened. At least once: a row is marked delivered only after its consumer succeeded,
//! so a process that dies in between delivers it again after restart, and consumers deduplicate
//! by the row's id (live streams by their version; announcements are idempotent anyway).

use crate::context::Context;
use diancan_storage::StorageError;
use diancan_storage::events::ANNOUNCE;
use diancan_storage::outbox::OutboxMessage;

/// Rows leased per round.
const BATCH: i64 = 512;
/// A worker that dies holding rows gives them up after this long.
const LEASE_MS: i64 = 30_000;
/// Retry backoff: 1 s, 2 s, 4 s … capped at five minutes, plus up to 20 % jitter.
const MAX_BACKOFF_MS: i64 = 5 * 60_000;

/// What one round delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    pub delivered: usize,
    pub failed: usize,
}

/// Delivers every due row once (one lease, one settlement). Returns how many were handled.
pub async fn deliver_due(ctx: &Context) -> Result<Delivered, StorageError> {
    let now = ctx.clock.now_ms();
    let messages = ctx.db.claim_outbox(now, LEASE_MS, BATCH).await?;
    if messages.is_empty() {
        return Ok(Delivered::default());
    }
    let mut outcomes = Vec::with_capacity(messages.len());
    // Announcements are sent together: one NOTIFY round trip for the whole round.
    let (announcements, others): (Vec<&OutboxMessage>, Vec<&OutboxMessage>) =
        messages.iter().partition(|m| m.topic == ANNOUNCE);
    // Board entries too: one transaction appends the whole round to the stores' logs.
    let (boards, others): (Vec<&OutboxMessage>, Vec<&OutboxMessage>) = others
        .into_iter()
        .partition(|m| m.topic == crate::board::BOARD_TOPIC);
    if !announcements.is_empty() {
        let result = announce(ctx, &announcements).await;
        for message in &announcements {
            outcomes.push((
                message.id,
                result.clone().map_err(|e| retry(message, now, e)),
            ));
        }
    }
    for (message, outcome) in crate::board::deliver(ctx, &boards).await {
        outcomes.push((message.id, outcome.map_err(|e| retry(message, now, e))));
    }
    for message in others {
        let outcome = match message.topic.as_str() {
            crate::payments::SETTLE => settle(ctx, message).await,
            diancan_storage::refunds::REFUND => refund(ctx, message).await,
            diancan_storage::refunds::REFUND_ORDER => refund_order(ctx, message).await,
            diancan_storage::membership::EARN => member_earn(ctx, message).await,
            diancan_storage::membership::REVERSE => member_reverse(ctx, message).await,
            // Jobs were committed: the print worker looks now rather than within the second.
            diancan_storage::notifications::NOTIFY => {
                crate::notify::deliver_notice(ctx, message).await
            }
            crate::printing::PRINT => {
                crate::printing::ring();
                Ok(())
            }
            // A topic no consumer of this version knows (a newer instance wrote it): leave it
            // for one that does, and say so.
            topic => Err(format!("no consumer for topic {topic:?}")),
        };
        outcomes.push((message.id, outcome.map_err(|e| retry(message, now, e))));
    }
    let failed = outcomes.iter().filter(|(_, o)| o.is_err()).count();
    ctx.db.settle_outbox(&outcomes, ctx.clock.now_ms()).await?;
    Ok(Delivered {
        delivered: outcomes.len() - failed,
        failed,
    })
}

/// Applies a stored report of arrived money; settling is idempotent, so a redelivery is safe.
/// A report for no payment of ours cannot succeed by retrying: it is logged and dropped.
async fn settle(ctx: &Context, message: &OutboxMessage) -> Result<(), String> {
    let arrived: diancan_domain::payments::ArrivedMoney =
        match serde_json::from_str(&message.payload_json) {
            Ok(arrived) => arrived,
            Err(error) => {
                tracing::error!(%error, id = message.id, "unreadable settlement; dropped");
                return Ok(());
            }
        };
    match crate::payments::settle_reported(ctx, &arrived).await {
        Ok(_) => Ok(()),
        // Not an order's payment: a member's recharge, or nobody's.
        Err(crate::error::Error::NotFound) => recharge(ctx, &arrived).await,
        Err(error) => Err(error.to_string()),
    }
}

/// Applies arrived money to the recharge it is for; money for no recharge either is logged
/// and dropped (reconciliation finds it).
async fn recharge(
    ctx: &Context,
    arrived: &diancan_domain::payments::ArrivedMoney,
) -> Result<(), String> {
    match crate::membership::settle_recharge_reported(ctx, arrived).await {
        Ok(_) => Ok(()),
        Err(crate::error::Error::NotFound) => {
            tracing::error!(out_trade_no = %arrived.out_trade_no, provider = arrived.provider.as_str(),
                "money reported for no payment of ours; set aside for reconciliation");
            Ok(())
        }
        Err(error) => Err(error.to_string()),
    }
}

/// Asks a refund's gateway for it; a refund that no longer exists is logged and dropped.
async fn refund(ctx: &Context, message: &OutboxMessage) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Ask {
        out_refund_no: String,
    }
    let Ok(ask) = serde_json::from_str::<Ask>(&message.payload_json) else {
        tracing::error!(id = message.id, "unreadable refund; dropped");
        return Ok(());
    };
    match crate::payments::ask_gateway_for_refund(ctx, &ask.out_refund_no).await {
        Ok(_) => Ok(()),
        Err(crate::error::Error::NotFound) => {
            tracing::error!(out_refund_no = %ask.out_refund_no, "refund of no payment of ours; dropped");
            Ok(())
        }
        Err(error) => Err(error.to_string()),
    }
}

/// Refunds a cancelled order's payments.
async fn refund_order(ctx: &Context, message: &OutboxMessage) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Cancelled {
        order_id: diancan_domain::OrderId,
    }
    let Ok(cancelled) = serde_json::from_str::<Cancelled>(&message.payload_json) else {
        tracing::error!(id = message.id, "unreadable refund_order; dropped");
        return Ok(());
    };
    crate::payments::refund_cancelled_order(ctx, cancelled.order_id)
        .await
        .map(drop)
        .map_err(|error| error.to_string())
}

/// Credits a member's paid order with its points: once per order, however often delivered.
async fn member_earn(ctx: &Context, message: &OutboxMessage) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Paid {
        order_id: diancan_domain::OrderId,
    }
    let Ok(paid) = serde_json::from_str::<Paid>(&message.payload_json) else {
        tracing::error!(id = message.id, "unreadable member_earn; dropped");
        return Ok(());
    };
    crate::membership::earn_for_order(ctx, paid.order_id)
        .await
        .map(drop)
        .map_err(|error| error.to_string())
}

/// Takes back a refunded order's points in proportion: each refund once.
async fn member_reverse(ctx: &Context, message: &OutboxMessage) -> Result<(), String> {
    let Ok(reversal) =
        serde_json::from_str::<diancan_storage::membership::Reversal>(&message.payload_json)
    else {
        tracing::error!(id = message.id, "unreadable member_reverse; dropped");
        return Ok(());
    };
    crate::membership::reverse_for_refund(ctx, &reversal)
        .await
        .map(drop)
        .map_err(|error| error.to_string())
}

async fn announce(ctx: &Context, messages: &[&OutboxMessage]) -> Result<(), String> {
    let mut names: Vec<String> = Vec::new();
    for message in messages {
        #[derive(serde::Deserialize)]
        struct Announcement {
            names: Vec<String>,
        }
        match serde_json::from_str::<Announcement>(&message.payload_json) {
            Ok(a) => names.extend(a.names),
            // A row that cannot be read fails alone, loudly; it never blocks the others.
            Err(error) => {
                tracing::error!(%error, id = message.id, subject = ?message.subject, "unreadable announcement")
            }
        }
    }
    names.sort();
    names.dedup();
    ctx.hub.announce(&names).await.map_err(|e| e.to_string())
}

/// When a failed row is due again, logged with what it was about.
fn retry(message: &OutboxMessage, now_ms: i64, error: String) -> (i64, String) {
    tracing::warn!(id = message.id, topic = %message.topic, subject = ?message.subject,
        attempt = message.attempt, %error, "outbox delivery failed; will retry");
    let backoff = (1_000_i64 << message.attempt.clamp(0, 20)).min(MAX_BACKOFF_MS);
    let jitter = rand::random_range(0..=backoff / 5);
    (now_ms + backoff + jitter, error)
}
