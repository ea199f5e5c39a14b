//! Categories, in memory.

use async_trait::async_trait;
use marketplace_domain::catalog::{CategoryType, ValidCategory};
use marketplace_domain::ids::CategoryId;
use time::OffsetDateTime;

use super::{MemoryStore, State, Working, conflict};
use crate::ports::{
    CatalogQueries, CategoryRecord, CategoryStore, CategoryUsage, CategoryWithChildren, StoreError,
};

pub(crate) struct MemCategories(pub(crate) Working);

/// The unique (type, parent, slug) of categories.
fn slug_taken(s: &State, id: CategoryId, category: &ValidCategory) -> bool {
    s.categories.values().any(|c| {
        c.id != id
            && c.category_type == category.category_type
            && c.parent_id == category.parent_id
            && c.slug == category.slug
    })
}

fn record(
    id: CategoryId,
    category: &ValidCategory,
    created_at: OffsetDateTime,
    now: OffsetDateTime,
) -> CategoryRecord {
    CategoryRecord {
        id,
        category_type: category.category_type,
        name: category.name.clone(),
        slug: category.slug.clone(),
        parent_id: category.parent_id,
        description: category.description.clone(),
        is_active: category.is_active,
        sort_order: category.sort_order,
        created_at,
        updated_at: now,
    }
}

#[async_trait]
impl CategoryStore for MemCategories {
    async fn insert_category(
        &mut self,
        id: CategoryId,
        category: &ValidCategory,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("categories.insert_category")?;
        if slug_taken(&s, id, category) {
            return Err(conflict("categories_type_parent_slug_key"));
        }
        s.categories.insert(id, record(id, category, now, now));
        Ok(())
    }

    async fn update_category(
        &mut self,
        id: CategoryId,
        category: &ValidCategory,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("categories.update_category")?;
        let created_at = s
            .categories
            .get(&id)
            .ok_or(StoreError::NotFound)?
            .created_at;
        if slug_taken(&s, id, category) {
            return Err(conflict("categories_type_parent_slug_key"));
        }
        s.categories
            .insert(id, record(id, category, created_at, now));
        Ok(())
    }

    async fn delete_category(&mut self, id: CategoryId) -> Result<(), StoreError> {
        let mut s = self.0.state("categories.delete_category")?;
        let doomed: Vec<CategoryId> = s
            .categories
            .values()
            .filter(|c| c.id == id || c.parent_id == Some(id))
            .map(|c| c.id)
            .collect();
        if s.products
            .values()
            .any(|p| doomed.contains(&p.listing.category_id))
        {
            return Err(conflict("products_category_id_fkey"));
        }
        s.categories.retain(|cid, _| !doomed.contains(cid));
        Ok(())
    }

    async fn get_category_for_update(
        &mut self,
        id: CategoryId,
    ) -> Result<Option<CategoryRecord>, StoreError> {
        let s = self.0.state("categories.get_category_for_update")?;
        Ok(s.categories.get(&id).cloned())
    }

    async fn get_category(&mut self, id: CategoryId) -> Result<Option<CategoryRecord>, StoreError> {
        Ok(self
            .0
            .state("categories.get_category")?
            .categories
            .get(&id)
            .cloned())
    }

    async fn category_usage(&mut self, id: CategoryId) -> Result<CategoryUsage, StoreError> {
        let s = self.0.state("categories.category_usage")?;
        Ok(CategoryUsage {
            has_children: s.categories.values().any(|c| c.parent_id == Some(id)),
            has_products: s.products.values().any(|p| p.listing.category_id == id),
        })
    }
}

/// Siblings' order: sort order, then name without case, then id.
fn sibling_order(a: &CategoryRecord, b: &CategoryRecord) -> std::cmp::Ordering {
    a.sort_order
        .cmp(&b.sort_order)
        .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
        .then_with(|| a.id.cmp(&b.id))
}

#[async_trait]
impl CatalogQueries for MemoryStore {
    async fn all_categories(&self) -> Result<Vec<CategoryRecord>, StoreError> {
        let s = self.read("catalog.all_categories")?;
        let mut all: Vec<CategoryRecord> = s.categories.values().cloned().collect();
        all.sort_by(|a, b| {
            a.category_type
                .as_str()
                .cmp(b.category_type.as_str())
                .then_with(|| {
                    a.parent_id
                        .unwrap_or(a.id)
                        .cmp(&b.parent_id.unwrap_or(b.id))
                })
                .then_with(|| b.parent_id.is_none().cmp(&a.parent_id.is_none()))
                .then_with(|| sibling_order(a, b))
        });
        Ok(all)
    }

    async fn active_category_tree(&self) -> Result<Vec<CategoryWithChildren>, StoreError> {
        let s = self.read("catalog.active_category_tree")?;
        let mut roots: Vec<CategoryRecord> = s
            .categories
            .values()
            .filter(|c| c.is_active && c.parent_id.is_none())
            .cloned()
            .collect();
        roots.sort_by(sibling_order);
        // Both trees in one list: models first, then files.
        roots.sort_by_key(|root| root.category_type != CategoryType::Model);
        Ok(roots
            .into_iter()
            .map(|category| {
                let mut children: Vec<CategoryRecord> = s
                    .categories
                    .values()
                    .filter(|c| c.is_active && c.parent_id == Some(category.id))
                    .cloned()
                    .collect();
                children.sort_by(sibling_order);
                CategoryWithChildren { category, children }
            })
            .collect())
    }

    async fn category(&self, id: CategoryId) -> Result<Option<CategoryRecord>, StoreError> {
        Ok(self.read("catalog.category")?.categories.get(&id).cloned())
    }
}
