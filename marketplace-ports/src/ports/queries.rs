//! Read-only queries on the connection pool, for public pages and listings. They never lock and
//! never see uncommitted writes.

use async_trait::async_trait;
use marketplace_domain::account::Roles;
use marketplace_domain::connect::ConnectStatus;
use marketplace_domain::ids::{
    AssetId, BlobId, CategoryId, OrderId, ProductId, ProductImageId, UserId,
};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::product::ProductKind;
use marketplace_domain::site::SiteConfig;
use time::OffsetDateTime;

use super::records::*;
use super::store::StoreError;

/// The seller facts a listing view needs: public label and whether they can sell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SellerRow {
    /// Seller id.
    pub id: UserId,
    /// Username.
    pub username: String,
    /// Shop name (may be empty).
    pub shop_name: String,
    /// Roles (owners can always sell).
    pub roles: Roles,
    /// Connect account, if any.
    pub connect: Option<ConnectStatus>,
}

/// A listing in a list: the product, its seller, its category name and primary image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductListRow {
    /// The listing.
    pub product: ProductRecord,
    /// Its seller.
    pub seller: SellerRow,
    /// Its category's name.
    pub category_name: String,
    /// The primary image (or the first by sort order).
    pub primary_image: Option<ProductImageId>,
}

/// A listing with everything its detail page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductDetailRow {
    /// The listing, seller, category.
    pub row: ProductListRow,
    /// Every image.
    pub images: Vec<ProductImageRecord>,
    /// Digital files (names and sizes only).
    pub assets: Vec<AssetRecord>,
}

/// A root category with its subcategories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryWithChildren {
    /// The root.
    pub category: CategoryRecord,
    /// Its subcategories, ordered.
    pub children: Vec<CategoryRecord>,
}

/// Which listings to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// Only this kind.
    pub kind: Option<ProductKind>,
    /// Case-insensitive text in the title, short description or description.
    pub text: Option<String>,
    /// Listings in these categories (a category and its direct children).
    pub categories: Option<Vec<CategoryId>>,
    /// Only this seller's listings.
    pub seller: Option<UserId>,
    /// Include inactive listings (seller management only).
    pub include_inactive: bool,
}

/// Which orders to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Orders of this buyer.
    pub buyer: Option<UserId>,
    /// Orders containing this seller's lines.
    pub seller: Option<UserId>,
    /// Only orders that were paid (paid or partially refunded).
    pub paid_only: bool,
}

/// One movement on a seller's balance: the seller's side of one journal entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SellerLedgerLine {
    /// The entry's key (`order_paid:…`, `transfer:tr_…`, `refund:re_…`).
    pub key: String,
    /// The kind of fact (`order_paid`, `transfer`, `refund`, `dispute_lost`, `adjustment`, …).
    pub kind: String,
    /// The order concerned.
    pub order_id: Option<OrderId>,
    /// Effect on the balance (positive: owed more to the seller).
    pub amount: Cents,
    /// Currency.
    pub currency: Currency,
    /// Booked at.
    pub created_at: OffsetDateTime,
}

/// Which ledger lines to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LedgerFilter {
    /// Only this kind of fact.
    pub kind: Option<String>,
    /// Text in the key or the order id.
    pub text: Option<String>,
}

/// A seller's sales over a period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SalesSummary {
    /// Σ gross of their paid lines.
    pub gross: Cents,
    /// Σ net.
    pub net: Cents,
    /// Orders with their lines.
    pub orders: i64,
    /// Units sold.
    pub units: i64,
}

/// One line sold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleRow {
    /// The line.
    pub item: OrderItemRecord,
    /// When the order was paid.
    pub paid_at: Option<OffsetDateTime>,
}

/// A buyer's spending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuyerSummary {
    /// Σ totals of paid orders less what was refunded.
    pub total_spent: Cents,
    /// Paid orders.
    pub paid_orders: i64,
}

