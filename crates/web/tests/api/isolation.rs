//! Tenant isolation: a brand-A session walks every staff endpoint of the OpenAPI document
//! with brand-B ids and is refused each time; list endpoints never show B's data.

use crate::app::{TestApp, noodle_draft, store_profile};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

/// A body that would be accepted if the ids in the path were the caller's own, so the only
/// reason left to refuse is whose they are. `b_order_version` is the version of brand B's
/// order, so an action on it is not refused as stale.
fn plausible_body(
    app: &TestApp,
    method: &str,
    path: &str,
    b_order_version: &Value,
) -> Option<Value> {
    let settings = json!({"price_fen": null, "stock": 5, "daily_limit": null, "low_stock_threshold": null, "sold_out": true});
    match (method, path) {
        ("get" | "delete", _) => None,
        (_, p) if p.ends_with("/categories/{category_id}") => Some(json!({"name": "越界分类"})),
        (_, p) if p.ends_with("/dishes/{dish_id}") && p.contains("/stores/") => {
            Some(json!({"listed": false}))
        }
        (_, p) if p.ends_with("/dishes/{dish_id}") => Some(noodle_draft(app.a.category, "WALK")),
        (_, p) if p.ends_with("/skus/{sku_id}") => Some(settings),
        (_, p) if p.ends_with("/areas") => Some(json!({"name": "越界区域"})),
        (_, p) if p.ends_with("/actions") => {
            Some(json!({"action": "cancel", "version": b_order_version}))
        }
        (_, p) if p.ends_with("/session") => Some(json!({"diners": 2})),
        (_, p) if p.ends_with("/commands") => Some(json!({"command": "bump_ticket", "seen": 1})),
        (_, p) if p.ends_with("/tables") => {
            Some(json!({"area_id": app.b.area, "code": "Z9", "seats": 2}))
        }
        (_, p) if p.ends_with("/printers") || p.ends_with("/printers/{printer_id}") => Some(
            json!({"name": "越界打印机", "connection": "tcp", "address": "127.0.0.1:9100", "paper_mm": 80}),
        ),
        (_, p) if p.ends_with("/print-agents") => Some(json!({"name": "越界打印助手"})),
        (_, p) if p.ends_with("/transfer") => Some(json!({"to_table_id": app.b.table})),
        (_, p) if p.ends_with("/merge") => Some(json!({"into_table_id": app.b.table})),
        (_, p) if p.ends_with("/password") => Some(json!({"password": "越界密码越界密码"})),
        (_, p) if p.ends_with("/staff/{staff_id}") => Some(
            json!({"display_name": "越界", "role": "cashier", "store_ids": [app.b.store], "active": false}),
        ),
        (_, p) if p.ends_with("/prep") => {
            Some(json!({"target_secs": 60, "amber_after_secs": 30, "red_after_secs": 60}))
        }
        (_, p) if p.ends_with("/refunds") => Some(json!({"key": uuid::Uuid::now_v7()})),
        (_, p) if p.ends_with("/orders/{order_id}/deliveries") => {
            Some(json!({"courier": "simulator"}))
        }
        (_, p) if p.ends_with("/balance") => Some(
            json!({"kind": "recharge", "amount_fen": 100, "reason": "越界充值", "key": uuid::Uuid::now_v7()}),
        ),
        (_, p) if p.ends_with("/points") => Some(
            json!({"kind": "adjust", "points": 10, "reason": "越界积分", "key": uuid::Uuid::now_v7()}),
        ),
        (_, p) if p.ends_with("/stores/{store_id}") => {
            Some(serde_json::to_value(store_profile("越界门店")).unwrap())
        }
        (_, p) if p.ends_with("/promotions/{promotion_id}") => Some(json!({
            "name": "越界满减", "enabled": true, "version": 1,
            "benefit": {"kind": "spend_and_save", "scope": {}, "tiers": [{"threshold": 5000, "save": 500}]}
        })),
        (_, p) if p.ends_with("/coupon-templates/{template_id}") => Some(json!({
            "name": "越界券", "benefit": {"kind": "no_threshold", "off": 500},
            "validity": {"kind": "days_after_claim", "days": 7},
            "enabled": true, "claimable": true, "per_diner_limit": 1, "version": 1
        })),
        (_, p) if p.ends_with("/grants") => {
            Some(json!({"customer_id": diancan_domain::CustomerId::new()}))
        }
        (_, p) if p.ends_with("/promotions/preview") => Some(json!({
            "channel": "pickup", "lines": [{"sku_id": app.b.sku, "quantity": 1}]
        })),
        _ => Some(json!({})),
    }
}

