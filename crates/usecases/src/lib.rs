//! Diancan's use cases: every change to an order goes through one function here, whichever door
//! it came in by (the JSON API, a worker, a gateway webhook, the CLI). A use case takes typed
//! input, asks the domain for the decision, and writes the change with its event and outbox
//! rows as one unit of work; the caller maps the result to its own world (HTTP, a log line).
#![forbid(unsafe_code)]

pub mod board;
pub mod clock;
pub mod contact;
pub mod context;
pub mod dispatch;
pub mod error;
pub mod floor;
pub mod hub;
pub mod kitchen;
pub mod marketing;
pub mod membership;
pub mod menus;
pub mod notify;
pub mod ordering;
pub mod outbox;
pub mod payments;
pub mod printing;
pub mod storefront;
pub mod tables;
pub mod workers;

pub use clock::Clock;
pub use context::{Context, ServerKeys};
pub use error::{Error, Result};
