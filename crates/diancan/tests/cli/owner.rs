//! `diancan create-owner`: the first brand and owner of a real deployment, with a password
//! that is read from stdin or the environment, never echoed, and never the demo's.

use crate::process::{Process, START_WAIT, Scratch, Server, diancan};
use crate::sqlite;
use serde_json::json;

const PASSWORD: &str = "long-enough-面馆-2026";

fn create_owner(
    scratch: &Scratch,
    stdin: Option<&str>,
    env: Option<&str>,
) -> crate::process::Finished {
    let mut command = diancan(
        &scratch.url,
        &["create-owner", "--brand", "老王面馆", "--login", "wang"],
    );
    if let Some(password) = env {
        command.env(diancan::owner::PASSWORD_ENV, password);
    }
    Process::spawn(command, stdin).wait_for_exit(START_WAIT)
}

#[tokio::test]
async fn the_first_owner_logs_in_with_the_password_given_on_stdin() {
    let scratch = Scratch::new();
    let created = create_owner(&scratch, Some(&format!("{PASSWORD}\n")), None).success();
    assert!(
        !created.output.contains(PASSWORD),
        "echoed: {}",
        created.output
    );
    assert_eq!(sqlite::count(&scratch.db_file(), "brands").await, 1);
    let mut connection = sqlite::open(&scratch.db_file()).await;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM staff WHERE login = 'wang'")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    let server = Server::start(diancan(&scratch.url, &["serve"]));
    let (status, body) = server
        .post(
            "/api/v1/auth/login",
            json!({"login": "wang", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["staff"]["role"], "owner", "{body}");
    let output = server.process.output();
    assert!(!output.contains(PASSWORD), "{output}");

    // The database has a brand now: a second first owner is refused and nothing changes.
    drop(server);
    let again = create_owner(&scratch, None, Some("another-long-password")).failure();
    assert!(
        again.output.contains("already has a brand"),
        "{}",
        again.output
    );
    assert_eq!(sqlite::count(&scratch.db_file(), "staff").await, 1);
}

#[tokio::test]
async fn the_password_may_come_from_the_environment() {
    let scratch = Scratch::new();
    create_owner(&scratch, None, Some(PASSWORD)).success();
    assert_eq!(sqlite::count(&scratch.db_file(), "staff").await, 1);
}

#[tokio::test]
async fn the_demo_password_and_short_ones_are_refused_and_nothing_is_created() {
    let scratch = Scratch::new();
    for (password, says) in [
        (diancan::demo::DEMO_PASSWORD, "demo password"),
        ("short-pw", "at least 10"),
        ("", "give the password"),
    ] {
        let refused = create_owner(&scratch, Some(&format!("{password}\n")), None).failure();
        assert!(
            refused.output.contains(says),
            "{password:?}: {}",
            refused.output
        );
    }
    assert!(
        !scratch.db_file().exists(),
        "refused before the database was touched"
    );
}
