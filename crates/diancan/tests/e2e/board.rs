//! The live orders board on a landscape tablet (1024×768): a pickup order paid through the API appears on
//! /console/orders without a reload, the board chimes and speaks it once sound is on (the audio
//! and speech hooks are watched), staff accept it from the card, and turning another order
//! down asks why and keeps the reason in the order's history; the floor plan, the printers
//! and the staff accounts open from the same tablet.

use crate::harness::{Viewport, before_every_page, browser_test, picture};
use crate::page;
use anyhow::Context;
use serde_json::{Value, json};

/// Records what the page asks of the speech and audio APIs, before any script of the page runs.
const WATCH_SOUND: &str = "window.spoken = []; window.tones = 0;
    speechSynthesis.speak = (u) => window.spoken.push(u.text);
    const Real = window.AudioContext;
    window.AudioContext = function () {
        const context = new Real();
        const make = context.createOscillator.bind(context);
        context.createOscillator = () => { const o = make(); const start = o.start.bind(o); o.start = (t) => { window.tones++; start(t); }; return o; };
        return context;
    };";

async fn act(
    app: &crate::harness::TestApp,
    token: &str,
    order: &Value,
    action: &str,
) -> anyhow::Result<Value> {
    let store = app.tour.store_id;
    let id = order["id"].as_str().context("order id")?;
    let response = app
        .http
        .post(app.url(&format!(
            "/api/v1/console/stores/{store}/orders/{id}/actions"
        )))
        .bearer_auth(token)
        .json(&json!({"action": action, "version": order["version"]}))
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == 200,
        "{action}: {}",
        response.text().await?
    );
    Ok(response.json().await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_order_appears_on_the_board_and_is_announced() {
    browser_test(
        "a_paid_order_appears_on_the_board_and_is_announced",
        Viewport::Laptop,
        |app, driver| async move {
            let token = app.owner_token().await?;
            app.open_store_all_day(&token).await?;
            let store = app.tour.store_id;
            let menu = app
                .get_json(&format!("/api/v1/stores/{store}/menu"))
                .await?;
            let (sku, _) = crate::kitchen::simple_dish(&menu)?;

            // A landscape tablet at the counter.
            driver.set_window_rect(0, 0, 1024, 768).await?;
            driver.goto(app.url("/console/orders")).await?;
            driver
                .execute(
                    "localStorage.setItem('diancan.console.store', arguments[0]);",
                    vec![json!(store.to_string())],
                )
                .await?;
            before_every_page(&driver, WATCH_SOUND).await?;
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
            page::tap(&driver, "button.sound[data-sound=false]").await?;
            page::present(&driver, "button.sound[data-sound=true]").await?;

            // Placed and paid through the API: on the board within moments, no reload.
            let order = app.place_pickup(&sku, 1, "e2e-board-order-1").await?;
            let paid = act(&app, &token, &order, "pay").await?;
            let number = paid["pickup_number"].to_string();
            let card = format!(
                "article.order-card[data-order-id=\"{}\"][data-status=placed]",
                paid["id"].as_str().unwrap_or_default()
            );
            page::present(&driver, &card)
                .await
                .context("the new order's card")?;
            let line = format!("您有新的自取订单，取餐号 {number}");
            page::until(
                &driver,
                "window.spoken.includes(args.line) && window.tones > 0",
                json!({"line": line}),
                "the chime and the spoken line",
            )
            .await?;
            picture(&driver, "board-tablet").await?;

            // Accepted from the card: it moves to the kitchen column.
            page::tap(&driver, &format!("{card} [data-next=accept]")).await?;
            page::present(
                &driver,
                &format!(
                    ".col-cooking article[data-order-id=\"{}\"]",
                    paid["id"].as_str().unwrap_or_default()
                ),
            )
            .await
            .context("the accepted order in the kitchen column")?;

            // Another order, turned down with a reason the history keeps.
            let second = app.place_pickup(&sku, 1, "e2e-board-order-2").await?;
            let second = act(&app, &token, &second, "pay").await?;
            let id = second["id"].as_str().unwrap_or_default().to_owned();
            let card = format!("article.order-card[data-order-id=\"{id}\"][data-status=placed]");
            page::present(&driver, &card).await?;
            page::tap(&driver, &format!("{card} [data-next=cancel]")).await?;
            page::tap(&driver, "button.chip[data-reason=菜品售罄]").await?;
            page::tap(&driver, "[data-action=confirm-reject]").await?;
            page::present(
                &driver,
                &format!("article.order-card[data-order-id=\"{id}\"][data-status=cancelled]"),
            )
            .await?;
            let detail = app_detail(&app, &token, &id).await?;
            let reasons: Vec<&str> = detail["history"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["reason"].as_str())
                .collect();
            anyhow::ensure!(reasons == ["菜品售罄"], "history reasons: {reasons:?}");

            // The floor plan and the printers, as staff open them from the same tablet.
            driver.goto(app.url("/console/tables")).await?;
            page::present(&driver, ".table-card[data-state=idle]")
                .await
                .context("the floor plan with its states")?;
            picture(&driver, "floor-tablet").await?;
            driver.goto(app.url("/console/printers")).await?;
            page::present(&driver, ".printers-page")
                .await
                .context("the printers page")?;
            picture(&driver, "printers-tablet").await?;
            driver.goto(app.url("/console/staff")).await?;
            page::present(&driver, "table.staff-list tr[data-staff-id]")
                .await
                .context("the staff accounts")?;
            picture(&driver, "staff-tablet").await?;
            anyhow::Ok(())
        },
    )
    .await;
}

async fn app_detail(app: &crate::harness::TestApp, token: &str, id: &str) -> anyhow::Result<Value> {
    let store = app.tour.store_id;
    Ok(app
        .http
        .get(app.url(&format!("/api/v1/console/stores/{store}/orders/{id}")))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?)
}
