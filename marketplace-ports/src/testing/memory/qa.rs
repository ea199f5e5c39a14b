//! Questions and answers, in memory.

use async_trait::async_trait;
use marketplace_domain::ids::{MessageId, ProductId, ThreadId};
use marketplace_domain::pagination::{Page, PageRequest};

use super::listings::page_of;
use super::{MemoryStore, State, Working};
use crate::ports::{
    MessageRecord, MessageView, QaQueries, QaStore, StoreError, ThreadRecord, ThreadView,
};

pub(crate) struct MemQa(pub(crate) Working);

#[async_trait]
impl QaStore for MemQa {
    async fn insert_thread(&mut self, thread: &ThreadRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("qa.insert_thread")?;
        s.threads.push(thread.clone());
        Ok(())
    }

    async fn thread_for_update(
        &mut self,
        id: ThreadId,
    ) -> Result<Option<ThreadRecord>, StoreError> {
        let s = self.0.state("qa.thread_for_update")?;
        Ok(s.threads.iter().find(|t| t.id == id).cloned())
    }

    async fn insert_message(&mut self, message: &MessageRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("qa.insert_message")?;
        let thread = s
            .threads
            .iter_mut()
            .find(|t| t.id == message.thread_id)
            .ok_or(StoreError::NotFound)?;
        thread.updated_at = thread.updated_at.max(message.created_at);
        s.messages.push(message.clone());
        Ok(())
    }

    async fn message_for_update(
        &mut self,
        id: MessageId,
    ) -> Result<Option<MessageRecord>, StoreError> {
        let s = self.0.state("qa.message_for_update")?;
        Ok(s.messages.iter().find(|m| m.id == id).cloned())
    }

    async fn mark_deleted(&mut self, message: &MessageRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("qa.mark_deleted")?;
        let stored = s
            .messages
            .iter_mut()
            .find(|m| m.id == message.id)
            .ok_or(StoreError::NotFound)?;
        stored.deleted_at = message.deleted_at;
        stored.deleted_by = message.deleted_by;
        Ok(())
    }
}

fn name(s: &State, user: marketplace_domain::ids::UserId) -> String {
    s.users
        .get(&user)
        .map(|u| u.username.clone())
        .unwrap_or_default()
}

fn view(s: &State, thread: &ThreadRecord) -> ThreadView {
    let mut messages: Vec<&MessageRecord> = s
        .messages
        .iter()
        .filter(|m| m.thread_id == thread.id)
        .collect();
    messages.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    ThreadView {
        thread: thread.clone(),
        author: name(s, thread.author_id),
        messages: messages
            .into_iter()
            .map(|m| MessageView {
                message: m.clone(),
                author: name(s, m.author_id),
            })
            .collect(),
    }
}

#[async_trait]
impl QaQueries for MemoryStore {
    async fn product_threads(
        &self,
        product: ProductId,
        page: PageRequest,
    ) -> Result<Page<ThreadView>, StoreError> {
        let s = self.read("qa.product_threads")?;
        let mut threads: Vec<&ThreadRecord> = s
            .threads
            .iter()
            .filter(|t| t.product_id == product)
            .collect();
        threads.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
        let views = threads.into_iter().map(|t| view(&s, t)).collect();
        Ok(page_of(views, page))
    }

    async fn thread(&self, id: ThreadId) -> Result<Option<ThreadView>, StoreError> {
        let s = self.read("qa.thread")?;
        Ok(s.threads.iter().find(|t| t.id == id).map(|t| view(&s, t)))
    }

    async fn message(&self, id: MessageId) -> Result<Option<MessageRecord>, StoreError> {
        let s = self.read("qa.message")?;
        Ok(s.messages.iter().find(|m| m.id == id).cloned())
    }
}
