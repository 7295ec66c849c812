//! Payments (the next step of the roadmap): gateway prepay, notifications settled exactly once
//! through `ordering::act` with `OrderAction::Pay` inside the same unit of work as the payment
//! row, refunds and reconciliation. Today 收款 at the counter is `ordering::act` with `Pay`,
//! which stamps `paid_at_ms` on the order.
