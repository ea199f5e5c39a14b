//! A listing's photos (one primary) and its downloadable files.

use super::*;

/// `POST /seller/listings/{id}/images` (multipart: `file`, `alt_text`, `is_primary`).
#[handler]
pub async fn add_image(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let id = product_id(&id)?;
    let back = format!("/seller/listings/{id}");
    let actor = require_seller(&visitor, &back)?;
    let upload = form::read_upload_form(&visitor, multipart, IMAGE_MAX_BYTES).await?;
    let Some(file) = upload.file else {
        return Ok(visitor.redirect_with_problem(&back, "Choose a photo to upload."));
    };
    let result = site
        .services
        .listing_media
        .add_image(
            actor,
            id,
            NewImage {
                file,
                alt_text: upload.fields.get("alt_text").cloned(),
                is_primary: upload.fields.contains_key("is_primary"),
            },
        )
        .await;
    visitor.after(&back, result, "Photo added.")
}

/// `POST /seller/listings/{id}/images/{image}/primary`.
#[handler]
pub async fn primary_image(
    visitor: Visitor,
    site: Data<&Site>,
    Path((id, image)): Path<(String, String)>,
    body: String,
) -> Result<Response, WebError> {
    let _: CsrfOnly = form::read(&visitor, &body)?;
    let id = product_id(&id)?;
    let image = form::path_id(&image)?;
    let actor = require_seller(&visitor, "/seller/listings")?;
    let result = site
        .services
        .listing_media
        .set_primary_image(actor, id, ProductImageId::from_uuid(image))
        .await;
    visitor.after(
        &format!("/seller/listings/{id}"),
        result,
        "Primary photo changed.",
    )
}

/// `POST /seller/listings/{id}/images/{image}/delete`.
#[handler]
pub async fn delete_image(
    visitor: Visitor,
    site: Data<&Site>,
    Path((id, image)): Path<(String, String)>,
    body: String,
) -> Result<Response, WebError> {
    let _: CsrfOnly = form::read(&visitor, &body)?;
    let id = product_id(&id)?;
    let image = form::path_id(&image)?;
    let actor = require_seller(&visitor, "/seller/listings")?;
    let result = site
        .services
        .listing_media
        .delete_image(actor, id, ProductImageId::from_uuid(image))
        .await;
    visitor.after(&format!("/seller/listings/{id}"), result, "Photo deleted.")
}

/// `POST /seller/listings/{id}/files` (multipart: `file`).
#[handler]
pub async fn add_file(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let id = product_id(&id)?;
    let back = format!("/seller/listings/{id}");
    let actor = require_seller(&visitor, &back)?;
    let upload = form::read_upload_form(&visitor, multipart, ASSET_MAX_BYTES).await?;
    let Some(file) = upload.file else {
        return Ok(visitor.redirect_with_problem(&back, "Choose a file to upload."));
    };
    let result = site.services.listing_media.add_asset(actor, id, file).await;
    visitor.after(&back, result, "File added.")
}

/// `POST /seller/listings/{id}/files/{asset}/delete`.
#[handler]
pub async fn delete_file(
    visitor: Visitor,
    site: Data<&Site>,
    Path((id, asset)): Path<(String, String)>,
    body: String,
) -> Result<Response, WebError> {
    let _: CsrfOnly = form::read(&visitor, &body)?;
    let id = product_id(&id)?;
    let asset = form::path_id(&asset)?;
    let actor = require_seller(&visitor, "/seller/listings")?;
    let result = site
        .services
        .listing_media
        .delete_asset(actor, id, AssetId::from_uuid(asset))
        .await;
    visitor.after(&format!("/seller/listings/{id}"), result, "File deleted.")
}
