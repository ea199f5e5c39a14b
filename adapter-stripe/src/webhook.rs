//! Webhook signatures: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, where each `v1` is the
//! lower-case hex HMAC-SHA256 of `"{t}.{raw body}"` with the endpoint's secret. Any `v1` matching any
//! configured secret passes (secret rotation); comparison is constant time; timestamps older (or
//! newer) than the tolerance are refused. `v0` entries are ignored.

use hmac::{Hmac, Mac};
use marketplace_ports::ports::{StripeEvent, WebhookEndpoint, WebhookError, WebhookVerifier};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

use crate::wire::parse_event;

type HmacSha256 = Hmac<Sha256>;

/// Stripe's default tolerance.
pub const DEFAULT_TOLERANCE: Duration = Duration::seconds(300);

/// Checks a signature header against the payload.
///
/// # Errors
/// [`WebhookError::MalformedSignature`], [`WebhookError::SignatureMismatch`] or
/// [`WebhookError::StaleTimestamp`].
pub fn verify_signature(
    payload: &[u8],
    header: &str,
    secrets: &[String],
    tolerance: Duration,
    now: OffsetDateTime,
) -> Result<(), WebhookError> {
    let mut timestamp: Option<i64> = None;
    let mut signatures: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" => timestamp = value.parse().ok(),
            "v1" => {
                if let Ok(bytes) = hex::decode(value) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::MalformedSignature)?;
    if signatures.is_empty() {
        return Err(WebhookError::MalformedSignature);
    }
    let signed_prefix = format!("{timestamp}.");
    let matches = secrets.iter().filter(|s| !s.is_empty()).any(|secret| {
        signatures.iter().any(|signature| {
            HmacSha256::new_from_slice(secret.as_bytes()).is_ok_and(|mut mac| {
                mac.update(signed_prefix.as_bytes());
                mac.update(payload);
                // `verify_slice` compares in constant time.
                mac.verify_slice(signature).is_ok()
            })
        })
    });
    if !matches {
        return Err(WebhookError::SignatureMismatch);
    }
    let age = now
        - OffsetDateTime::from_unix_timestamp(timestamp)
            .map_err(|_| WebhookError::StaleTimestamp)?;
    if age.abs() > tolerance {
        return Err(WebhookError::StaleTimestamp);
    }
    Ok(())
}

/// The `Stripe-Signature` header for a payload (tests sign deliveries of their own with it).
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC accepts keys of any length; this branch cannot be taken.
        Err(_) => return format!("t={timestamp}"),
    };
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(payload);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Verifies and parses deliveries to our two endpoints, each with its own secrets.
#[derive(Clone, Debug)]
pub struct StripeWebhooks {
    payments_secrets: Vec<String>,
    connect_secrets: Vec<String>,
    tolerance: Duration,
}

impl StripeWebhooks {
    /// Secrets per endpoint (several during a rotation), default tolerance.
    pub fn new(payments_secrets: Vec<String>, connect_secrets: Vec<String>) -> StripeWebhooks {
        StripeWebhooks {
            payments_secrets,
            connect_secrets,
            tolerance: DEFAULT_TOLERANCE,
        }
    }
}

impl WebhookVerifier for StripeWebhooks {
    fn verify(
        &self,
        endpoint: WebhookEndpoint,
        payload: &[u8],
        signature_header: &str,
        now: OffsetDateTime,
    ) -> Result<StripeEvent, WebhookError> {
        let secrets = match endpoint {
            WebhookEndpoint::Payments => &self.payments_secrets,
            WebhookEndpoint::Connect => &self.connect_secrets,
        };
        verify_signature(payload, signature_header, secrets, self.tolerance, now)?;
        self.parse(payload)
    }

    fn parse(&self, payload: &[u8]) -> Result<StripeEvent, WebhookError> {
        parse_event(payload).map_err(WebhookError::MalformedEvent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"evt_1","type":"x","created":1,"data":{"object":{}}}"#;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn secrets(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_valid_signature_passes() {
        let header = sign(BODY, "whsec_a", 1_800_000_000);
        assert_eq!(
            verify_signature(
                BODY,
                &header,
                &secrets(&["whsec_a"]),
                DEFAULT_TOLERANCE,
                now()
            ),
            Ok(())
        );
    }

    #[test]
    fn the_wrong_secret_or_a_changed_body_fails() {
        let header = sign(BODY, "whsec_a", 1_800_000_000);
        assert_eq!(
            verify_signature(
                BODY,
                &header,
                &secrets(&["whsec_b"]),
                DEFAULT_TOLERANCE,
                now()
            ),
            Err(WebhookError::SignatureMismatch)
        );
        assert_eq!(
            verify_signature(
                b"{}",
                &header,
                &secrets(&["whsec_a"]),
                DEFAULT_TOLERANCE,
                now()
            ),
            Err(WebhookError::SignatureMismatch)
        );
    }

    #[test]
    fn a_stale_or_future_timestamp_fails() {
        let old = sign(BODY, "whsec_a", 1_800_000_000 - 301);
        assert_eq!(
            verify_signature(BODY, &old, &secrets(&["whsec_a"]), DEFAULT_TOLERANCE, now()),
            Err(WebhookError::StaleTimestamp)
        );
        let future = sign(BODY, "whsec_a", 1_800_000_000 + 301);
        assert_eq!(
            verify_signature(
                BODY,
                &future,
                &secrets(&["whsec_a"]),
                DEFAULT_TOLERANCE,
                now()
            ),
            Err(WebhookError::StaleTimestamp)
        );
        let edge = sign(BODY, "whsec_a", 1_800_000_000 - 300);
        assert_eq!(
            verify_signature(
                BODY,
                &edge,
                &secrets(&["whsec_a"]),
                DEFAULT_TOLERANCE,
                now()
            ),
            Ok(())
        );
    }

    #[test]
    fn any_of_several_v1_signatures_and_secrets_may_match() {
        let good = sign(BODY, "whsec_new", 1_800_000_000);
        let v1 = good.split(",v1=").nth(1).unwrap();
        let header = format!("t=1800000000,v0=deadbeef,v1={},v1={v1}", "ab".repeat(32));
        assert_eq!(
            verify_signature(
                BODY,
                &header,
                &secrets(&["whsec_old", "whsec_new"]),
                DEFAULT_TOLERANCE,
                now()
            ),
            Ok(())
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        for header in [
            "",
            "t=abc,v1=00",
            "v1=00",
            "t=1800000000",
            "t=1800000000,v1=zz",
            "garbage",
        ] {
            assert_eq!(
                verify_signature(
                    BODY,
                    header,
                    &secrets(&["whsec_a"]),
                    DEFAULT_TOLERANCE,
                    now()
                ),
                Err(WebhookError::MalformedSignature),
                "{header:?}"
            );
        }
    }
}
