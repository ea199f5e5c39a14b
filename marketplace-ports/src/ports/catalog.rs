//! The catalog's category trees.

use async_trait::async_trait;
use marketplace_domain::catalog::{CategoryType, ValidCategory};
use marketplace_domain::ids::CategoryId;
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// A catalog category as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryRecord {
    /// Id.
    pub id: CategoryId,
    /// Tree.
    pub category_type: CategoryType,
    /// Name.
    pub name: String,
    /// Slug (unique per type and parent).
    pub slug: String,
    /// Root parent, for subcategories.
    pub parent_id: Option<CategoryId>,
    /// Description.
    pub description: String,
    /// Publicly visible.
    pub is_active: bool,
    /// Ordering key among siblings.
    pub sort_order: i32,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// A root category with its subcategories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryWithChildren {
    /// The root.
    pub category: CategoryRecord,
    /// Its subcategories, ordered.
    pub children: Vec<CategoryRecord>,
}

/// Whether a category has subcategories, and whether listings use it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CategoryUsage {
    /// It has subcategories.
    pub has_children: bool,
    /// Listings are in it.
    pub has_products: bool,
}

/// Categories, inside a transaction.
#[async_trait]
pub trait CategoryStore: Send {
    /// Inserts a validated category.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `categories_type_parent_slug_key` for a duplicate slug.
    async fn insert_category(
        &mut self,
        id: CategoryId,
        category: &ValidCategory,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Replaces a category's fields.
    ///
    /// # Errors
    /// As `insert_category`; [`StoreError::NotFound`] when it does not exist.
    async fn update_category(
        &mut self,
        id: CategoryId,
        category: &ValidCategory,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Deletes a category and its subcategories.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `products_category_id_fkey` when listings use it.
    async fn delete_category(&mut self, id: CategoryId) -> Result<(), StoreError>;
    /// A category by id, locked for the rest of the transaction.
    async fn get_category_for_update(
        &mut self,
        id: CategoryId,
    ) -> Result<Option<CategoryRecord>, StoreError>;
    /// A category by id.
    async fn get_category(&mut self, id: CategoryId) -> Result<Option<CategoryRecord>, StoreError>;
    /// Whether a category has subcategories, and whether listings use it.
    async fn category_usage(&mut self, id: CategoryId) -> Result<CategoryUsage, StoreError>;
}

/// Catalog reads.
#[async_trait]
pub trait CatalogQueries: Send + Sync {
    /// Every category (owners' view), ordered by type, parent, sort order, name.
    async fn all_categories(&self) -> Result<Vec<CategoryRecord>, StoreError>;
    /// Active roots with their active children, ordered by (sort order, name).
    async fn active_category_tree(&self) -> Result<Vec<CategoryWithChildren>, StoreError>;
    /// A category by id.
    async fn category(&self, id: CategoryId) -> Result<Option<CategoryRecord>, StoreError>;
}

impl dyn Tx + '_ {
    /// The categories of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn categories(&mut self) -> Result<&mut (dyn CategoryStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Catalog reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn catalog(&self) -> Result<&dyn CatalogQueries, StoreError> {
        self.get()
    }
}
