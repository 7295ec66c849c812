//! Lines that fit a paper roll: wrapping that never splits a character or passes the edge, and
//! item rows whose quantity and amount columns line up, measured in printer columns.

use super::text_width::{display_width, glyph};

/// The two roll widths shops use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    /// 58 mm: 384 dots, 32 ASCII columns, 16 Chinese characters.
    Mm58,
    /// 80 mm: 576 dots, 48 ASCII columns, 24 Chinese characters.
    Mm80,
}

impl Paper {
    pub fn columns(self) -> usize {
        match self {
            Paper::Mm58 => 32,
            Paper::Mm80 => 48,
        }
    }

    /// Widths of the quantity and amount columns of an item row; the name takes the rest.
    /// Quantities up to x999 fit both; amounts up to "9999999.99" on 80 mm, "99999.99" on 58 mm.
    pub fn item_columns(self) -> ItemColumns {
        let (qty, amount) = match self {
            Paper::Mm58 => (5, 9),
            Paper::Mm80 => (6, 12),
        };
        ItemColumns {
            name: self.columns() - qty - amount,
            qty,
            amount,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemColumns {
    pub name: usize,
    pub qty: usize,
    pub amount: usize,
}

impl ItemColumns {
    pub fn total(self) -> usize {
        self.name + self.qty + self.amount
    }
}

/// Breaks text into lines of at most `width` columns, after printer substitution (`¥` → `￥`,
/// unprintable → `□`). A two-column character that would straddle the edge starts the next line;
/// a line break in the text starts one too.
/// Empty text gives no lines.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    assert!(width >= 2, "a line must hold one Chinese character");
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for c in text.chars() {
        // A note typed on two lines prints on two lines.
        if c == '\n' {
            lines.push(std::mem::take(&mut current).trim_end().to_owned());
            used = 0;
            continue;
        }
        let g = glyph(c);
        if used + g.columns > width {
            lines.push(std::mem::take(&mut current).trim_end().to_owned());
            used = 0;
        }
        // A space that would start a continuation line is only noise.
        if used == 0 && g.shown == ' ' && !lines.is_empty() {
            continue;
        }
        current.push(g.shown);
        used += g.columns;
    }
    if !current.trim_end().is_empty() {
        lines.push(current.trim_end().to_owned());
    }
    lines
}

/// `text` followed by spaces up to `width` columns (no padding when it is already wider).
pub fn pad_right(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(display_width(text));
    format!("{text}{}", " ".repeat(fill))
}

/// Spaces then `text`, ending at column `width`.
pub fn pad_left(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(display_width(text));
    format!("{}{text}", " ".repeat(fill))
}

/// A label on the left and a value flush right ("合计 ....... ￥56.00"). When both do not fit
/// on one line the label wraps and the value gets a line of its own, still flush right.
pub fn label_value(label: &str, value: &str, width: usize) -> Vec<String> {
    let value_width = display_width(value);
    let label_lines = wrap(label, width);
    match label_lines.as_slice() {
        [only] if display_width(only) + 1 + value_width <= width => {
            vec![format!("{}{}", pad_right(only, width - value_width), value)]
        }
        _ => {
            let mut lines = label_lines;
            lines.extend(wrap(value, width).iter().map(|part| pad_left(part, width)));
            lines
        }
    }
}

/// An item row: the name wraps inside its column, the first line carries the quantity and the
/// amount right-aligned in theirs. Quantity and amount texts too wide for their columns move
/// together onto a line of their own, flush right, so no other row's columns shift.
pub fn item_row(name: &str, qty: &str, amount: &str, columns: ItemColumns) -> Vec<String> {
    // One column of the name is kept as a gap before the quantity.
    let mut names = wrap(name, columns.name - 1);
    if names.is_empty() {
        names.push(String::new());
    }
    let fits = display_width(qty) < columns.qty && display_width(amount) < columns.amount;
    let mut lines = Vec::with_capacity(names.len() + 1);
    for (i, part) in names.iter().enumerate() {
        if i == 0 && fits {
            lines.push(format!(
                "{}{}{}",
                pad_right(part, columns.name),
                pad_left(qty, columns.qty),
                pad_left(amount, columns.amount)
            ));
        } else {
            lines.push(part.clone());
        }
    }
    if !fits {
        lines.extend(
            wrap(&format!("{qty} {amount}"), columns.total())
                .iter()
                .map(|part| pad_left(part, columns.total())),
        );
    }
    lines
}

/// A line of `c` across the paper.
pub fn rule(c: char, width: usize) -> String {
    let per = glyph(c).columns;
    std::iter::repeat_n(glyph(c).shown, width / per).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_break_in_a_note_starts_a_new_line() {
        assert_eq!(wrap("不要香菜\n多放辣", 32), ["不要香菜", "多放辣"]);
    }

    #[test]
    fn wrap_never_splits_a_wide_character() {
        // 7 columns: "ab" + two Chinese (6) then 辣 does not fit in the last column.
        assert_eq!(wrap("ab宫保辣子", 7), vec!["ab宫保", "辣子"]);
        assert_eq!(wrap("", 10), Vec::<String>::new());
        assert_eq!(wrap("加辣 少盐", 4), vec!["加辣", "少盐"]);
    }

    #[test]
    fn item_rows_line_up_at_both_widths() {
        for paper in [Paper::Mm58, Paper::Mm80] {
            let cols = paper.item_columns();
            let a = item_row("宫保鸡丁", "x1", "28.00", cols);
            let b = item_row("Coke", "x12", "120.50", cols);
            assert_eq!(display_width(&a[0]), paper.columns());
            assert_eq!(display_width(&b[0]), paper.columns());
            assert!(a[0].ends_with(" 28.00") && b[0].ends_with(" 120.50"));
            let qty_end = |line: &str| {
                let idx = line.find('x').unwrap();
                display_width(&line[..idx])
            };
            assert_eq!(
                qty_end(&a[0]) + 2,
                qty_end(&b[0]) + 3,
                "quantity columns end together"
            );
        }
    }

    #[test]
    fn an_amount_too_wide_gets_its_own_line() {
        let cols = Paper::Mm58.item_columns();
        let lines = item_row("佛跳墙", "x999", "99900000.00", cols);
        assert_eq!(lines[0], "佛跳墙");
        assert_eq!(lines[1], pad_left("x999 99900000.00", 32));
    }

    #[test]
    fn label_and_value() {
        assert_eq!(label_value("合计", "￥56.00", 16), vec!["合计     ￥56.00"]);
        let long = label_value("一个很长很长很长的标签", "￥56.00", 16);
        assert_eq!(long, vec!["一个很长很长很长", "的标签", "         ￥56.00"]);
    }
}
