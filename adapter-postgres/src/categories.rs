//! Categories.

use marketplace_domain::catalog::{CategoryType, ValidCategory};
use marketplace_domain::ids::CategoryId;
use marketplace_ports::ports::{CategoryRecord, CategoryWithChildren, StoreError};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, found, store_error};

const COLUMNS: &str =
    "id, type, name, slug, parent_id, description, is_active, sort_order, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct CategoryRow {
    id: Uuid,
    #[sqlx(rename = "type")]
    category_type: String,
    name: String,
    slug: String,
    parent_id: Option<Uuid>,
    description: String,
    is_active: bool,
    sort_order: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<CategoryRow> for CategoryRecord {
    type Error = StoreError;

    fn try_from(row: CategoryRow) -> Result<Self, Self::Error> {
        Ok(CategoryRecord {
            id: CategoryId::from_uuid(row.id),
            category_type: row
                .category_type
                .parse::<CategoryType>()
                .map_err(|e| corrupt("category", e))?,
            name: row.name,
            slug: row.slug,
            parent_id: row.parent_id.map(CategoryId::from_uuid),
            description: row.description,
            is_active: row.is_active,
            sort_order: row.sort_order,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn records(rows: Vec<CategoryRow>) -> Result<Vec<CategoryRecord>, StoreError> {
    rows.into_iter().map(CategoryRecord::try_from).collect()
}

pub(crate) async fn insert_category(
    conn: &mut PgConnection,
    id: CategoryId,
    category: &ValidCategory,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into categories (id, type, name, slug, parent_id, description, is_active, sort_order, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(id.get())
    .bind(category.category_type.as_str())
    .bind(&category.name)
    .bind(&category.slug)
    .bind(category.parent_id.map(CategoryId::get))
    .bind(&category.description)
    .bind(category.is_active)
    .bind(category.sort_order)
    .bind(now)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn update_category(
    conn: &mut PgConnection,
    id: CategoryId,
    category: &ValidCategory,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let result = sqlx::query(
        "update categories set type = $2, name = $3, slug = $4, parent_id = $5, description = $6,
                is_active = $7, sort_order = $8, updated_at = $9
         where id = $1",
    )
    .bind(id.get())
    .bind(category.category_type.as_str())
    .bind(&category.name)
    .bind(&category.slug)
    .bind(category.parent_id.map(CategoryId::get))
    .bind(&category.description)
    .bind(category.is_active)
    .bind(category.sort_order)
    .bind(now)
    .execute(conn)
    .await
    .map_err(store_error)?;
    found(result.rows_affected())
}

pub(crate) async fn delete_category(
    conn: &mut PgConnection,
    id: CategoryId,
) -> Result<(), StoreError> {
    sqlx::query("delete from categories where id = $1")
        .bind(id.get())
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn get_category(
    conn: &mut PgConnection,
    id: CategoryId,
    for_update: bool,
) -> Result<Option<CategoryRecord>, StoreError> {
    let lock = if for_update { " for update" } else { "" };
    let sql = format!("select {COLUMNS} from categories where id = $1{lock}");
    let row: Option<CategoryRow> = sqlx::query_as(&sql)
        .bind(id.get())
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    row.map(CategoryRecord::try_from).transpose()
}

pub(crate) async fn category_usage(
    conn: &mut PgConnection,
    id: CategoryId,
) -> Result<(bool, bool), StoreError> {
    let (has_children, has_products): (bool, bool) = sqlx::query_as(
        "select exists (select 1 from categories where parent_id = $1),
                exists (select 1 from products where category_id = $1)",
    )
    .bind(id.get())
    .fetch_one(conn)
    .await
    .map_err(store_error)?;
    Ok((has_children, has_products))
}

pub(crate) async fn all_categories(
    conn: &mut PgConnection,
) -> Result<Vec<CategoryRecord>, StoreError> {
    let sql = format!(
        "select {COLUMNS} from categories
         order by type, coalesce(parent_id, id), parent_id nulls first, sort_order, lower(name), id"
    );
    let rows: Vec<CategoryRow> = sqlx::query_as(&sql)
        .fetch_all(conn)
        .await
        .map_err(store_error)?;
    records(rows)
}

pub(crate) async fn active_category_tree(
    conn: &mut PgConnection,
) -> Result<Vec<CategoryWithChildren>, StoreError> {
    let sql = format!(
        "select {COLUMNS} from categories c
         where is_active and (parent_id is null
               or exists (select 1 from categories r where r.id = c.parent_id and r.is_active))
         order by sort_order, lower(name), id"
    );
    let rows: Vec<CategoryRow> = sqlx::query_as(&sql)
        .fetch_all(conn)
        .await
        .map_err(store_error)?;
    let all = records(rows)?;
    let (roots, children): (Vec<_>, Vec<_>) = all.into_iter().partition(|c| c.parent_id.is_none());
    let mut tree: Vec<CategoryWithChildren> = roots
        .into_iter()
        .map(|category| CategoryWithChildren {
            category,
            children: Vec::new(),
        })
        .collect();
    for child in children {
        if let Some(root) = tree
            .iter_mut()
            .find(|root| Some(root.category.id) == child.parent_id)
        {
            root.children.push(child);
        }
    }
    // Both trees in one list: models first, then files, each ordered as queried.
    tree.sort_by_key(|root| root.category.category_type != CategoryType::Model);
    Ok(tree)
}
