//! The rider's phone: a delivery order given to the demo rider through the API shows on
//! /rider with the diner's address and a tap-to-call link; 取货 sends the order out and 送达
//! completes it, and the card leaves the list.

use crate::harness::{TestApp, Viewport, browser_test, picture};
use crate::page;
use anyhow::Context;
use serde_json::{Value, json};

const ADDRESS: &str = "人民路 8 号 3 楼 301";
const PHONE: &str = "13800138000";

async fn send(app: &TestApp, token: &str, path: &str, body: Value) -> anyhow::Result<Value> {
    let response = app
        .http
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    anyhow::ensure!(status.is_success(), "POST {path} answered {status}: {text}");
    Ok(serde_json::from_str(&text)?)
}

/// A guest's delivery order at the tour store, moved by the owner until it is ready.
async fn ready_delivery_order(app: &TestApp, token: &str) -> anyhow::Result<Value> {
    let store = app.tour.store_id;
    let info = app.get_json(&format!("/api/v1/stores/{store}")).await?;
    let menu = app
        .get_json(&format!("/api/v1/stores/{store}/menu"))
        .await?;
    let (sku, _) = crate::kitchen::simple_dish(&menu)?;
    let mut body = json!({
        "channel": "delivery",
        "lines": [{"sku_id": sku, "quantity": 2}],
        "delivery_to": info["location"],
    });
    let quote: Value = app
        .http
        .post(app.url(&format!("/api/v1/stores/{store}/quote")))
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    body["quote_version"] = quote["version"].clone();
    body["delivery_address"] = json!(ADDRESS);
    body["contact"] = json!({"name": "林女士", "phone": PHONE});
    let response = app
        .http
        .post(app.url(&format!("/api/v1/stores/{store}/orders")))
        .header("idempotency-key", "e2e-rider-1")
        .json(&body)
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == 201,
        "placing: {}",
        response.text().await?
    );
    let mut order: Value = response.json().await?;
    let id = order["id"].as_str().context("order id")?.to_owned();
    for _ in 0..5 {
        let action = match order["status"].as_str() {
            Some("awaiting_payment") => "pay",
            Some("placed") => "accept",
            Some("accepted") => "start_preparing",
            Some("preparing") => "mark_ready",
            _ => break,
        };
        order = send(
            app,
            token,
            &format!("/api/v1/console/stores/{store}/orders/{id}/actions"),
            json!({"action": action, "version": order["version"]}),
        )
        .await?;
    }
    anyhow::ensure!(order["status"] == "ready", "not ready: {order}");
    Ok(order)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rider_picks_up_and_delivers_from_their_phone() {
    browser_test(
        "the_rider_picks_up_and_delivers_from_their_phone",
        Viewport::Phone,
        |app, driver| async move {
            let token = app.owner_token().await?;
            app.open_store_all_day(&token).await?;
            let store = app.tour.store_id;
            let order = ready_delivery_order(&app, &token).await?;
            let id = order["id"].as_str().context("order id")?.to_owned();
            let staff: Value = app
                .http
                .get(app.url("/api/v1/console/staff"))
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await?;
            let rider = staff
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["login"] == "rider")
                .context("the demo rider")?["id"]
                .clone();
            send(
                &app,
                &token,
                &format!("/api/v1/console/stores/{store}/orders/{id}/deliveries"),
                json!({"rider_id": rider}),
            )
            .await?;

            driver
                .goto(app.url(&format!("/rider?store={store}")))
                .await?;
            page::fill(&driver, "form.login input[name=login]", "rider").await?;
            page::fill(
                &driver,
                "form.login input[name=password]",
                diancan::demo::DEMO_PASSWORD,
            )
            .await?;
            page::tap(&driver, "form.login [type=submit]").await?;
            page::text_is(&driver, "article.delivery .address", ADDRESS)
                .await
                .context("the delivery with the diner's address")?;
            page::present(
                &driver,
                &format!("article.delivery a.call[href='tel:{PHONE}']"),
            )
            .await
            .context("tap to call the diner")?;
            picture(&driver, "rider-phone").await?;
            page::tap(
                &driver,
                "article.delivery[data-state=assigned] button.primary",
            )
            .await?;
            page::present(&driver, "article.delivery[data-state=picked_up] button.go")
                .await
                .context("on the way, 送达 offered")?;
            let now = app
                .http
                .get(app.url(&format!(
                    "/api/v1/console/stores/{store}/orders/{id}/deliveries"
                )))
                .bearer_auth(&token)
                .send()
                .await?
                .json::<Value>()
                .await?;
            anyhow::ensure!(now[0]["delivery"]["state"] == "picked_up", "{now}");
            page::tap(&driver, "article.delivery button.go").await?;
            page::present(&driver, ".empty")
                .await
                .context("the list empties")?;
            let board = app
                .http
                .get(app.url(&format!("/api/v1/console/stores/{store}/board")))
                .bearer_auth(&token)
                .send()
                .await?
                .json::<Value>()
                .await?;
            let card = board["orders"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|o| o["id"] == id.as_str())
                .context("the order on the board")?;
            anyhow::ensure!(card["status"] == "completed", "{card}");
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_gives_an_order_to_a_rider_and_follows_the_delivery_live() {
    browser_test(
        "the_board_gives_an_order_to_a_rider_and_follows_the_delivery_live",
        Viewport::Laptop,
        |app, driver| async move {
            let token = app.owner_token().await?;
            app.open_store_all_day(&token).await?;
            let store = app.tour.store_id;
            driver.set_window_rect(0, 0, 1024, 768).await?;
            driver.goto(app.url("/console/orders")).await?;
            driver
                .execute(
                    "localStorage.setItem('diancan.console.store', arguments[0]);",
                    vec![json!(store.to_string())],
                )
                .await?;
            driver.goto(app.url("/console/orders")).await?;
            page::fill(&driver, "form#login-form input[name=login]", "owner").await?;
            page::fill(
                &driver,
                "form#login-form input[name=password]",
                diancan::demo::DEMO_PASSWORD,
            )
            .await?;
            page::tap(&driver, "form#login-form [type=submit]").await?;
            page::present(&driver, ".live-line[data-online=true]")
                .await
                .context("the board, live")?;

            let order = ready_delivery_order(&app, &token).await?;
            let id = order["id"].as_str().context("order id")?.to_owned();
            let card = format!("article.order-card[data-order-id=\"{id}\"]");
            page::tap(&driver, &format!("{card} [data-action=assign-delivery]"))
                .await
                .context("派单 on the ready delivery order")?;
            page::tap(&driver, "dialog.assign button.choice[data-rider]")
                .await
                .context("the demo rider in the 派单 dialog")?;
            page::present(&driver, &format!("{card} .delivery-state[data-delivery=assigned]"))
                .await
                .context("the card says the rider has it")?;
            let hand_dispatch = driver
                .execute(
                    "return !!document.querySelector(arguments[0]);",
                    vec![json!(format!("{card} [data-next=dispatch]"))],
                )
                .await?
                .convert::<bool>()?;
            anyhow::ensure!(!hand_dispatch, "配送 by hand is not offered while a rider has it");
            picture(&driver, "board-dispatch").await?;

            // The rider taps 取货 on their phone: the board hears it without a reload.
            let rider_login = app
                .http
                .post(app.url("/api/v1/auth/login"))
                .json(&json!({"login": "rider", "password": diancan::demo::DEMO_PASSWORD}))
                .send()
                .await?
                .json::<Value>()
                .await?;
            let rider = rider_login["token"].as_str().context("rider token")?;
            let mine = app
                .http
                .get(app.url(&format!("/api/v1/console/stores/{store}/rider/deliveries")))
                .bearer_auth(rider)
                .send()
                .await?
                .json::<Value>()
                .await?;
            let delivery = mine[0]["delivery"]["id"].as_str().context("the rider's delivery")?;
            send(
                &app,
                rider,
                &format!("/api/v1/console/stores/{store}/deliveries/{delivery}/pick-up"),
                json!({}),
            )
            .await?;
            page::present(
                &driver,
                &format!(
                    "article.order-card[data-order-id=\"{id}\"][data-status=out_for_delivery] .delivery-state[data-delivery=picked_up]"
                ),
            )
            .await
            .context("the board follows the delivery")?;
            Ok(())
        },
    )
    .await;
}
