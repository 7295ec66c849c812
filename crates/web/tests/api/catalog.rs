//! Menu management through the console API.

use crate::app::{TestApp, code};
use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn editing_a_dish_keeps_its_spec_ids_and_the_stores_settings_for_them() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let path = format!("/api/v1/console/dishes/{}", app.a.dish);
    let (_, mut dish) = app.get(&path, Some(&token)).await;
    let settings = json!({"price_fen": 2999, "stock": 7, "daily_limit": null, "low_stock_threshold": null, "sold_out": false});
    let (status, _) = app
        .put(
            &format!("/api/v1/console/stores/{}/skus/{}", app.a.store, app.a.sku),
            Some(&token),
            settings,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Send the dish back as a draft with a new name and price, ids included.
    let object = dish.as_object_mut().unwrap();
    for server_only in ["id", "brand_id"] {
        object.remove(server_only);
    }
    object.insert("name".into(), json!("招牌红烧牛肉面"));
    dish["skus"][0]["price_fen"] = json!(3000);
    let (status, saved) = app.put(&path, Some(&token), dish).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["skus"][0]["id"], app.a.sku.to_string());
    let layer = app.db().store_menu_settings(app.a.store).await.unwrap();
    assert_eq!(
        layer.sku_states[&app.a.sku].stock,
        Some(7),
        "store stock survives the edit"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn categories_with_dishes_cannot_be_deleted_and_combos_need_real_specs() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let (status, _, body) = app
        .send(
            Method::DELETE,
            &format!("/api/v1/console/categories/{}", app.a.category),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "CATEGORY_NOT_EMPTY")
    );

    let (status, sets) = app
        .post(
            "/api/v1/console/categories",
            Some(&token),
            json!({"name": "套餐", "sort_order": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let combo = |sku: String| {
        json!({
            "category_id": sets["id"], "kind": "combo", "name": "午市套餐",
            "skus": [{"code": "LUNCH", "price_fen": 3900}],
            "combo_slots": [{"name": "主食", "min_select": 1, "max_select": 1, "choices": [{"sku_id": sku}]}]
        })
    };
    let (status, body) = app
        .post(
            "/api/v1/console/dishes",
            Some(&token),
            combo(app.b.sku.to_string()),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "another brand's spec: {body}"
    );
    let (status, created) = app
        .post(
            "/api/v1/console/dishes",
            Some(&token),
            combo(app.a.sku.to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    // The noodle's spec is now in a combo, so the noodle cannot be deleted.
    let (status, _, body) = app
        .send(
            Method::DELETE,
            &format!("/api/v1/console/dishes/{}", app.a.dish),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "SKU_IN_COMBO")
    );
    app.cleanup().await;
}

#[tokio::test]
async fn an_exported_menu_imports_back_as_updates() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    for format in ["csv", "xlsx"] {
        let request =
            axum::http::Request::get(format!("/api/v1/console/menu/export?format={format}"))
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap();
        let response = tower::ServiceExt::oneshot(app.router.clone(), request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        if format == "csv" {
            assert!(
                bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
                "CSV starts with a BOM for Excel"
            );
        }
        let (status, report) = app
            .upload(
                "/api/v1/console/menu/import",
                &token,
                &format!("menu.{format}"),
                &bytes,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(
            report,
            json!({"categories_created": 0, "dishes_created": 0, "dishes_updated": 1})
        );
    }
    let dishes = app.db().dishes(app.a.brand).await.unwrap();
    assert_eq!(dishes.len(), 1);
    assert_eq!(dishes[0].skus[0].id, app.a.sku, "re-import keeps spec ids");
    app.cleanup().await;
}

/// The reported 1.6 KB workbook (cells at A1 and XFD1000) and one with a cell in the sheet's last
/// row: each is refused by the limit it breaks, before any sheet-sized allocation, and the menu
/// is left as it was. A dense read of the second could not be allocated at all.
#[tokio::test]
async fn a_tiny_workbook_claiming_a_huge_sheet_is_refused_by_name() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let before = app.db().dishes(app.a.brand).await.unwrap();
    for ((row, column), limit) in [((999, 16_383), "columns"), ((1_048_575, 16_383), "rows")] {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "分类").unwrap();
        sheet.write_string(row, column, "x").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        assert!(bytes.len() < 10_000, "{} bytes", bytes.len());
        let (status, body) = app
            .upload("/api/v1/console/menu/import", &token, "menu.xlsx", &bytes)
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::PAYLOAD_TOO_LARGE, "MENU_FILE_TOO_LARGE"),
            "{body}"
        );
        assert_eq!(body["error"]["details"][0]["field"], limit);
        let message = body["error"]["message_en"].as_str().unwrap();
        assert!(message.contains("at most"), "{message}");
    }
    assert_eq!(app.db().dishes(app.a.brand).await.unwrap(), before);
    app.cleanup().await;
}
