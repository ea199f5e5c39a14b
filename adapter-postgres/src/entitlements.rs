//! Entitlements, the download log and per-product download counts.

use async_trait::async_trait;
use marketplace_domain::entitlements::Entitlement;
use marketplace_domain::ids::{AssetId, OrderId, OrderItemId, ProductId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::{
    DownloadRecord, EntitlementQueries, EntitlementRecord, EntitlementStore, ProductDownloads,
    StoreError,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, found, store_error};
use crate::paging;
use crate::{PgStore, TxConn};

struct EntitlementRow {
    order_item_id: Uuid,
    order_id: Uuid,
    product_id: Uuid,
    seller_id: Uuid,
    granted_at: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
    download_limit: Option<i32>,
    downloads: i32,
    revoked_at: Option<OffsetDateTime>,
}

impl TryFrom<EntitlementRow> for EntitlementRecord {
    type Error = StoreError;

    fn try_from(row: EntitlementRow) -> Result<Self, Self::Error> {
        let count = |n: i32| u32::try_from(n).map_err(|_| corrupt("entitlement", n));
        Ok(EntitlementRecord {
            order_item_id: OrderItemId::from_uuid(row.order_item_id),
            order_id: OrderId::from_uuid(row.order_id),
            product_id: ProductId::from_uuid(row.product_id),
            seller_id: UserId::from_uuid(row.seller_id),
            entitlement: Entitlement {
                granted_at: row.granted_at,
                expires_at: row.expires_at,
                download_limit: row.download_limit.map(count).transpose()?,
                downloads: count(row.downloads)?,
                revoked: row.revoked_at.is_some(),
            },
        })
    }
}

/// Entitlements of one transaction.
pub(crate) struct PgEntitlements(pub(crate) TxConn);

#[async_trait]
impl EntitlementStore for PgEntitlements {
    async fn grant_entitlements(&mut self, grants: &[EntitlementRecord]) -> Result<(), StoreError> {
        for grant in grants {
            let e = &grant.entitlement;
            let limit = e
                .download_limit
                .map(i32::try_from)
                .transpose()
                .map_err(|_| corrupt("entitlement", "download limit too large"))?;
            sqlx::query!(
                "insert into entitlements (order_item_id, order_id, product_id, seller_id,
                    granted_at, expires_at, download_limit)
                 values ($1, $2, $3, $4, $5, $6, $7)
                 on conflict (order_item_id) do nothing",
                grant.order_item_id.get(),
                grant.order_id.get(),
                grant.product_id.get(),
                grant.seller_id.get(),
                e.granted_at,
                e.expires_at,
                limit,
            )
            .execute(&mut **self.0.lock().await)
            .await
            .map_err(store_error)?;
        }
        Ok(())
    }

    async fn set_entitlement_revoked(
        &mut self,
        line: OrderItemId,
        revoked_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        // Keeps the first revocation time while it stands.
        sqlx::query!(
            "update entitlements
             set revoked_at = case when $2::timestamptz is null then null
                                   else coalesce(revoked_at, $2) end
             where order_item_id = $1",
            line.get(),
            revoked_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn entitlement_for_update(
        &mut self,
        order: OrderId,
        product: ProductId,
    ) -> Result<Option<EntitlementRecord>, StoreError> {
        let row = sqlx::query_as!(
            EntitlementRow,
            "select order_item_id, order_id, product_id, seller_id, granted_at, expires_at,
                    download_limit, downloads, revoked_at
             from entitlements where order_id = $1 and product_id = $2
             order by order_item_id limit 1 for update",
            order.get(),
            product.get(),
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        row.map(EntitlementRecord::try_from).transpose()
    }

    async fn record_download(&mut self, download: &DownloadRecord) -> Result<(), StoreError> {
        let mut conn = self.0.lock().await;
        let product = sqlx::query!(
            "update entitlements set downloads = downloads + case when $2 then 1 else 0 end
             where order_item_id = $1
             returning product_id, seller_id",
            download.order_item_id.get(),
            download.counted,
        )
        .fetch_optional(&mut **conn)
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        sqlx::query!(
            "insert into download_log (order_item_id, order_id, asset_id, user_id, bytes,
                downloaded_at, counted)
             values ($1, $2, $3, $4, $5, $6, $7)",
            download.order_item_id.get(),
            download.order_id.get(),
            download.asset_id.get(),
            download.user_id.map(UserId::get),
            download.bytes,
            download.downloaded_at,
            download.counted,
        )
        .execute(&mut **conn)
        .await
        .map_err(store_error)?;
        if !download.counted {
            return Ok(());
        }
        let result = sqlx::query!(
            "insert into product_downloads (product_id, seller_id, downloads) values ($1, $2, 1)
             on conflict (product_id) do update set downloads = product_downloads.downloads + 1",
            product.product_id,
            product.seller_id,
        )
        .execute(&mut **conn)
        .await
        .map_err(store_error)?;
        found(result.rows_affected())
    }
}

#[async_trait]
impl EntitlementQueries for PgStore {
    async fn order_entitlements(
        &self,
        order: OrderId,
    ) -> Result<Vec<EntitlementRecord>, StoreError> {
        let rows = sqlx::query_as!(
            EntitlementRow,
            "select e.order_item_id, e.order_id, e.product_id, e.seller_id, e.granted_at,
                    e.expires_at, e.download_limit, e.downloads, e.revoked_at
             from entitlements e join order_items i on i.id = e.order_item_id
             where e.order_id = $1 order by i.position",
            order.get()
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.into_iter().map(EntitlementRecord::try_from).collect()
    }

    async fn order_downloads(
        &self,
        order: OrderId,
        page: PageRequest,
    ) -> Result<Page<DownloadRecord>, StoreError> {
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from download_log where order_id = $1"#,
            order.get()
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        let rows = sqlx::query!(
            "select order_item_id, order_id, asset_id, user_id, bytes, downloaded_at, counted
             from download_log where order_id = $1 order by id desc limit $2 offset $3",
            order.get(),
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let items = rows
            .into_iter()
            .map(|r| DownloadRecord {
                order_item_id: OrderItemId::from_uuid(r.order_item_id),
                order_id: OrderId::from_uuid(r.order_id),
                asset_id: AssetId::from_uuid(r.asset_id),
                user_id: r.user_id.map(UserId::from_uuid),
                bytes: r.bytes,
                downloaded_at: r.downloaded_at,
                counted: r.counted,
            })
            .collect();
        Ok(paging::page_of(items, page, total))
    }

    async fn seller_downloads(
        &self,
        seller: UserId,
        page: PageRequest,
    ) -> Result<Page<ProductDownloads>, StoreError> {
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from product_downloads where seller_id = $1"#,
            seller.get()
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        let rows = sqlx::query!(
            "select d.product_id, p.title, d.downloads
             from product_downloads d join products p on p.id = d.product_id
             where d.seller_id = $1
             order by d.downloads desc, d.product_id limit $2 offset $3",
            seller.get(),
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let items = rows
            .into_iter()
            .map(|r| ProductDownloads {
                product_id: ProductId::from_uuid(r.product_id),
                title: r.title,
                downloads: r.downloads,
            })
            .collect();
        Ok(paging::page_of(items, page, total))
    }
}
