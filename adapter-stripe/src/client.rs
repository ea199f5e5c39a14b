//! Our Stripe client: form-encoded requests with a pinned `Stripe-Version`, an `Idempotency-Key` on
//! every POST, `Stripe-Account` when acting for a connected account, a timeout per attempt, and
//! retries with jittered exponential backoff on network errors, 409 (idempotency races), 429 and
//! 5xx — unless Stripe says `Stripe-Should-Retry: false` — always reusing the same key.

use std::time::Duration;

use async_trait::async_trait;
use marketplace_domain::money::Cents;
use marketplace_ports::ports::{
    CheckoutSession, ConnectedAccount, ListedTransfer, NewCheckoutSession, NewRefund, NewTransfer,
    PaymentError, PaymentGateway, PaymentIntent, Refund, RefundData, Transfer, TransferReversal,
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::requests::{self, Method, StripeRequest};
use crate::wire::{
    AccountLinkWire, AccountWire, ChargeWire, ErrorBody, ListWire, PaymentIntentWire, RefundWire,
    SessionWire, TransferWire,
};

/// The API version every request pins (the version of our fixtures and event parsing).
pub const API_VERSION: &str = "2026-07-29.dahlia";

/// How the client talks to Stripe.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `https://api.stripe.com` or the simulator's address.
    pub base_url: String,
    /// The secret key.
    pub secret_key: String,
    /// Limit of one attempt.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay (doubles, with jitter, capped at 8 s).
    pub backoff: Duration,
}

impl ClientConfig {
    /// Production defaults against `base_url`.
    pub fn new(base_url: impl Into<String>, secret_key: impl Into<String>) -> ClientConfig {
        ClientConfig {
            base_url: base_url.into(),
            secret_key: secret_key.into(),
            timeout: Duration::from_secs(30),
            max_retries: 3,
            backoff: Duration::from_millis(500),
        }
    }
}

/// The Stripe API client.
#[derive(Clone, Debug)]
pub struct StripeClient {
    http: reqwest::Client,
    config: ClientConfig,
}

/// Why one attempt failed.
enum Attempt {
    Retry(String),
    Fail(PaymentError),
}

impl StripeClient {
    /// Builds a client.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS setup).
    pub fn new(config: ClientConfig) -> Result<StripeClient, PaymentError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| PaymentError::Transient {
                message: e.to_string(),
            })?;
        Ok(StripeClient { http, config })
    }

    /// Sends a request (retrying as described above) and parses the response into `T`.
    async fn send<T: DeserializeOwned>(
        &self,
        request: &StripeRequest,
        idempotency_key: Option<&str>,
        account: Option<&str>,
    ) -> Result<T, PaymentError> {
        let mut last = String::new();
        for attempt in 0..=self.config.max_retries {
            if attempt > 0 {
                tokio::time::sleep(self.delay(attempt)).await;
            }
            match self.attempt(request, idempotency_key, account).await {
                Ok(body) => {
                    // Stripe did the work but we cannot read its answer: the outcome is unknown,
                    // so it is retried later with the same idempotency key, never taken as a
                    // refusal (a new attempt with a new key could do it twice).
                    return serde_json::from_slice(&body).map_err(|e| PaymentError::Transient {
                        message: format!(
                            "{} answered in an unexpected shape: {e}",
                            request.endpoint
                        ),
                    });
                }
                Err(Attempt::Fail(error)) => return Err(error),
                Err(Attempt::Retry(reason)) => {
                    tracing::warn!(endpoint = request.endpoint, attempt, %reason, "Stripe request failed; retrying");
                    last = reason;
                }
            }
        }
        Err(PaymentError::Transient {
            message: format!("{}: {last}", request.endpoint),
        })
    }

    async fn attempt(
        &self,
        request: &StripeRequest,
        idempotency_key: Option<&str>,
        account: Option<&str>,
    ) -> Result<Vec<u8>, Attempt> {
        let url = format!(
            "{}{}",
            self.config.base_url.trim_end_matches('/'),
            request.path
        );
        let pairs = request.form.pairs();
        let mut builder = match request.method {
            Method::Get => self.http.get(&url).query(&pairs),
            Method::Post => self.http.post(&url).form(&pairs),
        };
        builder = builder
            .bearer_auth(&self.config.secret_key)
            .header("Stripe-Version", API_VERSION);
        if let Some(key) = idempotency_key {
            builder = builder.header("Idempotency-Key", key);
        }
        if let Some(account) = account {
            builder = builder.header("Stripe-Account", account);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| Attempt::Retry(format!("network error: {e}")))?;
        let status = response.status();
        let should_retry = response
            .headers()
            .get("Stripe-Should-Retry")
            .and_then(|v| v.to_str().ok())
            .map(|v| v == "true");
        let body = response
            .bytes()
            .await
            .map_err(|e| Attempt::Retry(format!("reading the response: {e}")))?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        let error: ErrorBody = serde_json::from_slice(&body).unwrap_or_default();
        let message = error
            .error
            .message
            .clone()
            .unwrap_or_else(|| format!("HTTP {status}"));
        let retryable_status = status == StatusCode::CONFLICT
            || status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error();
        if should_retry.unwrap_or(retryable_status) {
            return Err(Attempt::Retry(format!("HTTP {status}: {message}")));
        }
        Err(Attempt::Fail(match error.error.error_type.as_str() {
            "card_error" => PaymentError::Declined { message },
            _ if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() => {
                PaymentError::Transient { message }
            }
            _ => PaymentError::Rejected {
                code: error
                    .error
                    .code
                    .unwrap_or_else(|| format!("http_{}", status.as_u16())),
                message,
            },
        }))
    }

    /// `backoff × 2^(attempt−1)` plus up to 50 % jitter, at most 8 s.
    fn delay(&self, attempt: u32) -> Duration {
        let base = self
            .config
            .backoff
            .saturating_mul(2_u32.saturating_pow(attempt.saturating_sub(1)));
        let base = base.min(Duration::from_secs(8));
        // Up to half the delay again, so many clients retrying at once spread out.
        let random = uuid::Uuid::new_v4().as_u128();
        let spread = base.as_millis() / 2 + 1;
        let jitter_ms = u64::try_from(random % spread).unwrap_or(0);
        base + Duration::from_millis(jitter_ms)
    }
}

