//! Print agents: a token is recognised by its hash until revoked, a printer names only a live
//! agent of its store, a claim hands an agent only its own printers' jobs, and an attempt the
//! agent never confirmed comes back as it was when its lease runs out, while a confirmed one
//! comes back uncertain (its next copy says 重打).

use crate::ordering::{menu_of_brand, menu_with_stock};
use crate::printing::settings;
use crate::{NOW_MS, both};
use diancan_domain::printing::*;
use diancan_domain::text::Name;
use diancan_storage::printing::Claimant;
use diancan_storage::{Db, StorageError};

/// Storage keeps whatever hash it is given; the use case makes it SHA-256.
fn hash(token: &str) -> Vec<u8> {
    token.as_bytes().repeat(32)
}

async fn agents_take_only_their_own_jobs_and_revoked_tokens_are_unknown(db: &Db) {
    let menu = menu_with_stock(db, 5).await;
    let other = menu_of_brand(db, "other", 5).await;
    let name = Name::parse("前台电脑").unwrap();
    let agent = db
        .create_print_agent(menu.brand, menu.store, &name, &hash("a"), NOW_MS)
        .await
        .unwrap();
    let theirs = db
        .create_print_agent(other.brand, other.store, &name, &hash("b"), NOW_MS)
        .await
        .unwrap();
    let seen = db
        .print_agent_by_token(&hash("a"), NOW_MS + 5)
        .await
        .unwrap();
    assert_eq!((seen.id, seen.last_seen_ms), (agent.id, Some(NOW_MS + 5)));

    // A printer names a live agent of its own store, and an agent printer must name one.
    let mut fed = settings("前台", vec![], true);
    fed.connection = PrinterConnection::Agent;
    let refused = db
        .create_printer(menu.brand, menu.store, &fed, NOW_MS)
        .await
        .unwrap_err();
    assert!(matches!(refused, StorageError::Refused("AGENT_REQUIRED")));
    fed.agent_id = Some(theirs.id);
    let refused = db
        .create_printer(menu.brand, menu.store, &fed, NOW_MS)
        .await
        .unwrap_err();
    assert!(matches!(refused, StorageError::Refused("UNKNOWN_AGENT")));
    fed.agent_id = Some(agent.id);
    let printer = db
        .create_printer(menu.brand, menu.store, &fed, NOW_MS)
        .await
        .unwrap();
    assert_eq!(printer.agent_id, Some(agent.id));
    let mut their_fed = settings("前台", vec![], true);
    their_fed.connection = PrinterConnection::Agent;
    their_fed.agent_id = Some(theirs.id);
    let their_printer = db
        .create_printer(other.brand, other.store, &their_fed, NOW_MS)
        .await
        .unwrap();

    let mine = db
        .queue_test_print(menu.brand, menu.store, printer.id, "test", NOW_MS)
        .await
        .unwrap();
    db.queue_test_print(other.brand, other.store, their_printer.id, "test", NOW_MS)
        .await
        .unwrap();
    // The server's worker never takes an agent's job.
    assert!(
        db.claim_print_jobs(NOW_MS + 1, 1_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let claimant = Claimant::Agent {
        agent: agent.id,
        brand: menu.brand,
        store: menu.store,
    };
    let claimed = db
        .claim_agent_jobs(claimant, NOW_MS + 1, 1_000, 10)
        .await
        .unwrap();
    let ids: Vec<i64> = claimed.iter().map(|c| c.job.id).collect();
    assert_eq!(ids, vec![mine.id], "only its own store's job");

    // Never confirmed: when the handover lease runs out it is due again, not uncertain.
    let again = db
        .claim_agent_jobs(claimant, NOW_MS + 1_002, 1_000, 10)
        .await
        .unwrap();
    assert_eq!(again[0].job.attempts, 2);
    assert!(!again[0].job.uncertain);
    assert!(
        !db.confirm_print_job(mine.id, 1, NOW_MS + 9_000, NOW_MS + 1_003)
            .await
            .unwrap(),
        "the first attempt no longer holds it"
    );
    // Confirmed, then silent: the next attempt is uncertain and says 重打.
    assert!(
        db.confirm_print_job(mine.id, 2, NOW_MS + 2_000, NOW_MS + 1_003)
            .await
            .unwrap()
    );
    let third = db
        .claim_agent_jobs(claimant, NOW_MS + 2_001, 1_000, 10)
        .await
        .unwrap();
    assert!(third[0].job.uncertain && third[0].job.says_reprint());

    db.revoke_print_agent(menu.brand, menu.store, agent.id, NOW_MS + 3)
        .await
        .unwrap();
    let revoked = db
        .revoke_print_agent(menu.brand, menu.store, agent.id, NOW_MS + 9)
        .await
        .unwrap();
    assert_eq!(
        revoked.revoked_at_ms,
        Some(NOW_MS + 3),
        "the first revocation stays"
    );
    assert!(matches!(
        db.print_agent_by_token(&hash("a"), NOW_MS + 10).await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        db.revoke_print_agent(other.brand, other.store, agent.id, NOW_MS)
            .await,
        Err(StorageError::NotFound)
    ));
    let listed = db.print_agents(menu.brand, menu.store).await.unwrap();
    assert_eq!(listed.len(), 1);
}
both!(agents_take_only_their_own_jobs_and_revoked_tokens_are_unknown);
