//! Response shapes of the API, apart from the handlers that return them: each is built from
//! data already in hand (a domain value), never by reading more.

pub mod balance;
pub mod kitchen;
pub mod membership;
pub mod orders;
pub mod printing;
pub mod reconciliation;
