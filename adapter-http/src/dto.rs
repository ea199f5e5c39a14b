//! Wire shapes shared by several areas of the API. Amounts are `*_cents` integers with a
//! `currency`; prices are also given as decimal strings (`"12.50"`) for display.

use marketplace_domain::catalog::CategoryType;
use marketplace_domain::catalog::{PhysicalAttributes, ProductKind};
use marketplace_domain::money::Currency;
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::payouts::PayoutStatus;
use marketplace_domain::reviews::RatingSummary;
use marketplace_ports::ports::{
    AssetRecord, CategoryRecord, PayoutRecord, ProductImageRecord, UserRecord,
};
use marketplace_ports::use_cases::listings::{ProductDetailView, ProductView};
use poem_openapi::types::{ParseFromJSON, ToJSON};
use poem_openapi::{Enum, Object};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::api::reviews::{RatingDto, ReviewDto, rating_dto, review_dto};
use crate::error::ApiError;
use crate::params::{PageNumber, Param, PerPage};

/// Listing kind on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename_all = "UPPERCASE")]
#[serde(rename_all = "UPPERCASE")]
pub enum KindDto {
    /// Physical printed model.
    Model,
    /// Digital file.
    File,
}

impl From<KindDto> for ProductKind {
    fn from(kind: KindDto) -> Self {
        match kind {
            KindDto::Model => ProductKind::Model,
            KindDto::File => ProductKind::File,
        }
    }
}

impl From<ProductKind> for KindDto {
    fn from(kind: ProductKind) -> Self {
        match kind {
            ProductKind::Model => KindDto::Model,
            ProductKind::File => KindDto::File,
        }
    }
}

impl From<KindDto> for CategoryType {
    fn from(kind: KindDto) -> Self {
        match kind {
            KindDto::Model => CategoryType::Model,
            KindDto::File => CategoryType::File,
        }
    }
}

impl From<CategoryType> for KindDto {
    fn from(kind: CategoryType) -> Self {
        match kind {
            CategoryType::Model => KindDto::Model,
            CategoryType::File => KindDto::File,
        }
    }
}

/// A page of results.
#[derive(Debug, Clone, Object)]
pub struct PageDto<T: ParseFromJSON + ToJSON> {
    /// The rows.
    pub items: Vec<T>,
    /// 1-based page number.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
    /// Matching rows over all pages.
    pub total: u64,
}

impl<T: ParseFromJSON + ToJSON> PageDto<T> {
    /// Converts a domain page.
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        PageDto {
            page: page.request.page(),
            per_page: page.request.per_page(),
            total: page.total,
            items: page.items.into_iter().map(f).collect(),
        }
    }
}

