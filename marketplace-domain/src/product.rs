//! Listings: the product model's rules.
//!
//! A listing's kind decides its category tree (`MODEL` → 3D Models, `FILE` → 3D Files), whether it
//! ships, and which extras it may carry (physical attributes for models, a licence for files). A
//! free listing costs exactly zero; any other must cost more than zero. Slugs come from the title
//! and are unique per seller; the store numbers them (`name-2`, `name-3`) when the title repeats.

use std::fmt;
use std::str::FromStr;

use crate::catalog::{CategoryType, SlugError, choose_slug};
use crate::ids::CategoryId;
use crate::money::{Cents, MoneyError};
use crate::validation::{FieldErrors, bounded_text, required_text};

/// Longest title.
pub const TITLE_MAX: usize = 160;
/// Longest slug.
pub const PRODUCT_SLUG_MAX: usize = 180;
/// Longest short description (SPEC §3.3).
pub const SHORT_DESCRIPTION_MAX: usize = 280;
/// Longest description; the original had none, a bound keeps rows sane.
pub const DESCRIPTION_MAX: usize = 20_000;
/// Longest image alt text.
pub const ALT_TEXT_MAX: usize = 160;

/// What a listing sells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProductKind {
    /// A physical printed model, shipped.
    Model,
    /// A digital file, downloaded; always quantity 1.
    File,
}

impl ProductKind {
    /// Wire and storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ProductKind::Model => "MODEL",
            ProductKind::File => "FILE",
        }
    }

    /// The category tree listings of this kind must use.
    pub fn category_type(self) -> CategoryType {
        match self {
            ProductKind::Model => CategoryType::Model,
            ProductKind::File => CategoryType::File,
        }
    }

    /// True for digital files.
    pub fn is_digital(self) -> bool {
        self == ProductKind::File
    }

    /// True for physical models.
    pub fn requires_shipping(self) -> bool {
        self == ProductKind::Model
    }
}

/// An unknown product kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be MODEL or FILE")]
pub struct UnknownProductKind;

impl FromStr for ProductKind {
    type Err = UnknownProductKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "MODEL" => Ok(ProductKind::Model),
            "FILE" => Ok(ProductKind::File),
            _ => Err(UnknownProductKind),
        }
    }
}

impl fmt::Display for ProductKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the rules need to know about the chosen category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CategoryFacts {
    /// Its id.
    pub id: CategoryId,
    /// Its tree.
    pub category_type: CategoryType,
    /// Inactive categories cannot take new listings.
    pub is_active: bool,
}

/// Attributes of a physical model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PhysicalAttributes {
    /// Printing material (≤ 120).
    pub material: String,
    /// Colour (≤ 120).
    pub color: String,
    /// Width in millimetres.
    pub width_mm: Option<i32>,
    /// Height in millimetres.
    pub height_mm: Option<i32>,
    /// Depth in millimetres.
    pub depth_mm: Option<i32>,
}

/// A listing as a seller describes it, before validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductInput {
    /// Kind.
    pub kind: ProductKind,
    /// Title.
    pub title: String,
    /// Explicit slug; derived from the title when absent.
    pub slug: Option<String>,
    /// Short description.
    pub short_description: String,
    /// Long description.
    pub description: String,
    /// The chosen category, or `None` when the id matched nothing.
    pub category: Option<CategoryFacts>,
    /// The price as entered (`"12.50"`); ignored when free.
    pub price: Option<String>,
    /// Free listing.
    pub is_free: bool,
    /// Visible publicly.
    pub is_active: bool,
    /// Home page "featured" bucket (owners only).
    pub is_featured: bool,
    /// Manual trending flag (owners only).
    pub is_trending: bool,
    /// Physical attributes (models only).
    pub physical: Option<PhysicalAttributes>,
    /// Licence text (files only).
    pub license_text: Option<String>,
}

/// A listing that passed every rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidProduct {
    /// Kind.
    pub kind: ProductKind,
    /// Trimmed title.
    pub title: String,
    /// Base slug (the store may number it to keep it unique per seller).
    pub slug: String,
    /// True when the slug was given explicitly (then a clash is an error, not renumbered).
    pub slug_is_explicit: bool,
    /// Trimmed short description.
    pub short_description: String,
    /// Trimmed description.
    pub description: String,
    /// Category id.
    pub category_id: CategoryId,
    /// Price in cents; zero exactly when free.
    pub price: Cents,
    /// Free listing.
    pub is_free: bool,
    /// Visible publicly.
    pub is_active: bool,
    /// Featured flag.
    pub is_featured: bool,
    /// Trending flag.
    pub is_trending: bool,
    /// Physical attributes (models).
    pub physical: Option<PhysicalAttributes>,
    /// Licence text (files).
    pub license_text: Option<String>,
}

