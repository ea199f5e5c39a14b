//! A listing's images (one primary; deleting it promotes the next) and, for FILE listings, the
//! digital files buyers download.

use marketplace_domain::catalog::{ProductKind, validate_alt_text};
use marketplace_domain::files::{UploadError, check_asset, check_image, clean_file_name};
use marketplace_domain::ids::{AssetId, BlobId, ProductId, ProductImageId};
use marketplace_domain::validation::FieldErrors;
use uuid::Uuid;

use super::{ListingAccessError, begin_listing_change, may_manage, require_seller};
use crate::ports::{AssetRecord, ProductImageRecord, StoreError};
use crate::use_cases::{Actor, ErrorKind, UploadedFile, UseCaseError};

/// Why an image or file operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Some fields are invalid.
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// No such listing, image or file, or not the caller's.
    #[error("not found")]
    NotFound,
    /// The caller is not a seller.
    #[error("only sellers can manage listings; opt in as a seller in your profile")]
    NotASeller,
    /// The seller's Stripe Connect account is not ready yet.
    #[error("finish Stripe onboarding before you create or modify listings")]
    ConnectNotReady,
    /// An uploaded file was refused.
    #[error(transparent)]
    Upload(#[from] UploadError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ListingAccessError> for MediaError {
    fn from(error: ListingAccessError) -> Self {
        match error {
            ListingAccessError::NotASeller => MediaError::NotASeller,
            ListingAccessError::ConnectNotReady => MediaError::ConnectNotReady,
            ListingAccessError::NotFound => MediaError::NotFound,
            ListingAccessError::Store(e) => MediaError::Store(e),
        }
    }
}

impl UseCaseError for MediaError {
    fn kind(&self) -> ErrorKind {
        match self {
            MediaError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            MediaError::NotFound => ErrorKind::NotFound,
            MediaError::NotASeller => ErrorKind::Forbidden {
                code: "not_a_seller",
            },
            MediaError::ConnectNotReady => ErrorKind::Forbidden {
                code: "connect_not_ready",
            },
            MediaError::Upload(e) => e.kind(),
            MediaError::Store(e) => e.kind(),
        }
    }
}

/// A new image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewImage {
    /// The file.
    pub file: UploadedFile,
    /// Alt text.
    pub alt_text: Option<String>,
    /// Make it the primary image (the first image always is).
    pub is_primary: bool,
}

operation_group!(
    /// Listing images and digital assets.
    ListingMedia
);

