//! Yuan as the gateways write it outside WeChat's API (Alipay's amounts, WeChat's bills):
//! decimal strings such as "88.80". Ours are fen; this is the one place that converts.

use crate::payments::error::PaymentError;
use diancan_domain::money::Money;

pub fn format(amount: Money) -> String {
    let fen = amount.fen();
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Reads a gateway's yuan amount: digits, optionally a point and one or two decimals.
pub fn parse(field: &'static str, text: &str) -> Result<Money, PaymentError> {
    let well_formed = text.split_once('.').map_or(
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()),
        |(whole, fraction)| {
            !whole.is_empty()
                && whole.bytes().all(|b| b.is_ascii_digit())
                && (1..=2).contains(&fraction.len())
                && fraction.bytes().all(|b| b.is_ascii_digit())
        },
    );
    if !well_formed {
        return Err(PaymentError::malformed(format!(
            "{field} {text:?} is not a yuan amount"
        )));
    }
    Money::parse_yuan(text)
        .map_err(|_| PaymentError::malformed(format!("{field} {text:?} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fen_and_yuan_strings_convert_exactly() {
        assert_eq!(format(Money::from_fen(8880)), "88.80");
        assert_eq!(format(Money::from_fen(3500)), "35.00");
        assert_eq!(format(Money::from_fen(1)), "0.01");
        assert_eq!(parse("total_amount", "88.80"), Ok(Money::from_fen(8880)));
        assert_eq!(parse("total_amount", "0.1"), Ok(Money::from_fen(10)));
        assert_eq!(parse("total_amount", "35"), Ok(Money::from_fen(3500)));
        for bad in [
            "",
            "¥1.00",
            "-1.00",
            "1.001",
            "1e3",
            ".50",
            "99999999999999999999.00",
        ] {
            assert!(parse("total_amount", bad).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_amount_survives_the_trip_through_yuan(fen in 0i64..=i64::MAX / 100) {
            let amount = Money::from_fen(fen);
            proptest::prop_assert_eq!(parse("total_amount", &format(amount)), Ok(amount));
        }
    }
}
