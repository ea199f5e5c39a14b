//! The outbox, in memory.

use std::cmp::Reverse;

use async_trait::async_trait;
use marketplace_domain::pagination::{Page, PageRequest};

use super::listings::page_of;
use super::{MemoryStore, Working};
use crate::ports::{MailOutbox, MailQueries, MailRecord, StoreError};

pub(crate) struct MemOutbox(pub(crate) Working);

#[async_trait]
impl MailOutbox for MemOutbox {
    async fn insert_mail(&mut self, mail: &MailRecord) -> Result<bool, StoreError> {
        let mut s = self.0.state("mail.insert_mail")?;
        if mail.dedupe_key.is_some() && s.mail.iter().any(|m| m.dedupe_key == mail.dedupe_key) {
            return Ok(false);
        }
        s.mail.push(mail.clone());
        Ok(true)
    }
}

#[async_trait]
impl MailQueries for MemoryStore {
    async fn list_outbox(&self, page: PageRequest) -> Result<Page<MailRecord>, StoreError> {
        let s = self.read("mail.list_outbox")?;
        let mut mail = s.mail.clone();
        mail.sort_by_key(|m| Reverse((m.created_at, m.id)));
        Ok(page_of(mail, page))
    }
}
