//! The kitchen display on a landscape screen: an order accepted through the API appears on its
//! station's /kds without a reload, bumping it there turns it ready on expo (another screen),
//! expo sends it out, and the pickup screen calls its number.

use crate::harness::{Viewport, browser_test, extra_browser, picture};
use crate::page;
use anyhow::Context;
use serde_json::{Value, json};
use thirtyfour::prelude::*;

/// A landscape tablet's screen: a page area of 1280×800, the size the pictures are taken at
/// (the window is grown by whatever the browser's own frame takes).
async fn landscape(driver: &WebDriver) -> anyhow::Result<()> {
    driver.set_window_rect(0, 0, 1280, 800).await?;
    let inner = driver
        .execute("return window.innerHeight;", Vec::new())
        .await?
        .convert::<i64>()?;
    let frame = (800 - inner).max(0) as u32;
    driver.set_window_rect(0, 0, 1280, 800 + frame).await?;
    Ok(())
}

async fn sign_in(driver: &WebDriver) -> anyhow::Result<()> {
    page::fill(driver, "form#login-form input[name=login]", "owner").await?;
    page::fill(
        driver,
        "form#login-form input[name=password]",
        diancan::demo::DEMO_PASSWORD,
    )
    .await?;
    page::tap(driver, "form#login-form [type=submit]").await
}

/// A dish that needs no choices, and the station its tickets go to (`None`: the default one).
pub(crate) fn simple_dish(menu: &Value) -> anyhow::Result<(Value, Option<String>)> {
    menu["categories"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["dishes"].as_array().into_iter().flatten())
        .find(|d| d["needs_choices"] == false && d["sold_out"] == false && d["kind"] == "single")
        .map(|d| {
            (
                d["skus"][0]["id"].clone(),
                d["station_id"].as_str().map(str::to_owned),
            )
        })
        .context("the demo menu has a dish without choices")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_order_appears_on_its_station_and_bumping_it_shows_on_expo() {
    browser_test(
        "an_accepted_order_appears_on_its_station_and_bumping_it_shows_on_expo",
        Viewport::Laptop,
        |app, driver| async move {
            let token = app.owner_token().await?;
            app.open_store_all_day(&token).await?;
            let store = app.tour.store_id;
            let menu = app
                .get_json(&format!("/api/v1/stores/{store}/menu"))
                .await?;
            let (sku, station) = simple_dish(&menu)?;
            let kds = match &station {
                Some(station) => format!("/kds?store={store}&station={station}"),
                None => format!("/kds?store={store}"),
            };

            landscape(&driver).await?;
            driver.goto(app.url(&kds)).await?;
            sign_in(&driver).await?;
            page::present(&driver, ".mode-station #conn[data-online=true]")
                .await
                .context("the station screen, online")?;
            let expo = extra_browser(Viewport::Laptop).await?;
            let outcome = async {
                landscape(&expo.driver).await?;
                expo.driver
                    .goto(app.url(&format!("/kds/expo?store={store}")))
                    .await?;
                sign_in(&expo.driver).await?;
                page::present(&expo.driver, ".mode-expo #conn[data-online=true]")
                    .await
                    .context("expo, online")?;

                // A pickup order, placed, paid and accepted through the API.
                let mut order = app.place_pickup(&sku, 2, "e2e-kds-order-1").await?;
                let id = order["id"].as_str().context("the order id")?.to_owned();
                for action in ["pay", "accept"] {
                    let response = app
                        .http
                        .post(app.url(&format!(
                            "/api/v1/console/stores/{store}/orders/{id}/actions"
                        )))
                        .bearer_auth(&token)
                        .json(&json!({"action": action, "version": order["version"]}))
                        .send()
                        .await?;
                    anyhow::ensure!(response.status() == 200, "{action}: {}", response.text().await?);
                    order = response.json().await?;
                }
                let number = order["pickup_number"].to_string();

                // No reload: the station screen follows the kitchen stream.
                let card = format!(".ticket[data-label=\"{number}\"]");
                page::present(&driver, &card)
                    .await
                    .context("the ticket on the station screen")?;
                page::present(&expo.driver, &format!("[data-order-id=\"{id}\"][data-ready=false]"))
                    .await
                    .context("the order on expo, not ready")?;
                picture(&driver, "kds-station").await?;

                page::tap(&driver, &format!("{card} [data-action=bump]")).await?;
                page::until(
                    &driver,
                    "!document.querySelector(args.card)",
                    json!({"card": card}),
                    "the bumped ticket leaving the station screen",
                )
                .await?;
                let ready = format!("[data-order-id=\"{id}\"][data-ready=true]");
                page::present(&expo.driver, &ready)
                    .await
                    .context("expo seeing the station's bump")?;
                picture(&expo.driver, "kds-expo").await?;

                // Expo sends the whole order out; the pickup screen calls the number.
                page::tap(&expo.driver, &format!("{ready} [data-action=bump-order]")).await?;
                page::until(
                    &expo.driver,
                    "!document.querySelector(args.ready)",
                    json!({"ready": ready}),
                    "the order leaving expo",
                )
                .await?;
                driver
                    .goto(app.url(&format!("/kds/pickup?store={store}")))
                    .await?;
                page::present(&driver, &format!(".numbers [data-number=\"{number}\"]"))
                    .await
                    .context("the number on the pickup screen")?;
                let call = format!("请 {number} 号取餐");
                page::text_is(&driver, ".call-now", &call).await?;
                picture(&driver, "kds-pickup").await?;

                // The announcement: spoken after the one tap browsers ask for, and only once.
                driver
                    .execute(
                        "window.spoken = []; speechSynthesis.speak = (u) => window.spoken.push(u.text);",
                        Vec::new(),
                    )
                    .await?;
                page::tap(&driver, "button.sound[data-sound=false]").await?;
                page::until(
                    &driver,
                    "window.spoken.length === 1 && window.spoken[0] === args.call",
                    json!({"call": call}),
                    "the number spoken",
                )
                .await?;
                page::tap(&driver, "button.sound").await?;
                let spoken = driver
                    .execute("return window.spoken.length;", Vec::new())
                    .await?
                    .convert::<i64>()?;
                anyhow::ensure!(spoken == 1, "spoken {spoken} times");
                anyhow::Ok(())
            }
            .await;
            let _ = expo.driver.clone().quit().await;
            outcome
        },
    )
    .await;
}
