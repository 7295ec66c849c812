//! Diancan's edges to the outside world that need no network: dish photos, demo pictures
//! and menu spreadsheets. Everything here turns outside bytes into domain drafts or back.
#![forbid(unsafe_code)]

pub mod demo_images;
pub mod images;
pub mod menu_files;
pub mod pii;
pub mod sms;
pub mod testing;
pub mod wechat;
