//! Background work of the server. Each worker's state is in the database, so any instance may
//! run it and a restart loses nothing: a missed tick simply catches up on the next one.

use crate::context::Context;
use diancan_storage::retention::Retention;
use std::time::Duration;

/// Aborts the workers when dropped (when `serve` returns).
pub struct Workers(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Workers {
    fn drop(&mut self) {
        for handle in &self.0 {
            handle.abort();
        }
    }
}

/// Starts the outbox deliverer, the campaign sender, the print worker, the unpaid-order
/// timeout, the sweep that closes abandoned gateway orders, the daily reconciliation, the
/// points expiry, and the retention sweep.
pub fn spawn(ctx: Context, retention: Retention) -> Workers {
    Workers(vec![
        tokio::spawn(deliver_outbox(ctx.clone())),
        tokio::spawn(crate::notify::run_campaigns(ctx.clone())),
        tokio::spawn(crate::printing::run_worker(
            ctx.clone(),
            crate::printing::PrintSettings::default(),
        )),
        tokio::spawn(every(
            ctx.clone(),
            Duration::from_secs(10),
            "cancelling unpaid orders",
            |ctx| Box::pin(async move { crate::ordering::cancel_unpaid_due(&ctx).await.map(drop) }),
        )),
        tokio::spawn(every(
            ctx.clone(),
            Duration::from_secs(30),
            "closing abandoned gateway orders",
            |ctx| Box::pin(async move { crate::payments::finish_abandoned(&ctx).await.map(drop) }),
        )),
        tokio::spawn(every(
            ctx.clone(),
            Duration::from_secs(30),
            "closing abandoned recharges",
            |ctx| {
                Box::pin(async move {
                    crate::membership::finish_abandoned_recharges(&ctx)
                        .await
                        .map(drop)
                })
            },
        )),
        // Every instance looks; the run row lets one of them reconcile each gateway's day.
        tokio::spawn(every(
            ctx.clone(),
            Duration::from_secs(600),
            "reconciling yesterday's statements",
            |ctx| {
                Box::pin(
                    async move { crate::payments::reconciliation::reconcile_yesterday(&ctx).await },
                )
            },
        )),
        tokio::spawn(every(
            ctx.clone(),
            Duration::from_secs(600),
            "expiring members' points",
            |ctx| {
                Box::pin(async move { crate::membership::expire_due_points(&ctx).await.map(drop) })
            },
        )),
        tokio::spawn(every(
            ctx,
            Duration::from_secs(600),
            "retention sweep",
            move |ctx| {
                Box::pin(async move {
                    let purged = ctx.db.purge_expired(ctx.clock.now_ms(), &retention).await?;
                    tracing::debug!(?purged, "retention sweep");
                    Ok(())
                })
            },
        )),
    ])
}

/// Demo mode's courier: every two seconds, the simulator's due reports go into the same use
/// case the courier webhook calls.
pub fn spawn_courier_simulator(
    ctx: Context,
    simulator: std::sync::Arc<diancan_integrations::couriers::simulator::CourierSimulator>,
) -> Workers {
    Workers(vec![tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        loop {
            tick.tick().await;
            crate::dispatch::drive_simulator(&ctx, &simulator, ctx.clock.now_ms()).await;
        }
    })])
}

/// Only the outbox deliverer: for tests and tools that drive the rest themselves.
pub fn spawn_outbox(ctx: Context) -> Workers {
    Workers(vec![tokio::spawn(deliver_outbox(ctx))])
}

/// Only the print worker: for tests that stop and start it around the rest of the app.
pub fn spawn_printing(ctx: Context, settings: crate::printing::PrintSettings) -> Workers {
    Workers(vec![tokio::spawn(crate::printing::run_worker(
        ctx, settings,
    ))])
}

type Round =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), crate::Error>> + Send + 'static>>;

async fn every(
    ctx: Context,
    period: Duration,
    what: &'static str,
    round: impl Fn(Context) -> Round,
) {
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        if let Err(error) = round(ctx.clone()).await {
            tracing::warn!(%error, "{what} failed; will retry");
        }
    }
}

/// Delivers as soon as a write commits rows (the lanes ring the outbox bell), and at least
/// once a second for rows another instance left behind or that are due for a retry.
async fn deliver_outbox(ctx: Context) {
    let bell = ctx.db.outbox_bell();
    loop {
        let rung = bell.notified();
        tokio::pin!(rung);
        rung.as_mut().enable();
        match crate::outbox::deliver_due(&ctx).await {
            // A full round may have left more: go again at once.
            Ok(round) if round.delivered + round.failed > 0 => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "outbox delivery round failed; will retry"),
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), rung).await;
    }
}
