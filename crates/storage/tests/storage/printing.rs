//! Printers and the print queue: jobs come with the accept (a station's printer, the counter for
//! a station without one, a packing slip for takeaway), a cancel queues 退菜, nothing is queued
//! twice; a lease is held by one attempt only, a down printer hands its jobs to the fallback
//! with an alert, and a reprint is a new, numbered job.

use crate::kitchen::{accept, order_for_two_stations, stations};
use crate::ordering::{Menu, menu_with_stock, staff_acts};
use crate::{NOW_MS, both};
use diancan_domain::ordering::OrderAction;
use diancan_domain::printing::*;
use diancan_domain::text::Name;
use diancan_domain::*;
use diancan_storage::Db;
use diancan_storage::printing::{Failure, PrintJob, Printer, PrinterSettings, printing_stream};

pub fn settings(name: &str, stations: Vec<StationId>, receipts: bool) -> PrinterSettings {
    PrinterSettings {
        name: Name::parse(name).unwrap(),
        connection: PrinterConnection::Tcp,
        address: "127.0.0.1:9100".into(),
        agent_id: None,
        paper: PaperWidth::Mm80,
        fallback_id: None,
        stations,
        takes_receipts: receipts,
        takes_packing_slips: false,
        enabled: true,
    }
}

/// A counter printer (receipts, the default) and a kitchen printer for 饮品 that falls back to it.
async fn printers(db: &Db, menu: Menu, drinks: StationId) -> (Printer, Printer) {
    let counter = db
        .create_printer(
            menu.brand,
            menu.store,
            &settings("前台", vec![], true),
            NOW_MS,
        )
        .await
        .unwrap();
    let mut bar = settings("水吧", vec![drinks], false);
    bar.fallback_id = Some(counter.id);
    let bar = db
        .create_printer(menu.brand, menu.store, &bar, NOW_MS)
        .await
        .unwrap();
    (counter, bar)
}

async fn jobs(db: &Db, menu: Menu) -> Vec<PrintJob> {
    let mut jobs = db
        .print_jobs_since(menu.brand, menu.store, 0, 1_000)
        .await
        .unwrap();
    jobs.reverse();
    jobs
}

async fn jobs_come_with_the_accept_routed_by_station(db: &Db) {
    let menu = menu_with_stock(db, 20).await;
    let (_, drinks) = stations(db, menu).await;
    let (counter, bar) = printers(db, menu, drinks).await;
    assert_eq!(bar.stations, vec![drinks]);
    assert_eq!(bar.fallback_id, Some(counter.id));

    let order = order_for_two_stations(db, menu, drinks, "p1", 2).await;
    assert!(jobs(db, menu).await.is_empty(), "placed is not printed");
    let accepted = accept(db, &order, NOW_MS + 1).await;
    let queued = jobs(db, menu).await;
    let kinds: Vec<(DocumentKind, PrinterId)> =
        queued.iter().map(|j| (j.document, j.printer_id)).collect();
    assert_eq!(
        kinds,
        vec![
            // 热菜 has no printer: the counter takes it.
            (DocumentKind::Kitchen, counter.id),
            (DocumentKind::Kitchen, bar.id),
            (DocumentKind::PackingSlip, counter.id),
        ]
    );
    assert_eq!(queued[1].content.station.as_deref(), Some("饮品"));
    assert_eq!(queued[1].content.lines[0].note.as_deref(), Some("少冰"));
    assert!(
        queued
            .iter()
            .all(|j| j.state == PrintJobState::Queued && j.attempts == 0)
    );

    db.change_order(staff_acts(
        &accepted,
        OrderAction::Cancel,
        Some(accepted.version),
        NOW_MS + 2,
    ))
    .await
    .unwrap();
    let after = jobs(db, menu).await;
    let cancels: Vec<&PrintJob> = after
        .iter()
        .filter(|j| j.document == DocumentKind::Cancel)
        .collect();
    assert_eq!(cancels.len(), 2, "one 退菜 per ticket: {after:?}");
    assert_eq!(cancels[1].printer_id, bar.id);
}
both!(jobs_come_with_the_accept_routed_by_station);

async fn a_station_has_one_printer_and_a_fallback_is_of_the_store(db: &Db) {
    let menu = menu_with_stock(db, 20).await;
    let (hot, drinks) = stations(db, menu).await;
    let (counter, _) = printers(db, menu, drinks).await;
    let taken = db
        .create_printer(
            menu.brand,
            menu.store,
            &settings("厨房", vec![drinks], false),
            NOW_MS,
        )
        .await;
    assert!(
        matches!(taken, Err(diancan_storage::StorageError::Conflict { .. })),
        "{taken:?}"
    );
    let mut own = settings("前台", vec![hot], true);
    own.fallback_id = Some(counter.id);
    let refused = db
        .update_printer(menu.brand, menu.store, counter.id, &own, NOW_MS)
        .await;
    assert!(matches!(
        refused,
        Err(diancan_storage::StorageError::Refused(_))
    ));
    let elsewhere = db
        .update_printer(
            BrandId::new(),
            menu.store,
            counter.id,
            &settings("x", vec![], true),
            NOW_MS,
        )
        .await;
    assert!(elsewhere.is_err(), "another brand cannot touch it");
    let moved = db
        .update_printer(
            menu.brand,
            menu.store,
            counter.id,
            &settings("前台", vec![hot], true),
            NOW_MS,
        )
        .await
        .unwrap();
    assert_eq!(moved.stations, vec![hot]);
}
both!(a_station_has_one_printer_and_a_fallback_is_of_the_store);

