//! Streaming stored files to clients chunk by chunk, each with the content type it was stored
//! with, which the document lists per kind of file.

use std::marker::PhantomData;

use marketplace_domain::files::{ImageFormat, asset_content_types};
use marketplace_ports::ports::BlobMeta;
use marketplace_ports::use_cases::files::FileServing;
use poem::{Body, IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::Binary;
use poem_openapi::registry::{MetaMediaType, MetaResponses, Registry};

/// A stored file of kind `K`: documented with the content types files of that kind are served
/// with.
pub struct Served<K>(FileResponse, PhantomData<K>);

/// The content types a kind of stored file is served with.
pub trait ServedTypes: Send {
    /// Every content type, each once.
    fn content_types() -> Vec<&'static str>;
    /// Whether a client's copy is revalidated (`If-None-Match` → `304 Not Modified`).
    const REVALIDATED: bool;
}

/// Images (listing images, avatars).
pub struct Images;

impl ServedTypes for Images {
    fn content_types() -> Vec<&'static str> {
        ImageFormat::ALL.map(ImageFormat::content_type).to_vec()
    }
    const REVALIDATED: bool = true;
}

/// Digital 3D files.
pub struct Assets;

impl ServedTypes for Assets {
    fn content_types() -> Vec<&'static str> {
        asset_content_types()
    }
    // Downloads are counted and limited: each one is served in full.
    const REVALIDATED: bool = false;
}

impl<K: ServedTypes> ApiResponse for Served<K> {
    fn meta() -> MetaResponses {
        let mut meta = FileResponse::meta();
        meta.responses
            .retain(|response| K::REVALIDATED || response.status != Some(304));
        for response in &mut meta.responses {
            if let Some(schema) = response.content.first().map(|media| media.schema.clone()) {
                response.content = K::content_types()
                    .into_iter()
                    .map(|content_type| MetaMediaType {
                        content_type,
                        schema: schema.clone(),
                    })
                    .collect();
            }
        }
        meta
    }

    fn register(registry: &mut Registry) {
        FileResponse::register(registry);
    }
}

impl<K: ServedTypes> IntoResponse for Served<K> {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

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
        #[oai(header = "ETag")] Option<String>,
    ),
    /// The copy the client holds is current (its `If-None-Match` names this file).
    #[oai(status = 304)]
    NotModified(
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// Streams a stored file. `download_name` makes it an attachment; `cache` is the Cache-Control.
pub fn stream_file<K>(
    files: FileServing,
    meta: BlobMeta,
    download_name: Option<&str>,
    cache: &str,
) -> Served<K> {
    Served(stream(files, meta, download_name, cache, None), PhantomData)
}

/// Serves an image, revalidated by its blob's id: a blob's bytes never change (a new image or
/// avatar is a new blob), so the id names the bytes for good. `304 Not Modified` when
/// `if_none_match` names it, else the bytes with that `ETag`.
pub fn serve_image(
    files: FileServing,
    meta: BlobMeta,
    if_none_match: Option<&str>,
    cache: &str,
) -> Served<Images> {
    let etag = format!("\"{}\"", meta.id.get());
    if if_none_match.is_some_and(|tags| crate::cache::names_etag(tags, &etag)) {
        return Served(
            FileResponse::NotModified(etag, cache.to_owned()),
            PhantomData,
        );
    }
    Served(stream(files, meta, None, cache, Some(etag)), PhantomData)
}

fn stream(
    files: FileServing,
    meta: BlobMeta,
    download_name: Option<&str>,
    cache: &str,
    etag: Option<String>,
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
        etag,
    )
}
