//! Site configuration: the marketplace fee, the currency, where physical items ship and who bears
//! Stripe's dispute fees.
//! Changes apply to orders created after they are committed.

use rust_decimal::Decimal;

use crate::entitlements::DownloadPolicy;
use crate::money::{Currency, FeePercent};
use crate::validation::FieldErrors;

/// The site configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteConfig {
    /// Marketplace fee (0–100 %, two decimals).
    pub fee: FeePercent,
    /// Default currency.
    pub currency: Currency,
    /// ISO country codes physical items may ship to (upper case, never empty).
    pub allowed_shipping_countries: Vec<String>,
    /// Charge Stripe's dispute fees to the sellers of the disputed order instead of the platform
    /// (copied onto each order when it is placed; off by default).
    pub dispute_fee_to_sellers: bool,
    /// The download limit and expiry of digital purchases (copied onto each entitlement when it
    /// is granted; unlimited and never by default).
    pub downloads: DownloadPolicy,
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            fee: FeePercent::default_fee(),
            currency: Currency::USD,
            allowed_shipping_countries: vec!["US".to_owned()],
            dispute_fee_to_sellers: false,
            downloads: DownloadPolicy::default(),
        }
    }
}

impl SiteConfig {
    /// What changed from `before` to this configuration, one phrase per setting that differs (the
    /// audit log's record of an owner's change).
    #[must_use]
    pub fn changes_from(&self, before: &SiteConfig) -> Vec<String> {
        fn limit(policy: &DownloadPolicy) -> String {
            policy
                .limit
                .map_or_else(|| "unlimited".to_owned(), |n| n.to_string())
        }
        fn expiry(policy: &DownloadPolicy) -> String {
            policy
                .expiry_days
                .map_or_else(|| "never".to_owned(), |days| format!("{days} days"))
        }
        let mut changes = Vec::new();
        if self.fee != before.fee {
            changes.push(format!(
                "fee {:.2}% → {:.2}%",
                before.fee.get(),
                self.fee.get()
            ));
        }
        if self.currency != before.currency {
            changes.push(format!("currency {} → {}", before.currency, self.currency));
        }
        if self.allowed_shipping_countries != before.allowed_shipping_countries {
            changes.push(format!(
                "shipping countries {} → {}",
                before.allowed_shipping_countries.join(","),
                self.allowed_shipping_countries.join(",")
            ));
        }
        if self.dispute_fee_to_sellers != before.dispute_fee_to_sellers {
            changes.push(format!(
                "dispute fees to sellers {} → {}",
                before.dispute_fee_to_sellers, self.dispute_fee_to_sellers
            ));
        }
        if self.downloads.limit != before.downloads.limit {
            changes.push(format!(
                "download limit {} → {}",
                limit(&before.downloads),
                limit(&self.downloads)
            ));
        }
        if self.downloads.expiry_days != before.downloads.expiry_days {
            changes.push(format!(
                "downloads expire {} → {}",
                expiry(&before.downloads),
                expiry(&self.downloads)
            ));
        }
        changes
    }
}

/// Normalises shipping countries as the original did: trimmed, upper-cased, empties dropped, and
/// `["US"]` when nothing is left. Each must be two letters.
///
/// # Errors
/// A field error naming a code that is not two letters.
pub fn normalize_countries(codes: &[String]) -> Result<Vec<String>, FieldErrors> {
    let mut countries = Vec::new();
    for code in codes {
        let code = code.trim().to_ascii_uppercase();
        if code.is_empty() {
            continue;
        }
        if code.len() != 2 || !code.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(FieldErrors::single(
                "allowed_shipping_countries",
                format!("{code:?} is not a two-letter country code"),
            ));
        }
        if !countries.contains(&code) {
            countries.push(code);
        }
    }
    if countries.is_empty() {
        countries.push("US".to_owned());
    }
    Ok(countries)
}

