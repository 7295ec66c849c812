//! Membership: joining once however many first sign-ins race; a points entry repeated (a
//! redelivered event) or raced writes once; a redemption above the balance changes nothing;
//! the member row is always its ledger folded; 20 concurrent notifications of one recharge
//! credit its amount and bonus once; members are found by phone through the blind index.

use crate::ordering::{Menu, menu_with_stock, new_order, place};
use crate::{NOW_MS, both, brand_with_store};
use diancan_domain::balance::{EntryKind, replay as replay_balance};
use diancan_domain::customer::{BlindIndex, SealedPii};
use diancan_domain::membership::Programme;
use diancan_domain::membership::points::{PointsKind, PointsRefusal, reference, replay};
use diancan_domain::membership::recharge::{Recharge, RechargeState, RechargeTier, RechargeTiers};
use diancan_domain::ordering::{Actor, Order, OrderAction, OrderCommand};
use diancan_domain::payments::{ArrivedMoney, PaymentProvider};
use diancan_domain::*;
use diancan_storage::Db;
use diancan_storage::membership::{NewPoints, PointsPosted, RechargeOutcome};
use std::sync::Arc;

async fn diner(db: &Db, brand: BrandId) -> CustomerId {
    db.customer_by_wechat_or_create(
        brand,
        &BlindIndex::from_bytes(uuid::Uuid::now_v7().as_bytes().to_vec()),
        "会员",
        NOW_MS,
    )
    .await
    .unwrap()
    .id
}

fn earn(order: OrderId, points: i64) -> NewPoints {
    NewPoints {
        kind: PointsKind::Earn,
        points,
        growth: points,
        expires_at_ms: Some(NOW_MS + 1_000),
        lot: None,
        reference: reference::order(order),
        order_id: None,
        reason: "消费得积分".into(),
        actor: "system".into(),
    }
}

fn redeem(points: i64, key: &str) -> NewPoints {
    NewPoints {
        kind: PointsKind::Redeem,
        points: -points,
        growth: 0,
        expires_at_ms: None,
        lot: None,
        reference: format!("redeem:{key}"),
        order_id: None,
        reason: "兑换".into(),
        actor: "diner".into(),
    }
}

/// The member's row is the ledger folded, and never negative.
async fn folded(db: &Db, brand: BrandId, customer: CustomerId) -> (i64, i64) {
    let member = db.member(brand, customer).await.unwrap().unwrap();
    let mut entries = db.points_entries(member.id, None, 1_000).await.unwrap();
    entries.reverse();
    let account = replay(&entries).unwrap();
    assert_eq!(account.balance, member.points);
    assert_eq!(entries.iter().map(|e| e.growth).sum::<i64>(), member.growth);
    assert!(member.points >= 0);
    (member.points, member.growth)
}

async fn first_sign_ins_racing_join_once(db: &Db) {
    let (brand, _) = brand_with_store(db, "join").await;
    let customer = diner(db, brand.id).await;
    let joins = (0..10).map(|_| db.join_membership(brand.id, customer, NOW_MS));
    let joined = futures::future::join_all(joins).await;
    assert_eq!(joined.iter().filter(|j| *j.as_ref().unwrap()).count(), 1);
    let member = db.member(brand.id, customer).await.unwrap().unwrap();
    assert_eq!((member.points, member.growth), (0, 0));
    assert!(
        !db.join_membership(brand.id, customer, NOW_MS)
            .await
            .unwrap()
    );
}
both!(race first_sign_ins_racing_join_once);

