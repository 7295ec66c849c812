//! The floor plan through the API: each table's state follows its sitting and orders, 换台
//! moves the diners with their orders, bill, kitchen tickets and cart to an empty table (and
//! refuses a taken one), 并台 puts two tables on one bill and frees the first, and a cook may
//! do neither.

use crate::app::{TestApp, code};
use axum::http::StatusCode;
use serde_json::{Value, json};

/// A second table of tenant A's area: (id, token).
async fn second_table(app: &TestApp, owner: &str) -> (String, String) {
    let (status, table) = app
        .post(
            &format!("/api/v1/console/stores/{}/tables", app.a.store),
            Some(owner),
            json!({"area_id": app.a.area, "code": "B9", "seats": 4}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{table}");
    let token = table["qr_path"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    (table["id"].as_str().unwrap().to_owned(), token)
}

/// A dine-in order at the table of `token`.
async fn order_at(app: &TestApp, token: &str, key: &str) -> Value {
    let mut body = app.pickup_body(1).await;
    body["channel"] = json!("dine_in");
    body["table_token"] = json!(token);
    body["diners"] = json!(2);
    let body = app.quoted(body).await;
    let (status, order) = app.place(key, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    order
}

async fn floor(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, floor) = app
        .get(
            &format!("/api/v1/console/stores/{}/floor", app.a.store),
            Some(token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{floor}");
    floor["tables"].as_array().unwrap().clone()
}

fn table<'a>(floor: &'a [Value], id: &str) -> &'a Value {
    floor
        .iter()
        .find(|t| t["id"] == json!(id))
        .expect("the table on the floor")
}

fn tables_path(app: &TestApp, table: &str, rest: &str) -> String {
    format!(
        "/api/v1/console/stores/{}/tables/{table}/{rest}",
        app.a.store
    )
}

#[tokio::test]
async fn a_tables_state_follows_its_sitting_and_orders() {
    let app = TestApp::new().await;
    let manager = app.login("alpha-manager").await;
    let first = app.a.table.to_string();
    assert_eq!(table(&floor(&app, &manager).await, &first)["state"], "idle");

    let order = order_at(&app, &app.a.table_token, "floor-state-1").await;
    // A pay-first store: the diners are still paying for their first round.
    let t = table(&floor(&app, &manager).await, &first).clone();
    assert_eq!(t["state"], "ordering", "{t}");
    assert_eq!(t["orders"], 1);
    assert_eq!(t["unpaid_fen"], order["quote"]["total_fen"]);

    let (status, paid) = app
        .act(
            &manager,
            order["id"].as_str().unwrap(),
            "pay",
            &order["version"],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    let t = table(&floor(&app, &manager).await, &first).clone();
    assert_eq!(t["state"], "eating", "{t}");
    assert_eq!(t["unpaid_fen"], 0);
    app.cleanup().await;
}

#[tokio::test]
async fn transferring_moves_the_diners_orders_and_bill_to_an_empty_table() {
    let app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    let manager = app.login("alpha-manager").await;
    let (second, second_token) = second_table(&app, &owner).await;
    let first = app.a.table.to_string();
    let order = order_at(&app, &app.a.table_token, "floor-move-1").await;

    let (status, moved) = app
        .post(
            &tables_path(&app, &first, "transfer"),
            Some(&manager),
            json!({"to_table_id": second}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["table_id"], json!(second));
    let plan = floor(&app, &manager).await;
    assert_eq!(table(&plan, &first)["state"], "idle");
    assert_eq!(table(&plan, &second)["orders"], 1);

    // The order now names the new table, at a new version (boards redraw it).
    let id = order["id"].as_str().unwrap();
    let (_, detail) = app
        .get(
            &format!("/api/v1/console/stores/{}/orders/{id}", app.a.store),
            Some(&manager),
        )
        .await;
    assert_eq!(detail["order"]["table_code"], "B9", "{detail}");
    assert_eq!(
        detail["order"]["version"],
        json!(order["version"].as_i64().unwrap() + 1)
    );
    // A 加菜 scanned at the new table joins the same bill.
    let more = order_at(&app, &second_token, "floor-move-2").await;
    assert_eq!(more["round"], 2, "{more}");

    // Onto a table where diners sit: refused, nothing moves.
    order_at(&app, &app.a.table_token, "floor-move-3").await;
    let (status, refused) = app
        .post(
            &tables_path(&app, &first, "transfer"),
            Some(&manager),
            json!({"to_table_id": second}),
        )
        .await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::CONFLICT, "TABLE_TAKEN"),
        "{refused}"
    );
    let plan = floor(&app, &manager).await;
    assert_eq!(table(&plan, &first)["orders"], 1);
    assert_eq!(table(&plan, &second)["orders"], 2);

    // A cook moves no diners.
    let cook = app.login("alpha-kitchen").await;
    let (status, _) = app
        .post(
            &tables_path(&app, &second, "transfer"),
            Some(&cook),
            json!({"to_table_id": first}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.cleanup().await;
}

#[tokio::test]
async fn transferring_relabels_the_kitchen_tickets_and_takes_the_cart_along() {
    let app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    let k = crate::kitchen::kitchen(&app).await;
    let (second, second_token) = second_table(&app, &owner).await;
    let first = app.a.table.to_string();
    let order = order_at(&app, &app.a.table_token, "floor-relabel-1").await;
    let id = order["id"].as_str().unwrap();
    let (status, paid) = app.act(&k.manager, id, "pay", &order["version"]).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    let (status, accepted) = app.act(&k.manager, id, "accept", &paid["version"]).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    // Someone at the table is still choosing the next round.
    let first_cart = format!("/api/v1/tables/{}/cart", app.a.table_token);
    let line_id = uuid::Uuid::now_v7();
    let (status, cart) = app
        .post(
            &first_cart,
            None,
            json!({"kind": "put", "line_id": line_id, "line": {"sku_id": app.a.sku},
                "quantity": 2, "added_by": "小王"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cart}");

    let (status, moved) = app
        .post(
            &tables_path(&app, &first, "transfer"),
            Some(&k.manager),
            json!({"to_table_id": second}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");

    let (status, hot) = app
        .get(
            &format!(
                "/api/v1/console/stores/{}/kitchen/tickets?station={}",
                app.a.store, k.hot
            ),
            Some(&k.cook),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{hot}");
    let tickets = hot["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 1, "{hot}");
    assert_eq!(
        tickets[0]["label"], "B9",
        "the cook sends the dishes to the new table"
    );
    assert_eq!(tickets[0]["version"], 2, "a change screens redraw");

    let (_, left) = app.get(&first_cart, None).await;
    assert_eq!(left["lines"].as_array().unwrap().len(), 0, "{left}");
    let (_, arrived) = app
        .get(&format!("/api/v1/tables/{second_token}/cart"), None)
        .await;
    let lines = arrived["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{arrived}");
    assert_eq!(lines[0]["id"], json!(line_id));
    assert_eq!(lines[0]["quantity"], 2);
    assert_eq!(lines[0]["added_by"], "小王");
    app.cleanup().await;
}

#[tokio::test]
async fn merging_puts_two_tables_on_one_bill_and_frees_the_first() {
    let app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    let manager = app.login("alpha-manager").await;
    let (second, second_token) = second_table(&app, &owner).await;
    let first = app.a.table.to_string();
    let kept = order_at(&app, &app.a.table_token, "floor-merge-1").await;
    let joining = order_at(&app, &second_token, "floor-merge-2").await;

    // Joining a table nobody sits at is refused.
    let (third, _) = {
        let (status, t) = app
            .post(
                &format!("/api/v1/console/stores/{}/tables", app.a.store),
                Some(&owner),
                json!({"area_id": app.a.area, "code": "C1", "seats": 2}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        (t["id"].as_str().unwrap().to_owned(), ())
    };
    let (status, refused) = app
        .post(
            &tables_path(&app, &second, "merge"),
            Some(&manager),
            json!({"into_table_id": third}),
        )
        .await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::CONFLICT, "TABLE_NOT_OPEN"),
        "{refused}"
    );

    let (status, merged) = app
        .post(
            &tables_path(&app, &second, "merge"),
            Some(&manager),
            json!({"into_table_id": first}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    let plan = floor(&app, &manager).await;
    assert_eq!(table(&plan, &second)["state"], "idle");
    let both = table(&plan, &first);
    assert_eq!(both["orders"], 2, "{both}");
    let total = kept["quote"]["total_fen"].as_i64().unwrap()
        + joining["quote"]["total_fen"].as_i64().unwrap();
    assert_eq!(both["total_fen"], json!(total));

    // The joined order keeps the table it is served at, on the first table's bill.
    let id = joining["id"].as_str().unwrap();
    let (_, detail) = app
        .get(
            &format!("/api/v1/console/stores/{}/orders/{id}", app.a.store),
            Some(&manager),
        )
        .await;
    assert_eq!(detail["order"]["table_code"], "B9");
    assert_eq!(
        detail["table_bill"]["orders"].as_array().unwrap().len(),
        2,
        "{detail}"
    );
    app.cleanup().await;
}
