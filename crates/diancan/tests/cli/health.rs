//! `/healthz` says the process is alive, `/readyz` that its database answers: checked on the
//! real `serve`, and `/readyz` turning 503 when the database goes away under it.

use crate::process::{Scratch, Server, diancan};
use diancan_storage::testing::TestDb;

#[tokio::test]
async fn healthz_and_readyz_answer_on_sqlite() {
    let scratch = Scratch::new();
    let server = Server::start(diancan(&scratch.url, &["serve"]));
    assert_eq!(server.get("/healthz").await, (200, "ok".into()));
    assert_eq!(server.get("/readyz").await, (200, "ready".into()));
}

#[tokio::test]
async fn readyz_answers_503_once_the_database_is_gone() {
    let Some(database) = TestDb::postgres().await else {
        return;
    };
    let server = Server::start(diancan(&database.url, &["serve"]));
    assert_eq!(server.get("/readyz").await, (200, "ready".into()));

    // Dropping the database ends the server's connections and leaves nothing to reconnect to.
    database.cleanup().await;
    let (status, body) = server.get("/readyz").await;
    assert_eq!((status, body.as_str()), (503, "database unreachable"));
    assert_eq!(
        server.get("/healthz").await,
        (200, "ok".into()),
        "the process itself is still alive"
    );
}
