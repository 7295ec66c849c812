//! The kitchen: tickets per order and station, what cooks and expo do to them, prep-time
//! status, and the all-day counts. Pure rules; storage writes tickets with the order change
//! that sends the order to the kitchen.

mod all_day;
mod expo;
mod prep;
mod routing;
mod ticket;

pub use all_day::*;
pub use expo::*;
pub use prep::*;
pub use routing::*;
pub use ticket::*;

#[cfg(test)]
mod tests;
