//! Change signals: how a cache of catalogue answers learns that what it holds went stale.
//!
//! The store moves a [`CatalogVersion`] forward whenever a transaction that changed anything the
//! public catalogue shows commits: in its own process before the commit returns, and in every
//! other instance as soon as the database's notification arrives. A cache keeps an answer only
//! while the version it was computed under is still current. See docs/architecture.md,
//! "Caching the catalogue".

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The version of everything public catalogue pages show: listings, their images and files,
/// categories, sellers' public names and readiness, reviews and ratings. Clones share one
/// version.
#[derive(Clone, Debug, Default)]
pub struct CatalogVersion(Arc<VersionState>);

#[derive(Debug, Default)]
struct VersionState {
    version: AtomicU64,
    /// Changes made by other instances are being heard of.
    following: AtomicBool,
}

impl CatalogVersion {
    /// The current version, or `None` while a change made elsewhere could go unnoticed (before
    /// the store listens for changes, or while its connection is lost): nothing may be served
    /// from a cache then.
    pub fn current(&self) -> Option<u64> {
        self.0
            .following
            .load(Ordering::Acquire)
            .then(|| self.0.version.load(Ordering::Acquire))
    }

    /// Something the catalogue shows has changed.
    pub fn advance(&self) {
        self.0.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Every change is heard of from now on (the store listens); what changed before is treated
    /// as changed.
    pub fn start_following(&self) {
        self.advance();
        self.0.following.store(true, Ordering::Release);
    }

    /// Changes made elsewhere may go unheard (the store stopped listening).
    pub fn stop_following(&self) {
        self.0.following.store(false, Ordering::Release);
        self.advance();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_known_only_while_following_and_moves_with_every_change() {
        let version = CatalogVersion::default();
        assert_eq!(
            version.current(),
            None,
            "nothing is trusted before following"
        );
        version.start_following();
        let first = version.current().expect("following");
        version.advance();
        let second = version.current().expect("following");
        assert_ne!(first, second);
        let shared = version.clone();
        shared.advance();
        assert_ne!(version.current(), Some(second), "clones share one version");
        version.stop_following();
        assert_eq!(version.current(), None);
        version.start_following();
        assert!(version.current().is_some_and(|v| v > second));
    }
}
