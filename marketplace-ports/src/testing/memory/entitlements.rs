//! Entitlements, the download log and per-product counts, in memory.

use async_trait::async_trait;
use marketplace_domain::ids::{OrderId, OrderItemId, ProductId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;

use super::listings::page_of;
use super::{MemoryStore, Working};
use crate::ports::{
    DownloadRecord, EntitlementQueries, EntitlementRecord, EntitlementStore, ProductDownloads,
    StoreError,
};

pub(crate) struct MemEntitlements(pub(crate) Working);

#[async_trait]
impl EntitlementStore for MemEntitlements {
    async fn grant_entitlements(&mut self, grants: &[EntitlementRecord]) -> Result<(), StoreError> {
        let mut s = self.0.state("entitlements.grant_entitlements")?;
        for grant in grants {
            if !s
                .entitlements
                .iter()
                .any(|e| e.order_item_id == grant.order_item_id)
            {
                s.entitlements.push(grant.clone());
            }
        }
        Ok(())
    }

    async fn set_entitlement_revoked(
        &mut self,
        line: OrderItemId,
        revoked_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("entitlements.set_entitlement_revoked")?;
        if let Some(e) = s.entitlements.iter_mut().find(|e| e.order_item_id == line) {
            e.entitlement.revoked = revoked_at.is_some();
        }
        Ok(())
    }

    async fn entitlement_for_update(
        &mut self,
        order: OrderId,
        product: ProductId,
    ) -> Result<Option<EntitlementRecord>, StoreError> {
        let s = self.0.state("entitlements.entitlement_for_update")?;
        Ok(s.entitlements
            .iter()
            .find(|e| e.order_id == order && e.product_id == product)
            .cloned())
    }

    async fn record_download(&mut self, download: &DownloadRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("entitlements.record_download")?;
        let entitlement = s
            .entitlements
            .iter_mut()
            .find(|e| e.order_item_id == download.order_item_id)
            .ok_or(StoreError::NotFound)?;
        if download.counted {
            entitlement.entitlement.downloads = entitlement.entitlement.downloads.saturating_add(1);
        }
        s.downloads.push(download.clone());
        Ok(())
    }
}

#[async_trait]
impl EntitlementQueries for MemoryStore {
    async fn order_entitlements(
        &self,
        order: OrderId,
    ) -> Result<Vec<EntitlementRecord>, StoreError> {
        let s = self.read("entitlements.order_entitlements")?;
        Ok(s.entitlements
            .iter()
            .filter(|e| e.order_id == order)
            .cloned()
            .collect())
    }

    async fn order_downloads(
        &self,
        order: OrderId,
        page: PageRequest,
    ) -> Result<Page<DownloadRecord>, StoreError> {
        let s = self.read("entitlements.order_downloads")?;
        let found: Vec<DownloadRecord> = s
            .downloads
            .iter()
            .rev()
            .filter(|d| d.order_id == order)
            .cloned()
            .collect();
        Ok(page_of(found, page))
    }

    async fn seller_downloads(
        &self,
        seller: UserId,
        page: PageRequest,
    ) -> Result<Page<ProductDownloads>, StoreError> {
        let s = self.read("entitlements.seller_downloads")?;
        let mut counts: Vec<ProductDownloads> = Vec::new();
        for download in s.downloads.iter().filter(|d| d.counted) {
            let Some(e) = s
                .entitlements
                .iter()
                .find(|e| e.order_item_id == download.order_item_id && e.seller_id == seller)
            else {
                continue;
            };
            match counts.iter_mut().find(|c| c.product_id == e.product_id) {
                Some(count) => count.downloads += 1,
                None => counts.push(ProductDownloads {
                    product_id: e.product_id,
                    title: s
                        .products
                        .get(&e.product_id)
                        .map(|p| p.listing.title.clone())
                        .unwrap_or_default(),
                    downloads: 1,
                }),
            }
        }
        counts.sort_by(|a, b| {
            b.downloads
                .cmp(&a.downloads)
                .then(a.product_id.cmp(&b.product_id))
        });
        Ok(page_of(counts, page))
    }
}
