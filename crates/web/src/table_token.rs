//! Table QR tokens live in the use-case layer; re-exported for the binary's demo seeding.

pub use diancan_usecases::tables::{KEY_NAME, issue, load_or_create_key, verify};
