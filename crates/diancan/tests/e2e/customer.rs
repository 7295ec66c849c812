//! A diner at table A3 on a phone: the menu renders, a dish with required choices cannot be
//! added until each is made, and then it lands in the cart; a starred dish is listed first.

use crate::harness::{PAGE_WAIT, Viewport, all, browser_test, one, picture};
use anyhow::Context;
use serde_json::Value;
use std::time::{Duration, Instant};
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_menu_at_a_table_on_a_phone() {
    browser_test("customer_menu_at_a_table_on_a_phone", Viewport::Phone, |app, driver| async move {
        let store = app.get_json(&format!("/api/v1/stores/{}", app.tour.store_id)).await?;
        let store_name = store["name"].as_str().unwrap_or_default().to_owned();
        let menu = app
            .get_json(&format!("/api/v1/stores/{}/menu", app.tour.store_id))
            .await?;
        let dish = DishWithChoices::pick(&menu)?;

        driver.goto(app.url(&app.tour.table_path)).await?;
        all(&driver, "[data-dish-id]").await?;
        let rendered = wait_for_dish_count(&driver, 30).await?;
        anyhow::ensure!(rendered >= 30, "only {rendered} dishes rendered; the demo has about 40");
        let page_text = driver.find(By::Tag("body")).await?.text().await?;
        anyhow::ensure!(
            page_text.contains(&store_name),
            "the store name {store_name:?} is not visible on the table page"
        );

        let id = &dish.id;
        let choose = one(
            &driver,
            &format!(
                "[data-dish-id=\"{id}\"][data-action=choose], [data-dish-id=\"{id}\"] [data-action=choose]"
            ),
        )
        .await?;
        // Centre it first so a sticky header or cart bar does not take the tap.
        driver
            .execute("arguments[0].scrollIntoView({block: 'center'});", vec![choose.to_json()?])
            .await?;
        choose.click().await?;

        let sheet = one(&driver, ".sheet.spec-sheet").await.context("the spec sheet")?;
        // The sheet redraws its footer on every choice, so the button is looked up afresh.
        const ADD: &str = "button[data-action=add-to-cart]";
        let picks: Vec<&str> = dish.required_picks();
        for (n, option_id) in picks.iter().enumerate() {
            let add = sheet.query(By::Css(ADD)).first().await.context(ADD)?;
            anyhow::ensure!(
                !add.is_enabled().await?,
                "{} could be added with {n} of its {} required choices made",
                dish.name,
                picks.len()
            );
            let chip = format!("button.chip[data-option-id=\"{option_id}\"]");
            sheet.query(By::Css(&chip)).first().await.context(chip.clone())?.click().await?;
        }
        sheet
            .query(By::Css(ADD))
            .and_enabled()
            .desc("add-to-cart enabled once every required group is chosen")
            .first()
            .await?
            .click()
            .await?;

        driver
            .query(By::Css("#cart-bar .count"))
            .desc("the cart bar's count showing 1")
            .with_text(|text: &str| text.trim() == "1")
            .first()
            .await?;

        // A guest stars the dish: it shows first, under 我的收藏, and still does after a reload.
        let starred = format!("section[data-cat-id=favourites] [data-dish-id=\"{id}\"]");
        for reload in [false, true] {
            if reload {
                driver.refresh().await?;
                wait_for_dish_count(&driver, 30).await?;
            } else {
                let choose = one(&driver, &format!("[data-dish-id=\"{id}\"] [data-action=choose]")).await?;
                driver
                    .execute("arguments[0].scrollIntoView({block: 'center'});", vec![choose.to_json()?])
                    .await?;
                choose.click().await?;
                one(&driver, ".spec-sheet [data-action=favourite]").await?.click().await?;
                driver
                    .query(By::Css(".spec-sheet [data-action=favourite][aria-pressed=true]"))
                    .desc("the heart filled in")
                    .first()
                    .await?;
                picture(&driver, "customer-spec-sheet").await?;
                one(&driver, ".spec-sheet button.close").await?.click().await?;
            }
            driver
                .query(By::Css(&starred))
                .desc("the starred dish under 我的收藏")
                .first()
                .await?;
            let first_category = one(&driver, "nav.cats button").await?.text().await?;
            anyhow::ensure!(
                first_category.contains("我的收藏"),
                "the first category is {first_category:?}"
            );
        }
        picture(&driver, "customer-favourites").await?;
        Ok(())
    })
    .await;
}

/// A dish from the public menu that needs choices in required option groups, and no others.
struct DishWithChoices {
    id: String,
    name: String,
    /// For each required group, its first `min_select` options.
    required: Vec<Vec<String>>,
}

impl DishWithChoices {
    /// The single-spec, non-combo dish with the most required groups, so the test shows that
    /// every group must be answered and not just one.
    fn pick(menu: &Value) -> anyhow::Result<DishWithChoices> {
        let dishes = menu["categories"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["dishes"].as_array().into_iter().flatten());
        dishes
            .filter(|d| d["sold_out"] == false && d["needs_choices"] == true)
            .filter(|d| d["skus"].as_array().is_some_and(|s| s.len() == 1))
            .filter(|d| d["combo_slots"].as_array().is_none_or(Vec::is_empty))
            .map(|d| DishWithChoices {
                id: d["id"].as_str().unwrap_or_default().to_owned(),
                name: d["name"].as_str().unwrap_or_default().to_owned(),
                required: d["option_groups"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|g| g["min_select"].as_u64().unwrap_or(0) > 0)
                    .map(|g| {
                        let min = g["min_select"].as_u64().unwrap_or(0) as usize;
                        g["options"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .take(min)
                            .filter_map(|o| o["id"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .collect(),
            })
            .filter(|d| !d.required.is_empty())
            .max_by_key(|d| d.required.len())
            .ok_or_else(|| {
                anyhow::anyhow!("the demo menu has no single-spec dish with required choices")
            })
    }

    fn required_picks(&self) -> Vec<&str> {
        self.required.iter().flatten().map(String::as_str).collect()
    }
}

/// The number of distinct dishes on the page, once it reaches `at_least` or the wait runs out.
async fn wait_for_dish_count(driver: &WebDriver, at_least: usize) -> anyhow::Result<usize> {
    const COUNT: &str = "return new Set(Array.from(document.querySelectorAll('[data-dish-id]'), \
                         e => e.getAttribute('data-dish-id'))).size;";
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        let count = driver
            .execute(COUNT, Vec::new())
            .await?
            .convert::<usize>()?;
        if count >= at_least || Instant::now() >= deadline {
            return Ok(count);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