/// Read-side queries.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Queries: Send + Sync {
    /// The session with this token digest and its user, when not expired at `now`.
    async fn session_user(
        &self,
        token_digest: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError>;
    /// A user by username, case-insensitively.
    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError>;
    /// A user and profile.
    async fn user_profile(&self, id: UserId) -> Result<Option<(UserRecord, Profile)>, StoreError>;
    /// Every category (owners' view), ordered by type, parent, sort order, name.
    async fn all_categories(&self) -> Result<Vec<CategoryRecord>, StoreError>;
    /// Active roots with their active children, ordered by (sort order, name).
    async fn active_category_tree(&self) -> Result<Vec<CategoryWithChildren>, StoreError>;
    /// A category by id.
    async fn category(&self, id: CategoryId) -> Result<Option<CategoryRecord>, StoreError>;
    /// Listings matching a filter, newest first, one page.
    async fn list_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductListRow>, StoreError>;
    /// One listing with images and assets (active or not; the caller decides visibility).
    async fn product_detail(&self, id: ProductId) -> Result<Option<ProductDetailRow>, StoreError>;
    /// A seller's facts.
    async fn seller(&self, id: UserId) -> Result<Option<SellerRow>, StoreError>;
    /// An image of a listing.
    async fn product_image(
        &self,
        product: ProductId,
        image: ProductImageId,
    ) -> Result<Option<ProductImageRecord>, StoreError>;
    /// An asset of a listing.
    async fn product_asset(
        &self,
        product: ProductId,
        asset: AssetId,
    ) -> Result<Option<AssetRecord>, StoreError>;
    /// A stored file's metadata.
    async fn blob_meta(&self, id: BlobId) -> Result<Option<BlobMeta>, StoreError>;
    /// One chunk of a stored file (0-based); `None` past the end.
    async fn blob_chunk(&self, id: BlobId, seq: i32) -> Result<Option<Vec<u8>>, StoreError>;
    /// True when the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// An order's transfer reversals, oldest first.
    async fn order_reversals(&self, order: OrderId) -> Result<Vec<ReversalRecord>, StoreError>;

    /// An order with its lines.
    async fn order_detail(
        &self,
        id: OrderId,
    ) -> Result<Option<(OrderRecord, Vec<OrderItemRecord>)>, StoreError>;
    /// An order's history, oldest first.
    async fn order_events(&self, id: OrderId) -> Result<Vec<OrderEventRecord>, StoreError>;
    /// Orders matching a filter, newest first.
    async fn list_orders(
        &self,
        filter: OrderFilter,
        page: PageRequest,
    ) -> Result<Page<OrderRecord>, StoreError>;
    /// The lines of several orders (for lists), by order.
    async fn items_of_orders(&self, ids: &[OrderId]) -> Result<Vec<OrderItemRecord>, StoreError>;
    /// The downloadable files of an order's FILE lines.
    async fn order_assets(&self, id: OrderId) -> Result<Vec<AssetRecord>, StoreError>;
    /// The payouts of an order.
    async fn order_payouts(&self, id: OrderId) -> Result<Vec<PayoutRecord>, StoreError>;
    /// The order a Checkout Session belongs to.
    async fn order_by_session(&self, session_id: &str) -> Result<Option<OrderId>, StoreError>;
    /// A seller's balance.
    async fn seller_balance(&self, seller: UserId, currency: Currency)
    -> Result<Cents, StoreError>;
    /// A seller's balance movements, newest first.
    async fn seller_ledger(
        &self,
        seller: UserId,
        filter: &LedgerFilter,
        page: PageRequest,
    ) -> Result<Page<SellerLedgerLine>, StoreError>;
    /// A seller's payouts, newest first.
    async fn seller_payouts(
        &self,
        seller: UserId,
        page: PageRequest,
    ) -> Result<Page<PayoutRecord>, StoreError>;
    /// Σ of a seller's payouts decided but not confirmed (pending or failed): money on its way.
    async fn unconfirmed_payouts(&self, seller: UserId) -> Result<Cents, StoreError>;
    /// A seller's paid sales since a time.
    async fn seller_sales(
        &self,
        seller: UserId,
        since: OffsetDateTime,
    ) -> Result<SalesSummary, StoreError>;
    /// A seller's latest paid lines.
    async fn recent_sales(&self, seller: UserId, limit: i64) -> Result<Vec<SaleRow>, StoreError>;
    /// A seller's active and inactive listing counts.
    async fn listing_counts(&self, seller: UserId) -> Result<(i64, i64), StoreError>;
    /// A buyer's spending.
    async fn buyer_summary(&self, buyer: UserId) -> Result<BuyerSummary, StoreError>;
    /// A seller's Connect account row.
    async fn connect_account(
        &self,
        seller: UserId,
    ) -> Result<Option<ConnectAccountRecord>, StoreError>;
    /// Jobs in a state (all when `None`), newest first.
    async fn list_jobs(
        &self,
        status: Option<JobStatus>,
        page: PageRequest,
    ) -> Result<Page<JobRecord>, StoreError>;
    /// The outbox, newest first.
    async fn list_outbox(&self, page: PageRequest) -> Result<Page<MailRecord>, StoreError>;
    /// The site configuration.
    async fn site_config(&self) -> Result<SiteConfig, StoreError>;
}
