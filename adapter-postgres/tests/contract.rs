//! The stores' contract (`marketplace_ports::testing::contract`), run against PostgreSQL: each test
//! gets a fresh, migrated database of its own.
#![allow(missing_docs)]

use std::sync::Arc;

use adapter_postgres::PgStore;
use adapter_postgres::testing::fresh_database;
use marketplace_ports::testing::contract::Subject;

async fn subject() -> Subject {
    let store = PgStore::connect(fresh_database().await, 4)
        .await
        .expect("connect to the test database");
    Subject {
        queries: store.queries(),
        uow: Arc::new(store),
    }
}

marketplace_ports::contract_tests!(subject());
