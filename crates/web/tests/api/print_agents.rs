//! The print agent end to end: the real server on a socket, `diancan print-agent`'s loop
//! in-process against a fake printer on loopback. A kitchen ticket prints; an agent killed
//! after spooling (and one killed after printing, before reporting) is restarted on the same
//! spool and every job prints once, unmarked. A revoked token is refused and the agent stops;
//! another store's jobs never reach an agent. And Feie: a job reaches the simulator with a
//! valid signature, and an offline Feie box is down, its job on the fallback.

use crate::app::{TestApp, code};
use crate::kitchen::{accepted_order, kitchen};
use crate::printing::{eventually, job_number, running_clock, says_reprint};
use axum::http::StatusCode;
use diancan_domain::printing::*;
use diancan_integrations::printing::agent::{self, AgentConfig, AgentError, HangPoint};
use diancan_integrations::printing::fake_printer::{FakeCondition, FakePrinter};
use diancan_storage::printing::PrintJob;
use diancan_usecases::printing::PrintSettings;
use diancan_usecases::workers::spawn_printing;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

fn store_path(app: &TestApp, rest: &str) -> String {
    format!("/api/v1/console/stores/{}/{rest}", app.a.store)
}

/// Adds an agent to tenant A's store; answers its id and device token.
async fn new_agent(app: &TestApp, manager: &str, name: &str) -> (String, String) {
    let (status, created) = app
        .post(
            &store_path(app, "print-agents"),
            Some(manager),
            json!({"name": name}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["agent"]["id"].as_str().unwrap().to_owned(),
        created["token"].as_str().unwrap().to_owned(),
    )
}

/// The store's one printer (so every paper goes to it), fed by `agent`.
async fn agent_printer(app: &TestApp, manager: &str, agent: &str, fake: &FakePrinter) -> Value {
    let (status, printer) = app
        .post(
            &store_path(app, "printers"),
            Some(manager),
            json!({"name": "前台", "connection": "agent", "agent_id": agent,
                "address": fake.addr.to_string(), "paper_mm": 58, "takes_receipts": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{printer}");
    assert_eq!(printer["agent_id"], agent);
    printer
}

fn config(base: &str, token: &str, spool: &std::path::Path) -> AgentConfig {
    let mut config = AgentConfig::new(base, token, spool.to_path_buf());
    config.wait = Duration::from_secs(2);
    config.probe_every = Duration::from_millis(200);
    config
}

async fn all_jobs(app: &TestApp) -> Vec<PrintJob> {
    app.db()
        .print_jobs_since(app.a.brand, app.a.store, 0, 1_000)
        .await
        .unwrap()
}

/// Papers by job number: (unmarked copies, copies saying 重打).
fn copies(fake: &FakePrinter) -> BTreeMap<i64, (usize, usize)> {
    let mut copies: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    for paper in fake.jobs() {
        if let Some(id) = job_number(&paper) {
            let entry = copies.entry(id).or_default();
            if says_reprint(&paper) {
                entry.1 += 1;
            } else {
                entry.0 += 1;
            }
        }
    }
    copies
}

/// Runs the agent until it hangs at `point`; answers the job it hung on, with the task
/// (aborted by the caller: the agent "killed" there).
async fn run_until(
    config: AgentConfig,
    point: HangPoint,
) -> (
    tokio::sync::mpsc::UnboundedReceiver<i64>,
    tokio::task::JoinHandle<()>,
) {
    let (tell, hung) = tokio::sync::mpsc::unbounded_channel();
    let mut config = config;
    config.hang = Some((point, tell));
    let task = tokio::spawn(async move {
        let _ = agent::run(config).await;
    });
    (hung, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_agent_prints_tickets_and_resumes_from_its_spool_after_being_killed() {
    let app = TestApp::with_clock(running_clock()).await;
    let served = app.serve().await;
    let k = kitchen(&app).await;
    let fake = FakePrinter::start(FakeCondition::default()).await.unwrap();
    let (agent_id, token) = new_agent(&app, &k.manager, "前台电脑").await;
    agent_printer(&app, &k.manager, &agent_id, &fake).await;
    let spool = tempfile::tempdir().unwrap();
    let config = config(&served.base, &token, spool.path());

    // Killed after the first job is spooled and confirmed, before it printed.
    let (mut hung, task) = run_until(config.clone(), HangPoint::AfterSpool).await;
    accepted_order(&app, &k, "agent-order-1").await;
    let first = tokio::time::timeout(Duration::from_secs(30), hung.recv())
        .await
        .expect("the agent claims the job")
        .unwrap();
    task.abort();
    let _ = task.await;
    let spooled = std::fs::read_dir(spool.path()).unwrap().count();
    assert!(spooled >= 1, "the job is on disk before anything printed");
    assert!(fake.jobs().is_empty(), "nothing printed before the kill");
    assert_eq!(
        app.db().print_job(first).await.unwrap().state,
        PrintJobState::Sending
    );

    // Restarted on the same spool: it prints what it held, and the rest.
    let running = tokio::spawn(agent::run(config.clone()));
    eventually("the first order's papers printed", || async {
        let jobs = all_jobs(&app).await;
        jobs.len() == 3 && jobs.iter().all(|j| j.state == PrintJobState::Printed)
    })
    .await;
    running.abort();
    let _ = running.await;

    // Killed after printing a job of the second order, before reporting it.
    let (mut hung, task) = run_until(config.clone(), HangPoint::AfterPrint).await;
    accepted_order(&app, &k, "agent-order-2").await;
    let printed = tokio::time::timeout(Duration::from_secs(30), hung.recv())
        .await
        .expect("the agent prints a job")
        .unwrap();
    task.abort();
    let _ = task.await;
    assert_eq!(
        app.db().print_job(printed).await.unwrap().state,
        PrintJobState::Sending,
        "not yet reported"
    );
    let running = tokio::spawn(agent::run(config));
    eventually("every paper printed", || async {
        let jobs = all_jobs(&app).await;
        jobs.len() == 6 && jobs.iter().all(|j| j.state == PrintJobState::Printed)
    })
    .await;
    let jobs = all_jobs(&app).await;
    let papers = copies(&fake);
    for job in &jobs {
        assert_eq!(
            papers.get(&job.id),
            Some(&(1, 0)),
            "job {} printed once, unmarked: {papers:?}",
            job.id
        );
        assert!(!job.uncertain);
    }
    let kitchen_tickets = fake
        .jobs()
        .iter()
        .filter(|p| p.texts().iter().any(|t| t.contains("热菜单")))
        .count();
    assert_eq!(kitchen_tickets, 2, "one 热菜 ticket per order");
    assert!(
        std::fs::read_dir(spool.path()).unwrap().count() == 0,
        "the spool is empty once all is reported"
    );
    let (_, agents) = app
        .get(&store_path(&app, "print-agents"), Some(&k.manager))
        .await;
    assert!(agents[0]["last_seen_ms"].as_i64().is_some(), "{agents}");
    running.abort();
    served.stop().await;
    app.cleanup().await;
}

/// The agent's printer runs out of paper: the agent reports it down, its ticket prints on the
/// fallback (the server's TCP printer), the board is told, and once the paper is back the
/// agent's probe brings the printer up.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_printer_that_is_down_hands_its_jobs_to_the_fallback() {
    let app = TestApp::with_clock(running_clock()).await;
    let served = app.serve().await;
    let k = kitchen(&app).await;
    let shop = FakePrinter::start(FakeCondition {
        paper_out: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let counter = FakePrinter::start(FakeCondition::default()).await.unwrap();
    let (_, fallback) = app
        .post(
            &store_path(&app, "printers"),
            Some(&k.manager),
            json!({"name": "前台", "connection": "tcp", "address": counter.addr.to_string(),
                "paper_mm": 80}),
        )
        .await;
    let (agent_id, token) = new_agent(&app, &k.manager, "后厨电脑").await;
    let (status, fed) = app
        .post(
            &store_path(&app, "printers"),
            Some(&k.manager),
            json!({"name": "后厨", "connection": "agent", "agent_id": agent_id,
                "address": shop.addr.to_string(), "paper_mm": 58, "takes_receipts": true,
                "fallback_id": fallback["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{fed}");
    let _worker = spawn_printing(
        app.state.core.clone(),
        PrintSettings {
            lease_ms: 3_000,
            probe_every: Duration::from_millis(200),
            ..PrintSettings::default()
        },
    );
    let spool = tempfile::tempdir().unwrap();
    let running = tokio::spawn(agent::run(config(&served.base, &token, spool.path())));
    let test_path = store_path(
        &app,
        &format!("printers/{}/test", fed["id"].as_str().unwrap()),
    );
    let (_, test) = app.post(&test_path, Some(&k.manager), json!({})).await;
    let id = test["id"].as_i64().unwrap();
    eventually("the test page printed on the fallback", || async {
        let job = app.db().print_job(id).await.unwrap();
        job.state == PrintJobState::Printed
    })
    .await;
    let job = app.db().print_job(id).await.unwrap();
    assert_eq!(job.printer_id.to_string(), fallback["id"].as_str().unwrap());
    assert_eq!(copies(&counter).get(&id), Some(&(1, 0)));
    let alerts = app
        .db()
        .events_after(&diancan_storage::printing::printing_stream(app.a.store), 0)
        .await
        .unwrap();
    assert_eq!(alerts[0].kind, "printer.down");
    shop.set_condition(FakeCondition::default());
    eventually("the agent's printer is up again", || async {
        let printers = app.db().printers(app.a.brand, app.a.store).await.unwrap();
        printers
            .iter()
            .find(|p| p.name == "后厨")
            .unwrap()
            .down_since_ms
            .is_none()
    })
    .await;
    running.abort();
    served.stop().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_and_the_agent_stops() {
    let app = TestApp::with_clock(running_clock()).await;
    let served = app.serve().await;
    let k = kitchen(&app).await;
    let (agent_id, token) = new_agent(&app, &k.manager, "前台电脑").await;
    let (status, work) = app
        .post("/api/v1/agent/claim", Some(&token), json!({"wait_ms": 0}))
        .await;
    assert_eq!(status, StatusCode::OK, "{work}");
    assert_eq!(work["jobs"], json!([]));
    // Only managers revoke; a cook may not.
    let revoke = store_path(&app, &format!("print-agents/{agent_id}/revoke"));
    let (status, _) = app.post(&revoke, Some(&k.cook), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, revoked) = app.post(&revoke, Some(&k.manager), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert!(revoked["revoked_at_ms"].as_i64().is_some());
    for bad in [token.as_str(), "pa_forged"] {
        let (status, refused) = app
            .post("/api/v1/agent/claim", Some(bad), json!({"wait_ms": 0}))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(code(&refused), "AGENT_TOKEN_INVALID");
    }
    let spool = tempfile::tempdir().unwrap();
    let ended = tokio::time::timeout(
        Duration::from_secs(10),
        agent::run(config(&served.base, &token, spool.path())),
    )
    .await
    .expect("a revoked agent stops at once");
    assert!(matches!(ended, Err(AgentError::Revoked)));
    // A printer may not name a revoked agent.
    let (status, refused) = app
        .post(
            &store_path(&app, "printers"),
            Some(&k.manager),
            json!({"name": "前台", "connection": "agent", "agent_id": agent_id,
                "address": "192.168.1.50:9100", "paper_mm": 58}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(code(&refused), "UNKNOWN_AGENT");
    served.stop().await;
    app.cleanup().await;
}

#[tokio::test]
async fn an_agent_never_gets_or_settles_another_stores_jobs() {
    let app = TestApp::with_clock(running_clock()).await;
    let k = kitchen(&app).await;
    let (a_agent, a_token) = new_agent(&app, &k.manager, "前台电脑").await;
    // Brand B may not hang its printer on A's agent.
    let b_owner = app.login(&app.b.owner_login).await;
    let b_path = format!("/api/v1/console/stores/{}", app.b.store);
    let (status, refused) = app
        .post(
            &format!("{b_path}/printers"),
            Some(&b_owner),
            json!({"name": "前台", "connection": "agent", "agent_id": a_agent,
                "address": "192.168.1.50:9100", "paper_mm": 58}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(code(&refused), "UNKNOWN_AGENT");
    let (status, missing) = app
        .post(
            &format!("{b_path}/printers"),
            Some(&b_owner),
            json!({"name": "前台", "connection": "agent",
                "address": "192.168.1.50:9100", "paper_mm": 58}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{missing}");
    assert_eq!(code(&missing), "AGENT_REQUIRED");
    let (status, b_agent) = app
        .post(
            &format!("{b_path}/print-agents"),
            Some(&b_owner),
            json!({"name": "前台电脑"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b_agent}");
    let (status, b_printer) = app
        .post(
            &format!("{b_path}/printers"),
            Some(&b_owner),
            json!({"name": "前台", "connection": "agent", "agent_id": b_agent["agent"]["id"],
                "address": "192.168.1.50:9100", "paper_mm": 58}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b_printer}");
    let (status, test) = app
        .post(
            &format!(
                "{b_path}/printers/{}/test",
                b_printer["id"].as_str().unwrap()
            ),
            Some(&b_owner),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{test}");
    let job = test["id"].as_i64().unwrap();
    // A's agent sees none of it, and cannot confirm or settle it.
    let (status, work) = app
        .post("/api/v1/agent/claim", Some(&a_token), json!({"wait_ms": 0}))
        .await;
    assert_eq!(status, StatusCode::OK, "{work}");
    assert_eq!(work["jobs"], json!([]));
    let (status, refused) = app
        .post(
            &format!("/api/v1/agent/jobs/{job}/result"),
            Some(&a_token),
            json!({"attempt": 1, "result": "printed"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    let (status, refused) = app
        .post(
            &format!("/api/v1/agent/jobs/{job}/received"),
            Some(&a_token),
            json!({"attempt": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    let (status, refused) = app
        .post(
            &format!(
                "/api/v1/agent/printers/{}/status",
                b_printer["id"].as_str().unwrap()
            ),
            Some(&a_token),
            json!({"status": "down", "error": "PRINTER_NOT_READY"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    // B's own agent gets it, confirms and settles it; a second report changes nothing.
    let b_token = b_agent["token"].as_str().unwrap();
    let (_, work) = app
        .post("/api/v1/agent/claim", Some(b_token), json!({"wait_ms": 0}))
        .await;
    assert_eq!(work["jobs"][0]["id"], job, "{work}");
    assert_eq!(work["jobs"][0]["attempt"], 1);
    assert!(!work["jobs"][0]["bytes_base64"].as_str().unwrap().is_empty());
    let received = format!("/api/v1/agent/jobs/{job}/received");
    let (status, _) = app
        .post(&received, Some(b_token), json!({"attempt": 1}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, stale) = app
        .post(&received, Some(b_token), json!({"attempt": 2}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{stale}");
    assert_eq!(code(&stale), "PRINT_JOB_NOT_HELD");
    let result = format!("/api/v1/agent/jobs/{job}/result");
    let (_, first) = app
        .post(
            &result,
            Some(b_token),
            json!({"attempt": 1, "result": "printed"}),
        )
        .await;
    assert_eq!(first["recorded"], true);
    let (_, again) = app
        .post(
            &result,
            Some(b_token),
            json!({"attempt": 1, "result": "printed"}),
        )
        .await;
    assert_eq!(again["recorded"], false);
    assert_eq!(
        app.db().print_job(job).await.unwrap().state,
        PrintJobState::Printed
    );
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feie_printers_print_through_the_signed_api_and_fall_back_when_offline() {
    let mut app = TestApp::with_clock(running_clock()).await;
    app.state = app.state.clone().with_simulated_feie().await.unwrap();
    let simulator = app.state.feie_simulator.clone().unwrap();
    let k = kitchen(&app).await;
    let fake = FakePrinter::start(FakeCondition::default()).await.unwrap();
    let (_, counter) = app
        .post(
            &store_path(&app, "printers"),
            Some(&k.manager),
            json!({"name": "前台", "connection": "tcp", "address": fake.addr.to_string(),
                "paper_mm": 80, "takes_receipts": true}),
        )
        .await;
    let (status, cloud) = app
        .post(
            &store_path(&app, "printers"),
            Some(&k.manager),
            json!({"name": "飞鹅", "connection": "feie", "address": "916500004",
                "paper_mm": 58, "fallback_id": counter["id"], "stations": [k.drinks]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{cloud}");
    let _worker = spawn_printing(
        app.state.core.clone(),
        PrintSettings {
            lease_ms: 3_000,
            probe_every: Duration::from_millis(200),
            ..PrintSettings::default()
        },
    );
    let test_path = store_path(
        &app,
        &format!("printers/{}/test", cloud["id"].as_str().unwrap()),
    );
    let (status, test) = app.post(&test_path, Some(&k.manager), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{test}");
    let papers = simulator.wait_for_papers(1, Duration::from_secs(30)).await;
    assert_eq!(papers.len(), 1);
    assert_eq!(papers[0].sn, "916500004");
    assert!(
        papers[0].content.contains("打印测试"),
        "{}",
        papers[0].content
    );
    assert!(papers[0].content.contains("<BR>") && !papers[0].content.contains('\u{1b}'));
    assert_eq!(simulator.bad_signatures(), 0, "every call was signed right");
    let id = test["id"].as_i64().unwrap();
    eventually("the Feie job is printed", || async {
        app.db().print_job(id).await.unwrap().state == PrintJobState::Printed
    })
    .await;

    // Offline: the Feie box is down, the drinks ticket goes to the counter's TCP printer.
    simulator.set_offline(true);
    accepted_order(&app, &k, "feie-offline").await;
    eventually("every paper printed on the fallback", || async {
        let jobs = all_jobs(&app).await;
        jobs.len() == 4 && jobs.iter().all(|j| j.state == PrintJobState::Printed)
    })
    .await;
    let cloud_id: diancan_domain::PrinterId = serde_json::from_value(cloud["id"].clone()).unwrap();
    let counter_id: diancan_domain::PrinterId =
        serde_json::from_value(counter["id"].clone()).unwrap();
    let drinks = all_jobs(&app)
        .await
        .into_iter()
        .find(|j| j.routed_printer_id == cloud_id && j.id != id)
        .expect("the drinks ticket was routed to Feie");
    assert_eq!(drinks.printer_id, counter_id, "it printed on the fallback");
    assert_eq!(simulator.papers().len(), 1, "nothing more went to Feie");
    let printers = app.db().printers(app.a.brand, app.a.store).await.unwrap();
    let down = printers.iter().find(|p| p.id == cloud_id).unwrap();
    assert!(down.down_since_ms.is_some(), "the Feie printer is down");
    // Online again: the worker's probe brings it back.
    simulator.set_offline(false);
    eventually("the Feie printer is up again", || async {
        let printers = app.db().printers(app.a.brand, app.a.store).await.unwrap();
        printers
            .iter()
            .find(|p| p.id == cloud_id)
            .unwrap()
            .down_since_ms
            .is_none()
    })
    .await;
    app.cleanup().await;
}