/// Applies every listing rule. `by_owner` allows the home-page flags.
pub fn validate_product(input: ProductInput, by_owner: bool) -> Result<ValidProduct, FieldErrors> {
    let mut errors = FieldErrors::new();
    let title = errors.check("title", required_text(&input.title, TITLE_MAX));
    let explicit_slug = input.slug.as_deref().filter(|s| !s.trim().is_empty());
    let slug = errors.check(
        "slug",
        choose_slug(explicit_slug, &input.title, PRODUCT_SLUG_MAX).or_else(|e| match e {
            // A title without letters (e.g. only emoji) still gets a usable slug.
            SlugError::NothingToSlugify => Ok("item".to_owned()),
            other => Err(other),
        }),
    );
    let short_description = errors
        .check(
            "short_description",
            bounded_text(&input.short_description, SHORT_DESCRIPTION_MAX),
        )
        .unwrap_or_default();
    let description = errors
        .check(
            "description",
            bounded_text(&input.description, DESCRIPTION_MAX),
        )
        .unwrap_or_default();

    let category_id = match input.category {
        None => {
            errors.add("category_id", "select a valid category");
            None
        }
        Some(category) if !category.is_active => {
            errors.add("category_id", "this category is not active");
            None
        }
        Some(category) if category.category_type != input.kind.category_type() => {
            let message = match input.kind {
                ProductKind::Model => "model products must use a 3D Models category",
                ProductKind::File => "file products must use a 3D Files category",
            };
            errors.add("category_id", message);
            None
        }
        Some(category) => Some(category.id),
    };

    let price = if input.is_free {
        Some(Cents::ZERO)
    } else {
        match input
            .price
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            None => {
                errors.add("price", "price is required unless the item is marked free");
                None
            }
            Some(text) => match Cents::parse_price(text) {
                Ok(cents) if cents.is_positive() => Some(cents),
                Ok(_) | Err(MoneyError::Negative) => {
                    errors.add(
                        "price",
                        "price must be greater than 0.00 unless the item is marked free",
                    );
                    None
                }
                Err(other) => {
                    errors.add("price", other.to_string());
                    None
                }
            },
        }
    };

    if !by_owner && input.is_featured {
        errors.add(
            "is_featured",
            "only the marketplace owner can feature listings",
        );
    }
    if !by_owner && input.is_trending {
        errors.add(
            "is_trending",
            "only the marketplace owner can mark listings trending",
        );
    }

    let physical = match (input.kind, input.physical) {
        (ProductKind::File, Some(attributes)) if attributes != PhysicalAttributes::default() => {
            errors.add(
                "physical",
                "physical attributes are only for MODEL listings",
            );
            None
        }
        (ProductKind::Model, Some(attributes)) => validate_physical(attributes, &mut errors),
        _ => None,
    };
    let license_text = match (input.kind, input.license_text) {
        (ProductKind::Model, Some(text)) if !text.trim().is_empty() => {
            errors.add("license_text", "a licence is only for FILE listings");
            None
        }
        (ProductKind::File, Some(text)) => {
            errors.check("license_text", bounded_text(&text, 20_000))
        }
        _ => None,
    };

    let (Some(title), Some(slug), Some(category_id), Some(price)) =
        (title, slug, category_id, price)
    else {
        return Err(errors);
    };
    errors.into_result(ValidProduct {
        kind: input.kind,
        title,
        slug,
        slug_is_explicit: explicit_slug.is_some(),
        short_description,
        description,
        category_id,
        price,
        is_free: input.is_free,
        is_active: input.is_active,
        is_featured: input.is_featured,
        is_trending: input.is_trending,
        physical,
        license_text,
    })
}

fn validate_physical(
    attributes: PhysicalAttributes,
    errors: &mut FieldErrors,
) -> Option<PhysicalAttributes> {
    let material = errors.check("physical.material", bounded_text(&attributes.material, 120));
    let color = errors.check("physical.color", bounded_text(&attributes.color, 120));
    let dimensions = [
        ("physical.width_mm", attributes.width_mm),
        ("physical.height_mm", attributes.height_mm),
        ("physical.depth_mm", attributes.depth_mm),
    ];
    for (field, value) in dimensions {
        if value.is_some_and(|mm| !(0..=100_000).contains(&mm)) {
            errors.add(field, "must be between 0 and 100000 millimetres");
        }
    }
    Some(PhysicalAttributes {
        material: material?,
        color: color?,
        ..attributes
    })
}