async fn an_order_redelivered_or_raced_earns_once(db: &Db) {
    let (brand, _) = brand_with_store(db, "earn").await;
    let customer = diner(db, brand.id).await;
    let order = OrderId::new();
    let posts =
        (0..20).map(|_| db.post_points(brand.id, customer, |_| vec![earn(order, 120)], NOW_MS));
    let outcomes = futures::future::join_all(posts).await;
    let written = outcomes
        .iter()
        .filter(|o| matches!(o.as_ref().unwrap().posted, PointsPosted::Written(_)))
        .count();
    assert_eq!(written, 1, "{outcomes:?}");
    // Delivered again later: a repeat.
    let again = db
        .post_points(brand.id, customer, |_| vec![earn(order, 120)], NOW_MS + 5)
        .await
        .unwrap();
    assert_eq!(again.posted, PointsPosted::Repeat);
    assert_eq!(folded(db, brand.id, customer).await, (120, 120));
}
both!(race an_order_redelivered_or_raced_earns_once);

async fn a_redemption_above_the_balance_changes_nothing(db: &Db) {
    let (brand, _) = brand_with_store(db, "redeem").await;
    let customer = diner(db, brand.id).await;
    db.post_points(
        brand.id,
        customer,
        |_| vec![earn(OrderId::new(), 100)],
        NOW_MS,
    )
    .await
    .unwrap();
    let refused = db
        .post_points(brand.id, customer, |_| vec![redeem(101, "a")], NOW_MS)
        .await
        .unwrap();
    assert_eq!(
        refused.posted,
        PointsPosted::Refused(PointsRefusal::Insufficient { available: 100 })
    );
    // A batch is all or nothing: the first entry fits, the second does not.
    let batch = db
        .post_points(
            brand.id,
            customer,
            |_| vec![redeem(60, "b"), redeem(60, "c")],
            NOW_MS,
        )
        .await
        .unwrap();
    assert!(matches!(batch.posted, PointsPosted::Refused(_)));
    assert_eq!(folded(db, brand.id, customer).await, (100, 100));

    // Twenty redemptions of 10 race for 100 points: ten succeed, and the balance is zero.
    let races = (0..20).map(|n| {
        db.post_points(
            brand.id,
            customer,
            move |_| vec![redeem(10, &format!("race-{n}"))],
            NOW_MS,
        )
    });
    let outcomes = futures::future::join_all(races).await;
    let written = outcomes
        .iter()
        .filter(|o| matches!(o.as_ref().unwrap().posted, PointsPosted::Written(_)))
        .count();
    assert_eq!(written, 10);
    assert_eq!(folded(db, brand.id, customer).await, (0, 100));
}
both!(race a_redemption_above_the_balance_changes_nothing);