impl ListingMedia {
    /// Adds an image to one of the caller's listings. The first image, or one uploaded with
    /// `is_primary`, becomes the primary image.
    ///
    /// # Errors
    /// [`MediaError::Upload`] for a file that is not an accepted image or too large.
    pub async fn add_image(
        &self,
        actor: &Actor,
        id: ProductId,
        image: NewImage,
    ) -> Result<ProductImageRecord, MediaError> {
        require_seller(actor)?;
        let format = check_image(image.file.size(), &image.file.bytes)?;
        let alt_text = validate_alt_text(image.alt_text.as_deref().unwrap_or_default())
            .map_err(MediaError::Invalid)?;
        let (mut tx, _) = begin_listing_change(&self.deps, actor, id).await?;
        let existing = tx.product_media()?.list_images(id).await?;
        let next_sort = existing
            .iter()
            .map(|i| i.sort_order)
            .max()
            .map_or(0, |max| max.saturating_add(1));
        let now = self.deps.clock.now();
        let blob_id = BlobId::from_uuid(Uuid::now_v7());
        tx.blobs()?
            .insert_blob(blob_id, format.content_type(), &image.file.bytes, now)
            .await?;
        let record = ProductImageRecord {
            id: ProductImageId::from_uuid(Uuid::now_v7()),
            product_id: id,
            blob_id,
            alt_text,
            is_primary: image.is_primary || !existing.iter().any(|i| i.is_primary),
            sort_order: next_sort,
            created_at: now,
        };
        tx.product_media()?.insert_image(&record).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Makes an image the primary one.
    ///
    /// # Errors
    /// [`MediaError::NotFound`] when the image is not on the caller's listing.
    pub async fn set_primary_image(
        &self,
        actor: &Actor,
        id: ProductId,
        image: ProductImageId,
    ) -> Result<(), MediaError> {
        let (mut tx, _) = begin_listing_change(&self.deps, actor, id).await?;
        if !tx
            .product_media()?
            .list_images(id)
            .await?
            .iter()
            .any(|i| i.id == image)
        {
            return Err(MediaError::NotFound);
        }
        tx.product_media()?.set_primary_image(id, image).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes an image; deleting the primary one promotes the next by sort order.
    ///
    /// # Errors
    /// [`MediaError::NotFound`] when the image is not on the caller's listing.
    pub async fn delete_image(
        &self,
        actor: &Actor,
        id: ProductId,
        image: ProductImageId,
    ) -> Result<(), MediaError> {
        let (mut tx, _) = begin_listing_change(&self.deps, actor, id).await?;
        let deleted = tx
            .product_media()?
            .delete_image(id, image)
            .await?
            .ok_or(MediaError::NotFound)?;
        tx.blobs()?.delete_blob(deleted.blob_id).await?;
        if deleted.is_primary {
            let remaining = tx.product_media()?.list_images(id).await?;
            if let Some(next) = remaining.first() {
                tx.product_media()?.set_primary_image(id, next.id).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds a downloadable file to one of the caller's FILE listings.
    ///
    /// # Errors
    /// [`MediaError::Invalid`] for a MODEL listing, [`MediaError::Upload`] for a refused file.
    pub async fn add_asset(
        &self,
        actor: &Actor,
        id: ProductId,
        file: UploadedFile,
    ) -> Result<AssetRecord, MediaError> {
        require_seller(actor)?;
        let file_name = clean_file_name(&file.file_name, "download");
        let content_type = check_asset(file.size(), &file_name)?;
        let (mut tx, product) = begin_listing_change(&self.deps, actor, id).await?;
        if product.listing.kind != ProductKind::File {
            return Err(MediaError::Invalid(FieldErrors::single(
                "file",
                "digital assets are only for FILE listings",
            )));
        }
        let now = self.deps.clock.now();
        let blob_id = BlobId::from_uuid(Uuid::now_v7());
        tx.blobs()?
            .insert_blob(blob_id, content_type, &file.bytes, now)
            .await?;
        let record = AssetRecord {
            id: AssetId::from_uuid(Uuid::now_v7()),
            product_id: id,
            blob_id,
            original_filename: file_name,
            size_bytes: i64::try_from(file.bytes.len()).unwrap_or(i64::MAX),
            created_at: now,
        };
        tx.product_media()?.insert_asset(&record).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes a downloadable file.
    ///
    /// # Errors
    /// [`MediaError::NotFound`] when it is not on the caller's listing.
    pub async fn delete_asset(
        &self,
        actor: &Actor,
        id: ProductId,
        asset: AssetId,
    ) -> Result<(), MediaError> {
        let (mut tx, _) = begin_listing_change(&self.deps, actor, id).await?;
        let deleted = tx
            .product_media()?
            .delete_asset(id, asset)
            .await?
            .ok_or(MediaError::NotFound)?;
        tx.blobs()?.delete_blob(deleted.blob_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The seller's own files of a listing (to check their uploads).
    ///
    /// # Errors
    /// [`MediaError::NotFound`] when the listing is not the caller's.
    pub async fn assets(
        &self,
        actor: &Actor,
        id: ProductId,
    ) -> Result<Vec<AssetRecord>, MediaError> {
        require_seller(actor)?;
        let detail = self
            .deps
            .queries
            .listings()?
            .product_detail(id)
            .await?
            .filter(|d| may_manage(actor, &d.row.product))
            .ok_or(MediaError::NotFound)?;
        Ok(detail.assets)
    }

    /// The seller's own copy of one file (to check an upload).
    ///
    /// # Errors
    /// [`MediaError::NotFound`] when it is not on the caller's listing.
    pub async fn my_asset(
        &self,
        actor: &Actor,
        id: ProductId,
        asset: AssetId,
    ) -> Result<AssetRecord, MediaError> {
        self.assets(actor, id)
            .await?
            .into_iter()
            .find(|a| a.id == asset)
            .ok_or(MediaError::NotFound)
    }
}
