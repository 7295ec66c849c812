//! Diancan's domain core: the restaurant's own rules as plain Rust.
//! No I/O, no web or database types: storage and the web edge depend on this crate, never the reverse.
#![forbid(unsafe_code)]

pub mod balance;
pub mod catalog;
pub mod customer;
pub mod dispatch;
pub mod ids;
pub mod kitchen;
pub mod login_throttle;
pub mod membership;
pub mod money;
pub mod notifications;
pub mod ordering;
pub mod password;
pub mod payments;
pub mod printing;
pub mod promotions;
pub mod reconciliation;
pub mod redacted;
pub mod refunds;
pub mod schedule;
pub mod staff;
pub mod store;
pub mod text;
pub mod validation;

pub use ids::*;
pub use money::Money;
