//! 储值 in use: a signed-in diner pays an order from their balance at its brand, or holds part
//! of it while the rest goes through a gateway (combined payment, see `checkout`); staff
//! recharge and correct balances and refund paid orders to the channels they were paid by.
//! Recharging through the gateways with a bonus (充100送20) is issue 11: it will post a
//! `Recharge` and a `Bonus` entry through [`post_staff_entry`]'s storage call, keyed by its
//! gateway payment, once that payment settles.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::ordering::{DinerPass, StaffCaller, diner_order};
use diancan_domain::balance::{BalanceAccount, BalanceEntry, EntryKind, reference};
use diancan_domain::ordering::{Actor, Order, OrderAction, OrderCommand};
use diancan_domain::staff::Permission;
use diancan_domain::*;
use diancan_storage::balance::{BalancePayment, NewEntry, OrderRefund, Posted, StaffPosting};
use std::sync::Arc;
use uuid::Uuid;

/// Written in an order's history when the balance pays it.
const BALANCE_ACTOR: &str = "balance";

/// Most entries one page of a ledger shows.
pub const MAX_PAGE: i64 = 100;

/// The diner behind `pass`, who must be signed in to spend a balance.
pub(crate) fn balance_owner(pass: &DinerPass) -> Result<CustomerId> {
    pass.customer.ok_or(Error::SignInRequired)
}

/// Pays order `id` in full from the signed-in diner's balance at the order's brand.
pub async fn pay_by_balance(
    ctx: &Context,
    id: OrderId,
    pass: &DinerPass,
) -> Result<(Order, BalanceAccount)> {
    let customer = balance_owner(pass)?;
    let order = diner_order(ctx, id, pass).await?;
    let now = ctx.clock.now_ms();
    if !order.awaits_online_payment(now) {
        return Err(Error::NotPayable(Box::new(order)));
    }
    let actor = Actor::System(BALANCE_ACTOR);
    let pay =
        Arc::new(move |o: &Order| o.decide(OrderCommand::Act(OrderAction::Pay), &actor, None, now));
    match ctx
        .db
        .pay_order_by_balance(customer, id, (order.brand_id, order.store_id), pay, now)
        .await?
    {
        BalancePayment::Paid { order, account } => {
            tracing::info!(order = %order.id, amount_fen = order.total.fen(), "paid by balance");
            Ok((*order, account))
        }
        BalancePayment::Insufficient { available } => Err(Error::InsufficientBalance { available }),
        BalancePayment::Refused { order, .. } => Err(Error::NotPayable(order)),
        BalancePayment::NotFound => Err(Error::NotFound),
    }
}

/// The member's account at `brand` (empty if they never had one) and a page of its ledger.
pub async fn member_balance(
    ctx: &Context,
    brand: BrandId,
    customer: CustomerId,
    before: Option<Uuid>,
    limit: i64,
) -> Result<(BalanceAccount, Vec<BalanceEntry>)> {
    let Some(account) = ctx.db.balance_account(brand, customer).await? else {
        return Ok((
            BalanceAccount::open(brand, customer, ctx.clock.now_ms()),
            Vec::new(),
        ));
    };
    let entries = ctx
        .db
        .balance_entries(account.id, before, limit.clamp(1, MAX_PAGE))
        .await?;
    Ok((account, entries))
}

/// A member of the staff's brand, for the console.
pub async fn console_member_balance(
    ctx: &Context,
    staff: &StaffCaller,
    customer: CustomerId,
    before: Option<Uuid>,
    limit: i64,
) -> Result<(BalanceAccount, Vec<BalanceEntry>)> {
    require(staff, Permission::ManageBalances)?;
    ctx.db.customer(staff.brand_id, customer).await?;
    member_balance(ctx, staff.brand_id, customer, before, limit).await
}

/// What staff may write on a balance by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffEntry {
    /// Money taken at the counter (cash or another offline method) and put on the balance.
    Recharge,
    /// A correction up or down.
    Adjustment,
}

/// Staff recharge or correct a member's balance. `key` names the request: sent again (a
/// double click, a retry), it writes nothing more.
pub async fn post_staff_entry(
    ctx: &Context,
    staff: &StaffCaller,
    customer: CustomerId,
    entry: StaffEntry,
    amount: Money,
    reason: &str,
    key: Uuid,
) -> Result<StaffPosting> {
    require(staff, Permission::ManageBalances)?;
    ctx.db.customer(staff.brand_id, customer).await?;
    let actor = Actor::Staff {
        id: staff.id,
        role: staff.role,
    }
    .label();
    let kind = match entry {
        StaffEntry::Recharge => EntryKind::Recharge,
        StaffEntry::Adjustment => EntryKind::Adjustment,
    };
    let posting = ctx
        .db
        .post_staff_entry(
            staff.brand_id,
            customer,
            NewEntry {
                kind,
                amount,
                reason,
                reference: reference::staff(key),
                order_id: None,
                actor: &actor,
            },
            ctx.clock.now_ms(),
        )
        .await?;
    if let Posted::Refused(refusal) = posting.posted {
        return Err(Error::Balance(refusal));
    }
    Ok(posting)
}

/// Staff refund `amount` of a paid order (everything left when `None`), split between the
/// balance and the gateway in the proportions it was paid. `key` names the request.
pub async fn refund_order(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    order: OrderId,
    amount: Option<Money>,
    key: RefundId,
) -> Result<OrderRefund> {
    if !staff.access.allows(store) {
        return Err(Error::NotFound);
    }
    require(staff, Permission::CancelAcceptedOrders)?;
    let found = ctx.db.order(order).await?;
    if found.brand_id != staff.brand_id || found.store_id != store {
        return Err(Error::NotFound);
    }
    let by = Actor::Staff {
        id: staff.id,
        role: staff.role,
    }
    .label();
    let outcome = ctx
        .db
        .refund_order(order, key, amount, &by, ctx.clock.now_ms())
        .await?;
    match &outcome {
        OrderRefund::Refused(refusal) => return Err(Error::RefundRefused(*refusal)),
        OrderRefund::Refunded { balance, gateway } => tracing::info!(%order,
            balance_fen = balance.fen(), gateway_fen = gateway.as_ref().map_or(0, |r| r.amount.fen()),
            "order refunded"),
        OrderRefund::Repeat => {}
    }
    Ok(outcome)
}

fn require(staff: &StaffCaller, permission: Permission) -> Result<()> {
    if staff.role.can(permission) {
        Ok(())
    } else {
        Err(Error::Forbidden(permission))
    }
}
