//! The payment provider (Stripe) as a port: the calls we make, and the webhook events we accept.
//! Implemented by `adapter-stripe` against Stripe or its built-in simulator.

use std::collections::BTreeMap;

use async_trait::async_trait;
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::orders::{CheckoutPaymentStatus, ShippingAddress};
use time::OffsetDateTime;

/// Why a call to the payment provider failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The provider refused for a business reason (card declined, insufficient funds).
    #[error("{message}")]
    Declined {
        /// The provider's message.
        message: String,
    },
    /// Worth retrying later with the same idempotency key (network, 429, 5xx, lock contention).
    #[error("temporarily unavailable: {message}")]
    Transient {
        /// What happened.
        message: String,
    },
    /// The request itself was refused (bad parameter, missing object); retrying will not help.
    #[error("rejected ({code}): {message}")]
    Rejected {
        /// The provider's error code (`resource_missing`, `parameter_unknown`, …).
        code: String,
        /// Its message.
        message: String,
    },
}

impl PaymentError {
    /// True for errors a later retry may fix.
    pub fn is_transient(&self) -> bool {
        matches!(self, PaymentError::Transient { .. })
    }
}

/// One line of a Checkout Session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckoutLine {
    /// Product name shown to the buyer.
    pub name: String,
    /// Unit price.
    pub unit_amount: Cents,
    /// Quantity.
    pub quantity: u32,
}

/// A Checkout Session to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCheckoutSession {
    /// Currency of every line.
    pub currency: Currency,
    /// The lines (tax and shipping appear as lines when not zero).
    pub lines: Vec<CheckoutLine>,
    /// Where the buyer lands after paying (`{CHECKOUT_SESSION_ID}` is filled in by the provider).
    pub success_url: String,
    /// Where the buyer lands after giving up.
    pub cancel_url: String,
    /// Our order id (also the transfer group).
    pub client_reference_id: String,
    /// Metadata on the session and its payment intent (`order_id`, `order_token`).
    pub metadata: BTreeMap<String, String>,
    /// Groups the charge with the order's transfers.
    pub transfer_group: String,
    /// Pre-filled e-mail (guests).
    pub customer_email: Option<String>,
    /// Countries a shipping address may be in; `None` when nothing ships.
    pub shipping_countries: Option<Vec<String>>,
}

/// Where a Checkout Session stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckoutSessionStatus {
    /// The buyer can still pay on its page.
    Open,
    /// The buyer went through with it (the payment may still be settling).
    Complete,
    /// It expired unpaid.
    Expired,
    /// A status this version does not know.
    Other(String),
}

impl CheckoutSessionStatus {
    /// Parses Stripe's `status`.
    pub fn parse(text: &str) -> CheckoutSessionStatus {
        match text {
            "open" => CheckoutSessionStatus::Open,
            "complete" => CheckoutSessionStatus::Complete,
            "expired" => CheckoutSessionStatus::Expired,
            other => CheckoutSessionStatus::Other(other.to_owned()),
        }
    }
}

/// A Checkout Session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckoutSession {
    /// `cs_…`.
    pub id: String,
    /// Hosted payment page.
    pub url: Option<String>,
    /// Where it stands.
    pub status: CheckoutSessionStatus,
    /// Whether it was paid.
    pub payment_status: CheckoutPaymentStatus,
    /// The payment intent, once there is one.
    pub payment_intent: Option<String>,
    /// When it expires.
    pub expires_at: Option<OffsetDateTime>,
}

/// A payment intent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentIntent {
    /// `pi_…`.
    pub id: String,
    /// `succeeded`, `processing`, …
    pub status: String,
    /// The charge (transfers use it as `source_transaction`).
    pub latest_charge: Option<String>,
}

/// A transfer to a connected account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTransfer {
    /// Amount.
    pub amount: Cents,
    /// Currency.
    pub currency: Currency,
    /// `acct_…`.
    pub destination: String,
    /// The charge it is funded from.
    pub source_transaction: Option<String>,
    /// The order id.
    pub transfer_group: String,
    /// Metadata (`order_id`, `seller_id`, `payout_attempt`).
    pub metadata: BTreeMap<String, String>,
}

/// A created transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// `tr_…`.
    pub id: String,
    /// Amount.
    pub amount: Cents,
}

