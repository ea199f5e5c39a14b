//! The catalog's categories: owners manage them ([`manage`]); everyone browses the trees and
//! category pages ([`browse`]).

pub mod browse;
pub mod manage;

pub use browse::{CatalogBrowseError, CatalogBrowsing, CategoryPage};
pub use manage::{CategoryAdmin, CategoryAdminError, CategoryChanges, NewCategory};
