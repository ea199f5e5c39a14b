//! Streaming stored files to clients chunk by chunk.

use marketplace_ports::ports::BlobMeta;
use marketplace_ports::use_cases::files::FileServing;
use poem::Body;
use poem_openapi::ApiResponse;
use poem_openapi::payload::Binary;

/// A file's bytes.
#[derive(ApiResponse)]
pub enum FileResponse {
    /// The bytes, streamed.
    #[oai(status = 200)]
    Ok(
        Binary<Body>,
        #[oai(header = "Content-Type")] String,
        #[oai(header = "Content-Length")] i64,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Content-Disposition")] Option<String>,
        #[oai(header = "X-Content-Type-Options")] String,
    ),
}

/// Streams a stored file. `download_name` makes it an attachment; `cache` is the Cache-Control.
pub fn stream_file(
    files: FileServing,
    meta: BlobMeta,
    download_name: Option<&str>,
    cache: &str,
) -> FileResponse {
    let blob = meta.id;
    let chunks = meta.chunk_count;
    let stream = futures_util::stream::try_unfold(0_i32, move |seq| {
        let files = files.clone();
        async move {
            if seq >= chunks {
                return Ok(None);
            }
            match files.chunk(blob, seq).await {
                Ok(Some(bytes)) => Ok(Some((bytes, seq.saturating_add(1)))),
                Ok(None) => Err(std::io::Error::other(format!(
                    "chunk {seq} of file {blob} is missing"
                ))),
                Err(error) => Err(std::io::Error::other(error.to_string())),
            }
        }
    });
    let disposition = download_name.map(|name| format!("attachment; filename=\"{name}\""));
    FileResponse::Ok(
        Binary(Body::from_bytes_stream(stream)),
        meta.content_type,
        meta.size_bytes,
        cache.to_owned(),
        disposition,
        "nosniff".to_owned(),
    )
}
