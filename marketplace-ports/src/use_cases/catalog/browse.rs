//! The public category trees and category pages.

use marketplace_domain::ids::CategoryId;
use marketplace_domain::pagination::{Page, PageRequest};

use crate::ports::{CategoryRecord, CategoryWithChildren, ProductFilter, StoreError};
use crate::use_cases::listings::{ProductView, product_view};
use crate::use_cases::{ErrorKind, UseCaseError};

/// Why a catalog page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum CatalogBrowseError {
    /// No such active category.
    #[error("category not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for CatalogBrowseError {
    fn kind(&self) -> ErrorKind {
        match self {
            CatalogBrowseError::NotFound => ErrorKind::NotFound,
            CatalogBrowseError::Store(e) => e.kind(),
        }
    }
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

operation_group!(
    /// The public category trees and pages.
    CatalogBrowsing
);

impl CatalogBrowsing {
    /// The public tree: active roots of both types with their active children.
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn tree(&self) -> Result<Vec<CategoryWithChildren>, CatalogBrowseError> {
        Ok(self.deps.queries.catalog()?.active_category_tree().await?)
    }

    /// A public category page.
    ///
    /// # Errors
    /// [`CatalogBrowseError::NotFound`] when the category does not exist or is inactive.
    pub async fn page(
        &self,
        id: CategoryId,
        page: PageRequest,
    ) -> Result<CategoryPage, CatalogBrowseError> {
        let catalog = self.deps.queries.catalog()?;
        let category = catalog
            .category(id)
            .await?
            .filter(|c| c.is_active)
            .ok_or(CatalogBrowseError::NotFound)?;
        let children = catalog
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
            .listings()?
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
