//! Names and texts that the menu shows in Chinese first, with optional English, and the one
//! rule every text from outside follows: bounded in characters, and free of control characters
//! and of the bidirectional controls that make text display differently from what it says.

use crate::validation::{FieldErrors, Problem};
use serde::{Deserialize, Serialize};

/// Whether a text may hold line breaks: a note or a description may, a name never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// Characters no text may carry: C0 and C1 controls (NUL, escape codes that break receipts, logs
/// and CSV) and the bidi overrides, embeddings, isolates and marks (U+202A–U+202E, U+2066–U+2069,
/// U+200E/U+200F) that can make "¥28" read as "¥82" on a menu or hide text in a kitchen ticket.
pub fn is_forbidden(c: char, lines: Lines) -> bool {
    if c == '\n' {
        return lines == Lines::One;
    }
    FORBIDDEN.iter().any(|range| range.contains(&c))
}

/// The forbidden characters as ranges: [`is_forbidden`] and [`schema_pattern`] read the same list.
const FORBIDDEN: [std::ops::RangeInclusive<char>; 5] = [
    '\u{0}'..='\u{1f}',
    '\u{7f}'..='\u{9f}',
    '\u{200e}'..='\u{200f}',
    '\u{202a}'..='\u{202e}',
    '\u{2066}'..='\u{2069}',
];

/// The shared rule as a JSON Schema pattern (ECMA-262), so the API document states it and a
/// client can check a text before sending it. `required`: at least one character that is not
/// white space, as a required name is blank otherwise. `crlf`: `\r\n` is taken as a line end
/// (what [`optional_note`] accepts from a paste).
///
/// White space is spelled out as the characters `str::trim` removes rather than `\s`, whose
/// meaning differs between regex dialects (ECMA's includes U+FEFF, which `trim` keeps): a text
/// matches exactly when it is not blank after the trim the API applies.
pub fn schema_pattern(lines: Lines, required: bool, crlf: bool) -> String {
    let mut class = String::new();
    for range in &FORBIDDEN {
        let (start, end) = (*range.start(), *range.end());
        if lines == Lines::Many && range.contains(&'\n') {
            // Split around the line feed, which a multi-line text may hold.
            class.push_str(&format!("{}-{}", escape(start), escape('\u{9}')));
            class.push_str(&format!("{}-{}", escape('\u{b}'), escape(end)));
        } else {
            class.push_str(&format!("{}-{}", escape(start), escape(end)));
        }
    }
    let allowed = if crlf {
        format!("(?:[^{class}]|\\r\\n)")
    } else {
        format!("[^{class}]")
    };
    if required {
        let blank = white_space_class();
        format!("^{allowed}*[^{blank}{class}]{allowed}*$")
    } else {
        format!("^{allowed}*$")
    }
}

/// Every character `char::is_whitespace` (and so `str::trim`) treats as white space, as ranges;
/// found once (it scans every character), then shared by every pattern.
fn white_space_class() -> &'static str {
    static CLASS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CLASS.get_or_init(scan_white_space)
}

fn scan_white_space() -> String {
    let mut class = String::new();
    let mut run: Option<(char, char)> = None;
    for c in (char::MIN..=char::MAX).filter(|c| c.is_whitespace()) {
        run = match run {
            Some((start, end)) if u32::from(end) + 1 == u32::from(c) => Some((start, c)),
            Some((start, end)) => {
                push_range(&mut class, start, end);
                Some((c, c))
            }
            None => Some((c, c)),
        };
    }
    if let Some((start, end)) = run {
        push_range(&mut class, start, end);
    }
    class
}

fn push_range(class: &mut String, start: char, end: char) {
    class.push_str(&escape(start));
    if end != start {
        class.push('-');
        class.push_str(&escape(end));
    }
}

fn escape(c: char) -> String {
    format!("\\u{:04x}", c as u32)
}

/// Checks a text against the shared rule: at most `max_chars` characters (not bytes), none forbidden.
/// The limit holds for the text as sent, before trimming: that is what the document's
/// `maxLength` promises, so 61 characters with a leading space are refused like 61 without.
fn sent_length(text: &str, max_chars: usize) -> Result<(), Problem> {
    match text.chars().nth(max_chars) {
        Some(_) => Err(Problem::TooLong { max: max_chars }),
        None => Ok(()),
    }
}

pub fn check_text(text: &str, max_chars: usize, lines: Lines) -> Result<(), Problem> {
    // Stops counting one past the limit, so a huge text costs no more than a long one.
    if text.chars().nth(max_chars).is_some() {
        return Err(Problem::TooLong { max: max_chars });
    }
    if text.chars().any(|c| is_forbidden(c, lines)) {
        return Err(Problem::InvalidCharacters);
    }
    Ok(())
}

