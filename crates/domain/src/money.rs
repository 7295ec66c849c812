//! Money as integer fen (分). Never floats: rounding is explicit wherever it happens.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub};

/// An amount in fen (1/100 yuan). The field is private so every amount is built on purpose.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

/// The largest price a single item may carry: ¥100,000. Anything above is a typo, not a dish.
pub const MAX_ITEM_PRICE: Money = Money(10_000_000);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Self {
        Money(fen)
    }

    pub const fn from_yuan(yuan: i64) -> Self {
        Money(yuan * 100)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_mul(self, quantity: i64) -> Option<Money> {
        self.0.checked_mul(quantity).map(Money)
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// The exact sum, or `None` when it does not fit: a total is never wrapped or guessed.
    pub fn checked_sum(amounts: impl IntoIterator<Item = Money>) -> Option<Money> {
        amounts
            .into_iter()
            .try_fold(Money::ZERO, |sum, amount| sum.checked_add(amount))
    }

    /// `rate_bp / 10_000` of this amount, rounded down to the fen: a rate never gives away a
    /// fractional fen. `None` for a negative amount or rate, or one above 100 %.
    pub fn basis_points_floor(self, rate_bp: u32) -> Option<Money> {
        if self.0 < 0 || rate_bp > 10_000 {
            return None;
        }
        match self.0.checked_mul(rate_bp as i64) {
            Some(product) => Some(Money(product / 10_000)),
            // i128 so the product cannot overflow before the division brings it back in range.
            None => Some(Money((self.0 as i128 * rate_bp as i128 / 10_000) as i64)),
        }
    }

    /// Parses a yuan amount as merchants type it: "18", "18.5", "18.50", "¥18.50".
    /// More than two decimals is an error rather than a silent rounding.
    pub fn parse_yuan(text: &str) -> Result<Money, MoneyParseError> {
        let trimmed = text.trim().trim_start_matches(['¥', '￥']).trim();
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(MoneyParseError::NotANumber);
        }
        if fraction.len() > 2 {
            return Err(MoneyParseError::TooManyDecimals);
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyParseError::TooLarge)?;
        let fraction_fen: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().unwrap_or(0) * 10,
            _ => fraction.parse::<i64>().unwrap_or(0),
        };
        let fen = whole
            .checked_mul(100)
            .and_then(|f| f.checked_add(fraction_fen))
            .ok_or(MoneyParseError::TooLarge)?;
        Ok(Money(if negative { -fen } else { fen }))
    }

    /// Yuan with two decimals only when the fen are not zero: "18", "18.50", "-2".
    pub fn to_yuan_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        if abs.is_multiple_of(100) {
            format!("{sign}{}", abs / 100)
        } else {
            format!("{sign}{}.{:02}", abs / 100, abs % 100)
        }
    }
}

