//! The menu: a brand-wide catalog (categories, dishes, specs, options, combos) and
//! per-store settings (price, shelf, stock, sold out) layered on top.

mod dish;
mod public_menu;
mod stock;

pub use dish::*;
pub use public_menu::*;
pub use stock::*;
