//! Clients that hang up mid-request must never lose an acknowledged write or leave a
//! transaction open: many clients with tiny timeouts create categories on a real socket,
//! then every category acknowledged with 201 must be in the database, and writes still work.

use crate::app::TestApp;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_clients_never_lose_acknowledged_writes() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(diancan_web::serve(
        listener,
        app.state.clone(),
        async move {
            let _ = stopped.await;
        },
    ));

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
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    app.cleanup().await;
}
