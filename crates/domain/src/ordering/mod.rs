//! Ordering: what a diner asks for (selections), what it costs (the one pricing function),
//! where it goes (dine-in, pickup, delivery zones), the order's life (state machine), and the
//! order itself with every decision about changing it.

mod delivery;
mod floor;
mod lifecycle;
mod order;
mod pricing;

pub use delivery::*;
pub use floor::*;
pub use lifecycle::*;
pub use order::*;
pub use pricing::*;

#[cfg(test)]
pub(crate) use order::tests::order as order_for_tests;
