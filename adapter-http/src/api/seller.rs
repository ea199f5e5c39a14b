//! Sellers managing their listings, images and digital files. Creating, editing and uploading need
//! a ready Stripe Connect account (owners bypass); another seller's listing is a 404.

use marketplace_domain::catalog::{ListingChanges, ListingDraft};
use marketplace_domain::files::{ASSET_MAX_BYTES, IMAGE_MAX_BYTES};
use marketplace_domain::ids::{AssetId, CategoryId, ProductId, ProductImageId};
use marketplace_domain::money::Currency;
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::listings::NewImage;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Multipart, Object, OpenApi};
use uuid::Uuid;

use serde::Deserialize;

use super::ApiTags;
use crate::auth::Auth;
use crate::dto::{
    AssetDto, ImageDto, KindDto, PageDto, PhysicalDto, ProductDetailDto, ProductDto, asset_dto,
    image_dto, page_request, product_detail_dto, product_dto,
};
use crate::error::ApiResult;
use crate::files::{Assets, Served, stream_file};
use crate::json::JsonBody;
use crate::params::{PageNumber, PerPage};
use crate::read_upload;

/// Seller listing management.
pub struct SellerApi {
    /// Use cases.
    pub services: Services,
    /// Currency prices are shown in.
    pub currency: Currency,
}

/// A new listing.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct NewListingRequest {
    /// `MODEL` (physical, shipped) or `FILE` (digital download).
    pub kind: KindDto,
    /// Title (≤ 160).
    #[oai(validator(
        pattern = r"^[^\u0000]*[^\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000][^\u0000]*$",
        max_length = 160
    ))]
    pub title: String,
    /// Slug; derived from the title (and numbered if taken) when absent.
    #[oai(nullable, validator(pattern = r"^[a-z0-9_-]*$", max_length = 180))]
    pub slug: Option<String>,
    /// A category of the tree matching `kind`.
    pub category_id: Uuid,
    /// Price as a decimal string, e.g. `"12.50"`; required unless `is_free`.
    #[oai(nullable)]
    pub price: Option<String>,
    /// Free listing (price forced to 0).
    #[oai(nullable)]
    pub is_free: Option<bool>,
    /// Short description (≤ 280).
    #[oai(nullable, validator(max_length = 280))]
    pub short_description: Option<String>,
    /// Description.
    #[oai(nullable, validator(max_length = 20000))]
    pub description: Option<String>,
    /// Visible (default true).
    #[oai(nullable)]
    pub is_active: Option<bool>,
    /// Featured on the home page (owners only).
    #[oai(nullable)]
    pub is_featured: Option<bool>,
    /// Marked trending (owners only).
    #[oai(nullable)]
    pub is_trending: Option<bool>,
    /// Physical attributes (MODEL only).
    #[oai(nullable)]
    pub physical: Option<PhysicalDto>,
    /// Licence text (FILE only).
    #[oai(nullable, validator(max_length = 20000))]
    pub license_text: Option<String>,
}

/// Listing changes; absent fields stay. The kind cannot change.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ListingUpdateRequest {
    /// Must equal the current kind if sent.
    #[oai(nullable)]
    pub kind: Option<KindDto>,
    /// Title.
    #[oai(
        nullable,
        validator(
            pattern = r"^[^\u0000]*[^\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000][^\u0000]*$",
            max_length = 160
        )
    )]
    pub title: Option<String>,
    /// Slug.
    #[oai(nullable, validator(pattern = r"^[a-z0-9_-]*$", max_length = 180))]
    pub slug: Option<String>,
    /// Category.
    #[oai(nullable)]
    pub category_id: Option<Uuid>,
    /// Price.
    #[oai(nullable)]
    pub price: Option<String>,
    /// Free flag.
    #[oai(nullable)]
    pub is_free: Option<bool>,
    /// Short description.
    #[oai(nullable, validator(max_length = 280))]
    pub short_description: Option<String>,
    /// Description.
    #[oai(nullable, validator(max_length = 20000))]
    pub description: Option<String>,
    /// Visibility.
    #[oai(nullable)]
    pub is_active: Option<bool>,
    /// Featured (owners only).
    #[oai(nullable)]
    pub is_featured: Option<bool>,
    /// Trending (owners only).
    #[oai(nullable)]
    pub is_trending: Option<bool>,
    /// Physical attributes (MODEL only).
    #[oai(nullable)]
    pub physical: Option<PhysicalDto>,
    /// Licence (FILE only).
    #[oai(nullable, validator(max_length = 20000))]
    pub license_text: Option<String>,
}

