//! Orders, table sessions and their writes. Placing an order is one transaction that claims the
//! idempotency key, takes the stock, numbers the order and records its first event; changing
//! one writes the change, its history, its event and its outbox rows together. Both go through
//! the write lanes, so writes that arrive together share a transaction.

pub(crate) mod access;
pub mod board;
mod changes;
mod kitchen_hook;
pub(crate) mod lanes;
mod orders;
mod placement;
mod sessions;
mod writes;

pub use changes::{ChangeError, ChangeRequest, Decide};
pub(crate) use changes::{change_in, lock_order};
pub use orders::OrderTransition;
pub(crate) use orders::{ORDER_COLUMNS, OrderRow};
pub use placement::{
    NewOrder, NewOrderTable, NewRedemption, PlaceError, Placed, Redeemed, SessionClaim,
};
pub use sessions::{TableMoveError, TableSession};
