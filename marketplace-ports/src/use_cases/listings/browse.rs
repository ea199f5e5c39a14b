//! Public listings: a paginated search and a detail page.

use marketplace_domain::catalog::ProductKind;
use marketplace_domain::ids::{CategoryId, ProductId, ProductImageId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};

use super::may_manage;
use marketplace_domain::engagement::{EngagementKind, MORE_LIKE_THIS};
use marketplace_domain::reviews::{RatingSummary, ReviewSort};

use crate::ports::{
    AssetRecord, ListingOrder, ListingSignal, ProductDetailRow, ProductFilter, ProductImageRecord,
    ProductListRow, ProductRecord, ReviewView, StoreError,
};
use crate::use_cases::discovery::Visitor;
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why a listing could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum ListingBrowseError {
    /// No such listing (or an inactive one, to anyone but its seller and owners).
    #[error("not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for ListingBrowseError {
    fn kind(&self) -> ErrorKind {
        match self {
            ListingBrowseError::NotFound => ErrorKind::NotFound,
            ListingBrowseError::Store(e) => e.kind(),
        }
    }
}

/// A listing as shown in lists: the product, seller label, category name, primary image and
/// whether it can be bought now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductView {
    /// The listing.
    pub product: ProductRecord,
    /// Seller id.
    pub seller_id: UserId,
    /// Seller's public label.
    pub seller_name: String,
    /// Category name.
    pub category_name: String,
    /// Primary image.
    pub primary_image: Option<ProductImageId>,
    /// True when the seller can sell (owner, or Connect account ready).
    pub can_buy: bool,
    /// Owners marked it trending, or its score is among the best positive ones at the last
    /// trending refresh.
    pub trending_badge: bool,
}

/// A listing's detail page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductDetailView {
    /// The listing as in lists.
    pub view: ProductView,
    /// Every image.
    pub images: Vec<ProductImageRecord>,
    /// Digital files (names and sizes; downloads come with a paid order).
    pub assets: Vec<AssetRecord>,
    /// The newest reviews (public pages; empty in sellers' own views).
    pub latest_reviews: Vec<ReviewView>,
    /// The seller's rating from seller reviews (public pages).
    pub seller_rating: RatingSummary,
    /// Up to [`MORE_LIKE_THIS`] active listings of the same kind, those of the same category
    /// first, newest first (public pages).
    pub more_like_this: Vec<ProductView>,
}

/// How many reviews a product page shows; the rest are a page away.
pub const LATEST_REVIEWS: u32 = 3;

/// Builds the list view of a row; `can_buy` is the domain's readiness rule.
pub fn product_view(row: ProductListRow) -> ProductView {
    ProductView {
        trending_badge: row.product.listing.is_trending || row.trending.rank.is_some(),
        seller_id: row.seller.id,
        seller_name: row.seller.public_name(),
        can_buy: row.seller.can_sell(),
        category_name: row.category_name,
        primary_image: row.primary_image,
        product: row.product,
    }
}

/// Builds the detail view of a row.
pub(crate) fn detail_view(detail: ProductDetailRow) -> ProductDetailView {
    ProductDetailView {
        view: product_view(detail.row),
        images: detail.images,
        assets: detail.assets,
        latest_reviews: Vec::new(),
        seller_rating: RatingSummary::default(),
        more_like_this: Vec::new(),
    }
}

/// How a public list is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProductSort {
    /// Newest first.
    #[default]
    New,
    /// Best rated first (a Bayesian average: see docs/reviews.md, "Ratings").
    Top,
    /// Cheapest first.
    PriceAscending,
    /// Dearest first.
    PriceDescending,
    /// Best trending score first (docs/discovery.md, "Trending").
    Trending,
}

/// One page of a public list, and whether its order fell back for want of data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductList {
    /// The listings.
    pub page: Page<ProductView>,
    /// `sort=trending` and no matching listing has a positive score: the order is then by rating
    /// and newest only.
    pub trending_fallback: bool,
    /// `sort=top` and no matching listing has a review: the order is then newest first.
    pub top_fallback: bool,
}

/// A public product search.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductQuery {
    /// Only this kind.
    pub kind: Option<ProductKind>,
    /// Text to look for.
    pub text: Option<String>,
    /// A category (its direct children are included).
    pub category: Option<CategoryId>,
    /// Only this seller's listings (their public page).
    pub seller: Option<UserId>,
    /// Ordering.
    pub sort: ProductSort,
}

operation_group!(
    /// Public listings.
    ListingBrowsing
);

