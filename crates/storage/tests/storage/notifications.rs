//! Notifications: racing claims of one send let exactly one sender through; two sends racing
//! for one grant spend it once; a refused send keeps its grant spent and a failed one gives it
//! back; the inbox keeps one message per cause; and of two campaign batches starting at the
//! same cursor only one commits.

use crate::{NOW_MS, both, brand_with_store};
use diancan_domain::customer::{BlindIndex, SealedPii};
use diancan_domain::notifications::*;
use diancan_domain::*;
use diancan_storage::Db;
use diancan_storage::notifications::*;

async fn diner(db: &Db, brand: BrandId) -> CustomerId {
    db.customer_by_wechat_or_create(
        brand,
        &BlindIndex::from_bytes(uuid::Uuid::now_v7().as_bytes().to_vec()),
        "食客",
        NOW_MS,
    )
    .await
    .unwrap()
    .id
}

async fn grant(db: &Db, brand: BrandId, customer: CustomerId, kind: NotificationKind) {
    db.record_subscribe_grants(
        brand,
        customer,
        &[NewGrant {
            kind,
            template_id: "T-ACCEPTED".into(),
        }],
        &SealedPii::from_bytes(b"sealed-openid".to_vec()),
        NOW_MS,
    )
    .await
    .unwrap();
}

async fn racing_claims_of_one_send_let_exactly_one_sender_through(db: &Db) {
    let (brand, _) = brand_with_store(db, "notify-race").await;
    let customer = diner(db, brand.id).await;
    grant(db, brand.id, customer, NotificationKind::OrderAccepted).await;
    grant(db, brand.id, customer, NotificationKind::OrderAccepted).await;
    let claims = futures_join(db, customer, "outbox:1", 16).await;
    let claimed = claims
        .iter()
        .filter(|c| matches!(c, DeliveryClaim::Claimed { grant: Some(_) }))
        .count();
    assert_eq!(claimed, 1, "{claims:?}");
    assert!(
        claims
            .iter()
            .all(|c| matches!(c, DeliveryClaim::Claimed { .. } | DeliveryClaim::InFlight)),
        "{claims:?}"
    );
    // One of the two grants is spent.
    assert_eq!(
        db.available_grants(brand.id, customer).await.unwrap(),
        vec![(NotificationKind::OrderAccepted, 1)]
    );
    db.settle_delivery(
        "outbox:1",
        customer,
        NotifyChannel::Wechat,
        SendOutcome::Sent,
        None,
        NOW_MS + 1,
    )
    .await
    .unwrap();
    // Delivered again later: settled, nothing more to send and no grant spent.
    let again = db
        .claim_delivery(
            "outbox:1",
            customer,
            NotifyChannel::Wechat,
            Some(NotificationKind::OrderAccepted),
            NOW_MS + 600_000,
            60_000,
        )
        .await
        .unwrap();
    assert_eq!(again, DeliveryClaim::Done { sent: true });
    assert_eq!(
        db.available_grants(brand.id, customer).await.unwrap(),
        vec![(NotificationKind::OrderAccepted, 1)]
    );
}
both!(race racing_claims_of_one_send_let_exactly_one_sender_through);

async fn futures_join(db: &Db, customer: CustomerId, source: &str, n: usize) -> Vec<DeliveryClaim> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let db = db.clone();
            let source = source.to_owned();
            tokio::spawn(async move {
                db.claim_delivery(
                    &source,
                    customer,
                    NotifyChannel::Wechat,
                    Some(NotificationKind::OrderAccepted),
                    NOW_MS,
                    60_000,
                )
                .await
                .unwrap()
            })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

async fn sends_racing_for_one_grant_spend_it_once(db: &Db) {
    let (brand, _) = brand_with_store(db, "notify-grant").await;
    let customer = diner(db, brand.id).await;
    grant(db, brand.id, customer, NotificationKind::OrderAccepted).await;
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.claim_delivery(
                    &format!("outbox:{i}"),
                    customer,
                    NotifyChannel::Wechat,
                    Some(NotificationKind::OrderAccepted),
                    NOW_MS,
                    60_000,
                )
                .await
                .unwrap()
            })
        })
        .collect();
    let mut claimed = 0;
    for task in tasks {
        match task.await.unwrap() {
            DeliveryClaim::Claimed { grant: Some(_) } => claimed += 1,
            DeliveryClaim::NoGrant => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(claimed, 1);
    assert!(
        db.available_grants(brand.id, customer)
            .await
            .unwrap()
            .is_empty()
    );
}
both!(race sends_racing_for_one_grant_spend_it_once);

async fn a_failed_send_gives_its_grant_back_and_a_refused_one_does_not(db: &Db) {
    let (brand, _) = brand_with_store(db, "notify-settle").await;
    let customer = diner(db, brand.id).await;
    grant(db, brand.id, customer, NotificationKind::Refunded).await;
    let claim = |source: &'static str, at: i64| {
        let db = db.clone();
        async move {
            db.claim_delivery(
                source,
                customer,
                NotifyChannel::Wechat,
                Some(NotificationKind::Refunded),
                at,
                60_000,
            )
            .await
            .unwrap()
        }
    };
    assert!(matches!(
        claim("outbox:7", NOW_MS).await,
        DeliveryClaim::Claimed { grant: Some(_) }
    ));
    db.release_delivery("outbox:7", customer, NotifyChannel::Wechat)
        .await
        .unwrap();
    assert_eq!(
        db.available_grants(brand.id, customer).await.unwrap(),
        vec![(NotificationKind::Refunded, 1)]
    );
    // A claim left by a worker that died is taken over once stale, with the grant it held.
    let held = claim("outbox:7", NOW_MS + 1).await;
    assert!(matches!(held, DeliveryClaim::Claimed { grant: Some(_) }));
    assert_eq!(
        claim("outbox:7", NOW_MS + 30_000).await,
        DeliveryClaim::InFlight
    );
    assert_eq!(claim("outbox:7", NOW_MS + 61_002).await, held);
    db.settle_delivery(
        "outbox:7",
        customer,
        NotifyChannel::Wechat,
        SendOutcome::Refused,
        Some("43101"),
        NOW_MS + 61_003,
    )
    .await
    .unwrap();
    assert!(
        db.available_grants(brand.id, customer)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        claim("outbox:7", NOW_MS + 70_000).await,
        DeliveryClaim::Done { sent: false }
    );
    assert_eq!(
        claim("outbox:8", NOW_MS + 70_000).await,
        DeliveryClaim::NoGrant
    );
}
both!(a_failed_send_gives_its_grant_back_and_a_refused_one_does_not);