/// A transfer found at the provider by its transfer group: how a payout attempt whose outcome was
/// unknown finds the transfer it may have created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedTransfer {
    /// `tr_…`.
    pub id: String,
    /// Amount.
    pub amount: Cents,
    /// Its metadata (`order_id`, `seller_id`, `payout_attempt`).
    pub metadata: BTreeMap<String, String>,
}

/// A transfer reversal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferReversal {
    /// `trr_…`.
    pub id: String,
    /// Amount reversed.
    pub amount: Cents,
}

/// A refund to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRefund {
    /// The payment intent to refund.
    pub payment_intent: String,
    /// Amount.
    pub amount: Cents,
    /// Metadata (`order_id`, `order_item_id`, …).
    pub metadata: BTreeMap<String, String>,
}

/// Where a refund stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundStatus {
    /// Not settled yet.
    Pending,
    /// Waiting for the buyer to act.
    RequiresAction,
    /// The money went back to the buyer.
    Succeeded,
    /// It failed: the money stayed with us.
    Failed,
    /// It was canceled: the money stayed with us.
    Canceled,
    /// A status this version does not know (treated as not settled).
    Other(String),
}

impl RefundStatus {
    /// Parses Stripe's `status`.
    pub fn parse(text: &str) -> RefundStatus {
        match text {
            "pending" => RefundStatus::Pending,
            "requires_action" => RefundStatus::RequiresAction,
            "succeeded" => RefundStatus::Succeeded,
            "failed" => RefundStatus::Failed,
            "canceled" => RefundStatus::Canceled,
            other => RefundStatus::Other(other.to_owned()),
        }
    }

    /// Stripe's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::RequiresAction => "requires_action",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
            RefundStatus::Canceled => "canceled",
            RefundStatus::Other(other) => other,
        }
    }
}

/// Where a dispute stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisputeStatus {
    /// Closed in the buyer's favour: the money is gone.
    Lost,
    /// Closed in ours: the money is back.
    Won,
    /// Anything else (`needs_response`, `under_review`, `warning_*`, …), as Stripe spells it.
    Open(String),
}

impl DisputeStatus {
    /// Parses Stripe's `status`.
    pub fn parse(text: &str) -> DisputeStatus {
        match text {
            "lost" => DisputeStatus::Lost,
            "won" => DisputeStatus::Won,
            other => DisputeStatus::Open(other.to_owned()),
        }
    }

    /// Stripe's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            DisputeStatus::Lost => "lost",
            DisputeStatus::Won => "won",
            DisputeStatus::Open(other) => other,
        }
    }
}

/// A refund.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refund {
    /// `re_…`.
    pub id: String,
    /// Amount.
    pub amount: Cents,
    /// Where it stands.
    pub status: RefundStatus,
    /// Why it failed, when it did.
    pub failure_reason: Option<String>,
}

/// A connected (Express) account's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectedAccount {
    /// `acct_…`.
    pub id: String,
    /// Onboarding details submitted.
    pub details_submitted: bool,
    /// Charges enabled.
    pub charges_enabled: bool,
    /// Payouts enabled.
    pub payouts_enabled: bool,
}

