//! Stripe's JSON shapes (only the fields we read) and their conversion into the ports' types.
//! Every field is optional or defaulted where Stripe may omit it, so an unexpected shape becomes a
//! clear error instead of a panic.

use std::collections::{BTreeMap, HashMap};

use marketplace_domain::money::Cents;
use marketplace_domain::orders::{CheckoutPaymentStatus, ShippingAddress};
use marketplace_ports::ports::{
    ChargeData, CheckoutSession, CheckoutSessionData, CheckoutSessionStatus, ConnectedAccount,
    DisputeData, DisputeStatus, EventPayload, PaymentIntent, RefundData, RefundStatus, StripeEvent,
};
use serde::Deserialize;
use time::OffsetDateTime;

/// An id, or the expanded object carrying it.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Expandable {
    Id(String),
    Object { id: String },
}

impl Expandable {
    fn id(self) -> String {
        match self {
            Expandable::Id(id) | Expandable::Object { id } => id,
        }
    }
}

fn id_of(value: Option<Expandable>) -> Option<String> {
    value.map(Expandable::id)
}

fn timestamp(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[derive(Debug, Deserialize)]
pub(crate) struct EventWire {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) event_type: String,
    pub(crate) created: i64,
    #[serde(default)]
    pub(crate) livemode: bool,
    #[serde(default)]
    pub(crate) account: Option<String>,
    pub(crate) data: EventData,
}

