//! Dine-in orders and their table's sitting (开台): a refused order leaves the table as it
//! was, because the sitting is opened in the same transaction as the order it is opened for.

use crate::app::{TestApp, code};
use axum::http::StatusCode;
use serde_json::{Value, json};

/// Whether tenant A's table has an open sitting, as the database and the table's page say.
async fn table_open(app: &TestApp) -> bool {
    let stored = app
        .db()
        .open_table_session_of(app.a.table)
        .await
        .unwrap()
        .is_some();
    let (status, landing) = app
        .get(&format!("/api/v1/tables/{}", app.a.table_token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{landing}");
    assert_eq!(landing["session_open"], stored, "{landing}");
    stored
}

async fn set_stock(app: &TestApp, token: &str, stock: i64) {
    let (status, body) = app
        .put(
            &format!("/api/v1/console/stores/{}/skus/{}", app.a.store, app.a.sku),
            Some(token),
            json!({"price_fen": null, "stock": stock, "daily_limit": null, "low_stock_threshold": null, "sold_out": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn dine_in_body(app: &TestApp) -> Value {
    let mut body = app.pickup_body(1).await;
    body["channel"] = json!("dine_in");
    body["table_token"] = json!(app.a.table_token);
    body["diners"] = json!(2);
    app.quoted(body).await
}

#[tokio::test]
async fn a_refused_dine_in_order_leaves_the_table_as_it_was() {
    let mut app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    set_stock(&app, &owner, 1).await;
    let dine_in = dine_in_body(&app).await;
    let pickup = app.quoted(app.pickup_body(1).await).await;
    assert!(!table_open(&app).await, "nobody sits at the table yet");

    let mut stale = dine_in.clone();
    stale["quote_version"] = json!("0000000000000000");
    let (status, error) = app.place("table-stale-1", &stale).await;
    assert_eq!(
        (status, code(&error)),
        (StatusCode::CONFLICT, "STALE_QUOTE")
    );
    assert!(!table_open(&app).await, "a stale quote opens no table");

    // Stock an order takes is announced through the outbox; with it stopped, this instance's
    // menu still shows the last bowl after a pickup order takes it. So the dine-in order passes
    // pricing and is refused by the write itself, in the transaction that would open the table.
    app.outbox_drained().await;
    app.stop_outbox();
    let (status, taken) = app.place("table-last-bowl", &pickup).await;
    assert_eq!(status, StatusCode::CREATED, "{taken}");
    let (status, error) = app.place("table-sold-out", &dine_in).await;
    assert_eq!(
        (status, code(&error)),
        (StatusCode::CONFLICT, "SOLD_OUT"),
        "{error}"
    );
    assert!(!table_open(&app).await, "a sold-out order opens no table");
    app.start_outbox();

    set_stock(&app, &owner, 5).await;
    let dine_in = dine_in_body(&app).await;
    let (status, placed) = app.place("table-placed-1", &dine_in).await;
    assert_eq!(
        (status, &placed["table_code"], &placed["round"]),
        (StatusCode::CREATED, &json!("A1"), &json!(1)),
        "{placed}"
    );
    assert!(table_open(&app).await, "a placed order seats the table");
    app.cleanup().await;
}
