//! API tests through the real router: in-process for most, on a real socket where a test
//! needs connections to drop. SQLite by default; `DIANCAN_TEST_DATABASE=postgres` runs the
//! same tests on PostgreSQL.

mod app;
mod balance;
mod board;
mod cancellation;
mod catalog;
mod checkout;
mod contract;
mod customers;
mod dispatch;
mod errors;
mod floor;
mod gateway_health;
mod guest_access;
mod idempotency;
mod isolation;
mod kitchen;
mod live;
mod membership;
mod menu;
mod notifications;
mod openapi;
mod ordering;
mod payments;
mod print_agents;
mod printing;
mod promotions;
mod reconciliation;
mod security;
mod sessions;
mod staff_accounts;
mod staff_actions;
mod stores;
mod tables;
