//! Clients that hang up mid-request must never lose an acknowledged write or leave a
//! transaction open: many clients with tiny timeouts create categories, or place orders, on a
//! real socket; then every write acknowledged with 201 must be in the database, nothing may be
//! half-written, and writes still work.

use crate::app::TestApp;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_clients_never_lose_acknowledged_writes() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let served = app.serve().await;
    let address: std::net::SocketAddr = served.base.trim_start_matches("http://").parse().unwrap();

    let mut clients = Vec::new();
    for client in 0..8u64 {
        let token = token.clone();
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut abandoned = 0;
            for round in 0..25u64 {
                // Timeouts from 1 to 8 ms: many requests are abandoned while their write runs.
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_millis(1 + (client + round) % 8))
                    .build()
                    .unwrap();
                let name = format!("夜宵{client}-{round}");
                let sent = http
                    .post(format!("http://{address}/api/v1/console/categories"))
                    .bearer_auth(&token)
                    .json(&json!({"name": name}))
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == 201 => acknowledged.push(name),
                    Ok(response) => panic!("unexpected {}", response.status()),
                    Err(_) => abandoned += 1,
                }
            }
            (acknowledged, abandoned)
        }));
    }
    let mut acknowledged = Vec::new();
    let mut abandoned = 0;
    for client in clients {
        let (names, dropped) = client.await.unwrap();
        acknowledged.extend(names);
        abandoned += dropped;
    }
    assert!(
        abandoned > 0,
        "the test must actually drop connections mid-request"
    );

    // A slow, patient client: the database still takes writes (no stranded transaction).
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let response = http
        .post(format!("http://{address}/api/v1/console/categories"))
        .bearer_auth(&token)
        .json(&json!({"name": "最后一个"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    let stored: std::collections::HashSet<String> = app
        .db()
        .categories(app.a.brand)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name.into_string())
        .collect();
    for name in &acknowledged {
        assert!(
            stored.contains(name),
            "category {name} was acknowledged but is not stored"
        );
    }
    assert!(stored.contains("最后一个"));
    served.stop().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_diners_never_lose_an_acknowledged_order_nor_leave_half_of_one() {
    let app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    let stock = 1_000;
    let (status, _) = app
        .put(
            &format!("/api/v1/console/stores/{}/skus/{}", app.a.store, app.a.sku),
            Some(&owner),
            json!({"price_fen": null, "stock": stock, "daily_limit": null, "low_stock_threshold": null, "sold_out": false}),
        )
        .await;
    assert_eq!(status, 200);
    let body = app.quoted(app.pickup_body(1).await).await;

    let served = app.serve().await;
    let address: std::net::SocketAddr = served.base.trim_start_matches("http://").parse().unwrap();
    let store = app.a.store;
    let mut clients = Vec::new();
    for client in 0..8u64 {
        let body = body.clone();
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut abandoned = 0;
            for round in 0..20u64 {
                // Timeouts from 1 to 8 ms: many diners hang up while their order is written.
                // Each diner's last try waits: on a loaded machine every short one can give
                // up before the server reads it, and the test needs some orders written.
                let patience = if round == 19 {
                    5_000
                } else {
                    1 + (client + round) % 8
                };
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_millis(patience))
                    .build()
                    .unwrap();
                let sent = http
                    .post(format!("http://{address}/api/v1/stores/{store}/orders"))
                    .header("idempotency-key", format!("gone-{client}-{round}"))
                    .json(&body)
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == 201 => {
                        let order: serde_json::Value = match response.json().await {
                            Ok(order) => order,
                            // Hung up while the answer was on its way: not acknowledged.
                            Err(_) => continue,
                        };
                        acknowledged.push(order["id"].as_str().unwrap().to_owned());
                    }
                    Ok(response) => panic!("unexpected {}", response.status()),
                    Err(_) => abandoned += 1,
                }
            }
            (acknowledged, abandoned)
        }));
    }
    let mut acknowledged = Vec::new();
    let mut abandoned = 0;
    for client in clients {
        let (ids, dropped) = client.await.unwrap();
        acknowledged.extend(ids);
        abandoned += dropped;
    }
    assert!(
        abandoned > 0,
        "the test must actually drop connections mid-request"
    );

    // Abandoned requests may still be writing. Stock and orders change in one transaction, so a
    // stock reading taken between two equal order counts belongs to exactly those orders.
    let day = diancan_domain::schedule::BusinessDate::from_date(jiff::civil::date(2026, 11, 25));
    let orders = || app.db().store_orders(app.a.brand, app.a.store, day);
    let (stored, left) = loop {
        let before = orders().await.unwrap();
        let settings = app.db().store_menu_settings(app.a.store).await.unwrap();
        let after = orders().await.unwrap();
        if before.len() == after.len() {
            break (after, settings.sku_states[&app.a.sku].stock);
        }
    };
    assert!(!stored.is_empty(), "orders were written");
    let stored_ids: std::collections::HashSet<String> =
        stored.iter().map(|o| o.id.to_string()).collect();
    for id in &acknowledged {
        assert!(
            stored_ids.contains(id),
            "order {id} was acknowledged but is not stored"
        );
    }
    assert_eq!(
        left,
        Some(stock - stored.len() as i64),
        "every stored order took its bowl and no bowl went without an order"
    );
    let mut numbers: Vec<i64> = stored.iter().map(|o| o.pickup_number).collect();
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=stored.len() as i64).collect::<Vec<_>>(),
        "no gaps, no repeats"
    );

    served.stop().await;
    app.cleanup().await;
}
