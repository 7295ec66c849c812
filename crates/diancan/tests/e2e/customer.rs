//! A diner at table A3 on a phone: the menu renders, a dish with required choices cannot be
//! added until each is made, and then it lands in the cart; a starred dish is listed first.

use crate::harness::{Viewport, browser_test, picture};
use crate::page;
use anyhow::Context;
use serde_json::{Value, json};

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
        let rendered = page::dish_count(&driver, 30)
            .await
            .context("the demo has about 40 dishes")?;
        anyhow::ensure!(rendered >= 30, "only {rendered} dishes rendered; the demo has about 40");
        page::until(
            &driver,
            "document.body.innerText.includes(args.name)",
            json!({ "name": store_name }),
            &format!("the store name {store_name:?} on the table page"),
        )
        .await?;

        let id = &dish.id;
        // 选规格: the tap looks the button up when it taps, so a menu redraw cannot stale it.
        page::tap(
            &driver,
            &format!(
                "[data-dish-id=\"{id}\"][data-action=choose], [data-dish-id=\"{id}\"] [data-action=choose]"
            ),
        )
        .await?;
        page::present(&driver, ".sheet.spec-sheet").await.context("the spec sheet")?;

        // The sheet redraws its footer on every choice, so the button is looked up afresh.
        const ADD: &str = ".sheet.spec-sheet button[data-action=add-to-cart]";
        let picks: Vec<&str> = dish.required_picks();
        for (n, option_id) in picks.iter().enumerate() {
            let disabled = page::wait_for(
                &driver,
                "const b = document.querySelector(args.css); return b ? { disabled: b.disabled } : false;",
                json!({ "css": ADD }),
                ADD,
            )
            .await?;
            anyhow::ensure!(
                disabled["disabled"] == true,
                "{} could be added with {n} of its {} required choices made",
                dish.name,
                picks.len()
            );
            page::tap(&driver, &format!(".sheet.spec-sheet button.chip[data-option-id=\"{option_id}\"]"))
                .await?;
        }
        // The tap waits for the button to be enabled: every required group is chosen.
        page::tap(&driver, ADD)
            .await
            .context("add-to-cart enabled once every required group is chosen")?;
        page::text_is(&driver, "#cart-bar .count", "1")
            .await
            .context("the cart bar's count showing 1")?;

        // A guest stars the dish: it shows first, under 我的收藏, and still does after a reload.
        let starred = format!("section[data-cat-id=favourites] [data-dish-id=\"{id}\"]");
        for reload in [false, true] {
            if reload {
                driver.refresh().await?;
                page::dish_count(&driver, 30).await?;
            } else {
                page::tap(&driver, &format!("[data-dish-id=\"{id}\"] [data-action=choose]")).await?;
                page::tap(&driver, ".spec-sheet [data-action=favourite]").await?;
                page::present(&driver, ".spec-sheet [data-action=favourite][aria-pressed=true]")
                    .await
                    .context("the heart filled in")?;
                picture(&driver, "customer-spec-sheet").await?;
                page::tap(&driver, ".spec-sheet button.close").await?;
            }
            page::present(&driver, &starred)
                .await
                .context("the starred dish under 我的收藏")?;
            let first_category = page::text(&driver, "nav.cats button").await?;
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
