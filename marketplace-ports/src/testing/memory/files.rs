//! File bytes, in memory (chunked like the real store, so chunk reads are exercised).

use async_trait::async_trait;
use marketplace_domain::ids::BlobId;
use time::OffsetDateTime;

use super::{Blob, MemoryStore, Working};
use crate::ports::{BlobMeta, BlobStore, FileQueries, StoreError};

/// Size of one chunk (small, so tests cross chunk boundaries).
const CHUNK_SIZE: usize = 4096;

pub(crate) struct MemBlobs(pub(crate) Working);

#[async_trait]
impl BlobStore for MemBlobs {
    async fn insert_blob(
        &mut self,
        id: BlobId,
        content_type: &str,
        bytes: &[u8],
        _now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let blob = Blob {
            content_type: content_type.to_owned(),
            chunks: bytes.chunks(CHUNK_SIZE).map(<[u8]>::to_vec).collect(),
            size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        };
        self.0.state("blobs.insert_blob")?.blobs.insert(id, blob);
        Ok(())
    }

    async fn delete_blob(&mut self, id: BlobId) -> Result<(), StoreError> {
        self.0.state("blobs.delete_blob")?.blobs.remove(&id);
        Ok(())
    }
}

#[async_trait]
impl FileQueries for MemoryStore {
    async fn blob_meta(&self, id: BlobId) -> Result<Option<BlobMeta>, StoreError> {
        let s = self.read("files.blob_meta")?;
        Ok(s.blobs.get(&id).map(|blob| BlobMeta {
            id,
            content_type: blob.content_type.clone(),
            size_bytes: blob.size,
            chunk_count: i32::try_from(blob.chunks.len()).unwrap_or(i32::MAX),
        }))
    }

    async fn blob_chunk(&self, id: BlobId, seq: i32) -> Result<Option<Vec<u8>>, StoreError> {
        let s = self.read("files.blob_chunk")?;
        let Ok(index) = usize::try_from(seq) else {
            return Ok(None);
        };
        Ok(s.blobs
            .get(&id)
            .and_then(|blob| blob.chunks.get(index))
            .cloned())
    }
}
