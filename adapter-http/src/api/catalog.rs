//! Category trees and category pages (public), and category management (owners).

use marketplace_domain::ids::CategoryId;
use marketplace_domain::money::Currency;
use marketplace_ports::ports::CategoryWithChildren;
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::catalog::{CategoryChanges, NewCategory};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use serde::Deserialize;

use super::ApiTags;
use crate::auth::Auth;
use crate::dto::{CategoryDto, KindDto, PageDto, ProductDto, page_request, product_dto};
use crate::error::ApiResult;
use crate::json::JsonBody;
use crate::params::{PageNumber, PerPage};

/// Categories.
pub struct CatalogApi {
    /// Use cases.
    pub services: Services,
    /// Currency prices are shown in.
    pub currency: Currency,
}

/// A root category with its subcategories.
#[derive(Debug, Object)]
pub struct CategoryTreeDto {
    /// The root.
    #[oai(flatten)]
    pub category: CategoryDto,
    /// Active subcategories.
    pub children: Vec<CategoryDto>,
}

/// Both trees.
#[derive(Debug, Object)]
pub struct CategoryTreesDto {
    /// "3D Models" roots.
    pub models: Vec<CategoryTreeDto>,
    /// "3D Files" roots.
    pub files: Vec<CategoryTreeDto>,
}

/// A category page.
#[derive(Debug, Object)]
pub struct CategoryPageDto {
    /// The category.
    pub category: CategoryDto,
    /// Its active subcategories.
    pub children: Vec<CategoryDto>,
    /// Active listings in it and its subcategories, newest first.
    pub products: PageDto<ProductDto>,
}

/// A new category.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct NewCategoryRequest {
    /// Tree.
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub category_type: KindDto,
    /// Name (≤ 120).
    #[oai(validator(
        pattern = r"^[^\u0000]*[^\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000][^\u0000]*$",
        max_length = 120
    ))]
    pub name: String,
    /// Slug; derived from the name when absent.
    #[oai(nullable, validator(pattern = r"^[a-z0-9_-]*$", max_length = 140))]
    pub slug: Option<String>,
    /// Root parent of the same type, for a subcategory.
    #[oai(nullable)]
    pub parent_id: Option<Uuid>,
    /// Description.
    #[oai(nullable, validator(max_length = 5000))]
    pub description: Option<String>,
    /// Ordering key (≥ 0).
    #[oai(nullable, validator(minimum(value = "0")))]
    pub sort_order: Option<i32>,
    /// Visible (default true).
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

/// Category changes; absent fields stay. `parent_id: null` makes it a root.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CategoryUpdateRequest {
    /// Tree.
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    #[oai(nullable)]
    pub category_type: Option<KindDto>,
    /// Name.
    #[oai(
        nullable,
        validator(
            pattern = r"^[^\u0000]*[^\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000][^\u0000]*$",
            max_length = 120
        )
    )]
    pub name: Option<String>,
    /// Slug.
    #[oai(nullable, validator(pattern = r"^[a-z0-9_-]*$", max_length = 140))]
    pub slug: Option<String>,
    /// Parent (null → root).
    #[serde(default)]
    #[oai(nullable)]
    pub parent_id: MaybeUndefined<Uuid>,
    /// Description.
    #[oai(nullable, validator(max_length = 5000))]
    pub description: Option<String>,
    /// Ordering key.
    #[oai(nullable, validator(minimum(value = "0")))]
    pub sort_order: Option<i32>,
    /// Visibility.
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

/// Creation answer.
#[derive(ApiResponse)]
pub enum CreatedCategory {
    /// Created.
    #[oai(status = 201)]
    Created(Json<CategoryDto>),
}

/// Deletion answer.
#[derive(ApiResponse)]
pub enum Deleted {
    /// Deleted.
    #[oai(status = 204)]
    Done,
}

fn tree_dto(root: CategoryWithChildren) -> CategoryTreeDto {
    CategoryTreeDto {
        category: root.category.into(),
        children: root.children.into_iter().map(CategoryDto::from).collect(),
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Catalog")]
impl CatalogApi {
    /// The active category trees: roots of each type with their active children, ordered by
    /// (sort order, name).
    #[oai(path = "/categories", method = "get")]
    async fn tree(&self) -> ApiResult<Json<CategoryTreesDto>> {
        let (models, files): (Vec<_>, Vec<_>) = self
            .services
            .catalog
            .tree()
            .await?
            .into_iter()
            .partition(|root| {
                root.category.category_type == marketplace_domain::catalog::CategoryType::Model
            });
        Ok(Json(CategoryTreesDto {
            models: models.into_iter().map(tree_dto).collect(),
            files: files.into_iter().map(tree_dto).collect(),
        }))
    }

    /// A category page: the category, its children and a page of its active listings (and its
    /// children's), newest first.
    #[oai(path = "/categories/:id", method = "get")]
    async fn page(
        &self,
        id: Path<Uuid>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<CategoryPageDto>> {
        let request = page_request(page.0, per_page.0)?;
        let result = self
            .services
            .catalog
            .page(CategoryId::from_uuid(id.0), request)
            .await?;
        let currency = self.currency;
        Ok(Json(CategoryPageDto {
            category: result.category.into(),
            children: result.children.into_iter().map(CategoryDto::from).collect(),
            products: PageDto::from_page(result.products, |v| product_dto(v, currency)),
        }))
    }

    /// Every category, active or not (owners).
    #[oai(path = "/admin/categories", method = "get")]
    async fn all(&self, auth: Auth) -> ApiResult<Json<Vec<CategoryDto>>> {
        let all = self.services.category_admin.all(auth.actor()).await?;
        Ok(Json(all.into_iter().map(CategoryDto::from).collect()))
    }

    /// Create a category or subcategory (owners).
    #[oai(path = "/admin/categories", method = "post")]
    async fn create(
        &self,
        auth: Auth,
        body: JsonBody<NewCategoryRequest>,
    ) -> ApiResult<CreatedCategory> {
        let b = body.0;
        let created = self
            .services
            .category_admin
            .create(
                auth.actor(),
                NewCategory {
                    category_type: b.category_type.into(),
                    name: b.name,
                    slug: b.slug,
                    parent_id: b.parent_id.map(CategoryId::from_uuid),
                    description: b.description,
                    is_active: b.is_active,
                    sort_order: b.sort_order,
                },
            )
            .await?;
        Ok(CreatedCategory::Created(Json(created.into())))
    }

    /// Change a category (owners); the tree rules are checked on the result.
    #[oai(path = "/admin/categories/:id", method = "patch")]
    async fn update(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<CategoryUpdateRequest>,
    ) -> ApiResult<Json<CategoryDto>> {
        let b = body.0;
        let parent_id = match b.parent_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(id) => Some(Some(CategoryId::from_uuid(id))),
        };
        let updated = self
            .services
            .category_admin
            .update(
                auth.actor(),
                CategoryId::from_uuid(id.0),
                CategoryChanges {
                    category_type: b.category_type.map(Into::into),
                    name: b.name,
                    slug: b.slug,
                    parent_id,
                    description: b.description,
                    is_active: b.is_active,
                    sort_order: b.sort_order,
                },
            )
            .await?;
        Ok(Json(updated.into()))
    }

    /// Delete a category and its subcategories (owners); refused (409) while listings use them.
    #[oai(path = "/admin/categories/:id", method = "delete")]
    async fn delete(&self, auth: Auth, id: Path<Uuid>) -> ApiResult<Deleted> {
        self.services
            .category_admin
            .delete(auth.actor(), CategoryId::from_uuid(id.0))
            .await?;
        Ok(Deleted::Done)
    }
}
