//! Signing webhook deliveries the way Stripe does: `Stripe-Signature: t={timestamp},v1={hex}` where
//! the hex is HMAC-SHA256 over `"{timestamp}.{body}"` with the endpoint's secret.
//!
//! This is written here again rather than borrowed from the app's Stripe adapter on purpose: the
//! simulator stands in for Stripe, so a mistake in the adapter's verification must not be mirrored
//! by the thing it is tested against.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The `Stripe-Signature` header for `payload` signed with `secret` at `timestamp` (Unix seconds).
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC accepts keys of any length; an unsigned header is refused by any verifier.
        return format!("t={timestamp}");
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}
