//! Kitchen tickets in the database: read a station's board and today's bumped tickets, count
//! the all-day totals, and write every ticket change with its event on the store's kitchen
//! stream (`kitchen:<store>`) and its outbox rows in one transaction.

mod tickets;
mod writes;

pub use tickets::StationPrep;
pub use writes::{TicketError, ticket_json};
pub(crate) use writes::{relabel_orders_in, send_orders_in, void_order_in};
