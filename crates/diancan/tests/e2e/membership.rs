//! A member recharges on the phone: signed in (WeChat, through the login simulator), the 会员
//! page shows the level, points and balance; 充100送20 and 微信支付 lead to the simulator's
//! page, 支付 there brings the diner back, and the balance shows the amount and the bonus once
//! the signed notification is settled.

use crate::harness::{Viewport, browser_test, picture};
use crate::page;
use anyhow::Context;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_recharges_through_the_simulator_and_sees_the_bonus() {
    browser_test(
        "a_member_recharges_through_the_simulator_and_sees_the_bonus",
        Viewport::Phone,
        |app, driver| async move {
            let store = app.tour.store_id;
            driver.goto(app.url(&format!("/s/{store}"))).await?;
            // Signed in as the WeChat mini-program would, from the page itself (the cookie is
            // the page's own).
            let signed_in = driver
                .execute(
                    "return fetch(`/api/v1/stores/${arguments[0]}/customer/wechat-login`, {method: 'POST',
                        headers: {'Content-Type': 'application/json'}, body: JSON.stringify({code: 'sim-e2e-member'})})
                        .then((r) => r.status);",
                    vec![json!(store)],
                )
                .await?;
            anyhow::ensure!(signed_in.json() == &json!(200), "wechat login: {:?}", signed_in.json());
            driver.goto(app.url(&format!("/s/{store}#member"))).await?;
            page::present(&driver, ".member-level[data-level=bronze]")
                .await
                .context("a new member, 青铜")?;
            page::present(&driver, ".balance-amount[data-balance-fen='0']")
                .await
                .context("no stored value yet")?;
            page::present(&driver, "[data-action=tier][data-pay-fen='20000']")
                .await
                .context("the demo brand's tiers, 充200送50 among them")?;
            page::tap(&driver, "[data-action=tier][data-pay-fen='10000']").await?;
            let preview = page::text(&driver, ".recharge-preview").await?;
            anyhow::ensure!(preview.contains("120"), "the preview adds the bonus: {preview}");
            picture(&driver, "member-page").await?;

            page::tap(&driver, "[data-action=recharge][data-provider=wechat_pay]").await?;
            page::present(&driver, "[data-action=simulated-pay]:not([disabled])")
                .await
                .context("the simulator's payment page")?;
            let amount = page::text(&driver, ".pay-sim-amount").await?;
            anyhow::ensure!(amount.contains("100"), "the page asks for the recharge, not {amount}");
            page::tap(&driver, "[data-action=simulated-pay]").await?;

            // Back on the 会员 page, which follows the recharge until it is credited.
            page::present(&driver, ".balance-amount[data-balance-fen='12000']")
                .await
                .context("¥100 and the ¥20 bonus on the balance")?;
            picture(&driver, "member-recharged").await?;
            Ok(())
        },
    )
    .await;
}

/// The console's 会员 page at a laptop's size: the demo member is listed, opens with their
/// points and both ledgers, and a cashier-style redemption at the counter takes points.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_lists_members_and_redeems_points_at_the_counter() {
    browser_test(
        "the_console_lists_members_and_redeems_points_at_the_counter",
        Viewport::Laptop,
        |app, driver| async move {
            driver.goto(app.url("/console/members")).await?;
            page::fill(&driver, "form#login-form input[name=login]", "owner").await?;
            page::fill(
                &driver,
                "form#login-form input[name=password]",
                diancan::demo::DEMO_PASSWORD,
            )
            .await?;
            page::tap(&driver, "form#login-form [type=submit]").await?;
            page::present(&driver, ".members-list [data-action=open-member]")
                .await
                .context("the demo member in the list")?;
            picture(&driver, "console-members").await?;
            page::tap(&driver, ".members-list [data-action=open-member]").await?;
            page::present(&driver, ".member-summary [data-points='680']")
                .await
                .context("the demo member's 680 points")?;
            page::present(&driver, ".member-detail .ledger [data-kind=adjust]")
                .await
                .context("the points ledger")?;
            page::tap(&driver, "[data-action=redeem-points]").await?;
            page::fill(&driver, "input[name=points]", "80").await?;
            page::fill(&driver, "input[name=reason]", "兑换招牌牛肉面一份").await?;
            page::tap(&driver, "[data-action=save-points]").await?;
            page::present(&driver, ".member-summary [data-points='600']")
                .await
                .context("the points after redeeming 80")?;
            picture(&driver, "console-member").await?;
            Ok(())
        },
    )
    .await;
}
