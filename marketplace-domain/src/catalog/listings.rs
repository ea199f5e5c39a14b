//! Listings: the product model's rules, and the one declaration of a listing's fields ([`Listing`]).
//!
//! A listing's kind decides its category tree (`MODEL` → 3D Models, `FILE` → 3D Files), whether it
//! ships, and which extras it may carry (physical attributes for models, a licence for files). A
//! free listing costs exactly zero; any other must cost more than zero. Slugs come from the title
//! and are unique per seller; the store numbers them (`name-2`, `name-3`) when the title repeats.

use std::fmt;
use std::str::FromStr;

use super::{CategoryType, SlugError, choose_slug};
use crate::ids::CategoryId;
use crate::money::{Cents, MoneyError};
use crate::validation::{FieldErrors, bounded_text, required_text};

/// Longest title.
pub const TITLE_MAX: usize = 160;
/// Longest slug.
pub const PRODUCT_SLUG_MAX: usize = 180;
/// Longest short description, in characters (the original's limit).
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

/// A new listing as a seller (or an owner) describes it, before validation. Absent optional fields
/// take their defaults: empty descriptions, active, not featured, not trending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingDraft {
    /// Kind.
    pub kind: ProductKind,
    /// Title.
    pub title: String,
    /// Explicit slug; derived from the title when absent.
    pub slug: Option<String>,
    /// Category.
    pub category_id: CategoryId,
    /// The price as entered (`"12.50"`); ignored when free.
    pub price: Option<String>,
    /// Free listing.
    pub is_free: bool,
    /// Short description.
    pub short_description: Option<String>,
    /// Long description.
    pub description: Option<String>,
    /// Visible publicly (default true).
    pub is_active: Option<bool>,
    /// Home page "featured" bucket (owners only).
    pub is_featured: Option<bool>,
    /// Manual trending flag (owners only).
    pub is_trending: Option<bool>,
    /// Physical attributes (models only).
    pub physical: Option<PhysicalAttributes>,
    /// Licence text (files only).
    pub license_text: Option<String>,
}

/// Changes to a listing; absent fields stay as they are. The kind cannot change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListingChanges {
    /// Requested kind (must equal the current one).
    pub kind: Option<ProductKind>,
    /// Title.
    pub title: Option<String>,
    /// Slug.
    pub slug: Option<String>,
    /// Category.
    pub category_id: Option<CategoryId>,
    /// Price text.
    pub price: Option<String>,
    /// Free flag.
    pub is_free: Option<bool>,
    /// Short description.
    pub short_description: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Visibility.
    pub is_active: Option<bool>,
    /// Featured (owners).
    pub is_featured: Option<bool>,
    /// Trending (owners).
    pub is_trending: Option<bool>,
    /// Physical attributes (models).
    pub physical: Option<PhysicalAttributes>,
    /// Licence (files).
    pub license_text: Option<String>,
}

impl ListingChanges {
    /// The whole listing these changes would leave, as a draft to validate again, and whether the
    /// caller may set the home-page flags (owners may; anyone may keep what an owner set). A
    /// changed title gets a fresh slug unless one is given; otherwise the slug stays.
    ///
    /// # Errors
    /// A field error when the kind would change.
    pub fn merged_into(
        self,
        current: &Listing,
        current_slug: &str,
        by_owner: bool,
    ) -> Result<(ListingDraft, bool), FieldErrors> {
        if self.kind.is_some_and(|kind| kind != current.kind) {
            return Err(FieldErrors::single(
                "kind",
                "the kind of a listing cannot change; create a new listing instead",
            ));
        }
        let title_changed = self
            .title
            .as_ref()
            .is_some_and(|t| t.trim() != current.title);
        let slug = match (self.slug, title_changed) {
            (Some(slug), _) => Some(slug),
            (None, true) => None,
            (None, false) => Some(current_slug.to_owned()),
        };
        let flags_unchanged = self.is_featured.is_none_or(|v| v == current.is_featured)
            && self.is_trending.is_none_or(|v| v == current.is_trending);
        let price = self
            .price
            .or_else(|| (!current.is_free).then(|| current.price.to_string()));
        let draft = ListingDraft {
            kind: current.kind,
            title: self.title.unwrap_or_else(|| current.title.clone()),
            slug,
            category_id: self.category_id.unwrap_or(current.category_id),
            price,
            is_free: self.is_free.unwrap_or(current.is_free),
            short_description: Some(
                self.short_description
                    .unwrap_or_else(|| current.short_description.clone()),
            ),
            description: Some(
                self.description
                    .unwrap_or_else(|| current.description.clone()),
            ),
            is_active: Some(self.is_active.unwrap_or(current.is_active)),
            is_featured: Some(self.is_featured.unwrap_or(current.is_featured)),
            is_trending: Some(self.is_trending.unwrap_or(current.is_trending)),
            physical: self.physical.or_else(|| current.physical.clone()),
            license_text: self.license_text.or_else(|| current.license_text.clone()),
        };
        Ok((draft, by_owner || flags_unchanged))
    }
}

