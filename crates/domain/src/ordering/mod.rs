//! Ordering: what a diner asks for (selections), what it costs (the one pricing function),
//! where it goes (dine-in, pickup, delivery zones), and the order's life (state machine).

mod delivery;
mod lifecycle;
mod pricing;

pub use delivery::*;
pub use lifecycle::*;
pub use pricing::*;
