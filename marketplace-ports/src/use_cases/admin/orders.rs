//! Owners: every order, found by id, Stripe id or e-mail and narrowed by status, seller, the day
//! it was placed and whether reconciliation flagged it.

use marketplace_domain::ids::{OrderId, UserId};
use marketplace_domain::orders::OrderStatus;
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::validation::FieldErrors;
use time::OffsetDateTime;
use uuid::Uuid;

use super::is_owner;
use crate::ports::{OrderLookup, OwnerOrderFilter, OwnerOrderRow, StoreError};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// The longest search text.
pub const MAX_SEARCH: usize = 200;

/// Why the order list could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum OrderAdminError {
    /// Only owners.
    #[error("only the marketplace owner can do this")]
    Forbidden,
    /// A parameter is invalid.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for OrderAdminError {
    fn kind(&self) -> ErrorKind {
        match self {
            OrderAdminError::Forbidden => ErrorKind::Forbidden { code: "forbidden" },
            OrderAdminError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            OrderAdminError::Store(e) => e.kind(),
        }
    }
}

/// What owners ask for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnerOrderQuery {
    /// An order id, a Stripe id (`cs_…`, `pi_…`, `ch_…`) or part of an e-mail.
    pub text: Option<String>,
    /// In this status.
    pub status: Option<OrderStatus>,
    /// With a line of this seller.
    pub seller: Option<UserId>,
    /// Placed at or after.
    pub since: Option<OffsetDateTime>,
    /// Placed before.
    pub until: Option<OffsetDateTime>,
    /// Flagged by reconciliation, or not.
    pub flagged: Option<bool>,
}

/// What a search text means: a whole UUID is an order id, `cs_`/`pi_`/`ch_` a Stripe id, anything
/// else part of an e-mail.
fn lookup(text: &str) -> Result<Option<OrderLookup>, FieldErrors> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.contains('\0') || text.chars().count() > MAX_SEARCH {
        return Err(FieldErrors::single(
            "q",
            format!("must be at most {MAX_SEARCH} characters, without NUL"),
        ));
    }
    if let Ok(id) = Uuid::parse_str(text) {
        return Ok(Some(OrderLookup::Id(OrderId::from_uuid(id))));
    }
    if ["cs_", "pi_", "ch_"].iter().any(|p| text.starts_with(p)) {
        return Ok(Some(OrderLookup::StripeId(text.to_owned())));
    }
    Ok(Some(OrderLookup::Email(text.to_owned())))
}

operation_group!(
    /// Owners: the order list.
    OrderAdmin
);

impl OrderAdmin {
    /// Orders matching the query, newest first, with the buyer's e-mail and their flags.
    ///
    /// # Errors
    /// [`OrderAdminError::Forbidden`] for anyone but an owner; [`OrderAdminError::Invalid`] for
    /// an overlong search.
    pub async fn orders(
        &self,
        actor: &Actor,
        query: OwnerOrderQuery,
        page: PageRequest,
    ) -> Result<Page<OwnerOrderRow>, OrderAdminError> {
        if !is_owner(actor) {
            return Err(OrderAdminError::Forbidden);
        }
        let filter = OwnerOrderFilter {
            lookup: match query.text.as_deref() {
                Some(text) => lookup(text).map_err(OrderAdminError::Invalid)?,
                None => None,
            },
            status: query.status,
            seller: query.seller,
            since: query.since,
            until: query.until,
            flagged: query.flagged,
        };
        Ok(self
            .deps
            .queries
            .orders()?
            .owner_orders(&filter, page)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_text_is_an_id_a_stripe_id_or_part_of_an_e_mail() {
        let id = Uuid::from_u128(7);
        assert_eq!(
            lookup(&format!(" {id} ")).unwrap(),
            Some(OrderLookup::Id(OrderId::from_uuid(id)))
        );
        for stripe in ["cs_test_1", "pi_2", "ch_3"] {
            assert_eq!(
                lookup(stripe).unwrap(),
                Some(OrderLookup::StripeId(stripe.to_owned()))
            );
        }
        assert_eq!(
            lookup("ada@").unwrap(),
            Some(OrderLookup::Email("ada@".to_owned()))
        );
        assert_eq!(lookup("   ").unwrap(), None);
        assert!(lookup("a\0b").is_err());
        assert!(lookup(&"x".repeat(201)).is_err());
    }
}
