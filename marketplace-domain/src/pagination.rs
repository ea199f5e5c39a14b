//! Pagination: every list is a page of at most 100 rows in a stable order, with a total count.

use crate::validation::FieldErrors;

/// Largest page size a client may ask for.
pub const MAX_PER_PAGE: u32 = 100;
/// Highest page number a client may ask for (deeper pages are searched, not paged to).
pub const MAX_PAGE: u32 = 1_000_000;
/// Page size when the client does not say.
pub const DEFAULT_PER_PAGE: u32 = 20;

/// A validated page request (1-based page number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    per_page: u32,
}

impl PageRequest {
    /// The first page of the default size.
    pub fn first() -> PageRequest {
        PageRequest {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }

    /// Validates `page ≥ 1` and `1 ≤ per_page ≤ 100`; absent values take the defaults.
    pub fn parse(page: Option<i64>, per_page: Option<i64>) -> Result<PageRequest, FieldErrors> {
        let mut errors = FieldErrors::new();
        let page = match page {
            None => 1,
            Some(p) => u32::try_from(p)
                .ok()
                .filter(|p| (1..=MAX_PAGE).contains(p))
                .unwrap_or_else(|| {
                    errors.add("page", format!("must be between 1 and {MAX_PAGE}"));
                    1
                }),
        };
        let per_page = match per_page {
            None => DEFAULT_PER_PAGE,
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                .unwrap_or_else(|| {
                    errors.add("per_page", format!("must be between 1 and {MAX_PER_PAGE}"));
                    DEFAULT_PER_PAGE
                }),
        };
        errors.into_result(PageRequest { page, per_page })
    }

    /// 1-based page number.
    pub fn page(self) -> u32 {
        self.page
    }

    /// Rows per page.
    pub fn per_page(self) -> u32 {
        self.per_page
    }

    /// Rows to skip: `(page − 1) × per_page` (bounded by the limits above, cannot overflow u64).
    pub fn offset(self) -> u64 {
        u64::from(self.page.saturating_sub(1)).saturating_mul(u64::from(self.per_page))
    }
}

/// One page of results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// The request that produced them.
    pub request: PageRequest,
    /// Total matching rows across all pages.
    pub total: u64,
}

impl<T> Page<T> {
    /// Transforms every row, keeping the paging facts.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            request: self.request,
            total: self.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_offsets() {
        let first = PageRequest::parse(None, None).unwrap();
        assert_eq!((first.page(), first.per_page(), first.offset()), (1, 20, 0));
        let third = PageRequest::parse(Some(3), Some(50)).unwrap();
        assert_eq!(third.offset(), 100);
    }

    #[test]
    fn out_of_range_values_are_field_errors() {
        let errors = PageRequest::parse(Some(0), Some(101)).unwrap_err();
        assert_eq!(
            errors.fields().keys().collect::<Vec<_>>(),
            ["page", "per_page"]
        );
        assert!(PageRequest::parse(Some(-1), None).is_err());
    }
}