/// The calls we make to the payment provider. Every creating call carries an idempotency key: the
/// same key always means the same request, so retries can never do a thing twice.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// Creates a Checkout Session.
    ///
    /// # Errors
    /// [`PaymentError`].
    async fn create_checkout_session(
        &self,
        session: &NewCheckoutSession,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, PaymentError>;
    /// Reads a Checkout Session.
    ///
    /// # Errors
    /// [`PaymentError::Rejected`] with `resource_missing` for an unknown id.
    async fn retrieve_checkout_session(&self, id: &str) -> Result<CheckoutSession, PaymentError>;
    /// Reads a payment intent (for its charge).
    ///
    /// # Errors
    /// [`PaymentError`].
    async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, PaymentError>;
    /// Transfers money to a connected account.
    ///
    /// # Errors
    /// [`PaymentError`].
    async fn create_transfer(
        &self,
        transfer: &NewTransfer,
        idempotency_key: &str,
    ) -> Result<Transfer, PaymentError>;
    /// The transfers of a transfer group (our order id), up to the provider's page size (100):
    /// before sending a payout attempt again, because the provider forgets idempotency keys after
    /// 24 hours.
    ///
    /// # Errors
    /// [`PaymentError`].
    async fn transfers_of_group(
        &self,
        transfer_group: &str,
    ) -> Result<Vec<ListedTransfer>, PaymentError>;
    /// Reverses (part of) a transfer.
    ///
    /// # Errors
    /// [`PaymentError`].
    async fn create_transfer_reversal(
        &self,
        transfer_id: &str,
        amount: Cents,
        idempotency_key: &str,
    ) -> Result<TransferReversal, PaymentError>;
    /// Refunds (part of) a payment.
    ///
    /// # Errors
    /// [`PaymentError`].
    async fn create_refund(
        &self,
        refund: &NewRefund,
        idempotency_key: &str,
    ) -> Result<Refund, PaymentError>;
    /// Lists the refunds of a charge (to catch up on refunds whose events we missed).
    ///
    /// # Errors
    /// [`PaymentError`].
    async fn charge_refunds(&self, charge_id: &str) -> Result<Vec<RefundData>, PaymentError>;
    /// Creates an Express connected account.
    ///
    /// # Errors
    /// [`PaymentError`].
    async fn create_express_account(
        &self,
        email: &str,
        country: &str,
        idempotency_key: &str,
    ) -> Result<ConnectedAccount, PaymentError>;
    /// Creates an onboarding link for a connected account.
    ///
    /// # Errors
    /// [`PaymentError`].
    async fn create_account_link(
        &self,
        account: &str,
        refresh_url: &str,
        return_url: &str,
    ) -> Result<String, PaymentError>;
    /// Reads a connected account.
    ///
    /// # Errors
    /// [`PaymentError`].
    async fn retrieve_account(&self, id: &str) -> Result<ConnectedAccount, PaymentError>;
}

/// Which webhook endpoint an event arrived at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookEndpoint {
    /// `/webhooks/stripe`: the platform's own events.
    Payments,
    /// `/webhooks/stripe/connect`: events of connected accounts.
    Connect,
}

impl WebhookEndpoint {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEndpoint::Payments => "payments",
            WebhookEndpoint::Connect => "connect",
        }
    }

    /// Parses [`WebhookEndpoint::as_str`].
    pub fn parse(text: &str) -> Option<WebhookEndpoint> {
        [WebhookEndpoint::Payments, WebhookEndpoint::Connect]
            .into_iter()
            .find(|e| e.as_str() == text)
    }
}

/// Why a webhook request was refused before anything was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No or malformed `Stripe-Signature` header.
    #[error("missing or malformed Stripe-Signature header")]
    MalformedSignature,
    /// No `v1` signature matches any of the endpoint's secrets.
    #[error("no signature matches")]
    SignatureMismatch,
    /// The timestamp is outside the tolerance.
    #[error("the signature timestamp is too old or in the future")]
    StaleTimestamp,
    /// The body is not a Stripe event.
    #[error("the body is not a Stripe event: {0}")]
    MalformedEvent(String),
}

/// A verified, parsed Stripe event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StripeEvent {
    /// `evt_…` (unique; used to de-duplicate).
    pub id: String,
    /// `checkout.session.completed`, ….
    pub event_type: String,
    /// When Stripe created the event.
    pub created: OffsetDateTime,
    /// Live or test mode.
    pub livemode: bool,
    /// The connected account (Connect events).
    pub account: Option<String>,
    /// What it says.
    pub payload: EventPayload,
}

/// The events we act on, typed; everything else is [`EventPayload::Ignored`] with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventPayload {
    /// `checkout.session.completed` (paid only when `payment_status` is `paid`).
    CheckoutCompleted(CheckoutSessionData),
    /// `checkout.session.async_payment_succeeded`.
    CheckoutAsyncSucceeded(CheckoutSessionData),
    /// `checkout.session.async_payment_failed`.
    CheckoutAsyncFailed(CheckoutSessionData),
    /// `checkout.session.expired`.
    CheckoutExpired(CheckoutSessionData),
    /// `charge.refunded` (cumulative; carries the refunds when expanded).
    ChargeRefunded(ChargeData),
    /// `refund.created` / `refund.updated`.
    RefundChanged(RefundData),
    /// `charge.dispute.created` / `charge.dispute.funds_withdrawn`.
    DisputeOpened(DisputeData),
    /// `charge.dispute.updated` (noted only).
    DisputeUpdated(DisputeData),
    /// `charge.dispute.funds_reinstated`: the dispute was won.
    DisputeReinstated(DisputeData),
    /// `charge.dispute.closed`.
    DisputeClosed(DisputeData),
    /// `account.updated`.
    AccountUpdated(ConnectedAccount),
    /// A type we do not act on.
    Ignored {
        /// Why it is ignored.
        reason: String,
    },
    /// A genuine event whose amounts cannot be taken as they are (they overflow when added): it is
    /// recorded and refused, never booked.
    Rejected {
        /// Why.
        reason: String,
    },
}

