//! The live orders board through the API: the store's log replays after `Last-Event-ID` with
//! each order as it is now, a rejection's reason reaches the history and the stream, a store
//! that accepts a channel by itself does so through the worker, a dine-in order's detail
//! carries its table's whole bill, and another brand's staff see nothing.

use crate::app::{TestApp, code, store_profile, wait_until};
use axum::http::StatusCode;
use serde_json::{Value, json};

fn board_path(app: &TestApp, rest: &str) -> String {
    format!("/api/v1/console/stores/{}/board{rest}", app.a.store)
}

/// A pickup order of one bowl, placed by a guest: (id, version).
async fn placed(app: &TestApp, key: &str) -> (String, Value) {
    let body = app.quoted(app.pickup_body(1).await).await;
    let (status, order) = app.place(key, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    (
        order["id"].as_str().unwrap().to_owned(),
        order["version"].clone(),
    )
}

/// Reads `want` `order` events: (id, data).
async fn order_events(response: &mut reqwest::Response, want: usize) -> Vec<(i64, Value)> {
    crate::app::read_sse(response, want, |block| {
        (block.field("event:")? == "order").then(|| {
            let id = block
                .field("id:")
                .and_then(|i| i.parse().ok())
                .unwrap_or(-1);
            let data = block
                .field("data:")
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or(Value::Null);
            (id, data)
        })
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_replays_the_stores_orders_after_last_event_id() {
    let app = TestApp::new().await;
    let manager = app.login("alpha-manager").await;
    let (status, opened) = app.get(&board_path(&app, ""), Some(&manager)).await;
    assert_eq!(status, StatusCode::OK, "{opened}");
    let start = opened["stream_version"].as_i64().unwrap();
    assert_eq!(opened["orders"], json!([]));

    let (id, version) = placed(&app, "board-live-1").await;
    let (status, paid) = app.act(&manager, &id, "pay", &version).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    app.outbox_drained().await;

    let served = app.serve().await;
    let http = reqwest::Client::new();
    let url = format!("{}{}", served.base, board_path(&app, "/events"));
    let mut stream = http
        .get(format!("{url}?after={start}"))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let replayed = order_events(&mut stream, 2).await;
    assert_eq!(
        replayed
            .iter()
            .map(|(v, e)| (*v, e["action"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        [(start + 1, "place"), (start + 2, "pay")],
        "the log numbers the store's changes without gaps"
    );
    // Each change comes with the order as it is now, so a board draws it without asking.
    assert_eq!(replayed[0].1["order_version"], version);
    assert_eq!(replayed[0].1["order"]["status"], "placed");
    assert_eq!(replayed[0].1["order"]["id"], json!(id));

    // Live: the accept arrives on the open stream.
    let (status, accepted) = app.act(&manager, &id, "accept", &paid["version"]).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let live = order_events(&mut stream, 1).await;
    assert_eq!(
        (live[0].0, live[0].1["action"].as_str()),
        (start + 3, Some("accept"))
    );

    // A board that saw the first change reconnects: everything after it, in order.
    let mut again = http
        .get(&url)
        .bearer_auth(&manager)
        .header("last-event-id", (start + 1).to_string())
        .send()
        .await
        .unwrap();
    let caught_up = order_events(&mut again, 2).await;
    assert_eq!(
        caught_up.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
        [start + 2, start + 3]
    );
    assert_eq!(caught_up[1].1["order"]["status"], "accepted");

    // The board's list now starts where the log is.
    let (_, reopened) = app.get(&board_path(&app, ""), Some(&manager)).await;
    assert_eq!(reopened["stream_version"], json!(start + 3));
    assert_eq!(reopened["orders"][0]["status"], "accepted");

    drop((stream, again));
    served.stop().await;
    app.cleanup().await;
}

/// A board offline for longer than the store's log is kept hears `reset` (read the board again)
/// before the changes the log still holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_behind_the_kept_log_is_told_to_reload() {
    use diancan_storage::retention::Retention;
    let app = TestApp::new().await;
    let manager = app.login("alpha-manager").await;
    let (_, opened) = app.get(&board_path(&app, ""), Some(&manager)).await;
    let start = opened["stream_version"].as_i64().unwrap();
    let (id, version) = placed(&app, "board-forgotten-1").await;
    let (status, paid) = app.act(&manager, &id, "pay", &version).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    app.outbox_drained().await;

    let keep = Retention::default();
    let later = jiff::Timestamp::now().as_millisecond() + keep.store_stream_events_ms + 1;
    let purged = app.db().purge_expired(later, &keep).await.unwrap();
    assert!(purged.store_stream_events >= 2, "{purged:?}");
    let (status, accepted) = app.act(&manager, &id, "accept", &paid["version"]).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    app.outbox_drained().await;

    let served = app.serve().await;
    let mut stream = reqwest::Client::new()
        .get(format!("{}{}", served.base, board_path(&app, "/events")))
        .bearer_auth(&manager)
        .header("last-event-id", (start + 1).to_string())
        .send()
        .await
        .unwrap();
    let heard = crate::app::read_sse(&mut stream, 2, |block| {
        let kind = block.field("event:")?;
        (kind == "reset" || kind == "order").then(|| (kind, block.field("data:")))
    })
    .await;
    assert_eq!(heard[0].0, "reset", "{heard:?}");
    let reset: Value = serde_json::from_str(heard[0].1.as_deref().unwrap()).unwrap();
    assert_eq!(
        reset,
        json!({ "after": start + 1, "oldest_kept": start + 3 })
    );
    assert_eq!(heard[1].0, "order", "then the changes still kept");

    drop(stream);
    served.stop().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_rejected_order_says_why_in_its_history_and_on_the_board() {
    let app = TestApp::new().await;
    let manager = app.login("alpha-manager").await;
    let (id, version) = placed(&app, "board-reject-1").await;
    let (status, paid) = app.act(&manager, &id, "pay", &version).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    let path = format!("/api/v1/console/stores/{}/orders/{id}/actions", app.a.store);

    let too_long = "很".repeat(61);
    let (status, refused) = app
        .post(
            &path,
            Some(&manager),
            json!({"action": "cancel", "version": paid["version"], "reason": too_long}),
        )
        .await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED"),
        "{refused}"
    );
    let (status, cancelled) = app
        .post(
            &path,
            Some(&manager),
            json!({"action": "cancel", "version": paid["version"], "reason": " 菜品售罄 "}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");

    let (status, detail) = app
        .get(
            &format!("/api/v1/console/stores/{}/orders/{id}", app.a.store),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let steps: Vec<(&str, &str)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["action"].as_str().unwrap(), s["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(steps.len(), 3, "{detail}");
    assert_eq!(steps[0], ("place", "diner"));
    assert_eq!(steps[1].0, "pay");
    assert_eq!(steps[2].0, "cancel");
    let last = &detail["history"][2];
    assert_eq!(last["reason"], "菜品售罄", "trimmed, as the diner reads it");
    assert_eq!(last["to_status"], "cancelled");
    assert!(
        last["actor_name"].is_string(),
        "the history names the staff member: {last}"
    );
    assert_eq!(detail["history"][0]["reason"], Value::Null);
    assert_eq!(detail["order"]["cancel_reason"], "菜品售罄");
    // The diner is told why.
    let (status, seen) = app.as_guest(axum::http::Method::GET, &id, "").await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["cancel_reason"], "菜品售罄");

    // The board hears the reason too.
    app.outbox_drained().await;
    let stored = app
        .db()
        .events_after(&format!("orders:{}", app.a.store), 0)
        .await
        .unwrap();
    let cancel = stored
        .iter()
        .rev()
        .find(|e| e.payload_json.contains("\"cancel\""))
        .expect("the cancel is on the board's log");
    let payload: Value = serde_json::from_str(&cancel.payload_json).unwrap();
    assert_eq!(payload["reason"], "菜品售罄");
    app.cleanup().await;
}

#[tokio::test]
async fn a_store_that_accepts_pickup_by_itself_sends_a_paid_order_to_the_kitchen() {
    let app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    let manager = app.login("alpha-manager").await;
    let mut profile = store_profile("alpha 店");
    profile.rules.auto_accept.pickup = true;
    let (status, saved) = app
        .put(
            &format!("/api/v1/console/stores/{}", app.a.store),
            Some(&owner),
            json!({"name": profile.name, "address": profile.address,
                "location": {"latitude_e6": 31_235_000, "longitude_e6": 121_480_000},
                "rules": profile.rules}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["rules"]["auto_accept"]["pickup"], true, "{saved}");
    let (_, board) = app.get(&board_path(&app, ""), Some(&manager)).await;
    assert_eq!(board["auto_accept"]["pickup"], true);

    let (id, version) = placed(&app, "board-auto-1").await;
    // Unpaid, it waits for its money, auto-accept or not.
    app.outbox_drained().await;
    let detail_path = format!("/api/v1/console/stores/{}/orders/{id}", app.a.store);
    let (_, detail) = app.get(&detail_path, Some(&manager)).await;
    assert_eq!(detail["order"]["status"], "awaiting_payment");

    let (status, paid) = app.act(&manager, &id, "pay", &version).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], "placed");
    wait_until("the worker accepts the paid order", || async {
        let (_, detail) = app.get(&detail_path, Some(&manager)).await;
        detail["order"]["status"] == "accepted"
    })
    .await;
    let (_, detail) = app.get(&detail_path, Some(&manager)).await;
    let accept = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action"] == "accept")
        .cloned()
        .unwrap();
    assert_eq!(accept["actor"], "system:auto-accept");
    // As for a tap, the kitchen has its ticket.
    let (status, tickets) = app
        .get(
            &format!("/api/v1/console/stores/{}/kitchen/tickets", app.a.store),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tickets}");
    assert!(
        tickets["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["order_id"] == json!(id)),
        "{tickets}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_dine_in_orders_detail_carries_every_round_of_its_table() {
    let app = TestApp::new().await;
    let manager = app.login("alpha-manager").await;
    let mut body = app.pickup_body(1).await;
    body["channel"] = json!("dine_in");
    body["table_token"] = json!(app.a.table_token);
    body["diners"] = json!(2);
    let first_body = app.quoted(body.clone()).await;
    let (status, first) = app.place("board-table-1", &first_body).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let second_body = app.quoted(body).await;
    let (status, second) = app.place("board-table-2", &second_body).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(second["round"], 2, "{second}");

    let (status, detail) = app
        .get(
            &format!(
                "/api/v1/console/stores/{}/orders/{}",
                app.a.store,
                second["id"].as_str().unwrap()
            ),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let bill = &detail["table_bill"];
    assert_eq!(bill["orders"].as_array().unwrap().len(), 2, "{bill}");
    assert_eq!(bill["orders"][0]["id"], first["id"]);
    let total = first["quote"]["total_fen"].as_i64().unwrap()
        + second["quote"]["total_fen"].as_i64().unwrap();
    assert_eq!(bill["total_fen"], json!(total));
    assert_eq!(bill["unpaid_fen"], json!(total));
    app.cleanup().await;
}

#[tokio::test]
async fn another_brands_staff_see_nothing_of_the_board() {
    let app = TestApp::new().await;
    let (id, _) = placed(&app, "board-iso-1").await;
    let other = app.login(&app.b.owner_login).await;
    for path in [
        board_path(&app, ""),
        board_path(&app, "/events"),
        format!("/api/v1/console/stores/{}/orders/{id}", app.a.store),
    ] {
        let (status, body) = app.get(&path, Some(&other)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    // Nor does a signed-in diner, or nobody.
    let (status, _) = app.get(&board_path(&app, ""), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.cleanup().await;
}
