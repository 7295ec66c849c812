//! Kitchen tickets and the kitchen display (the next step of the roadmap): a ticket per order
//! and station, written by the same change that accepts the order, announced on the store's
//! channel (`store:<id>`) that the orders board already wakes on.
