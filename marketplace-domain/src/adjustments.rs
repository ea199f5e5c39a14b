//! Owner adjustments of a seller's balance (docs/money.md, "Adjustments"): what makes a request
//! acceptable, and when a repeated request is the same one.

use crate::ids::UserId;
use crate::money::{Cents, Currency};
use crate::validation::{FieldErrors, required_text};

/// The longest note.
pub const MAX_NOTE: usize = 500;
/// The longest idempotency key.
pub const MAX_KEY: usize = 100;

/// An adjustment as an owner asks for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdjustmentInput {
    /// The seller.
    pub seller: UserId,
    /// Signed amount in cents: positive credits the seller, negative debits them.
    pub amount: i64,
    /// Currency code.
    pub currency: String,
    /// Why (required).
    pub note: String,
    /// The client's key: the same key books once.
    pub idempotency_key: String,
}

/// A checked adjustment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjustment {
    /// The seller.
    pub seller: UserId,
    /// Non-zero amount.
    pub amount: Cents,
    /// Currency.
    pub currency: Currency,
    /// Why.
    pub note: String,
    /// The client's key.
    pub idempotency_key: String,
}

impl Adjustment {
    /// Checks an owner's request: a non-zero amount, a known currency code, a note and a key of
    /// bounded length.
    ///
    /// # Errors
    /// The fields that are not acceptable, each with its message.
    pub fn new(input: &AdjustmentInput) -> Result<Adjustment, FieldErrors> {
        let mut errors = FieldErrors::new();
        if input.amount == 0 {
            errors.add("amount_cents", "must not be zero");
        }
        let currency = errors.check("currency", Currency::parse(&input.currency));
        let note = errors.check("note", required_text(&input.note, MAX_NOTE));
        let key = errors.check(
            "idempotency_key",
            required_text(&input.idempotency_key, MAX_KEY),
        );
        match (currency, note, key) {
            (Some(currency), Some(note), Some(idempotency_key)) if errors.is_empty() => {
                Ok(Adjustment {
                    seller: input.seller,
                    amount: Cents::new(input.amount),
                    currency,
                    note,
                    idempotency_key,
                })
            }
            _ => Err(errors),
        }
    }

    /// True when `other` asks for the same thing (a retry of the same request under its key).
    pub fn same_request(&self, other: &Adjustment) -> bool {
        self == other
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn input(amount: i64, currency: &str, note: &str, key: &str) -> AdjustmentInput {
        AdjustmentInput {
            seller: UserId::from_uuid(Uuid::from_u128(1)),
            amount,
            currency: currency.into(),
            note: note.into(),
            idempotency_key: key.into(),
        }
    }

    #[test]
    fn an_adjustment_needs_an_amount_a_currency_a_note_and_a_key() {
        let ok = Adjustment::new(&input(-250, "usd", "shipping damage", "adj-1")).unwrap();
        assert_eq!(ok.amount, Cents::new(-250));
        assert_eq!(ok.currency, Currency::USD);
        let bad = Adjustment::new(&input(0, "dollars", " ", "")).unwrap_err();
        let fields: Vec<&String> = bad.fields().keys().collect();
        assert_eq!(
            fields,
            ["amount_cents", "currency", "idempotency_key", "note"]
        );
        let long = "x".repeat(MAX_NOTE + 1);
        assert!(Adjustment::new(&input(1, "usd", &long, "k")).is_err());
    }

    #[test]
    fn the_same_key_is_the_same_request_only_with_the_same_fields() {
        let first = Adjustment::new(&input(100, "usd", "goodwill", "k")).unwrap();
        let again = Adjustment::new(&input(100, "usd", "goodwill", "k")).unwrap();
        let other = Adjustment::new(&input(200, "usd", "goodwill", "k")).unwrap();
        assert!(first.same_request(&again));
        assert!(!first.same_request(&other));
    }
}
