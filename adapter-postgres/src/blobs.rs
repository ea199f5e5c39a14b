//! File bytes, stored in fixed-size chunks so reads can stream and rows stay moderate.

use marketplace_domain::ids::BlobId;
use marketplace_ports::ports::{BlobMeta, StoreError};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::store_error;

/// Bytes per chunk row.
pub const CHUNK_SIZE: usize = 256 * 1024;

pub(crate) async fn insert_blob(
    conn: &mut PgConnection,
    id: BlobId,
    content_type: &str,
    bytes: &[u8],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let chunks: Vec<&[u8]> = bytes.chunks(CHUNK_SIZE).collect();
    let chunk_count = i32::try_from(chunks.len())
        .map_err(|_| StoreError::Unavailable("file too large".into()))?;
    let size =
        i64::try_from(bytes.len()).map_err(|_| StoreError::Unavailable("file too large".into()))?;
    sqlx::query("insert into blobs (id, content_type, size_bytes, chunk_count, created_at) values ($1, $2, $3, $4, $5)")
        .bind(id.get())
        .bind(content_type)
        .bind(size)
        .bind(chunk_count)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    for (seq, chunk) in (0_i32..).zip(chunks) {
        sqlx::query("insert into blob_chunks (blob_id, seq, data) values ($1, $2, $3)")
            .bind(id.get())
            .bind(seq)
            .bind(chunk)
            .execute(&mut *conn)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

pub(crate) async fn delete_blob(conn: &mut PgConnection, id: BlobId) -> Result<(), StoreError> {
    sqlx::query("delete from blobs where id = $1")
        .bind(id.get())
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct BlobRow {
    id: Uuid,
    content_type: String,
    size_bytes: i64,
    chunk_count: i32,
}

pub(crate) async fn blob_meta(
    conn: &mut PgConnection,
    id: BlobId,
) -> Result<Option<BlobMeta>, StoreError> {
    let row: Option<BlobRow> =
        sqlx::query_as("select id, content_type, size_bytes, chunk_count from blobs where id = $1")
            .bind(id.get())
            .fetch_optional(conn)
            .await
            .map_err(store_error)?;
    Ok(row.map(|row| BlobMeta {
        id: BlobId::from_uuid(row.id),
        content_type: row.content_type,
        size_bytes: row.size_bytes,
        chunk_count: row.chunk_count,
    }))
}

pub(crate) async fn blob_chunk(
    conn: &mut PgConnection,
    id: BlobId,
    seq: i32,
) -> Result<Option<Vec<u8>>, StoreError> {
    sqlx::query_scalar("select data from blob_chunks where blob_id = $1 and seq = $2")
        .bind(id.get())
        .bind(seq)
        .fetch_optional(conn)
        .await
        .map_err(store_error)
}
