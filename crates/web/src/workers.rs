//! Background work of the server. Each worker's state is in the database, so any instance may
//! run it and a restart loses nothing: a missed tick simply catches up on the next one.

use crate::state::AppState;
use diancan_domain::ordering::OrderAction;
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

pub fn spawn(state: AppState) -> Workers {
    Workers(vec![tokio::spawn(cancel_unpaid_orders(state))])
}

/// Pay-first orders not paid in time are cancelled, which returns their stock.
async fn cancel_unpaid_orders(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    loop {
        tick.tick().await;
        if let Err(error) = cancel_unpaid_once(&state).await {
            tracing::warn!(%error, "cancelling unpaid orders failed; will retry");
        }
    }
}

pub async fn cancel_unpaid_once(state: &AppState) -> Result<usize, diancan_storage::StorageError> {
    let now = state.clock.now_ms();
    let due = state.db.unpaid_orders_due(now).await?;
    let mut cancelled = 0;
    for id in due {
        // Another instance may have got there first, or the diner paid meanwhile: both are fine.
        if state
            .db
            .transition_order(id, None, OrderAction::Cancel, "system:unpaid-timeout", now)
            .await
            .is_ok()
        {
            state
                .live
                .notify(&diancan_storage::ordering::order_stream(id));
            cancelled += 1;
        }
    }
    if cancelled > 0 {
        state.menus.invalidate_all();
    }
    Ok(cancelled)
}
