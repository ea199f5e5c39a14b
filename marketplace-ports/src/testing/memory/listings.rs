//! Listings, their images and assets, and the listing queries, in memory.

use std::cmp::Reverse;

use async_trait::async_trait;
use marketplace_domain::engagement::trending_score;
use marketplace_domain::ids::{AssetId, ProductId, ProductImageId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::reviews::RatingSummary;

use super::{MemoryStore, State, Working, conflict};
use crate::ports::{
    AssetRecord, ListingCounts, ListingOrder, ListingQueries, ListingSignal, ProductDetailRow,
    ProductFilter, ProductImageRecord, ProductListRow, ProductMediaStore, ProductRecord,
    ProductStore, SellerRow, StoreError,
};

pub(crate) struct MemProducts(pub(crate) Working);

fn slug_clash(s: &State, product: &ProductRecord) -> bool {
    s.products
        .values()
        .any(|p| p.id != product.id && p.seller_id == product.seller_id && p.slug == product.slug)
}

#[async_trait]
impl ProductStore for MemProducts {
    async fn insert_product(&mut self, product: &ProductRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("products.insert_product")?;
        if slug_clash(&s, product) {
            return Err(conflict("products_seller_slug_key"));
        }
        s.products.insert(product.id, product.clone());
        Ok(())
    }

    async fn update_product(&mut self, product: &ProductRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("products.update_product")?;
        if !s.products.contains_key(&product.id) {
            return Err(StoreError::NotFound);
        }
        if slug_clash(&s, product) {
            return Err(conflict("products_seller_slug_key"));
        }
        if let Some(stored) = s.products.get_mut(&product.id) {
            // What PostgreSQL's update writes: the slug, the listing and the time.
            stored.slug.clone_from(&product.slug);
            stored.listing = product.listing.clone();
            stored.updated_at = product.updated_at;
        }
        Ok(())
    }

    async fn get_product_for_update(
        &mut self,
        id: ProductId,
    ) -> Result<Option<ProductRecord>, StoreError> {
        let s = self.0.state("products.get_product_for_update")?;
        Ok(s.products.get(&id).cloned())
    }

    async fn get_product_for_share(
        &mut self,
        id: ProductId,
    ) -> Result<Option<ProductRecord>, StoreError> {
        let s = self.0.state("products.get_product_for_share")?;
        Ok(s.products.get(&id).cloned())
    }

    async fn slug_taken(
        &mut self,
        seller: UserId,
        slug: &str,
        except: Option<ProductId>,
    ) -> Result<bool, StoreError> {
        let s = self.0.state("products.slug_taken")?;
        Ok(s.products
            .values()
            .any(|p| p.seller_id == seller && p.slug == slug && Some(p.id) != except))
    }
}

/// A listing's images in their order: sort order, upload time, id.
fn images_of(s: &State, product: ProductId) -> Vec<ProductImageRecord> {
    let mut images: Vec<ProductImageRecord> = s
        .images
        .iter()
        .filter(|i| i.product_id == product)
        .cloned()
        .collect();
    images.sort_by(|a, b| {
        (a.sort_order, a.created_at, a.id).cmp(&(b.sort_order, b.created_at, b.id))
    });
    images
}

/// A listing's assets, oldest first.
fn assets_of(s: &State, product: ProductId) -> Vec<AssetRecord> {
    let mut assets: Vec<AssetRecord> = s
        .assets
        .iter()
        .filter(|a| a.product_id == product)
        .cloned()
        .collect();
    assets.sort_by_key(|a| (a.created_at, a.id));
    assets
}

pub(crate) struct MemProductMedia(pub(crate) Working);

#[async_trait]
impl ProductMediaStore for MemProductMedia {
    async fn insert_image(&mut self, image: &ProductImageRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("product_media.insert_image")?;
        if image.is_primary {
            for other in s
                .images
                .iter_mut()
                .filter(|i| i.product_id == image.product_id)
            {
                other.is_primary = false;
            }
        }
        s.images.push(image.clone());
        Ok(())
    }

    async fn list_images(
        &mut self,
        product: ProductId,
    ) -> Result<Vec<ProductImageRecord>, StoreError> {
        Ok(images_of(
            &*self.0.state("product_media.list_images")?,
            product,
        ))
    }

    async fn delete_image(
        &mut self,
        product: ProductId,
        image: ProductImageId,
    ) -> Result<Option<ProductImageRecord>, StoreError> {
        let mut s = self.0.state("product_media.delete_image")?;
        let position = s
            .images
            .iter()
            .position(|i| i.product_id == product && i.id == image);
        Ok(position.map(|at| s.images.remove(at)))
    }

    async fn set_primary_image(
        &mut self,
        product: ProductId,
        image: ProductImageId,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("product_media.set_primary_image")?;
        if !s
            .images
            .iter()
            .any(|i| i.product_id == product && i.id == image)
        {
            return Err(StoreError::NotFound);
        }
        for other in s.images.iter_mut().filter(|i| i.product_id == product) {
            other.is_primary = other.id == image;
        }
        Ok(())
    }

    async fn insert_asset(&mut self, asset: &AssetRecord) -> Result<(), StoreError> {
        self.0
            .state("product_media.insert_asset")?
            .assets
            .push(asset.clone());
        Ok(())
    }

    async fn delete_asset(
        &mut self,
        product: ProductId,
        asset: AssetId,
    ) -> Result<Option<AssetRecord>, StoreError> {
        let mut s = self.0.state("product_media.delete_asset")?;
        let position = s
            .assets
            .iter()
            .position(|a| a.product_id == product && a.id == asset);
        Ok(position.map(|at| s.assets.remove(at)))
    }
}

/// The seller facts of a listing view.
pub(crate) fn seller_row(s: &State, id: UserId) -> Option<SellerRow> {
    let user = s.users.get(&id)?;
    Some(SellerRow {
        id,
        username: user.username.clone(),
        shop_name: s
            .profiles
            .get(&id)
            .map(|p| p.shop_name.clone())
            .unwrap_or_default(),
        roles: user.roles,
        connect: s.connect.get(&id).map(|c| c.status.clone()),
    })
}

fn list_row(s: &State, product: &ProductRecord) -> Option<ProductListRow> {
    let primary_image = images_of(s, product.id)
        .into_iter()
        .min_by_key(|i| !i.is_primary)
        .map(|i| i.id);
    Some(ProductListRow {
        seller: seller_row(s, product.seller_id)?,
        category_name: s.categories.get(&product.listing.category_id)?.name.clone(),
        primary_image,
        trending: s.trending.get(&product.id).copied().unwrap_or_default(),
        product: product.clone(),
    })
}

fn matches(product: &ProductRecord, filter: &ProductFilter) -> bool {
    let listing = &product.listing;
    let text = filter.text.as_ref().is_none_or(|text| {
        let haystack = format!(
            "{} {} {}",
            listing.title, listing.short_description, listing.description
        )
        .to_lowercase();
        haystack.contains(&text.to_lowercase())
    });
    (filter.include_inactive || listing.is_active)
        && filter.kind.is_none_or(|kind| listing.kind == kind)
        && filter
            .seller
            .is_none_or(|seller| product.seller_id == seller)
        && filter
            .categories
            .as_ref()
            .is_none_or(|ids| ids.contains(&listing.category_id))
        && (!filter.featured_only || listing.is_featured)
        && (!filter.picked_trending_only || listing.is_trending)
        && !filter.exclude.contains(&product.id)
        && text
}

fn rating(p: &ProductRecord) -> RatingSummary {
    RatingSummary {
        count: p.review_count,
        sum: p.rating_sum,
    }
}

/// `a/b > c/d` for positive denominators.
fn above((a, b): (i64, i64), (c, d): (i64, i64)) -> std::cmp::Ordering {
    (i128::from(c) * i128::from(b)).cmp(&(i128::from(a) * i128::from(d)))
}

/// The matching listings' rows, in the filter's order.
fn ordered_rows(s: &State, filter: &ProductFilter) -> Vec<ProductListRow> {
    let mut products: Vec<&ProductRecord> =
        s.products.values().filter(|p| matches(p, filter)).collect();
    products.sort_by_key(|p| Reverse((p.created_at, p.id)));
    match filter.order {
        ListingOrder::PriceAscending => products.sort_by_key(|p| p.listing.price),
        ListingOrder::PriceDescending => products.sort_by_key(|p| Reverse(p.listing.price)),
        ListingOrder::Newest => {}
        // Stable sorts: newest first among equals.
        ListingOrder::TopRated => {
            products.sort_by(|a, b| above(rating(a).top_score(), rating(b).top_score()));
        }
        ListingOrder::Trending => {
            let points = |p: &ProductRecord| s.trending.get(&p.id).map_or(0, |t| t.points);
            let average = |p: &ProductRecord| (p.rating_sum, p.review_count.max(1));
            products.sort_by(|a, b| {
                above(
                    trending_score(points(a), rating(a)),
                    trending_score(points(b), rating(b)),
                )
                .then_with(|| above(average(a), average(b)))
            });
        }
    }
    products
        .into_iter()
        .filter_map(|p| list_row(s, p))
        .collect()
}

/// One page of `items` (already in order).
pub(crate) fn page_of<T>(items: Vec<T>, page: PageRequest) -> Page<T> {
    let total = u64::try_from(items.len()).unwrap_or(u64::MAX);
    let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let take = usize::try_from(page.per_page()).unwrap_or(usize::MAX);
    Page {
        items: items.into_iter().skip(skip).take(take).collect(),
        request: page,
        total,
    }
}

#[async_trait]
impl ListingQueries for MemoryStore {
    async fn list_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductListRow>, StoreError> {
        let s = self.read("listings.list_products")?;
        Ok(page_of(ordered_rows(&s, filter), page))
    }

    async fn first_products(
        &self,
        filter: &ProductFilter,
        limit: u32,
    ) -> Result<Vec<ProductListRow>, StoreError> {
        let s = self.read("listings.first_products")?;
        let mut rows = ordered_rows(&s, filter);
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(rows)
    }

    async fn any_with_signal(
        &self,
        filter: &ProductFilter,
        signal: ListingSignal,
    ) -> Result<bool, StoreError> {
        let s = self.read("listings.any_with_signal")?;
        Ok(s.products
            .values()
            .filter(|p| matches(p, filter))
            .any(|p| match signal {
                ListingSignal::Reviewed => p.review_count > 0,
                ListingSignal::Trending => {
                    let points = s.trending.get(&p.id).map_or(0, |t| t.points);
                    trending_score(points, rating(p)).0 > 0
                }
            }))
    }

    async fn product_detail(&self, id: ProductId) -> Result<Option<ProductDetailRow>, StoreError> {
        let s = self.read("listings.product_detail")?;
        Ok(s.products
            .get(&id)
            .and_then(|p| list_row(&s, p))
            .map(|row| ProductDetailRow {
                row,
                images: images_of(&s, id),
                assets: assets_of(&s, id),
            }))
    }

    async fn product_image(
        &self,
        product: ProductId,
        image: ProductImageId,
    ) -> Result<Option<ProductImageRecord>, StoreError> {
        let s = self.read("listings.product_image")?;
        Ok(s.images
            .iter()
            .find(|i| i.product_id == product && i.id == image)
            .cloned())
    }

    async fn product_asset(
        &self,
        product: ProductId,
        asset: AssetId,
    ) -> Result<Option<AssetRecord>, StoreError> {
        let s = self.read("listings.product_asset")?;
        Ok(s.assets
            .iter()
            .find(|a| a.product_id == product && a.id == asset)
            .cloned())
    }

    async fn listing_counts(&self, seller: UserId) -> Result<ListingCounts, StoreError> {
        let s = self.read("listings.listing_counts")?;
        let (mut active, mut inactive) = (0_i64, 0_i64);
        for product in s.products.values().filter(|p| p.seller_id == seller) {
            if product.listing.is_active {
                active = active.saturating_add(1);
            } else {
                inactive = inactive.saturating_add(1);
            }
        }
        Ok(ListingCounts { active, inactive })
    }
}
