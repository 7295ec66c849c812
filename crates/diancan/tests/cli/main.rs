//! The binary as an operator runs it: each test starts the built `diancan` as a child process
//! on its own temporary database (SQLite, or a fresh PostgreSQL database where that is the
//! point) and checks what the README promises of it.

mod commands;
mod durability;
mod health;
mod modes;
mod owner;
mod pii;
mod process;
mod sqlite;
