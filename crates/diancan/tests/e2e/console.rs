//! The merchant console at a laptop's size: log in as the owner, rename a dish, and see the
//! new name on the diners' menu.

use crate::harness::{Viewport, all, browser_test, one, unique_name};
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_login_and_edit_dish() {
    browser_test(
        "console_login_and_edit_dish",
        Viewport::Laptop,
        |app, driver| async move {
            driver.goto(app.url("/console/")).await?;

            let login = one(&driver, "form#login-form").await?;
            login
                .find(By::Css("input[name=login]"))
                .await?
                .send_keys("owner")
                .await?;
            login
                .find(By::Css("input[name=password]"))
                .await?
                .send_keys(diancan::demo::DEMO_PASSWORD)
                .await?;
            login.find(By::Css("[type=submit]")).await?.click().await?;

            let rows = all(&driver, "[data-dish-id]").await?;
            let row = &rows[0];
            let dish_id = row.attr("data-dish-id").await?.unwrap_or_default();
            match row
                .find_all(By::Css("[data-action=edit-dish]"))
                .await?
                .first()
            {
                Some(edit) => edit.click().await?,
                None => row.click().await?,
            }

            let editor = one(&driver, "form#dish-editor").await?;
            let name_field = editor
                .query(By::Css("input[name=name]"))
                .and_displayed()
                .first()
                .await?;
            let new_name = unique_name("测试面");
            name_field.clear().await?;
            name_field.send_keys(&new_name).await?;
            anyhow::ensure!(
                name_field.value().await?.as_deref() == Some(new_name.as_str()),
                "the name field did not take the new name"
            );
            // The save button may sit in the dialog's footer, tied to the form by `form=`.
            one(&driver, "button[data-action=save]")
                .await?
                .click()
                .await?;
            one(&driver, ".toast.success").await?;

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
