//! The application's use cases, one service per area. Each call checks who may do it, applies the
//! domain rules, and draws its own transaction boundary; none touches SQL or HTTP.

use std::sync::Arc;

use marketplace_domain::account::Roles;
use marketplace_domain::ids::{SessionId, UserId};

use crate::ports::{Clock, Crypto, Queries, UnitOfWork};

pub mod accounts;
pub mod admin;
pub mod catalog;
pub mod files;
pub mod listings;

/// The authenticated caller of a use case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// Who.
    pub user_id: UserId,
    /// Their username.
    pub username: String,
    /// Their roles at authentication time.
    pub roles: Roles,
    /// The session they authenticated with.
    pub session_id: SessionId,
    /// The session's CSRF token, which cookie-authenticated writes must echo.
    pub csrf_token: String,
}

/// The ports every use case may need, shared by cheap clones.
#[derive(Clone)]
pub struct Deps {
    /// Transactions.
    pub uow: Arc<dyn UnitOfWork>,
    /// Read-only queries.
    pub queries: Arc<dyn Queries>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Passwords and tokens.
    pub crypto: Arc<dyn Crypto>,
}

/// A file received from a client, already read into memory (bounded by the upload limits) so no
/// transaction waits on a slow client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadedFile {
    /// The name the client gave.
    pub file_name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl UploadedFile {
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        u64::try_from(self.bytes.len()).unwrap_or(u64::MAX)
    }
}

/// Every service, built once by the application and handed to the HTTP adapter.
#[derive(Clone)]
pub struct Services {
    /// Registration, login, sessions, profiles.
    pub accounts: accounts::AccountService,
    /// Categories.
    pub catalog: catalog::CatalogService,
    /// Public listings and seller listing management.
    pub listings: listings::ListingService,
    /// Serving stored files.
    pub files: files::FileService,
    /// Owner tools.
    pub admin: admin::AdminService,
    /// Health checks.
    pub queries: Arc<dyn Queries>,
}

impl Services {
    /// Builds every service over the same ports.
    pub fn new(deps: Deps) -> Services {
        Services {
            accounts: accounts::AccountService::new(deps.clone()),
            catalog: catalog::CatalogService::new(deps.clone()),
            listings: listings::ListingService::new(deps.clone()),
            files: files::FileService::new(deps.clone()),
            admin: admin::AdminService::new(deps.clone()),
            queries: deps.queries,
        }
    }
}