/// A listing's fields after every rule passed: the one declaration of what a listing is, which
/// stores keep as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// Kind.
    pub kind: ProductKind,
    /// Trimmed title.
    pub title: String,
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

impl Listing {
    /// The same listing, switched between active and inactive.
    pub fn toggled(mut self) -> Listing {
        self.is_active = !self.is_active;
        self
    }

    /// What a buyer pays per unit: zero when free.
    pub fn unit_price(&self) -> Cents {
        if self.is_free {
            Cents::ZERO
        } else {
            self.price
        }
    }
}

/// The slug a validated listing asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlugChoice {
    /// The slug, or the base to number (`base`, `base-2`, …) until it is free for the seller.
    pub base: String,
    /// Given explicitly: used as is (a clash is the seller's to fix), never numbered.
    pub explicit: bool,
}

/// A listing that passed every rule, and the slug it asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidListing {
    /// The fields.
    pub listing: Listing,
    /// The slug.
    pub slug: SlugChoice,
}

/// Applies every listing rule to a draft. `category` is what the store knows of the chosen
/// category (`None`: no such category); `may_set_flags` allows the home-page flags (owners).
///
/// # Errors
/// Every field problem at once.
pub fn validate_listing(
    draft: ListingDraft,
    category: Option<CategoryFacts>,
    may_set_flags: bool,
) -> Result<ValidListing, FieldErrors> {
    let is_featured = draft.is_featured.unwrap_or(false);
    let is_trending = draft.is_trending.unwrap_or(false);
    let mut errors = FieldErrors::new();
    let title = errors.check("title", required_text(&draft.title, TITLE_MAX));
    let explicit_slug = draft.slug.as_deref().filter(|s| !s.trim().is_empty());
    let slug = errors.check(
        "slug",
        choose_slug(explicit_slug, &draft.title, PRODUCT_SLUG_MAX).or_else(|e| match e {
            // A title without letters (e.g. only emoji) still gets a usable slug.
            SlugError::NothingToSlugify => Ok("item".to_owned()),
            other => Err(other),
        }),
    );
    let short_description = errors
        .check(
            "short_description",
            bounded_text(
                draft.short_description.as_deref().unwrap_or_default(),
                SHORT_DESCRIPTION_MAX,
            ),
        )
        .unwrap_or_default();
    let description = errors
        .check(
            "description",
            bounded_text(
                draft.description.as_deref().unwrap_or_default(),
                DESCRIPTION_MAX,
            ),
        )
        .unwrap_or_default();

    let category_id = match category {
        None => {
            errors.add("category_id", "select a valid category");
            None
        }
        Some(category) if !category.is_active => {
            errors.add("category_id", "this category is not active");
            None
        }
        Some(category) if category.category_type != draft.kind.category_type() => {
            let message = match draft.kind {
                ProductKind::Model => "model products must use a 3D Models category",
                ProductKind::File => "file products must use a 3D Files category",
            };
            errors.add("category_id", message);
            None
        }
        Some(category) => Some(category.id),
    };

    let price = if draft.is_free {
        Some(Cents::ZERO)
    } else {
        match draft
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

    if !may_set_flags && is_featured {
        errors.add(
            "is_featured",
            "only the marketplace owner can feature listings",
        );
    }
    if !may_set_flags && is_trending {
        errors.add(
            "is_trending",
            "only the marketplace owner can mark listings trending",
        );
    }

    let physical = match (draft.kind, draft.physical) {
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
    let license_text = match (draft.kind, draft.license_text) {
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
    errors.into_result(ValidListing {
        listing: Listing {
            kind: draft.kind,
            title,
            short_description,
            description,
            category_id,
            price,
            is_free: draft.is_free,
            is_active: draft.is_active.unwrap_or(true),
            is_featured,
            is_trending,
            physical,
            license_text,
        },
        slug: SlugChoice {
            base: slug,
            explicit: explicit_slug.is_some(),
        },
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
mod tests;
