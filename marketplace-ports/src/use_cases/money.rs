//! Seller money (SPEC §3.7) and the dashboards: balances, ledger movements and payouts for sellers;
//! sales figures; a buyer's spending.

use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use time::Duration;

use super::{Actor, Deps};
use crate::ports::{
    BuyerSummary, ConnectAccountRecord, LedgerFilter, OrderFilter, OrderRecord, PayoutRecord,
    SaleRow, SalesSummary, SellerLedgerLine, StoreError,
};

/// Why a money view failed.
#[derive(Debug, thiserror::Error)]
pub enum MoneyFailure {
    /// Only sellers have seller money.
    #[error("only sellers have payouts")]
    NotASeller,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
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

/// The buyer dashboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerDashboard {
    /// Latest orders.
    pub recent_orders: Vec<OrderRecord>,
    /// Spending on paid orders.
    pub summary: BuyerSummary,
    /// Currency.
    pub currency: Currency,
}

/// Money views.
#[derive(Clone)]
pub struct MoneyService {
    deps: Deps,
}

impl MoneyService {
    /// Builds the service.
    pub fn new(deps: Deps) -> Self {
        MoneyService { deps }
    }

    /// The caller's balance, movements (filtered, paginated) and payouts.
    ///
    /// # Errors
    /// [`MoneyFailure::NotASeller`].
    pub async fn seller_payouts(
        &self,
        actor: &Actor,
        filter: &LedgerFilter,
        page: PageRequest,
    ) -> Result<SellerPayouts, MoneyFailure> {
        if !actor.roles.is_seller() {
            return Err(MoneyFailure::NotASeller);
        }
        let currency = self.deps.queries.site_config().await?.currency;
        Ok(SellerPayouts {
            balance: self
                .deps
                .queries
                .seller_balance(actor.user_id, currency)
                .await?,
            currency,
            entries: self
                .deps
                .queries
                .seller_ledger(actor.user_id, filter, page)
                .await?,
            payouts: self
                .deps
                .queries
                .seller_payouts(actor.user_id, page)
                .await?,
        })
    }

    /// The caller's seller dashboard.
    ///
    /// # Errors
    /// [`MoneyFailure::NotASeller`].
    pub async fn seller_dashboard(&self, actor: &Actor) -> Result<SellerDashboard, MoneyFailure> {
        if !actor.roles.is_seller() {
            return Err(MoneyFailure::NotASeller);
        }
        let queries = &self.deps.queries;
        let currency = queries.site_config().await?.currency;
        let since = self.deps.clock.now() - Duration::days(30);
        let (active_listings, inactive_listings) = queries.listing_counts(actor.user_id).await?;
        let balance = queries.seller_balance(actor.user_id, currency).await?;
        let in_flight = queries.unconfirmed_payouts(actor.user_id).await?;

        let payout_available = balance
            .checked_sub(in_flight)
            .unwrap_or(Cents::ZERO)
            .max(Cents::ZERO);
        let latest = PageRequest::parse(Some(1), Some(10)).unwrap_or_else(|_| PageRequest::first());
        let connect = queries.connect_account(actor.user_id).await?;
        Ok(SellerDashboard {
            active_listings,
            inactive_listings,
            last_30_days: queries.seller_sales(actor.user_id, since).await?,
            recent_sales: queries.recent_sales(actor.user_id, 15).await?,
            balance,
            payout_available,
            currency,
            latest_entries: queries
                .seller_ledger(actor.user_id, &LedgerFilter::default(), latest)
                .await?
                .items,
            ready: connect.as_ref().is_some_and(|c| c.status.is_ready()),
            connect,
        })
    }

    /// The caller's buyer dashboard.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn consumer_dashboard(
        &self,
        actor: &Actor,
    ) -> Result<ConsumerDashboard, MoneyFailure> {
        let queries = &self.deps.queries;
        let latest = PageRequest::parse(Some(1), Some(10)).unwrap_or_else(|_| PageRequest::first());
        let filter = OrderFilter {
            buyer: Some(actor.user_id),
            ..OrderFilter::default()
        };
        Ok(ConsumerDashboard {
            recent_orders: queries.list_orders(filter, latest).await?.items,
            summary: queries.buyer_summary(actor.user_id).await?,
            currency: queries.site_config().await?.currency,
        })
    }
}
