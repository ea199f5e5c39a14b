//! The catalog: two category trees by type, one level deep, with slugs (`categories.rs`), and the
//! listings sold in them ([`listings`]).
//!
//! `MODEL` ("3D Models") and `FILE` ("3D Files") each form a tree of roots and their direct
//! subcategories. A subcategory's parent must be a root of the same type; there are no grandchildren.
//! Slugs come from the name unless given, and are unique per (type, parent).

mod categories;
pub mod listings;

use std::fmt;
use std::str::FromStr;

pub use categories::*;
pub use listings::*;

/// Longest category name.
pub const CATEGORY_NAME_MAX: usize = 120;
/// Longest category slug.
pub const CATEGORY_SLUG_MAX: usize = 140;

/// Which tree a category belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CategoryType {
    /// Physical printed models.
    Model,
    /// Digital files.
    File,
}

impl CategoryType {
    /// The stored and wire spelling: `MODEL` or `FILE`.
    pub fn as_str(self) -> &'static str {
        match self {
            CategoryType::Model => "MODEL",
            CategoryType::File => "FILE",
        }
    }

    /// The tree's display label.
    pub fn label(self) -> &'static str {
        match self {
            CategoryType::Model => "3D Models",
            CategoryType::File => "3D Files",
        }
    }
}

/// An unknown category type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be MODEL or FILE")]
pub struct UnknownCategoryType;

impl FromStr for CategoryType {
    type Err = UnknownCategoryType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "MODEL" => Ok(CategoryType::Model),
            "FILE" => Ok(CategoryType::File),
            _ => Err(UnknownCategoryType),
        }
    }
}

impl fmt::Display for CategoryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Django's `slugify` for ASCII: lower-case, keep letters, digits, `-` and `_`, turn runs of
/// whitespace and hyphens into one hyphen, trim `-` and `_` at the ends, cut to `max` characters.
/// Common Latin accents are folded (`é` → `e`); other characters are dropped.
pub fn slugify(text: &str, max: usize) -> String {
    let mut slug = String::with_capacity(text.len());
    let mut pending_hyphen = false;
    for c in text.chars().flat_map(fold_accent) {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || c == '_' {
            if pending_hyphen && !slug.is_empty() {
                slug.push('-');
            }
            pending_hyphen = false;
            slug.push(c);
        } else if c == '-' || c.is_whitespace() {
            pending_hyphen = true;
        }
    }
    let trimmed: String = slug.chars().take(max).collect();
    trimmed.trim_matches(|c| c == '-' || c == '_').to_owned()
}

fn fold_accent(c: char) -> Option<char> {
    if c.is_ascii() {
        return Some(c);
    }
    let folded = match c {
        'à'..='å' | 'À'..='Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è'..='ë' | 'È'..='Ë' => 'e',
        'ì'..='ï' | 'Ì'..='Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò'..='ö' | 'ø' | 'Ò'..='Ö' | 'Ø' => 'o',
        'ù'..='ü' | 'Ù'..='Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        _ => return None,
    };
    Some(folded)
}

/// Validates a slug given explicitly: non-empty, ASCII letters, digits, `-`, `_`, at most `max`.
pub fn parse_slug(raw: &str, max: usize) -> Result<String, SlugError> {
    let slug = raw.trim();
    if slug.is_empty() {
        return Err(SlugError::Empty);
    }
    if slug.chars().count() > max {
        return Err(SlugError::TooLong { max });
    }
    if !slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(SlugError::InvalidCharacter);
    }
    Ok(slug.to_owned())
}

/// Why a slug was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    /// Empty.
    #[error("must not be empty")]
    Empty,
    /// Too long.
    #[error("must be at most {max} characters")]
    TooLong {
        /// Limit.
        max: usize,
    },
    /// Not lower-case ASCII letters, digits, `-`, `_`.
    #[error("may contain only lower-case letters, digits, - and _")]
    InvalidCharacter,
    /// The text has no letter or digit to build a slug from.
    #[error("must contain at least one letter or digit to build a slug from")]
    NothingToSlugify,
}

