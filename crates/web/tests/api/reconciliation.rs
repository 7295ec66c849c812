//! 对账 end to end: the simulator takes three orders' money and gives one back, takes money for
//! an order we never heard of, and we hold a payment it never took; the next day's run (the
//! manager's, or two at once) lists exactly those two mismatches, the CSV has them for Excel,
//! a rerun changes nothing, and a resolved mismatch stays resolved.

use crate::app::{TestApp, movable_clock, wait_until};
use crate::checkout::{pay_on_the_page, refunds_settle, status_of, unpaid_order};
use axum::http::{Method, StatusCode, header};
use diancan_domain::money::Money;
use diancan_domain::payments::{Payment, PaymentProvider, PaymentState};
use diancan_domain::staff::{Role, StoreAccess};
use diancan_integrations::payments::PaymentGateway;
use diancan_integrations::payments::model::{OutTradeNo, PayMethod, PrepayRequest};
use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;
const PAID_DAY: &str = "2026-11-25";

fn kinds(body: &Value) -> Vec<(String, String)> {
    let mut kinds: Vec<(String, String)> = body["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_owned(),
                m["out_trade_no"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    kinds.sort();
    kinds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_days_statement_lists_exactly_what_disagrees_and_a_rerun_changes_nothing() {
    let (clock, hand) = movable_clock();
    let mut app = TestApp::with_clock(clock).await;
    app.simulate_payments();
    let served = app.serve().await;

    // Three orders paid through the WeChat simulator's page, one cancelled and refunded.
    let mut paid = Vec::new();
    for n in 0..3 {
        let (id, secret) = unpaid_order(&app, &format!("reconcile-{n}")).await;
        pay_on_the_page(&app, &id, &secret, "wechat_pay").await;
        wait_until("paid", || async {
            status_of(&app, &id, &secret).await == "placed"
        })
        .await;
        paid.push((id, secret));
    }
    let owner = app.login(&app.a.owner_login).await;
    let (id, secret) = &paid[0];
    let (_, order) = app
        .with_secret(Method::GET, &format!("/api/v1/orders/{id}"), Some(secret))
        .await;
    let (status, cancelled) = app.act(&owner, id, "cancel", &order["version"]).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(refunds_settle(&app, id).await.len(), 1);

    // The simulator takes money for an order we never asked it for ...
    let simulators = app.state.payment_simulators.clone().unwrap();
    let stranger = PrepayRequest {
        out_trade_no: OutTradeNo::parse("STRANGER0000000000000001").unwrap(),
        description: "不是本店的订单".into(),
        amount: Money::from_fen(1234),
        method: PayMethod::Qr,
        notify_url: "https://elsewhere.example/notify".into(),
        expires_at: None,
    };
    simulators.wechat_pay.prepay(&stranger).await.unwrap();
    simulators
        .wechat_simulator
        .pay(stranger.out_trade_no.as_str(), "oStranger")
        .unwrap();
    // ... and our books hold a payment it never took.
    let (other_id, _) = &paid[1];
    let order = app.db().order(other_id.parse().unwrap()).await.unwrap();
    let now = app.state.clock.now_ms();
    let phantom = Payment {
        state: PaymentState::Paid,
        transaction_id: Some("4200000000PHANTOM".into()),
        paid_at_ms: Some(now),
        ..Payment::start(
            order.brand_id,
            order.store_id,
            order.id,
            PaymentProvider::WechatPay,
            "h5",
            Money::from_fen(500),
            now,
        )
    };
    app.db().create_payment(&phantom).await.unwrap();

    // Today has no statement yet; the next morning yesterday's does.
    let start = json!({"provider": "wechat_pay", "date": PAID_DAY});
    let (status, refused) = app
        .post(
            "/api/v1/console/reconciliation/runs",
            Some(&owner),
            start.clone(),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    hand.advance_ms(DAY_MS);

    // A cashier may not reconcile.
    app.add_staff("rec-cashier", Role::Cashier, StoreAccess::AllStores)
        .await;
    let cashier = app.login("rec-cashier").await;
    let (status, _) = app
        .post(
            "/api/v1/console/reconciliation/runs",
            Some(&cashier),
            start.clone(),
        )
        .await;
    assert_eq!(status, 403);

    // Two managers start the day at once: one run, one set of mismatches.
    let (first, second) = tokio::join!(
        app.post(
            "/api/v1/console/reconciliation/runs",
            Some(&owner),
            start.clone()
        ),
        app.post(
            "/api/v1/console/reconciliation/runs",
            Some(&owner),
            start.clone()
        ),
    );
    for (status, body) in [&first, &second] {
        assert!(
            *status == StatusCode::CREATED
                || (*status == StatusCode::CONFLICT
                    && body["error"]["code"] == "RECONCILIATION_RUNNING"),
            "{status} {body}"
        );
    }
    let (status, runs) = app
        .get("/api/v1/console/reconciliation/runs", Some(&owner))
        .await;
    assert_eq!(status, 200);
    // (The server's daily worker has meanwhile run the 24th: its own rows.)
    let of_the_day: Vec<&Value> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["date"] == PAID_DAY)
        .collect();
    assert_eq!(of_the_day.len(), 1, "{runs}");
    let run = of_the_day[0];
    assert_eq!(run["state"], "finished", "{run}");
    assert_eq!(run["date"], PAID_DAY);
    // Three payments, one refund and the stranger on the bill; four payments of ours that day.
    assert_eq!(run["statement_lines"], 5, "{run}");
    assert_eq!(run["payments_checked"], 4);
    assert_eq!(run["refunds_checked"], 1);
    assert_eq!(run["mismatches"], 2);
    let run_id = run["id"].as_str().unwrap().to_owned();

    let (status, found) = app
        .get(
            &format!("/api/v1/console/reconciliation/runs/{run_id}/mismatches"),
            Some(&owner),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let expected = vec![
        (
            "missing_on_gateway".to_owned(),
            phantom.out_trade_no.clone(),
        ),
        (
            "missing_on_our_side".to_owned(),
            stranger.out_trade_no.as_str().to_owned(),
        ),
    ];
    assert_eq!(kinds(&found), expected);
    let theirs = found["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "missing_on_our_side")
        .unwrap();
    assert_eq!(
        theirs["their_amount_fen"], 1234,
        "the bill's 12.34 yuan, in fen"
    );
    assert_eq!(theirs["our_amount_fen"], Value::Null);

    // The CSV: a byte-order mark for Excel, a header, one line per mismatch, yuan amounts.
    let request = axum::http::Request::get(format!(
        "/api/v1/console/reconciliation/runs/{run_id}/mismatches.csv"
    ))
    .header(header::AUTHORIZATION, format!("Bearer {owner}"))
    .body(axum::body::Body::empty())
    .unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "UTF-8 BOM first");
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("\"渠道 provider\""));
    assert!(text.contains(&format!("\"{}\"", phantom.out_trade_no)));
    assert!(text.contains("\"本系统无此笔\""));
    assert!(text.contains("\"12.34\""));

    // Resolved with a note; an empty note is refused.
    let mismatch_id = theirs["id"].as_str().unwrap();
    let resolve = format!("/api/v1/console/reconciliation/mismatches/{mismatch_id}/resolve");
    let (status, _) = app
        .post(&resolve, Some(&owner), json!({"note": "  "}))
        .await;
    assert_eq!(status, 422);
    let (status, resolved) = app
        .post(
            &resolve,
            Some(&owner),
            json!({"note": "隔壁店的订单，已转交"}),
        )
        .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["resolution_note"], "隔壁店的订单，已转交");

    // A rerun finds the same two, keeps the resolution, and doubles nothing.
    let (status, rerun) = app
        .post("/api/v1/console/reconciliation/runs", Some(&owner), start)
        .await;
    assert_eq!(status, 201, "{rerun}");
    assert_eq!(
        (rerun["id"].as_str(), rerun["mismatches"].as_i64()),
        (Some(run_id.as_str()), Some(2))
    );
    let (_, again) = app
        .get(
            &format!("/api/v1/console/reconciliation/runs/{run_id}/mismatches"),
            Some(&owner),
        )
        .await;
    assert_eq!(kinds(&again), expected);
    let kept = again["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == theirs["id"])
        .expect("the resolved mismatch is the same row");
    assert_eq!(kept["resolution_note"], "隔壁店的订单，已转交");

    // The other brand's owner sees only the money nobody here knows about.
    let other = app.login(&app.b.owner_login).await;
    let (_, theirs_view) = app
        .get(
            &format!("/api/v1/console/reconciliation/runs/{run_id}/mismatches"),
            Some(&other),
        )
        .await;
    assert_eq!(
        kinds(&theirs_view),
        vec![expected[1].clone()],
        "no other brand's payments"
    );

    served.stop().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_worker_runs_yesterday_once_per_gateway() {
    let (clock, hand) = movable_clock();
    let mut app = TestApp::with_clock(clock).await;
    app.simulate_payments();
    // 12:00 China time on the 25th: yesterday is the 24th, whose statements are out.
    let core = app.state.core.clone();
    let mut second = app.second_instance();
    second.simulate_payments();
    let (a, b) = tokio::join!(
        diancan_usecases::payments::reconciliation::reconcile_yesterday(&core),
        diancan_usecases::payments::reconciliation::reconcile_yesterday(&second.state.core),
    );
    a.unwrap();
    b.unwrap();
    let runs = app.db().reconciliation_runs(10).await.unwrap();
    let mut days: Vec<(PaymentProvider, String)> = runs
        .iter()
        .map(|r| (r.provider, r.bill_date.to_string()))
        .collect();
    days.sort_by_key(|d| d.0.as_str());
    assert_eq!(
        days,
        [
            (PaymentProvider::Alipay, "2026-11-24".to_owned()),
            (PaymentProvider::WechatPay, "2026-11-24".to_owned()),
        ]
    );
    assert!(runs.iter().all(|r| r.attempt == 1 && r.mismatches == 0));
    // Before 10:00 the next day's statements are not out: nothing runs.
    hand.advance_ms(19 * 3_600_000);
    diancan_usecases::payments::reconciliation::reconcile_yesterday(&core)
        .await
        .unwrap();
    assert_eq!(app.db().reconciliation_runs(10).await.unwrap().len(), 2);
    app.cleanup().await;
}
