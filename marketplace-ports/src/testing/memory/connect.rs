//! Connect account rows, in memory.

use async_trait::async_trait;
use marketplace_domain::ids::UserId;

use super::{MemoryStore, Working, conflict};
use crate::ports::{ConnectAccountRecord, ConnectQueries, ConnectStore, StoreError};

pub(crate) struct MemConnect(pub(crate) Working);

#[async_trait]
impl ConnectStore for MemConnect {
    async fn get_connect(
        &mut self,
        user: UserId,
    ) -> Result<Option<ConnectAccountRecord>, StoreError> {
        Ok(self
            .0
            .state("connect.get_connect")?
            .connect
            .get(&user)
            .cloned())
    }

    async fn insert_connect(&mut self, record: &ConnectAccountRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("connect.insert_connect")?;
        if s.connect.contains_key(&record.user_id) {
            return Err(conflict("seller_connect_accounts_pkey"));
        }
        s.connect.insert(record.user_id, record.clone());
        Ok(())
    }

    async fn update_connect(&mut self, record: &ConnectAccountRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("connect.update_connect")?;
        let slot = s
            .connect
            .get_mut(&record.user_id)
            .ok_or(StoreError::NotFound)?;
        *slot = record.clone();
        Ok(())
    }

    async fn find_connect_by_account(
        &mut self,
        account_id: &str,
    ) -> Result<Option<ConnectAccountRecord>, StoreError> {
        let s = self.0.state("connect.find_connect_by_account")?;
        Ok(s.connect
            .values()
            .find(|c| c.status.stripe_account_id.as_deref() == Some(account_id))
            .cloned())
    }
}

#[async_trait]
impl ConnectQueries for MemoryStore {
    async fn connect_account(
        &self,
        seller: UserId,
    ) -> Result<Option<ConnectAccountRecord>, StoreError> {
        Ok(self
            .read("connect.connect_account")?
            .connect
            .get(&seller)
            .cloned())
    }
}
