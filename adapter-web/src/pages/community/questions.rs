//! Product questions: asking, a thread's page, replies, and removing a message.

use super::*;

/// `POST /products/{id}/questions`: a signed-in visitor asks the seller.
#[handler]
pub async fn ask(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let fields: BodyField = form::read(&visitor, &body)?;
    let product = ProductId::from_uuid(form::path_id(&id)?);
    let back = format!("/products/{product}");
    let actor = visitor.require(&back)?;
    match site
        .services
        .questions
        .ask(actor, product, &fields.subject, &fields.body)
        .await
    {
        Ok(thread) => Ok(visitor.redirect_with_notice(
            &format!("/questions/{}", thread.thread.id),
            "Your question is posted. The seller has been told.",
        )),
        Err(error) => match refusal(&error) {
            Some(message) => Ok(visitor.redirect_with_problem(&format!("{back}#ask"), &message)),
            None => Err(WebError::from_use_case(&error)),
        },
    }
}

/// A thread: the question and its replies, and the reply form for those who may answer.
pub fn thread_content(visitor: &Visitor, view: &ThreadView) -> Markup {
    let thread = &view.thread;
    let may_reply = visitor.actor().is_some_and(|a| {
        a.user_id == thread.author_id || a.user_id == thread.seller_id || a.roles.is_staff()
    });
    html! {
        @for message in &view.messages {
            article.review {
                p.muted { strong { (message.author) } " · " time datetime=(format::iso(message.message.created_at)) { (format::time(message.message.created_at)) } }
                @if message.message.deleted_at.is_some() {
                    p { em.muted { "This message was removed." } }
                } @else {
                    p { (message.message.body) }
                    (report_form(visitor, "message", message.message.id.get(), Some(message.message.author_id), &format!("/questions/{}", thread.id)))
                    @if visitor.actor().is_some_and(|a| a.user_id == message.message.author_id || a.roles.is_staff()) {
                        form method="post" action={"/questions/messages/" (message.message.id) "/delete"} {
                            (visitor.csrf_field())
                            input type="hidden" name="back" value={"/questions/" (thread.id)};
                            button.link type="submit" { "Delete this message" }
                        }
                    }
                }
            }
        }
        @if may_reply {
            form method="post" action={"/questions/" (thread.id) "/reply"} {
                (visitor.csrf_field())
                div.field { label for="f-reply" { "Your reply" } textarea #f-reply name="body" rows="4" required {} }
                button type="submit" { "Reply" }
            }
        }
    }
}

/// `GET /questions/{id}`: a question thread.
#[handler]
pub async fn thread_page(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = ThreadId::from_uuid(form::path_id(&id)?);
    let view = site.services.questions.thread(id).await.or_page()?;
    let title = if view.thread.subject.is_empty() {
        "Question".to_owned()
    } else {
        view.thread.subject.clone()
    };
    let content = html! {
        nav aria-label="Breadcrumb" { a href={"/products/" (view.thread.product_id)} { "Back to the product" } }
        h1 { (title) }
        (thread_content(&visitor, &view))
    };
    Ok(render(&visitor, &title, content))
}

/// `POST /questions/{id}/reply`.
#[handler]
pub async fn reply_to_thread(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let fields: BodyField = form::read(&visitor, &body)?;
    let id = ThreadId::from_uuid(form::path_id(&id)?);
    let back = format!("/questions/{id}");
    let actor = visitor.require(&back)?;
    visitor.after(
        &back,
        site.services.questions.reply(actor, id, &fields.body).await,
        "Your reply is posted.",
    )
}

/// `POST /questions/messages/{id}/delete`: an author (within 30 minutes) or staff removes a
/// message's text; its place in the thread stays.
#[handler]
pub async fn delete_message(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let fields: BodyField = form::read(&visitor, &body)?;
    let id = marketplace_domain::ids::MessageId::from_uuid(form::path_id(&id)?);
    let back = form::local_path(fields.back.as_deref());
    let actor = visitor.require(&back)?;
    visitor.after(
        &back,
        site.services.questions.delete(actor, id).await,
        "The message is removed.",
    )
}
