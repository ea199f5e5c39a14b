//! Categories: owner management, the public tree and category pages.

use marketplace_domain::catalog::{
    CategoryInput, CategoryType, ExistingCategoryFacts, ParentFacts, validate_category,
};
use marketplace_domain::ids::CategoryId;
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::validation::FieldErrors;
use uuid::Uuid;

use super::listings::{ProductView, product_view};
use super::{Actor, Deps};
use crate::ports::{CategoryRecord, CategoryWithChildren, ProductFilter, StoreError, Tx};

/// Why a catalog operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Some fields are invalid (tree rules, slug clash).
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// No such (active, for public pages) category.
    #[error("category not found")]
    NotFound,
    /// Only owners manage categories.
    #[error("only the marketplace owner can manage categories")]
    Forbidden,
    /// Listings still use the category (or one of its subcategories).
    #[error("the category is used by listings; move or delete them first")]
    InUse,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A category to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCategory {
    /// Tree.
    pub category_type: CategoryType,
    /// Name.
    pub name: String,
    /// Explicit slug (else derived from the name).
    pub slug: Option<String>,
    /// Root parent, for a subcategory.
    pub parent_id: Option<CategoryId>,
    /// Description.
    pub description: Option<String>,
    /// Visible (default true).
    pub is_active: Option<bool>,
    /// Ordering key (default 0).
    pub sort_order: Option<i32>,
}

/// Changes to a category; absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CategoryChanges {
    /// New tree.
    pub category_type: Option<CategoryType>,
    /// New name.
    pub name: Option<String>,
    /// New slug.
    pub slug: Option<String>,
    /// New parent: `Some(None)` makes it a root.
    pub parent_id: Option<Option<CategoryId>>,
    /// New description.
    pub description: Option<String>,
    /// New visibility.
    pub is_active: Option<bool>,
    /// New ordering key.
    pub sort_order: Option<i32>,
}

/// A category page: the category, its active children and a page of active listings in it and
/// its direct children, newest first.
#[derive(Clone, Debug)]
pub struct CategoryPage {
    /// The category.
    pub category: CategoryRecord,
    /// Its active subcategories.
    pub children: Vec<CategoryRecord>,
    /// Listings.
    pub products: Page<ProductView>,
}

/// Category management and browsing.
#[derive(Clone)]
pub struct CatalogService {
    deps: Deps,
}

impl CatalogService {
    /// Builds the service.
    pub fn new(deps: Deps) -> Self {
        CatalogService { deps }
    }

