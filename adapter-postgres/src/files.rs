//! File bytes in PostgreSQL, in chunks, so any number of app instances share them and a large
//! file never has to sit whole in memory.

use async_trait::async_trait;
use marketplace_domain::ids::BlobId;
use marketplace_ports::ports::{BlobMeta, BlobStore, FileQueries, StoreError};
use time::OffsetDateTime;

use crate::errors::store_error;
use crate::{PgStore, TxConn};

/// Size of one stored chunk.
pub const CHUNK_SIZE: usize = 256 * 1024;

/// The file bytes of one transaction.
pub(crate) struct PgBlobs(pub(crate) TxConn);

#[async_trait]
impl BlobStore for PgBlobs {
    async fn insert_blob(
        &mut self,
        id: BlobId,
        content_type: &str,
        bytes: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let chunks: Vec<&[u8]> = bytes.chunks(CHUNK_SIZE).collect();
        let chunk_count = i32::try_from(chunks.len())
            .map_err(|_| StoreError::Unavailable("file too large".into()))?;
        let size = i64::try_from(bytes.len())
            .map_err(|_| StoreError::Unavailable("file too large".into()))?;
        let mut tx = self.0.lock().await;
        sqlx::query!(
            "insert into blobs (id, content_type, size_bytes, chunk_count, created_at)
             values ($1, $2, $3, $4, $5)",
            id.get(),
            content_type,
            size,
            chunk_count,
            now,
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        for (seq, chunk) in (0_i32..).zip(chunks) {
            sqlx::query!(
                "insert into blob_chunks (blob_id, seq, data) values ($1, $2, $3)",
                id.get(),
                seq,
                chunk,
            )
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
        }
        Ok(())
    }

    async fn delete_blob(&mut self, id: BlobId) -> Result<(), StoreError> {
        sqlx::query!("delete from blobs where id = $1", id.get())
            .execute(&mut **self.0.lock().await)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

#[async_trait]
impl FileQueries for PgStore {
    async fn blob_meta(&self, id: BlobId) -> Result<Option<BlobMeta>, StoreError> {
        let row = sqlx::query!(
            "select id, content_type, size_bytes, chunk_count from blobs where id = $1",
            id.get()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(row.map(|row| BlobMeta {
            id: BlobId::from_uuid(row.id),
            content_type: row.content_type,
            size_bytes: row.size_bytes,
            chunk_count: row.chunk_count,
        }))
    }

    async fn blob_chunk(&self, id: BlobId, seq: i32) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query_scalar!(
            "select data from blob_chunks where blob_id = $1 and seq = $2",
            id.get(),
            seq
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)
    }
}
