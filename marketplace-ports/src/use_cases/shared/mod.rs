//! Steps several use cases share. They take an open transaction and never open their own, so the
//! caller keeps the atomic boundary.

pub mod booking;
pub mod carts;
pub mod charges;
pub mod jobs;
pub mod recovery;
pub mod sellers;
