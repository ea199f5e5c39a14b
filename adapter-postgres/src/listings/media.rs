//! The images and digital assets of listings, inside a transaction.

use async_trait::async_trait;
use marketplace_domain::ids::{AssetId, BlobId, ProductId, ProductImageId};
use marketplace_ports::ports::{AssetRecord, ProductImageRecord, ProductMediaStore, StoreError};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::TxConn;
use crate::errors::{found, store_error};

pub(super) struct ImageRow {
    pub(super) id: Uuid,
    pub(super) product_id: Uuid,
    pub(super) blob_id: Uuid,
    pub(super) alt_text: String,
    pub(super) is_primary: bool,
    pub(super) sort_order: i32,
    pub(super) created_at: OffsetDateTime,
}

impl From<ImageRow> for ProductImageRecord {
    fn from(row: ImageRow) -> Self {
        ProductImageRecord {
            id: ProductImageId::from_uuid(row.id),
            product_id: ProductId::from_uuid(row.product_id),
            blob_id: BlobId::from_uuid(row.blob_id),
            alt_text: row.alt_text,
            is_primary: row.is_primary,
            sort_order: row.sort_order,
            created_at: row.created_at,
        }
    }
}

pub(super) struct AssetRow {
    pub(super) id: Uuid,
    pub(super) product_id: Uuid,
    pub(super) blob_id: Uuid,
    pub(super) original_filename: String,
    pub(super) size_bytes: i64,
    pub(super) created_at: OffsetDateTime,
}

impl From<AssetRow> for AssetRecord {
    fn from(row: AssetRow) -> Self {
        AssetRecord {
            id: AssetId::from_uuid(row.id),
            product_id: ProductId::from_uuid(row.product_id),
            blob_id: BlobId::from_uuid(row.blob_id),
            original_filename: row.original_filename,
            size_bytes: row.size_bytes,
            created_at: row.created_at,
        }
    }
}

async fn clear_primary(conn: &mut PgConnection, product: ProductId) -> Result<(), StoreError> {
    sqlx::query!(
        "update product_images set is_primary = false where product_id = $1 and is_primary",
        product.get()
    )
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

pub(super) async fn list_images(
    conn: &mut PgConnection,
    product: ProductId,
) -> Result<Vec<ProductImageRecord>, StoreError> {
    let rows = sqlx::query_as!(
        ImageRow,
        "select id, product_id, blob_id, alt_text, is_primary, sort_order, created_at
         from product_images where product_id = $1 order by sort_order, created_at, id",
        product.get()
    )
    .fetch_all(conn)
    .await
    .map_err(store_error)?;
    Ok(rows.into_iter().map(ProductImageRecord::from).collect())
}

pub(super) async fn list_assets(
    conn: &mut PgConnection,
    product: ProductId,
) -> Result<Vec<AssetRecord>, StoreError> {
    let rows = sqlx::query_as!(
        AssetRow,
        "select id, product_id, blob_id, original_filename, size_bytes, created_at
         from digital_assets where product_id = $1 order by created_at, id",
        product.get()
    )
    .fetch_all(conn)
    .await
    .map_err(store_error)?;
    Ok(rows.into_iter().map(AssetRecord::from).collect())
}

/// The images and assets of one transaction.
pub(crate) struct PgProductMedia(pub(crate) TxConn);

#[async_trait]
impl ProductMediaStore for PgProductMedia {
    async fn insert_image(&mut self, image: &ProductImageRecord) -> Result<(), StoreError> {
        let mut tx = self.0.lock().await;
        if image.is_primary {
            clear_primary(&mut tx, image.product_id).await?;
        }
        sqlx::query!(
            "insert into product_images (id, product_id, blob_id, alt_text, is_primary, sort_order, created_at)
             values ($1, $2, $3, $4, $5, $6, $7)",
            image.id.get(),
            image.product_id.get(),
            image.blob_id.get(),
            image.alt_text,
            image.is_primary,
            image.sort_order,
            image.created_at,
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn list_images(
        &mut self,
        product: ProductId,
    ) -> Result<Vec<ProductImageRecord>, StoreError> {
        list_images(&mut *self.0.lock().await, product).await
    }

    async fn delete_image(
        &mut self,
        product: ProductId,
        image: ProductImageId,
    ) -> Result<Option<ProductImageRecord>, StoreError> {
        let row = sqlx::query_as!(
            ImageRow,
            "delete from product_images where product_id = $1 and id = $2
             returning id, product_id, blob_id, alt_text, is_primary, sort_order, created_at",
            product.get(),
            image.get()
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(row.map(ProductImageRecord::from))
    }

    async fn set_primary_image(
        &mut self,
        product: ProductId,
        image: ProductImageId,
    ) -> Result<(), StoreError> {
        let mut tx = self.0.lock().await;
        clear_primary(&mut tx, product).await?;
        let result = sqlx::query!(
            "update product_images set is_primary = true where product_id = $1 and id = $2",
            product.get(),
            image.get()
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        found(result.rows_affected())
    }

    async fn insert_asset(&mut self, asset: &AssetRecord) -> Result<(), StoreError> {
        sqlx::query!(
            "insert into digital_assets (id, product_id, blob_id, original_filename, size_bytes, created_at)
             values ($1, $2, $3, $4, $5, $6)",
            asset.id.get(),
            asset.product_id.get(),
            asset.blob_id.get(),
            asset.original_filename,
            asset.size_bytes,
            asset.created_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn delete_asset(
        &mut self,
        product: ProductId,
        asset: AssetId,
    ) -> Result<Option<AssetRecord>, StoreError> {
        let row = sqlx::query_as!(
            AssetRow,
            "delete from digital_assets where product_id = $1 and id = $2
             returning id, product_id, blob_id, original_filename, size_bytes, created_at",
            product.get(),
            asset.get()
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(row.map(AssetRecord::from))
    }
}
