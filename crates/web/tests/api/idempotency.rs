//! Idempotency keys: a key is the caller's own (a guest and a signed-in diner who happen to send
//! the same key place two orders), and the record kept with a key holds a keyed digest of the
//! request, never a plain hash a copy of the database could test phone numbers against.

use crate::app::TestApp;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use diancan_storage::Backend;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Places `body` at tenant A under `key` as the diner signed in with `customer_token`.
async fn place_as(
    app: &TestApp,
    customer_token: &str,
    key: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let request = Request::post(format!("/api/v1/stores/{}/orders", app.a.store))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Customer {customer_token}"))
        .header("idempotency-key", key)
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, _, order) = app.send_request(request).await;
    (status, order)
}

#[tokio::test]
async fn the_same_key_from_a_guest_and_a_signed_in_diner_places_two_orders() {
    let app = TestApp::new().await;
    let (status, login) = app
        .post(
            &format!("/api/v1/stores/{}/customer/wechat-login", app.a.store),
            None,
            json!({"code": "sim-same-key"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let diner = login["token"].as_str().unwrap().to_owned();
    let body = app.quoted(app.pickup_body(1).await).await;

    let (status, guests) = app.place("checkout-shared-1", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{guests}");
    let (status, diners) = place_as(&app, &diner, "checkout-shared-1", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{diners}");
    assert_ne!(guests["id"], diners["id"], "two callers, two orders");

    // Each caller's replay returns their own order.
    let (status, again) = place_as(&app, &diner, "checkout-shared-1", &body).await;
    assert_eq!((status, &again["id"]), (StatusCode::OK, &diners["id"]));
    let (status, again) = app.place("checkout-shared-1", &body).await;
    assert_eq!((status, &again["id"]), (StatusCode::OK, &guests["id"]));

    let request = Request::get("/api/v1/customer/orders")
        .header(header::AUTHORIZATION, format!("Customer {diner}"))
        .body(Body::empty())
        .unwrap();
    let (_, _, history) = app.send_request(request).await;
    let ids: Vec<&Value> = history["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["id"])
        .collect();
    assert_eq!(ids, [&diners["id"]], "the guest's order is not the diner's");
    app.cleanup().await;
}

/// `idempotency_keys` as stored: (key, request_hash). No API shows the table, so it is read
/// with the database's own command-line client.
fn stored_request_hashes(app: &TestApp) -> Vec<(String, String)> {
    let sql = "SELECT idempotency_key, request_hash FROM idempotency_keys ORDER BY idempotency_key";
    let url = app.database_url();
    let output = match app.db().backend() {
        Backend::Sqlite => std::process::Command::new("sqlite3")
            .args(["-separator", "|", url.trim_start_matches("sqlite://"), sql])
            .output(),
        Backend::Postgres => std::process::Command::new("psql")
            .args([url, "-X", "-t", "-A", "-F", "|", "-c", sql])
            .output(),
    }
    .expect("the database's command-line client (sqlite3 or psql) is installed");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_once('|'))
        .map(|(key, hash)| (key.to_owned(), hash.to_owned()))
        .collect()
}

/// The hash stored with the key that ends in `key`.
fn hash_of<'a>(stored: &'a [(String, String)], key: &str) -> &'a str {
    stored
        .iter()
        .find(|(k, _)| k.ends_with(key))
        .map(|(_, hash)| hash.as_str())
        .unwrap_or_else(|| panic!("no idempotency record for {key}: {stored:?}"))
}

/// 64-bit FNV-1a, the cheap unkeyed hash a digest could have been.
fn fnv1a(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

#[tokio::test]
async fn the_request_digest_is_keyed_and_says_nothing_of_the_phone_without_the_key() {
    let app = TestApp::new().await;
    let phone = "13912345678";
    let mut body = app.quoted(app.pickup_body(1).await).await;
    body["contact"] = json!({"name": "王先生", "phone": phone});
    // The same server key as the first instance, and another one.
    let same_key = app.second_instance();
    let other_key =
        app.second_instance_with(|config| config.request_digest_key = b"another server key".into());

    for (instance, key) in [
        (&app, "digest-first-1"),
        (&same_key, "digest-same-key"),
        (&other_key, "digest-other-key"),
    ] {
        let (status, order) = instance.place(key, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{order}");
    }
    let stored = stored_request_hashes(&app);
    let first = hash_of(&stored, "digest-first-1");
    assert_eq!(
        first,
        hash_of(&stored, "digest-same-key"),
        "one server key digests one request alike, so a replay is recognised on any instance"
    );
    assert_ne!(
        first,
        hash_of(&stored, "digest-other-key"),
        "the digest depends on the server key"
    );

    let sent = body.to_string();
    for unkeyed in [
        hex::encode(Sha256::digest(sent.as_bytes())),
        fnv1a(sent.as_bytes()),
    ] {
        assert_ne!(
            first, unkeyed,
            "the digest is not a plain hash of the request"
        );
    }
    assert!(
        first.len() == 64 && first.bytes().all(|b| b.is_ascii_hexdigit()),
        "a hex HMAC-SHA256: {first}"
    );
    for (_, hash) in &stored {
        assert!(!hash.contains(phone), "{hash}");
    }
    app.cleanup().await;
}