fn with_ids(app: &TestApp, path: &str, b_order: &str) -> String {
    path.replace("{store_id}", &app.b.store.to_string())
        .replace("{table_id}", &app.b.table.to_string())
        .replace("{order_id}", b_order)
        .replace("{dish_id}", &app.b.dish.to_string())
        .replace("{sku_id}", &app.b.sku.to_string())
        .replace("{category_id}", &app.b.category.to_string())
        .replace(
            "{printer_id}",
            &diancan_domain::PrinterId::new().to_string(),
        )
        .replace("{job_id}", "1")
        .replace("{staff_id}", &diancan_domain::StaffId::new().to_string())
        .replace(
            "{station_id}",
            &diancan_domain::StationId::new().to_string(),
        )
        .replace(
            "{agent_id}",
            &diancan_domain::PrintAgentId::new().to_string(),
        )
        // Brand A's console must not reach any member but its own (brand B's are tested in
        // `balance`); an id of none is refused the same way.
        .replace(
            "{customer_id}",
            &diancan_domain::CustomerId::new().to_string(),
        )
        // Brand B has no delivery; an id of none is refused as a real one of B's would be.
        .replace(
            "{delivery_id}",
            &diancan_domain::DeliveryId::new().to_string(),
        )
        // A promotion or coupon template of none is refused as one of brand B's is (the
        // `promotions` tests put brand B's owner at brand A's real ones).
        .replace(
            "{promotion_id}",
            &diancan_domain::PromotionId::new().to_string(),
        )
        .replace(
            "{template_id}",
            &diancan_domain::CouponId::new().to_string(),
        )
        // Brand B has no ticket; an id of none is refused as a real one of B's would be.
        .replace(
            "{ticket_id}",
            &diancan_domain::KitchenTicketId::new().to_string(),
        )
}

