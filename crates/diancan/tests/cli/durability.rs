//! The README's promise that the SQLite server commits with `synchronous=FULL` in WAL mode,
//! checked on the running `serve`: the banner line is read back from the server's own writer
//! connection, and the file itself is inspected from outside.

use crate::process::{Scratch, Server, diancan};

fn durability_line(server: &Server) -> String {
    server
        .process
        .wait_for_line("SQLite: journal_mode=", std::time::Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no durability line:\n{}", server.process.output()))
}

#[tokio::test]
async fn the_sqlite_server_commits_with_synchronous_full_in_wal_mode() {
    let scratch = Scratch::new();
    let server = Server::start(diancan(&scratch.url, &["serve"]));
    let line = durability_line(&server);
    assert!(
        line.contains("journal_mode=WAL, synchronous=FULL"),
        "{line}"
    );

    // WAL is a property of the file: bytes 18 and 19 of the header are 2 in WAL mode.
    let header = crate::process::read(&scratch.db_file());
    assert_eq!((header[18], header[19]), (2, 2), "the file is in WAL mode");
    drop(server);
}

#[tokio::test]
async fn the_line_is_read_from_the_connection_so_fast_unsafe_shows_normal() {
    let scratch = Scratch::new();
    let server = Server::start(diancan(&scratch.url, &["serve", "--sqlite-fast-unsafe"]));
    let line = durability_line(&server);
    assert!(line.contains("synchronous=NORMAL"), "{line}");
}