async fn the_inbox_keeps_one_message_per_cause_and_only_its_diner_reads_it(db: &Db) {
    let (brand, _) = brand_with_store(db, "notify-inbox").await;
    let (other_brand, _) = brand_with_store(db, "notify-inbox-b").await;
    let customer = diner(db, brand.id).await;
    let message = NewInboxMessage {
        brand_id: brand.id,
        customer_id: customer,
        kind: NotificationKind::OrderAccepted,
        source: "outbox:42".into(),
        message: Message {
            title: "商家已接单".into(),
            body: "正在为您准备。".into(),
        },
        order_id: None,
        campaign_id: None,
    };
    assert!(db.deliver_to_inbox(&message, NOW_MS).await.unwrap());
    assert!(!db.deliver_to_inbox(&message, NOW_MS + 5).await.unwrap());
    let inbox = db.inbox(brand.id, customer, None, 10).await.unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(db.unread_count(brand.id, customer).await.unwrap(), 1);
    // Another brand's session names the same diner id: nothing is found or changed.
    assert!(
        db.inbox(other_brand.id, customer, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.mark_inbox_read(other_brand.id, customer, Some(inbox[0].id), NOW_MS)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        db.mark_inbox_read(brand.id, customer, Some(inbox[0].id), NOW_MS)
            .await
            .unwrap(),
        1
    );
    assert_eq!(db.unread_count(brand.id, customer).await.unwrap(), 0);

    let preferences = Preferences {
        opted_out: [NotificationKind::Campaign, NotificationKind::Refunded]
            .into_iter()
            .collect(),
        sms_off: true,
    };
    db.set_notification_preferences(brand.id, customer, &preferences, NOW_MS)
        .await
        .unwrap();
    assert_eq!(
        db.notification_preferences(brand.id, customer)
            .await
            .unwrap(),
        preferences
    );
    assert_eq!(
        db.notification_preferences(other_brand.id, customer)
            .await
            .unwrap(),
        Preferences::default()
    );
}
both!(the_inbox_keeps_one_message_per_cause_and_only_its_diner_reads_it);

async fn of_two_batches_from_one_cursor_only_one_commits(db: &Db) {
    let (brand, _) = brand_with_store(db, "notify-campaign").await;
    let mut diners = Vec::new();
    for _ in 0..4 {
        diners.push(diner(db, brand.id).await);
    }
    let content = CampaignContent::parse("会员日", "八折", Audience::AllMembers).unwrap();
    let campaign = db
        .create_campaign(CampaignId::new(), brand.id, &content, "staff:test", NOW_MS)
        .await
        .unwrap();
    let started = db
        .start_campaign(brand.id, campaign.id, 10_000, NOW_MS + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(started.audience_count, 4);
    assert!(
        db.start_campaign(brand.id, campaign.id, 10_000, NOW_MS + 2)
            .await
            .unwrap()
            .is_none(),
        "a campaign starts once"
    );
    let first = db.audience_after(&started, 2).await.unwrap();
    assert_eq!(
        first.iter().map(|m| m.customer_id).collect::<Vec<_>>(),
        diners[..2]
    );
    let batch = CampaignBatch {
        after: None,
        last: first[1].customer_id,
        reached: 2,
        inbox: first
            .iter()
            .map(|m| NewInboxMessage {
                brand_id: brand.id,
                customer_id: m.customer_id,
                kind: NotificationKind::Campaign,
                source: format!("campaign:{}", campaign.id),
                message: content.message(),
                order_id: None,
                campaign_id: Some(campaign.id),
            })
            .collect(),
        bucket_milli: 8_000,
        bucket_at_ms: NOW_MS + 3,
        finished: false,
    };
    let (a, b) = tokio::join!(
        db.commit_campaign_batch(campaign.id, &batch, NOW_MS + 3),
        db.commit_campaign_batch(campaign.id, &batch, NOW_MS + 3)
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one batch commits");
    let after = db.campaign(brand.id, campaign.id).await.unwrap();
    assert_eq!(after.cursor, Some(diners[1]));
    assert_eq!((after.reached_count, after.delivered_count), (2, 2));
    let rest = db.audience_after(&after, 10).await.unwrap();
    assert_eq!(
        rest.iter().map(|m| m.customer_id).collect::<Vec<_>>(),
        diners[2..]
    );
    // A diner who joins after sending started is not in this campaign's audience.
    db.customer_by_wechat_or_create(
        brand.id,
        &BlindIndex::from_bytes(uuid::Uuid::now_v7().as_bytes().to_vec()),
        "新会员",
        NOW_MS + 10,
    )
    .await
    .unwrap();
    assert_eq!(db.audience_after(&after, 10).await.unwrap().len(), 2);
}
both!(race of_two_batches_from_one_cursor_only_one_commits);
