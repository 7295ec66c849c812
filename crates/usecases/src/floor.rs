//! The floor plan (桌台): every table with what it is doing now, and the two moves staff make
//! with a sitting: 换台 (the diners move to an empty table, their orders and bill with them)
//! and 并台 (two tables' diners share one bill). Each move writes the orders' new table or
//! bill, their events and the boards' entries in one transaction.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::ordering::StaffCaller;
use diancan_domain::ordering::{Order, TableState, table_state};
use diancan_domain::staff::Permission;
use diancan_domain::*;
use diancan_storage::DiningTable;
use diancan_storage::ordering::{TableMoveError, TableSession};
use std::collections::HashMap;

/// One table on the floor plan.
#[derive(Debug, Clone)]
pub struct FloorTable {
    pub table: DiningTable,
    pub state: TableState,
    pub session: Option<TableSession>,
    /// The sitting's orders, oldest first (every round, and any joined table's).
    pub orders: Vec<Order>,
}

fn allowed(staff: &StaffCaller, store: StoreId, permission: Permission) -> Result<()> {
    if !staff.access.allows(store) {
        return Err(Error::NotFound);
    }
    if !staff.role.can(permission) {
        return Err(Error::Forbidden(permission));
    }
    Ok(())
}

/// Every table of the store with its state, read in three queries however many tables.
pub async fn floor(ctx: &Context, staff: &StaffCaller, store: StoreId) -> Result<Vec<FloorTable>> {
    allowed(staff, store, Permission::ViewConsole)?;
    let tables = ctx.db.tables(staff.brand_id, store).await?;
    let sessions: HashMap<TableId, TableSession> = ctx
        .db
        .open_table_sessions(staff.brand_id, store)
        .await?
        .into_iter()
        .map(|s| (s.table_id, s))
        .collect();
    let mut orders: HashMap<TableSessionId, Vec<Order>> = HashMap::new();
    for order in ctx.db.open_sessions_orders(staff.brand_id, store).await? {
        if let Some(table) = &order.table {
            orders.entry(table.session_id).or_default().push(order);
        }
    }
    Ok(tables
        .into_iter()
        .map(|table| {
            let session = sessions.get(&table.id).cloned();
            let mine = session
                .as_ref()
                .and_then(|s| orders.get(&s.id).cloned())
                .unwrap_or_default();
            let refs: Vec<&Order> = mine.iter().collect();
            FloorTable {
                state: table_state(session.is_some(), &refs),
                table,
                session,
                orders: mine,
            }
        })
        .collect())
}

fn moved(error: TableMoveError) -> Error {
    match error {
        TableMoveError::NotFound => Error::NotFound,
        TableMoveError::TargetTaken => Error::TableTaken,
        TableMoveError::TargetIdle => Error::TableNotOpen,
        TableMoveError::Storage(error) => error.into(),
    }
}

/// 换台: the diners at `from` move to the empty table `to`.
pub async fn transfer(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    from: TableId,
    to: TableId,
) -> Result<TableSession> {
    allowed(staff, store, Permission::ServeTables)?;
    ctx.db
        .move_table_session(staff.brand_id, store, from, to, ctx.clock.now_ms())
        .await
        .map_err(moved)
}

/// 并台: the diners at `from` join those at `into`, on one bill; `from` is free again.
pub async fn merge(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    from: TableId,
    into: TableId,
) -> Result<TableSession> {
    allowed(staff, store, Permission::ServeTables)?;
    ctx.db
        .merge_table_sessions(staff.brand_id, store, from, into, ctx.clock.now_ms())
        .await
        .map_err(moved)
}
