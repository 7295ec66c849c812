//! The public menu: what a merchant creates appears, cached with an ETag and invalidated on change.

use crate::app::{TestApp, code};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use diancan_integrations::demo_images::{DishStyle, dish_picture};
use serde_json::{Value, json};

fn dish_names(menu: &Value) -> Vec<String> {
    menu["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["dishes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["name"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn a_new_dish_with_specs_options_and_a_photo_appears_on_the_public_menu() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let (status, image) = app
        .upload(
            "/api/v1/console/images",
            &token,
            "soup.png",
            &dish_picture(3, DishStyle::Soup),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{image}");
    let (status, _, _) = app
        .send(
            axum::http::Method::GET,
            image["thumbnail_url"].as_str().unwrap(),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let draft = json!({
        "category_id": app.a.category, "name": "酸辣汤", "name_en": "Hot and Sour Soup", "tags": ["新品", "辣"],
        "image_ids": [image["id"]],
        "skus": [{"code": "SLT-S", "name": "小份", "price_fen": 1200}, {"code": "SLT-L", "name": "大份", "price_fen": 1800}],
        "option_groups": [
            {"name": "辣度", "min_select": 1, "max_select": 1, "options": [{"name": "微辣"}, {"name": "特辣"}]},
            {"name": "加料", "min_select": 0, "max_select": 2, "options": [{"name": "加蛋", "price_delta_fen": 200}, {"name": "加肉", "price_delta_fen": 600}]}
        ]
    });
    let (status, created) = app
        .post("/api/v1/console/dishes", Some(&token), draft)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");

    let (status, menu) = app
        .get(&format!("/api/v1/stores/{}/menu", app.a.store), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let soup = menu["categories"][0]["dishes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "酸辣汤")
        .unwrap()
        .clone();
    assert_eq!(soup["price_from_fen"], 1200);
    assert_eq!(soup["needs_choices"], true);
    assert_eq!(soup["image_ids"][0], image["id"]);
    assert_eq!(
        soup["option_groups"][1]["options"][0]["price_delta_fen"],
        200
    );
    assert_eq!(menu["store"]["open_now"], true);
    app.cleanup().await;
}

#[tokio::test]
async fn the_menu_revalidates_with_etag_and_changes_after_an_edit() {
    let app = TestApp::new().await;
    let path = format!("/api/v1/stores/{}/menu", app.a.store);
    let (status, headers, first) = app.send(axum::http::Method::GET, &path, None, None).await;
    assert_eq!(status, StatusCode::OK);
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();

    let conditional = |etag: &str| {
        Request::get(&path)
            .header(header::IF_NONE_MATCH, etag)
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, _) = app.send_request(conditional(&etag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);

    // 沽清 through the console: the menu changes at once on this instance.
    let token = app.login("alpha-kitchen").await;
    let settings = json!({"price_fen": null, "stock": null, "daily_limit": null, "low_stock_threshold": null, "sold_out": true});
    let (status, _) = app
        .put(
            &format!("/api/v1/console/stores/{}/skus/{}", app.a.store, app.a.sku),
            Some(&token),
            settings,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, second) = app.send_request(conditional(&etag)).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(headers[header::ETAG].to_str().unwrap(), etag);
    assert_eq!(
        first["categories"][0]["dishes"][0]["skus"][0]["sold_out"],
        false
    );
    assert_eq!(
        second["categories"][0]["dishes"][0]["skus"][0]["sold_out"],
        true
    );
    assert_eq!(dish_names(&second), dish_names(&first));
    app.cleanup().await;
}

#[tokio::test]
async fn a_closed_store_says_when_it_opens_and_breakfast_leaves_at_ten() {
    // 23:30 in Shanghai: closed until 07:00.
    let app = TestApp::with_clock(diancan_web::Clock::fixed(
        "2026-11-25T15:30:00Z".parse().unwrap(),
    ))
    .await;
    let (status, store) = app
        .get(&format!("/api/v1/stores/{}", app.a.store), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(store["open_now"], false);
    assert_eq!(store["opens_at"], "2026-11-26T07:00");
    let (status, body) = app
        .get(
            "/api/v1/stores/00000000-0000-7000-8000-000000000000/menu",
            None,
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    app.cleanup().await;
}

#[tokio::test]
async fn the_directory_sorts_by_distance_and_a_table_code_opens_its_store() {
    let app = TestApp::new().await;
    let (status, stores) = app
        .get("/api/v1/stores?near=31235000,121480000", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stores[0]["distance_m"], 0);
    // Half a point, or one off the globe, is refused: the schema's pattern says the same.
    for near in ["31235000", "31235000,", "90000001,0", "0,180000001"] {
        let (status, body) = app.get(&format!("/api/v1/stores?near={near}"), None).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "INVALID_QUERY"),
            "{near}"
        );
    }

    let (status, landing) = app
        .get(&format!("/api/v1/tables/{}", app.a.table_token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(landing["store_id"], app.a.store.to_string());
    assert_eq!(landing["table_code"], "A1");
    assert_eq!(landing["area_name"], "大厅");
    let mut forged = app.a.table_token.clone();
    forged.replace_range(0..2, "AA");
    let (status, body) = app.get(&format!("/api/v1/tables/{forged}"), None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "UNKNOWN_TABLE_CODE")
    );
    app.cleanup().await;
}

#[tokio::test]
async fn phones_get_the_menu_gzipped_once_and_it_unpacks_to_the_same_json() {
    use std::io::Read;
    let app = TestApp::new().await;
    let path = format!("/api/v1/stores/{}/menu", app.a.store);
    let (_, plain) = app.get(&path, None).await;
    let request = Request::get(&path)
        .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
        .body(Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let mut json = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut json)
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), plain);
    app.cleanup().await;
}

/// The table page carries the table, its cart and the menu, as the API answers them, and a dish
/// name written to break out of the page's script element stays text.
#[tokio::test]
async fn the_table_page_carries_its_first_data_safely() {
    let app = TestApp::new().await;
    let token = app.login(&app.a.owner_login).await;
    let hostile = "面</script><script>alert(1)</script>";
    let (status, body) = app
        .post(
            "/api/v1/console/dishes",
            Some(&token),
            json!({"category_id": app.a.category, "name": hostile,
                   "skus": [{"code": "X1", "price_fen": 1000}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let request = Request::get(format!("/t/{}", app.a.table_token))
        .body(Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let html = String::from_utf8(html.to_vec()).unwrap();
    let open = "<script type=\"application/json\" id=\"first-data\">";
    let start = html.find(open).expect("first data in the page") + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    let data: Value = serde_json::from_str(&html[start..end]).unwrap();
    assert!(!html[start..end].contains('<'));

    let (_, table) = app
        .get(&format!("/api/v1/tables/{}", app.a.table_token), None)
        .await;
    assert_eq!(data["table"], table);
    let (_, cart) = app
        .get(&format!("/api/v1/tables/{}/cart", app.a.table_token), None)
        .await;
    assert_eq!(data["cart"], cart);
    let (_, menu) = app
        .get(&format!("/api/v1/stores/{}/menu", app.a.store), None)
        .await;
    assert_eq!(data["menu"], menu);
    assert!(dish_names(&data["menu"]).contains(&hostile.to_owned()));

    let request = Request::get("/t/not-a-real-token")
        .body(Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .unwrap();
    let html = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&html).contains("first-data"),
        "a bad code gets the bare page, which shows the API's error"
    );
    app.cleanup().await;
}
