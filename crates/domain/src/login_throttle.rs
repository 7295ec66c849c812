//! How wrong passwords slow the next try down: per account a back-off that grows with each
//! failure but never keeps the real owner out for more than a minute, per client a hard cap.

/// Per-account back-off. The first `free_failures` wrong passwords cost nothing (typos); from
/// then on each failure doubles the wait before the account hears another password, from
/// `first_wait_ms` up to `max_wait_ms`. A hard lock would let a stranger lock the owner out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginBackoff {
    pub free_failures: i64,
    pub first_wait_ms: i64,
    pub max_wait_ms: i64,
    /// Failures older than this (no attempt since) are forgotten.
    pub forget_after_ms: i64,
}

/// Staff logins: five free tries, then 1 s, 2 s, 4 s … 60 s; forgotten after 15 quiet minutes.
pub const STAFF_LOGIN_BACKOFF: LoginBackoff = LoginBackoff {
    free_failures: 5,
    first_wait_ms: 1_000,
    max_wait_ms: 60_000,
    forget_after_ms: 15 * 60 * 1000,
};

/// Failed logins one client (one real address) may make in a fixed window, whatever the
/// accounts: this is what stops one machine from trying many accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressLimit {
    pub max_failures: i64,
    pub window_ms: i64,
}

pub const STAFF_LOGIN_ADDRESS_LIMIT: AddressLimit = AddressLimit {
    max_failures: 30,
    window_ms: 15 * 60 * 1000,
};

impl LoginBackoff {
    /// How long the account waits after its `failures`-th failure before it hears the next password.
    pub fn wait_after_ms(&self, failures: i64) -> i64 {
        if failures < self.free_failures {
            return 0;
        }
        // Past 2^30 the cap has long been reached; the bound keeps the shift in range.
        let doublings = (failures - self.free_failures).min(30) as u32;
        self.first_wait_ms
            .saturating_mul(1_i64 << doublings)
            .min(self.max_wait_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_wait_doubles_after_the_free_tries_up_to_a_minute() {
        let waits: Vec<i64> = (1..=12)
            .map(|n| STAFF_LOGIN_BACKOFF.wait_after_ms(n))
            .collect();
        assert_eq!(
            waits,
            [
                0, 0, 0, 0, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000
            ]
        );
    }

    proptest! {
        #[test]
        fn the_wait_never_shrinks_and_never_passes_the_cap(failures in 0_i64..i64::MAX) {
            let wait = STAFF_LOGIN_BACKOFF.wait_after_ms(failures);
            prop_assert!((0..=STAFF_LOGIN_BACKOFF.max_wait_ms).contains(&wait));
            prop_assert!(STAFF_LOGIN_BACKOFF.wait_after_ms(failures.saturating_add(1)) >= wait);
        }
    }
}
