//! Digital entitlements: what each paid FILE line lets its buyer download, the download log, and
//! the per-product download counts sellers see (docs/money.md, "Digital entitlements").

use async_trait::async_trait;
use marketplace_domain::entitlements::Entitlement;
use marketplace_domain::ids::{AssetId, OrderId, OrderItemId, ProductId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// An entitlement as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntitlementRecord {
    /// The FILE line that granted it.
    pub order_item_id: OrderItemId,
    /// Its order (whose buyer or guest token may use it).
    pub order_id: OrderId,
    /// The product whose files it covers.
    pub product_id: ProductId,
    /// The product's seller.
    pub seller_id: UserId,
    /// The rule's state: limit, expiry, downloads, revocation.
    pub entitlement: Entitlement,
}

/// One download, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadRecord {
    /// The line whose entitlement it used.
    pub order_item_id: OrderItemId,
    /// The order.
    pub order_id: OrderId,
    /// The file.
    pub asset_id: AssetId,
    /// Who (none for a guest with the order's token).
    pub user_id: Option<UserId>,
    /// Bytes served.
    pub bytes: i64,
    /// When.
    pub downloaded_at: OffsetDateTime,
    /// Counted on the entitlement and the product (a buyer's download; staff's are only logged).
    pub counted: bool,
}

/// How often a seller's product was downloaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductDownloads {
    /// The product.
    pub product_id: ProductId,
    /// Its title.
    pub title: String,
    /// Downloads by all its buyers.
    pub downloads: i64,
}

/// Entitlements, inside a transaction.
#[async_trait]
pub trait EntitlementStore: Send {
    /// Grants entitlements (a line granted before keeps its own).
    async fn grant_entitlements(&mut self, grants: &[EntitlementRecord]) -> Result<(), StoreError>;
    /// Revokes a line's entitlement, or gives it back (`None`).
    async fn set_entitlement_revoked(
        &mut self,
        line: OrderItemId,
        revoked_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError>;
    /// An order's entitlement for a product, locked.
    async fn entitlement_for_update(
        &mut self,
        order: OrderId,
        product: ProductId,
    ) -> Result<Option<EntitlementRecord>, StoreError>;
    /// Logs a download and, when it is `counted`, counts it on its entitlement and product.
    async fn record_download(&mut self, download: &DownloadRecord) -> Result<(), StoreError>;
}

/// Entitlement reads.
#[async_trait]
pub trait EntitlementQueries: Send + Sync {
    /// An order's entitlements, in line order.
    async fn order_entitlements(
        &self,
        order: OrderId,
    ) -> Result<Vec<EntitlementRecord>, StoreError>;
    /// An order's downloads, newest first.
    async fn order_downloads(
        &self,
        order: OrderId,
        page: PageRequest,
    ) -> Result<Page<DownloadRecord>, StoreError>;
    /// A seller's products by downloads, most downloaded first.
    async fn seller_downloads(
        &self,
        seller: UserId,
        page: PageRequest,
    ) -> Result<Page<ProductDownloads>, StoreError>;
}

impl dyn Tx + '_ {
    /// The entitlements of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn entitlements(&mut self) -> Result<&mut (dyn EntitlementStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Entitlement reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn entitlements(&self) -> Result<&dyn EntitlementQueries, StoreError> {
        self.get()
    }
}
