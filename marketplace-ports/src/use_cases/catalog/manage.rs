//! Owners creating, changing and deleting categories; the tree rules are the domain's.

use marketplace_domain::catalog::{
    CategoryInput, CategoryType, ExistingCategoryFacts, ParentFacts, validate_category,
};
use marketplace_domain::ids::CategoryId;
use marketplace_domain::validation::FieldErrors;
use uuid::Uuid;

use crate::ports::{CategoryRecord, StoreError, Tx};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why a category change failed.
#[derive(Debug, thiserror::Error)]
pub enum CategoryAdminError {
    /// Some fields are invalid (tree rules, slug clash).
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// No such category.
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

impl UseCaseError for CategoryAdminError {
    fn kind(&self) -> ErrorKind {
        match self {
            CategoryAdminError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            CategoryAdminError::NotFound => ErrorKind::NotFound,
            CategoryAdminError::Forbidden => ErrorKind::Forbidden { code: "forbidden" },
            CategoryAdminError::InUse => ErrorKind::Conflict {
                code: "category_in_use",
            },
            CategoryAdminError::Store(e) => e.kind(),
        }
    }
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

operation_group!(
    /// Owners managing categories.
    CategoryAdmin
);

impl CategoryAdmin {
    /// Creates a category (owners only).
    ///
    /// # Errors
    /// [`CategoryAdminError::Forbidden`] for non-owners, [`CategoryAdminError::Invalid`] for tree
    /// rules and a slug already used under the same parent.
    pub async fn create(
        &self,
        actor: &Actor,
        new: NewCategory,
    ) -> Result<CategoryRecord, CategoryAdminError> {
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
        .map_err(CategoryAdminError::Invalid)?;
        let id = CategoryId::from_uuid(Uuid::now_v7());
        let now = self.deps.clock.now();
        tx.categories()?
            .insert_category(id, &valid, now)
            .await
            .map_err(slug_clash)?;
        let created = tx
            .categories()?
            .get_category(id)
            .await?
            .ok_or(CategoryAdminError::NotFound)?;
        tx.commit().await?;
        Ok(created)
    }

    /// Changes a category (owners only); the tree rules are checked on the result.
    ///
    /// # Errors
    /// As [`CategoryAdmin::create`], and [`CategoryAdminError::NotFound`].
    pub async fn update(
        &self,
        actor: &Actor,
        id: CategoryId,
        changes: CategoryChanges,
    ) -> Result<CategoryRecord, CategoryAdminError> {
        require_owner(actor)?;
        let mut tx = self.deps.uow.begin().await?;
        let current = tx
            .categories()?
            .get_category_for_update(id)
            .await?
            .ok_or(CategoryAdminError::NotFound)?;
        let usage = tx.categories()?.category_usage(id).await?;
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
                has_children: usage.has_children,
                has_products: usage.has_products,
            }),
        )
        .map_err(CategoryAdminError::Invalid)?;
        let now = self.deps.clock.now();
        tx.categories()?
            .update_category(id, &valid, now)
            .await
            .map_err(slug_clash)?;
        let updated = tx
            .categories()?
            .get_category(id)
            .await?
            .ok_or(CategoryAdminError::NotFound)?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Deletes a category and its subcategories (owners only), unless listings use them.
    ///
    /// # Errors
    /// [`CategoryAdminError::InUse`] when listings use it, [`CategoryAdminError::NotFound`].
    pub async fn delete(&self, actor: &Actor, id: CategoryId) -> Result<(), CategoryAdminError> {
        require_owner(actor)?;
        let mut tx = self.deps.uow.begin().await?;
        tx.categories()?
            .get_category_for_update(id)
            .await?
            .ok_or(CategoryAdminError::NotFound)?;
        match tx.categories()?.delete_category(id).await {
            Err(e) if e.is_conflict_on("products_category_id_fkey") => {
                return Err(CategoryAdminError::InUse);
            }
            other => other?,
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every category, active or not (owners only).
    ///
    /// # Errors
    /// [`CategoryAdminError::Forbidden`] for non-owners.
    pub async fn all(&self, actor: &Actor) -> Result<Vec<CategoryRecord>, CategoryAdminError> {
        require_owner(actor)?;
        Ok(self.deps.queries.catalog()?.all_categories().await?)
    }
}

fn require_owner(actor: &Actor) -> Result<(), CategoryAdminError> {
    if actor.roles.is_owner() {
        Ok(())
    } else {
        Err(CategoryAdminError::Forbidden)
    }
}

async fn parent_facts(
    tx: &mut dyn Tx,
    parent_id: Option<CategoryId>,
) -> Result<Option<ParentFacts>, CategoryAdminError> {
    let Some(parent_id) = parent_id else {
        return Ok(None);
    };
    let parent = tx
        .categories()?
        .get_category(parent_id)
        .await?
        .ok_or_else(|| {
            CategoryAdminError::Invalid(FieldErrors::single("parent_id", "no such category"))
        })?;
    Ok(Some(ParentFacts {
        id: parent.id,
        category_type: parent.category_type,
        has_parent: parent.parent_id.is_some(),
    }))
}

fn slug_clash(error: StoreError) -> CategoryAdminError {
    if error.is_conflict_on("categories_type_parent_slug_key") {
        CategoryAdminError::Invalid(FieldErrors::single(
            "slug",
            "a category with this slug already exists at this place in the tree",
        ))
    } else {
        CategoryAdminError::Store(error)
    }
}
