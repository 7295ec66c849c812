//! A diner pays on the phone: a pickup order waiting for its money shows the store's gateways,
//! 微信支付 leads to the simulator's page, 支付 there brings the diner back to the order, which
//! moves on to paid by itself once the signed notification is settled, and on to the kitchen
//! when the store accepts it.

use crate::harness::{Viewport, browser_test, picture};
use crate::page;
use anyhow::Context;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_diner_pays_through_the_simulator_and_the_order_moves_on() {
    browser_test(
        "a_diner_pays_through_the_simulator_and_the_order_moves_on",
        Viewport::Phone,
        |app, driver| async move {
            let token = app.owner_token().await?;
            app.open_store_all_day(&token).await?;
            let store = app.tour.store_id;
            let menu = app.get_json(&format!("/api/v1/stores/{store}/menu")).await?;
            let sku = menu["categories"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|c| c["dishes"].as_array().into_iter().flatten())
                .find(|d| d["needs_choices"] == false && d["sold_out"] == false && d["kind"] == "single")
                .map(|d| d["skus"][0]["id"].clone())
                .context("a dish without choices")?;
            let order = app.place_pickup(&sku, 1, "e2e-pay-order-1").await?;
            let id = order["id"].as_str().context("the order id")?.to_owned();
            let secret = order["access_secret"].as_str().context("the guest's secret")?;

            // The phone that placed it keeps its secret, as the customer app does.
            driver.goto(app.url(&format!("/s/{store}"))).await?;
            driver
                .execute(
                    "localStorage.setItem('diancan.orderSecrets', JSON.stringify({[arguments[0]]: arguments[1]}));",
                    vec![json!(id), json!(secret)],
                )
                .await?;
            driver.goto(app.url(&format!("/s/{store}#order={id}"))).await?;
            page::present(&driver, "#order-status[data-status=awaiting_payment]")
                .await
                .context("the order, waiting for its money")?;
            page::present(&driver, "[data-action=pay][data-provider=alipay]")
                .await
                .context("both gateways offered")?;
            picture(&driver, "pay-choose").await?;

            page::tap(&driver, "[data-action=pay][data-provider=wechat_pay]").await?;
            page::present(&driver, "[data-action=simulated-pay]:not([disabled])")
                .await
                .context("the simulator's payment page")?;
            let amount = page::text(&driver, ".pay-sim-amount").await?;
            anyhow::ensure!(amount.contains(&format!("{}", order["quote"]["total_fen"].as_i64().unwrap_or(0) / 100)), "the page shows the order's total, not {amount}");
            picture(&driver, "pay-simulator").await?;
            page::tap(&driver, "[data-action=simulated-pay]").await?;

            // Back on the order page, which follows the order's stream.
            page::present(&driver, "#order-status[data-status=placed]")
                .await
                .context("the order, paid")?;
            let paid: Value = app
                .http
                .get(app.url(&format!("/api/v1/orders/{id}")))
                .header("x-order-secret", secret)
                .send()
                .await?
                .json()
                .await?;
            let response = app
                .http
                .post(app.url(&format!("/api/v1/console/stores/{store}/orders/{id}/actions")))
                .bearer_auth(&token)
                .json(&json!({"action": "accept", "version": paid["version"]}))
                .send()
                .await?;
            anyhow::ensure!(response.status() == 200, "accept: {}", response.text().await?);
            // On to the kitchen: the page moves on without a reload.
            page::present(&driver, "#order-status[data-status=accepted]")
                .await
                .context("the order, accepted")?;
            picture(&driver, "pay-paid").await?;
            Ok(())
        },
    )
    .await;
}
