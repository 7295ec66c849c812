//! The two writes of ordering, both through the write lanes so that writes arriving together
//! share one transaction: placing an order and changing one.

use super::changes::{ChangeError, ChangeRequest};
use super::placement::{NewOrder, PlaceError, Placed};
use crate::db::Db;
use diancan_domain::ordering::Order;

impl Db {
    /// Places an order atomically. With a key seen before: the same request gets the same order
    /// back; a different request under that key is refused.
    pub async fn place_order(&self, order: NewOrder) -> Result<Placed, PlaceError> {
        self.write_lanes().place(order).await
    }

    /// Changes an order as its request decides (see [`ChangeRequest`]).
    pub async fn change_order(&self, request: ChangeRequest) -> Result<Order, ChangeError> {
        self.write_lanes().change(request).await
    }
}
