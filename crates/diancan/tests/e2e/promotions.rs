//! Promotions on a phone: the cart bar nudges towards the next tier, a cart over ¥50 at the demo
//! table gets 满50减5 chosen and explained line by line, the diner can take it out (the server
//! prices their own pick) and put the best combination back, and the order placed carries the
//! discount the page showed.

use crate::harness::{Viewport, browser_test, picture};
use crate::page;
use anyhow::Context;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkout_chooses_and_explains_the_best_discount_and_lets_the_diner_pick_another() {
    browser_test(
        "the_checkout_chooses_and_explains_the_best_discount_and_lets_the_diner_pick_another",
        Viewport::Phone,
        |app, driver| async move {
            let token = app.owner_token().await?;
            app.open_store_all_day(&token).await?;
            let menu = app
                .get_json(&format!("/api/v1/stores/{}/menu", app.tour.store_id))
                .await?;
            let dish: &Value = menu["categories"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|c| c["dishes"].as_array().into_iter().flatten())
                .find(|d| {
                    d["needs_choices"] == false
                        && d["sold_out"] == false
                        && d["kind"] == "single"
                        && d["price_from_fen"].as_i64().is_some_and(|p| p >= 1000)
                })
                .context("a dish without choices of at least ¥10")?;
            let id = dish["id"].as_str().context("the dish id")?;
            let price = dish["price_from_fen"].as_i64().context("its price")?;
            // Enough for 满50 but below 满100.
            let units = (5_000 + price - 1) / price;
            anyhow::ensure!(units * price < 10_000, "a cart between ¥50 and ¥100");

            driver.goto(app.url(&app.tour.table_path)).await?;
            page::present(&driver, "[data-dish-id]").await?;
            for n in 1..=units {
                page::tap(
                    &driver,
                    &format!("[data-dish-id=\"{id}\"] [data-action=add]"),
                )
                .await?;
                page::text_is(&driver, "#cart-bar .count", &n.to_string()).await?;
            }
            // The cart bar already says how far the next tier is.
            page::until(
                &driver,
                "(document.querySelector('#cart-bar .hint')?.textContent || '').includes('再买')",
                serde_json::json!({}),
                "the cart bar's next-threshold nudge",
            )
            .await?;
            page::tap(&driver, "[data-action=checkout]").await?;
            let discount = ".breakdown .row.discount[data-source^=\"promotion:\"]";
            page::present(&driver, discount)
                .await
                .context("the 满减 in the breakdown")?;
            let row = page::text(&driver, discount).await?;
            anyhow::ensure!(
                row.contains("满50减5") && row.contains("5"),
                "the row names its source: {row}"
            );
            page::present(&driver, ".threshold-hint")
                .await
                .context("the next-threshold hint")?;
            let hint = page::text(&driver, ".threshold-hint").await?;
            anyhow::ensure!(
                hint.contains("再买") && hint.contains("减 15"),
                "the hint: {hint}"
            );
            page::present(&driver, ".offers .offer.on")
                .await
                .context("the offer picker")?;
            picture(&driver, "customer-checkout-promotion").await?;

            // The diner takes the 满减 out: their own pick, priced by the server.
            page::tap(&driver, ".offers .offer.on input").await?;
            page::present(&driver, "[data-action=best-offers]")
                .await
                .context("the way back to the best combination")?;
            page::until(
                &driver,
                "!document.querySelector(args.css)",
                serde_json::json!({ "css": discount }),
                "the discount gone",
            )
            .await?;
            page::tap(&driver, "[data-action=best-offers]").await?;
            page::present(&driver, discount)
                .await
                .context("the best combination back")?;

            page::tap(&driver, "button[data-action=place-order]").await?;
            page::present(&driver, "#order-status[data-status=\"awaiting_payment\"]")
                .await
                .context("the order page")?;
            let url = driver.current_url().await?.to_string();
            let order_id = url
                .split("#order=")
                .nth(1)
                .context("the order id")?
                .to_owned();
            let response = app
                .http
                .get(app.url(&format!(
                    "/api/v1/console/stores/{}/orders/{order_id}",
                    app.tour.store_id
                )))
                .bearer_auth(&token)
                .send()
                .await?;
            anyhow::ensure!(response.status() == 200, "the order: {}", response.status());
            let order: Value = response.json().await?;
            anyhow::ensure!(
                order["order"]["quote"]["discount_total_fen"] == 500,
                "the order carries the discount shown: {}",
                order["order"]["quote"]["discounts"]
            );
            Ok(())
        },
    )
    .await;
}
