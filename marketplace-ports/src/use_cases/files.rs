//! Serving stored files: listing images, avatars and (to whoever may have them) digital assets.
//! Files are read chunk by chunk so a large download never sits whole in memory.

use marketplace_domain::ids::{BlobId, ProductId, ProductImageId, UserId};

use crate::ports::{BlobMeta, StoreError};
use crate::use_cases::{ErrorKind, UseCaseError};

/// Why a file could not be served.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// No such file.
    #[error("file not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for FileError {
    fn kind(&self) -> ErrorKind {
        match self {
            FileError::NotFound => ErrorKind::NotFound,
            FileError::Store(e) => e.kind(),
        }
    }
}

operation_group!(
    /// Serving stored files.
    FileServing
);

impl FileServing {
    /// The bytes' metadata of a listing image.
    ///
    /// # Errors
    /// [`FileError::NotFound`] when the image is not the listing's.
    pub async fn product_image(
        &self,
        product: ProductId,
        image: ProductImageId,
    ) -> Result<BlobMeta, FileError> {
        let image = self
            .deps
            .queries
            .listings()?
            .product_image(product, image)
            .await?
            .ok_or(FileError::NotFound)?;
        self.blob(image.blob_id).await
    }

    /// The bytes' metadata of a user's avatar.
    ///
    /// # Errors
    /// [`FileError::NotFound`] when the user has none.
    pub async fn avatar(&self, user: UserId) -> Result<BlobMeta, FileError> {
        let (_, profile) = self
            .deps
            .queries
            .accounts()?
            .user_profile(user)
            .await?
            .ok_or(FileError::NotFound)?;
        self.blob(profile.avatar.ok_or(FileError::NotFound)?).await
    }

    /// A stored file's metadata.
    ///
    /// # Errors
    /// [`FileError::NotFound`].
    pub async fn blob(&self, id: BlobId) -> Result<BlobMeta, FileError> {
        self.deps
            .queries
            .files()?
            .blob_meta(id)
            .await?
            .ok_or(FileError::NotFound)
    }

    /// One chunk of a stored file; `None` past the end.
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn chunk(&self, id: BlobId, seq: i32) -> Result<Option<Vec<u8>>, FileError> {
        Ok(self.deps.queries.files()?.blob_chunk(id, seq).await?)
    }
}
