//! The home page: the original's four buckets, each a bounded query.

use marketplace_domain::engagement::HOME_BUCKET_SIZE;
use marketplace_domain::ids::ProductId;

use crate::ports::{ListingOrder, ProductFilter, ProductListRow, StoreError};
use crate::use_cases::listings::{ProductView, product_view};

/// The home page's buckets of listing cards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HomePage {
    /// Listings owners marked featured, newest first.
    pub featured: Vec<ProductView>,
    /// The newest listings.
    pub new: Vec<ProductView>,
    /// Listings owners marked trending (newest first), then the best trending scores.
    pub trending: Vec<ProductView>,
    /// The newest listings in none of the other buckets.
    pub more: Vec<ProductView>,
}

operation_group!(
    /// The home page.
    Home
);

impl Home {
    /// The four buckets of [`HOME_BUCKET_SIZE`] listings: five queries whatever the catalogue's
    /// size.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn home(&self) -> Result<HomePage, StoreError> {
        let listings = self.deps.queries.listings()?;
        let newest = |filter: ProductFilter| ProductFilter {
            order: ListingOrder::Newest,
            ..filter
        };
        let featured = listings
            .first_products(
                &newest(ProductFilter {
                    featured_only: true,
                    ..ProductFilter::default()
                }),
                HOME_BUCKET_SIZE,
            )
            .await?;
        let new = listings
            .first_products(&newest(ProductFilter::default()), HOME_BUCKET_SIZE)
            .await?;
        let mut trending = listings
            .first_products(
                &newest(ProductFilter {
                    picked_trending_only: true,
                    ..ProductFilter::default()
                }),
                HOME_BUCKET_SIZE,
            )
            .await?;
        let wanted = HOME_BUCKET_SIZE.saturating_sub(u32::try_from(trending.len()).unwrap_or(0));
        if wanted > 0 {
            let computed = ProductFilter {
                order: ListingOrder::Trending,
                exclude: ids(&trending),
                ..ProductFilter::default()
            };
            trending.extend(listings.first_products(&computed, wanted).await?);
        }
        let mut shown = ids(&featured);
        shown.extend(ids(&new));
        shown.extend(ids(&trending));
        shown.sort_unstable();
        shown.dedup();
        let more = listings
            .first_products(
                &newest(ProductFilter {
                    exclude: shown,
                    ..ProductFilter::default()
                }),
                HOME_BUCKET_SIZE,
            )
            .await?;
        let views = |rows: Vec<ProductListRow>| rows.into_iter().map(product_view).collect();
        Ok(HomePage {
            featured: views(featured),
            new: views(new),
            trending: views(trending),
            more: views(more),
        })
    }
}

fn ids(rows: &[ProductListRow]) -> Vec<ProductId> {
    rows.iter().map(|row| row.product.id).collect()
}
