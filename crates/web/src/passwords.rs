//! Password hashing with argon2id, off the async threads because it is slow on purpose.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn hasher(fast: bool) -> Argon2<'static> {
    let params = if fast {
        Params::new(1024, 1, 1, None).expect("valid test params")
    } else {
        Params::default()
    };
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$…`) with a fresh random salt.
pub async fn hash(password: String, fast: bool) -> String {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        hasher(fast)
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 hashing cannot fail with valid params")
            .to_string()
    })
    .await
    .expect("hashing task")
}

/// Checks a password against a stored PHC string; the parameters come from the string.
pub async fn verify(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || match PasswordHash::new(&phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    })
    .await
    .unwrap_or(false)
}

/// A hash of nothing in particular, verified when the login name is unknown so that
/// "no such user" takes as long as "wrong password".
pub fn decoy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$wP4UO3dXuHSnGNJv4Fa8ezK0y7HGSTGY6gAqL3rCWp8"
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn verifies_only_the_right_password() {
        let phc = super::hash("饺子123".into(), true).await;
        assert!(phc.starts_with("$argon2id$"));
        assert!(super::verify("饺子123".into(), phc.clone()).await);
        assert!(!super::verify("饺子124".into(), phc).await);
        assert!(!super::verify("x".into(), "not a hash".into()).await);
    }
}
