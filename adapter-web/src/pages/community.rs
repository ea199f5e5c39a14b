//! What buyers and sellers say: reviews of a purchased line or of a seller (from the order page),
//! sellers' replies, product questions and their threads, and sellers' public pages.

use marketplace_domain::ids::{OrderId, OrderItemId, ProductId, ReviewId, ThreadId, UserId};
use marketplace_domain::pagination::PageRequest;
use marketplace_domain::validation::FieldErrors;
use marketplace_ports::ports::{ReviewView, ThreadView};
use marketplace_ports::use_cases::reviews::{ReviewInput, ReviewTarget};
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde::Deserialize;
use uuid::Uuid;

use crate::Site;
use crate::error::{Failed, WebError, field_errors, refusal};
use crate::form::{self, Input};
use crate::format;
use crate::page::{pager, render, render_status};
use crate::pages::catalog::stars;
use crate::pages::orders::order_url;
use crate::visitor::Visitor;

fn uuid(text: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(text).map_err(|_| WebError::NotFound)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Params {
    t: Option<String>,
    page: Option<String>,
}

/// What a review form is about.
enum About {
    Line(OrderItemId),
    Seller(UserId),
}

struct ReviewValues<'a> {
    rating: &'a str,
    title: &'a str,
    body: &'a str,
}

/// Which review form: of what, in which order, reached with which guest token.
struct ReviewPage<'a> {
    order: OrderId,
    about: &'a About,
    heading: &'a str,
    token: Option<&'a str>,
}

fn review_form(
    visitor: &Visitor,
    form_of: &ReviewPage<'_>,
    values: &ReviewValues<'_>,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let ReviewPage {
        order,
        about,
        heading,
        token,
    } = *form_of;
    let action = match about {
        About::Line(line) => format!("/orders/{order}/lines/{line}/review"),
        About::Seller(seller) => format!("/orders/{order}/sellers/{seller}/review"),
    };
    let content = html! {
        h1 { (heading) }
        p { a href=(order_url(order, token)) { "Back to the order" } }
        (form::summary(errors, &["rating", "title", "body"]))
        div.form-card {
            form method="post" action=(action) novalidate {
                (visitor.csrf_field())
                @if let Some(token) = token { input type="hidden" name="t" value=(token); }
                fieldset {
                    legend { "Your rating" }
                    @for n in (1..=5).rev() {
                        div.checkbox {
                            input type="radio" id={"rating-" (n)} name="rating" value=(n) checked[values.rating == n.to_string()];
                            label for={"rating-" (n)} { span aria-hidden="true" { (stars(n)) } " " (n) @if n == 1 { " star" } @else { " stars" } }
                        }
                    }
                    @for message in form::messages(errors, "rating") { p.error { (message) } }
                }
                (Input::text("title", "Title (optional)", values.title).render(errors))
                div.field {
                    label for="f-body" { "Your review (optional)" }
                    textarea #f-body name="body" rows="6" { (values.body) }
                    @for message in form::messages(errors, "body") { p.error { (message) } }
                }
                button type="submit" { "Post the review" }
            }
        }
    };
    render_status(visitor, status, heading, content)
}

fn heading_for(
    detail: &marketplace_ports::use_cases::orders::OrderDetail,
    about: &About,
) -> Result<String, WebError> {
    let lines = detail.view.order.lines();
    match about {
        About::Line(line) => lines
            .iter()
            .find(|l| l.id == *line)
            .map(|l| format!("Review “{}”", l.title))
            .ok_or(WebError::NotFound),
        About::Seller(seller) => lines
            .iter()
            .any(|l| l.seller_id == *seller)
            .then(|| "Review the seller".to_owned())
            .ok_or(WebError::NotFound),
    }
}

async fn show_review_form(
    visitor: &Visitor,
    site: &Site,
    order: OrderId,
    about: About,
    request: &Request,
) -> Result<Response, WebError> {
    let params: Params = form::query(request.uri().query())?;
    let token = params.t.as_deref();
    let detail = site
        .services
        .orders
        .get(order, visitor.order_access(token))
        .await
        .or_page()?;
    let heading = heading_for(&detail, &about)?;
    Ok(review_form(
        visitor,
        &ReviewPage {
            order,
            about: &about,
            heading: &heading,
            token,
        },
        &ReviewValues {
            rating: "",
            title: "",
            body: "",
        },
        &FieldErrors::default(),
        StatusCode::OK,
    ))
}