/// A payout to one seller for one order.
#[derive(Debug, Clone, Object)]
pub struct PayoutDto {
    /// The order.
    pub order_id: Uuid,
    /// The seller.
    pub seller_id: Uuid,
    /// `pending`, `paid`, `skipped` or `failed`.
    pub status: String,
    /// The amount decided (absent for skipped payouts).
    #[oai(nullable)]
    pub amount_cents: Option<i64>,
    /// Stripe's transfer, once paid.
    #[oai(nullable)]
    pub transfer_id: Option<String>,
    /// Why it was skipped: `seller_not_ready` (paid when the seller's account becomes ready) or
    /// `nothing_owed` (the order's earnings went against an earlier debt).
    #[oai(nullable)]
    pub skip_reason: Option<String>,
    /// The last error of a failed attempt (it is retried).
    #[oai(nullable)]
    pub last_error: Option<String>,
    /// Decided.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// The wire shape of a payout record.
pub fn payout_dto(record: PayoutRecord) -> PayoutDto {
    let (status, amount, transfer_id, skip_reason) = match record.status {
        PayoutStatus::Pending { amount } => ("pending", Some(amount), None, None),
        PayoutStatus::Paid {
            amount,
            transfer_id,
        } => ("paid", Some(amount), Some(transfer_id), None),
        PayoutStatus::Skipped(reason) => ("skipped", None, None, Some(reason.as_str())),
        PayoutStatus::Failed { amount } => ("failed", Some(amount), None, None),
    };
    PayoutDto {
        order_id: record.order_id.get(),
        seller_id: record.seller_id.get(),
        status: status.to_owned(),
        amount_cents: amount.map(|a| a.get()),
        transfer_id,
        skip_reason: skip_reason.map(str::to_owned),
        last_error: record.last_error,
        created_at: record.created_at,
        updated_at: record.updated_at,
    }
}

/// Validates `page` / `per_page` query parameters.
pub fn page_request(
    page: Option<PageNumber>,
    per_page: Option<PerPage>,
) -> Result<PageRequest, ApiError> {
    PageRequest::parse(page.map(Param::into_inner), per_page.map(Param::into_inner))
        .map_err(ApiError::invalid)
}

/// A user as `/me` shows it.
#[derive(Debug, Clone, Object)]
pub struct UserDto {
    /// Id.
    pub id: Uuid,
    /// Username.
    pub username: String,
    /// Account e-mail.
    pub email: String,
    /// Seller (or owner).
    pub is_seller: bool,
    /// Owner.
    pub is_owner: bool,
    /// Staff.
    pub is_staff: bool,
}

impl From<&UserRecord> for UserDto {
    fn from(user: &UserRecord) -> Self {
        UserDto {
            id: user.id.get(),
            username: user.username.clone(),
            email: user.email.clone(),
            is_seller: user.roles.is_seller(),
            is_owner: user.roles.is_owner(),
            is_staff: user.roles.is_staff(),
        }
    }
}

/// A category.
#[derive(Debug, Clone, Object)]
pub struct CategoryDto {
    /// Id.
    pub id: Uuid,
    /// Tree: `MODEL` or `FILE`.
    #[oai(rename = "type")]
    pub category_type: KindDto,
    /// Name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Root parent, for subcategories.
    #[oai(nullable)]
    pub parent_id: Option<Uuid>,
    /// Description.
    pub description: String,
    /// Publicly visible.
    pub is_active: bool,
    /// Ordering key.
    pub sort_order: i32,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last changed.
    pub updated_at: OffsetDateTime,
}

impl From<CategoryRecord> for CategoryDto {
    fn from(c: CategoryRecord) -> Self {
        CategoryDto {
            id: c.id.get(),
            category_type: c.category_type.into(),
            name: c.name,
            slug: c.slug,
            parent_id: c.parent_id.map(|p| p.get()),
            description: c.description,
            is_active: c.is_active,
            sort_order: c.sort_order,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// The seller of a listing.
#[derive(Debug, Clone, Object)]
pub struct SellerRefDto {
    /// Seller id.
    pub id: Uuid,
    /// Shop name, else username.
    pub public_name: String,
}

/// Physical attributes of a model.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct PhysicalDto {
    /// Material.
    #[oai(default)]
    #[serde(default)]
    #[oai(validator(max_length = 120))]
    pub material: String,
    /// Colour.
    #[oai(default)]
    #[serde(default)]
    #[oai(validator(max_length = 120))]
    pub color: String,
    /// Width (mm).
    #[oai(nullable, validator(minimum(value = "0"), maximum(value = "100000")))]
    pub width_mm: Option<i32>,
    /// Height (mm).
    #[oai(nullable, validator(minimum(value = "0"), maximum(value = "100000")))]
    pub height_mm: Option<i32>,
    /// Depth (mm).
    #[oai(nullable, validator(minimum(value = "0"), maximum(value = "100000")))]
    pub depth_mm: Option<i32>,
}

impl From<PhysicalDto> for PhysicalAttributes {
    fn from(p: PhysicalDto) -> Self {
        PhysicalAttributes {
            material: p.material,
            color: p.color,
            width_mm: p.width_mm,
            height_mm: p.height_mm,
            depth_mm: p.depth_mm,
        }
    }
}

impl From<PhysicalAttributes> for PhysicalDto {
    fn from(p: PhysicalAttributes) -> Self {
        PhysicalDto {
            material: p.material,
            color: p.color,
            width_mm: p.width_mm,
            height_mm: p.height_mm,
            depth_mm: p.depth_mm,
        }
    }
}

/// A listing in lists.
#[derive(Debug, Clone, Object)]
pub struct ProductDto {
    /// Id.
    pub id: Uuid,
    /// Kind.
    pub kind: KindDto,
    /// Title.
    pub title: String,
    /// Slug (unique per seller).
    pub slug: String,
    /// Short description.
    pub short_description: String,
    /// Price as a decimal string, e.g. `"12.50"`.
    pub price: String,
    /// Price in cents.
    pub price_cents: i64,
    /// Currency of the price.
    pub currency: String,
    /// Free listing.
    pub is_free: bool,
    /// Publicly visible.
    pub is_active: bool,
    /// Featured on the home page.
    pub is_featured: bool,
    /// Manually marked trending.
    pub is_trending: bool,
    /// Seller.
    pub seller: SellerRefDto,
    /// Category.
    pub category_id: Uuid,
    /// Category name.
    pub category_name: String,
    /// URL of the primary image.
    #[oai(nullable)]
    pub primary_image_url: Option<String>,
    /// Whether it can be bought now (the seller can receive payouts).
    pub can_buy: bool,
    /// Marked trending by the owners, or among the 12 best trending scores at the last refresh.
    pub trending_badge: bool,
    /// Average review rating with two decimals (`"4.67"`), absent without reviews.
    #[oai(nullable)]
    pub avg_rating: Option<String>,
    /// Number of reviews.
    pub review_count: i64,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last changed.
    pub updated_at: OffsetDateTime,
}

/// An image of a listing.
#[derive(Debug, Clone, Object)]
pub struct ImageDto {
    /// Id.
    pub id: Uuid,
    /// Where to fetch the bytes.
    pub url: String,
    /// The primary image.
    pub is_primary: bool,
    /// Alt text.
    pub alt_text: String,
    /// Ordering key.
    pub sort_order: i32,
}

/// A digital file of a listing.
#[derive(Debug, Clone, Object)]
pub struct AssetDto {
    /// Id.
    pub id: Uuid,
    /// File name.
    pub file_name: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// Uploaded.
    pub created_at: OffsetDateTime,
}

/// A listing with everything its page shows.
#[derive(Debug, Clone, Object)]
pub struct ProductDetailDto {
    /// The list fields.
    #[oai(flatten)]
    pub product: ProductDto,
    /// Description.
    pub description: String,
    /// Every image.
    pub images: Vec<ImageDto>,
    /// Digital files (downloads come with a paid order).
    pub files: Vec<AssetDto>,
    /// Physical attributes (models).
    #[oai(nullable)]
    pub physical: Option<PhysicalDto>,
    /// Licence (files).
    #[oai(nullable)]
    pub license_text: Option<String>,
    /// The newest reviews (the rest: `GET /api/v1/products/{id}/reviews`).
    pub latest_reviews: Vec<ReviewDto>,
    /// The seller's rating from seller reviews.
    pub seller_rating: RatingDto,
    /// Up to 8 active listings of the same kind, those of the same category first.
    pub more_like_this: Vec<ProductDto>,
}

/// The URL an image is served from.
pub fn image_url(product: Uuid, image: Uuid) -> String {
    format!("/api/v1/products/{product}/images/{image}")
}

/// Builds the list shape of a listing.
pub fn product_dto(view: ProductView, currency: Currency) -> ProductDto {
    let p = view.product;
    let listing = p.listing;
    let avg_rating = RatingSummary {
        count: p.review_count,
        sum: p.rating_sum,
    }
    .average();
    ProductDto {
        id: p.id.get(),
        kind: listing.kind.into(),
        title: listing.title,
        slug: p.slug,
        short_description: listing.short_description,
        price: listing.price.to_string(),
        price_cents: listing.price.get(),
        currency: currency.as_str().to_owned(),
        is_free: listing.is_free,
        is_active: listing.is_active,
        is_featured: listing.is_featured,
        is_trending: listing.is_trending,
        seller: SellerRefDto {
            id: view.seller_id.get(),
            public_name: view.seller_name,
        },
        category_id: listing.category_id.get(),
        category_name: view.category_name,
        primary_image_url: view.primary_image.map(|i| image_url(p.id.get(), i.get())),
        can_buy: view.can_buy,
        trending_badge: view.trending_badge,
        avg_rating,
        review_count: p.review_count,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

/// Builds an image's shape.
pub fn image_dto(image: &ProductImageRecord) -> ImageDto {
    ImageDto {
        id: image.id.get(),
        url: image_url(image.product_id.get(), image.id.get()),
        is_primary: image.is_primary,
        alt_text: image.alt_text.clone(),
        sort_order: image.sort_order,
    }
}

/// Builds an asset's shape.
pub fn asset_dto(asset: &AssetRecord) -> AssetDto {
    AssetDto {
        id: asset.id.get(),
        file_name: asset.original_filename.clone(),
        size_bytes: asset.size_bytes,
        created_at: asset.created_at,
    }
}

/// Builds the detail shape of a listing.
pub fn product_detail_dto(detail: ProductDetailView, currency: Currency) -> ProductDetailDto {
    let listing = &detail.view.product.listing;
    let description = listing.description.clone();
    let physical = listing.physical.clone().map(PhysicalDto::from);
    let license_text = listing.license_text.clone();
    ProductDetailDto {
        latest_reviews: detail.latest_reviews.into_iter().map(review_dto).collect(),
        seller_rating: rating_dto(detail.seller_rating),
        more_like_this: detail
            .more_like_this
            .into_iter()
            .map(|v| product_dto(v, currency))
            .collect(),
        images: detail.images.iter().map(image_dto).collect(),
        files: detail.assets.iter().map(asset_dto).collect(),
        product: product_dto(detail.view, currency),
        description,
        physical,
        license_text,
    }
}
