//! Ordering on a phone at table A3: add a dish, check out, place the order, and watch its status
//! change on the page as staff move it along through the API; and two phones at one table share
//! one cart.

use crate::harness::{Viewport, browser_test, extra_browser, picture};
use crate::page;
use anyhow::Context;
use serde_json::Value;
use thirtyfour::prelude::*;

/// A dish that goes straight into the cart with `+` (no specs or options to pick).
fn simple_dish(menu: &Value, skip: usize) -> anyhow::Result<String> {
    menu["categories"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["dishes"].as_array().into_iter().flatten())
        .filter(|d| d["needs_choices"] == false && d["sold_out"] == false && d["kind"] == "single")
        .filter_map(|d| d["id"].as_str().map(str::to_owned))
        .nth(skip)
        .context("the demo menu has dishes without choices")
}

async fn tap_add(driver: &WebDriver, dish: &str) -> anyhow::Result<()> {
    page::tap(
        driver,
        &format!("[data-dish-id=\"{dish}\"] [data-action=add]"),
    )
    .await
}

async fn cart_count(driver: &WebDriver, expected: &str) -> anyhow::Result<()> {
    page::text_is(driver, "#cart-bar .count", expected).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_at_a_table_and_watch_it_move() {
    browser_test(
        "order_at_a_table_and_watch_it_move",
        Viewport::Phone,
        |app, driver| async move {
            let token = app.owner_token().await?;
            app.open_store_all_day(&token).await?;
            let menu = app
                .get_json(&format!("/api/v1/stores/{}/menu", app.tour.store_id))
                .await?;
            let dish = simple_dish(&menu, 0)?;

            driver.goto(app.url(&app.tour.table_path)).await?;
            page::present(&driver, "[data-dish-id]").await?;
            tap_add(&driver, &dish).await?;
            cart_count(&driver, "1").await?;
            page::tap(&driver, "[data-action=checkout]").await?;
            page::present(&driver, "button[data-action=place-order]").await?;
            picture(&driver, "customer-checkout").await?;
            // The checkout redraws when the server's quote arrives; the tap waits for it.
            page::tap(&driver, "button[data-action=place-order]").await?;
            // A pay-first store: the order waits for payment.
            page::present(&driver, "#order-status[data-status=\"awaiting_payment\"]")
                .await
                .context("the order page")?;
            let url = driver.current_url().await?.to_string();
            let order_id = url
                .split("#order=")
                .nth(1)
                .context("the order id in the page address")?
                .to_owned();

            // Each action names the version it acts on: the one the previous answer gave.
            let mut version = 1;
            for (action, expected) in [
                ("pay", "placed"),
                ("accept", "accepted"),
                ("start_preparing", "preparing"),
                ("mark_ready", "ready"),
            ] {
                let response = app
                    .http
                    .post(app.url(&format!(
                        "/api/v1/console/stores/{}/orders/{order_id}/actions",
                        app.tour.store_id
                    )))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"action": action, "version": version}))
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status() == 200,
                    "{action}: {}",
                    response.text().await?
                );
                let moved: serde_json::Value = response.json().await?;
                version = moved["version"]
                    .as_i64()
                    .context("the order's new version")?;
                // No reload: the page follows the order over SSE.
                page::present(
                    &driver,
                    &format!("#order-status[data-status=\"{expected}\"]"),
                )
                .await
                .with_context(|| format!("the status on the page turning {expected}"))?;
            }
            page::text(&driver, ".pickup-number")
                .await
                .context("the pickup number")?;
            picture(&driver, "customer-order-status").await?;
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_phones_at_one_table_share_the_cart() {
    browser_test(
        "two_phones_at_one_table_share_the_cart",
        Viewport::Phone,
        |app, first| async move {
            let menu = app
                .get_json(&format!("/api/v1/stores/{}/menu", app.tour.store_id))
                .await?;
            let (dish_a, dish_b) = (simple_dish(&menu, 0)?, simple_dish(&menu, 1)?);
            let second = extra_browser(Viewport::Phone).await?;
            let outcome = async {
                for driver in [&first, &second.driver] {
                    driver.goto(app.url(&app.tour.table_path)).await?;
                    page::present(driver, "[data-dish-id]").await?;
                }
                tap_add(&first, &dish_a).await?;
                cart_count(&second.driver, "1")
                    .await
                    .context("the second phone sees the first phone's line")?;
                tap_add(&second.driver, &dish_b).await?;
                cart_count(&first, "2")
                    .await
                    .context("and the first sees the second's")?;
                anyhow::Ok(())
            }
            .await;
            let _ = second.driver.clone().quit().await;
            outcome
        },
    )
    .await;
}
