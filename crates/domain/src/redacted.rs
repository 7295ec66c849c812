//! A wrapper for secrets and personal data (addresses, openids, provider keys) that prints
//! as `<redacted>` in `Debug` and has no `Display`, so it cannot slip into a log by accident.

use std::fmt;

/// A value that must never appear in logs. Read it with [`Redacted::expose`], on purpose.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    pub const fn new(value: T) -> Self {
        Redacted(value)
    }

    /// The value itself: only for the code that must use it (sealing, sending, comparing).
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Redacted<T> {
    fn from(value: T) -> Self {
        Redacted(value)
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let address = Redacted::new("上海市黄浦区南京东路 1 号 502 室".to_owned());
        assert_eq!(format!("{address:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&address)), "Some(<redacted>)");
        assert!(address.expose().contains("502"));
    }
}
