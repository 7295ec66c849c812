//! Stored value: holds racing for one balance take only what it has; a combined payment's hold
//! is captured with its settlement exactly once, however often the money is reported, and
//! released when its payment closes; the account is always its ledger folded.

use crate::ordering::{Menu, menu_with_stock, new_order, place};
use crate::{NOW_MS, both};
use diancan_domain::balance::{BalanceRefusal, EntryKind, replay};
use diancan_domain::customer::BlindIndex;
use diancan_domain::ordering::{Actor, Order, OrderAction, OrderCommand, OrderStatus};
use diancan_domain::payments::*;
use diancan_domain::*;
use diancan_storage::Db;
use diancan_storage::balance::{NewEntry, Posted};
use diancan_storage::payments::SettleOutcome;
use std::sync::Arc;

async fn unpaid_order(db: &Db, menu: &Menu, key: &str) -> Order {
    let mut order = new_order(*menu, key, 1);
    order.start.status = OrderStatus::AwaitingPayment;
    order.start.pay_by_ms = Some(NOW_MS + 15 * 60_000);
    place(db, order).await
}

async fn member_with(db: &Db, brand: BrandId, fen: i64) -> CustomerId {
    let customer = db
        .customer_by_wechat_or_create(
            brand,
            &BlindIndex::from_bytes(uuid::Uuid::now_v7().as_bytes().to_vec()),
            "会员",
            NOW_MS,
        )
        .await
        .unwrap();
    let posting = db
        .post_staff_entry(
            brand,
            customer.id,
            NewEntry {
                kind: EntryKind::Recharge,
                amount: Money::from_fen(fen),
                reason: "现金充值",
                reference: "staff:test".into(),
                order_id: None,
                actor: "staff:test",
            },
            NOW_MS,
        )
        .await
        .unwrap();
    assert!(matches!(posting.posted, Posted::Written(_)));
    customer.id
}

async fn folded(db: &Db, brand: BrandId, customer: CustomerId) -> (Money, Money) {
    let account = db.balance_account(brand, customer).await.unwrap().unwrap();
    let mut entries = db.balance_entries(account.id, None, 1_000).await.unwrap();
    entries.reverse();
    assert_eq!(
        replay(brand, customer, &entries),
        Ok((account.balance, account.held))
    );
    (account.balance, account.held)
}

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

async fn holds_racing_for_one_balance_take_only_what_it_has(db: &Db) {
    let menu = menu_with_stock(db, 100).await;
    let first = unpaid_order(db, &menu, "hold-0").await;
    let customer = member_with(db, first.brand_id, 5 * 100).await;
    let mut orders = vec![first];
    for n in 1..20 {
        orders.push(unpaid_order(db, &menu, &format!("hold-{n}")).await);
    }
    let attempts = orders.iter().map(|order| {
        let payment = Payment::start(
            order.brand_id,
            order.store_id,
            order.id,
            PaymentProvider::WechatPay,
            "h5",
            order.total - Money::from_fen(100),
            NOW_MS,
        );
        async move {
            let held = db
                .create_payment_with_hold(&payment, customer, Money::from_fen(100), NOW_MS)
                .await
                .unwrap();
            (payment, held)
        }
    });
    let results = futures::future::join_all(attempts).await;
    let held: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
    assert_eq!(held.len(), 5);
    for (payment, result) in &results {
        if let Err(refusal) = result {
            assert!(matches!(refusal, BalanceRefusal::Insufficient { .. }));
            assert!(
                db.payment_by_trade_no(&payment.out_trade_no)
                    .await
                    .unwrap()
                    .is_none(),
                "a payment whose hold was refused is not written"
            );
        }
    }
    let brand = orders[0].brand_id;
    assert_eq!(
        folded(db, brand, customer).await,
        (Money::from_fen(500), Money::from_fen(500))
    );

    // One settles (20 reports of it at once), one closes; the rest stay held.
    let (settling, _) = held[0];
    let report = ArrivedMoney {
        provider: settling.provider,
        out_trade_no: settling.out_trade_no.clone(),
        transaction_id: "4200000001".into(),
        amount_fen: settling.amount.fen(),
        paid_at_ms: NOW_MS + 5,
    };
    let reports = (0..20).map(|_| db.settle_payment(&report, pay_order(), NOW_MS + 10));
    let outcomes = futures::future::join_all(reports).await;
    let paid = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(SettleOutcome::Paid { .. })))
        .count();
    assert_eq!(paid, 1, "{outcomes:?}");
    let (closing, _) = held[1];
    assert!(db.close_payment(closing.id, NOW_MS + 20).await.unwrap());
    assert!(!db.close_payment(closing.id, NOW_MS + 30).await.unwrap());
    assert_eq!(
        folded(db, brand, customer).await,
        (Money::from_fen(400), Money::from_fen(300)),
        "one captured, one released, three still held"
    );

    // Money that lands after its payment closed (and its hold went back) does not pay the
    // order with the gateway's part alone: it is owed back.
    let late = ArrivedMoney {
        provider: closing.provider,
        out_trade_no: closing.out_trade_no.clone(),
        transaction_id: "4200000002".into(),
        amount_fen: closing.amount.fen(),
        paid_at_ms: NOW_MS + 40,
    };
    let outcome = db
        .settle_payment(&late, pay_order(), NOW_MS + 40)
        .await
        .unwrap();
    assert!(
        matches!(outcome, SettleOutcome::RefundDue { .. }),
        "{outcome:?}"
    );
    let order = db.order(closing.order_id).await.unwrap();
    assert_eq!(order.status, OrderStatus::AwaitingPayment);
    assert_eq!(
        folded(db, brand, customer).await,
        (Money::from_fen(400), Money::from_fen(300))
    );
}
both!(race holds_racing_for_one_balance_take_only_what_it_has);