    /// Creates a category (owners only).
    ///
    /// # Errors
    /// [`CatalogError::Forbidden`] for non-owners, [`CatalogError::Invalid`] for tree rules and
    /// a slug already used under the same parent.
    pub async fn create(
        &self,
        actor: &Actor,
        new: NewCategory,
    ) -> Result<CategoryRecord, CatalogError> {
        require_owner(actor)?;
        let mut tx = self.deps.uow.begin().await?;
        let parent = parent_facts(tx.as_mut(), new.parent_id).await?;
        let valid = validate_category(
            CategoryInput {
                category_type: new.category_type,
                slug: new.slug,
                name: new.name,
                parent,
                description: new.description.unwrap_or_default(),
                is_active: new.is_active.unwrap_or(true),
                sort_order: new.sort_order.unwrap_or(0),
            },
            None,
        )
        .map_err(CatalogError::Invalid)?;
        let id = CategoryId::from_uuid(Uuid::now_v7());
        let now = self.deps.clock.now();
        tx.categories()
            .insert_category(id, &valid, now)
            .await
            .map_err(slug_clash)?;
        let created = tx
            .categories()
            .get_category(id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        tx.commit().await?;
        Ok(created)
    }

    /// Changes a category (owners only); the tree rules are checked on the result.
    ///
    /// # Errors
    /// As [`CatalogService::create`], and [`CatalogError::NotFound`].
    pub async fn update(
        &self,
        actor: &Actor,
        id: CategoryId,
        changes: CategoryChanges,
    ) -> Result<CategoryRecord, CatalogError> {
        require_owner(actor)?;
        let mut tx = self.deps.uow.begin().await?;
        let current = tx
            .categories()
            .get_category_for_update(id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        let (has_children, has_products) = tx.categories().category_usage(id).await?;
        let parent_id = changes.parent_id.unwrap_or(current.parent_id);
        let parent = parent_facts(tx.as_mut(), parent_id).await?;
        let name_changed = changes
            .name
            .as_ref()
            .is_some_and(|n| n.trim() != current.name);
        // A renamed category gets a fresh slug unless one is given; otherwise it keeps its own.
        let slug = match (changes.slug, name_changed) {
            (Some(slug), _) => Some(slug),
            (None, true) => None,
            (None, false) => Some(current.slug.clone()),
        };
        let valid = validate_category(
            CategoryInput {
                category_type: changes.category_type.unwrap_or(current.category_type),
                name: changes.name.unwrap_or(current.name),
                slug,
                parent,
                description: changes.description.unwrap_or(current.description),
                is_active: changes.is_active.unwrap_or(current.is_active),
                sort_order: changes.sort_order.unwrap_or(current.sort_order),
            },
            Some(ExistingCategoryFacts {
                id,
                category_type: current.category_type,
                has_children,
                has_products,
            }),
        )
        .map_err(CatalogError::Invalid)?;
        let now = self.deps.clock.now();
        tx.categories()
            .update_category(id, &valid, now)
            .await
            .map_err(slug_clash)?;
        let updated = tx
            .categories()
            .get_category(id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Deletes a category and its subcategories (owners only), unless listings use them.
    ///
    /// # Errors
    /// [`CatalogError::InUse`] when listings use it, [`CatalogError::NotFound`].
    pub async fn delete(&self, actor: &Actor, id: CategoryId) -> Result<(), CatalogError> {
        require_owner(actor)?;
        let mut tx = self.deps.uow.begin().await?;
        tx.categories()
            .get_category_for_update(id)
            .await?
            .ok_or(CatalogError::NotFound)?;
        match tx.categories().delete_category(id).await {
            Err(e) if e.is_conflict_on("products_category_id_fkey") => {
                return Err(CatalogError::InUse);
            }
            other => other?,
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every category, active or not (owners only).
    ///
    /// # Errors
    /// [`CatalogError::Forbidden`] for non-owners.
    pub async fn all(&self, actor: &Actor) -> Result<Vec<CategoryRecord>, CatalogError> {
        require_owner(actor)?;
        Ok(self.deps.queries.all_categories().await?)
    }

    /// The public tree: active roots of both types with their active children.
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn tree(&self) -> Result<Vec<CategoryWithChildren>, CatalogError> {
        Ok(self.deps.queries.active_category_tree().await?)
    }

    /// A public category page.
    ///
    /// # Errors
    /// [`CatalogError::NotFound`] when the category does not exist or is inactive.
    pub async fn page(
        &self,
        id: CategoryId,
        page: PageRequest,
    ) -> Result<CategoryPage, CatalogError> {
        let category = self
            .deps
            .queries
            .category(id)
            .await?
            .filter(|c| c.is_active)
            .ok_or(CatalogError::NotFound)?;
        let children = self
            .deps
            .queries
            .active_category_tree()
            .await?
            .into_iter()
            .find(|root| root.category.id == id)
            .map(|root| root.children)
            .unwrap_or_default();
        let mut categories = vec![id];
        categories.extend(children.iter().map(|c| c.id));
        let filter = ProductFilter {
            categories: Some(categories),
            ..ProductFilter::default()
        };
        let products = self
            .deps
            .queries
            .list_products(&filter, page)
            .await?
            .map(product_view);
        Ok(CategoryPage {
            category,
            children,
            products,
        })
    }
}

fn require_owner(actor: &Actor) -> Result<(), CatalogError> {
    if actor.roles.is_owner() {
        Ok(())
    } else {
        Err(CatalogError::Forbidden)
    }
}

async fn parent_facts(
    tx: &mut dyn Tx,
    parent_id: Option<CategoryId>,
) -> Result<Option<ParentFacts>, CatalogError> {
    let Some(parent_id) = parent_id else {
        return Ok(None);
    };
    let parent = tx
        .categories()
        .get_category(parent_id)
        .await?
        .ok_or_else(|| {
            CatalogError::Invalid(FieldErrors::single("parent_id", "no such category"))
        })?;
    Ok(Some(ParentFacts {
        id: parent.id,
        category_type: parent.category_type,
        has_parent: parent.parent_id.is_some(),
    }))
}

fn slug_clash(error: StoreError) -> CatalogError {
    if error.is_conflict_on("categories_type_parent_slug_key") {
        CatalogError::Invalid(FieldErrors::single(
            "slug",
            "a category with this slug already exists at this place in the tree",
        ))
    } else {
        CatalogError::Store(error)
    }
}