/// A required, trimmed, non-empty name of bounded length (in characters, not bytes).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: usize = 60;

    pub fn parse(text: &str) -> Result<Name, Problem> {
        // Checked as sent, before trimming: the document's `maxLength` and pattern hold for
        // what the client sends.
        check_text(text, Self::MAX_CHARS, Lines::One)?;
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(Problem::Required);
        }
        Ok(Name(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Trims an optional one-line text (an English name, an address), treating blank as absent.
pub fn optional_text(
    errors: &mut FieldErrors,
    field: &str,
    text: Option<&str>,
    max_chars: usize,
) -> Option<String> {
    optional(errors, field, text, max_chars, Lines::One)
}

/// Trims an optional text that may span lines but is typed, not pasted (an order's note):
/// `\n` is a line end, a `\r` is refused like any other control character.
pub fn optional_lines(
    errors: &mut FieldErrors,
    field: &str,
    text: Option<&str>,
    max_chars: usize,
) -> Option<String> {
    optional(errors, field, text, max_chars, Lines::Many)
}

/// Trims an optional text that may span lines (a note, a description); Windows line ends
/// become `\n`, so a pasted note and a typed one read the same.
pub fn optional_note(
    errors: &mut FieldErrors,
    field: &str,
    text: Option<&str>,
    max_chars: usize,
) -> Option<String> {
    if let Some(Err(problem)) = text.map(|t| sent_length(t, max_chars)) {
        errors.add(field, problem);
        return None;
    }
    let text = text.map(|t| t.replace("\r\n", "\n"));
    optional(errors, field, text.as_deref(), max_chars, Lines::Many)
}

fn optional(
    errors: &mut FieldErrors,
    field: &str,
    text: Option<&str>,
    max_chars: usize,
    lines: Lines,
) -> Option<String> {
    // Checked as sent: a leading tab or a 61st character is refused even where trimming
    // would hide it, as the document's pattern and `maxLength` say.
    let text = text?;
    if let Err(problem) = check_text(text, max_chars, lines) {
        errors.add(field, problem);
        return None;
    }
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// A required free text that staff write with a change (the reason of a balance or points
/// correction): trimmed, refused under `field` when blank or over `max_chars` characters.
pub fn required_reason<'a>(
    errors: &mut FieldErrors,
    field: &str,
    text: &'a str,
    max_chars: usize,
) -> &'a str {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        errors.add(field, Problem::Required);
    } else if trimmed.chars().nth(max_chars).is_some() {
        errors.add(field, Problem::TooLong { max: max_chars });
    }
    trimmed
}

/// Parses a required name into `errors` under `field`, returning it when valid.
pub fn required_name(errors: &mut FieldErrors, field: &str, text: &str) -> Option<Name> {
    match Name::parse(text) {
        Ok(name) => Some(name),
        Err(problem) => {
            errors.add(field, problem);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_pattern_names_every_forbidden_range() {
        let one_line = schema_pattern(Lines::One, false, false);
        assert_eq!(
            one_line,
            "^[^\\u0000-\\u001f\\u007f-\\u009f\\u200e-\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$"
        );
        let notes = schema_pattern(Lines::Many, false, false);
        assert!(notes.contains("\\u0000-\\u0009\\u000b-\\u001f"), "{notes}");
        let name = schema_pattern(Lines::One, true, false);
        assert!(
            name.contains("*[^\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a"),
            "{name}"
        );
        assert!(!name.contains("\\ufeff"), "{name}");
        assert!(schema_pattern(Lines::Many, false, true).contains("|\\r\\n)"));
    }

    #[test]
    fn names_refuse_controls_and_bidi_overrides() {
        for bad in [
            "牛肉面\u{0}",
            "Beef\u{202e}88",
            "\u{2066}面\u{2069}",
            "面\u{200f}",
            "a\u{85}b",
            "a\nb",
            "a\u{7f}",
        ] {
            assert_eq!(Name::parse(bad), Err(Problem::InvalidCharacters), "{bad:?}");
        }
        assert_eq!(
            Name::parse("红烧牛肉面 Beef noodles（大碗）")
                .unwrap()
                .as_str(),
            "红烧牛肉面 Beef noodles（大碗）"
        );
    }

    #[test]
    fn lengths_are_characters_and_a_huge_text_is_refused_cheaply() {
        assert!(check_text(&"面".repeat(60), 60, Lines::One).is_ok());
        assert_eq!(
            check_text(&"面".repeat(61), 60, Lines::One),
            Err(Problem::TooLong { max: 60 })
        );
        let million = "x".repeat(1_000_000);
        assert_eq!(
            check_text(&million, 60, Lines::One),
            Err(Problem::TooLong { max: 60 })
        );
    }

    #[test]
    fn limits_hold_for_the_text_as_sent_not_as_trimmed() {
        let padded = format!(" {}", "面".repeat(60));
        assert_eq!(Name::parse(&padded), Err(Problem::TooLong { max: 60 }));
        assert_eq!(Name::parse("\t面"), Err(Problem::InvalidCharacters));
        assert_eq!(Name::parse(" 面 ").unwrap().as_str(), "面");
        let mut errors = FieldErrors::new();
        assert_eq!(
            optional_text(&mut errors, "portion", Some(" 12345"), 5),
            None
        );
        assert_eq!(
            optional_note(&mut errors, "note", Some("12\r\n34"), 5),
            None
        );
        let codes: Vec<_> = errors.iter().map(|e| e.problem.code()).collect();
        assert_eq!(codes, ["TOO_LONG", "TOO_LONG"]);
    }

    #[test]
    fn notes_keep_line_breaks_but_nothing_else_invisible() {
        let mut errors = FieldErrors::new();
        assert_eq!(
            optional_note(&mut errors, "note", Some("少辣\r\n不要香菜"), 100).as_deref(),
            Some("少辣\n不要香菜")
        );
        assert_eq!(
            optional_note(&mut errors, "note", Some("少辣\u{202e}"), 100),
            None
        );
        assert_eq!(
            optional_text(&mut errors, "address", Some("1号\n2号"), 100),
            None
        );
        let codes: Vec<_> = errors.iter().map(|e| e.problem.code()).collect();
        assert_eq!(codes, ["INVALID_CHARACTERS", "INVALID_CHARACTERS"]);
    }
}
