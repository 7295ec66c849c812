//! Settling payments: the same money reported twenty times at once settles once; a report that
//! does not match is set aside and pays nothing; money for an order already paid another way is
//! owed back, never a second payment of the order.

use crate::ordering::{actions_of, menu_with_stock, new_order, place};
use crate::{NOW_MS, both};
use diancan_domain::ordering::{Actor, Order, OrderAction, OrderCommand, OrderStatus};
use diancan_domain::payments::*;
use diancan_storage::Db;
use diancan_storage::payments::SettleOutcome;
use std::sync::Arc;
use tokio::sync::Barrier;

/// A pay-first pickup order, waiting for its money.
pub(crate) async fn unpaid_order(db: &Db, key: &str) -> Order {
    let menu = menu_with_stock(db, 20).await;
    let mut order = new_order(menu, key, 2);
    order.start.status = OrderStatus::AwaitingPayment;
    order.start.pay_by_ms = Some(NOW_MS + 15 * 60_000);
    place(db, order).await
}

pub(crate) async fn pending_payment(db: &Db, order: &Order, provider: PaymentProvider) -> Payment {
    let payment = Payment::start(
        order.brand_id,
        order.store_id,
        order.id,
        provider,
        "h5",
        order.total,
        NOW_MS,
    );
    db.create_payment(&payment).await.unwrap();
    payment
}

pub(crate) fn arrived(payment: &Payment, transaction: &str) -> ArrivedMoney {
    ArrivedMoney {
        provider: payment.provider,
        out_trade_no: payment.out_trade_no.clone(),
        transaction_id: transaction.into(),
        amount_fen: payment.amount.fen(),
        paid_at_ms: NOW_MS + 5,
    }
}

pub(crate) fn pay_by(provider: PaymentProvider) -> diancan_storage::ordering::Decide {
    Arc::new(move |o: &Order| {
        o.decide(
            OrderCommand::Act(OrderAction::Pay),
            &Actor::System(provider.actor()),
            None,
            NOW_MS + 10,
        )
    })
}

async fn twenty_identical_reports_settle_once(db: &Db) {
    let order = unpaid_order(db, "pay1").await;
    let payment = pending_payment(db, &order, PaymentProvider::WechatPay).await;
    let report = arrived(&payment, "4200001234");
    let start = Arc::new(Barrier::new(20));
    let racers: Vec<_> = (0..20)
        .map(|_| {
            let (db, start, report) = (db.clone(), start.clone(), report.clone());
            tokio::spawn(async move {
                start.wait().await;
                db.settle_payment(&report, pay_by(report.provider), NOW_MS + 10)
                    .await
            })
        })
        .collect();
    let (mut paid, mut repeats) = (0, 0);
    for racer in racers {
        match racer.await.unwrap().unwrap() {
            SettleOutcome::Paid { order, .. } => {
                paid += 1;
                assert_eq!(order.status, OrderStatus::Placed);
            }
            SettleOutcome::AlreadySettled { payment } => {
                repeats += 1;
                assert_eq!(payment.state, PaymentState::Paid);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((paid, repeats), (1, 19));
    assert_eq!(actions_of(db, order.id).await, vec!["place", "pay"]);
    let stored = db
        .payment_by_trade_no(&payment.out_trade_no)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.state, PaymentState::Paid);
    assert_eq!(stored.transaction_id.as_deref(), Some("4200001234"));
    assert!(!stored.refund_due);
}
both!(race twenty_identical_reports_settle_once);

async fn a_report_of_the_wrong_amount_is_flagged_and_pays_nothing(db: &Db) {
    let order = unpaid_order(db, "pay2").await;
    let payment = pending_payment(db, &order, PaymentProvider::Alipay).await;
    let mut report = arrived(&payment, "2026120222001");
    report.amount_fen = 1;
    let outcome = db
        .settle_payment(&report, pay_by(report.provider), NOW_MS + 10)
        .await
        .unwrap();
    assert!(matches!(
        outcome,
        SettleOutcome::Flagged {
            reason: "amount",
            ..
        }
    ));
    let stored = db
        .payment_by_trade_no(&payment.out_trade_no)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.state, stored.flagged.as_deref()),
        (PaymentState::Pending, Some("amount"))
    );
    assert_eq!(
        actions_of(db, order.id).await,
        vec!["place"],
        "the order is not paid"
    );
}
both!(a_report_of_the_wrong_amount_is_flagged_and_pays_nothing);

async fn money_through_a_second_channel_is_owed_back(db: &Db) {
    let order = unpaid_order(db, "pay3").await;
    let wechat = pending_payment(db, &order, PaymentProvider::WechatPay).await;
    let alipay = pending_payment(db, &order, PaymentProvider::Alipay).await;
    let first = db
        .settle_payment(
            &arrived(&wechat, "4200009"),
            pay_by(wechat.provider),
            NOW_MS + 10,
        )
        .await
        .unwrap();
    assert!(matches!(first, SettleOutcome::Paid { .. }));
    let second = db
        .settle_payment(
            &arrived(&alipay, "2026120299"),
            pay_by(alipay.provider),
            NOW_MS + 20,
        )
        .await
        .unwrap();
    let SettleOutcome::RefundDue { payment } = second else {
        panic!("expected the second payment to be owed back, got {second:?}");
    };
    assert!(payment.refund_due);
    assert_eq!(
        actions_of(db, order.id).await,
        vec!["place", "pay"],
        "paid once"
    );
    let payments = db.payments_of_order(order.id).await.unwrap();
    let due: Vec<bool> = payments.iter().map(|p| p.refund_due).collect();
    assert_eq!(due.iter().filter(|d| **d).count(), 1);
    assert!(payments.iter().all(|p| p.state == PaymentState::Paid));
}
both!(money_through_a_second_channel_is_owed_back);

async fn a_report_for_no_payment_of_ours_is_not_found(db: &Db) {
    let order = unpaid_order(db, "pay4").await;
    let payment = pending_payment(db, &order, PaymentProvider::WechatPay).await;
    let mut report = arrived(&payment, "4200010");
    report.out_trade_no = "0".repeat(32);
    let error = db
        .settle_payment(&report, pay_by(report.provider), NOW_MS + 10)
        .await
        .unwrap_err();
    assert!(matches!(error, diancan_storage::StorageError::NotFound));
    assert_eq!(actions_of(db, order.id).await, vec!["place"]);
}
both!(a_report_for_no_payment_of_ours_is_not_found);
