//! The kitchen display through the API: an order accepted at the console reaches the right
//! station's screen, a second bump is refused with the ticket as it is, a recall brings it
//! back, expo sees every station, tickets stay inside their store, and the live streams replay
//! after `Last-Event-ID` and call pickup numbers without a poll.

use crate::app::{TestApp, code};
use axum::http::StatusCode;
use serde_json::{Value, json};

/// Tenant A's kitchen: stations 热菜 (first: the noodles, which name no station, go there) and
/// 饮品 with a drink of its own.
pub(crate) struct Kitchen {
    pub hot: String,
    pub drinks: String,
    pub drink_sku: Value,
    pub manager: String,
    pub cook: String,
}

pub(crate) async fn kitchen(app: &TestApp) -> Kitchen {
    let owner = app.login(&app.a.owner_login).await;
    let mut ids = Vec::new();
    for (name, sort_order) in [("热菜", 0), ("饮品", 1)] {
        let (status, station) = app
            .post(
                "/api/v1/console/stations",
                Some(&owner),
                json!({"name": name, "sort_order": sort_order}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{station}");
        ids.push(station["id"].as_str().unwrap().to_owned());
    }
    let (status, drink) = app
        .post(
            "/api/v1/console/dishes",
            Some(&owner),
            json!({"category_id": app.a.category, "name": "酸梅汤", "station_id": ids[1],
                "skus": [{"code": "DRINK-1", "name": "杯", "price_fen": 800}], "option_groups": []}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{drink}");
    Kitchen {
        hot: ids[0].clone(),
        drinks: ids[1].clone(),
        drink_sku: drink["skus"][0]["id"].clone(),
        manager: app.login("alpha-manager").await,
        cook: app.login("alpha-kitchen").await,
    }
}

/// A pickup order of one bowl of noodles and two drinks, paid and accepted at the console.
pub(crate) async fn accepted_order(app: &TestApp, k: &Kitchen, key: &str) -> Value {
    let mut body = app.pickup_body(1).await;
    body["lines"]
        .as_array_mut()
        .unwrap()
        .push(json!({"sku_id": k.drink_sku, "quantity": 2, "note": "少冰"}));
    let body = app.quoted(body).await;
    let (status, order) = app.place(key, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let id = order["id"].as_str().unwrap().to_owned();
    let (status, paid) = app.act(&k.manager, &id, "pay", &order["version"]).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    let (status, accepted) = app.act(&k.manager, &id, "accept", &paid["version"]).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    accepted
}

fn kitchen_path(app: &TestApp, rest: &str) -> String {
    format!("/api/v1/console/stores/{}/kitchen/{rest}", app.a.store)
}

async fn board(app: &TestApp, token: &str, station: &str) -> Value {
    let (status, board) = app
        .get(
            &kitchen_path(app, &format!("tickets?station={station}")),
            Some(token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{board}");
    board
}

async fn command(app: &TestApp, token: &str, ticket: &Value, body: Value) -> (StatusCode, Value) {
    let id = ticket["id"].as_str().unwrap();
    app.post(
        &kitchen_path(app, &format!("tickets/{id}/commands")),
        Some(token),
        body,
    )
    .await
}

#[tokio::test]
async fn an_accepted_order_reaches_each_station_and_a_second_bump_is_refused() {
    let app = TestApp::new().await;
    let k = kitchen(&app).await;
    let order = accepted_order(&app, &k, "kds-order-1").await;

    // Each station sees its own ticket: the drinks at 饮品, the noodles at the default 热菜.
    let drinks = board(&app, &k.cook, &k.drinks).await;
    assert_eq!(drinks["tickets"].as_array().unwrap().len(), 1, "{drinks}");
    let drink_ticket = drinks["tickets"][0].clone();
    assert_eq!(
        (
            &drink_ticket["order_id"],
            &drink_ticket["station_id"],
            &drink_ticket["label"],
            &drink_ticket["channel"],
            &drink_ticket["state"],
        ),
        (
            &order["id"],
            &json!(k.drinks),
            &json!(order["pickup_number"].to_string()),
            &json!("pickup"),
            &json!("open"),
        )
    );
    assert_eq!(
        drink_ticket["items"],
        json!([{"line": 1, "dish_id": drink_ticket["items"][0]["dish_id"], "sku_id": k.drink_sku,
            "dish_name": "酸梅汤", "specs": ["杯"], "note": "少冰", "quantity": 2, "state": "waiting", "changed": null}])
    );
    assert_eq!(
        (&drink_ticket["elapsed_ms"], &drink_ticket["prep_status"]),
        (&json!(0), &json!("on_time")),
        "the clock starts at the accept"
    );
    assert_eq!(
        drinks["stations"][1]["prep"],
        json!({"target_secs": 600, "amber_after_secs": 480, "red_after_secs": 600})
    );
    let hot = board(&app, &k.cook, &k.hot).await;
    assert_eq!(hot["tickets"].as_array().unwrap().len(), 1, "{hot}");
    assert_eq!(hot["tickets"][0]["items"][0]["dish_name"], "红烧牛肉面");
    assert_eq!(
        hot["tickets"][0]["items"][0]["specs"],
        json!(["大碗", "微辣"])
    );
    let (_, everything) = app.get(&kitchen_path(&app, "tickets"), Some(&k.cook)).await;
    assert_eq!(everything["tickets"].as_array().unwrap().len(), 2);
    assert_eq!(everything["last_event_id"], 2, "one event per ticket");

    let (_, all_day) = app
        .get(
            &kitchen_path(&app, &format!("all-day?station={}", k.drinks)),
            Some(&k.cook),
        )
        .await;
    assert_eq!(
        all_day,
        json!([{"station_id": k.drinks, "dish_id": drink_ticket["items"][0]["dish_id"], "dish_name": "酸梅汤", "open": 2, "held": 0}])
    );

    // Bump: the ticket leaves the board. A second bump (another screen, same version) is
    // refused with the ticket as it is now, and changes nothing.
    let (status, bumped) = command(
        &app,
        &k.cook,
        &drink_ticket,
        json!({"command": "bump_ticket", "seen": drink_ticket["version"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{bumped}");
    assert_eq!(
        (&bumped["state"], &bumped["version"], &bumped["prep_status"]),
        (&json!("bumped"), &json!(2), &Value::Null)
    );
    let (status, again) = command(
        &app,
        &k.cook,
        &drink_ticket,
        json!({"command": "bump_ticket", "seen": drink_ticket["version"]}),
    )
    .await;
    assert_eq!(
        (status, code(&again)),
        (StatusCode::CONFLICT, "TICKET_ALREADY_BUMPED"),
        "{again}"
    );
    assert_eq!(
        (
            &again["error"]["ticket"]["state"],
            &again["error"]["ticket"]["version"]
        ),
        (&json!("bumped"), &json!(2))
    );
    let drinks = board(&app, &k.cook, &k.drinks).await;
    assert_eq!(drinks["tickets"], json!([]));
    let (_, all_day) = app
        .get(
            &kitchen_path(&app, &format!("all-day?station={}", k.drinks)),
            Some(&k.cook),
        )
        .await;
    assert_eq!(all_day, json!([]), "nothing left to make at 饮品");

    // A stale screen's item bump on the other ticket is refused as changed-since.
    let hot_ticket = hot["tickets"][0].clone();
    let (status, stale) = command(
        &app,
        &k.cook,
        &hot_ticket,
        json!({"command": "bump_item", "line": 0, "seen": 7}),
    )
    .await;
    assert_eq!(
        (status, code(&stale)),
        (StatusCode::CONFLICT, "TICKET_CHANGED"),
        "{stale}"
    );

    // Recall: today's bumped tickets list it, and a recall brings it back to the board.
    let (_, recallable) = app
        .get(
            &kitchen_path(&app, &format!("bumped?station={}", k.drinks)),
            Some(&k.cook),
        )
        .await;
    assert_eq!(recallable[0]["id"], drink_ticket["id"], "{recallable}");
    let (status, recalled) = command(
        &app,
        &k.cook,
        &drink_ticket,
        json!({"command": "recall", "seen": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{recalled}");
    assert_eq!(
        (&recalled["state"], &recalled["recalls"]),
        (&json!("recalled"), &json!(1))
    );
    assert_eq!(
        board(&app, &k.cook, &k.drinks).await["tickets"][0]["id"],
        drink_ticket["id"]
    );
    app.cleanup().await;
}

async fn expo(app: &TestApp, cook: &str) -> Value {
    let (status, expo) = app.get(&kitchen_path(app, "expo"), Some(cook)).await;
    assert_eq!(status, StatusCode::OK, "{expo}");
    expo
}

#[tokio::test]
async fn expo_sees_every_station_and_the_order_goes_out_once_all_are_bumped() {
    let app = TestApp::new().await;
    let k = kitchen(&app).await;
    let order = accepted_order(&app, &k, "kds-expo-1").await;
    let before = expo(&app, &k.cook).await;
    assert_eq!(before["orders"].as_array().unwrap().len(), 1, "{before}");
    assert_eq!(before["orders"][0]["order_id"], order["id"]);
    assert_eq!(
        before["orders"][0]["expo"],
        json!({"tickets": 2, "bumped": 0, "ready": false})
    );
    for ticket in before["orders"][0]["tickets"].as_array().unwrap() {
        let (status, body) = command(
            &app,
            &k.cook,
            ticket,
            json!({"command": "bump_ticket", "seen": ticket["version"]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let after = expo(&app, &k.cook).await;
    assert_eq!(
        after["orders"][0]["expo"],
        json!({"tickets": 2, "bumped": 2, "ready": true})
    );
    // Expo sends the order out: the cook marks it ready, and it leaves expo.
    let id = order["id"].as_str().unwrap();
    let (status, ready) = app
        .act(
            &k.cook,
            id,
            "mark_ready",
            &after["orders"][0]["order_version"],
        )
        .await;
    assert_eq!(
        (status, &ready["status"]),
        (StatusCode::OK, &json!("ready"))
    );
    assert_eq!(expo(&app, &k.cook).await["orders"], json!([]));
    app.cleanup().await;
}

#[tokio::test]
async fn hold_and_fire_are_for_dine_in_and_a_waiter_cannot_bump() {
    let app = TestApp::new().await;
    let k = kitchen(&app).await;
    accepted_order(&app, &k, "kds-hold-1").await;
    let ticket = board(&app, &k.cook, &k.hot).await["tickets"][0].clone();
    let (status, body) = command(
        &app,
        &k.cook,
        &ticket,
        json!({"command": "hold", "lines": [0], "seen": ticket["version"]}),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "TICKET_HOLD_DINE_IN_ONLY")
    );
    let (status, body) = command(
        &app,
        &k.cook,
        &ticket,
        json!({"command": "bump_item", "seen": ticket["version"]}),
    )
    .await;
    // The document's shape for `bump_item` requires `line`: the body does not fit it.
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_BODY"),
        "{body}"
    );
    assert!(
        body["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("`line`"),
        "{body}"
    );
    let (status, body) = command(
        &app,
        &k.cook,
        &ticket,
        json!({"command": "teleport", "seen": ticket["version"]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let waiter = app.login("alpha-waiter").await;
    let (status, body) = command(
        &app,
        &waiter,
        &ticket,
        json!({"command": "bump_ticket", "seen": ticket["version"]}),
    )
    .await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    assert_eq!(
        board(&app, &k.cook, &k.hot).await["tickets"][0]["version"],
        ticket["version"],
        "refusals change nothing"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_cook_of_one_brand_sees_nothing_of_another_brands_kitchen() {
    let app = TestApp::new().await;
    let k = kitchen(&app).await;
    accepted_order(&app, &k, "kds-brand-a-1").await;
    let a_ticket = board(&app, &k.cook, &k.hot).await["tickets"][0].clone();
    let b_cook = app.login("beta-kitchen").await;
    let b_store = app.b.store;
    for path in [
        "tickets",
        "bumped",
        "all-day",
        "expo",
        "events",
        "expo/events",
    ] {
        let (status, body) = app
            .get(
                &format!("/api/v1/console/stores/{}/kitchen/{path}", app.a.store),
                Some(&b_cook),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::NOT_FOUND, "NOT_FOUND"),
            "{path}"
        );
    }
    // Nor through their own store's path with A's ticket id.
    let (status, _) = app
        .post(
            &format!(
                "/api/v1/console/stores/{b_store}/kitchen/tickets/{}/commands",
                a_ticket["id"].as_str().unwrap()
            ),
            Some(&b_cook),
            json!({"command": "bump_ticket", "seen": a_ticket["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .post(
            &format!(
                "/api/v1/console/stores/{}/kitchen/tickets/{}/commands",
                app.a.store,
                a_ticket["id"].as_str().unwrap()
            ),
            Some(&b_cook),
            json!({"command": "bump_ticket", "seen": a_ticket["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        board(&app, &k.cook, &k.hot).await["tickets"][0]["state"],
        "open"
    );
    app.cleanup().await;
}

/// Reads SSE blocks until `want` events named one of `kinds` arrived: (id, event, data).
async fn read_events(
    response: &mut reqwest::Response,
    kinds: &[&str],
    want: usize,
) -> Vec<(String, String, Value)> {
    crate::app::read_sse(response, want, |block| {
        let kind = block
            .field("event:")
            .filter(|k| kinds.contains(&k.as_str()))?;
        let data = block
            .field("data:")
            .and_then(|d| serde_json::from_str(&d).ok())
            .unwrap_or(Value::Null);
        Some((block.field("id:").unwrap_or_default(), kind, data))
    })
    .await
}

const TICKET_KINDS: &[&str] = &["ticket.created", "ticket.bumped", "ticket.recalled"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kitchen_stream_replays_after_last_event_id_and_beats_while_idle() {
    let app = TestApp::new().await;
    let k = kitchen(&app).await;
    accepted_order(&app, &k, "kds-live-1").await;
    let served = app.serve().await;
    let http = reqwest::Client::new();
    let url = format!(
        "{}/api/v1/console/stores/{}/kitchen/events",
        served.base, app.a.store
    );

    // A screen that saw event 1 reconnects: event 2 from the log, then a bump live.
    let mut stream = http
        .get(&url)
        .bearer_auth(&k.cook)
        .header("last-event-id", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let replayed = read_events(&mut stream, TICKET_KINDS, 1).await;
    assert_eq!(
        (replayed[0].0.as_str(), replayed[0].1.as_str()),
        ("2", "ticket.created")
    );
    let ticket = replayed[0].2["ticket"].clone();
    assert!(
        ticket["cooking_since_ms"].is_i64(),
        "the event carries the clock's start: {ticket}"
    );
    let (status, body) = command(
        &app,
        &k.cook,
        &ticket,
        json!({"command": "bump_ticket", "seen": ticket["version"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let live = read_events(&mut stream, TICKET_KINDS, 1).await;
    assert_eq!(
        (
            live[0].0.as_str(),
            live[0].1.as_str(),
            &live[0].2["ticket"]["id"]
        ),
        ("3", "ticket.bumped", &ticket["id"])
    );
    // Idle, the stream still says it is alive, so a screen can tell silence from a dead line.
    let beat = read_events(&mut stream, &["heartbeat"], 1).await;
    assert_eq!(beat[0].1, "heartbeat");

    // A first connect resumes from the board's version given as `after`; the header wins.
    let mut fresh = http
        .get(format!("{url}?after=2"))
        .bearer_auth(&k.cook)
        .send()
        .await
        .unwrap();
    assert_eq!(read_events(&mut fresh, TICKET_KINDS, 1).await[0].0, "3");
    let mut both = http
        .get(format!("{url}?after=0"))
        .bearer_auth(&k.cook)
        .header("last-event-id", "2")
        .send()
        .await
        .unwrap();
    assert_eq!(read_events(&mut both, TICKET_KINDS, 1).await[0].0, "3");

    drop((stream, fresh, both));
    served.stop().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pickup_screen_calls_a_number_when_the_order_is_ready() {
    let app = TestApp::new().await;
    let k = kitchen(&app).await;
    let order = accepted_order(&app, &k, "kds-pickup-1").await;
    let served = app.serve().await;
    let http = reqwest::Client::new();
    // No login: the screen faces the diners.
    let mut stream = http
        .get(format!(
            "{}/api/v1/stores/{}/pickup/events",
            served.base, app.a.store
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let first = read_events(&mut stream, &["pickup"], 1).await;
    assert_eq!(first[0].2, json!({"calling": []}));
    let (status, ready) = app
        .act(
            &k.cook,
            order["id"].as_str().unwrap(),
            "mark_ready",
            &order["version"],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    let called = read_events(&mut stream, &["pickup"], 1).await;
    assert_eq!(called[0].2, json!({"calling": [order["pickup_number"]]}));
    drop(stream);

    let (status, _) = app
        .get(
            &format!(
                "/api/v1/stores/{}/pickup/events",
                diancan_domain::StoreId::new()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    served.stop().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expo_screens_hear_an_order_leave_once_it_is_sent_out() {
    let app = TestApp::new().await;
    let k = kitchen(&app).await;
    let order = accepted_order(&app, &k, "kds-expo-live-1").await;
    let served = app.serve().await;
    let mut stream = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/console/stores/{}/kitchen/expo/events",
            served.base, app.a.store
        ))
        .bearer_auth(&k.cook)
        .send()
        .await
        .unwrap();
    let first = read_events(&mut stream, &["expo"], 1).await;
    assert_eq!(first[0].2["orders"][0]["order_id"], order["id"]);
    let (status, ready) = app
        .act(
            &k.cook,
            order["id"].as_str().unwrap(),
            "mark_ready",
            &order["version"],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    let after = read_events(&mut stream, &["expo"], 1).await;
    assert_eq!(
        after[0].2["orders"],
        json!([]),
        "woken by the order's change"
    );
    drop(stream);
    served.stop().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_stations_prep_target_is_set_by_the_menu_s_editors_and_checked() {
    let app = TestApp::new().await;
    let k = kitchen(&app).await;
    let owner = app.login(&app.a.owner_login).await;
    let path = format!("/api/v1/console/kitchen/stations/{}/prep", k.hot);
    let (status, set) = app
        .put(
            &path,
            Some(&owner),
            json!({"target_secs": 420, "amber_after_secs": 300, "red_after_secs": 420}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["target_secs"], 420);
    let (_, list) = app
        .get("/api/v1/console/kitchen/stations", Some(&k.cook))
        .await;
    let hot = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["station_id"] == json!(k.hot))
        .unwrap();
    assert_eq!(
        (hot["amber_after_secs"].as_i64(), hot["name"].as_str()),
        (Some(300), Some("热菜"))
    );

    // Amber after red, or a cook: refused, nothing changes.
    let (status, refused) = app
        .put(
            &path,
            Some(&owner),
            json!({"target_secs": 420, "amber_after_secs": 500, "red_after_secs": 420}),
        )
        .await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::UNPROCESSABLE_ENTITY, "PREP_TARGET_INVALID")
    );
    let (status, _) = app
        .put(
            &path,
            Some(&k.cook),
            json!({"target_secs": 60, "amber_after_secs": 30, "red_after_secs": 60}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Another brand's station is not found.
    let other = app.login(&app.b.owner_login).await;
    let (status, _) = app
        .put(
            &path,
            Some(&other),
            json!({"target_secs": 60, "amber_after_secs": 30, "red_after_secs": 60}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.cleanup().await;
}
