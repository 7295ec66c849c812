//! 营销 through the API: the owner sets up a 满减 and a coupon, the quote takes the best
//! combination off and explains it, the order redeems the coupon exactly once, the diner can
//! pick another combination, the preview says why, and bad rules and other roles are refused.

use crate::app::{TestApp, code};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use diancan_domain::*;
use serde_json::{Value, json};

async fn diner(app: &TestApp) -> (CustomerId, String) {
    app.signed_in_diner(app.a.brand).await
}

async fn as_diner(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Customer {token}"));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let body = body.map_or(Body::empty(), |b| Body::from(b.to_string()));
    let (status, _, body) = app.send_request(request.body(body).unwrap()).await;
    (status, body)
}

fn spend_and_save() -> Value {
    json!({
        "name": "满50减5，满100减15",
        "benefit": {"kind": "spend_and_save", "scope": {}, "tiers": [
            {"threshold": 5000, "save": 500}, {"threshold": 10000, "save": 1500}]},
        "enabled": true
    })
}

fn coupon_template() -> Value {
    json!({
        "name": "无门槛5元券",
        "benefit": {"kind": "no_threshold", "off": 500},
        "validity": {"kind": "days_after_claim", "days": 7},
        "stacking": {"with_classes": ["item", "order", "delivery_fee"]},
        "enabled": true, "claimable": true, "per_diner_limit": 1, "total_limit": 100
    })
}

