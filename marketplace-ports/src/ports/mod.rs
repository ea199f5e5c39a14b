//! The ports: what the application needs from the outside world, as traits.
//!
//! Writes go through a [`UnitOfWork`]: `begin()` opens a transaction ([`Tx`]) through which every
//! store is reached, and nothing is visible until `commit()`; dropping a `Tx` rolls it back.
//! Read-only listings use [`Queries`] on the connection pool. Neither knows any SQL type.

mod clock;
mod crypto;
mod payments;
mod queries;
mod records;
mod store;

pub use clock::*;
pub use crypto::*;
pub use payments::*;
pub use queries::*;
pub use records::*;
pub use store::*;
