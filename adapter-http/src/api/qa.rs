//! Questions and answers on products.

use marketplace_domain::ids::{MessageId, ProductId, ThreadId};
use marketplace_domain::qa::DELETE_WINDOW;
use marketplace_ports::ports::{MessageRecord, MessageView, ThreadView};
use marketplace_ports::use_cases::Services;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use crate::auth::Auth;
use crate::dto::{PageDto, page_request};
use crate::error::ApiResult;
use crate::json::JsonBody;
use crate::params::{PageNumber, PerPage};

/// Questions and answers.
pub struct QaApi {
    /// Use cases.
    pub services: Services,
}

/// A new question.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct QuestionBody {
    /// Optional subject, at most 180 characters.
    #[oai(nullable, validator(max_length = 180))]
    pub subject: Option<String>,
    /// The question, 1 to 5000 characters.
    #[oai(validator(
        pattern = r"^[^\u0000]*[^\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000][^\u0000]*$",
        max_length = 5000
    ))]
    pub body: String,
}

/// A reply.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// The reply, 1 to 5000 characters.
    #[oai(validator(
        pattern = r"^[^\u0000]*[^\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000][^\u0000]*$",
        max_length = 5000
    ))]
    pub body: String,
}

/// A message in a thread.
#[derive(Debug, Object)]
pub struct MessageDto {
    /// Id.
    pub id: Uuid,
    /// Its thread.
    pub thread_id: Uuid,
    /// Who wrote it.
    pub author_id: Uuid,
    /// Their username.
    pub author: String,
    /// What they wrote (empty once deleted).
    pub body: String,
    /// Deleted: the text is hidden, the message keeps its place.
    pub deleted: bool,
    /// Posted.
    pub created_at: OffsetDateTime,
    /// Until when its author may delete it.
    pub deletable_until: OffsetDateTime,
}

/// A question thread.
#[derive(Debug, Object)]
pub struct ThreadDto {
    /// Id.
    pub id: Uuid,
    /// The product asked about.
    pub product_id: Uuid,
    /// Subject (may be empty).
    pub subject: String,
    /// Who asked.
    pub author_id: Uuid,
    /// Their username.
    pub author: String,
    /// Messages, oldest first.
    pub messages: Vec<MessageDto>,
    /// Opened.
    pub created_at: OffsetDateTime,
    /// Last message.
    pub updated_at: OffsetDateTime,
}

/// A new thread.
#[derive(ApiResponse)]
pub enum CreatedThread {
    /// Opened.
    #[oai(status = 201)]
    Created(Json<ThreadDto>),
}

/// A new message.
#[derive(ApiResponse)]
pub enum CreatedMessage {
    /// Posted.
    #[oai(status = 201)]
    Created(Json<MessageDto>),
}

fn message_dto(message: MessageRecord, author: String) -> MessageDto {
    let deleted = message.deleted_at.is_some();
    MessageDto {
        id: message.id.get(),
        thread_id: message.thread_id.get(),
        author_id: message.author_id.get(),
        author,
        body: if deleted { String::new() } else { message.body },
        deleted,
        deletable_until: message.created_at + DELETE_WINDOW,
        created_at: message.created_at,
    }
}

fn thread_dto(view: ThreadView) -> ThreadDto {
    let thread = view.thread;
    ThreadDto {
        id: thread.id.get(),
        product_id: thread.product_id.get(),
        subject: thread.subject,
        author_id: thread.author_id.get(),
        author: view.author,
        messages: view
            .messages
            .into_iter()
            .map(|MessageView { message, author }| message_dto(message, author))
            .collect(),
        created_at: thread.created_at,
        updated_at: thread.updated_at,
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Products")]
impl QaApi {
    /// Ask the seller about an active product (signed in).
    #[oai(path = "/products/:id/questions", method = "post")]
    async fn ask(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<QuestionBody>,
    ) -> ApiResult<CreatedThread> {
        let body = body.0;
        let thread = self
            .services
            .questions
            .ask(
                auth.actor(),
                ProductId::from_uuid(id.0),
                body.subject.as_deref().unwrap_or_default(),
                &body.body,
            )
            .await?;
        Ok(CreatedThread::Created(Json(thread_dto(thread))))
    }

    /// A product's questions, most recently active first, with their messages.
    #[oai(path = "/products/:id/questions", method = "get")]
    async fn threads(
        &self,
        id: Path<Uuid>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<ThreadDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let found = self
            .services
            .questions
            .threads(ProductId::from_uuid(id.0), request)
            .await?;
        Ok(Json(PageDto::from_page(found, thread_dto)))
    }

    /// One question thread.
    #[oai(path = "/questions/:thread_id", method = "get")]
    async fn thread(&self, thread_id: Path<Uuid>) -> ApiResult<Json<ThreadDto>> {
        let thread = self
            .services
            .questions
            .thread(ThreadId::from_uuid(thread_id.0))
            .await?;
        Ok(Json(thread_dto(thread)))
    }

    /// Reply in a thread: the asker, the product's seller or staff (403 `not_participant`).
    #[oai(path = "/questions/:thread_id/messages", method = "post")]
    async fn reply(
        &self,
        auth: Auth,
        thread_id: Path<Uuid>,
        body: JsonBody<MessageBody>,
    ) -> ApiResult<CreatedMessage> {
        let message = self
            .services
            .questions
            .reply(auth.actor(), ThreadId::from_uuid(thread_id.0), &body.0.body)
            .await?;
        let author = auth.actor().username.clone();
        Ok(CreatedMessage::Created(Json(message_dto(message, author))))
    }

    /// Delete a message: its author within 30 minutes (403 `delete_window_closed` after),
    /// staff at any time. The text is hidden; the message keeps its place. Answers the thread.
    #[oai(path = "/questions/messages/:message_id", method = "delete")]
    async fn delete(&self, auth: Auth, message_id: Path<Uuid>) -> ApiResult<Json<ThreadDto>> {
        let thread = self
            .services
            .questions
            .delete(auth.actor(), MessageId::from_uuid(message_id.0))
            .await?;
        Ok(Json(thread_dto(thread)))
    }
}