async fn expired_lots_are_found_and_ended_once(db: &Db) {
    let (brand, _) = brand_with_store(db, "expire").await;
    let customer = diner(db, brand.id).await;
    db.post_points(
        brand.id,
        customer,
        |_| vec![earn(OrderId::new(), 50)],
        NOW_MS,
    )
    .await
    .unwrap();
    assert!(
        db.members_with_expiry_due(NOW_MS, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = db
        .members_with_expiry_due(NOW_MS + 1_000, 10)
        .await
        .unwrap();
    assert_eq!(due, vec![(brand.id, customer)]);
    let expire = |ledger: &diancan_storage::membership::Ledger| -> Vec<NewPoints> {
        ledger
            .account
            .due_expiries(NOW_MS + 1_000)
            .into_iter()
            .map(|(lot, left)| NewPoints {
                kind: PointsKind::Expire,
                points: -left,
                growth: 0,
                expires_at_ms: None,
                lot: Some(lot),
                reference: reference::expire(lot),
                order_id: None,
                reason: "积分过期".into(),
                actor: "system".into(),
            })
            .collect()
    };
    let first = db
        .post_points(brand.id, customer, expire, NOW_MS + 1_000)
        .await
        .unwrap();
    assert!(matches!(first.posted, PointsPosted::Written(ref e) if e.len() == 1));
    let second = db
        .post_points(brand.id, customer, expire, NOW_MS + 1_000)
        .await
        .unwrap();
    assert_eq!(second.posted, PointsPosted::Repeat);
    assert!(
        db.members_with_expiry_due(NOW_MS + 1_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(folded(db, brand.id, customer).await, (0, 50));
}
both!(expired_lots_are_found_and_ended_once);

async fn twenty_notifications_of_one_recharge_credit_it_once(db: &Db) {
    let (brand, _) = brand_with_store(db, "recharge").await;
    let customer = diner(db, brand.id).await;
    let recharge = Recharge::start(
        brand.id,
        customer,
        PaymentProvider::WechatPay,
        "h5",
        Money::from_yuan(100),
        Money::from_yuan(20),
        NOW_MS,
    );
    db.create_recharge(&recharge).await.unwrap();
    let arrived = ArrivedMoney {
        provider: PaymentProvider::WechatPay,
        out_trade_no: recharge.out_trade_no.clone(),
        transaction_id: "4200000100".into(),
        amount_fen: 10_000,
        paid_at_ms: NOW_MS + 1,
    };
    let reports = (0..20).map(|_| db.settle_recharge(&arrived, NOW_MS + 2));
    let outcomes = futures::future::join_all(reports).await;
    let credited = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(RechargeOutcome::Credited { .. })))
        .count();
    let repeats = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(RechargeOutcome::AlreadySettled { .. })))
        .count();
    assert_eq!((credited, repeats), (1, 19), "{outcomes:?}");
    let account = db
        .balance_account(brand.id, customer)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.balance, Money::from_yuan(120));
    let mut entries = db.balance_entries(account.id, None, 100).await.unwrap();
    entries.reverse();
    assert_eq!(
        entries
            .iter()
            .map(|e| (e.kind, e.amount))
            .collect::<Vec<_>>(),
        vec![
            (EntryKind::Recharge, Money::from_yuan(100)),
            (EntryKind::Bonus, Money::from_yuan(20))
        ]
    );
    assert_eq!(
        replay_balance(brand.id, customer, &entries),
        Ok((account.balance, account.held))
    );
    let stored = db
        .recharge_by_trade_no(&recharge.out_trade_no)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.state, RechargeState::Paid);
    assert!(!db.close_recharge(recharge.id, NOW_MS + 3).await.unwrap());

    // Money that is not what was asked for is set aside and credits nothing.
    let other = Recharge::start(
        brand.id,
        customer,
        PaymentProvider::Alipay,
        "wap",
        Money::from_yuan(50),
        Money::ZERO,
        NOW_MS,
    );
    db.create_recharge(&other).await.unwrap();
    let short = ArrivedMoney {
        provider: PaymentProvider::Alipay,
        out_trade_no: other.out_trade_no.clone(),
        transaction_id: "2026120722001".into(),
        amount_fen: 1,
        paid_at_ms: NOW_MS + 1,
    };
    let flagged = db.settle_recharge(&short, NOW_MS + 2).await.unwrap();
    assert!(matches!(
        flagged,
        RechargeOutcome::Flagged {
            reason: "amount",
            ..
        }
    ));
    let account = db
        .balance_account(brand.id, customer)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.balance, Money::from_yuan(120));
    // The day's reconciliation sees both: the one paid, and the one set aside.
    let day = |provider, names: &[String]| {
        let names = names.to_vec();
        async move {
            db.books_for_reconciliation(&diancan_storage::reconciliation::DayWindow {
                provider,
                from_ms: NOW_MS,
                to_ms: NOW_MS + 10,
                out_trade_nos: &names,
                out_refund_nos: &[],
            })
            .await
            .unwrap()
        }
    };
    let wechat = day(PaymentProvider::WechatPay, &[]).await;
    assert_eq!(wechat.booked_recharges.len(), 1);
    assert_eq!(wechat.booked_recharges[0].id, recharge.id);
    let alipay = day(
        PaymentProvider::Alipay,
        std::slice::from_ref(&other.out_trade_no),
    )
    .await;
    assert_eq!(alipay.booked_recharges.len(), 1, "flagged in the window");
    assert_eq!(alipay.named_recharges.len(), 1);
    let unknown = ArrivedMoney {
        out_trade_no: "0".repeat(32),
        ..short
    };
    assert!(matches!(
        db.settle_recharge(&unknown, NOW_MS).await,
        Err(diancan_storage::StorageError::NotFound)
    ));
}
both!(race twenty_notifications_of_one_recharge_credit_it_once);

