//! Questions and answers on products: threads and their messages (docs/reviews.md, "Questions").

use async_trait::async_trait;
use marketplace_domain::ids::{MessageId, ProductId, ThreadId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// A thread as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadRecord {
    /// Id.
    pub id: ThreadId,
    /// The product asked about.
    pub product_id: ProductId,
    /// The product's seller (who answers).
    pub seller_id: UserId,
    /// Who asked.
    pub author_id: UserId,
    /// Optional subject.
    pub subject: String,
    /// Opened.
    pub created_at: OffsetDateTime,
    /// Last message.
    pub updated_at: OffsetDateTime,
}

/// A message as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRecord {
    /// Id.
    pub id: MessageId,
    /// Its thread.
    pub thread_id: ThreadId,
    /// Who wrote it.
    pub author_id: UserId,
    /// What they wrote (kept when deleted; never shown then).
    pub body: String,
    /// Posted.
    pub created_at: OffsetDateTime,
    /// When it was deleted, if it was.
    pub deleted_at: Option<OffsetDateTime>,
    /// Who deleted it.
    pub deleted_by: Option<UserId>,
}

/// A message as threads show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageView {
    /// The message.
    pub message: MessageRecord,
    /// Its author's username.
    pub author: String,
}

/// A thread with its messages, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadView {
    /// The thread.
    pub thread: ThreadRecord,
    /// Its author's username.
    pub author: String,
    /// Every message, deleted ones included (in their place).
    pub messages: Vec<MessageView>,
}

/// Q&A, inside a transaction.
#[async_trait]
pub trait QaStore: Send {
    /// Opens a thread.
    async fn insert_thread(&mut self, thread: &ThreadRecord) -> Result<(), StoreError>;
    /// A thread, locked (replies to it are serialized).
    async fn thread_for_update(&mut self, id: ThreadId)
    -> Result<Option<ThreadRecord>, StoreError>;
    /// Adds a message and marks its thread active at its time.
    async fn insert_message(&mut self, message: &MessageRecord) -> Result<(), StoreError>;
    /// A message, locked.
    async fn message_for_update(
        &mut self,
        id: MessageId,
    ) -> Result<Option<MessageRecord>, StoreError>;
    /// Records a message's deletion.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it does not exist.
    async fn mark_deleted(&mut self, message: &MessageRecord) -> Result<(), StoreError>;
}

/// Q&A reads.
#[async_trait]
pub trait QaQueries: Send + Sync {
    /// A product's threads, most recently active first, each with its messages.
    async fn product_threads(
        &self,
        product: ProductId,
        page: PageRequest,
    ) -> Result<Page<ThreadView>, StoreError>;
    /// One thread with its messages.
    async fn thread(&self, id: ThreadId) -> Result<Option<ThreadView>, StoreError>;
    /// One message.
    async fn message(&self, id: MessageId) -> Result<Option<MessageRecord>, StoreError>;
}

impl dyn Tx + '_ {
    /// The Q&A of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn qa(&mut self) -> Result<&mut (dyn QaStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Q&A reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn qa(&self) -> Result<&dyn QaQueries, StoreError> {
        self.get()
    }
}
