//! Listings, their images and digital assets, and the listing queries.

use marketplace_domain::account::Roles;
use marketplace_domain::connect::ConnectStatus;
use marketplace_domain::ids::{AssetId, BlobId, CategoryId, ProductId, ProductImageId, UserId};
use marketplace_domain::money::Cents;
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::product::{PhysicalAttributes, ProductKind};
use marketplace_ports::ports::{
    AssetRecord, ProductDetailRow, ProductFilter, ProductImageRecord, ProductListRow,
    ProductRecord, SellerRow, StoreError,
};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, found, store_error};
use crate::paging;

pub(crate) const PRODUCT_COLUMNS: &str = "p.id, p.seller_id, p.kind, p.title, p.slug, p.short_description, \
     p.description, p.category_id, p.price_cents, p.is_free, p.is_active, p.is_featured, p.is_trending, \
     p.material, p.color, p.width_mm, p.height_mm, p.depth_mm, p.license_text, p.review_count, \
     p.rating_sum, p.created_at, p.updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct ProductRow {
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
}

impl TryFrom<ProductRow> for ProductRecord {
    type Error = StoreError;

    fn try_from(row: ProductRow) -> Result<Self, Self::Error> {
        let kind = row
            .kind
            .parse::<ProductKind>()
            .map_err(|e| corrupt("product", e))?;
        let has_physical = row.material.is_some()
            || row.color.is_some()
            || row.width_mm.is_some()
            || row.height_mm.is_some()
            || row.depth_mm.is_some();
        Ok(ProductRecord {
            id: ProductId::from_uuid(row.id),
            seller_id: UserId::from_uuid(row.seller_id),
            kind,
            title: row.title,
            slug: row.slug,
            short_description: row.short_description,
            description: row.description,
            category_id: CategoryId::from_uuid(row.category_id),
            price: Cents::new(row.price_cents),
            is_free: row.is_free,
            is_active: row.is_active,
            is_featured: row.is_featured,
            is_trending: row.is_trending,
            physical: has_physical.then(|| PhysicalAttributes {
                material: row.material.unwrap_or_default(),
                color: row.color.unwrap_or_default(),
                width_mm: row.width_mm,
                height_mm: row.height_mm,
                depth_mm: row.depth_mm,
            }),
            license_text: row.license_text,
            review_count: row.review_count,
            rating_sum: row.rating_sum,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

pub(crate) async fn insert_product(
    conn: &mut PgConnection,
    product: &ProductRecord,
) -> Result<(), StoreError> {
    let physical = product.physical.clone().unwrap_or_default();
    let has_physical = product.physical.is_some();
    sqlx::query(
        "insert into products (id, seller_id, kind, title, slug, short_description, description, category_id,
            price_cents, is_free, is_active, is_featured, is_trending, material, color, width_mm, height_mm,
            depth_mm, license_text, review_count, rating_sum, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
    )
    .bind(product.id.get())
    .bind(product.seller_id.get())
    .bind(product.kind.as_str())
    .bind(&product.title)
    .bind(&product.slug)
    .bind(&product.short_description)
    .bind(&product.description)
    .bind(product.category_id.get())
    .bind(product.price.get())
    .bind(product.is_free)
    .bind(product.is_active)
    .bind(product.is_featured)
    .bind(product.is_trending)
    .bind(has_physical.then_some(physical.material))
    .bind(has_physical.then_some(physical.color))
    .bind(physical.width_mm)
    .bind(physical.height_mm)
    .bind(physical.depth_mm)
    .bind(&product.license_text)
    .bind(product.review_count)
    .bind(product.rating_sum)
    .bind(product.created_at)
    .bind(product.updated_at)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn update_product(
    conn: &mut PgConnection,
    product: &ProductRecord,
) -> Result<(), StoreError> {
    let physical = product.physical.clone().unwrap_or_default();
    let has_physical = product.physical.is_some();
    let result = sqlx::query(
        "update products set title = $2, slug = $3, short_description = $4, description = $5, category_id = $6,
            price_cents = $7, is_free = $8, is_active = $9, is_featured = $10, is_trending = $11, material = $12,
            color = $13, width_mm = $14, height_mm = $15, depth_mm = $16, license_text = $17, updated_at = $18
         where id = $1",
    )
    .bind(product.id.get())
    .bind(&product.title)
    .bind(&product.slug)
    .bind(&product.short_description)
    .bind(&product.description)
    .bind(product.category_id.get())
    .bind(product.price.get())
    .bind(product.is_free)
    .bind(product.is_active)
    .bind(product.is_featured)
    .bind(product.is_trending)
    .bind(has_physical.then_some(physical.material))
    .bind(has_physical.then_some(physical.color))
    .bind(physical.width_mm)
    .bind(physical.height_mm)
    .bind(physical.depth_mm)
    .bind(&product.license_text)
    .bind(product.updated_at)
    .execute(conn)
    .await
    .map_err(store_error)?;
    found(result.rows_affected())
}

pub(crate) async fn get_product_for_update(
    conn: &mut PgConnection,
    id: ProductId,
) -> Result<Option<ProductRecord>, StoreError> {
    let sql = format!("select {PRODUCT_COLUMNS} from products p where p.id = $1 for update");
    let row: Option<ProductRow> = sqlx::query_as(&sql)
        .bind(id.get())
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    row.map(ProductRecord::try_from).transpose()
}

pub(crate) async fn slug_taken(
    conn: &mut PgConnection,
    seller: UserId,
    slug: &str,
    except: Option<ProductId>,
) -> Result<bool, StoreError> {
    sqlx::query_scalar(
        "select exists (select 1 from products where seller_id = $1 and slug = $2 and id is distinct from $3)",
    )
    .bind(seller.get())
    .bind(slug)
    .bind(except.map(ProductId::get))
    .fetch_one(conn)
    .await
    .map_err(store_error)
}

#[derive(sqlx::FromRow)]
struct ImageRow {
    id: Uuid,
    product_id: Uuid,
    blob_id: Uuid,
    alt_text: String,
    is_primary: bool,
    sort_order: i32,
    created_at: OffsetDateTime,
}

impl From<ImageRow> for ProductImageRecord {
    fn from(row: ImageRow) -> Self {
        ProductImageRecord {
            id: ProductImageId::from_uuid(row.id),
            product_id: ProductId::from_uuid(row.product_id),
            blob_id: BlobId::from_uuid(row.blob_id),
            alt_text: row.alt_text,
            is_primary: row.is_primary,
            sort_order: row.sort_order,
            created_at: row.created_at,
        }
    }
}

const IMAGE_COLUMNS: &str = "id, product_id, blob_id, alt_text, is_primary, sort_order, created_at";

pub(crate) async fn insert_image(
    conn: &mut PgConnection,
    image: &ProductImageRecord,
) -> Result<(), StoreError> {
    if image.is_primary {
        clear_primary(conn, image.product_id).await?;
    }
    sqlx::query(
        "insert into product_images (id, product_id, blob_id, alt_text, is_primary, sort_order, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(image.id.get())
    .bind(image.product_id.get())
    .bind(image.blob_id.get())
    .bind(&image.alt_text)
    .bind(image.is_primary)
    .bind(image.sort_order)
    .bind(image.created_at)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

async fn clear_primary(conn: &mut PgConnection, product: ProductId) -> Result<(), StoreError> {
    sqlx::query(
        "update product_images set is_primary = false where product_id = $1 and is_primary",
    )
    .bind(product.get())
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn list_images(
    conn: &mut PgConnection,
    product: ProductId,
) -> Result<Vec<ProductImageRecord>, StoreError> {
    let sql = format!(
        "select {IMAGE_COLUMNS} from product_images where product_id = $1 order by sort_order, created_at, id"
    );
    let rows: Vec<ImageRow> = sqlx::query_as(&sql)
        .bind(product.get())
        .fetch_all(conn)
        .await
        .map_err(store_error)?;
    Ok(rows.into_iter().map(ProductImageRecord::from).collect())
}

pub(crate) async fn delete_image(
    conn: &mut PgConnection,
    product: ProductId,
    image: ProductImageId,
) -> Result<Option<ProductImageRecord>, StoreError> {
    let sql = format!(
        "delete from product_images where product_id = $1 and id = $2 returning {IMAGE_COLUMNS}"
    );
    let row: Option<ImageRow> = sqlx::query_as(&sql)
        .bind(product.get())
        .bind(image.get())
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    Ok(row.map(ProductImageRecord::from))
}

pub(crate) async fn set_primary_image(
    conn: &mut PgConnection,
    product: ProductId,
    image: ProductImageId,
) -> Result<(), StoreError> {
    clear_primary(conn, product).await?;
    let result = sqlx::query(
        "update product_images set is_primary = true where product_id = $1 and id = $2",
    )
    .bind(product.get())
    .bind(image.get())
    .execute(conn)
    .await
    .map_err(store_error)?;
    found(result.rows_affected())
}

pub(crate) async fn product_image(
    conn: &mut PgConnection,
    product: ProductId,
    image: ProductImageId,
) -> Result<Option<ProductImageRecord>, StoreError> {
    let sql =
        format!("select {IMAGE_COLUMNS} from product_images where product_id = $1 and id = $2");
    let row: Option<ImageRow> = sqlx::query_as(&sql)
        .bind(product.get())
        .bind(image.get())
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    Ok(row.map(ProductImageRecord::from))
}

#[derive(sqlx::FromRow)]
struct AssetRow {
    id: Uuid,
    product_id: Uuid,
    blob_id: Uuid,
    original_filename: String,
    size_bytes: i64,
    created_at: OffsetDateTime,
}

impl From<AssetRow> for AssetRecord {
    fn from(row: AssetRow) -> Self {
        AssetRecord {
            id: AssetId::from_uuid(row.id),
            product_id: ProductId::from_uuid(row.product_id),
            blob_id: BlobId::from_uuid(row.blob_id),
            original_filename: row.original_filename,
            size_bytes: row.size_bytes,
            created_at: row.created_at,
        }
    }
}

const ASSET_COLUMNS: &str = "id, product_id, blob_id, original_filename, size_bytes, created_at";

pub(crate) async fn insert_asset(
    conn: &mut PgConnection,
    asset: &AssetRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into digital_assets (id, product_id, blob_id, original_filename, size_bytes, created_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(asset.id.get())
    .bind(asset.product_id.get())
    .bind(asset.blob_id.get())
    .bind(&asset.original_filename)
    .bind(asset.size_bytes)
    .bind(asset.created_at)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn list_assets(
    conn: &mut PgConnection,
    product: ProductId,
) -> Result<Vec<AssetRecord>, StoreError> {
    let sql = format!(
        "select {ASSET_COLUMNS} from digital_assets where product_id = $1 order by created_at, id"
    );
    let rows: Vec<AssetRow> = sqlx::query_as(&sql)
        .bind(product.get())
        .fetch_all(conn)
        .await
        .map_err(store_error)?;
    Ok(rows.into_iter().map(AssetRecord::from).collect())
}

pub(crate) async fn delete_asset(
    conn: &mut PgConnection,
    product: ProductId,
    asset: AssetId,
) -> Result<Option<AssetRecord>, StoreError> {
    let sql = format!(
        "delete from digital_assets where product_id = $1 and id = $2 returning {ASSET_COLUMNS}"
    );
    let row: Option<AssetRow> = sqlx::query_as(&sql)
        .bind(product.get())
        .bind(asset.get())
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    Ok(row.map(AssetRecord::from))
}

pub(crate) async fn product_asset(
    conn: &mut PgConnection,
    product: ProductId,
    asset: AssetId,
) -> Result<Option<AssetRecord>, StoreError> {
    let sql =
        format!("select {ASSET_COLUMNS} from digital_assets where product_id = $1 and id = $2");
    let row: Option<AssetRow> = sqlx::query_as(&sql)
        .bind(product.get())
        .bind(asset.get())
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    Ok(row.map(AssetRecord::from))
}

/// The seller columns joined onto a listing (`u` users, `pr` profiles, `ca` Connect accounts).
macro_rules! seller_columns {
    () => {
        "u.username as seller_username, pr.shop_name as seller_shop_name, \
         u.is_staff as seller_is_staff, u.is_superuser as seller_is_superuser, pr.is_owner as seller_is_owner, \
         pr.is_seller as seller_is_seller, (ca.user_id is not null) as seller_has_connect, \
         ca.stripe_account_id as seller_stripe_account_id, \
         coalesce(ca.details_submitted, false) as seller_details_submitted, \
         coalesce(ca.charges_enabled, false) as seller_charges_enabled, \
         coalesce(ca.payouts_enabled, false) as seller_payouts_enabled"
    };
}

/// Seller columns, for queries that join a seller (`u`, `pr`, `ca`).
pub(crate) const SELLER_JOIN_COLUMNS: &str = seller_columns!();

/// Seller and category columns joined onto a listing.
const LISTING_JOIN_COLUMNS: &str = concat!(
    seller_columns!(),
    ", c.name as category_name, \
     (select i.id from product_images i where i.product_id = p.id \
      order by i.is_primary desc, i.sort_order, i.created_at, i.id limit 1) as primary_image_id"
);

const LISTING_JOINS: &str = "from products p \
     join users u on u.id = p.seller_id \
     join profiles pr on pr.user_id = p.seller_id \
     join categories c on c.id = p.category_id \
     left join seller_connect_accounts ca on ca.user_id = p.seller_id";

#[derive(sqlx::FromRow)]
pub(crate) struct SellerColumns {
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
}

impl SellerColumns {
    pub(crate) fn into_row(self, id: UserId) -> SellerRow {
        SellerRow {
            id,
            username: self.seller_username,
            shop_name: self.seller_shop_name,
            roles: Roles {
                is_staff: self.seller_is_staff,
                is_superuser: self.seller_is_superuser,
                is_owner: self.seller_is_owner,
                is_seller: self.seller_is_seller,
            },
            connect: self.seller_has_connect.then_some(ConnectStatus {
                stripe_account_id: self.seller_stripe_account_id,
                details_submitted: self.seller_details_submitted,
                charges_enabled: self.seller_charges_enabled,
                payouts_enabled: self.seller_payouts_enabled,
            }),
        }
    }
}

#[derive(sqlx::FromRow)]
struct ListingRow {
    #[sqlx(flatten)]
    product: ProductRow,
    #[sqlx(flatten)]
    seller: SellerColumns,
    category_name: String,
    primary_image_id: Option<Uuid>,
}

impl TryFrom<ListingRow> for ProductListRow {
    type Error = StoreError;

    fn try_from(row: ListingRow) -> Result<Self, Self::Error> {
        let product = ProductRecord::try_from(row.product)?;
        Ok(ProductListRow {
            seller: row.seller.into_row(product.seller_id),
            product,
            category_name: row.category_name,
            primary_image: row.primary_image_id.map(ProductImageId::from_uuid),
        })
    }
}

/// `%`, `_` and `\` in user text match literally.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn push_filter(builder: &mut QueryBuilder<'_, Postgres>, filter: &ProductFilter) {
    builder.push(" where true");
    if !filter.include_inactive {
        builder.push(" and p.is_active");
    }
    if let Some(kind) = filter.kind {
        builder.push(" and p.kind = ").push_bind(kind.as_str());
    }
    if let Some(seller) = filter.seller {
        builder.push(" and p.seller_id = ").push_bind(seller.get());
    }
    if let Some(categories) = &filter.categories {
        let ids: Vec<Uuid> = categories.iter().map(|c| c.get()).collect();
        builder
            .push(" and p.category_id = any(")
            .push_bind(ids)
            .push(")");
    }
    if let Some(text) = &filter.text {
        builder
            .push(" and (p.title || ' ' || p.short_description || ' ' || p.description) ilike ")
            .push_bind(like_pattern(text));
    }
}

pub(crate) async fn list_products(
    conn: &mut PgConnection,
    filter: &ProductFilter,
    page: PageRequest,
) -> Result<Page<ProductListRow>, StoreError> {
    let mut count = QueryBuilder::<Postgres>::new("select count(*) from products p");
    push_filter(&mut count, filter);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(store_error)?;

    let mut select = QueryBuilder::<Postgres>::new(format!(
        "select {PRODUCT_COLUMNS}, {LISTING_JOIN_COLUMNS} {LISTING_JOINS}"
    ));
    push_filter(&mut select, filter);
    select
        .push(" order by p.created_at desc, p.id desc limit ")
        .push_bind(paging::limit(page))
        .push(" offset ")
        .push_bind(paging::offset(page));
    let rows: Vec<ListingRow> = select
        .build_query_as()
        .fetch_all(conn)
        .await
        .map_err(store_error)?;
    paging::converted_page(rows, page, total)
}

pub(crate) async fn product_detail(
    conn: &mut PgConnection,
    id: ProductId,
) -> Result<Option<ProductDetailRow>, StoreError> {
    let sql =
        format!("select {PRODUCT_COLUMNS}, {LISTING_JOIN_COLUMNS} {LISTING_JOINS} where p.id = $1");
    let row: Option<ListingRow> = sqlx::query_as(&sql)
        .bind(id.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(store_error)?;
    let Some(row) = row else { return Ok(None) };
    let row = ProductListRow::try_from(row)?;
    let images = list_images(conn, id).await?;
    let assets = list_assets(conn, id).await?;
    Ok(Some(ProductDetailRow {
        row,
        images,
        assets,
    }))
}

pub(crate) async fn seller(
    conn: &mut PgConnection,
    id: UserId,
) -> Result<Option<SellerRow>, StoreError> {
    let sql = format!(
        "select {SELLER_JOIN_COLUMNS}
         from users u join profiles pr on pr.user_id = u.id
         left join seller_connect_accounts ca on ca.user_id = u.id
         where u.id = $1"
    );
    let row: Option<SellerColumns> = sqlx::query_as(&sql)
        .bind(id.get())
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    Ok(row.map(|columns| columns.into_row(id)))
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