async fn a_lease_is_one_attempts_and_a_down_printer_hands_over(db: &Db) {
    let menu = menu_with_stock(db, 20).await;
    let (_, drinks) = stations(db, menu).await;
    let (counter, bar) = printers(db, menu, drinks).await;
    let order = order_for_two_stations(db, menu, drinks, "p2", 1).await;
    accept(db, &order, NOW_MS + 1).await;

    let claimed = db.claim_print_jobs(NOW_MS + 2, 1_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 3);
    assert!(
        db.claim_print_jobs(NOW_MS + 3, 1_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased jobs are not taken twice"
    );
    let first = &claimed[0].job;
    assert!(db.print_job_printed(first.id, 1, NOW_MS + 4).await.unwrap());
    assert!(
        !db.print_job_printed(first.id, 1, NOW_MS + 5).await.unwrap(),
        "recorded once"
    );

    // The bar printer is off: its job and the untried one go back; its job moves to the counter.
    let bar_job = claimed.iter().find(|c| c.printer.id == bar.id).unwrap();
    let slip = claimed
        .iter()
        .find(|c| c.job.document == DocumentKind::PackingSlip)
        .unwrap();
    let failure = Failure {
        error: "PRINTER_UNREACHABLE".into(),
        uncertain: false,
    };
    let fallback = db
        .printer_went_down(
            &bar_job.printer,
            Some((bar_job.job.id, 1, &failure)),
            &[],
            "PRINTER_UNREACHABLE",
            NOW_MS + 6,
        )
        .await
        .unwrap();
    assert_eq!(fallback, Some(counter.id));
    let moved = db.print_job(bar_job.job.id).await.unwrap();
    assert_eq!(
        (moved.printer_id, moved.routed_printer_id, moved.state),
        (counter.id, bar.id, PrintJobState::Queued)
    );
    let alerts = db
        .events_after(&printing_stream(menu.store), 0)
        .await
        .unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, "printer.down");
    assert!(alerts[0].payload_json.contains("\"jobs_on_fallback\":1"));
    // A second failure report of a printer already down writes no second alert.
    db.printer_went_down(&bar_job.printer, None, &[], "again", NOW_MS + 7)
        .await
        .unwrap();
    assert_eq!(
        db.events_after(&printing_stream(menu.store), 0)
            .await
            .unwrap()
            .len(),
        1
    );

    // The slip's worker died mid-job: once the lease is out it is due again, uncertain (重打).
    let again = db
        .claim_print_jobs(NOW_MS + 1_100, 1_000, 10)
        .await
        .unwrap();
    let ids: Vec<i64> = again.iter().map(|c| c.job.id).collect();
    assert_eq!(ids, vec![bar_job.job.id, slip.job.id]);
    let retried = &again[1].job;
    assert!(retried.uncertain && retried.says_reprint() && retried.attempts == 2);
    assert!(
        !db.print_job_printed(slip.job.id, 1, NOW_MS + 1_101)
            .await
            .unwrap(),
        "the dead attempt cannot record"
    );
    assert!(
        !db.renew_print_lease(slip.job.id, 1, NOW_MS + 5_000)
            .await
            .unwrap(),
        "nor send again"
    );
    assert!(
        db.renew_print_lease(slip.job.id, 2, NOW_MS + 5_000)
            .await
            .unwrap()
    );
    assert!(
        db.print_job_printed(slip.job.id, 2, NOW_MS + 1_102)
            .await
            .unwrap()
    );

    assert!(
        db.printer_came_up(&bar_job.printer, NOW_MS + 1_200)
            .await
            .unwrap()
    );
    assert!(
        !db.printer_came_up(&bar_job.printer, NOW_MS + 1_201)
            .await
            .unwrap()
    );
    assert!(db.down_printers().await.unwrap().is_empty());
}
both!(a_lease_is_one_attempts_and_a_down_printer_hands_over);

