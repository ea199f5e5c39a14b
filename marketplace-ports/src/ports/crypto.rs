//! Password hashing and secret tokens. Implemented outside the use cases so the algorithms (argon2id,
//! SHA-256, the OS random source) stay swappable and the use cases stay testable.

use async_trait::async_trait;

/// A hashing or randomness failure (never a wrong password: that is `verify_password → false`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("crypto failure: {0}")]
pub struct CryptoError(pub String);

/// Passwords and tokens.
#[async_trait]
pub trait Crypto: Send + Sync {
    /// Hashes a password for storage (argon2id in production). Slow on purpose.
    ///
    /// # Errors
    /// [`CryptoError`] when the hasher itself fails.
    async fn hash_password(&self, password: &str) -> Result<String, CryptoError>;

    /// Checks a password against a stored hash in constant time. A malformed hash is `false`.
    async fn verify_password(&self, password: &str, hash: &str) -> bool;

    /// A fresh random secret (at least 256 bits), URL-safe text.
    ///
    /// # Errors
    /// [`CryptoError`] when the OS random source fails.
    fn new_token(&self) -> Result<String, CryptoError>;

    /// A one-way digest of a token, for storing and looking it up without keeping the token.
    fn digest(&self, token: &str) -> String;

    /// Compares two secrets in constant time.
    fn secrets_match(&self, a: &str, b: &str) -> bool;
}
