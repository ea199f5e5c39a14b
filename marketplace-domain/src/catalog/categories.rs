//! Categories: the tree rules an owner's create or update must pass.

use crate::ids::CategoryId;
use crate::validation::{FieldErrors, bounded_text, required_text};

use super::{CATEGORY_NAME_MAX, CATEGORY_SLUG_MAX, CategoryType, choose_slug};

/// What the rules need to know about a proposed parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParentFacts {
    /// The parent's id.
    pub id: CategoryId,
    /// The parent's tree.
    pub category_type: CategoryType,
    /// True when the parent is itself a subcategory.
    pub has_parent: bool,
}

/// What the rules need to know about the category being edited (absent on create).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExistingCategoryFacts {
    /// Its id.
    pub id: CategoryId,
    /// Its current tree.
    pub category_type: CategoryType,
    /// True when it has subcategories.
    pub has_children: bool,
    /// True when listings use it.
    pub has_products: bool,
}

/// A category as requested by an owner, before validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryInput {
    /// Tree.
    pub category_type: CategoryType,
    /// Display name.
    pub name: String,
    /// Explicit slug; derived from the name when absent.
    pub slug: Option<String>,
    /// Root parent, for a subcategory.
    pub parent: Option<ParentFacts>,
    /// Free text.
    pub description: String,
    /// Shown publicly when true.
    pub is_active: bool,
    /// Position among siblings (ascending).
    pub sort_order: i32,
}

/// A category that passed every tree rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidCategory {
    /// Tree.
    pub category_type: CategoryType,
    /// Trimmed name.
    pub name: String,
    /// Final slug.
    pub slug: String,
    /// Root parent id, if a subcategory.
    pub parent_id: Option<CategoryId>,
    /// Trimmed description.
    pub description: String,
    /// Visibility.
    pub is_active: bool,
    /// Ordering key.
    pub sort_order: i32,
}

/// Applies every tree rule to a create (`existing = None`) or an update.
pub fn validate_category(
    input: CategoryInput,
    existing: Option<ExistingCategoryFacts>,
) -> Result<ValidCategory, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = errors.check("name", required_text(&input.name, CATEGORY_NAME_MAX));
    let slug = errors.check(
        "slug",
        choose_slug(input.slug.as_deref(), &input.name, CATEGORY_SLUG_MAX),
    );
    let description = errors
        .check("description", bounded_text(&input.description, 5_000))
        .unwrap_or_default();
    if input.sort_order < 0 {
        errors.add("sort_order", "must be zero or more");
    }
    if let Some(parent) = input.parent {
        if parent.has_parent {
            errors.add(
                "parent_id",
                "subcategories can only be one level deep (pick a root category)",
            );
        }
        if parent.category_type != input.category_type {
            errors.add(
                "parent_id",
                "subcategory type must match the selected category type",
            );
        }
        if existing.is_some_and(|e| e.id == parent.id) {
            errors.add("parent_id", "a category cannot be its own parent");
        }
    }
    if let Some(existing) = existing {
        if input.parent.is_some() && existing.has_children {
            errors.add(
                "parent_id",
                "this category has subcategories, so it must stay a root category",
            );
        }
        if input.category_type != existing.category_type
            && (existing.has_children || existing.has_products)
        {
            errors.add(
                "type",
                "cannot change the type of a category that has subcategories or listings",
            );
        }
    }
    let (Some(name), Some(slug)) = (name, slug) else {
        return Err(errors);
    };
    errors.into_result(ValidCategory {
        category_type: input.category_type,
        name,
        slug,
        parent_id: input.parent.map(|p| p.id),
        description,
        is_active: input.is_active,
        sort_order: input.sort_order,
    })
}
