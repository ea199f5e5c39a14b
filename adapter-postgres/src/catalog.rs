//! The catalog's category trees.

use async_trait::async_trait;
use marketplace_domain::catalog::{CategoryType, ValidCategory};
use marketplace_domain::ids::CategoryId;
use marketplace_ports::ports::{
    CatalogQueries, CategoryRecord, CategoryStore, CategoryUsage, CategoryWithChildren, StoreError,
};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, found, store_error};
use crate::{PgStore, TxConn};

struct CategoryRow {
    id: Uuid,
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

async fn get_category(
    conn: &mut PgConnection,
    id: CategoryId,
) -> Result<Option<CategoryRecord>, StoreError> {
    let row = sqlx::query_as!(
        CategoryRow,
        r#"select id, type as "category_type", name, slug, parent_id, description, is_active,
                  sort_order, created_at, updated_at
           from categories where id = $1"#,
        id.get()
    )
    .fetch_optional(conn)
    .await
    .map_err(store_error)?;
    row.map(CategoryRecord::try_from).transpose()
}

/// The categories of one transaction.
pub(crate) struct PgCategories(pub(crate) TxConn);

#[async_trait]
impl CategoryStore for PgCategories {
    async fn insert_category(
        &mut self,
        id: CategoryId,
        category: &ValidCategory,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query!(
            "insert into categories (id, type, name, slug, parent_id, description, is_active, sort_order,
                created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
            id.get(),
            category.category_type.as_str(),
            category.name,
            category.slug,
            category.parent_id.map(CategoryId::get),
            category.description,
            category.is_active,
            category.sort_order,
            now,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn update_category(
        &mut self,
        id: CategoryId,
        category: &ValidCategory,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let result = sqlx::query!(
            "update categories set type = $2, name = $3, slug = $4, parent_id = $5, description = $6,
                    is_active = $7, sort_order = $8, updated_at = $9
             where id = $1",
            id.get(),
            category.category_type.as_str(),
            category.name,
            category.slug,
            category.parent_id.map(CategoryId::get),
            category.description,
            category.is_active,
            category.sort_order,
            now,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        found(result.rows_affected())
    }

    async fn delete_category(&mut self, id: CategoryId) -> Result<(), StoreError> {
        sqlx::query!("delete from categories where id = $1", id.get())
            .execute(&mut **self.0.lock().await)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn get_category_for_update(
        &mut self,
        id: CategoryId,
    ) -> Result<Option<CategoryRecord>, StoreError> {
        let row = sqlx::query_as!(
            CategoryRow,
            r#"select id, type as "category_type", name, slug, parent_id, description, is_active,
                      sort_order, created_at, updated_at
               from categories where id = $1 for update"#,
            id.get()
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        row.map(CategoryRecord::try_from).transpose()
    }

    async fn get_category(&mut self, id: CategoryId) -> Result<Option<CategoryRecord>, StoreError> {
        get_category(&mut *self.0.lock().await, id).await
    }

    async fn category_usage(&mut self, id: CategoryId) -> Result<CategoryUsage, StoreError> {
        let usage = sqlx::query!(
            r#"select exists (select 1 from categories where parent_id = $1) as "has_children!",
                      exists (select 1 from products where category_id = $1) as "has_products!""#,
            id.get()
        )
        .fetch_one(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(CategoryUsage {
            has_children: usage.has_children,
            has_products: usage.has_products,
        })
    }
}

#[async_trait]
impl CatalogQueries for PgStore {
    async fn all_categories(&self) -> Result<Vec<CategoryRecord>, StoreError> {
        let rows = sqlx::query_as!(
            CategoryRow,
            r#"select id, type as "category_type", name, slug, parent_id, description, is_active,
                      sort_order, created_at, updated_at
               from categories
               order by type, coalesce(parent_id, id), parent_id nulls first, sort_order, lower(name), id"#
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        records(rows)
    }

    async fn active_category_tree(&self) -> Result<Vec<CategoryWithChildren>, StoreError> {
        let rows = sqlx::query_as!(
            CategoryRow,
            r#"select id, type as "category_type", name, slug, parent_id, description, is_active,
                      sort_order, created_at, updated_at
               from categories c
               where is_active and (parent_id is null
                     or exists (select 1 from categories r where r.id = c.parent_id and r.is_active))
               order by sort_order, lower(name), id"#
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let (roots, children): (Vec<_>, Vec<_>) = records(rows)?
            .into_iter()
            .partition(|c| c.parent_id.is_none());
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

    async fn category(&self, id: CategoryId) -> Result<Option<CategoryRecord>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(store_error)?;
        get_category(&mut conn, id).await
    }
}
