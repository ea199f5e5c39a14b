//! Public listings: search, detail and images.

use marketplace_domain::ids::{CategoryId, ProductId, ProductImageId};
use marketplace_domain::money::Currency;
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::listings::{ProductQuery, ProductSort};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use crate::auth::MaybeAuth;
use crate::dto::{
    KindDto, PageDto, ProductDetailDto, ProductDto, page_request, product_detail_dto, product_dto,
};
use crate::error::ApiResult;
use crate::files::{FileResponse, stream_file};

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
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Products")]
impl ProductsApi {
    /// Active listings, paginated. `q` searches title and descriptions (case-insensitive);
    /// `category` includes the category's direct children.
    #[oai(path = "/products", method = "get")]
    async fn list(
        &self,
        kind: Query<Option<KindDto>>,
        q: Query<Option<String>>,
        category: Query<Option<Uuid>>,
        sort: Query<Option<SortDto>>,
        page: Query<Option<i64>>,
        per_page: Query<Option<i64>>,
    ) -> ApiResult<Json<PageDto<ProductDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let query = ProductQuery {
            kind: kind.0.map(Into::into),
            text: q.0,
            category: category.0.map(CategoryId::from_uuid),
            sort: match sort.0 {
                None | Some(SortDto::New) => ProductSort::New,
                Some(SortDto::Top) => ProductSort::Top,
                Some(SortDto::PriceAsc) => ProductSort::PriceAscending,
                Some(SortDto::PriceDesc) => ProductSort::PriceDescending,
            },
        };
        let found = self.services.listings.browse(query, request).await?;
        let currency = self.currency;
        Ok(Json(PageDto::from_page(found, |v| {
            product_dto(v, currency)
        })))
    }

    /// A listing with its images, files (names only), seller and whether it can be bought.
    /// Inactive listings are visible only to their seller and owners.
    #[oai(path = "/products/:id", method = "get")]
    async fn detail(&self, auth: MaybeAuth, id: Path<Uuid>) -> ApiResult<Json<ProductDetailDto>> {
        let detail = self
            .services
            .listings
            .detail(auth.actor(), ProductId::from_uuid(id.0))
            .await?;
        Ok(Json(product_detail_dto(detail, self.currency)))
    }

    /// An image's bytes.
    #[oai(path = "/products/:id/images/:image_id", method = "get")]
    async fn image(&self, id: Path<Uuid>, image_id: Path<Uuid>) -> ApiResult<FileResponse> {
        let meta = self
            .services
            .files
            .product_image(
                ProductId::from_uuid(id.0),
                ProductImageId::from_uuid(image_id.0),
            )
            .await?;
        Ok(stream_file(
            self.services.files.clone(),
            meta,
            None,
            "public, max-age=86400, immutable",
        ))
    }
}