#[tokio::test]
async fn brand_a_cannot_read_or_touch_anything_of_brand_b() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let b_dish_before = app.db().dish(app.b.brand, app.b.dish).await.unwrap();
    let b_store_before = app.db().store(app.b.store).await.unwrap();

    // Brand B has an order of its own.
    let (_, menu) = app
        .get(&format!("/api/v1/stores/{}/menu", app.b.store), None)
        .await;
    let dish = &menu["categories"][0]["dishes"][0];
    let mut order = json!({"channel": "pickup", "lines": [{"sku_id": dish["skus"][0]["id"], "quantity": 1,
        "option_ids": [dish["option_groups"][0]["options"][0]["id"]]}]});
    let (_, quote) = app
        .post(
            &format!("/api/v1/stores/{}/quote", app.b.store),
            None,
            order.clone(),
        )
        .await;
    order["quote_version"] = quote["version"].clone();
    let request = axum::http::Request::post(format!("/api/v1/stores/{}/orders", app.b.store))
        .header("content-type", "application/json")
        .header("idempotency-key", "brand-b-order")
        .body(axum::body::Body::from(order.to_string()))
        .unwrap();
    let (status, _, b_order) = app.send_request(request).await;
    assert_eq!(status, StatusCode::CREATED);
    let b_order_version = b_order["version"].clone();
    let b_order = b_order["id"].as_str().unwrap().to_owned();
    // And a campaign (a draft, so sending it would change it).
    let b_campaign = app
        .db()
        .create_campaign(
            diancan_domain::CampaignId::new(),
            app.b.brand,
            &diancan_domain::notifications::CampaignContent::parse(
                "越界推送",
                "不应被 A 看到",
                diancan_domain::notifications::Audience::AllMembers,
            )
            .unwrap(),
            "staff:test",
            app.state.clock.now_ms(),
        )
        .await
        .unwrap();

    let document = serde_json::to_value(diancan_web::openapi_document()).unwrap();
    let mut walked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/console/") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            if !path.contains('{') {
                continue; // lists and creations are checked below
            }
            let body = plausible_body(&app, method, path, &b_order_version);
            let method_value = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, _, response) = app
                .send(
                    method_value,
                    &with_ids(&app, path, &b_order)
                        .replace("{campaign_id}", &b_campaign.id.to_string()),
                    Some(&token),
                    body,
                )
                .await;
            assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
                "{method} {path} with brand B's ids answered {status}: {response}"
            );
            walked += 1;
        }
    }
    assert!(walked >= 10, "walked only {walked} endpoints");
    assert_eq!(
        app.db()
            .campaign(app.b.brand, b_campaign.id)
            .await
            .unwrap()
            .state,
        diancan_domain::notifications::CampaignState::Draft,
        "brand B's campaign was not sent by brand A"
    );

    // A's own store with B's SKU or dish in the path.
    let (status, _) = app
        .put(
            &format!("/api/v1/console/stores/{}/skus/{}", app.a.store, app.b.sku),
            Some(&token),
            json!({"price_fen": null, "stock": null, "daily_limit": null, "low_stock_threshold": null, "sold_out": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .put(
            &format!(
                "/api/v1/console/stores/{}/dishes/{}",
                app.a.store, app.b.dish
            ),
            Some(&token),
            json!({"listed": false}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // B's ids inside a body: refused, nothing created.
    let (status, _) = app
        .post(
            "/api/v1/console/dishes",
            Some(&token),
            noodle_draft(app.b.category, "INTRUDER"),
        )
        .await;
    assert!(status.is_client_error(), "{status}");
    let (status, _) = app
        .post(
            &format!("/api/v1/console/stores/{}/tables", app.a.store),
            Some(&token),
            json!({"area_id": app.b.area, "code": "Z9", "seats": 2}),
        )
        .await;
    assert!(status.is_client_error(), "{status}");

    // Lists show only A's things.
    for list in [
        "/api/v1/console/stores",
        "/api/v1/console/menu",
        "/api/v1/auth/me",
    ] {
        let (status, body) = app.get(list, Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        let text = body.to_string();
        for foreign in [
            app.b.store.to_string(),
            app.b.dish.to_string(),
            app.b.category.to_string(),
            app.b.brand.to_string(),
        ] {
            assert!(
                !text.contains(&foreign),
                "{list} leaks brand B's id {foreign}"
            );
        }
    }

    assert_eq!(
        app.db().dish(app.b.brand, app.b.dish).await.unwrap(),
        b_dish_before
    );
    assert_eq!(app.db().store(app.b.store).await.unwrap(), b_store_before);
    let b_state = app
        .db()
        .store_menu_settings(app.b.store)
        .await
        .unwrap()
        .sku_states
        .remove(&app.b.sku)
        .unwrap_or_default();
    assert!(
        !b_state.sold_out && b_state.price_fen.is_none() && b_state.stock.is_none(),
        "B's stock settings untouched"
    );
    let b_order = app.db().order(b_order.parse().unwrap()).await.unwrap();
    assert_eq!(
        b_order.status,
        diancan_domain::ordering::OrderStatus::AwaitingPayment,
        "B's order untouched"
    );
    assert!(
        app.db()
            .open_table_session_of(app.b.table)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        app.db()
            .tables(app.b.brand, app.b.store)
            .await
            .unwrap()
            .len(),
        1
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_manager_is_kept_to_their_own_stores() {
    let app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    let (status, second) = app
        .post(
            "/api/v1/console/stores",
            Some(&owner),
            serde_json::to_value(store_profile("第二家")).unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let manager = app.login("alpha-manager").await;
    let (status, _) = app
        .get(
            &format!("/api/v1/console/stores/{}", second["id"].as_str().unwrap()),
            Some(&manager),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, stores) = app.get("/api/v1/console/stores", Some(&manager)).await;
    assert_eq!(stores.as_array().unwrap().len(), 1);
    app.cleanup().await;
}

/// The brand menu reaches every store, so a manager kept to one store may not edit it, though
/// a manager of the whole brand may; in their own store they run stock, prices and listings.
#[tokio::test]
async fn a_store_manager_runs_their_store_but_not_the_brand_menu() {
    let app = TestApp::new().await;
    app.add_staff(
        "alpha-regional",
        diancan_domain::staff::Role::Manager,
        diancan_domain::staff::StoreAccess::AllStores,
    )
    .await;
    // alpha-manager works in store A only.
    let store_manager = app.login("alpha-manager").await;
    let regional = app.login("alpha-regional").await;
    let dish_path = format!("/api/v1/console/dishes/{}", app.a.dish);
    let (_, mut draft) = app.get(&dish_path, Some(&store_manager)).await;
    let object = draft.as_object_mut().unwrap();
    for server_only in ["id", "brand_id"] {
        object.remove(server_only);
    }
    object.insert("name".into(), json!("店长改的面"));
    let dish_before = app.db().dish(app.a.brand, app.a.dish).await.unwrap();

    let (status, error) = app
        .put(&dish_path, Some(&store_manager), draft.clone())
        .await;
    assert_eq!(
        (status, crate::app::code(&error)),
        (StatusCode::FORBIDDEN, "FORBIDDEN")
    );
    let (status, _) = app
        .post(
            "/api/v1/console/categories",
            Some(&store_manager),
            json!({"name": "店长的分类"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.db().dish(app.a.brand, app.a.dish).await.unwrap(),
        dish_before,
        "the brand menu is untouched"
    );
    assert_eq!(app.db().categories(app.a.brand).await.unwrap().len(), 1);

    // The same role for the whole brand may: the scope is what refused it.
    let (status, saved) = app.put(&dish_path, Some(&regional), draft).await;
    assert_eq!(
        (status, &saved["name"]),
        (StatusCode::OK, &json!("店长改的面"))
    );

    // Their own store's stock, price and listing are theirs to set.
    let (status, body) = app
        .put(
            &format!("/api/v1/console/stores/{}/skus/{}", app.a.store, app.a.sku),
            Some(&store_manager),
            json!({"price_fen": 2600, "stock": 8, "daily_limit": null, "low_stock_threshold": null, "sold_out": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .put(
            &format!(
                "/api/v1/console/stores/{}/dishes/{}",
                app.a.store, app.a.dish
            ),
            Some(&store_manager),
            json!({"listed": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let settings = app.db().store_menu_settings(app.a.store).await.unwrap();
    let sku = &settings.sku_states[&app.a.sku];
    assert_eq!(
        (sku.price_fen, sku.stock),
        (Some(diancan_domain::money::Money::from_fen(2600)), Some(8))
    );
    let (_, menu) = app
        .get(&format!("/api/v1/stores/{}/menu", app.a.store), None)
        .await;
    assert!(
        !menu.to_string().contains(&app.a.dish.to_string()),
        "the unlisted dish is off the store's menu"
    );
    app.cleanup().await;
}
