//! The `diancan` binary's pieces as a library, so tests can start the real server
//! and seed the same demo restaurant that `cargo run` shows.
#![forbid(unsafe_code)]

pub mod cli;
pub mod demo;
pub mod mode;
pub mod owner;
pub mod payment_setup;
pub mod print_setup;
pub mod providers;
pub mod server;