#[tokio::test]
async fn the_quote_takes_the_best_combination_off_and_the_order_redeems_the_coupon_once() {
    let app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    let mut with_coupons = spend_and_save();
    with_coupons["stacking"] = json!({"with_classes": ["item", "order", "delivery_fee"]});
    let (status, promotion) = app
        .post("/api/v1/console/promotions", Some(&owner), with_coupons)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{promotion}");
    assert_eq!(promotion["class"], "order");
    let (status, template) = app
        .post(
            "/api/v1/console/coupon-templates",
            Some(&owner),
            coupon_template(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{template}");
    let template_id = template["id"].as_str().unwrap().to_owned();

    // The diner claims the coupon once; a second claim is over the limit.
    let (_, token) = diner(&app).await;
    let (status, centre) = as_diner(
        &app,
        "GET",
        "/api/v1/customer/coupon-centre",
        &token,
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{centre}");
    assert_eq!(centre[0]["name"], "无门槛5元券");
    let claim = format!("/api/v1/customer/coupon-centre/{template_id}/claim");
    let (status, granted) = as_diner(&app, "POST", &claim, &token, None, None).await;
    assert_eq!(status, StatusCode::CREATED, "{granted}");
    let (status, again) = as_diner(&app, "POST", &claim, &token, None, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&again), "COUPON_LIMIT_REACHED");

    // Two large bowls: ¥56, 满50减5 and the ¥5 coupon both come off, each named.
    let body = app.pickup_body(2).await;
    let quote_path = format!("/api/v1/stores/{}/quote", app.a.store);
    let (status, quote) = as_diner(&app, "POST", &quote_path, &token, Some(&body), None).await;
    assert_eq!(status, StatusCode::OK, "{quote}");
    assert_eq!(quote["subtotal_fen"], 5600);
    assert_eq!(quote["discount_total_fen"], 1000, "{quote}");
    let labels: Vec<&str> = quote["discounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["满50减5，满100减15", "无门槛5元券"]);
    assert_eq!(quote["hint"]["message"], "再买 44 元减 15");
    let line_discounts: i64 = quote["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["discount_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(line_discounts, 1000);
    // A guest gets the promotion but not the coupon.
    let (_, guest_quote) = app.post(&quote_path, None, body.clone()).await;
    assert_eq!(guest_quote["discount_total_fen"], 500);

    // The diner picks the 满减 alone: priced as asked.
    let mut picked = body.clone();
    picked["chosen"] = json!([format!("promotion:{}", promotion["id"].as_str().unwrap())]);
    let (status, own) = as_diner(&app, "POST", &quote_path, &token, Some(&picked), None).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(own["discount_total_fen"], 500);
    assert_eq!(own["best_proven"], false);
    let mut nonsense = body.clone();
    nonsense["chosen"] = json!(["coupon:not-an-id"]);
    let (status, refused) =
        as_diner(&app, "POST", &quote_path, &token, Some(&nonsense), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&refused), "VALIDATION_FAILED");

    // Placing the best combination redeems the coupon; the same cart again no longer has it.
    let mut order = body.clone();
    order["quote_version"] = quote["version"].clone();
    let orders_path = format!("/api/v1/stores/{}/orders", app.a.store);
    let (status, placed) = as_diner(
        &app,
        "POST",
        &orders_path,
        &token,
        Some(&order),
        Some("promo-order-1"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    assert_eq!(placed["quote"]["total_fen"], quote["total_fen"]);
    assert_eq!(
        quote["total_fen"].as_i64().unwrap(),
        5600 - 1000 + quote["packing_fee_fen"].as_i64().unwrap()
    );
    let (status, again) = as_diner(
        &app,
        "POST",
        &orders_path,
        &token,
        Some(&order),
        Some("promo-order-2"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(code(&again), "STALE_QUOTE");
    let (_, mine) = as_diner(&app, "GET", "/api/v1/customer/coupons", &token, None, None).await;
    assert_eq!(mine[0]["state"], "used");
    assert_eq!(mine[0]["order_id"], placed["id"]);

    // The console's figures count the redemption.
    let (_, list) = app
        .get("/api/v1/console/coupon-templates", Some(&owner))
        .await;
    assert_eq!(list["stats"][0]["used"], 1);
    assert_eq!(list["stats"][0]["discount_fen"], 500);
    let (_, promotions) = app.get("/api/v1/console/promotions", Some(&owner)).await;
    assert_eq!(promotions["promotions"][0]["redeemed_orders"], 1);
    app.cleanup().await;
}

#[tokio::test]
async fn bad_rules_are_refused_and_only_brand_wide_owners_and_managers_set_them_up() {
    let app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    let mut zero = spend_and_save();
    zero["benefit"]["tiers"][0]["save"] = json!(0);
    let (status, body) = app
        .post("/api/v1/console/promotions", Some(&owner), zero)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "VALIDATION_FAILED");
    let mut unreadable = spend_and_save();
    unreadable["benefit"] = json!({"kind": "free_everything"});
    let (status, body) = app
        .post("/api/v1/console/promotions", Some(&owner), unreadable)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let mut coupon = coupon_template();
    coupon["benefit"] = json!({"kind": "threshold", "min_spend": 500, "off": 500});
    let (status, _) = app
        .post("/api/v1/console/coupon-templates", Some(&owner), coupon)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut backwards = spend_and_save();
    backwards["starts_at_ms"] = json!(2_000);
    backwards["ends_at_ms"] = json!(1_000);
    let (status, _) = app
        .post("/api/v1/console/promotions", Some(&owner), backwards)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // A store manager (one store) and the kitchen may not; another brand's owner sees nothing.
    for login in ["-manager", "-kitchen"] {
        let staff = app
            .login(&format!(
                "{}{login}",
                app.a.owner_login.trim_end_matches("-owner")
            ))
            .await;
        let (status, _) = app
            .post("/api/v1/console/promotions", Some(&staff), spend_and_save())
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{login}");
    }
    let (status, created) = app
        .post("/api/v1/console/promotions", Some(&owner), spend_and_save())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let other = app.login(&app.b.owner_login).await;
    let mut edit = spend_and_save();
    edit["version"] = created["version"].clone();
    let (status, _) = app
        .put(
            &format!(
                "/api/v1/console/promotions/{}",
                created["id"].as_str().unwrap()
            ),
            Some(&other),
            edit.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, theirs) = app.get("/api/v1/console/promotions", Some(&other)).await;
    assert_eq!(theirs["promotions"].as_array().unwrap().len(), 0);
    // A stale version is a conflict.
    let path = format!(
        "/api/v1/console/promotions/{}",
        created["id"].as_str().unwrap()
    );
    let (status, _) = app.put(&path, Some(&owner), edit.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, stale) = app.put(&path, Some(&owner), edit).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&stale), "VERSION_CONFLICT");
    app.cleanup().await;
}

#[tokio::test]
async fn the_preview_says_what_a_cart_pays_and_why_and_warns_of_stacking_promotions() {
    let app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    let mut stacking = spend_and_save();
    stacking["stacking"] = json!({"with_classes": ["item", "order", "delivery_fee"]});
    for body in [spend_and_save(), stacking] {
        let (status, body) = app
            .post("/api/v1/console/promotions", Some(&owner), body)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (_, list) = app.get("/api/v1/console/promotions", Some(&owner)).await;
    assert_eq!(
        list["warnings"][0]["code"], "SHADOWED_BY_SAME_CLASS",
        "{list}"
    );

    let mut cart = app.pickup_body(1).await;
    let (status, preview) = app
        .post(
            &format!("/api/v1/console/stores/{}/promotions/preview", app.a.store),
            Some(&owner),
            cart.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["discount_total_fen"], 0);
    let reasons: Vec<&str> = preview["not_applicable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["THRESHOLD_NOT_MET", "THRESHOLD_NOT_MET"],
        "{preview}"
    );
    cart["lines"][0]["quantity"] = json!(4);
    let (_, preview) = app
        .post(
            &format!("/api/v1/console/stores/{}/promotions/preview", app.a.store),
            Some(&owner),
            cart,
        )
        .await;
    // ¥112: 满100减15 once; the two set-ups do not combine, so only one applies.
    assert_eq!(preview["discount_total_fen"], 1500, "{preview}");
    let other = app.login(&app.b.owner_login).await;
    let (status, _) = app
        .post(
            &format!("/api/v1/console/stores/{}/promotions/preview", app.a.store),
            Some(&other),
            app.pickup_body(1).await,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.cleanup().await;
}
