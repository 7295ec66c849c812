//! Diancan's storage: one repository API over SQLite (embedded, the default) and PostgreSQL (chains).
//! Handlers never see sqlx types; repositories take and return domain types.
#![forbid(unsafe_code)]

#[macro_use]
mod tx;
#[macro_use]
mod sql_batch;
pub mod balance;
pub mod carts;
mod catalog;
mod customers;
mod db;
pub mod dispatch;
mod error;
pub mod events;
mod favourites;
pub mod kitchen;
pub mod membership;
pub mod notifications;
pub mod ordering;
pub mod outbox;
pub mod payments;
pub mod printing;
pub mod promotions;
pub mod reconciliation;
pub mod refunds;
pub mod retention;
mod rows;
pub mod sealed_columns;
mod staff;
mod tenancy;
pub mod testing;
mod throttle;

pub use catalog::{ImageData, MenuImport, MenuImportReport, StoreMenuSettings};
pub use customers::{CustomerRecord, NewOtpChallenge, OtpAttempt};
pub use db::{Backend, Db, DbConfig, SqliteDurability};
pub use error::StorageError;
pub use staff::{FirstOwner, NewStaff, SessionStaff, StaffAccount, StaffChange, StaffMember};
pub use tenancy::{
    Area, Brand, DamagedStore, DiningTable, NewStore, Store, StoreEntry, StoreProfile,
    StoredProfile,
};
pub use throttle::{LoginClaim, ThrottleHit};

/// Milliseconds since the Unix epoch, as every timestamp column stores them.
pub fn epoch_ms(at: jiff::Timestamp) -> i64 {
    at.as_millisecond()
}
