//! Public listings: search, detail and images.

use marketplace_domain::catalog::ProductKind;
use marketplace_domain::ids::{CategoryId, ProductId, ProductImageId};
use marketplace_domain::money::Currency;
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::listings::{ProductQuery, ProductSort, ProductView};
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use crate::auth::{MaybeAuth, VisitorKey};
use crate::dto::{
    PageDto, ProductDetailDto, ProductDto, page_request, product_detail_dto, product_dto,
};
use crate::error::{ApiError, ApiResult};
use crate::files::{Images, Served, serve_image};
use crate::params::{AnyCaseKind, PageNumber, PerPage, Text};

/// Public listings.
pub struct ProductsApi {
    /// Use cases.
    pub services: Services,
    /// Currency prices are shown in.
    pub currency: Currency,
}

/// List order.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum SortDto {
    /// Newest first.
    New,
    /// Best rated first: the Bayesian average (15 + Σ stars) / (5 + reviews), so a few reviews
    /// do not outrank many good ones.
    Top,
    /// Cheapest first.
    PriceAsc,
    /// Dearest first.
    PriceDesc,
    /// Most engagement over the last 30 days: 6 · purchases + 3 · adds to cart + 1.25 · clicks +
    /// 2 · reviews + 0.25 · views + the average rating, then the average rating, then newest.
    Trending,
}

/// One page of listings, and whether its order fell back for want of data.
#[derive(Debug, Object)]
pub struct ProductListDto {
    /// The listings.
    pub items: Vec<ProductDto>,
    /// 1-based page number.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
    /// Matching listings over all pages.
    pub total: u64,
    /// `sort=trending` and no matching listing has any activity or rating yet: the order is
    /// newest first.
    pub trending_fallback: bool,
    /// `sort=top` and no matching listing has a review yet: the order is newest first.
    pub top_fallback: bool,
}

/// The home page's buckets of listing cards.
#[derive(Debug, Object)]
pub struct HomeDto {
    /// Featured by the owners, newest first.
    pub featured: Vec<ProductDto>,
    /// The newest listings.
    pub new: Vec<ProductDto>,
    /// Marked trending by the owners, then the best trending scores.
    pub trending: Vec<ProductDto>,
    /// The newest listings in none of the other buckets.
    pub more: Vec<ProductDto>,
}

/// Counted.
#[derive(ApiResponse)]
pub enum ClickResponse {
    /// Counted (or throttled: a repeat within five minutes is not counted again).
    #[oai(status = 204)]
    Counted,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Products")]
impl ProductsApi {
    /// Active listings, paginated. `kind` is `MODEL` or `FILE` (any case); `q` searches title and
    /// descriptions (case-insensitive); `category` includes the category's direct children.
    #[oai(path = "/products", method = "get")]
    async fn list(
        &self,
        kind: Query<Option<Text<AnyCaseKind>>>,
        q: Query<Option<String>>,
        category: Query<Option<Uuid>>,
        sort: Query<Option<SortDto>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<ProductListDto>> {
        let request = page_request(page.0, per_page.0)?;
        let kind =
            match kind.0.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(text) => Some(text.to_ascii_uppercase().parse::<ProductKind>().map_err(
                    |_| ApiError::invalid_field("kind", "must be MODEL or FILE (any case)"),
                )?),
            };
        let query = ProductQuery {
            seller: None,
            kind,
            text: q.0,
            category: category.0.map(CategoryId::from_uuid),
            sort: match sort.0 {
                None | Some(SortDto::New) => ProductSort::New,
                Some(SortDto::Top) => ProductSort::Top,
                Some(SortDto::PriceAsc) => ProductSort::PriceAscending,
                Some(SortDto::PriceDesc) => ProductSort::PriceDescending,
                Some(SortDto::Trending) => ProductSort::Trending,
            },
        };
        let found = self.services.listings.browse(query, request).await?;
        let currency = self.currency;
        let page = PageDto::from_page(found.page, |v| product_dto(v, currency));
        Ok(Json(ProductListDto {
            items: page.items,
            page: page.page,
            per_page: page.per_page,
            total: page.total,
            trending_fallback: found.trending_fallback,
            top_fallback: found.top_fallback,
        }))
    }

    /// The home page: featured, new, trending and more listings, eight each, in one request.
    #[oai(path = "/home", method = "get")]
    async fn home(&self) -> ApiResult<Json<HomeDto>> {
        let home = self.services.home.home().await?;
        let currency = self.currency;
        let cards = |views: Vec<ProductView>| {
            views
                .into_iter()
                .map(|v| product_dto(v, currency))
                .collect()
        };
        Ok(Json(HomeDto {
            featured: cards(home.featured),
            new: cards(home.new),
            trending: cards(home.trending),
            more: cards(home.more),
        }))
    }

    /// Count a click on a listing from a list (for trending); once per visitor and listing every
    /// five minutes.
    #[oai(path = "/products/:id/click", method = "post")]
    async fn click(&self, visitor: VisitorKey, id: Path<Uuid>) -> ApiResult<ClickResponse> {
        self.services
            .engagement
            .click(&visitor.0, ProductId::from_uuid(id.0))
            .await?;
        Ok(ClickResponse::Counted)
    }

    /// A listing with its images, files (names only), seller and whether it can be bought.
    /// Inactive listings are visible only to their seller and owners.
    #[oai(path = "/products/:id", method = "get")]
    async fn detail(
        &self,
        auth: MaybeAuth,
        visitor: VisitorKey,
        id: Path<Uuid>,
    ) -> ApiResult<Json<ProductDetailDto>> {
        let detail = self
            .services
            .listings
            .detail(auth.actor(), &visitor.0, ProductId::from_uuid(id.0))
            .await?;
        Ok(Json(product_detail_dto(detail, self.currency)))
    }

    /// An image's bytes, cached for a year: an image never changes under its id. Its `ETag`
    /// names its bytes; `If-None-Match` with it gets `304 Not Modified`.
    #[oai(path = "/products/:id/images/:image_id", method = "get")]
    async fn image(
        &self,
        id: Path<Uuid>,
        image_id: Path<Uuid>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> ApiResult<Served<Images>> {
        let meta = self
            .services
            .files
            .product_image(
                ProductId::from_uuid(id.0),
                ProductImageId::from_uuid(image_id.0),
            )
            .await?;
        Ok(serve_image(
            self.services.files.clone(),
            meta,
            if_none_match.0.as_deref(),
            "public, max-age=31536000, immutable",
        ))
    }
}
