//! 对账 runs: one claim per gateway account and date however many instances try, a rerun that
//! replaces its open mismatches and keeps resolved ones, a brand that sees only its own, and
//! our side of a day read back for matching.

use crate::payments::{arrived, pay_by, pending_payment, unpaid_order};
use crate::{NOW_MS, both};
use diancan_domain::money::Money;
use diancan_domain::payments::PaymentProvider;
use diancan_domain::reconciliation::*;
use diancan_domain::{BrandId, ReconciliationRunId};
use diancan_storage::Db;
use diancan_storage::reconciliation::{Claim, Claimed, DayWindow};
use std::sync::Arc;
use tokio::sync::Barrier;

fn claim(by: &str, now_ms: i64, rerun: bool) -> Claim<'_> {
    Claim {
        provider: PaymentProvider::WechatPay,
        merchant_id: "1230000109",
        bill_date: jiff::civil::date(2026, 12, 2),
        by,
        now_ms,
        rerun,
        retry_failed_after_ms: 3_600_000,
        stale_after_ms: 600_000,
    }
}

fn mismatch(kind: MismatchKind, no: &str, brand: Option<BrandId>) -> Mismatch {
    Mismatch {
        kind,
        out_trade_no: no.into(),
        out_refund_no: None,
        brand_id: brand,
        store_id: None,
        our_amount: Some(Money::from_fen(100)),
        their_amount: None,
        note: "n".into(),
    }
}

async fn eight_instances_claim_one_run(db: &Db) {
    let barrier = Arc::new(Barrier::new(8));
    let claims = (0..8).map(|i| {
        let (db, barrier) = (db.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            db.claim_reconciliation(claim(&format!("worker-{i}"), NOW_MS, false))
                .await
                .unwrap()
        })
    });
    let results = futures::future::join_all(claims).await;
    let mine: Vec<ReconciliationRun> = results
        .into_iter()
        .filter_map(|r| match r.unwrap() {
            Claimed::Mine(run) => Some(run),
            Claimed::Taken(_) => None,
        })
        .collect();
    assert_eq!(mine.len(), 1, "one claim wins");
    assert_eq!(db.reconciliation_runs(10).await.unwrap().len(), 1);
    let run = &mine[0];
    // Running and fresh: not even a rerun takes it over.
    assert!(matches!(
        db.claim_reconciliation(claim("staff", NOW_MS + 1, true))
            .await
            .unwrap(),
        Claimed::Taken(_)
    ));
    // Left running by a dead instance: claimed again once stale, and the old claim is fenced.
    let Claimed::Mine(again) = db
        .claim_reconciliation(claim("worker-9", NOW_MS + 600_001, false))
        .await
        .unwrap()
    else {
        panic!("a stale run is claimed again");
    };
    assert_eq!((again.id, again.attempt), (run.id, 2));
    assert!(matches!(
        db.finish_reconciliation(run, RunCounts::default(), &[], NOW_MS + 600_002)
            .await,
        Err(diancan_storage::StorageError::NotFound)
    ));
    let done = db
        .finish_reconciliation(&again, RunCounts::default(), &[], NOW_MS + 600_002)
        .await
        .unwrap();
    assert_eq!(done.state, RunState::Finished);
    // Finished: the worker leaves it alone, a rerun asked for claims it.
    assert!(matches!(
        db.claim_reconciliation(claim("worker", NOW_MS + 700_000, false))
            .await
            .unwrap(),
        Claimed::Taken(_)
    ));
    assert!(matches!(
        db.claim_reconciliation(claim("staff", NOW_MS + 700_000, true))
            .await
            .unwrap(),
        Claimed::Mine(ReconciliationRun { attempt: 3, .. })
    ));
}
both!(race eight_instances_claim_one_run);