/// The parts of a Checkout Session we use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckoutSessionData {
    /// `cs_…`.
    pub id: String,
    /// Where it stands.
    pub status: CheckoutSessionStatus,
    /// Whether it was paid.
    pub payment_status: CheckoutPaymentStatus,
    /// Payment intent.
    pub payment_intent: Option<String>,
    /// Amount charged.
    pub amount_total: Option<Cents>,
    /// Its currency.
    pub currency: Option<String>,
    /// Our order id (`metadata.order_id`, else `client_reference_id`).
    pub order_id: Option<String>,
    /// Shipping address, when collected.
    pub shipping: Option<ShippingAddress>,
    /// The buyer's e-mail.
    pub customer_email: Option<String>,
}

/// The parts of a refund we use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundData {
    /// `re_…`.
    pub id: String,
    /// Amount.
    pub amount: Cents,
    /// Where it stands.
    pub status: RefundStatus,
    /// The charge.
    pub charge: Option<String>,
    /// The payment intent.
    pub payment_intent: Option<String>,
    /// `metadata.order_id` (our refunds).
    pub order_id: Option<String>,
    /// `metadata.order_item_id` (our refunds name their line).
    pub order_item_id: Option<String>,
    /// `metadata.refund_request_id` (refunds of buyers' refund requests).
    pub refund_request_id: Option<String>,
    /// `metadata.refund_attempt`: which attempt of that request it is.
    pub refund_attempt: Option<u32>,
    /// Why it failed (`failure_reason`), for a failed refund.
    pub failure_reason: Option<String>,
    /// Its currency, as Stripe spells it (`usd`).
    pub currency: Option<String>,
    /// When Stripe created it.
    pub created: OffsetDateTime,
}

/// The parts of a charge we use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChargeData {
    /// `ch_…`.
    pub id: String,
    /// The payment intent.
    pub payment_intent: Option<String>,
    /// Amount charged.
    pub amount: Cents,
    /// Cumulative amount refunded.
    pub amount_refunded: Cents,
    /// The refunds, when the list is present.
    pub refunds: Vec<RefundData>,
}

/// The parts of a dispute we use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisputeData {
    /// `dp_…`.
    pub id: String,
    /// Disputed amount.
    pub amount: Cents,
    /// Σ fees of its balance transactions (Stripe's dispute fee).
    pub fee: Cents,
    /// Where it stands.
    pub status: DisputeStatus,
    /// The charge.
    pub charge: Option<String>,
    /// The payment intent.
    pub payment_intent: Option<String>,
    /// Its currency, as Stripe spells it.
    pub currency: Option<String>,
    /// When it was created.
    pub created: OffsetDateTime,
}

/// Verifies and parses webhook requests.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait WebhookVerifier: Send + Sync {
    /// Checks the `Stripe-Signature` header against the endpoint's secrets (any `v1` may match,
    /// compared in constant time; the timestamp must be within the tolerance of `now`), then
    /// parses the raw body.
    ///
    /// # Errors
    /// [`WebhookError`]; nothing must be recorded or applied then.
    fn verify(
        &self,
        endpoint: WebhookEndpoint,
        payload: &[u8],
        signature_header: &str,
        now: OffsetDateTime,
    ) -> Result<StripeEvent, WebhookError>;
    /// Parses a body verified when it arrived (an owner processing a kept event again).
    ///
    /// # Errors
    /// [`WebhookError::MalformedEvent`].
    fn parse(&self, payload: &[u8]) -> Result<StripeEvent, WebhookError>;
}