/// An image upload.
#[derive(Debug, Multipart)]
#[oai(deny_unknown_fields)]
pub struct ImageUpload {
    /// PNG, JPEG, GIF or WebP, at most 5 MiB.
    pub file: Upload,
    /// Alt text (≤ 160).
    pub alt_text: Option<String>,
    /// Make it the primary image (the first image always is).
    pub is_primary: Option<bool>,
}

/// A digital file upload.
#[derive(Debug, Multipart)]
#[oai(deny_unknown_fields)]
pub struct AssetUpload {
    /// .stl, .obj, .3mf, .ply, .amf, .step, .stp, .gcode, .blend or .zip, at most 50 MiB.
    pub file: Upload,
}

/// Listing creation answer.
#[derive(ApiResponse)]
pub enum CreatedListing {
    /// Created.
    #[oai(status = 201)]
    Created(Json<ProductDetailDto>),
}

/// Image upload answer.
#[derive(ApiResponse)]
pub enum CreatedImage {
    /// Stored.
    #[oai(status = 201)]
    Created(Json<ImageDto>),
}

/// Asset upload answer.
#[derive(ApiResponse)]
pub enum CreatedAsset {
    /// Stored.
    #[oai(status = 201)]
    Created(Json<AssetDto>),
}

/// Empty success.
#[derive(ApiResponse)]
pub enum Done {
    /// Done.
    #[oai(status = 204)]
    Done,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Seller")]
impl SellerApi {
    /// Your listings (owners see everyone's), newest first; `q` searches them. Not gated on
    /// Stripe readiness.
    #[oai(path = "/seller/products", method = "get")]
    async fn mine(
        &self,
        auth: Auth,
        q: Query<Option<String>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<ProductDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let found = self
            .services
            .my_listings
            .mine(auth.actor(), q.0, request)
            .await?;
        let currency = self.currency;
        Ok(Json(PageDto::from_page(found, |v| {
            product_dto(v, currency)
        })))
    }

    /// Create a listing.
    #[oai(path = "/seller/products", method = "post")]
    async fn create(
        &self,
        auth: Auth,
        body: JsonBody<NewListingRequest>,
    ) -> ApiResult<CreatedListing> {
        let b = body.0;
        let created = self
            .services
            .my_listings
            .create(
                auth.actor(),
                ListingDraft {
                    kind: b.kind.into(),
                    title: b.title,
                    slug: b.slug,
                    category_id: CategoryId::from_uuid(b.category_id),
                    price: b.price,
                    is_free: b.is_free.unwrap_or(false),
                    short_description: b.short_description,
                    description: b.description,
                    is_active: b.is_active,
                    is_featured: b.is_featured,
                    is_trending: b.is_trending,
                    physical: b.physical.map(Into::into),
                    license_text: b.license_text,
                },
            )
            .await?;
        Ok(CreatedListing::Created(Json(product_detail_dto(
            created,
            self.currency,
        ))))
    }

    /// One of your listings, with images and files.
    #[oai(path = "/seller/products/:id", method = "get")]
    async fn get(&self, auth: Auth, id: Path<Uuid>) -> ApiResult<Json<ProductDetailDto>> {
        let detail = self
            .services
            .my_listings
            .get_mine(auth.actor(), ProductId::from_uuid(id.0))
            .await?;
        Ok(Json(product_detail_dto(detail, self.currency)))
    }

    /// Edit one of your listings; the result must pass every rule.
    #[oai(path = "/seller/products/:id", method = "patch")]
    async fn update(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<ListingUpdateRequest>,
    ) -> ApiResult<Json<ProductDetailDto>> {
        let b = body.0;
        let updated = self
            .services
            .my_listings
            .update(
                auth.actor(),
                ProductId::from_uuid(id.0),
                ListingChanges {
                    kind: b.kind.map(Into::into),
                    title: b.title,
                    slug: b.slug,
                    category_id: b.category_id.map(CategoryId::from_uuid),
                    price: b.price,
                    is_free: b.is_free,
                    short_description: b.short_description,
                    description: b.description,
                    is_active: b.is_active,
                    is_featured: b.is_featured,
                    is_trending: b.is_trending,
                    physical: b.physical.map(Into::into),
                    license_text: b.license_text,
                },
            )
            .await?;
        Ok(Json(product_detail_dto(updated, self.currency)))
    }

