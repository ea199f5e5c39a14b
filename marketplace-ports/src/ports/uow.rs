//! The unit of work: transactions, the stores each feature registers for them, and the read-side
//! queries each feature registers on the connection pool.
//!
//! A use case opens a transaction with [`UnitOfWork::begin`], reaches every store through it (all
//! of them write into the same commit) and commits; dropping the [`Tx`] rolls everything back.
//! Stores are found by the trait they implement, so a new feature adds its store trait and one
//! line where the adapter registers its implementation ([`Stores::with`]); neither `Tx` nor any
//! other central trait changes. Each feature's port module offers a short accessor for its stores
//! (`tx.orders()?`), which is a wiring error (`StoreError::Unavailable`) only if the adapter forgot
//! to register them. Reads that need no transaction go through [`Queries`] the same way.

use std::any::{Any, TypeId, type_name};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;

/// Why a store call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The row to change does not exist.
    #[error("not found")]
    NotFound,
    /// A named constraint refused the write (unique, foreign key, check).
    #[error("the change conflicts with existing data ({constraint})")]
    Conflict {
        /// The constraint's name, as the migrations define it.
        constraint: String,
    },
    /// The database is unreachable or failed; the message is for logs, not clients.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// True when the named constraint refused the write.
    pub fn is_conflict_on(&self, name: &str) -> bool {
        matches!(self, StoreError::Conflict { constraint } if constraint == name)
    }
}

/// Opens transactions.
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Begins a transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when no connection can be had.
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError>;
}

/// An open transaction. Every store reached through it writes into the same commit; dropping it
/// without `commit` rolls everything back.
#[async_trait]
pub trait Tx: Send {
    /// The stores of this transaction.
    fn stores(&mut self) -> &mut Stores;

    /// Commits every write.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] for a deferred constraint, [`StoreError::Unavailable`] otherwise.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

impl dyn Tx + '_ {
    /// The store implementing `S` (a `dyn` store trait) in this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter registered none (a wiring mistake).
    pub fn store<S: ?Sized + 'static>(&mut self) -> Result<&mut S, StoreError> {
        self.stores().get::<S>()
    }
}

/// The stores of one transaction, found by the trait they implement. Adapters build one per
/// transaction: `Stores::default().with::<dyn OrderStore>(Box::new(…))`.
#[derive(Default)]
pub struct Stores {
    by_trait: HashMap<TypeId, Box<dyn Any + Send>>,
    /// The traits reached through [`Stores::get`] so far.
    used: HashSet<TypeId>,
}

impl Stores {
    /// Registers the implementation of the store trait `S` (replacing an earlier one).
    #[must_use]
    pub fn with<S: ?Sized + Send + 'static>(mut self, store: Box<S>) -> Stores {
        self.by_trait
            .insert(TypeId::of::<Box<S>>(), Box::new(store));
        self
    }

    /// Whether the store of `S` was reached in this unit of work (an adapter skips work at
    /// commit that only stores it knows to write some tables could need).
    pub fn was_used<S: ?Sized + 'static>(&self) -> bool {
        self.used.contains(&TypeId::of::<Box<S>>())
    }

    /// The implementation of `S`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when none was registered.
    pub fn get<S: ?Sized + 'static>(&mut self) -> Result<&mut S, StoreError> {
        self.used.insert(TypeId::of::<Box<S>>());
        self.by_trait
            .get_mut(&TypeId::of::<Box<S>>())
            .and_then(|store| store.downcast_mut::<Box<S>>())
            .map(|store| &mut **store)
            .ok_or_else(|| not_wired(type_name::<S>()))
    }
}

/// The read-side queries of the application, found by the trait they implement. They run on the
/// connection pool, never lock, and never see uncommitted writes.
#[derive(Clone, Default)]
pub struct Queries {
    by_trait: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl Queries {
    /// Registers the implementation of the query trait `Q` (replacing an earlier one).
    #[must_use]
    pub fn with<Q: ?Sized + Send + Sync + 'static>(mut self, queries: Arc<Q>) -> Queries {
        self.by_trait
            .insert(TypeId::of::<Arc<Q>>(), Arc::new(queries));
        self
    }

    /// The implementation of `Q`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when none was registered.
    pub fn get<Q: ?Sized + 'static>(&self) -> Result<&Q, StoreError> {
        self.by_trait
            .get(&TypeId::of::<Arc<Q>>())
            .and_then(|queries| queries.downcast_ref::<Arc<Q>>())
            .map(|queries| &**queries)
            .ok_or_else(|| not_wired(type_name::<Q>()))
    }
}

fn not_wired(what: &str) -> StoreError {
    StoreError::Unavailable(format!("no {what} is wired into the application"))
}

#[cfg(test)]
mod tests {
    use super::*;

    trait Greeter: Send {
        fn greet(&mut self) -> String;
    }

    struct English(u32);

    impl Greeter for English {
        fn greet(&mut self) -> String {
            self.0 += 1;
            format!("hello #{}", self.0)
        }
    }

    trait Counter: Send + Sync {
        fn count(&self) -> u32;
    }

    struct Seven;

    impl Counter for Seven {
        fn count(&self) -> u32 {
            7
        }
    }

    #[test]
    fn stores_are_found_by_their_trait_and_keep_their_state() {
        let mut stores = Stores::default().with::<dyn Greeter>(Box::new(English(0)));
        assert!(!stores.was_used::<dyn Greeter>(), "registered is not used");
        assert_eq!(stores.get::<dyn Greeter>().unwrap().greet(), "hello #1");
        assert!(stores.was_used::<dyn Greeter>());
        assert_eq!(stores.get::<dyn Greeter>().unwrap().greet(), "hello #2");
        let missing = Stores::default().get::<dyn Greeter>().err().unwrap();
        assert!(matches!(missing, StoreError::Unavailable(m) if m.contains("Greeter")));
    }

    #[test]
    fn queries_are_found_by_their_trait() {
        let queries = Queries::default().with::<dyn Counter>(Arc::new(Seven));
        assert_eq!(queries.get::<dyn Counter>().unwrap().count(), 7);
        assert!(Queries::default().get::<dyn Counter>().is_err());
    }
}
