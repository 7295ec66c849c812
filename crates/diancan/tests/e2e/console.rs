//! The merchant console at a laptop's size: log in as the owner, rename a dish, and see the
//! new name on the diners' menu; and reconcile yesterday's statement on the 账务 page.

use crate::harness::{Viewport, browser_test, unique_name};
use crate::page;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_login_and_edit_dish() {
    browser_test(
        "console_login_and_edit_dish",
        Viewport::Laptop,
        |app, driver| async move {
            driver.goto(app.url("/console/")).await?;

            page::fill(&driver, "form#login-form input[name=login]", "owner").await?;
            page::fill(
                &driver,
                "form#login-form input[name=password]",
                diancan::demo::DEMO_PASSWORD,
            )
            .await?;
            page::tap(&driver, "form#login-form [type=submit]").await?;

            // The first dish row: its edit button when it has one, else the row itself, found
            // and tapped in the same moment so a redraw of the list cannot come between.
            let dish_id = page::wait_for(
                &driver,
                "const row = document.querySelector('[data-dish-id]'); if (!row) return false; \
                 const target = row.querySelector('[data-action=edit-dish]') || row; \
                 target.scrollIntoView({ block: 'center' }); target.click(); \
                 return row.getAttribute('data-dish-id') || false;",
                json!({}),
                "a dish row to open",
            )
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned();

            let new_name = unique_name("测试面");
            page::fill(&driver, "form#dish-editor input[name=name]", &new_name).await?;
            // The save button may sit in the dialog's footer, tied to the form by `form=`.
            page::tap(&driver, "button[data-action=save]").await?;
            page::present(&driver, ".toast.success").await?;

            // Saving through this instance invalidates its menu cache, so diners see it at once.
            let menu = app
                .get_json(&format!("/api/v1/stores/{}/menu", app.tour.store_id))
                .await?;
            let names: Vec<(&str, &str)> = menu["categories"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|c| c["dishes"].as_array().into_iter().flatten())
                .map(|d| {
                    (
                        d["id"].as_str().unwrap_or(""),
                        d["name"].as_str().unwrap_or(""),
                    )
                })
                .collect();
            anyhow::ensure!(
                names.iter().any(|(_, name)| *name == new_name),
                "the public menu does not show {new_name:?} after saving dish {dish_id} \
             (it shows that dish as {:?})",
                names.iter().find(|(id, _)| *id == dish_id).map(|(_, n)| n)
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_sees_the_gateways_and_reconciles_yesterday() {
    browser_test(
        "the_owner_sees_the_gateways_and_reconciles_yesterday",
        Viewport::Laptop,
        |app, driver| async move {
            driver.goto(app.url("/console/finance")).await?;
            page::fill(&driver, "form#login-form input[name=login]", "owner").await?;
            page::fill(
                &driver,
                "form#login-form input[name=password]",
                diancan::demo::DEMO_PASSWORD,
            )
            .await?;
            page::tap(&driver, "form#login-form [type=submit]").await?;

            // `cargo run` pays through both simulators: each has its card, healthy.
            page::present(
                &driver,
                ".gateway[data-provider=wechat_pay][data-breaker=closed]",
            )
            .await?;
            page::present(
                &driver,
                ".gateway[data-provider=alipay][data-breaker=closed]",
            )
            .await?;

            // Yesterday (the default day) at WeChat Pay: the simulator's statement is fetched
            // and matched, the run is listed, and its mismatches open below with their CSV.
            page::tap(&driver, "button[data-action=start-run]").await?;
            page::present(&driver, ".toast.success").await?;
            page::present(&driver, "tr.run-finished.selected").await?;
            page::present(&driver, ".mismatches a[data-action=export-csv]").await?;
            crate::harness::picture(&driver, "console-finance").await?;
            Ok(())
        },
    )
    .await;
}
