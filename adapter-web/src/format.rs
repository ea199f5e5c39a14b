//! How amounts, times and sizes read on a page: prices in the currency's own notation
//! (`$1,234.50`, `€9.00`), times in UTC said so (`1 Dec 2026, 14:05 UTC`), sizes in KB/MB.

use marketplace_domain::money::{Cents, Currency};
use time::OffsetDateTime;

/// The symbol written before amounts of a currency, for those shoppers know by symbol.
fn symbol(currency: Currency) -> Option<&'static str> {
    match currency.as_str() {
        "usd" => Some("$"),
        "eur" => Some("€"),
        "gbp" => Some("£"),
        "cad" => Some("CA$"),
        "aud" => Some("A$"),
        "nzd" => Some("NZ$"),
        "chf" => Some("CHF "),
        _ => None,
    }
}

/// An amount of cents as a price: `$1,234.50`, `−$5.00`, or `12.00 SEK` for currencies without
/// a symbol here.
pub fn money(cents: i64, currency: Currency) -> String {
    let negative = cents < 0;
    let magnitude = cents.unsigned_abs();
    let whole = magnitude / 100;
    let fraction = magnitude % 100;
    let digits = whole.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if negative { "−" } else { "" };
    match symbol(currency) {
        Some(symbol) => format!("{sign}{symbol}{grouped}.{fraction:02}"),
        None => format!(
            "{sign}{grouped}.{fraction:02} {}",
            currency.as_str().to_ascii_uppercase()
        ),
    }
}

/// [`money`] of a [`Cents`].
pub fn cents(amount: Cents, currency: Currency) -> String {
    money(amount.get(), currency)
}

/// A price tag: "Free" for nothing.
pub fn price(amount: Cents, currency: Currency) -> String {
    if amount.get() == 0 {
        "Free".to_owned()
    } else {
        cents(amount, currency)
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A moment in UTC, said so: `1 Dec 2026, 14:05 UTC`.
pub fn time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let month = MONTHS
        .get(usize::from(u8::from(at.month())).saturating_sub(1))
        .copied()
        .unwrap_or("");
    format!(
        "{} {month} {}, {:02}:{:02} UTC",
        at.day(),
        at.year(),
        at.hour(),
        at.minute()
    )
}

/// The machine-readable form of a moment, for `<time datetime=…>`.
pub fn iso(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A file size: `812 B`, `14.2 KB`, `3.5 MB`.
pub fn size(bytes: i64) -> String {
    let bytes = bytes.max(0);
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let tenths_kb = bytes.saturating_mul(10) / 1024;
    if tenths_kb < 10 * 1024 {
        return format!("{}.{} KB", tenths_kb / 10, tenths_kb % 10);
    }
    let tenths_mb = tenths_kb / 1024;
    format!("{}.{} MB", tenths_mb / 10, tenths_mb % 10)
}

/// An average rating from a sum and a count, to one decimal (`4.5`), when there is one.
pub fn rating(sum: i64, count: i64) -> Option<String> {
    if count <= 0 {
        return None;
    }
    let tenths = (sum.saturating_mul(20) / count).saturating_add(1) / 2;
    Some(format!("{}.{}", tenths / 10, tenths % 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_read_as_shoppers_write_them() {
        assert_eq!(money(0, Currency::USD), "$0.00");
        assert_eq!(money(5, Currency::USD), "$0.05");
        assert_eq!(money(123_450, Currency::USD), "$1,234.50");
        assert_eq!(money(100_000_000, Currency::USD), "$1,000,000.00");
        assert_eq!(money(-500, Currency::USD), "−$5.00");
        let sek = Currency::parse("sek").unwrap_or(Currency::USD);
        assert_eq!(money(1_200, sek), "12.00 SEK");
        assert_eq!(price(Cents::ZERO, Currency::USD), "Free");
    }

    #[test]
    fn times_say_they_are_utc() {
        let at = OffsetDateTime::from_unix_timestamp(1_796_112_300)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(time(at), "1 Dec 2026, 08:05 UTC");
        assert_eq!(iso(at), "2026-12-01T08:05:00Z");
    }

    #[test]
    fn sizes_and_ratings_round_as_people_expect() {
        assert_eq!(size(812), "812 B");
        assert_eq!(size(14_540), "14.1 KB");
        assert_eq!(size(3_670_016), "3.5 MB");
        assert_eq!(rating(9, 2), Some("4.5".to_owned()));
        assert_eq!(rating(14, 3), Some("4.7".to_owned()));
        assert_eq!(rating(0, 0), None);
    }
}

/// A percentage without trailing zeros: `12.5 %`, `10 %`.
pub fn percent(value: rust_decimal::Decimal) -> String {
    format!("{} %", value.normalize())
}

#[test]
fn percentages_drop_trailing_zeros() {
    assert_eq!(percent(rust_decimal::Decimal::new(1250, 2)), "12.5 %");
    assert_eq!(percent(rust_decimal::Decimal::new(1000, 2)), "10 %");
}
