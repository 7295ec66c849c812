//! Demo mode and real mode, run as an operator would: `serve` seeds nothing and uses only the
//! configured login providers, so codes are never logged; `--demo` (and bare `diancan` on the
//! default database, what `cargo run` does) seeds the demo, says so, and logs codes; and
//! `--production` refuses what must not run in production.

use crate::process::{DIANCAN, Process, START_WAIT, Scratch, Server, diancan, run};
use crate::sqlite;
use diancan_integrations::testing::FakeHttp;
use serde_json::json;
use std::time::Duration;

const BANNER: &str = diancan::mode::DEMO_BANNER;
const PHONE: &str = "13812345678";

/// The demo store's id, from the banner's takeaway link.
fn store_id(server: &Server) -> String {
    let line = server
        .process
        .wait_for_line("/s/", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no takeaway link:\n{}", server.process.output()));
    line.rsplit("/s/").next().unwrap().trim().to_owned()
}

/// The six-digit code the demo's SMS provider wrote to the log for the latest request.
fn logged_code(server: &Server) -> String {
    let line = server
        .process
        .wait_for_line("验证码", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no code in the log:\n{}", server.process.output()));
    let at = line.find("code=").expect("a code field") + "code=".len();
    line[at..]
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect()
}

/// Whether any log line carries a six-digit `code=` field, as the demo's SMS provider writes.
fn logs_a_code(output: &str) -> bool {
    output.lines().any(|line| {
        line.match_indices("code=").any(|(at, _)| {
            let value = line[at + 5..].trim_start_matches('"');
            let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
            digits.len() == 6
        })
    })
}

#[tokio::test]
async fn serve_on_a_new_database_seeds_nothing_and_logs_no_code() {
    let scratch = Scratch::new();
    let server = Server::start(diancan(&scratch.url, &["serve"]));
    assert_eq!(
        sqlite::count(&scratch.db_file(), "brands").await,
        0,
        "nothing seeded"
    );
    assert_eq!(sqlite::count(&scratch.db_file(), "staff").await, 0);
    let output = server.process.output();
    assert!(!output.contains(BANNER), "{output}");
    assert!(!output.contains(diancan::demo::DEMO_PASSWORD), "{output}");
}

#[tokio::test]
async fn without_providers_phone_and_wechat_login_are_off_and_nothing_is_logged() {
    let scratch = Scratch::new();
    run(&scratch.url, &["seed-demo"]).success();
    let server = Server::start(diancan(&scratch.url, &["serve"]));
    let store = store_id(&server);

    let (status, body) = server
        .post(
            &format!("/api/v1/stores/{store}/customer/otp"),
            json!({"phone": PHONE}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("SMS_UNAVAILABLE")),
        "{body}"
    );
    let (status, body) = server
        .post(
            &format!("/api/v1/stores/{store}/customer/wechat-login"),
            json!({"code": "sim-alice"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("WECHAT_UNAVAILABLE")),
        "the simulator is not there: {body}"
    );
    let output = server.process.output();
    assert!(!logs_a_code(&output), "{output}");
    assert!(!output.contains(BANNER), "{output}");
}

#[tokio::test]
async fn configured_providers_get_the_code_and_the_log_does_not() {
    let scratch = Scratch::new();
    run(&scratch.url, &["seed-demo"]).success();
    let gateway = FakeHttp::start(200, "{}").await;
    let wechat = FakeHttp::start(200, r#"{"openid":"oREAL42","session_key":"a2V5"}"#).await;
    let mut command = diancan(&scratch.url, &["serve"]);
    command
        .env("DIANCAN_SMS_PROVIDER", "webhook")
        .env("DIANCAN_SMS_WEBHOOK_URL", &gateway.url)
        .env("DIANCAN_SMS_WEBHOOK_TOKEN", "webhook-t0ken")
        .env("DIANCAN_WECHAT_APP_ID", "wxrealapp")
        .env("DIANCAN_WECHAT_APP_SECRET", "app-s3cret")
        .env("DIANCAN_WECHAT_API_URL", &wechat.url);
    let server = Server::start(command);
    let store = store_id(&server);

    let (status, body) = server
        .post(
            &format!("/api/v1/stores/{store}/customer/otp"),
            json!({"phone": PHONE}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let sent = gateway.wait_for(1, Duration::from_secs(10)).await;
    let message: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    let code = message["code"].as_str().unwrap().to_owned();
    assert_eq!(message["phone"], PHONE);
    let (status, body) = server
        .post(
            &format!("/api/v1/stores/{store}/customer/login"),
            json!({"phone": PHONE, "code": code}),
        )
        .await;
    assert_eq!(status, 200, "the code the gateway got logs in: {body}");

    let (status, body) = server
        .post(
            &format!("/api/v1/stores/{store}/customer/wechat-login"),
            json!({"code": "0a1b2c3d"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let asked = &wechat.requests()[0];
    assert_eq!(asked.query("appid").as_deref(), Some("wxrealapp"));
    assert_eq!(asked.query("js_code").as_deref(), Some("0a1b2c3d"));

    let output = server.process.output();
    assert!(!logs_a_code(&output), "{output}");
    for secret in [code.as_str(), "webhook-t0ken", "app-s3cret"] {
        assert!(!output.contains(secret), "{secret} in the log:\n{output}");
    }
    assert!(!output.contains(BANNER), "{output}");
}

#[tokio::test]
async fn demo_mode_seeds_names_itself_and_logs_codes() {
    let scratch = Scratch::new();
    let server = Server::start(diancan(&scratch.url, &["serve", "--demo"]));
    assert!(
        server
            .process
            .wait_for_line(BANNER, Duration::from_secs(5))
            .is_some()
    );
    assert_eq!(
        sqlite::count(&scratch.db_file(), "brands").await,
        1,
        "the demo"
    );
    let store = store_id(&server);
    let (status, body) = server
        .post(
            &format!("/api/v1/stores/{store}/customer/otp"),
            json!({"phone": PHONE}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let code = logged_code(&server);
    assert!(
        logs_a_code(&server.process.output()),
        "the helper sees what demo mode logs"
    );
    let (status, body) = server
        .post(
            &format!("/api/v1/stores/{store}/customer/login"),
            json!({"phone": PHONE, "code": code}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = server
        .post(
            &format!("/api/v1/stores/{store}/customer/wechat-login"),
            json!({"code": "sim-alice"}),
        )
        .await;
    assert_eq!(status, 200, "the simulator logs in");
}

#[tokio::test]
async fn bare_diancan_on_the_default_database_is_the_demo() {
    let scratch = Scratch::new();
    // `cargo run`: no subcommand, no database URL, so `data/diancan.db` under the working folder.
    let mut command = std::process::Command::new(DIANCAN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("DIANCAN_") {
            command.env_remove(&key);
        }
    }
    command
        .current_dir(scratch.path(""))
        .env("DIANCAN_LISTEN", "127.0.0.1:0");
    let process = Process::spawn(command, None);
    assert!(
        process.wait_for_line(BANNER, START_WAIT).is_some(),
        "{}",
        process.output()
    );
    let db = scratch.path("data/diancan.db");
    assert_eq!(sqlite::count(&db, "brands").await, 1, "the demo was seeded");
}

#[tokio::test]
async fn production_refuses_demo_mode_and_a_missing_pii_key() {
    let scratch = Scratch::new();
    let refused = run(&scratch.url, &["serve", "--production"]).failure();
    assert!(
        refused.output.contains("DIANCAN_PII_KEY"),
        "{}",
        refused.output
    );

    let mut command = diancan(&scratch.url, &["serve", "--demo"]);
    command
        .env("DIANCAN_PRODUCTION", "1")
        .env("DIANCAN_PII_KEY", "ab".repeat(32));
    let refused = Process::spawn(command, None)
        .wait_for_exit(START_WAIT)
        .failure();
    assert!(
        refused.output.contains("refuses demo mode"),
        "{}",
        refused.output
    );
    assert!(
        !scratch.db_file().exists(),
        "a refused start touches no database"
    );

    let mut command = diancan(&scratch.url, &["serve", "--production"]);
    command.env("DIANCAN_PII_KEY", "ab".repeat(32));
    let server = Server::start(command);
    assert!(
        server
            .process
            .wait_for_line("production mode", Duration::from_secs(5))
            .is_some()
    );
    assert!(
        !server.process.output().contains("WARNING"),
        "{}",
        server.process.output()
    );
}

#[tokio::test]
async fn a_key_kept_in_the_database_is_warned_about_loudly() {
    let scratch = Scratch::new();
    let server = Server::start(diancan(&scratch.url, &["serve"]));
    let warning = server.process.wait_for_line(
        "the PII master key is kept in the database",
        Duration::from_secs(5),
    );
    assert!(warning.is_some(), "{}", server.process.output());
}

#[tokio::test]
async fn a_real_provider_this_build_cannot_reach_stops_the_start() {
    if diancan_integrations::HAS_TLS {
        return;
    }
    let scratch = Scratch::new();
    let mut command = diancan(&scratch.url, &["serve"]);
    command
        .env("DIANCAN_WECHAT_APP_ID", "wxrealapp")
        .env("DIANCAN_WECHAT_APP_SECRET", "app-s3cret");
    let refused = Process::spawn(command, None)
        .wait_for_exit(START_WAIT)
        .failure();
    assert!(
        refused.output.contains("--features tls"),
        "{}",
        refused.output
    );
    assert!(!refused.output.contains("app-s3cret"), "{}", refused.output);
}