async fn a_rerun_replaces_open_mismatches_and_keeps_resolved_ones(db: &Db) {
    let order = unpaid_order(db, "rec1").await;
    let brand = order.brand_id;
    let Claimed::Mine(run) = db
        .claim_reconciliation(claim("worker", NOW_MS, false))
        .await
        .unwrap()
    else {
        panic!("first claim");
    };
    let found = [
        mismatch(MismatchKind::MissingOnGateway, "A00001", Some(brand)),
        mismatch(MismatchKind::AmountDiffers, "A00002", Some(brand)),
        mismatch(MismatchKind::MissingOnOurSide, "Z00001", None),
    ];
    let counts = RunCounts {
        statement_lines: 3,
        ..RunCounts::default()
    };
    let done = db
        .finish_reconciliation(&run, counts, &found, NOW_MS + 1)
        .await
        .unwrap();
    assert_eq!(done.mismatches, 3);
    let listed = db.mismatches_of_run(run.id, brand).await.unwrap();
    assert_eq!(listed.len(), 3);
    let amount = listed
        .iter()
        .find(|m| m.mismatch.kind == MismatchKind::AmountDiffers)
        .unwrap();
    let resolved = db
        .resolve_mismatch(amount.id, brand, "店长 王", "顾客补差价", NOW_MS + 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resolved.resolution_note.as_deref(), Some("顾客补差价"));
    // Resolving again keeps the first resolution.
    let twice = db
        .resolve_mismatch(amount.id, brand, "someone", "again", NOW_MS + 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(twice.resolved_by.as_deref(), Some("店长 王"));
    // Another brand sees neither this brand's mismatches nor may resolve them.
    let stranger = BrandId::new();
    let seen = db.mismatches_of_run(run.id, stranger).await.unwrap();
    assert_eq!(seen.len(), 1, "only the unattributed money");
    assert!(
        db.resolve_mismatch(amount.id, stranger, "x", "y", NOW_MS)
            .await
            .unwrap()
            .is_none()
    );

    // The rerun finds the same again, and one fewer: the open ones are replaced, the resolved
    // one stays as it was, nothing doubles.
    for attempt in 0..2 {
        let Claimed::Mine(rerun) = db
            .claim_reconciliation(claim("staff", NOW_MS + 10 + attempt, true))
            .await
            .unwrap()
        else {
            panic!("rerun");
        };
        let done = db
            .finish_reconciliation(&rerun, counts, &found[1..], NOW_MS + 11 + attempt)
            .await
            .unwrap();
        assert_eq!(done.mismatches, 2);
        let listed = db.mismatches_of_run(run.id, brand).await.unwrap();
        let mut keys: Vec<_> = listed
            .iter()
            .map(|m| {
                (
                    m.mismatch.kind,
                    m.mismatch.out_trade_no.as_str(),
                    m.resolved_at_ms,
                )
            })
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                (MismatchKind::MissingOnOurSide, "Z00001", None),
                (MismatchKind::AmountDiffers, "A00002", Some(NOW_MS + 2)),
            ]
        );
    }
    assert!(
        db.reconciliation_run(ReconciliationRunId::new())
            .await
            .unwrap()
            .is_none()
    );
}
both!(a_rerun_replaces_open_mismatches_and_keeps_resolved_ones);

async fn our_side_of_a_day_is_read_for_matching(db: &Db) {
    let order = unpaid_order(db, "rec3").await;
    let paid = pending_payment(db, &order, PaymentProvider::WechatPay).await;
    db.settle_payment(
        &arrived(&paid, "4200000001"),
        pay_by(PaymentProvider::WechatPay),
        NOW_MS + 10,
    )
    .await
    .unwrap();
    // Money for the same order through the other gateway: not this statement's business.
    let other_gateway = pending_payment(db, &order, PaymentProvider::Alipay).await;
    db.settle_payment(
        &arrived(&other_gateway, "2024000001"),
        pay_by(PaymentProvider::Alipay),
        NOW_MS + 10,
    )
    .await
    .unwrap();
    let unpaid = pending_payment(db, &order, PaymentProvider::WechatPay).await;
    let window = DayWindow {
        provider: PaymentProvider::WechatPay,
        from_ms: NOW_MS,
        to_ms: NOW_MS + 86_400_000,
        out_trade_nos: &[unpaid.out_trade_no.clone(), "NOT-OURS-1".into()],
        out_refund_nos: &["NOT-OURS-R".into()],
    };
    let books = db.books_for_reconciliation(&window).await.unwrap();
    let booked: Vec<&str> = books
        .booked_payments
        .iter()
        .map(|p| p.out_trade_no.as_str())
        .collect();
    assert_eq!(
        booked,
        [paid.out_trade_no.as_str()],
        "paid that day at this gateway"
    );
    let named: Vec<&str> = books
        .named_payments
        .iter()
        .map(|p| p.out_trade_no.as_str())
        .collect();
    assert_eq!(named, [unpaid.out_trade_no.as_str()]);
    assert!(books.booked_refunds.is_empty() && books.named_refunds.is_empty());
    let later = DayWindow {
        from_ms: NOW_MS + 86_400_000,
        to_ms: NOW_MS + 2 * 86_400_000,
        out_trade_nos: &[],
        out_refund_nos: &[],
        ..window
    };
    assert!(
        db.books_for_reconciliation(&later)
            .await
            .unwrap()
            .booked_payments
            .is_empty()
    );
}
both!(our_side_of_a_day_is_read_for_matching);
