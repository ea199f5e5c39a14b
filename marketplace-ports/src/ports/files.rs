//! Stored files (images, digital assets, avatars), chunked so no file sits whole in memory.

use async_trait::async_trait;
use marketplace_domain::ids::BlobId;
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// A stored file's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobMeta {
    /// Id.
    pub id: BlobId,
    /// Served content type.
    pub content_type: String,
    /// Total size in bytes.
    pub size_bytes: i64,
    /// Number of chunks (0-based sequence numbers below this).
    pub chunk_count: i32,
}

/// File bytes, inside a transaction.
#[async_trait]
pub trait BlobStore: Send {
    /// Stores a file.
    async fn insert_blob(
        &mut self,
        id: BlobId,
        content_type: &str,
        bytes: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Deletes a file (no longer referenced). Missing is fine.
    async fn delete_blob(&mut self, id: BlobId) -> Result<(), StoreError>;
}

/// File reads.
#[async_trait]
pub trait FileQueries: Send + Sync {
    /// A stored file's metadata.
    async fn blob_meta(&self, id: BlobId) -> Result<Option<BlobMeta>, StoreError>;
    /// One chunk of a stored file (0-based); `None` past the end.
    async fn blob_chunk(&self, id: BlobId, seq: i32) -> Result<Option<Vec<u8>>, StoreError>;
}

impl dyn Tx + '_ {
    /// The file bytes of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn blobs(&mut self) -> Result<&mut (dyn BlobStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// File reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn files(&self) -> Result<&dyn FileQueries, StoreError> {
        self.get()
    }
}
