//! What a table is doing, as the floor plan shows it: 空闲, 点餐中, 用餐中, 待结账, 待清台. Read
//! from the table's open sitting and its orders, never stored, so it cannot drift from them.

use super::{Order, OrderStatus};
use serde::Serialize;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableState {
    /// Nobody is seated.
    Idle,
    /// Seated, nothing sent to the kitchen yet (or the first order is being paid for).
    Ordering,
    /// Dishes are on their way.
    Eating,
    /// Everything is served and something is still unpaid.
    AwaitingBill,
    /// Served and paid: the table waits to be cleared (清台).
    ToClear,
}

/// The state of a table with (`open`) or without a sitting, from the sitting's orders.
pub fn table_state(open: bool, orders: &[&Order]) -> TableState {
    if !open {
        return TableState::Idle;
    }
    let live: Vec<&&Order> = orders
        .iter()
        .filter(|o| o.status != OrderStatus::Cancelled)
        .collect();
    if live.is_empty()
        || live
            .iter()
            .any(|o| o.status == OrderStatus::AwaitingPayment)
    {
        return TableState::Ordering;
    }
    let cooking = [
        OrderStatus::Placed,
        OrderStatus::Accepted,
        OrderStatus::Preparing,
        OrderStatus::Ready,
    ];
    if live.iter().any(|o| cooking.contains(&o.status)) {
        return TableState::Eating;
    }
    if live.iter().any(|o| !o.is_paid()) {
        TableState::AwaitingBill
    } else {
        TableState::ToClear
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ordering::Channel;
    use crate::ordering::order::tests::order as made;

    fn at(status: OrderStatus, paid: bool) -> Order {
        let mut o = made(Channel::DineIn, status);
        o.paid_at_ms = paid.then_some(1);
        o
    }

    #[test]
    fn a_table_moves_from_idle_to_cleared_with_its_orders() {
        assert_eq!(table_state(false, &[]), TableState::Idle);
        assert_eq!(table_state(true, &[]), TableState::Ordering);
        let paying = at(OrderStatus::AwaitingPayment, false);
        assert_eq!(table_state(true, &[&paying]), TableState::Ordering);
        let cooking = at(OrderStatus::Preparing, false);
        let served = at(OrderStatus::Served, false);
        assert_eq!(table_state(true, &[&served, &cooking]), TableState::Eating);
        assert_eq!(table_state(true, &[&served]), TableState::AwaitingBill);
        let paid = at(OrderStatus::Completed, true);
        let cancelled = at(OrderStatus::Cancelled, false);
        assert_eq!(table_state(true, &[&paid, &cancelled]), TableState::ToClear);
        assert_eq!(
            table_state(true, &[&cancelled]),
            TableState::Ordering,
            "a cancelled round alone leaves the table ordering again"
        );
    }
}