#[async_trait]
impl PaymentGateway for StripeClient {
    async fn create_checkout_session(
        &self,
        session: &NewCheckoutSession,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, PaymentError> {
        let wire: SessionWire = self
            .send(
                &requests::create_checkout_session(session),
                Some(idempotency_key),
                None,
            )
            .await?;
        Ok(wire.into_session())
    }

    async fn retrieve_checkout_session(&self, id: &str) -> Result<CheckoutSession, PaymentError> {
        let wire: SessionWire = self
            .send(&requests::retrieve_checkout_session(id), None, None)
            .await?;
        Ok(wire.into_session())
    }

    async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, PaymentError> {
        let wire: PaymentIntentWire = self
            .send(&requests::retrieve_payment_intent(id), None, None)
            .await?;
        Ok(wire.into_intent())
    }

    async fn create_transfer(
        &self,
        transfer: &NewTransfer,
        idempotency_key: &str,
    ) -> Result<Transfer, PaymentError> {
        let wire: TransferWire = self
            .send(
                &requests::create_transfer(transfer),
                Some(idempotency_key),
                None,
            )
            .await?;
        Ok(Transfer {
            id: wire.id,
            amount: Cents::new(wire.amount),
        })
    }

    async fn transfers_of_group(
        &self,
        transfer_group: &str,
    ) -> Result<Vec<ListedTransfer>, PaymentError> {
        let wire: ListWire<TransferWire> = self
            .send(
                &requests::list_transfers_of_group(transfer_group),
                None,
                None,
            )
            .await?;
        Ok(wire
            .data
            .into_iter()
            .map(|t| ListedTransfer {
                id: t.id,
                amount: Cents::new(t.amount),
                metadata: t.metadata,
            })
            .collect())
    }

    async fn create_transfer_reversal(
        &self,
        transfer_id: &str,
        amount: Cents,
        idempotency_key: &str,
    ) -> Result<TransferReversal, PaymentError> {
        let wire: TransferWire = self
            .send(
                &requests::create_transfer_reversal(transfer_id, amount),
                Some(idempotency_key),
                None,
            )
            .await?;
        Ok(TransferReversal {
            id: wire.id,
            amount: Cents::new(wire.amount),
        })
    }

    async fn create_refund(
        &self,
        refund: &NewRefund,
        idempotency_key: &str,
    ) -> Result<Refund, PaymentError> {
        let wire: RefundWire = self
            .send(
                &requests::create_refund(refund),
                Some(idempotency_key),
                None,
            )
            .await?;
        let data = wire.into_data();
        Ok(Refund {
            id: data.id,
            amount: data.amount,
            status: data.status,
            failure_reason: data.failure_reason,
        })
    }

    async fn charge_refunds(&self, charge_id: &str) -> Result<Vec<RefundData>, PaymentError> {
        let wire: ChargeWire = self
            .send(
                &requests::retrieve_charge_with_refunds(charge_id),
                None,
                None,
            )
            .await?;
        Ok(wire.into_data().refunds)
    }

    async fn create_express_account(
        &self,
        email: &str,
        country: &str,
        idempotency_key: &str,
    ) -> Result<ConnectedAccount, PaymentError> {
        let wire: AccountWire = self
            .send(
                &requests::create_express_account(email, country),
                Some(idempotency_key),
                None,
            )
            .await?;
        Ok(wire.into_account())
    }

    async fn create_account_link(
        &self,
        account: &str,
        refresh_url: &str,
        return_url: &str,
    ) -> Result<String, PaymentError> {
        // Account links are single-use and short-lived: a fresh key each time is right.
        let key = format!("account-link:{account}:{}", uuid::Uuid::new_v4());
        let wire: AccountLinkWire = self
            .send(
                &requests::create_account_link(account, refresh_url, return_url),
                Some(&key),
                None,
            )
            .await?;
        Ok(wire.url)
    }

    async fn retrieve_account(&self, id: &str) -> Result<ConnectedAccount, PaymentError> {
        let wire: AccountWire = self
            .send(&requests::retrieve_account(id), None, None)
            .await?;
        Ok(wire.into_account())
    }
}
