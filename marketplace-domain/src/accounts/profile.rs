//! Profile fields: phones, US states, ZIP codes, and a requested profile change.

use std::fmt;

use super::Email;
use crate::validation::{FieldErrors, bounded_text};

/// Why a phone number was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("enter a valid phone number (digits and - + ( ) allowed)")]
pub struct PhoneError;

/// Validates a phone number with the original's rule `^[0-9\-\+\(\)]{7,20}$`.
pub fn parse_phone(raw: &str) -> Result<String, PhoneError> {
    let phone = raw.trim();
    let length = phone.chars().count();
    let allowed = |c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '(' | ')');
    if (7..=20).contains(&length) && phone.chars().all(allowed) {
        Ok(phone.to_owned())
    } else {
        Err(PhoneError)
    }
}

/// The US states (and DC) a profile address may name, as the original's choices.
pub const US_STATES: &[(&str, &str)] = &[
    ("AL", "Alabama"),
    ("AK", "Alaska"),
    ("AZ", "Arizona"),
    ("AR", "Arkansas"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DE", "Delaware"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("HI", "Hawaii"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("IA", "Iowa"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("ME", "Maine"),
    ("MD", "Maryland"),
    ("MA", "Massachusetts"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MS", "Mississippi"),
    ("MO", "Missouri"),
    ("MT", "Montana"),
    ("NE", "Nebraska"),
    ("NV", "Nevada"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NY", "New York"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VT", "Vermont"),
    ("VA", "Virginia"),
    ("WA", "Washington"),
    ("WV", "West Virginia"),
    ("WI", "Wisconsin"),
    ("WY", "Wyoming"),
    ("DC", "District of Columbia"),
];

/// Why a state was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("select a valid US state code (e.g. CA, NY, DC)")]
pub struct StateError;

/// Accepts a two-letter US state code (any case), returns it upper-cased.
pub fn parse_us_state(raw: &str) -> Result<String, StateError> {
    let code = raw.trim().to_ascii_uppercase();
    if US_STATES.iter().any(|(known, _)| *known == code) {
        Ok(code)
    } else {
        Err(StateError)
    }
}

/// Why a ZIP code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("enter a US ZIP code: 5 digits, optionally followed by - and 4 digits")]
pub struct ZipError;

/// Accepts `12345` or `12345-6789`.
pub fn parse_zip(raw: &str) -> Result<String, ZipError> {
    let zip = raw.trim();
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    let valid = match zip.split_once('-') {
        None => digits(zip, 5),
        Some((head, tail)) => digits(head, 5) && digits(tail, 4),
    };
    if valid {
        Ok(zip.to_owned())
    } else {
        Err(ZipError)
    }
}

/// A requested profile change; `None` leaves a field as it is, `Some("")` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileChanges {
    /// First name (≤ 150).
    pub first_name: Option<String>,
    /// Last name (≤ 150).
    pub last_name: Option<String>,
    /// Public shop label (≤ 80).
    pub shop_name: Option<String>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// First phone.
    pub phone_1: Option<String>,
    /// Second phone.
    pub phone_2: Option<String>,
    /// Address line 1 (≤ 255).
    pub address_1: Option<String>,
    /// Address line 2 (≤ 255).
    pub address_2: Option<String>,
    /// City (≤ 120).
    pub city: Option<String>,
    /// US state code.
    pub state: Option<String>,
    /// ZIP code.
    pub zip_code: Option<String>,
    /// Seller opt-in.
    pub is_seller: Option<bool>,
}

impl ProfileChanges {
    /// Validates every present field; cleared fields become empty strings. Returns the normalised
    /// changes or every field error at once.
    pub fn validate(self) -> Result<ProfileChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut text = |field: &str, value: Option<String>, max: usize| {
            value.and_then(|v| errors.check(field, bounded_text(&v, max)))
        };
        let mut valid = ProfileChanges {
            first_name: text("first_name", self.first_name, 150),
            last_name: text("last_name", self.last_name, 150),
            shop_name: text("shop_name", self.shop_name, 80),
            address_1: text("address_1", self.address_1, 255),
            address_2: text("address_2", self.address_2, 255),
            city: text("city", self.city, 120),
            is_seller: self.is_seller,
            ..ProfileChanges::default()
        };
        valid.email = optional(&mut errors, "email", self.email, |v| {
            Email::parse(v).map(|e| e.as_str().to_owned())
        });
        valid.phone_1 = optional(&mut errors, "phone_1", self.phone_1, parse_phone);
        valid.phone_2 = optional(&mut errors, "phone_2", self.phone_2, parse_phone);
        valid.state = optional(&mut errors, "state", self.state, parse_us_state);
        valid.zip_code = optional(&mut errors, "zip_code", self.zip_code, parse_zip);
        errors.into_result(valid)
    }
}

/// Validates an optional field whose empty value means "clear".
fn optional<E: fmt::Display>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<String>,
    parse: impl Fn(&str) -> Result<String, E>,
) -> Option<String> {
    let value = value?;
    if value.trim().is_empty() {
        return Some(String::new());
    }
    errors.check(field, parse(&value))
}
