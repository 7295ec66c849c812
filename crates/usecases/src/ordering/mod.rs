//! Ordering use cases: price a cart, place an order, and every change after placement
//! (staff actions, the diner's cancel and 催单, the unpaid-order timeout).

mod access;
mod change;
mod place;
mod quote;

pub use access::{DinerPass, OrderSecret, diner_order, revoke_secret, rotate_secret};
pub use change::{StaffCaller, act, cancel_unpaid_due, diner_cancel, hurry};
pub use place::{PlaceOrder, PlacedOrder, place};
pub(crate) use quote::price_with;
pub use quote::{Cart, quote};
