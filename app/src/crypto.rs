//! The production [`Crypto`]: argon2id password hashes (OWASP parameters, computed off the async
//! threads), 256-bit random tokens from the OS, SHA-256 digests for stored tokens, constant-time
//! comparison.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use marketplace_ports::ports::{Crypto, CryptoError};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// argon2id with m = 19 MiB, t = 2, p = 1 (OWASP's recommendation).
#[derive(Clone, Copy, Debug, Default)]
pub struct Argon2Crypto;

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

#[async_trait]
impl Crypto for Argon2Crypto {
    async fn hash_password(&self, password: &str) -> Result<String, CryptoError> {
        let password = password.to_owned();
        let mut salt = [0_u8; 16];
        getrandom::getrandom(&mut salt).map_err(|e| CryptoError(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::encode_b64(&salt).map_err(|e| CryptoError(e.to_string()))?;
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| CryptoError(e.to_string()))
        })
        .await
        .map_err(|e| CryptoError(e.to_string()))?
    }

    async fn verify_password(&self, password: &str, hash: &str) -> bool {
        let password = password.to_owned();
        let hash = hash.to_owned();
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    argon2()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }

    fn new_token(&self) -> Result<String, CryptoError> {
        let mut bytes = [0_u8; 32];
        getrandom::getrandom(&mut bytes).map_err(|e| CryptoError(e.to_string()))?;
        Ok(hex::encode(bytes))
    }

    fn digest(&self, token: &str) -> String {
        hex::encode(Sha256::digest(token.as_bytes()))
    }

    fn secrets_match(&self, a: &str, b: &str) -> bool {
        a.as_bytes().ct_eq(b.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let crypto = Argon2Crypto;
        let hash = crypto.hash_password("Tr1cky-Sailboat").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(crypto.verify_password("Tr1cky-Sailboat", &hash).await);
        assert!(!crypto.verify_password("tr1cky-sailboat", &hash).await);
        assert!(!crypto.verify_password("anything", "not a hash").await);
        assert_ne!(
            hash,
            crypto.hash_password("Tr1cky-Sailboat").await.unwrap(),
            "salted"
        );
    }

    #[test]
    fn tokens_are_long_random_and_digests_stable() {
        let crypto = Argon2Crypto;
        let a = crypto.new_token().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, crypto.new_token().unwrap());
        assert_eq!(crypto.digest("abc"), crypto.digest("abc"));
        assert_ne!(crypto.digest("abc"), "abc");
        assert!(crypto.secrets_match("same", "same"));
        assert!(!crypto.secrets_match("same", "samf"));
        assert!(!crypto.secrets_match("same", "same-longer"));
    }
}
