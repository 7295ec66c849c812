//! Who a diner is to a brand: a mobile number proved by a one-time SMS code, or a WeChat login.
//! Phone numbers are parsed once at the edge and never print in full (PIPL: mask in logs and APIs).

use std::fmt;

/// A mainland China mobile number: 11 digits starting with 13–19, stored without "+86".
/// `Debug` and `Display` show only the masked form ("138****1234"); the digits come out
/// through [`Phone::expose`], which only sealing and the SMS provider call.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a mainland China mobile number")]
pub struct InvalidPhone;

impl Phone {
    /// Accepts what people type: "+86 138-1234-5678", "0086 13812345678", "138 1234 5678".
    pub fn parse(input: &str) -> Result<Phone, InvalidPhone> {
        // Generous for "+86 (138) 1234-5678"; a longer text is not a phone and is not scanned.
        if input.len() > 32 {
            return Err(InvalidPhone);
        }
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '(' | ')'))
            .collect();
        let national = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("0086"))
            .or_else(|| compact.strip_prefix("86").filter(|rest| rest.len() == 11))
            .unwrap_or(&compact);
        let bytes = national.as_bytes();
        let valid = bytes.len() == 11
            && bytes.iter().all(u8::is_ascii_digit)
            && bytes[0] == b'1'
            && (b'3'..=b'9').contains(&bytes[1]);
        if valid {
            Ok(Phone(national.to_owned()))
        } else {
            Err(InvalidPhone)
        }
    }

    /// "138****1234": what logs, APIs and receipts show.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }

    /// The 11 digits. Only for sealing, the blind index and the SMS provider.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// A six-digit one-time code. `Debug` hides it; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a verification code is six digits")]
pub struct InvalidOtpCode;

impl OtpCode {
    pub const LEN: usize = 6;

    pub fn parse(input: &str) -> Result<OtpCode, InvalidOtpCode> {
        let trimmed = input.trim();
        if trimmed.len() == Self::LEN && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            Ok(OtpCode(trimmed.to_owned()))
        } else {
            Err(InvalidOtpCode)
        }
    }

    /// The code for a random number (the caller brings the randomness: this crate has no I/O).
    pub fn from_random(random: u32) -> OtpCode {
        OtpCode(format!("{:06}", random % 1_000_000))
    }

    /// The digits, for the SMS text and for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpCode(******)")
    }
}

/// Personal data encrypted at rest (nonce ‖ ciphertext ‖ tag); opaque to everything but the vault.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedPii(Vec<u8>);

impl SealedPii {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        SealedPii(bytes)
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SealedPii {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedPii({} bytes)", self.0.len())
    }
}

/// A keyed hash of a normalised value (a phone, an openid): equal inputs give equal indexes,
/// so rows can be found without decrypting, but the index alone reveals nothing.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BlindIndex(Vec<u8>);

impl BlindIndex {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        BlindIndex(bytes)
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// Lowercase hex, for keys such as the send throttle's.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BlindIndex({}…)",
            &self.to_hex()[..8.min(self.0.len() * 2)]
        )
    }
}

/// How long a code may be used after it is sent.
pub const OTP_TTL_MS: i64 = 5 * 60 * 1000;
/// Wrong guesses allowed on one code before it is locked (a new code must be requested).
pub const OTP_MAX_ATTEMPTS: i64 = 5;
/// How long a diner stays logged in on a device.
pub const CUSTOMER_SESSION_TTL_MS: i64 = 30 * 24 * 3600 * 1000;

/// At most `max` codes per phone within `window_ms` (SMS costs money and annoys the owner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimit {
    /// Distinguishes the throttle counters ("otp-1m", "otp-1h").
    pub name: &'static str,
    pub window_ms: i64,
    pub max: i64,
}

/// One code a minute, five an hour, per phone number.
pub const OTP_SEND_LIMITS: [SendLimit; 2] = [
    SendLimit {
        name: "otp-1m",
        window_ms: 60 * 1000,
        max: 1,
    },
    SendLimit {
        name: "otp-1h",
        window_ms: 3600 * 1000,
        max: 5,
    },
];

/// Why a code cannot be checked at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpRefusal {
    /// No open code for this phone: never sent, already used, or replaced by a newer one.
    NoChallenge,
    Expired,
    /// Too many wrong guesses.
    Locked,
}

/// Whether an open code may take one more guess now.
pub fn otp_refusal(attempts: i64, expires_at_ms: i64, now_ms: i64) -> Option<OtpRefusal> {
    if expires_at_ms <= now_ms {
        Some(OtpRefusal::Expired)
    } else if attempts >= OTP_MAX_ATTEMPTS {
        Some(OtpRefusal::Locked)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_parsed_from_what_people_type() {
        for input in [
            "13812345678",
            "+86 138 1234 5678",
            "+86-138-1234-5678",
            "0086 13812345678",
            "8613812345678",
            " 138-1234-5678 ",
        ] {
            assert_eq!(
                Phone::parse(input).map(|p| p.expose().to_owned()),
                Ok("13812345678".to_owned()),
                "{input}"
            );
        }
        for input in [
            "",
            "1381234567",
            "138123456789",
            "12812345678",
            "23812345678",
            "1381234567a",
            "+1 13812345678",
            "١٣٨١٢٣٤٥٦٧٨",
        ] {
            assert_eq!(Phone::parse(input), Err(InvalidPhone), "{input}");
        }
    }

    #[test]
    fn a_phone_never_prints_in_full() {
        let phone = Phone::parse("+86 139 8765 4321").unwrap();
        assert_eq!(phone.masked(), "139****4321");
        assert_eq!(phone.to_string(), "139****4321");
        assert_eq!(format!("{phone:?}"), "Phone(139****4321)");
        assert_eq!(
            format!("{:?}", Some(vec![&phone])),
            "Some([Phone(139****4321)])"
        );
    }

    #[test]
    fn codes_are_six_digits_and_hidden_in_debug() {
        assert_eq!(OtpCode::parse(" 012345 ").unwrap().expose(), "012345");
        assert!(OtpCode::parse("12345").is_err());
        assert!(OtpCode::parse("12345a").is_err());
        assert!(OtpCode::parse("１２３４５６").is_err());
        assert_eq!(OtpCode::from_random(42).expose(), "000042");
        assert_eq!(OtpCode::from_random(u32::MAX).expose().len(), 6);
        assert_eq!(format!("{:?}", OtpCode::from_random(42)), "OtpCode(******)");
    }

    #[test]
    fn a_code_is_refused_when_expired_or_locked() {
        assert_eq!(otp_refusal(0, 1_000, 999), None);
        assert_eq!(otp_refusal(4, 1_000, 999), None);
        assert_eq!(otp_refusal(5, 1_000, 999), Some(OtpRefusal::Locked));
        assert_eq!(otp_refusal(0, 1_000, 1_000), Some(OtpRefusal::Expired));
    }

    #[test]
    fn sealed_data_and_indexes_do_not_print_their_bytes() {
        let sealed = SealedPii::from_bytes(b"13812345678".to_vec());
        assert_eq!(format!("{sealed:?}"), "SealedPii(11 bytes)");
        let index = BlindIndex::from_bytes(vec![0xab; 32]);
        assert_eq!(format!("{index:?}"), "BlindIndex(abababab…)");
        assert_eq!(index.to_hex().len(), 64);
    }
}
