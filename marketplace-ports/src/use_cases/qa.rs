//! Questions and answers on products (docs/reviews.md, "Questions"): signed-in users ask on an
//! active product; the asker, the product's seller and staff reply; authors delete their message
//! within 30 minutes, staff at any time.

use marketplace_domain::ids::{MessageId, ProductId, ThreadId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::qa::{QaRefusal, may_delete, may_reply, message_body, thread_content};
use marketplace_domain::validation::FieldErrors;
use uuid::Uuid;

use marketplace_domain::notifications::NotificationKind;

use crate::ports::{MessageRecord, StoreError, ThreadRecord, ThreadView};
use crate::use_cases::shared::notifications::{Notice, notify};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why a Q&A operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QaError {
    /// No such product (or not active), thread or message.
    #[error("not found")]
    NotFound,
    /// The caller may not do this, with the reason.
    #[error(transparent)]
    Refused(#[from] QaRefusal),
    /// Some fields are invalid.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for QaError {
    fn kind(&self) -> ErrorKind {
        match self {
            QaError::NotFound => ErrorKind::NotFound,
            QaError::Refused(refusal) => ErrorKind::Forbidden {
                code: refusal.code(),
            },
            QaError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            QaError::Store(e) => e.kind(),
        }
    }
}

operation_group!(
    /// Questions and answers.
    Questions
);

impl Questions {
    /// The product, when it is listed.
    async fn active_product(
        &self,
        id: ProductId,
    ) -> Result<crate::ports::ProductDetailRow, QaError> {
        self.deps
            .queries
            .listings()?
            .product_detail(id)
            .await?
            .filter(|d| d.row.product.listing.is_active)
            .ok_or(QaError::NotFound)
    }

    /// Opens a thread on an active product with its first message.
    ///
    /// # Errors
    /// [`QaError::NotFound`] for an unknown or inactive product; [`QaError::Invalid`].
    pub async fn ask(
        &self,
        actor: &Actor,
        product: ProductId,
        subject: &str,
        body: &str,
    ) -> Result<ThreadView, QaError> {
        let (subject, body) = thread_content(subject, body).map_err(QaError::Invalid)?;
        let listing = self.active_product(product).await?;
        let now = self.deps.clock.now();
        let thread = ThreadRecord {
            id: ThreadId::from_uuid(Uuid::now_v7()),
            product_id: product,
            seller_id: listing.row.product.seller_id,
            author_id: actor.user_id,
            subject,
            created_at: now,
            updated_at: now,
        };
        let message = MessageRecord {
            id: MessageId::from_uuid(Uuid::now_v7()),
            thread_id: thread.id,
            author_id: actor.user_id,
            body,
            created_at: now,
            deleted_at: None,
            deleted_by: None,
        };
        let mut tx = self.deps.uow.begin().await?;
        let qa = tx.qa()?;
        qa.insert_thread(&thread).await?;
        qa.insert_message(&message).await?;
        if thread.seller_id != actor.user_id {
            let notice = Notice {
                user: thread.seller_id,
                kind: NotificationKind::NewQuestion,
                subject: thread.id.get(),
                title: format!("New question about {}", listing.row.product.listing.title),
                // Never the words themselves: a message deleted later must not live on here.
                body: format!(
                    "{} asked a question; open the thread to answer.",
                    actor.username
                ),
            };
            notify(tx.as_mut(), &self.deps, notice, None, now).await?;
        }
        tx.commit().await?;
        self.shown(thread.id).await
    }

    /// Replies in a thread: its asker, the product's seller or staff.
    ///
    /// # Errors
    /// [`QaError::NotFound`] for an unknown thread; [`QaError::Refused`] with `not_participant`;
    /// [`QaError::Invalid`].
    pub async fn reply(
        &self,
        actor: &Actor,
        thread: ThreadId,
        body: &str,
    ) -> Result<MessageRecord, QaError> {
        let body = message_body(body).map_err(QaError::Invalid)?;
        // Everyone in the thread hears of the reply: its asker, the seller, whoever posted in it.
        let view = self.thread(thread).await?;
        let mut participants = vec![view.thread.author_id, view.thread.seller_id];
        participants.extend(view.messages.iter().map(|m| m.message.author_id));
        participants.sort();
        participants.dedup();
        participants.retain(|p| *p != actor.user_id);
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let qa = tx.qa()?;
        let found = qa
            .thread_for_update(thread)
            .await?
            .ok_or(QaError::NotFound)?;
        may_reply(
            actor.user_id,
            actor.roles.moderates(),
            found.author_id,
            found.seller_id,
        )?;
        let message = MessageRecord {
            id: MessageId::from_uuid(Uuid::now_v7()),
            thread_id: thread,
            author_id: actor.user_id,
            body,
            created_at: now,
            deleted_at: None,
            deleted_by: None,
        };
        qa.insert_message(&message).await?;
        for user in participants {
            let notice = Notice {
                user,
                kind: NotificationKind::ThreadReply,
                subject: thread.get(),
                title: "New reply in a question thread".to_owned(),
                body: format!("{} replied; open the thread to read it.", actor.username),
            };
            notify(tx.as_mut(), &self.deps, notice, None, now).await?;
        }
        tx.commit().await?;
        Ok(message)
    }

    /// Deletes a message: its author within 30 minutes of posting it, staff at any time. The text
    /// is hidden; the message keeps its place. Deleting it again changes nothing. Returns the
    /// thread as it is now.
    ///
    /// # Errors
    /// [`QaError::NotFound`]; [`QaError::Refused`] with `delete_window_closed` or
    /// `not_your_message`.
    pub async fn delete(&self, actor: &Actor, id: MessageId) -> Result<ThreadView, QaError> {
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let qa = tx.qa()?;
        let mut message = qa.message_for_update(id).await?.ok_or(QaError::NotFound)?;
        may_delete(
            actor.user_id,
            actor.roles.moderates(),
            message.author_id,
            message.created_at,
            now,
        )?;
        if message.deleted_at.is_none() {
            message.deleted_at = Some(now);
            message.deleted_by = Some(actor.user_id);
            qa.mark_deleted(&message).await?;
            tx.commit().await?;
        } else {
            drop(tx);
        }
        self.shown(message.thread_id).await
    }

    /// A product's threads, most recently active first.
    ///
    /// # Errors
    /// [`QaError::NotFound`] for an unknown or inactive product.
    pub async fn threads(
        &self,
        product: ProductId,
        page: PageRequest,
    ) -> Result<Page<ThreadView>, QaError> {
        self.active_product(product).await?;
        Ok(self
            .deps
            .queries
            .qa()?
            .product_threads(product, page)
            .await?
            .map(hide_deleted_question))
    }

    /// One thread with its messages, while its product is listed.
    ///
    /// # Errors
    /// [`QaError::NotFound`], also for a thread of an inactive product.
    pub async fn thread(&self, id: ThreadId) -> Result<ThreadView, QaError> {
        let view = self.shown(id).await?;
        self.active_product(view.thread.product_id).await?;
        Ok(view)
    }

    /// A thread as shown (whatever its product's state).
    async fn shown(&self, id: ThreadId) -> Result<ThreadView, QaError> {
        self.deps
            .queries
            .qa()?
            .thread(id)
            .await?
            .map(hide_deleted_question)
            .ok_or(QaError::NotFound)
    }
}

/// A thread whose question (its first message) was deleted loses its subject too: the subject is
/// part of the question.
fn hide_deleted_question(mut view: ThreadView) -> ThreadView {
    if view
        .messages
        .first()
        .is_some_and(|m| m.message.deleted_at.is_some())
    {
        view.thread.subject = String::new();
    }
    view
}