/// Splits `total` over parts in proportion to `weights` by largest remainder: every share is
/// the floor of its exact proportion, and the fen left over go one each to the largest
/// remainders (ties to the larger weight, then the earlier part). The shares sum to `total`
/// exactly and none exceeds its weight. `None` when `total` is negative or above the weights' sum,
/// or a weight is negative.
pub fn split_by_largest_remainder(total: Money, weights: &[Money]) -> Option<Vec<Money>> {
    let sum: i128 = weights.iter().map(|w| w.0 as i128).sum();
    if total.0 < 0 || weights.iter().any(|w| w.0 < 0) || total.0 as i128 > sum {
        return None;
    }
    if total.0 == 0 {
        return Some(vec![Money::ZERO; weights.len()]);
    }
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut given: i128 = 0;
    let narrow_sum = i64::try_from(sum).ok();
    for (i, w) in weights.iter().enumerate() {
        // i128: a total times a weight can pass i64 even when both fit; i64 division when it
        // does not, because this runs for every line of every combination the search tries.
        let exact = total.0 as i128 * w.0 as i128;
        let (share, remainder) = match (narrow_sum, i64::try_from(exact)) {
            (Some(sum), Ok(exact)) => ((exact / sum) as i128, (exact % sum) as i128),
            _ => (exact / sum, exact % sum),
        };
        given += share;
        shares.push(Money(share as i64));
        remainders.push((remainder, w.0, i));
    }
    let left = (total.0 as i128 - given) as usize;
    if left == 0 {
        return Some(shares);
    }
    // A share below its weight always has a positive remainder when total < sum, and when
    // total == sum every remainder is zero and nothing is left over: no share passes its weight.
    // The order is total (the index breaks every tie), so the `left` first are one exact set.
    remainders.select_nth_unstable_by(left - 1, |a, b| {
        b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2))
    });
    for &(_, _, i) in &remainders[..left] {
        shares[i].0 += 1;
    }
    Some(shares)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyParseError {
    #[error("not an amount of money")]
    NotANumber,
    #[error("more than two decimals")]
    TooManyDecimals,
    #[error("amount too large")]
    TooLarge,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}", self.to_yuan_string())
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_what_merchants_type() {
        assert_eq!(Money::parse_yuan("18"), Ok(Money::from_fen(1800)));
        assert_eq!(Money::parse_yuan("18.5"), Ok(Money::from_fen(1850)));
        assert_eq!(Money::parse_yuan(" ¥18.05 "), Ok(Money::from_fen(1805)));
        assert_eq!(Money::parse_yuan("-2"), Ok(Money::from_fen(-200)));
        assert_eq!(
            Money::parse_yuan("18.505"),
            Err(MoneyParseError::TooManyDecimals)
        );
        assert_eq!(Money::parse_yuan("abc"), Err(MoneyParseError::NotANumber));
        assert_eq!(Money::parse_yuan(""), Err(MoneyParseError::NotANumber));
        assert_eq!(Money::parse_yuan("1e3"), Err(MoneyParseError::NotANumber));
    }

    #[test]
    fn displays_like_the_menu_board() {
        assert_eq!(Money::from_fen(1800).to_string(), "¥18");
        assert_eq!(Money::from_fen(1850).to_string(), "¥18.50");
        assert_eq!(Money::from_fen(5).to_string(), "¥0.05");
    }

    #[test]
    fn rates_round_down_to_the_fen() {
        assert_eq!(
            Money::from_fen(999).basis_points_floor(1_000),
            Some(Money::from_fen(99))
        );
        assert_eq!(
            Money::from_fen(i64::MAX).basis_points_floor(10_000),
            Some(Money::from_fen(i64::MAX))
        );
        assert_eq!(Money::from_fen(100).basis_points_floor(10_001), None);
        assert_eq!(Money::from_fen(-1).basis_points_floor(5_000), None);
    }

    #[test]
    fn largest_remainder_gives_the_last_fen_to_the_biggest_remainder() {
        let f = Money::from_fen;
        assert_eq!(
            split_by_largest_remainder(f(100), &[f(100), f(100), f(100)]),
            Some(vec![f(34), f(33), f(33)])
        );
        assert_eq!(
            split_by_largest_remainder(f(2), &[f(1), f(1), f(1)]),
            Some(vec![f(1), f(1), f(0)])
        );
        assert_eq!(
            split_by_largest_remainder(f(10), &[f(3_000), f(1_000)]),
            Some(vec![f(8), f(2)])
        );
        assert_eq!(split_by_largest_remainder(f(5), &[f(2), f(2)]), None);
        assert_eq!(
            split_by_largest_remainder(f(4), &[f(2), f(2)]),
            Some(vec![f(2), f(2)])
        );
    }

    proptest! {
        #[test]
        fn yuan_text_round_trips(fen in -10_000_000_000i64..10_000_000_000) {
            let money = Money::from_fen(fen);
            prop_assert_eq!(Money::parse_yuan(&money.to_yuan_string()), Ok(money));
        }

        #[test]
        fn largest_remainder_shares_sum_exactly(
            weights in proptest::collection::vec(0i64..1_000_000, 1..30),
            pick in 0u64..u64::MAX,
        ) {
            let weights: Vec<Money> = weights.into_iter().map(Money::from_fen).collect();
            let sum: i64 = weights.iter().map(|w| w.fen()).sum();
            let total = Money::from_fen(if sum == 0 { 0 } else { (pick % (sum as u64 + 1)) as i64 });
            let shares = split_by_largest_remainder(total, &weights).unwrap();
            prop_assert_eq!(shares.iter().copied().sum::<Money>(), total);
            for (share, weight) in shares.iter().zip(&weights) {
                prop_assert!(*share >= Money::ZERO && share <= weight);
            }
        }
    }
}