/// Builds a configuration from an owner's input: the fee is clamped to 0–100 and rounded to two
/// decimals, the currency, countries and download policy are validated.
///
/// # Errors
/// Field errors for the currency, a country code or the download policy.
pub fn site_config_from_input(
    fee_percent: Decimal,
    currency: &str,
    countries: &[String],
    dispute_fee_to_sellers: bool,
    downloads: DownloadPolicy,
) -> Result<SiteConfig, FieldErrors> {
    let mut errors = FieldErrors::new();
    let downloads = match DownloadPolicy::from_input(downloads.limit, downloads.expiry_days) {
        Ok(policy) => policy,
        Err(e) => {
            errors.extend(e);
            DownloadPolicy::default()
        }
    };
    let currency = errors.check("currency", Currency::parse(currency));
    let countries = match normalize_countries(countries) {
        Ok(countries) => Some(countries),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    match (currency, countries) {
        (Some(currency), Some(allowed_shipping_countries)) => errors.into_result(SiteConfig {
            fee: FeePercent::clamped(fee_percent),
            currency,
            allowed_shipping_countries,
            dispute_fee_to_sellers,
            downloads,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_described_setting_by_setting() {
        let before = SiteConfig::default();
        assert!(before.changes_from(&before).is_empty());
        let after = site_config_from_input(
            Decimal::new(1250, 2),
            "usd",
            &["us".to_owned(), "ca".to_owned()],
            true,
            DownloadPolicy {
                limit: Some(5),
                expiry_days: Some(30),
            },
        )
        .unwrap();
        assert_eq!(
            after.changes_from(&before),
            [
                "fee 10.00% → 12.50%",
                "shipping countries US → US,CA",
                "dispute fees to sellers false → true",
                "download limit unlimited → 5",
                "downloads expire never → 30 days",
            ]
        );
    }

    #[test]
    fn countries_are_normalised_like_the_original() {
        let codes = [
            " us".to_owned(),
            "".to_owned(),
            "ca".to_owned(),
            "US".to_owned(),
        ];
        assert_eq!(normalize_countries(&codes).unwrap(), ["US", "CA"]);
        assert_eq!(normalize_countries(&[]).unwrap(), ["US"]);
        assert!(normalize_countries(&["USA".to_owned()]).is_err());
    }

    #[test]
    fn the_fee_is_clamped_and_the_currency_checked() {
        let config = site_config_from_input(
            Decimal::new(12_345, 2),
            "EUR",
            &[],
            true,
            DownloadPolicy {
                limit: Some(3),
                expiry_days: None,
            },
        )
        .unwrap();
        assert_eq!(config.fee.basis_points().get(), 10_000);
        assert_eq!(config.currency.as_str(), "eur");
        assert!(config.dispute_fee_to_sellers);
        assert_eq!(config.downloads.limit, Some(3));
        let refused = site_config_from_input(
            Decimal::ONE,
            "euro",
            &[],
            false,
            DownloadPolicy {
                limit: Some(0),
                expiry_days: None,
            },
        )
        .unwrap_err();
        assert_eq!(
            refused.fields().keys().collect::<Vec<_>>(),
            ["currency", "download_limit"]
        );
    }
}

/// The longest return URL a client may give.
pub const MAX_RETURN_URL: usize = 2048;

/// The origin (`https://shop.example`, `http://localhost:3000`) of an absolute http(s) URL, lower
/// case; `None` for anything else (relative, another scheme, credentials, blanks or control
/// characters).
pub fn url_origin(url: &str) -> Option<String> {
    if url.is_empty()
        || url.chars().count() > MAX_RETURN_URL
        || url.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return None;
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .map(|rest| ("https", rest))
        .or_else(|| lower.strip_prefix("http://").map(|rest| ("http", rest)));
    let (scheme, rest) = rest?;
    let authority = rest
        .split(['/', '?', '#'])
        .next()
        .filter(|a| !a.is_empty() && !a.contains('@') && !a.contains('\\'))?;
    Some(format!("{scheme}://{authority}"))
}

/// Why a client's return URL was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReturnUrlError {
    /// Not an absolute http(s) URL without credentials.
    #[error("must be an absolute http(s) URL")]
    NotAbsolute,
    /// Its origin is not in `ALLOWED_RETURN_ORIGINS`.
    #[error("its origin {0} is not one this marketplace returns buyers to")]
    OriginNotAllowed(String),
}

/// Checks a URL a web client wants buyers sent back to after checkout: it must be an absolute
/// http(s) URL whose origin is one of `allowed` (origins as [`url_origin`] gives them) — never an
/// open redirect.
///
/// # Errors
/// [`ReturnUrlError`].
pub fn check_return_url(url: &str, allowed: &[String]) -> Result<(), ReturnUrlError> {
    let origin = url_origin(url).ok_or(ReturnUrlError::NotAbsolute)?;
    if allowed.contains(&origin) {
        Ok(())
    } else {
        Err(ReturnUrlError::OriginNotAllowed(origin))
    }
}

#[cfg(test)]
mod return_url_tests {
    use super::*;

    #[test]
    fn only_absolute_urls_of_allowed_origins_are_return_urls() {
        let allowed = vec![
            "https://shop.example".to_owned(),
            "http://localhost:3000".to_owned(),
        ];
        assert_eq!(
            check_return_url("https://shop.example/thanks?x=1", &allowed),
            Ok(())
        );
        assert_eq!(check_return_url("HTTPS://Shop.Example", &allowed), Ok(()));
        assert_eq!(
            check_return_url("http://localhost:3000/#done", &allowed),
            Ok(())
        );
        assert_eq!(
            check_return_url("https://evil.example/shop.example", &allowed),
            Err(ReturnUrlError::OriginNotAllowed(
                "https://evil.example".into()
            ))
        );
        assert_eq!(
            check_return_url("https://shop.example@evil.example/", &allowed),
            Err(ReturnUrlError::NotAbsolute),
            "credentials hide the real host"
        );
        for bad in [
            "/thanks",
            "javascript:alert(1)",
            "https://",
            "https://shop.example/a b",
            "",
        ] {
            assert_eq!(
                check_return_url(bad, &allowed),
                Err(ReturnUrlError::NotAbsolute),
                "{bad}"
            );
        }
        assert_eq!(
            check_return_url("http://localhost:3001/", &allowed),
            Err(ReturnUrlError::OriginNotAllowed(
                "http://localhost:3001".into()
            ))
        );
        assert_eq!(
            url_origin("https://shop.example:8443/x").as_deref(),
            Some("https://shop.example:8443")
        );
    }
}
