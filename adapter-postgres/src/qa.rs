//! Questions and answers: threads and messages.

use std::collections::HashMap;

use async_trait::async_trait;
use marketplace_domain::ids::{MessageId, ProductId, ThreadId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::{
    MessageRecord, MessageView, QaQueries, QaStore, StoreError, ThreadRecord, ThreadView,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{found, store_error};
use crate::paging;
use crate::{PgStore, TxConn};

struct ThreadRow {
    id: Uuid,
    product_id: Uuid,
    seller_id: Uuid,
    author_id: Uuid,
    subject: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<ThreadRow> for ThreadRecord {
    fn from(row: ThreadRow) -> Self {
        ThreadRecord {
            id: ThreadId::from_uuid(row.id),
            product_id: ProductId::from_uuid(row.product_id),
            seller_id: UserId::from_uuid(row.seller_id),
            author_id: UserId::from_uuid(row.author_id),
            subject: row.subject,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

struct MessageRow {
    id: Uuid,
    thread_id: Uuid,
    author_id: Uuid,
    body: String,
    created_at: OffsetDateTime,
    deleted_at: Option<OffsetDateTime>,
    deleted_by: Option<Uuid>,
}

impl From<MessageRow> for MessageRecord {
    fn from(row: MessageRow) -> Self {
        MessageRecord {
            id: MessageId::from_uuid(row.id),
            thread_id: ThreadId::from_uuid(row.thread_id),
            author_id: UserId::from_uuid(row.author_id),
            body: row.body,
            created_at: row.created_at,
            deleted_at: row.deleted_at,
            deleted_by: row.deleted_by.map(UserId::from_uuid),
        }
    }
}

/// Q&A of one transaction.
pub(crate) struct PgQa(pub(crate) TxConn);

#[async_trait]
impl QaStore for PgQa {
    async fn insert_thread(&mut self, thread: &ThreadRecord) -> Result<(), StoreError> {
        sqlx::query!(
            "insert into qa_threads (id, product_id, seller_id, author_id, subject, created_at,
                updated_at)
             values ($1, $2, $3, $4, $5, $6, $7)",
            thread.id.get(),
            thread.product_id.get(),
            thread.seller_id.get(),
            thread.author_id.get(),
            thread.subject,
            thread.created_at,
            thread.updated_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn thread_for_update(
        &mut self,
        id: ThreadId,
    ) -> Result<Option<ThreadRecord>, StoreError> {
        let row = sqlx::query_as!(
            ThreadRow,
            "select id, product_id, seller_id, author_id, subject, created_at, updated_at
             from qa_threads where id = $1 for update",
            id.get()
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(row.map(ThreadRecord::from))
    }

    async fn insert_message(&mut self, message: &MessageRecord) -> Result<(), StoreError> {
        let mut conn = self.0.lock().await;
        sqlx::query!(
            "insert into qa_messages (id, thread_id, author_id, body, created_at, deleted_at,
                deleted_by)
             values ($1, $2, $3, $4, $5, $6, $7)",
            message.id.get(),
            message.thread_id.get(),
            message.author_id.get(),
            message.body,
            message.created_at,
            message.deleted_at,
            message.deleted_by.map(UserId::get),
        )
        .execute(&mut **conn)
        .await
        .map_err(store_error)?;
        let result = sqlx::query!(
            "update qa_threads set updated_at = greatest(updated_at, $2) where id = $1",
            message.thread_id.get(),
            message.created_at,
        )
        .execute(&mut **conn)
        .await
        .map_err(store_error)?;
        found(result.rows_affected())
    }

    async fn message_for_update(
        &mut self,
        id: MessageId,
    ) -> Result<Option<MessageRecord>, StoreError> {
        let row = sqlx::query_as!(
            MessageRow,
            "select id, thread_id, author_id, body, created_at, deleted_at, deleted_by
             from qa_messages where id = $1 for update",
            id.get()
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(row.map(MessageRecord::from))
    }

    async fn mark_deleted(&mut self, message: &MessageRecord) -> Result<(), StoreError> {
        let result = sqlx::query!(
            "update qa_messages set deleted_at = $2, deleted_by = $3 where id = $1",
            message.id.get(),
            message.deleted_at,
            message.deleted_by.map(UserId::get),
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        found(result.rows_affected())
    }
}

impl PgStore {
    /// The threads with their authors' names and messages (oldest first), in the given order.
    async fn thread_views(
        &self,
        threads: Vec<ThreadRecord>,
    ) -> Result<Vec<ThreadView>, StoreError> {
        let ids: Vec<Uuid> = threads.iter().map(|t| t.id.get()).collect();
        let rows = sqlx::query!(
            "select m.id, m.thread_id, m.author_id, m.body, m.created_at, m.deleted_at,
                    m.deleted_by, u.username
             from qa_messages m join users u on u.id = m.author_id
             where m.thread_id = any($1)
             order by m.created_at, m.id",
            &ids
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let authors: Vec<Uuid> = threads.iter().map(|t| t.author_id.get()).collect();
        let names: HashMap<Uuid, String> = sqlx::query!(
            "select id, username from users where id = any($1)",
            &authors
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|r| (r.id, r.username))
        .collect();
        let mut messages: HashMap<Uuid, Vec<MessageView>> = HashMap::new();
        for r in rows {
            messages.entry(r.thread_id).or_default().push(MessageView {
                author: r.username,
                message: MessageRecord::from(MessageRow {
                    id: r.id,
                    thread_id: r.thread_id,
                    author_id: r.author_id,
                    body: r.body,
                    created_at: r.created_at,
                    deleted_at: r.deleted_at,
                    deleted_by: r.deleted_by,
                }),
            });
        }
        Ok(threads
            .into_iter()
            .map(|thread| ThreadView {
                author: names
                    .get(&thread.author_id.get())
                    .cloned()
                    .unwrap_or_default(),
                messages: messages.remove(&thread.id.get()).unwrap_or_default(),
                thread,
            })
            .collect())
    }
}

#[async_trait]
impl QaQueries for PgStore {
    async fn product_threads(
        &self,
        product: ProductId,
        page: PageRequest,
    ) -> Result<Page<ThreadView>, StoreError> {
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from qa_threads where product_id = $1"#,
            product.get()
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        let rows = sqlx::query_as!(
            ThreadRow,
            "select id, product_id, seller_id, author_id, subject, created_at, updated_at
             from qa_threads where product_id = $1
             order by updated_at desc, id desc limit $2 offset $3",
            product.get(),
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let views = self
            .thread_views(rows.into_iter().map(ThreadRecord::from).collect())
            .await?;
        Ok(paging::page_of(views, page, total))
    }

    async fn thread(&self, id: ThreadId) -> Result<Option<ThreadView>, StoreError> {
        let row = sqlx::query_as!(
            ThreadRow,
            "select id, product_id, seller_id, author_id, subject, created_at, updated_at
             from qa_threads where id = $1",
            id.get()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(self
            .thread_views(vec![ThreadRecord::from(row)])
            .await?
            .pop())
    }

    async fn message(&self, id: MessageId) -> Result<Option<MessageRecord>, StoreError> {
        let row = sqlx::query_as!(
            MessageRow,
            "select id, thread_id, author_id, body, created_at, deleted_at, deleted_by
             from qa_messages where id = $1",
            id.get()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(row.map(MessageRecord::from))
    }
}
