//! Diancan's storage: one repository API over SQLite (embedded, the default) and PostgreSQL (chains).
//! Handlers never see sqlx types; repositories take and return domain types.
#![forbid(unsafe_code)]

#[macro_use]
mod db;
pub mod carts;
mod catalog;
mod customers;
mod error;
mod favourites;
mod group_commit;
pub mod ordering;
mod rows;
mod staff;
mod tenancy;
pub mod testing;

pub use catalog::{ImageData, MenuImport, MenuImportReport, StoreMenuSettings};
pub use customers::{CustomerRecord, NewOtpChallenge, OtpAttempt, ThrottleHit};
pub use db::{Backend, Db, DbConfig};
pub use error::StorageError;
pub use staff::{NewStaff, SessionStaff, StaffAccount};
pub use tenancy::{
    Area, Brand, DamagedStore, DiningTable, NewStore, Store, StoreEntry, StoreProfile,
    StoredProfile,
};

/// Milliseconds since the Unix epoch, as every timestamp column stores them.
pub fn epoch_ms(at: jiff::Timestamp) -> i64 {
    at.as_millisecond()
}
