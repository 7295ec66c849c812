//! Promotions, coupons and the best price for the diner: pure rules, no clock, no I/O.
//! The caller passes the cart (as the one pricing function quoted it) and the order's facts.
//!
//! # Evaluation order
//!
//! A combination of offers is applied in one fixed order, and every threshold is tested on
//! the amount left by the classes before it:
//!
//! 1. **Item class**, in four steps, each on what the step before left:
//!    1. *prices*: time-slot prices (下午茶), member prices and near-expiry prices; where several
//!       price one line, the lowest wins that line;
//!    2. *Nth-item* discounts (第二份半价), on the prices after step 1;
//!    3. *item discounts* (a share or a fixed amount off per unit of scoped dishes);
//!    4. *item vouchers* (one unit of a dish free or at a fixed price).
//! 2. **Order class**: 满减 tiers, order discounts (新客, 多人, 整单折扣), gifts and order
//!    coupons. Each one's threshold and rate is taken on its scoped lines' amounts *after the
//!    item class*, so 满50 is not met when 第二份半价 took the cart below ¥50. Order
//!    discounts within the class do not raise or lower each other's thresholds; each is then
//!    spread over what its lines still cost.
//! 3. **Delivery-fee class**: thresholds on the goods after item and order discounts.
//!
//! Every share is rounded down to the fen, so no rate gives away a fractional fen; no line
//! goes below zero, so the discount never exceeds the subtotal and the total is never negative.
//!
//! # Allocation
//!
//! Item discounts belong to the lines they were computed on. An order discount is split over
//! its lines in proportion to what each still costs, by largest remainder
//! (`money::split_by_largest_remainder`): the shares sum exactly to the discount, for partial
//! refunds and reports.
//!
//! # Choosing the combination
//!
//! `best_price` finds the combination that minimises what the diner pays among every set of
//! offers in force that the stacking rules allow and in which every offer does something
//! (ties: the larger saving, gifts counted; then fewer coupons spent). It is exact: a branch
//! and bound over the offers, bounding each branch by what the offers still open would take off
//! *on their own*, which no combination exceeds because a discount only shrinks when earlier
//! discounts lower its base. `brute_force_best_price` tries every subset and the tests check
//! the two agree. `price_chosen` prices the diner's own pick or says why it cannot be used.
//!
//! The bound is tight when offers barely interact (the usual case: under a hundred
//! combinations for 10 promotions and 10 coupons) and loose when many stackable percentages
//! compound; a search that reaches `MAX_EVALUATIONS` returns the best combination found so far
//! with `Priced::best_proven` false instead of holding the request.

mod breakdown;
mod cart;
mod coupons;
mod evaluate;
mod hint;
mod offers;
mod overlap;
mod refusal;
mod rules;
mod search;

pub use breakdown::*;
pub use cart::*;
pub use coupons::*;
pub use hint::ThresholdHint;
pub use overlap::*;
pub use refusal::*;
pub use rules::*;
pub use search::*;

#[cfg(test)]
mod tests;