/// The `n`-th candidate slug for a base slug: `base`, then `base-2`, `base-3`, … cut so the
/// suffix always fits within [`PRODUCT_SLUG_MAX`].
pub fn numbered_slug(base: &str, n: u32) -> String {
    if n <= 1 {
        return base.chars().take(PRODUCT_SLUG_MAX).collect();
    }
    let suffix = format!("-{n}");
    let room = PRODUCT_SLUG_MAX.saturating_sub(suffix.len());
    let head: String = base.chars().take(room).collect();
    format!("{}{suffix}", head.trim_end_matches('-'))
}

/// Validates an image's alt text.
pub fn validate_alt_text(raw: &str) -> Result<String, FieldErrors> {
    bounded_text(raw, ALT_TEXT_MAX).map_err(|e| FieldErrors::single("alt_text", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn category(category_type: CategoryType) -> CategoryFacts {
        CategoryFacts {
            id: CategoryId::from_uuid(Uuid::from_u128(7)),
            category_type,
            is_active: true,
        }
    }

    fn model_input() -> ProductInput {
        ProductInput {
            kind: ProductKind::Model,
            title: "Dragon Bust".into(),
            slug: None,
            short_description: "A bust".into(),
            description: String::new(),
            category: Some(category(CategoryType::Model)),
            price: Some("12.50".into()),
            is_free: false,
            is_active: true,
            is_featured: false,
            is_trending: false,
            physical: None,
            license_text: None,
        }
    }

    #[test]
    fn a_priced_model_in_a_model_category_is_valid() {
        let valid = validate_product(model_input(), false).unwrap();
        assert_eq!(valid.price, Cents::new(1250));
        assert_eq!(valid.slug, "dragon-bust");
        assert!(!valid.slug_is_explicit);
    }

    #[test]
    fn kind_must_match_the_category_tree() {
        let mut input = model_input();
        input.category = Some(category(CategoryType::File));
        let errors = validate_product(input, false).unwrap_err();
        assert_eq!(
            errors.fields()["category_id"],
            ["model products must use a 3D Models category"]
        );
    }

    #[test]
    fn free_forces_zero_and_priced_must_be_positive() {
        let mut free = model_input();
        free.is_free = true;
        free.price = Some("99.00".into());
        assert_eq!(validate_product(free, false).unwrap().price, Cents::ZERO);

        for bad in ["0", "0.00", "-5", "abc", "1.999"] {
            let mut input = model_input();
            input.price = Some(bad.into());
            let errors = validate_product(input, false).unwrap_err();
            assert!(
                errors.fields().contains_key("price"),
                "{bad} should be refused"
            );
        }
        let mut missing = model_input();
        missing.price = None;
        assert!(validate_product(missing, false).is_err());
    }

    #[test]
    fn short_description_is_limited_to_280_characters() {
        let mut input = model_input();
        input.short_description = "x".repeat(281);
        assert!(
            validate_product(input, false)
                .unwrap_err()
                .fields()
                .contains_key("short_description")
        );
    }

    #[test]
    fn only_owners_set_home_page_flags() {
        let mut input = model_input();
        input.is_featured = true;
        assert!(validate_product(input.clone(), false).is_err());
        assert!(validate_product(input, true).unwrap().is_featured);
    }

    #[test]
    fn extras_must_fit_the_kind() {
        let mut input = model_input();
        input.license_text = Some("CC-BY".into());
        assert!(validate_product(input, false).is_err());

        let mut file = model_input();
        file.kind = ProductKind::File;
        file.category = Some(category(CategoryType::File));
        file.physical = Some(PhysicalAttributes {
            material: "PLA".into(),
            ..Default::default()
        });
        assert!(validate_product(file, false).is_err());
    }

    #[test]
    fn numbered_slugs_fit_the_limit() {
        assert_eq!(numbered_slug("dragon", 1), "dragon");
        assert_eq!(numbered_slug("dragon", 3), "dragon-3");
        let long = "a".repeat(PRODUCT_SLUG_MAX);
        let numbered = numbered_slug(&long, 12);
        assert_eq!(numbered.chars().count(), PRODUCT_SLUG_MAX);
        assert!(numbered.ends_with("-12"));
    }
}
