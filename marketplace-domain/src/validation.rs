//! Field-level validation results. A rejected input reports every problem at once, keyed by the
//! field name the client sent, so an API can answer 422 with per-field messages.

use std::collections::BTreeMap;
use std::fmt;

/// Messages per field name. Empty means valid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A single error on one field.
    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    /// Records a message against `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    /// Records the error of `result` against `field` and returns its value, if any.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    /// Merges another set of errors into this one.
    pub fn extend(&mut self, other: FieldErrors) {
        for (field, messages) in other.0 {
            self.0.entry(field).or_default().extend(messages);
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when empty, else `Err(self)`.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// The messages per field, in field-name order.
    pub fn fields(&self) -> &BTreeMap<String, Vec<String>> {
        &self.0
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (field, messages) in &self.0 {
            for message in messages {
                if !first {
                    f.write_str("; ")?;
                }
                first = false;
                write!(f, "{field}: {message}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

/// Trims `value` and checks it has at most `max` characters.
pub fn bounded_text(value: &str, max: usize) -> Result<String, TextTooLong> {
    let trimmed = value.trim();
    if trimmed.chars().count() > max {
        Err(TextTooLong { max })
    } else {
        Ok(trimmed.to_owned())
    }
}

/// Trims `value`, requires it non-empty and at most `max` characters.
pub fn required_text(value: &str, max: usize) -> Result<String, RequiredTextError> {
    let text = bounded_text(value, max).map_err(|e| RequiredTextError::TooLong { max: e.max })?;
    if text.is_empty() {
        Err(RequiredTextError::Missing)
    } else {
        Ok(text)
    }
}

/// Text longer than allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be at most {max} characters")]
pub struct TextTooLong {
    /// The limit in characters.
    pub max: usize,
}

/// A required text field that is empty or too long.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequiredTextError {
    /// Empty after trimming.
    #[error("this field is required")]
    Missing,
    /// Longer than the limit.
    #[error("must be at most {max} characters")]
    TooLong {
        /// The limit in characters.
        max: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_messages_per_field_in_order() {
        let mut errors = FieldErrors::new();
        errors.add("price", "must be positive");
        errors.add("title", "this field is required");
        errors.add("price", "too large");
        assert_eq!(errors.fields()["price"].len(), 2);
        assert_eq!(
            errors.to_string(),
            "price: must be positive; price: too large; title: this field is required"
        );
        assert!(errors.into_result(()).is_err());
        assert!(FieldErrors::new().into_result(()).is_ok());
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        assert_eq!(bounded_text("  héllo ", 5).unwrap(), "héllo");
        assert_eq!(bounded_text("abcdef", 5), Err(TextTooLong { max: 5 }));
        assert_eq!(required_text("   ", 5), Err(RequiredTextError::Missing));
    }
}

/// A calendar day written `YYYY-MM-DD`, taken as midnight UTC (report filters and `--since`).
///
/// # Errors
/// [`DayError`] for anything else.
pub fn parse_day(text: &str) -> Result<time::OffsetDateTime, DayError> {
    let mut parts = text.trim().splitn(3, '-');
    let mut number = |digits: usize| {
        parts
            .next()
            .filter(|p| p.len() == digits && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<i32>().ok())
            .ok_or(DayError)
    };
    let (year, month, day) = (number(4)?, number(2)?, number(2)?);
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .ok_or(DayError)?;
    let day = u8::try_from(day).map_err(|_| DayError)?;
    let date = time::Date::from_calendar_date(year, month, day).map_err(|_| DayError)?;
    Ok(date.midnight().assume_utc())
}

/// Not a `YYYY-MM-DD` day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a day written YYYY-MM-DD")]
pub struct DayError;

#[cfg(test)]
mod day_tests {
    use super::*;

    #[test]
    fn days_are_read_strictly_as_midnight_utc() {
        let day = parse_day("2026-11-30").unwrap();
        assert_eq!(day.unix_timestamp(), 1_795_996_800);
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "26-11-30",
            "2026-11-3",
            "2026/11/30",
            "",
            "x",
        ] {
            assert_eq!(parse_day(bad), Err(DayError), "{bad}");
        }
    }
}
