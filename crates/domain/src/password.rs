//! What a new staff password must be: long enough to resist guessing, and not one that is
//! printed in public (the demo restaurant's, in the README and every start-up banner).

use crate::redacted::Redacted;

/// Fewer characters than this are refused.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Passwords anyone can read in our own documentation.
const PUBLISHED_PASSWORDS: [&str; 1] = ["diancan123"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("this password is published (the demo's); choose your own")]
    Published,
}

/// A password that may be set on an account. Its `Debug` shows nothing of it.
#[derive(Clone, Debug)]
pub struct NewPassword(Redacted<String>);

impl NewPassword {
    pub fn parse(text: &str) -> Result<NewPassword, PasswordProblem> {
        if PUBLISHED_PASSWORDS
            .iter()
            .any(|p| p.eq_ignore_ascii_case(text.trim()))
        {
            return Err(PasswordProblem::Published);
        }
        if text.chars().count() < MIN_PASSWORD_CHARS {
            return Err(PasswordProblem::TooShort);
        }
        Ok(NewPassword(Redacted::new(text.to_owned())))
    }

    /// The password itself, for hashing only.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The password, handed to the hasher.
    pub fn into_inner(self) -> String {
        self.0.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_published_passwords_are_refused() {
        assert_eq!(
            NewPassword::parse("short").unwrap_err(),
            PasswordProblem::TooShort
        );
        assert_eq!(
            NewPassword::parse("123456789").unwrap_err(),
            PasswordProblem::TooShort
        );
        assert_eq!(
            NewPassword::parse("diancan123").unwrap_err(),
            PasswordProblem::Published
        );
        assert_eq!(
            NewPassword::parse("DianCan123 ").unwrap_err(),
            PasswordProblem::Published
        );
        let ok = NewPassword::parse("面馆的长密码2026").unwrap();
        assert_eq!(ok.expose(), "面馆的长密码2026");
        assert!(!format!("{ok:?}").contains("2026"));
    }
}