async fn a_programme_is_kept_and_members_are_found_by_phone(db: &Db) {
    let (brand, _) = brand_with_store(db, "programme").await;
    assert_eq!(
        db.membership_programme(brand.id).await.unwrap(),
        Programme::standard()
    );
    let mut programme = Programme::standard();
    programme.points_per_yuan = 2;
    programme.member_day = Some(diancan_domain::membership::MemberDay::parse(3, 2).unwrap());
    programme.recharge_tiers = RechargeTiers::parse(&[RechargeTier {
        pay_fen: Money::from_yuan(100),
        bonus_fen: Money::from_yuan(20),
    }])
    .unwrap();
    db.save_membership_programme(brand.id, &programme, NOW_MS)
        .await
        .unwrap();
    assert_eq!(db.membership_programme(brand.id).await.unwrap(), programme);

    let index = BlindIndex::from_bytes(vec![7; 32]);
    let phone_diner = db
        .customer_by_phone_or_create(
            brand.id,
            &index,
            &SealedPii::from_bytes(vec![1, 2, 3]),
            "顾客",
            NOW_MS,
        )
        .await
        .unwrap();
    let other = diner(db, brand.id).await;
    for customer in [phone_diner.id, other] {
        db.join_membership(brand.id, customer, NOW_MS)
            .await
            .unwrap();
    }
    let all = db.members(brand.id, None, None, 10).await.unwrap();
    assert_eq!(all.len(), 2);
    let found = db.members(brand.id, Some(&index), None, 10).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].customer.id, phone_diner.id);
    let (other_brand, _) = brand_with_store(db, "programme-other").await;
    assert!(
        db.members(other_brand.id, None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let birthday = diancan_domain::membership::Birthday::parse(12, 7).unwrap();
    assert!(
        db.set_member_birthday(brand.id, other, birthday, NOW_MS)
            .await
            .unwrap()
    );
    assert!(
        !db.set_member_birthday(brand.id, other, birthday, NOW_MS)
            .await
            .unwrap()
    );
    let member = db.member(brand.id, other).await.unwrap().unwrap();
    assert_eq!(member.birthday, Some(birthday));
}
both!(a_programme_is_kept_and_members_are_found_by_phone);

fn pay_order() -> diancan_storage::ordering::Decide {
    Arc::new(|o: &Order| {
        o.decide(
            OrderCommand::Act(OrderAction::Pay),
            &Actor::System("wechat-pay"),
            None,
            NOW_MS + 10,
        )
    })
}

/// A member's order paid writes the outbox row that credits its points, once.
async fn a_members_order_paid_queues_its_points(db: &Db) {
    let menu: Menu = menu_with_stock(db, 10).await;
    let mut start = new_order(menu, "member-paid", 1);
    start.start.status = diancan_domain::ordering::OrderStatus::AwaitingPayment;
    start.start.pay_by_ms = Some(NOW_MS + 15 * 60_000);
    let customer = diner(db, menu.brand).await;
    start.customer_id = Some(customer);
    let order = place(db, start).await;
    let before = db.outbox_counts().await.unwrap();
    db.change_order(diancan_storage::ordering::ChangeRequest {
        order_id: order.id,
        scope: Some((order.brand_id, order.store_id)),
        decide: pay_order(),
        now_ms: NOW_MS + 10,
    })
    .await
    .unwrap();
    let messages = db.claim_outbox(NOW_MS + 20, 30_000, 100).await.unwrap();
    let earn: Vec<_> = messages
        .iter()
        .filter(|m| m.topic == diancan_storage::membership::EARN)
        .collect();
    assert_eq!(earn.len(), 1, "{messages:?}");
    assert!(earn[0].payload_json.contains(&order.id.to_string()));
    assert!(db.outbox_counts().await.unwrap().pending > before.pending);
}
both!(a_members_order_paid_queues_its_points);