/// The slug for `name`: the explicit one if given, else derived from the name.
pub fn choose_slug(explicit: Option<&str>, name: &str, max: usize) -> Result<String, SlugError> {
    match explicit.filter(|s| !s.trim().is_empty()) {
        Some(slug) => parse_slug(slug, max),
        None => {
            let derived = slugify(name, max);
            if derived.is_empty() {
                Err(SlugError::NothingToSlugify)
            } else {
                Ok(derived)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CategoryId;
    use uuid::Uuid;

    fn id(n: u128) -> CategoryId {
        CategoryId::from_uuid(Uuid::from_u128(n))
    }

    fn input(category_type: CategoryType, parent: Option<ParentFacts>) -> CategoryInput {
        CategoryInput {
            category_type,
            name: "Tabletop Minis".into(),
            slug: None,
            parent,
            description: String::new(),
            is_active: true,
            sort_order: 0,
        }
    }

    #[test]
    fn slugify_matches_django_for_common_names() {
        assert_eq!(slugify("Tabletop Minis", 140), "tabletop-minis");
        assert_eq!(slugify("  Hello,   World!  ", 140), "hello-world");
        assert_eq!(slugify("Crème brûlée -- 3D", 140), "creme-brulee-3d");
        assert_eq!(slugify("snake_case stays", 140), "snake_case-stays");
        assert_eq!(slugify("abc def", 4), "abc");
        assert_eq!(slugify("日本", 140), "");
    }

    #[test]
    fn explicit_slugs_must_be_clean() {
        assert_eq!(
            choose_slug(Some("my-slug"), "Name", 140).unwrap(),
            "my-slug"
        );
        assert_eq!(
            choose_slug(Some("My Slug"), "Name", 140),
            Err(SlugError::InvalidCharacter)
        );
        assert_eq!(
            choose_slug(None, "!!!", 140),
            Err(SlugError::NothingToSlugify)
        );
    }

    #[test]
    fn a_root_category_is_valid_and_gets_a_slug() {
        let valid = validate_category(input(CategoryType::Model, None), None).unwrap();
        assert_eq!(valid.slug, "tabletop-minis");
        assert_eq!(valid.parent_id, None);
    }

    #[test]
    fn a_subcategory_needs_a_root_parent_of_the_same_type() {
        let root_file = ParentFacts {
            id: id(1),
            category_type: CategoryType::File,
            has_parent: false,
        };
        let errors =
            validate_category(input(CategoryType::Model, Some(root_file)), None).unwrap_err();
        assert!(errors.fields().contains_key("parent_id"));

        let child = ParentFacts {
            id: id(2),
            category_type: CategoryType::Model,
            has_parent: true,
        };
        let errors = validate_category(input(CategoryType::Model, Some(child)), None).unwrap_err();
        assert!(errors.to_string().contains("one level deep"));

        let root_model = ParentFacts {
            id: id(3),
            category_type: CategoryType::Model,
            has_parent: false,
        };
        let valid = validate_category(input(CategoryType::Model, Some(root_model)), None).unwrap();
        assert_eq!(valid.parent_id, Some(id(3)));
    }

    #[test]
    fn a_root_with_children_cannot_become_a_subcategory_or_change_type() {
        let existing = ExistingCategoryFacts {
            id: id(9),
            category_type: CategoryType::Model,
            has_children: true,
            has_products: false,
        };
        let root = ParentFacts {
            id: id(3),
            category_type: CategoryType::Model,
            has_parent: false,
        };
        assert!(validate_category(input(CategoryType::Model, Some(root)), Some(existing)).is_err());
        let errors =
            validate_category(input(CategoryType::File, None), Some(existing)).unwrap_err();
        assert!(errors.fields().contains_key("type"));
    }

    #[test]
    fn a_category_cannot_be_its_own_parent() {
        let existing = ExistingCategoryFacts {
            id: id(3),
            category_type: CategoryType::Model,
            has_children: false,
            has_products: false,
        };
        let itself = ParentFacts {
            id: id(3),
            category_type: CategoryType::Model,
            has_parent: false,
        };
        assert!(
            validate_category(input(CategoryType::Model, Some(itself)), Some(existing)).is_err()
        );
    }
}
