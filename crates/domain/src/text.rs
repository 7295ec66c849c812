//! Names and texts that the menu shows in Chinese first, with optional English.

use crate::validation::{FieldErrors, Problem};
use serde::{Deserialize, Serialize};

/// A required, trimmed, non-empty name of bounded length (in characters, not bytes).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: usize = 60;

    pub fn parse(text: &str) -> Result<Name, Problem> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(Problem::Required);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(Problem::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        if trimmed.chars().any(char::is_control) {
            return Err(Problem::InvalidCharacters);
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

/// Trims an optional free text, treating blank as absent and bounding its length.
pub fn optional_text(
    errors: &mut FieldErrors,
    field: &str,
    text: Option<&str>,
    max_chars: usize,
) -> Option<String> {
    let trimmed = text.map(str::trim).filter(|t| !t.is_empty())?;
    if trimmed.chars().count() > max_chars {
        errors.add(field, Problem::TooLong { max: max_chars });
        return None;
    }
    Some(trimmed.to_owned())
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
