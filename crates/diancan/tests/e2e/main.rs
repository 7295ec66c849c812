//! Browser tests: the real server on a free port with the demo restaurant, driven through
//! headless Chromium by ChromeDriver, at a laptop's size and at a phone's.
//!
//! They need /usr/bin/chromium and /usr/bin/chromedriver (Debian's `chromium` and
//! `chromium-driver`). Without them a test skips with a loud message, except under CI=true,
//! where it fails. A failing test leaves a screenshot and the page's HTML in
//! `target/e2e-screenshots/`.

mod board;
mod console;
mod customer;
mod harness;
mod kitchen;
mod membership;
mod ordering;
mod page;
mod payment;
mod promotions;
mod rider;