async fn a_failing_job_backs_off_then_fails_and_a_reprint_is_numbered(db: &Db) {
    let menu = menu_with_stock(db, 20).await;
    let (_, drinks) = stations(db, menu).await;
    let (counter, _) = printers(db, menu, drinks).await;
    let test = db
        .queue_test_print(menu.brand, menu.store, counter.id, "staff:boss", NOW_MS)
        .await
        .unwrap();
    let failure = Failure {
        error: "PRINTER_BAD_STATUS".into(),
        uncertain: false,
    };
    let mut now = NOW_MS;
    for attempt in 1..=MAX_ATTEMPTS {
        let claimed = db.claim_print_jobs(now, 1_000, 10).await.unwrap();
        assert_eq!(claimed.len(), 1, "attempt {attempt}");
        db.print_job_failed(test.id, attempt, &failure, now + 10, false, now)
            .await
            .unwrap();
        assert!(
            db.claim_print_jobs(now + 5, 1_000, 10)
                .await
                .unwrap()
                .is_empty(),
            "not before its time"
        );
        now += 10;
    }
    let failed = db.print_job(test.id).await.unwrap();
    assert_eq!(failed.state, PrintJobState::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("PRINTER_BAD_STATUS"));

    let first = db
        .reprint(menu.brand, menu.store, test.id, "staff:a", now)
        .await
        .unwrap();
    let second = db
        .reprint(menu.brand, menu.store, first.id, "staff:b", now)
        .await
        .unwrap();
    assert_eq!((first.reprint, first.reprint_of), (1, Some(test.id)));
    assert_eq!((second.reprint, second.reprint_of), (2, Some(test.id)));
    assert!(first.says_reprint());
    assert_eq!(second.requested_by.as_deref(), Some("staff:b"));
    let other_store = db
        .reprint(BrandId::new(), menu.store, test.id, "x", now)
        .await;
    assert!(other_store.is_err());
}
both!(a_failing_job_backs_off_then_fails_and_a_reprint_is_numbered);

/// A table's second round (加菜) prints as 加菜 on the station's printer; a dine-in order has no
/// packing slip.
async fn a_second_round_prints_as_an_addition(db: &Db) {
    use crate::ordering::tables::{a_table, first_scan};
    use diancan_storage::ordering::{NewOrderTable, SessionClaim};
    let menu = menu_with_stock(db, 20).await;
    let (_, drinks) = stations(db, menu).await;
    let (counter, _) = printers(db, menu, drinks).await;
    let table = a_table(db, menu).await;
    let first = crate::ordering::place(db, first_scan(menu, &table, "round-1", 1)).await;
    accept(db, &first, NOW_MS + 1).await;
    let session = first.table.as_ref().unwrap().session_id;
    let mut more = first_scan(menu, &table, "round-2", 2);
    more.table = Some(NewOrderTable {
        session: SessionClaim::Open(session),
        ..more.table.unwrap()
    });
    let second = crate::ordering::place(db, more).await;
    assert_eq!(second.round, 2);
    accept(db, &second, NOW_MS + 2).await;
    let kinds: Vec<(DocumentKind, i64, PrinterId)> = jobs(db, menu)
        .await
        .iter()
        .map(|j| (j.document, j.content.round, j.printer_id))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (DocumentKind::Kitchen, 1, counter.id),
            (DocumentKind::Addition, 2, counter.id)
        ]
    );
}
both!(a_second_round_prints_as_an_addition);

/// A month on, the sweep forgets printed and failed jobs, but not a job still due, nor one a
/// later reprint points at.
async fn the_sweep_forgets_finished_jobs_after_a_month(db: &Db) {
    use diancan_storage::retention::Retention;
    let keep = Retention::default();
    let menu = menu_with_stock(db, 20).await;
    let (_, drinks) = stations(db, menu).await;
    let (counter, _) = printers(db, menu, drinks).await;
    let test_print = |at| db.queue_test_print(menu.brand, menu.store, counter.id, "staff:boss", at);
    let printed = test_print(NOW_MS).await.unwrap();
    let claimed = db.claim_print_jobs(NOW_MS, 1_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(db.print_job_printed(printed.id, 1, NOW_MS).await.unwrap());
    let reprinted = test_print(NOW_MS).await.unwrap();
    let claimed = db.claim_print_jobs(NOW_MS, 1_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(db.print_job_printed(reprinted.id, 1, NOW_MS).await.unwrap());
    let reprint = db
        .reprint(menu.brand, menu.store, reprinted.id, "staff:a", NOW_MS)
        .await
        .unwrap();
    let sweep_at = NOW_MS + keep.finished_print_jobs_ms + 1;
    let lately = test_print(sweep_at - 1).await.unwrap();

    let purged = db.purge_expired(sweep_at, &keep).await.unwrap();
    assert_eq!(
        purged.print_jobs, 1,
        "only the old printed job without reprints"
    );
    assert!(db.print_job(printed.id).await.is_err());
    for kept in [reprinted.id, reprint.id, lately.id] {
        assert!(db.print_job(kept).await.is_ok(), "job {kept} stays");
    }
}
both!(the_sweep_forgets_finished_jobs_after_a_month);
