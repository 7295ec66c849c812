//! A store's stock for one spec: an optional running count, an optional daily limit
//! that resets each business day, and the manual 沽清 switch.

use crate::money::Money;
use crate::schedule::BusinessDate;
use crate::validation::{FieldErrors, Problem};
use serde::{Deserialize, Serialize};

/// The largest stock or daily limit we accept; more is a typo.
pub const MAX_STOCK: i64 = 1_000_000;

/// Per-store settings and counters for one SKU.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SkuStoreState {
    /// The store's own price; `None` uses the brand price.
    pub price_fen: Option<Money>,
    /// Units on hand; `None` means not counted.
    pub stock: Option<i64>,
    /// Units that may be sold per business day; `None` means no limit.
    pub daily_limit: Option<i64>,
    /// Units sold on `sold_on`; a different date means nothing sold yet today.
    pub sold_count: i64,
    pub sold_on: Option<BusinessDate>,
    /// Warn the merchant when fewer remain.
    pub low_stock_threshold: Option<i64>,
    /// 沽清: the merchant says there is none left today.
    pub sold_out: bool,
}

impl SkuStoreState {
    /// How many more can be sold today; `None` means no limit applies.
    pub fn remaining(&self, today: BusinessDate) -> Option<i64> {
        if self.sold_out {
            return Some(0);
        }
        let sold_today = if self.sold_on == Some(today) {
            self.sold_count
        } else {
            0
        };
        let left_today = self.daily_limit.map(|limit| (limit - sold_today).max(0));
        match (self.stock.map(|s| s.max(0)), left_today) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Takes `quantity` units sold on `today` if that many are left; false (and no change) if not.
    /// The one rule for selling stock: placing orders applies it to the locked rows.
    pub fn take(&mut self, quantity: i64, today: BusinessDate) -> bool {
        if quantity <= 0 || self.remaining(today).is_some_and(|left| left < quantity) {
            return false;
        }
        if let Some(stock) = self.stock.as_mut() {
            *stock -= quantity;
        }
        let sold_before = if self.sold_on == Some(today) {
            self.sold_count
        } else {
            0
        };
        self.sold_count = sold_before + quantity;
        self.sold_on = Some(today);
        true
    }

    pub fn is_sold_out(&self, today: BusinessDate) -> bool {
        self.remaining(today) == Some(0)
    }

    pub fn is_low(&self, today: BusinessDate) -> bool {
        match (self.remaining(today), self.low_stock_threshold) {
            (Some(left), Some(threshold)) => left > 0 && left <= threshold,
            _ => false,
        }
    }
}

/// What a merchant may change about a spec in one store.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SkuStoreSettings {
    /// `check_price`: more than 0 and at most `MAX_ITEM_PRICE` (¥100,000).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<i64>, minimum = 1, maximum = 10_000_000)
    )]
    pub price_fen: Option<Money>,
    /// From 0 to [`MAX_STOCK`], as `validate` checks.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1_000_000))]
    pub stock: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1_000_000))]
    pub daily_limit: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1_000_000))]
    pub low_stock_threshold: Option<i64>,
    pub sold_out: bool,
}

impl SkuStoreSettings {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(price) = self.price_fen {
            super::check_price(&mut errors, "price_fen", price);
        }
        for (field, value) in [
            ("stock", self.stock),
            ("daily_limit", self.daily_limit),
            ("low_stock_threshold", self.low_stock_threshold),
        ] {
            match value {
                Some(v) if v < 0 => errors.add(field, Problem::MustNotBeNegative),
                Some(v) if v > MAX_STOCK => errors.add(field, Problem::TooLarge { max: MAX_STOCK }),
                _ => {}
            }
        }
        errors.finish(|| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn day(d: i8) -> BusinessDate {
        BusinessDate::from_date(date(2026, 11, d))
    }

    #[test]
    fn taking_stops_at_the_tighter_limit_and_counts_the_day() {
        let mut state = SkuStoreState {
            stock: Some(5),
            daily_limit: Some(3),
            sold_count: 9,
            sold_on: Some(day(25)),
            ..Default::default()
        };
        assert!(
            state.take(2, day(26)),
            "yesterday's sales do not count today"
        );
        assert_eq!((state.stock, state.sold_count), (Some(3), 2));
        assert!(
            !state.take(2, day(26)),
            "only one left under the daily limit"
        );
        assert_eq!(
            (state.stock, state.sold_count),
            (Some(3), 2),
            "a refused take changes nothing"
        );
        assert!(state.take(1, day(26)));
        assert!(state.is_sold_out(day(26)));
        assert!(!state.take(0, day(27)), "nothing to take");
    }

    #[test]
    fn sold_out_or_uncounted() {
        let mut uncounted = SkuStoreState::default();
        assert!(uncounted.take(1000, day(26)));
        assert_eq!(uncounted.sold_count, 1000);
        let mut off = SkuStoreState {
            sold_out: true,
            ..Default::default()
        };
        assert!(!off.take(1, day(26)));
    }

    #[test]
    fn daily_limit_resets_on_a_new_business_day() {
        let state = SkuStoreState {
            daily_limit: Some(20),
            sold_count: 20,
            sold_on: Some(day(26)),
            ..Default::default()
        };
        assert_eq!(state.remaining(day(26)), Some(0));
        assert!(state.is_sold_out(day(26)));
        assert_eq!(state.remaining(day(27)), Some(20));
    }

    #[test]
    fn the_tighter_of_stock_and_daily_limit_wins() {
        let state = SkuStoreState {
            stock: Some(3),
            daily_limit: Some(20),
            low_stock_threshold: Some(5),
            ..Default::default()
        };
        assert_eq!(state.remaining(day(26)), Some(3));
        assert!(state.is_low(day(26)));
        let unlimited = SkuStoreState::default();
        assert_eq!(unlimited.remaining(day(26)), None);
        let marked = SkuStoreState {
            sold_out: true,
            ..Default::default()
        };
        assert!(marked.is_sold_out(day(26)));
    }
}
