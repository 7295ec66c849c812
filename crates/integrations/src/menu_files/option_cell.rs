//! The 口味加料 cell: all of a dish's option groups in one line a merchant can type,
//! `辣度[1-1]:不辣,微辣,特辣; 加料[0-2]:加蛋+2,加牛肉+8` (prices in yuan).

use diancan_domain::Money;
use diancan_domain::catalog::{OptionDraft, OptionGroupDraft};
use diancan_domain::validation::Problem;

/// Shown back to the merchant when a cell cannot be read, so the fix is obvious.
const EXAMPLE: &str = "辣度[1-1]:不辣,微辣; 加料[0-2]:加蛋+2,加牛肉+8";

pub(crate) fn format_option_groups(groups: &[OptionGroupDraft]) -> String {
    let described: Vec<String> = groups
        .iter()
        .map(|group| {
            let options: Vec<String> = group.options.iter().map(format_option).collect();
            format!(
                "{}[{}-{}]:{}",
                group.name,
                group.min_select,
                group.max_select,
                options.join(",")
            )
        })
        .collect();
    described.join("; ")
}

fn format_option(option: &OptionDraft) -> String {
    let delta = option.price_delta_fen;
    if delta.is_negative() {
        format!("{}{}", option.name, delta.to_yuan_string())
    } else if delta == Money::ZERO {
        option.name.clone()
    } else {
        format!("{}+{}", option.name, delta.to_yuan_string())
    }
}

/// Reads the cell leniently about separators (Chinese or ASCII), strictly about structure.
pub(crate) fn parse_option_groups(cell: &str) -> Result<Vec<OptionGroupDraft>, Problem> {
    cell.split([';', '；'])
        .map(str::trim)
        .filter(|group| !group.is_empty())
        .map(parse_group)
        .collect()
}

fn parse_group(text: &str) -> Result<OptionGroupDraft, Problem> {
    let malformed = || Problem::InvalidChoice {
        allowed: vec![EXAMPLE.to_owned()],
    };
    let (name, rest) = text.split_once(['[', '［']).ok_or_else(malformed)?;
    let (bounds, rest) = rest.split_once([']', '］']).ok_or_else(malformed)?;
    let (min, max) = bounds.split_once(['-', '~']).ok_or_else(malformed)?;
    let min_select = min.trim().parse::<i64>().map_err(|_| malformed())?;
    let max_select = max.trim().parse::<i64>().map_err(|_| malformed())?;
    let options = rest
        .trim()
        .strip_prefix([':', '：'])
        .ok_or_else(malformed)?;
    let options = options
        .split([',', '，', '、'])
        .map(str::trim)
        .filter(|option| !option.is_empty())
        .map(parse_option)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(OptionGroupDraft {
        id: None,
        name: name.trim().to_owned(),
        name_en: None,
        min_select,
        max_select,
        options,
    })
}

/// `加蛋+2` adds ¥2; `少饭-1` takes ¥1 off. A `-` not followed by an amount is part of
/// the name (可口-可乐 style names exist); a `+` must always be followed by one.
fn parse_option(text: &str) -> Result<OptionDraft, Problem> {
    let (name, delta) = if let Some((name, amount)) = text.rsplit_once('+') {
        let amount = Money::parse_yuan(amount).map_err(|_| Problem::NotAMoneyAmount)?;
        (name, amount)
    } else {
        match text
            .rsplit_once('-')
            .map(|(name, amount)| (name, Money::parse_yuan(amount)))
        {
            Some((name, Ok(amount))) => (name, Money::from_fen(-amount.fen())),
            _ => (text, Money::ZERO),
        }
    };
    Ok(OptionDraft {
        id: None,
        name: name.trim().to_owned(),
        name_en: None,
        price_delta_fen: delta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_merchants_type_and_writes_it_back() {
        let cell = "辣度[1-1]:不辣,微辣,特辣; 加料[0-2]:加蛋+2,加牛肉+8.50,少饭-1";
        let groups = parse_option_groups(cell).expect("parses");
        assert_eq!(groups.len(), 2);
        assert_eq!((groups[0].min_select, groups[0].max_select), (1, 1));
        let deltas: Vec<i64> = groups[1]
            .options
            .iter()
            .map(|o| o.price_delta_fen.fen())
            .collect();
        assert_eq!(deltas, [200, 850, -100]);
        assert_eq!(format_option_groups(&groups), cell);
    }

    #[test]
    fn chinese_punctuation_and_hyphenated_names_are_fine() {
        let groups = parse_option_groups("饮料［0-1］：可口-可乐，雪碧+1；").expect("parses");
        assert_eq!(groups[0].options[0].name, "可口-可乐");
        assert_eq!(groups[0].options[1].price_delta_fen, Money::from_fen(100));
    }

    #[test]
    fn a_plus_without_an_amount_is_not_money() {
        assert_eq!(
            parse_option_groups("加料[0-1]:加蛋+两块"),
            Err(Problem::NotAMoneyAmount)
        );
        assert!(matches!(
            parse_option_groups("加料 0-1: 加蛋"),
            Err(Problem::InvalidChoice { .. })
        ));
        assert_eq!(parse_option_groups("  "), Ok(Vec::new()));
    }
}
