//! What the engine prices: the cart's lines at their menu prices and the facts of the order
//! (channel, store, local time, who the diner is). The caller reads the clock; the engine never does.

use super::rules::MemberLevel;
use crate::ids::{CategoryId, DishId, StoreId};
use crate::money::{MAX_ITEM_PRICE, Money};
use crate::ordering::{Channel, MAX_DINERS, MAX_LINES, MAX_QUANTITY};
use crate::schedule::TimeOfDay;
use crate::validation::{FieldErrors, Problem, check_range};
use jiff::Timestamp;
use jiff::civil::DateTime;
use serde::{Deserialize, Serialize};

/// One priced line of the cart, as the one pricing function quoted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub dish_id: DishId,
    pub category_id: CategoryId,
    /// For one, options included.
    pub unit_price: Money,
    pub quantity: i64,
    /// Units of the dish in stock before this order, where the dish counts stock (near-expiry
    /// prices look at it).
    pub stock_left: Option<i64>,
}

impl CartLine {
    pub fn subtotal(&self) -> Money {
        // Bounded by `Cart::new`: 99 × ¥100,000 fits many times over.
        Money::from_fen(self.unit_price.fen() * self.quantity)
    }
}

/// A cart the engine can price: 1 to `MAX_LINES` lines, each within the menu's bounds, so no
/// sum the engine takes can overflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart(Vec<CartLine>);

impl Cart {
    pub fn new(lines: Vec<CartLine>) -> Result<Cart, FieldErrors> {
        let mut errors = FieldErrors::new();
        if lines.is_empty() {
            errors.add("lines", Problem::Empty);
        }
        if lines.len() > MAX_LINES {
            errors.add(
                "lines",
                Problem::TooLarge {
                    max: MAX_LINES as i64,
                },
            );
        }
        for (i, line) in lines.iter().enumerate() {
            check_range(
                &mut errors,
                &format!("lines[{i}].quantity"),
                line.quantity,
                1,
                MAX_QUANTITY,
            );
            check_range(
                &mut errors,
                &format!("lines[{i}].unit_price"),
                line.unit_price.fen(),
                0,
                MAX_ITEM_PRICE.fen(),
            );
            if line.stock_left.is_some_and(|left| left < 0) {
                errors.add(format!("lines[{i}].stock_left"), Problem::MustNotBeNegative);
            }
        }
        errors.finish(|| Cart(lines))
    }

    pub fn lines(&self) -> &[CartLine] {
        &self.0
    }

    pub fn subtotal(&self) -> Money {
        self.0.iter().map(CartLine::subtotal).sum()
    }
}

/// The facts of the order that decide which promotions and coupons are in force.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderFacts {
    pub channel: Channel,
    pub store_id: StoreId,
    /// The store's local wall-clock time (the caller converts from its time zone).
    pub local_time: DateTime,
    /// The instant coupon validity is judged at.
    pub now: Timestamp,
    pub member_level: Option<MemberLevel>,
    pub first_order: bool,
    pub diners: i64,
    /// The delivery fee before any discount; zero off the delivery channel.
    pub delivery_fee: Money,
}

impl OrderFacts {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        check_range(&mut errors, "diners", self.diners, 1, MAX_DINERS);
        check_range(
            &mut errors,
            "delivery_fee",
            self.delivery_fee.fen(),
            0,
            MAX_ITEM_PRICE.fen(),
        );
        errors.finish(|| ())
    }

    pub(crate) fn time_of_day(&self) -> TimeOfDay {
        let time = self.local_time.time();
        TimeOfDay::from_minutes(time.hour() as u16 * 60 + time.minute() as u16)
            .unwrap_or(TimeOfDay::MIDNIGHT)
    }
}
