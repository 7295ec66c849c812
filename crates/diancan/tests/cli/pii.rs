//! Rotating the PII master key on the real binary: diners' phones sealed under key 1 stay
//! readable (and findable) after key 2 becomes current, `pii reseal` moves them to key 2, and
//! once key 1 is dropped everything still opens. Logins go through demo mode, whose SMS
//! provider writes the code to the log.

use crate::process::{Scratch, Server, diancan, run};
use serde_json::json;
use std::time::Duration;

const KEY_1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const KEY_2: &str = "2222222222222222222222222222222222222222222222222222222222222222";

/// Sealed values that name their key start with this marker, the id's length and the id.
fn sealed_under(sealed: &[u8]) -> Option<String> {
    let rest = sealed.strip_prefix(&[0xD1, 0xC4])?;
    let (&len, rest) = rest.split_first()?;
    Some(String::from_utf8_lossy(rest.get(..len as usize)?).into_owned())
}

struct Demo {
    server: Server,
    store: String,
    codes_seen: usize,
}

impl Demo {
    fn start(scratch: &Scratch, keys: &str) -> Demo {
        let mut command = diancan(&scratch.url, &["serve", "--demo"]);
        command.env("DIANCAN_PII_KEY", keys);
        let server = Server::start(command);
        let line = server
            .process
            .wait_for_line("/s/", Duration::from_secs(5))
            .expect("the takeaway link");
        let store = line.rsplit("/s/").next().unwrap().trim().to_owned();
        Demo {
            server,
            store,
            codes_seen: 0,
        }
    }

    /// Logs in by phone with the code from the log; the customer's id and masked phone.
    async fn log_in(&mut self, phone: &str) -> (String, String) {
        let (status, body) = self
            .server
            .post(
                &format!("/api/v1/stores/{}/customer/otp", self.store),
                json!({"phone": phone}),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        self.codes_seen += 1;
        let code = self.code(self.codes_seen);
        let (status, body) = self
            .server
            .post(
                &format!("/api/v1/stores/{}/customer/login", self.store),
                json!({"phone": phone, "code": code}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        (
            body["customer"]["id"].as_str().unwrap().to_owned(),
            body["customer"]["phone_masked"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
    }

    /// The `n`th code the demo SMS provider logged.
    fn code(&self, n: usize) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let output = self.server.process.output();
            let codes: Vec<String> = output
                .lines()
                .filter(|l| l.contains("验证码"))
                .filter_map(|l| {
                    let at = l.find("code=")? + "code=".len();
                    Some(
                        l[at..]
                            .chars()
                            .filter(char::is_ascii_digit)
                            .take(6)
                            .collect(),
                    )
                })
                .collect();
            if let Some(code) = codes.get(n - 1) {
                return code.clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no code {n}:\n{output}"
            );
            self.server
                .process
                .wait_for_line("验证码", Duration::from_millis(200));
        }
    }
}

/// What a minute's wait would do: the once-a-minute limit on codes per phone starts over.
async fn let_a_minute_pass(scratch: &Scratch) {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(scratch.db_file());
    let mut connection = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options)
        .await
        .unwrap();
    sqlx::query("DELETE FROM login_throttle")
        .execute(&mut connection)
        .await
        .unwrap();
    sqlx::Connection::close(connection).await.unwrap();
}

async fn sealed_phone_keys(scratch: &Scratch) -> Vec<Option<String>> {
    let mut connection = crate::sqlite::open(&scratch.db_file()).await;
    let rows: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT phone_sealed FROM customers WHERE phone_sealed IS NOT NULL")
            .fetch_all(&mut connection)
            .await
            .unwrap();
    rows.iter().map(|s| sealed_under(s)).collect()
}

#[tokio::test]
async fn a_rotated_key_keeps_phones_readable_and_reseal_lets_the_old_key_go() {
    let scratch = Scratch::new();
    run(&scratch.url, &["seed-demo"]).success();

    let mut under_1 = Demo::start(&scratch, &format!("1:{KEY_1}"));
    let (alice, alice_masked) = under_1.log_in("13812345678").await;
    drop(under_1);
    let_a_minute_pass(&scratch).await;
    assert_eq!(sealed_phone_keys(&scratch).await, [Some("1".to_owned())]);

    // Key 2 current, key 1 kept: the old phone still opens and is found by its index.
    let mut rotated = Demo::start(&scratch, &format!("2:{KEY_2},1:{KEY_1}"));
    assert_eq!(
        rotated.log_in("13812345678").await,
        (alice.clone(), alice_masked.clone())
    );
    let (bob, bob_masked) = rotated.log_in("13900001111").await;
    drop(rotated);
    let_a_minute_pass(&scratch).await;

    // Dropping key 1 before re-sealing is refused, not a silent loss.
    let mut command = diancan(
        &scratch.url,
        &["serve", "--demo", "--listen", "127.0.0.1:0"],
    );
    command.env("DIANCAN_PII_KEY", format!("2:{KEY_2}"));
    let refused = crate::process::Process::spawn(command, None)
        .wait_for_exit(crate::process::START_WAIT)
        .failure();
    assert!(refused.output.contains("pii reseal"), "{}", refused.output);

    let mut command = diancan(&scratch.url, &["pii", "reseal"]);
    command.env("DIANCAN_PII_KEY", format!("2:{KEY_2},1:{KEY_1}"));
    let resealed = crate::process::Process::spawn(command, None)
        .wait_for_exit(crate::process::START_WAIT)
        .success();
    assert!(
        resealed.output.contains("1 customer phones"),
        "alice moved, bob was already under key 2: {}",
        resealed.output
    );
    let mut keys = sealed_phone_keys(&scratch).await;
    keys.sort();
    assert_eq!(keys, [Some("2".to_owned()), Some("2".to_owned())]);

    let mut only_2 = Demo::start(&scratch, &format!("2:{KEY_2}"));
    assert_eq!(only_2.log_in("13812345678").await, (alice, alice_masked));
    assert_eq!(only_2.log_in("13900001111").await, (bob, bob_masked));
}
