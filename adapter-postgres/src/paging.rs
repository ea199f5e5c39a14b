//! `LIMIT`/`OFFSET` binds of a page request and the [`Page`] built from its rows, for every paged
//! list.

use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::StoreError;

/// The `LIMIT` bind.
pub(crate) fn limit(page: PageRequest) -> i64 {
    i64::from(page.per_page())
}

/// The `OFFSET` bind (saturating: a page past the end is empty, never an error).
pub(crate) fn offset(page: PageRequest) -> i64 {
    i64::try_from(page.offset()).unwrap_or(i64::MAX)
}

/// A page of `items` out of `total` matching rows (`count(*)`).
pub(crate) fn page_of<T>(items: Vec<T>, request: PageRequest, total: i64) -> Page<T> {
    Page {
        items,
        request,
        total: u64::try_from(total).unwrap_or_default(),
    }
}

/// A page of rows converted to records (a corrupt row fails the page).
pub(crate) fn converted_page<R, T>(
    rows: Vec<R>,
    request: PageRequest,
    total: i64,
) -> Result<Page<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    let items = rows
        .into_iter()
        .map(T::try_from)
        .collect::<Result<_, _>>()?;
    Ok(page_of(items, request, total))
}
