//! Stripe Connect readiness: who may sell, and whose listings can be bought.

use crate::accounts::Roles;

/// What we know of a seller's Stripe Connect Express account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectStatus {
    /// `acct_…`, once created.
    pub stripe_account_id: Option<String>,
    /// Onboarding details submitted.
    pub details_submitted: bool,
    /// The account can take charges.
    pub charges_enabled: bool,
    /// The account can receive payouts.
    pub payouts_enabled: bool,
}

impl ConnectStatus {
    /// Ready = linked, details submitted, charges and payouts enabled (the original's `is_ready`).
    pub fn is_ready(&self) -> bool {
        self.stripe_account_id
            .as_deref()
            .is_some_and(|id| !id.is_empty())
            && self.details_submitted
            && self.charges_enabled
            && self.payouts_enabled
    }
}

/// Whether a seller's listings can be sold: owners always, others once their account is ready.
pub fn seller_can_sell(seller: Roles, status: Option<&ConnectStatus>) -> bool {
    seller.is_owner() || status.is_some_and(ConnectStatus::is_ready)
}

/// Why a Connect account id was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a Stripe account id starting with acct_")]
pub struct AccountIdError;

/// Validates a Stripe account id (`acct_` followed by letters and digits).
pub fn parse_account_id(raw: &str) -> Result<String, AccountIdError> {
    let id = raw.trim();
    let rest = id.strip_prefix("acct_").ok_or(AccountIdError)?;
    if !rest.is_empty() && rest.len() <= 250 && rest.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(id.to_owned())
    } else {
        Err(AccountIdError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> ConnectStatus {
        ConnectStatus {
            stripe_account_id: Some("acct_123".into()),
            details_submitted: true,
            charges_enabled: true,
            payouts_enabled: true,
        }
    }

    #[test]
    fn readiness_needs_every_flag_and_an_account() {
        assert!(ready().is_ready());
        assert!(
            !ConnectStatus {
                payouts_enabled: false,
                ..ready()
            }
            .is_ready()
        );
        assert!(
            !ConnectStatus {
                stripe_account_id: Some(String::new()),
                ..ready()
            }
            .is_ready()
        );
        assert!(!ConnectStatus::default().is_ready());
    }

    #[test]
    fn owners_sell_without_an_account() {
        let owner = Roles {
            is_owner: true,
            ..Roles::default()
        };
        let seller = Roles {
            is_seller: true,
            ..Roles::default()
        };
        assert!(seller_can_sell(owner, None));
        assert!(!seller_can_sell(seller, None));
        assert!(seller_can_sell(seller, Some(&ready())));
    }

    #[test]
    fn account_ids_are_checked() {
        assert_eq!(
            parse_account_id(" acct_1PgafTB7 ").unwrap(),
            "acct_1PgafTB7"
        );
        assert!(parse_account_id("acct_").is_err());
        assert!(parse_account_id("cus_123").is_err());
        assert!(parse_account_id("acct_12 3").is_err());
    }
}