#[derive(Debug, Deserialize)]
pub(crate) struct EventData {
    pub(crate) object: serde_json::Value,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AddressWire {
    line1: Option<String>,
    line2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ShippingWire {
    name: Option<String>,
    phone: Option<String>,
    address: Option<AddressWire>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CollectedWire {
    shipping_details: Option<ShippingWire>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CustomerDetailsWire {
    email: Option<String>,
    phone: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SessionWire {
    id: String,
    url: Option<String>,
    status: Option<String>,
    payment_status: Option<String>,
    payment_intent: Option<Expandable>,
    amount_total: Option<i64>,
    currency: Option<String>,
    #[serde(default)]
    metadata: Option<HashMap<String, String>>,
    client_reference_id: Option<String>,
    expires_at: Option<i64>,
    collected_information: Option<CollectedWire>,
    /// Older API versions put the address here.
    shipping_details: Option<ShippingWire>,
    customer_details: Option<CustomerDetailsWire>,
    customer_email: Option<String>,
}

impl SessionWire {
    pub(crate) fn into_session(self) -> CheckoutSession {
        CheckoutSession {
            id: self.id,
            url: self.url,
            status: CheckoutSessionStatus::parse(&self.status.unwrap_or_default()),
            payment_status: CheckoutPaymentStatus::parse(&self.payment_status.unwrap_or_default()),
            payment_intent: id_of(self.payment_intent),
            expires_at: self.expires_at.map(timestamp),
        }
    }

    fn into_data(self) -> CheckoutSessionData {
        let phone = self.customer_details.as_ref().and_then(|c| c.phone.clone());
        let shipping = self
            .collected_information
            .and_then(|c| c.shipping_details)
            .or(self.shipping_details)
            .and_then(|s| {
                let address = s.address.unwrap_or_default();
                address.line1.as_ref()?;
                Some(ShippingAddress {
                    name: s.name.unwrap_or_default(),
                    phone: s.phone.or(phone).unwrap_or_default(),
                    line1: address.line1.unwrap_or_default(),
                    line2: address.line2.unwrap_or_default(),
                    city: address.city.unwrap_or_default(),
                    state: address.state.unwrap_or_default(),
                    postal_code: address.postal_code.unwrap_or_default(),
                    country: address.country.unwrap_or_default(),
                })
            });
        let order_id = self
            .metadata
            .as_ref()
            .and_then(|m| m.get("order_id").cloned())
            .or(self.client_reference_id);
        CheckoutSessionData {
            id: self.id,
            status: CheckoutSessionStatus::parse(&self.status.unwrap_or_default()),
            payment_status: CheckoutPaymentStatus::parse(&self.payment_status.unwrap_or_default()),
            payment_intent: id_of(self.payment_intent),
            amount_total: self.amount_total.map(Cents::new),
            currency: self.currency,
            order_id,
            shipping,
            customer_email: self
                .customer_details
                .and_then(|c| c.email)
                .or(self.customer_email),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct PaymentIntentWire {
    id: String,
    status: Option<String>,
    latest_charge: Option<Expandable>,
}

impl PaymentIntentWire {
    pub(crate) fn into_intent(self) -> PaymentIntent {
        PaymentIntent {
            id: self.id,
            status: self.status.unwrap_or_default(),
            latest_charge: id_of(self.latest_charge),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RefundWire {
    id: String,
    amount: i64,
    status: Option<String>,
    charge: Option<Expandable>,
    payment_intent: Option<Expandable>,
    #[serde(default)]
    metadata: Option<HashMap<String, String>>,
    currency: Option<String>,
    created: i64,
    failure_reason: Option<String>,
}

impl RefundWire {
    pub(crate) fn into_data(self) -> RefundData {
        let metadata = self.metadata.unwrap_or_default();
        RefundData {
            id: self.id,
            amount: Cents::new(self.amount),
            status: RefundStatus::parse(&self.status.unwrap_or_default()),
            charge: id_of(self.charge),
            payment_intent: id_of(self.payment_intent),
            order_id: metadata.get("order_id").cloned(),
            order_item_id: metadata.get("order_item_id").cloned(),
            refund_request_id: metadata.get("refund_request_id").cloned(),
            refund_attempt: metadata.get("refund_attempt").and_then(|n| n.parse().ok()),
            failure_reason: self.failure_reason,
            currency: self.currency,
            created: timestamp(self.created),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListWire<T> {
    #[serde(default = "Vec::new")]
    pub(crate) data: Vec<T>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChargeWire {
    id: String,
    payment_intent: Option<Expandable>,
    amount: i64,
    #[serde(default)]
    amount_refunded: i64,
    refunds: Option<ListWire<RefundWire>>,
}

impl ChargeWire {
    pub(crate) fn into_data(self) -> ChargeData {
        ChargeData {
            id: self.id,
            payment_intent: id_of(self.payment_intent),
            amount: Cents::new(self.amount),
            amount_refunded: Cents::new(self.amount_refunded),
            refunds: self
                .refunds
                .map(|l| l.data)
                .unwrap_or_default()
                .into_iter()
                .map(RefundWire::into_data)
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct BalanceTransactionWire {
    #[serde(default)]
    fee: i64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DisputeWire {
    id: String,
    amount: i64,
    status: Option<String>,
    charge: Option<Expandable>,
    payment_intent: Option<Expandable>,
    #[serde(default)]
    balance_transactions: Vec<BalanceTransactionWire>,
    currency: Option<String>,
    created: i64,
}

impl DisputeWire {
    /// The dispute, with its fee summed over its balance transactions in checked arithmetic.
    ///
    /// # Errors
    /// The fees overflow: the event is rejected, not booked.
    fn into_data(self) -> Result<DisputeData, String> {
        let fee = Cents::sum(self.balance_transactions.iter().map(|b| Cents::new(b.fee)))
            .map_err(|e| format!("dispute {}: its fees do not add up: {e}", self.id))?;
        Ok(DisputeData {
            id: self.id,
            amount: Cents::new(self.amount),
            fee,
            status: DisputeStatus::parse(&self.status.unwrap_or_default()),
            charge: id_of(self.charge),
            payment_intent: id_of(self.payment_intent),
            currency: self.currency,
            created: timestamp(self.created),
        })
    }
}

/// A dispute event's payload, or the reason it is rejected.
fn dispute(
    value: serde_json::Value,
    typed: fn(DisputeData) -> EventPayload,
) -> Result<EventPayload, String> {
    Ok(match object::<DisputeWire>(value)?.into_data() {
        Ok(dispute) => typed(dispute),
        Err(reason) => EventPayload::Rejected { reason },
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct AccountWire {
    id: String,
    #[serde(default)]
    details_submitted: bool,
    #[serde(default)]
    charges_enabled: bool,
    #[serde(default)]
    payouts_enabled: bool,
}

impl AccountWire {
    pub(crate) fn into_account(self) -> ConnectedAccount {
        ConnectedAccount {
            id: self.id,
            details_submitted: self.details_submitted,
            charges_enabled: self.charges_enabled,
            payouts_enabled: self.payouts_enabled,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct TransferWire {
    pub(crate) id: String,
    pub(crate) amount: i64,
    #[serde(default)]
    pub(crate) metadata: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AccountLinkWire {
    pub(crate) url: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) error: ErrorWire,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorWire {
    #[serde(rename = "type", default)]
    pub(crate) error_type: String,
    #[serde(default)]
    pub(crate) code: Option<String>,
    #[serde(default)]
    pub(crate) message: Option<String>,
}

fn object<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// The payload of an event, typed; types we do not act on are [`EventPayload::Ignored`].
///
/// # Errors
/// The object does not have the shape its type promises.
pub(crate) fn payload(event_type: &str, value: serde_json::Value) -> Result<EventPayload, String> {
    Ok(match event_type {
        "checkout.session.completed" => {
            EventPayload::CheckoutCompleted(object::<SessionWire>(value)?.into_data())
        }
        "checkout.session.async_payment_succeeded" => {
            EventPayload::CheckoutAsyncSucceeded(object::<SessionWire>(value)?.into_data())
        }
        "checkout.session.async_payment_failed" => {
            EventPayload::CheckoutAsyncFailed(object::<SessionWire>(value)?.into_data())
        }
        "checkout.session.expired" => {
            EventPayload::CheckoutExpired(object::<SessionWire>(value)?.into_data())
        }
        "charge.refunded" => EventPayload::ChargeRefunded(object::<ChargeWire>(value)?.into_data()),
        "refund.created" | "refund.updated" => {
            EventPayload::RefundChanged(object::<RefundWire>(value)?.into_data())
        }
        "charge.dispute.created" | "charge.dispute.funds_withdrawn" => {
            dispute(value, EventPayload::DisputeOpened)?
        }
        "charge.dispute.updated" => dispute(value, EventPayload::DisputeUpdated)?,
        "charge.dispute.funds_reinstated" => dispute(value, EventPayload::DisputeReinstated)?,
        "charge.dispute.closed" => dispute(value, EventPayload::DisputeClosed)?,
        "account.updated" => {
            EventPayload::AccountUpdated(object::<AccountWire>(value)?.into_account())
        }
        other => EventPayload::Ignored {
            reason: format!("{other} events are not handled"),
        },
    })
}

/// Keys whose values are Stripe identifiers or codes: short (Stripe's own ids are well under 255
/// characters), stored and indexed by us, so longer ones are refused before they reach storage.
const IDENTIFIER_KEYS: &[&str] = &[
    "id",
    "object",
    "type",
    "account",
    "charge",
    "payment_intent",
    "latest_charge",
    "customer",
    "status",
    "payment_status",
    "currency",
    "reason",
    "api_version",
];

/// The longest identifier accepted.
const MAX_IDENTIFIER: usize = 255;

/// Makes an event safe to store: an identifier holding a NUL character or longer than
/// [`MAX_IDENTIFIER`] is refused (no genuine Stripe event has one; PostgreSQL would refuse the
/// first and could not index the second); NUL characters in free text (a name, a note) are
/// dropped, so the event is still applied.
fn clean_strings(value: &mut serde_json::Value, key: &str) -> Result<(), String> {
    match value {
        serde_json::Value::String(text) => {
            let identifier = IDENTIFIER_KEYS.contains(&key) || key.ends_with("_id");
            if identifier && text.contains('\0') {
                return Err(format!("`{key}` contains a NUL character"));
            }
            if identifier && text.chars().count() > MAX_IDENTIFIER {
                return Err(format!(
                    "`{key}` is longer than {MAX_IDENTIFIER} characters"
                ));
            }
            if text.contains('\0') {
                *text = text.replace('\0', "");
            }
            Ok(())
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .try_for_each(|item| clean_strings(item, key)),
        serde_json::Value::Object(fields) => {
            if fields.keys().any(|name| name.contains('\0')) {
                return Err("a key contains a NUL character".to_owned());
            }
            fields
                .iter_mut()
                .try_for_each(|(name, item)| clean_strings(item, name))
        }
        _ => Ok(()),
    }
}

/// Parses an event body (verified before), after [`clean_strings`].
///
/// # Errors
/// Not JSON, or not an event, or an object of the wrong shape, or an identifier that cannot be
/// genuine.
pub(crate) fn parse_event(body: &[u8]) -> Result<StripeEvent, String> {
    let mut untyped: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    clean_strings(&mut untyped, "")?;
    let wire: EventWire = serde_json::from_value(untyped).map_err(|e| e.to_string())?;
    let payload = payload(&wire.event_type, wire.data.object)?;
    Ok(StripeEvent {
        id: wire.id,
        event_type: wire.event_type,
        created: timestamp(wire.created),
        livemode: wire.livemode,
        account: wire.account,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, metadata: &str) -> String {
        format!(
            r#"{{"id": "{id}", "type": "charge.refunded", "created": 1, "livemode": false,
                "data": {{"object": {{"id": "ch_1", "object": "charge",
                "metadata": {{"note": "{metadata}"}}}}}}}}"#
        )
    }

    #[test]
    fn overlong_identifiers_and_nul_characters_are_refused_and_free_text_is_cleaned() {
        let long = format!("evt_{}", "x".repeat(12_000));
        let refused = parse_event(event(&long, "ok").as_bytes()).unwrap_err();
        assert!(refused.contains("`id` is longer than 255"), "{refused}");
        let nul_id = parse_event(event("evt_1\\u0000", "ok").as_bytes()).unwrap_err();
        assert!(nul_id.contains("`id` contains a NUL"), "{nul_id}");
        let mut noted: serde_json::Value =
            serde_json::from_str(&event("evt_1", "a\\u0000b")).unwrap();
        clean_strings(&mut noted, "").unwrap();
        assert_eq!(noted["data"]["object"]["metadata"]["note"], "ab");
        // Free text may be long; identifiers up to the limit pass.
        let mut fine: serde_json::Value = serde_json::from_str(&event(
            &format!("evt_{}", "x".repeat(251)),
            &"n".repeat(3000),
        ))
        .unwrap();
        assert!(clean_strings(&mut fine, "").is_ok());
    }
}