impl ListingBrowsing {
    /// Active listings matching a query, one page.
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn browse(
        &self,
        query: ProductQuery,
        page: PageRequest,
    ) -> Result<ProductList, ListingBrowseError> {
        let categories = match query.category {
            None => None,
            Some(id) => Some(self.category_with_children(id).await?),
        };
        let filter = ProductFilter {
            kind: query.kind,
            text: query
                .text
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
            categories,
            seller: query.seller,
            order: match query.sort {
                ProductSort::New => ListingOrder::Newest,
                ProductSort::Top => ListingOrder::TopRated,
                ProductSort::PriceAscending => ListingOrder::PriceAscending,
                ProductSort::PriceDescending => ListingOrder::PriceDescending,
                ProductSort::Trending => ListingOrder::Trending,
            },
            ..ProductFilter::default()
        };
        let listings = self.deps.queries.listings()?;
        let page = listings
            .list_products(&filter, page)
            .await?
            .map(product_view);
        let fallback = match query.sort {
            ProductSort::Trending => Some(ListingSignal::Trending),
            ProductSort::Top => Some(ListingSignal::Reviewed),
            _ => None,
        };
        let fell_back = match fallback {
            Some(signal) => !listings.any_with_signal(&filter, signal).await?,
            None => false,
        };
        Ok(ProductList {
            page,
            trending_fallback: fell_back && query.sort == ProductSort::Trending,
            top_fallback: fell_back && query.sort == ProductSort::Top,
        })
    }

    async fn category_with_children(
        &self,
        id: CategoryId,
    ) -> Result<Vec<CategoryId>, ListingBrowseError> {
        let tree = self.deps.queries.catalog()?.active_category_tree().await?;
        let mut ids = vec![id];
        if let Some(root) = tree.into_iter().find(|root| root.category.id == id) {
            ids.extend(root.children.iter().map(|c| c.id));
        }
        Ok(ids)
    }

    /// A listing's detail page. Inactive listings are visible only to their seller and owners.
    /// A view of an active listing is counted for trending (throttled per visitor).
    ///
    /// # Errors
    /// [`ListingBrowseError::NotFound`].
    pub async fn detail(
        &self,
        viewer: Option<&Actor>,
        visitor: &Visitor,
        id: ProductId,
    ) -> Result<ProductDetailView, ListingBrowseError> {
        let detail = self
            .deps
            .queries
            .listings()?
            .product_detail(id)
            .await?
            .ok_or(ListingBrowseError::NotFound)?;
        let product = &detail.row.product;
        let visible =
            product.listing.is_active || viewer.is_some_and(|actor| may_manage(actor, product));
        if !visible {
            return Err(ListingBrowseError::NotFound);
        }
        let seller = detail.row.seller.id;
        let reviews = self.deps.queries.reviews()?;
        let latest = PageRequest::parse(None, Some(i64::from(LATEST_REVIEWS)))
            .unwrap_or_else(|_| PageRequest::first());
        let latest_reviews = reviews
            .product_reviews(id, ReviewSort::Newest, latest)
            .await?
            .items;
        let seller_rating = reviews.seller_rating(seller).await?;
        let more_like_this = self.more_like_this(product).await?;
        if product.listing.is_active {
            self.deps
                .engagement
                .record(visitor, id, EngagementKind::View, self.deps.clock.now());
        }
        Ok(ProductDetailView {
            latest_reviews,
            seller_rating,
            more_like_this,
            ..detail_view(detail)
        })
    }

    /// Up to [`MORE_LIKE_THIS`] active listings of the product's kind, those of its category
    /// first, newest first: at most two bounded queries.
    async fn more_like_this(
        &self,
        product: &ProductRecord,
    ) -> Result<Vec<ProductView>, ListingBrowseError> {
        let listings = self.deps.queries.listings()?;
        let same_kind = ProductFilter {
            kind: Some(product.listing.kind),
            exclude: vec![product.id],
            ..ProductFilter::default()
        };
        let mut found = listings
            .first_products(
                &ProductFilter {
                    categories: Some(vec![product.listing.category_id]),
                    ..same_kind.clone()
                },
                MORE_LIKE_THIS,
            )
            .await?;
        let wanted = MORE_LIKE_THIS.saturating_sub(u32::try_from(found.len()).unwrap_or(0));
        if wanted > 0 {
            let mut exclude = same_kind.exclude.clone();
            exclude.extend(found.iter().map(|row| row.product.id));
            let others = ProductFilter {
                exclude,
                ..same_kind
            };
            found.extend(listings.first_products(&others, wanted).await?);
        }
        Ok(found.into_iter().map(product_view).collect())
    }
}
