//! What a Chinese receipt printer can show and how wide it is. The printer's font decides the
//! width, not Unicode's East-Asian-Width: every two-byte GBK glyph prints 24 dots wide
//! (2 columns) and every ASCII glyph 12 dots (1 column), so `·` (U+00B7, "narrow" to Unicode)
//! takes two columns on paper. This is why the width comes from the encoding, not `unicode-width`.

use encoding_rs::GBK;

/// Shown in place of a character the printer's two-byte set lacks (emoji, combining marks,
/// rare ideographs only in GB18030's four-byte range): visible, so nothing silently vanishes.
pub const REPLACEMENT: char = '□';

/// One character as the printer will print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Glyph {
    /// The character that is sent (after `¥` → `￥` and replacement).
    pub shown: char,
    /// Columns it takes in the normal font.
    pub columns: usize,
    /// Whether `shown` differs from the input because the printer cannot print it.
    pub replaced: bool,
}

/// Maps one input character to what the printer prints.
pub fn glyph(c: char) -> Glyph {
    match c {
        // Control characters (a tab or newline inside a dish name) would move the print head.
        c if c.is_control() => Glyph {
            shown: ' ',
            columns: 1,
            replaced: c != ' ',
        },
        ' '..='~' => Glyph {
            shown: c,
            columns: 1,
            replaced: false,
        },
        // GBK has no half-width yen; the full-width sign is what Chinese receipts print.
        '¥' => Glyph {
            shown: '￥',
            columns: 2,
            replaced: false,
        },
        _ => match encode_char(c) {
            Some(_) => Glyph {
                shown: c,
                columns: 2,
                replaced: false,
            },
            None => Glyph {
                shown: REPLACEMENT,
                columns: 2,
                replaced: true,
            },
        },
    }
}

/// The two GBK bytes of a non-ASCII character, or `None` when the printer cannot print it.
/// GBK's lone single byte 0x80 (€) is refused too: printer fonts have no glyph for it.
pub fn encode_char(c: char) -> Option<[u8; 2]> {
    let mut utf8 = [0u8; 4];
    let (bytes, _, had_errors) = GBK.encode(c.encode_utf8(&mut utf8));
    match (had_errors, bytes.as_ref()) {
        (false, [first, second]) => Some([*first, *second]),
        _ => None,
    }
}

/// Columns the text takes on paper in the normal font.
pub fn display_width(text: &str) -> usize {
    text.chars().map(|c| glyph(c).columns).sum()
}

/// The text as the printer will print it: `¥` as `￥`, unprintable characters as [`REPLACEMENT`].
pub fn printable(text: &str) -> String {
    text.chars().map(|c| glyph(c).shown).collect()
}

/// The bytes to send for the text (already [`printable`] or not): ASCII as one byte, the rest as GBK.
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let shown = glyph(c).shown;
        if shown.is_ascii() {
            out.push(shown as u8);
        } else if let Some(pair) = encode_char(shown) {
            out.extend_from_slice(&pair);
        } else {
            // REPLACEMENT and ￥ are both in GBK; reaching here would be a bug in `glyph`.
            unreachable!("glyph() returned an unencodable character {shown:?}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_the_printer_font() {
        assert_eq!(display_width("宫保鸡丁"), 8);
        assert_eq!(display_width("x1  28.00"), 9);
        // Full-width punctuation is a GBK glyph: two columns.
        assert_eq!(display_width("：（）。"), 8);
        // U+00B7 is narrow to Unicode but a two-byte glyph (A1 A4) to the printer.
        assert_eq!(display_width("·"), 2);
        assert_eq!(encode("·"), vec![0xA1, 0xA4]);
    }

    #[test]
    fn yen_prints_full_width() {
        assert_eq!(printable("¥12"), "￥12");
        assert_eq!(encode("¥"), vec![0xA3, 0xA4]);
        assert_eq!(display_width("¥12.50"), 7);
    }

    #[test]
    fn unprintable_characters_are_replaced_visibly() {
        // Emoji, a combining accent, € (GBK's lone 0x80) and a four-byte-only ideograph (𠀀).
        for c in ['🌶', '\u{0301}', '€', '𠀀'] {
            let g = glyph(c);
            assert!(g.replaced, "{c:?}");
            assert_eq!((g.shown, g.columns), (REPLACEMENT, 2));
        }
        assert_eq!(printable("辣🌶鸡"), "辣□鸡");
        assert_eq!(encode("🌶"), encode("□"));
        assert_eq!(printable("a\tb\nc"), "a b c");
    }

    #[test]
    fn chinese_is_encoded_as_gbk() {
        assert_eq!(
            encode("测试餐厅"),
            vec![0xB2, 0xE2, 0xCA, 0xD4, 0xB2, 0xCD, 0xCC, 0xFC]
        );
    }
}