/// `GET /orders/{id}/lines/{line}/review?t=…`.
#[handler]
pub async fn line_review_form(
    visitor: Visitor,
    site: Data<&Site>,
    Path((order, line)): Path<(String, String)>,
    request: &Request,
) -> Result<Response, WebError> {
    let order = OrderId::from_uuid(uuid(&order)?);
    let line = OrderItemId::from_uuid(uuid(&line)?);
    show_review_form(&visitor, &site, order, About::Line(line), request).await
}

/// `GET /orders/{id}/sellers/{seller}/review?t=…`.
#[handler]
pub async fn seller_review_form(
    visitor: Visitor,
    site: Data<&Site>,
    Path((order, seller)): Path<(String, String)>,
    request: &Request,
) -> Result<Response, WebError> {
    let order = OrderId::from_uuid(uuid(&order)?);
    let seller = UserId::from_uuid(uuid(&seller)?);
    show_review_form(&visitor, &site, order, About::Seller(seller), request).await
}

#[derive(Deserialize)]
struct ReviewFields {
    #[serde(default)]
    t: Option<String>,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

async fn post_review(
    visitor: &Visitor,
    site: &Site,
    order: OrderId,
    about: About,
    body: &str,
) -> Result<Response, WebError> {
    let fields: ReviewFields = form::read(visitor, body)?;
    let token = fields.t.as_deref().filter(|t| !t.is_empty());
    let rating = fields.rating.trim().parse::<i64>().unwrap_or(0);
    let target = match about {
        About::Line(line) => ReviewTarget::Line(line),
        About::Seller(seller) => ReviewTarget::Seller(seller),
    };
    let result = site
        .services
        .review_writing
        .review(
            visitor.order_access(token),
            order,
            target,
            &ReviewInput {
                rating,
                title: fields.title.clone(),
                body: fields.body.clone(),
            },
        )
        .await;
    let back = order_url(order, token);
    match result {
        Ok(_) => Ok(visitor.redirect_with_notice(&back, "Thank you — your review is posted.")),
        Err(error) => {
            let errors = match (field_errors(&error), refusal(&error)) {
                (Some(errors), _) => errors,
                (None, Some(message)) => return Ok(visitor.redirect_with_problem(&back, &message)),
                (None, None) => return Err(WebError::from_use_case(&error)),
            };
            let detail = site
                .services
                .orders
                .get(order, visitor.order_access(token))
                .await
                .or_page()?;
            let heading = heading_for(&detail, &about)?;
            Ok(review_form(
                visitor,
                &ReviewPage {
                    order,
                    about: &about,
                    heading: &heading,
                    token,
                },
                &ReviewValues {
                    rating: &fields.rating,
                    title: &fields.title,
                    body: &fields.body,
                },
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

/// `POST /orders/{id}/lines/{line}/review`.
#[handler]
pub async fn review_line(
    visitor: Visitor,
    site: Data<&Site>,
    Path((order, line)): Path<(String, String)>,
    body: String,
) -> Result<Response, WebError> {
    let order = OrderId::from_uuid(uuid(&order)?);
    let line = OrderItemId::from_uuid(uuid(&line)?);
    post_review(&visitor, &site, order, About::Line(line), &body).await
}

/// `POST /orders/{id}/sellers/{seller}/review`.
#[handler]
pub async fn review_seller(
    visitor: Visitor,
    site: Data<&Site>,
    Path((order, seller)): Path<(String, String)>,
    body: String,
) -> Result<Response, WebError> {
    let order = OrderId::from_uuid(uuid(&order)?);
    let seller = UserId::from_uuid(uuid(&seller)?);
    post_review(&visitor, &site, order, About::Seller(seller), &body).await
}

/// One review as pages show it, with the seller's reply — and, for the reviewed seller, a form
/// to reply.
pub fn review_item(visitor: &Visitor, review: &ReviewView) -> Markup {
    let r = &review.review;
    let replying = visitor
        .actor()
        .is_some_and(|a| a.user_id == r.seller_id && review.reply.is_none());
    html! {
        article.review {
            h3 {
                span.stars role="img" aria-label={(r.rating.get()) " out of 5 stars"} { (stars(r.rating.get())) }
                " " (r.title)
            }
            p.muted { (review.author.as_deref().unwrap_or("A guest buyer")) ", " time datetime=(format::iso(r.created_at)) { (format::time(r.created_at)) } }
            @if !r.body.is_empty() { p { (r.body) } }
            @if let Some(reply) = &review.reply {
                blockquote { strong { "The seller replied: " } (reply.body) }
            }
            @if replying {
                form method="post" action={"/reviews/" (r.id) "/reply"} {
                    (visitor.csrf_field())
                    div.field {
                        label for={"reply-" (r.id)} { "Reply publicly" }
                        textarea id={"reply-" (r.id)} name="body" rows="3" required {}
                    }
                    button.secondary type="submit" { "Post the reply" }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct BodyField {
    #[serde(default)]
    body: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    back: Option<String>,
}

/// `POST /reviews/{id}/reply`: the reviewed seller answers publicly.
#[handler]
pub async fn reply_to_review(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let fields: BodyField = form::read(&visitor, &body)?;
    let id = ReviewId::from_uuid(uuid(&id)?);
    let actor = visitor.require("/seller")?;
    let seller = actor.user_id;
    let back = form::local_path(
        fields
            .back
            .as_deref()
            .or(Some(&format!("/sellers/{seller}"))),
    );
    match site
        .services
        .review_writing
        .reply(actor, id, &fields.body)
        .await
    {
        Ok(_) => Ok(visitor.redirect_with_notice(&back, "Your reply is posted.")),
        Err(error) => match refusal(&error) {
            Some(message) => Ok(visitor.redirect_with_problem(&back, &message)),
            None => Err(WebError::from_use_case(&error)),
        },
    }
}

/// `GET /sellers/{id}`: a seller's public page — rating, reviews and listings.
#[handler]
pub async fn seller_page(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    request: &Request,
) -> Result<Response, WebError> {
    let id = UserId::from_uuid(uuid(&id)?);
    let params: Params = form::query(request.uri().query())?;
    let page = form::page_request(params.page.as_deref(), 10)?;
    let profile = site.services.reviews.seller(id).await.or_page()?;
    let reviews = site
        .services
        .reviews
        .seller_reviews(id, page)
        .await
        .or_page()?;
    let listings = site
        .services
        .listings
        .browse(
            marketplace_ports::use_cases::listings::ProductQuery {
                seller: Some(id),
                ..Default::default()
            },
            PageRequest::parse(Some(1), Some(12)).unwrap_or_else(|_| PageRequest::first()),
        )
        .await
        .or_page()?;
    let theirs = listings.page.items;
    let content = html! {
        h1 { (profile.public_name) }
        p {
            @match format::rating(profile.rating.sum, profile.rating.count) {
                Some(average) => { span.stars { "★ " (average) } " from " (profile.rating.count) " seller reviews" },
                None => { span.muted { "No seller reviews yet." } },
            }
        }
        @if !theirs.is_empty() {
            h2 { "Recent listings" }
            ul.grid { @for view in &theirs { (crate::pages::catalog::card(view, &site)) } }
        }
        h2 { "What buyers say" }
        @if reviews.items.is_empty() { p.muted { "Nothing yet." } }
        @for review in &reviews.items { (review_item(&visitor, review)) }
        (pager(&reviews, &format!("/sellers/{id}")))
    };
    Ok(render(&visitor, &profile.public_name, content))
}

/// `POST /products/{id}/questions`: a signed-in visitor asks the seller.
#[handler]
pub async fn ask(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let fields: BodyField = form::read(&visitor, &body)?;
    let product = ProductId::from_uuid(uuid(&id)?);
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
    let id = ThreadId::from_uuid(uuid(&id)?);
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
    let id = ThreadId::from_uuid(uuid(&id)?);
    let back = format!("/questions/{id}");
    let actor = visitor.require(&back)?;
    match site.services.questions.reply(actor, id, &fields.body).await {
        Ok(_) => Ok(visitor.redirect_with_notice(&back, "Your reply is posted.")),
        Err(error) => match refusal(&error) {
            Some(message) => Ok(visitor.redirect_with_problem(&back, &message)),
            None => Err(WebError::from_use_case(&error)),
        },
    }
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
    let id = marketplace_domain::ids::MessageId::from_uuid(uuid(&id)?);
    let back = form::local_path(fields.back.as_deref());
    let actor = visitor.require(&back)?;
    match site.services.questions.delete(actor, id).await {
        Ok(_) => Ok(visitor.redirect_with_notice(&back, "The message is removed.")),
        Err(error) => match refusal(&error) {
            Some(message) => Ok(visitor.redirect_with_problem(&back, &message)),
            None => Err(WebError::from_use_case(&error)),
        },
    }
}