    /// Flip a listing between active and inactive.
    #[oai(path = "/seller/products/:id/toggle-active", method = "post")]
    async fn toggle(&self, auth: Auth, id: Path<Uuid>) -> ApiResult<Json<ProductDetailDto>> {
        let detail = self
            .services
            .my_listings
            .toggle_active(auth.actor(), ProductId::from_uuid(id.0))
            .await?;
        Ok(Json(product_detail_dto(detail, self.currency)))
    }

    /// Add an image (multipart: `file`, `alt_text`, `is_primary`).
    #[oai(path = "/seller/products/:id/images", method = "post")]
    async fn add_image(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        upload: ImageUpload,
    ) -> ApiResult<CreatedImage> {
        if let Some(alt_text) = &upload.alt_text {
            crate::input::form_text("alt_text", alt_text)?;
        }
        let file = read_upload(upload.file, IMAGE_MAX_BYTES).await?;
        let image = self
            .services
            .listing_media
            .add_image(
                auth.actor(),
                ProductId::from_uuid(id.0),
                NewImage {
                    file,
                    alt_text: upload.alt_text,
                    is_primary: upload.is_primary.unwrap_or(false),
                },
            )
            .await?;
        Ok(CreatedImage::Created(Json(image_dto(&image))))
    }

    /// Make an image the primary one.
    #[oai(
        path = "/seller/products/:id/images/:image_id/primary",
        method = "post"
    )]
    async fn set_primary(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        image_id: Path<Uuid>,
    ) -> ApiResult<Done> {
        self.services
            .listing_media
            .set_primary_image(
                auth.actor(),
                ProductId::from_uuid(id.0),
                ProductImageId::from_uuid(image_id.0),
            )
            .await?;
        Ok(Done::Done)
    }

    /// Delete an image; deleting the primary one promotes the next.
    #[oai(path = "/seller/products/:id/images/:image_id", method = "delete")]
    async fn delete_image(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        image_id: Path<Uuid>,
    ) -> ApiResult<Done> {
        self.services
            .listing_media
            .delete_image(
                auth.actor(),
                ProductId::from_uuid(id.0),
                ProductImageId::from_uuid(image_id.0),
            )
            .await?;
        Ok(Done::Done)
    }

    /// The digital files of one of your FILE listings.
    #[oai(path = "/seller/products/:id/assets", method = "get")]
    async fn assets(&self, auth: Auth, id: Path<Uuid>) -> ApiResult<Json<Vec<AssetDto>>> {
        let detail = self
            .services
            .my_listings
            .get_mine(auth.actor(), ProductId::from_uuid(id.0))
            .await?;
        Ok(Json(detail.assets.iter().map(asset_dto).collect()))
    }

    /// Add a digital file to a FILE listing (multipart: `file`).
    #[oai(path = "/seller/products/:id/assets", method = "post")]
    async fn add_asset(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        upload: AssetUpload,
    ) -> ApiResult<CreatedAsset> {
        let file = read_upload(upload.file, ASSET_MAX_BYTES).await?;
        let asset = self
            .services
            .listing_media
            .add_asset(auth.actor(), ProductId::from_uuid(id.0), file)
            .await?;
        Ok(CreatedAsset::Created(Json(asset_dto(&asset))))
    }

    /// Download one of your digital files (to check an upload).
    #[oai(path = "/seller/products/:id/assets/:asset_id", method = "get")]
    async fn download_asset(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        asset_id: Path<Uuid>,
    ) -> ApiResult<Served<Assets>> {
        let asset = self
            .services
            .listing_media
            .my_asset(
                auth.actor(),
                ProductId::from_uuid(id.0),
                AssetId::from_uuid(asset_id.0),
            )
            .await?;
        let meta = self.services.files.blob(asset.blob_id).await?;
        Ok(stream_file(
            self.services.files.clone(),
            meta,
            Some(&asset.original_filename),
            "private, no-store",
        ))
    }

    /// Delete a digital file.
    #[oai(path = "/seller/products/:id/assets/:asset_id", method = "delete")]
    async fn delete_asset(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        asset_id: Path<Uuid>,
    ) -> ApiResult<Done> {
        self.services
            .listing_media
            .delete_asset(
                auth.actor(),
                ProductId::from_uuid(id.0),
                AssetId::from_uuid(asset_id.0),
            )
            .await?;
        Ok(Done::Done)
    }
}
