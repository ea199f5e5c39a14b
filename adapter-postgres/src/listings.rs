//! Listings: products with their images and digital assets, and the public listing queries.
//!
//! Longer than our usual ~600 lines: the listing store and the catalogue's list queries share
//! one row mapping and one filter builder, which splitting would have to export and share.

use async_trait::async_trait;
use marketplace_domain::catalog::Listing;
use marketplace_domain::ids::{AssetId, ProductId, ProductImageId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::{
    AssetRecord, ListingCounts, ListingOrder, ListingQueries, ListingSignal, ProductDetailRow,
    ProductFilter, ProductImageRecord, ProductListRow, ProductRecord, ProductStore, StoreError,
    TrendingMark,
};
use sqlx::{Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{found, store_error};

mod media;
use crate::paging;
use crate::{PgStore, TxConn};
pub(crate) use media::PgProductMedia;
use media::{AssetRow, ImageRow, list_assets, list_images};

/// Builds a [`ProductRecord`] from any row carrying the product columns (each `query!` gives its
/// own anonymous row type, and `ListingRow` is the one of the dynamic list query).
macro_rules! product_record {
    ($row:ident) => {{
        let row = $row;
        let has_physical = row.material.is_some()
            || row.color.is_some()
            || row.width_mm.is_some()
            || row.height_mm.is_some()
            || row.depth_mm.is_some();
        marketplace_ports::ports::ProductRecord {
            id: marketplace_domain::ids::ProductId::from_uuid(row.id),
            seller_id: marketplace_domain::ids::UserId::from_uuid(row.seller_id),
            slug: row.slug,
            listing: marketplace_domain::catalog::Listing {
                kind: row
                    .kind
                    .parse::<marketplace_domain::catalog::ProductKind>()
                    .map_err(|e| $crate::errors::corrupt("product", e))?,
                title: row.title,
                short_description: row.short_description,
                description: row.description,
                category_id: marketplace_domain::ids::CategoryId::from_uuid(row.category_id),
                price: marketplace_domain::money::Cents::new(row.price_cents),
                is_free: row.is_free,
                is_active: row.is_active,
                is_featured: row.is_featured,
                is_trending: row.is_trending,
                physical: has_physical.then(|| marketplace_domain::catalog::PhysicalAttributes {
                    material: row.material.unwrap_or_default(),
                    color: row.color.unwrap_or_default(),
                    width_mm: row.width_mm,
                    height_mm: row.height_mm,
                    depth_mm: row.depth_mm,
                }),
                license_text: row.license_text,
            },
            review_count: row.review_count,
            rating_sum: row.rating_sum,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }};
}

/// Builds the [`SellerRow`](marketplace_ports::ports::SellerRow) of a row carrying the seller
/// columns of [`LISTING_COLUMNS`].
macro_rules! seller_row {
    ($row:ident, $id:expr) => {{
        let id = $id;
        let row = &mut $row;
        marketplace_ports::ports::SellerRow {
            id,
            username: std::mem::take(&mut row.seller_username),
            shop_name: std::mem::take(&mut row.seller_shop_name),
            roles: marketplace_domain::accounts::Roles {
                is_staff: row.seller_is_staff,
                is_superuser: row.seller_is_superuser,
                is_owner: row.seller_is_owner,
                is_seller: row.seller_is_seller,
            },
            connect: row
                .seller_has_connect
                .then_some(marketplace_domain::connect::ConnectStatus {
                    stripe_account_id: row.seller_stripe_account_id.take(),
                    details_submitted: row.seller_details_submitted,
                    charges_enabled: row.seller_charges_enabled,
                    payouts_enabled: row.seller_payouts_enabled,
                }),
        }
    }};
}
pub(crate) use {product_record, seller_row};

/// A listing with its seller, category name and primary image, as lists and detail pages show it.
#[derive(sqlx::FromRow)]
struct ListingRow {
    id: Uuid,
    seller_id: Uuid,
    kind: String,
    title: String,
    slug: String,
    short_description: String,
    description: String,
    category_id: Uuid,
    price_cents: i64,
    is_free: bool,
    is_active: bool,
    is_featured: bool,
    is_trending: bool,
    material: Option<String>,
    color: Option<String>,
    width_mm: Option<i32>,
    height_mm: Option<i32>,
    depth_mm: Option<i32>,
    license_text: Option<String>,
    review_count: i64,
    rating_sum: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    seller_username: String,
    seller_shop_name: String,
    seller_is_staff: bool,
    seller_is_superuser: bool,
    seller_is_owner: bool,
    seller_is_seller: bool,
    seller_has_connect: bool,
    seller_stripe_account_id: Option<String>,
    seller_details_submitted: bool,
    seller_charges_enabled: bool,
    seller_payouts_enabled: bool,
    category_name: String,
    primary_image_id: Option<Uuid>,
    trending_points: i64,
    trending_rank: Option<i16>,
}

impl TryFrom<ListingRow> for ProductListRow {
    type Error = StoreError;

    fn try_from(mut row: ListingRow) -> Result<Self, Self::Error> {
        let seller = seller_row!(row, UserId::from_uuid(row.seller_id));
        let category_name = std::mem::take(&mut row.category_name);
        let primary_image = row.primary_image_id.map(ProductImageId::from_uuid);
        let trending = TrendingMark {
            points: row.trending_points,
            rank: row.trending_rank.and_then(|rank| u8::try_from(rank).ok()),
        };
        Ok(ProductListRow {
            product: product_record!(row),
            seller,
            category_name,
            primary_image,
            trending,
        })
    }
}

/// The select list of a listing with its seller, category and primary image, over
/// [`LISTING_JOINS`]. Used as is by the run-time list queries; the detail query spells the same
/// text for `query_as!`.
const LISTING_COLUMNS: &str = "select p.id, p.seller_id, p.kind, p.title, p.slug, p.short_description, \
     p.description, p.category_id, p.price_cents, p.is_free, p.is_active, p.is_featured, p.is_trending, \
     p.material, p.color, p.width_mm, p.height_mm, p.depth_mm, p.license_text, p.review_count, \
     p.rating_sum, p.created_at, p.updated_at, \
     u.username as seller_username, pr.shop_name as seller_shop_name, \
     u.is_staff as seller_is_staff, u.is_superuser as seller_is_superuser, pr.is_owner as seller_is_owner, \
     pr.is_seller as seller_is_seller, (ca.user_id is not null) as seller_has_connect, \
     ca.stripe_account_id as seller_stripe_account_id, \
     coalesce(ca.details_submitted, false) as seller_details_submitted, \
     coalesce(ca.charges_enabled, false) as seller_charges_enabled, \
     coalesce(ca.payouts_enabled, false) as seller_payouts_enabled, \
     c.name as category_name, \
     (select i.id from product_images i where i.product_id = p.id \
      order by i.is_primary desc, i.sort_order, i.created_at, i.id limit 1) as primary_image_id, \
     p.trending_points, p.trending_rank";

/// The joins of [`LISTING_COLUMNS`], after `products p`.
const LISTING_JOINS: &str = " join users u on u.id = p.seller_id \
     join profiles pr on pr.user_id = p.seller_id \
     join categories c on c.id = p.category_id \
     left join seller_connect_accounts ca on ca.user_id = p.seller_id";

/// The physical attribute columns of a listing (all null when it has none).
struct PhysicalColumns {
    material: Option<String>,
    color: Option<String>,
    width_mm: Option<i32>,
    height_mm: Option<i32>,
    depth_mm: Option<i32>,
}

impl PhysicalColumns {
    fn of(listing: &Listing) -> PhysicalColumns {
        let physical = listing.physical.as_ref();
        PhysicalColumns {
            material: physical.map(|p| p.material.clone()),
            color: physical.map(|p| p.color.clone()),
            width_mm: physical.and_then(|p| p.width_mm),
            height_mm: physical.and_then(|p| p.height_mm),
            depth_mm: physical.and_then(|p| p.depth_mm),
        }
    }
}

/// The listings of one transaction.
pub(crate) struct PgProducts(pub(crate) TxConn);

/// A listing by id with a row lock (`"for update"` or `"for share"`; the SQL must be a literal
/// for `query!`).
macro_rules! locked_product {
    ($store:expr, $id:expr, "for update") => {
        locked_product!(@query $store, $id, "select id, seller_id, kind, title, slug, short_description, description, category_id,
                price_cents, is_free, is_active, is_featured, is_trending, material, color, width_mm,
                height_mm, depth_mm, license_text, review_count, rating_sum, created_at, updated_at
         from products where id = $1 for update")
    };
    ($store:expr, $id:expr, "for share") => {
        locked_product!(@query $store, $id, "select id, seller_id, kind, title, slug, short_description, description, category_id,
                price_cents, is_free, is_active, is_featured, is_trending, material, color, width_mm,
                height_mm, depth_mm, license_text, review_count, rating_sum, created_at, updated_at
         from products where id = $1 for share")
    };
    (@query $store:expr, $id:expr, $sql:literal) => {{
        let row = sqlx::query!($sql, $id.get())
            .fetch_optional(&mut **$store.0.lock().await)
            .await
            .map_err(store_error)?;
        Ok(match row {
            Some(row) => Some(product_record!(row)),
            None => None,
        })
    }};
}

#[async_trait]
impl ProductStore for PgProducts {
    async fn insert_product(&mut self, product: &ProductRecord) -> Result<(), StoreError> {
        let listing = &product.listing;
        let physical = PhysicalColumns::of(listing);
        sqlx::query!(
            "insert into products (id, seller_id, kind, title, slug, short_description, description,
                category_id, price_cents, is_free, is_active, is_featured, is_trending, material, color,
                width_mm, height_mm, depth_mm, license_text, review_count, rating_sum, created_at,
                updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                $19, $20, $21, $22, $23)",
            product.id.get(),
            product.seller_id.get(),
            listing.kind.as_str(),
            listing.title,
            product.slug,
            listing.short_description,
            listing.description,
            listing.category_id.get(),
            listing.price.get(),
            listing.is_free,
            listing.is_active,
            listing.is_featured,
            listing.is_trending,
            physical.material,
            physical.color,
            physical.width_mm,
            physical.height_mm,
            physical.depth_mm,
            listing.license_text,
            product.review_count,
            product.rating_sum,
            product.created_at,
            product.updated_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn update_product(&mut self, product: &ProductRecord) -> Result<(), StoreError> {
        let listing = &product.listing;
        let physical = PhysicalColumns::of(listing);
        let result = sqlx::query!(
            "update products set title = $2, slug = $3, short_description = $4, description = $5,
                category_id = $6, price_cents = $7, is_free = $8, is_active = $9, is_featured = $10,
                is_trending = $11, material = $12, color = $13, width_mm = $14, height_mm = $15,
                depth_mm = $16, license_text = $17, updated_at = $18
             where id = $1",
            product.id.get(),
            listing.title,
            product.slug,
            listing.short_description,
            listing.description,
            listing.category_id.get(),
            listing.price.get(),
            listing.is_free,
            listing.is_active,
            listing.is_featured,
            listing.is_trending,
            physical.material,
            physical.color,
            physical.width_mm,
            physical.height_mm,
            physical.depth_mm,
            listing.license_text,
            product.updated_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        found(result.rows_affected())
    }

    async fn get_product_for_update(
        &mut self,
        id: ProductId,
    ) -> Result<Option<ProductRecord>, StoreError> {
        locked_product!(self, id, "for update")
    }

    async fn get_product_for_share(
        &mut self,
        id: ProductId,
    ) -> Result<Option<ProductRecord>, StoreError> {
        locked_product!(self, id, "for share")
    }

    async fn slug_taken(
        &mut self,
        seller: UserId,
        slug: &str,
        except: Option<ProductId>,
    ) -> Result<bool, StoreError> {
        sqlx::query_scalar!(
            r#"select exists (select 1 from products
                              where seller_id = $1 and slug = $2 and id is distinct from $3) as "taken!""#,
            seller.get(),
            slug,
            except.map(ProductId::get) as Option<Uuid>,
        )
        .fetch_one(&mut **self.0.lock().await)
        .await
        .map_err(store_error)
    }
}

/// `%text%` for `ilike`, with the pattern characters of `text` escaped.
pub(crate) fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The kind and category conditions of `filter` on the table aliased `alias` (listings, or their
/// maintained counts: both have `kind` and `category_id`).
fn push_kind_and_categories(
    builder: &mut QueryBuilder<'_, Postgres>,
    alias: &str,
    filter: &ProductFilter,
) {
    if let Some(kind) = filter.kind {
        builder
            .push(format!(" and {alias}.kind = "))
            .push_bind(kind.as_str());
    }
    if let Some(categories) = &filter.categories {
        let ids: Vec<Uuid> = categories.iter().map(|c| c.get()).collect();
        builder
            .push(format!(" and {alias}.category_id = any("))
            .push_bind(ids)
            .push(")");
    }
}

fn push_filter(builder: &mut QueryBuilder<'_, Postgres>, filter: &ProductFilter) {
    builder.push(" where true");
    if !filter.include_inactive {
        builder.push(" and p.is_active");
    }
    push_kind_and_categories(builder, "p", filter);
    if let Some(seller) = filter.seller {
        builder.push(" and p.seller_id = ").push_bind(seller.get());
    }
    if let Some(text) = &filter.text {
        builder
            .push(" and (p.title || ' ' || p.short_description || ' ' || p.description) ilike ")
            .push_bind(like_pattern(text));
    }
    if filter.featured_only {
        builder.push(" and p.is_featured");
    }
    if filter.picked_trending_only {
        builder.push(" and p.is_trending");
    }
    if !filter.exclude.is_empty() {
        let ids: Vec<Uuid> = filter.exclude.iter().map(|p| p.get()).collect();
        builder.push(" and p.id <> all(").push_bind(ids).push(")");
    }
}

/// The trending score of `engagement::trending_score` in quarter points: the activity points
/// plus four times the average rating. The expression of the index `products_trending_idx`.
const TRENDING_SCORE: &str =
    "(p.trending_points + 4 * p.rating_sum::numeric / greatest(p.review_count, 1))";

/// The `order by` of a list order (each matches an index of migrations 0001, 0014, 0016, 0017).
fn order_by(order: ListingOrder) -> String {
    match order {
        ListingOrder::Newest => " order by p.created_at desc, p.id desc".to_owned(),
        ListingOrder::PriceAscending => {
            " order by p.price_cents asc, p.created_at desc, p.id desc".to_owned()
        }
        ListingOrder::PriceDescending => {
            " order by p.price_cents desc, p.created_at desc, p.id desc".to_owned()
        }
        // reviews::RatingSummary::top_score: (TOP_PRIOR_COUNT · TOP_PRIOR_MEAN + sum) /
        // (TOP_PRIOR_COUNT + count), the expression of the index products_top_rated_idx.
        ListingOrder::TopRated => {
            " order by ((p.rating_sum + 15)::numeric / (p.review_count + 5)) desc, \
             p.created_at desc, p.id desc"
                .to_owned()
        }
        ListingOrder::Trending => format!(
            " order by {TRENDING_SCORE} desc, \
             (p.rating_sum::numeric / greatest(p.review_count, 1)) desc, p.created_at desc, p.id desc"
        ),
    }
}

impl PgStore {
    /// How many listings match `filter`. Public lists by kind and category read the counts the
    /// listings' own writes keep (`active_listing_counts`: a few rows whatever the catalogue's
    /// size); text searches, sellers' own lists and the owners' picks count their matches.
    async fn matching_total(&self, filter: &ProductFilter) -> Result<i64, StoreError> {
        let counted_on_write = !filter.include_inactive
            && filter.text.is_none()
            && filter.seller.is_none()
            && !filter.featured_only
            && !filter.picked_trending_only
            && filter.exclude.is_empty();
        let mut count = if counted_on_write {
            let mut count = QueryBuilder::<Postgres>::new(
                "select coalesce(sum(n.listings), 0)::int8 from active_listing_counts n where true",
            );
            push_kind_and_categories(&mut count, "n", filter);
            count
        } else {
            let mut count = QueryBuilder::<Postgres>::new("select count(*) from products p");
            push_filter(&mut count, filter);
            count
        };
        count
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)
    }
}

#[async_trait]
impl ListingQueries for PgStore {
    async fn list_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductListRow>, StoreError> {
        // The filter decides the SQL, so these are built at run time (the contract tests run
        // every filter against PostgreSQL; sqlx prepares each distinct text once per connection).
        let total = self.matching_total(filter).await?;
        // The page's ids first, from the products alone (an index walk even deep into the list),
        // then the joins for those rows only.
        let mut select = QueryBuilder::<Postgres>::new(LISTING_COLUMNS);
        select.push(" from (select p.id from products p");
        push_filter(&mut select, filter);
        select.push(order_by(filter.order)).push(" limit ");
        select
            .push_bind(paging::limit(page))
            .push(" offset ")
            .push_bind(paging::offset(page));
        select
            .push(") page join products p on p.id = page.id")
            .push(LISTING_JOINS)
            .push(order_by(filter.order));
        let rows: Vec<ListingRow> = select
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        paging::converted_page(rows, page, total)
    }

    async fn first_products(
        &self,
        filter: &ProductFilter,
        limit: u32,
    ) -> Result<Vec<ProductListRow>, StoreError> {
        let mut select = QueryBuilder::<Postgres>::new(LISTING_COLUMNS);
        select.push(" from products p").push(LISTING_JOINS);
        push_filter(&mut select, filter);
        select
            .push(order_by(filter.order))
            .push(" limit ")
            .push_bind(i64::from(limit));
        let rows: Vec<ListingRow> = select
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.into_iter().map(ProductListRow::try_from).collect()
    }

    async fn any_with_signal(
        &self,
        filter: &ProductFilter,
        signal: ListingSignal,
    ) -> Result<bool, StoreError> {
        let mut query = match signal {
            // The best score among the matches, read from the top of the trending index: some
            // listing has a positive score exactly when the best one does.
            ListingSignal::Trending => {
                let mut query = QueryBuilder::<Postgres>::new(format!(
                    "select coalesce((select {TRENDING_SCORE} > 0 from products p"
                ));
                push_filter(&mut query, filter);
                query
                    .push(order_by(ListingOrder::Trending))
                    .push(" limit 1), false)");
                query
            }
            // Reviewed listings are few: the partial index products_reviewed_idx (migration
            // 0023) holds only them.
            ListingSignal::Reviewed => {
                let mut query =
                    QueryBuilder::<Postgres>::new("select exists (select 1 from products p");
                push_filter(&mut query, filter);
                query.push(" and p.review_count > 0)");
                query
            }
        };
        query
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)
    }

    async fn product_detail(&self, id: ProductId) -> Result<Option<ProductDetailRow>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(store_error)?;
        let row = sqlx::query_as!(
            ListingRow,
            r#"select p.id, p.seller_id, p.kind, p.title, p.slug, p.short_description,
                    p.description, p.category_id, p.price_cents, p.is_free, p.is_active, p.is_featured,
                    p.is_trending, p.material, p.color, p.width_mm, p.height_mm, p.depth_mm,
                    p.license_text, p.review_count, p.rating_sum, p.created_at, p.updated_at,
                    u.username as seller_username, pr.shop_name as seller_shop_name,
                    u.is_staff as seller_is_staff, u.is_superuser as seller_is_superuser,
                    pr.is_owner as seller_is_owner, pr.is_seller as seller_is_seller,
                    (ca.user_id is not null) as "seller_has_connect!",
                    ca.stripe_account_id as "seller_stripe_account_id?",
                    coalesce(ca.details_submitted, false) as "seller_details_submitted!",
                    coalesce(ca.charges_enabled, false) as "seller_charges_enabled!",
                    coalesce(ca.payouts_enabled, false) as "seller_payouts_enabled!",
                    c.name as category_name,
                    (select i.id from product_images i where i.product_id = p.id
                     order by i.is_primary desc, i.sort_order, i.created_at, i.id limit 1)
                        as primary_image_id,
                    p.trending_points, p.trending_rank
             from products p
             join users u on u.id = p.seller_id
             join profiles pr on pr.user_id = p.seller_id
             join categories c on c.id = p.category_id
             left join seller_connect_accounts ca on ca.user_id = p.seller_id
             where p.id = $1"#,
            id.get()
        )
        .fetch_optional(&mut *conn)
        .await
        .map_err(store_error)?;
        let Some(row) = row else { return Ok(None) };
        let row = ProductListRow::try_from(row)?;
        Ok(Some(ProductDetailRow {
            row,
            images: list_images(&mut conn, id).await?,
            assets: list_assets(&mut conn, id).await?,
        }))
    }

    async fn product_image(
        &self,
        product: ProductId,
        image: ProductImageId,
    ) -> Result<Option<ProductImageRecord>, StoreError> {
        let row = sqlx::query_as!(
            ImageRow,
            "select id, product_id, blob_id, alt_text, is_primary, sort_order, created_at
             from product_images where product_id = $1 and id = $2",
            product.get(),
            image.get()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(row.map(ProductImageRecord::from))
    }

    async fn product_asset(
        &self,
        product: ProductId,
        asset: AssetId,
    ) -> Result<Option<AssetRecord>, StoreError> {
        let row = sqlx::query_as!(
            AssetRow,
            "select id, product_id, blob_id, original_filename, size_bytes, created_at
             from digital_assets where product_id = $1 and id = $2",
            product.get(),
            asset.get()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(row.map(AssetRecord::from))
    }

    async fn listing_counts(&self, seller: UserId) -> Result<ListingCounts, StoreError> {
        let counts = sqlx::query!(
            r#"select count(*) filter (where is_active) as "active!",
                      count(*) filter (where not is_active) as "inactive!"
               from products where seller_id = $1"#,
            seller.get()
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(ListingCounts {
            active: counts.active,
            inactive: counts.inactive,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
