//! Upload policy: which files the marketplace accepts, how large, and what they are served as.
//!
//! Images are recognised by their first bytes, never by the name or the client's content type, so
//! a script renamed `.png` is refused. Digital assets are accepted by extension from the 3D formats
//! sellers ship, and always served as downloads.

/// Largest product image or avatar, in bytes (5 MiB).
pub const IMAGE_MAX_BYTES: u64 = 5 * 1024 * 1024;
/// Largest digital asset, in bytes (50 MiB).
pub const ASSET_MAX_BYTES: u64 = 50 * 1024 * 1024;
/// Longest stored file name.
pub const FILE_NAME_MAX: usize = 255;

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// Larger than the limit for its kind.
    #[error("file is too large: {size} bytes, the limit is {limit} bytes")]
    TooLarge {
        /// Size received.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Zero bytes.
    #[error("file is empty")]
    Empty,
    /// Not a PNG, JPEG, GIF or WebP image.
    #[error("unsupported image type: upload a PNG, JPEG, GIF or WebP image")]
    NotAnImage,
    /// An asset extension we do not accept.
    #[error("unsupported file type {extension:?}: accepted are {accepted}")]
    UnsupportedAsset {
        /// The extension found (may be empty).
        extension: String,
        /// The accepted list, for the message.
        accepted: &'static str,
    },
}

/// Accepted image formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
}

impl ImageFormat {
    /// Every accepted format.
    pub const ALL: [ImageFormat; 4] = [
        ImageFormat::Png,
        ImageFormat::Jpeg,
        ImageFormat::Gif,
        ImageFormat::Webp,
    ];

    /// The MIME type served for it.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Gif => "image/gif",
            ImageFormat::Webp => "image/webp",
        }
    }
}

/// Recognises an image by its signature.
pub fn sniff_image(head: &[u8]) -> Option<ImageFormat> {
    if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(ImageFormat::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        None
    }
}

/// Checks an image upload: size within [`IMAGE_MAX_BYTES`], a recognised signature.
pub fn check_image(size: u64, head: &[u8]) -> Result<ImageFormat, UploadError> {
    check_size(size, IMAGE_MAX_BYTES)?;
    sniff_image(head).ok_or(UploadError::NotAnImage)
}

const ASSET_TYPES: &[(&str, &str)] = &[
    ("stl", "model/stl"),
    ("obj", "model/obj"),
    ("3mf", "model/3mf"),
    ("ply", "application/octet-stream"),
    ("amf", "application/octet-stream"),
    ("step", "model/step"),
    ("stp", "model/step"),
    ("gcode", "text/x-gcode"),
    ("blend", "application/octet-stream"),
    ("zip", "application/zip"),
];
/// The MIME types 3D files are served with, each once.
pub fn asset_content_types() -> Vec<&'static str> {
    let mut types: Vec<&'static str> = ASSET_TYPES.iter().map(|(_, mime)| *mime).collect();
    types.sort_unstable();
    types.dedup();
    types
}

const ACCEPTED_ASSETS: &str = ".stl, .obj, .3mf, .ply, .amf, .step, .stp, .gcode, .blend, .zip";

/// Checks a digital asset upload by size and extension; returns the content type to serve.
pub fn check_asset(size: u64, file_name: &str) -> Result<&'static str, UploadError> {
    check_size(size, ASSET_MAX_BYTES)?;
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    ASSET_TYPES
        .iter()
        .find(|(known, _)| *known == extension)
        .map(|(_, content_type)| *content_type)
        .ok_or(UploadError::UnsupportedAsset {
            extension,
            accepted: ACCEPTED_ASSETS,
        })
}

fn check_size(size: u64, limit: u64) -> Result<(), UploadError> {
    if size == 0 {
        Err(UploadError::Empty)
    } else if size > limit {
        Err(UploadError::TooLarge { size, limit })
    } else {
        Ok(())
    }
}

/// A file name safe to store and to put in a `Content-Disposition` header: the last path
/// component, without control characters or quotes, at most [`FILE_NAME_MAX`] characters.
pub fn clean_file_name(raw: &str, fallback: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';'))
        .take(FILE_NAME_MAX)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        fallback.to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_signature_not_name() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];
        assert_eq!(check_image(10, &png), Ok(ImageFormat::Png));
        assert_eq!(check_image(10, b"GIF89a...."), Ok(ImageFormat::Gif));
        assert_eq!(check_image(12, b"RIFF\0\0\0\0WEBP"), Ok(ImageFormat::Webp));
        assert_eq!(check_image(10, b"<script>.."), Err(UploadError::NotAnImage));
        assert_eq!(check_image(0, b""), Err(UploadError::Empty));
        assert!(matches!(
            check_image(IMAGE_MAX_BYTES + 1, &png),
            Err(UploadError::TooLarge { .. })
        ));
    }

    #[test]
    fn assets_are_accepted_by_3d_extension() {
        assert_eq!(check_asset(10, "Dragon.STL"), Ok("model/stl"));
        assert_eq!(check_asset(10, "pack.zip"), Ok("application/zip"));
        assert!(matches!(
            check_asset(10, "virus.exe"),
            Err(UploadError::UnsupportedAsset { .. })
        ));
        assert!(matches!(
            check_asset(10, "noext"),
            Err(UploadError::UnsupportedAsset { .. })
        ));
        assert!(matches!(
            check_asset(ASSET_MAX_BYTES + 1, "a.stl"),
            Err(UploadError::TooLarge { .. })
        ));
    }

    #[test]
    fn file_names_are_cleaned_for_headers() {
        assert_eq!(clean_file_name("../../etc/passwd", "file"), "passwd");
        assert_eq!(clean_file_name("C:\\models\\a\"b;.stl", "file"), "ab.stl");
        assert_eq!(clean_file_name("", "download"), "download");
        assert_eq!(clean_file_name(".hidden", "x"), "hidden");
    }
}
