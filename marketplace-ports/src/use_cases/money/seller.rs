//! A seller's money: their balance (what the platform owes them, or they owe), its movements, their
//! payouts, and the dashboard.

use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use time::Duration;

use crate::ports::{
    ConnectAccountRecord, LedgerFilter, PayoutRecord, SaleRow, SalesSummary, SellerLedgerLine,
    StoreError,
};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why a seller's money could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum SellerMoneyError {
    /// Only sellers have seller money.
    #[error("only sellers have payouts")]
    NotASeller,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for SellerMoneyError {
    fn kind(&self) -> ErrorKind {
        match self {
            SellerMoneyError::NotASeller => ErrorKind::Forbidden {
                code: "not_a_seller",
            },
            SellerMoneyError::Store(e) => e.kind(),
        }
    }
}

/// A seller's balance, its movements and their payouts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SellerPayouts {
    /// Signed balance: owed to the seller (positive) or by them.
    pub balance: Cents,
    /// Its currency.
    pub currency: Currency,
    /// Balance movements, newest first.
    pub entries: Page<SellerLedgerLine>,
    /// Payouts per order, newest first.
    pub payouts: Page<PayoutRecord>,
}

/// The seller dashboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SellerDashboard {
    /// Active listings.
    pub active_listings: i64,
    /// Inactive listings.
    pub inactive_listings: i64,
    /// The last 30 days of paid sales.
    pub last_30_days: SalesSummary,
    /// Latest paid lines.
    pub recent_sales: Vec<SaleRow>,
    /// Balance.
    pub balance: Cents,
    /// What could be paid out now: the balance less payouts under way, never below zero.
    pub payout_available: Cents,
    /// Currency.
    pub currency: Currency,
    /// Latest balance movements.
    pub latest_entries: Vec<SellerLedgerLine>,
    /// Payout setup.
    pub connect: Option<ConnectAccountRecord>,
    /// Ready to sell.
    pub ready: bool,
}

operation_group!(
    /// Sellers' balances, payouts and dashboard.
    SellerMoney
);

impl SellerMoney {
    /// The caller's balance, movements (filtered, paginated) and payouts.
    ///
    /// # Errors
    /// [`SellerMoneyError::NotASeller`].
    pub async fn payouts(
        &self,
        actor: &Actor,
        filter: &LedgerFilter,
        page: PageRequest,
    ) -> Result<SellerPayouts, SellerMoneyError> {
        if !actor.roles.is_seller() {
            return Err(SellerMoneyError::NotASeller);
        }
        let queries = &self.deps.queries;
        let currency = queries.site_config()?.site_config().await?.currency;
        let ledger = queries.ledger()?;
        Ok(SellerPayouts {
            balance: ledger.seller_balance(actor.user_id, currency).await?,
            currency,
            entries: ledger.seller_ledger(actor.user_id, filter, page).await?,
            payouts: queries
                .payouts()?
                .seller_payouts(actor.user_id, page)
                .await?,
        })
    }

    /// The caller's seller dashboard.
    ///
    /// # Errors
    /// [`SellerMoneyError::NotASeller`].
    pub async fn dashboard(&self, actor: &Actor) -> Result<SellerDashboard, SellerMoneyError> {
        if !actor.roles.is_seller() {
            return Err(SellerMoneyError::NotASeller);
        }
        let queries = &self.deps.queries;
        let seller = actor.user_id;
        let currency = queries.site_config()?.site_config().await?.currency;
        let since = self.deps.clock.now() - Duration::days(30);
        let counts = queries.listings()?.listing_counts(seller).await?;
        let balance = queries.ledger()?.seller_balance(seller, currency).await?;
        let in_flight = queries
            .payouts()?
            .unconfirmed_payouts(seller, currency)
            .await?;
        let payout_available = balance
            .checked_sub(in_flight)
            .unwrap_or(Cents::ZERO)
            .max(Cents::ZERO);
        let latest = PageRequest::parse(Some(1), Some(10)).unwrap_or_else(|_| PageRequest::first());
        let connect = queries.connect()?.connect_account(seller).await?;
        let sales = queries.sales()?;
        Ok(SellerDashboard {
            active_listings: counts.active,
            inactive_listings: counts.inactive,
            last_30_days: sales.seller_sales(seller, since).await?,
            recent_sales: sales.recent_sales(seller, 15).await?,
            balance,
            payout_available,
            currency,
            latest_entries: queries
                .ledger()?
                .seller_ledger(seller, &LedgerFilter::default(), latest)
                .await?
                .items,
            ready: connect.as_ref().is_some_and(|c| c.status.is_ready()),
            connect,
        })
    }
}
