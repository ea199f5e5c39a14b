//! What buyers and sellers say: reviews of a purchased line or of a seller (from the order page),
//! sellers' replies, product questions and their threads, and sellers' public pages.

mod questions;
mod sellers;

pub use questions::*;
pub use sellers::*;

use marketplace_domain::ids::{OrderId, OrderItemId, ProductId, ReviewId, ThreadId, UserId};
use marketplace_domain::pagination::PageRequest;
use marketplace_domain::reviews::ReviewSort;
use marketplace_domain::validation::FieldErrors;
use marketplace_ports::ports::{ReviewSubject, ReviewView, ThreadView};
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

/// Which review form: of what, in which order, reached with which guest token, and the review
/// it changes when the buyer wrote one already.
struct ReviewPage<'a> {
    order: OrderId,
    about: &'a About,
    heading: &'a str,
    token: Option<&'a str>,
    editing: Option<ReviewId>,
}

impl About {
    /// Whether `review` is the one of this line or seller.
    fn is_about(&self, review: &marketplace_ports::ports::ReviewRecord) -> bool {
        match (self, review.subject) {
            (About::Line(line), ReviewSubject::Product { line: of, .. }) => *line == of,
            (About::Seller(seller), ReviewSubject::Seller) => *seller == review.seller_id,
            _ => false,
        }
    }
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
        editing,
    } = *form_of;
    let action = match (editing, about) {
        (Some(review), _) => format!("/reviews/{review}/edit"),
        (None, About::Line(line)) => format!("/orders/{order}/lines/{line}/review"),
        (None, About::Seller(seller)) => format!("/orders/{order}/sellers/{seller}/review"),
    };
    let back = order_url(order, token);
    let content = html! {
        h1 { (heading) }
        p { a href=(order_url(order, token)) { "Back to the order" } }
        (form::summary(errors, &["rating", "title", "body"]))
        div.form-card {
            form method="post" action=(action) novalidate {
                (visitor.csrf_field())
                @if let Some(token) = token { input type="hidden" name="t" value=(token); }
                @if editing.is_some() { input type="hidden" name="back" value=(back); }
                fieldset aria-describedby=[form::described_by(errors, "rating")] {
                    legend { "Your rating" }
                    @for n in (1..=5).rev() {
                        div.checkbox {
                            input type="radio" id={"rating-" (n)} name="rating" value=(n) checked[values.rating == n.to_string()];
                            label for={"rating-" (n)} { span aria-hidden="true" { (stars(n)) } " " (n) @if n == 1 { " star" } @else { " stars" } }
                        }
                    }
                    (form::field_errors(errors, "rating"))
                }
                (Input::text("title", "Title (optional)", values.title).render(errors))
                div.field {
                    label for="f-body" { "Your review (optional)" }
                    textarea #f-body name="body" rows="6" aria-describedby=[form::described_by(errors, "body")] { (values.body) }
                    (form::field_errors(errors, "body"))
                }
                button type="submit" { @if editing.is_some() { "Save the review" } @else { "Post the review" } }
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

/// The review form of an order's line or seller: empty, or (with `refused`) again with what was
/// typed and the use case's field messages (422).
async fn show_review_form(
    visitor: &Visitor,
    site: &Site,
    order: OrderId,
    about: About,
    token: Option<&str>,
    refused: Option<(&ReviewValues<'_>, &FieldErrors)>,
) -> Result<Response, WebError> {
    let detail = site
        .services
        .orders
        .get(order, visitor.order_access(token))
        .await
        .or_page()?;
    let heading = heading_for(&detail, &about)?;
    // A review the buyer wrote already is changed here rather than written again.
    let written = detail.reviews.iter().find(|r| about.is_about(r));
    let rating = written
        .map(|r| r.rating.get().to_string())
        .unwrap_or_default();
    let empty = ReviewValues {
        rating: &rating,
        title: written.map_or("", |r| r.title.as_str()),
        body: written.map_or("", |r| r.body.as_str()),
    };
    let heading = match written {
        Some(_) => format!("{heading}: your review"),
        None => heading,
    };
    let no_errors = FieldErrors::default();
    let (values, errors, status) = match refused {
        Some((values, errors)) => (values, errors, StatusCode::UNPROCESSABLE_ENTITY),
        None => (&empty, &no_errors, StatusCode::OK),
    };
    Ok(review_form(
        visitor,
        &ReviewPage {
            order,
            about: &about,
            heading: &heading,
            token,
            editing: written.map(|r| r.id),
        },
        values,
        errors,
        status,
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
    let order = OrderId::from_uuid(form::path_id(&order)?);
    let line = OrderItemId::from_uuid(form::path_id(&line)?);
    let params: Params = form::query(request.uri().query())?;
    show_review_form(
        &visitor,
        &site,
        order,
        About::Line(line),
        params.t.as_deref(),
        None,
    )
    .await
}

/// `GET /orders/{id}/sellers/{seller}/review?t=…`.
#[handler]
pub async fn seller_review_form(
    visitor: Visitor,
    site: Data<&Site>,
    Path((order, seller)): Path<(String, String)>,
    request: &Request,
) -> Result<Response, WebError> {
    let order = OrderId::from_uuid(form::path_id(&order)?);
    let seller = UserId::from_uuid(form::path_id(&seller)?);
    let params: Params = form::query(request.uri().query())?;
    show_review_form(
        &visitor,
        &site,
        order,
        About::Seller(seller),
        params.t.as_deref(),
        None,
    )
    .await
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
            let typed = ReviewValues {
                rating: &fields.rating,
                title: &fields.title,
                body: &fields.body,
            };
            show_review_form(visitor, site, order, about, token, Some((&typed, &errors))).await
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
    let order = OrderId::from_uuid(form::path_id(&order)?);
    let line = OrderItemId::from_uuid(form::path_id(&line)?);
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
    let order = OrderId::from_uuid(form::path_id(&order)?);
    let seller = UserId::from_uuid(form::path_id(&seller)?);
    post_review(&visitor, &site, order, About::Seller(seller), &body).await
}

/// The reasons a report may give (the domain's spellings).
const REPORT_REASONS: [(&str, &str); 7] = [
    ("spam", "Spam or advertising"),
    ("harassment", "Harassment"),
    ("hate", "Hate"),
    ("violence", "Violence"),
    ("sexual", "Sexual content"),
    ("illegal", "Something illegal"),
    ("other", "Something else"),
];

/// A "Report" disclosure with its form (works without JavaScript), for signed-in visitors who did
/// not write the content; `back` is the page to come back to.
pub fn report_form(
    visitor: &Visitor,
    target: &str,
    id: Uuid,
    author: Option<UserId>,
    back: &str,
) -> Markup {
    let shown = visitor.actor().is_some_and(|a| Some(a.user_id) != author);
    html! {
        @if shown {
            details.report {
                summary { "Report" }
                form method="post" action="/reports" {
                    (visitor.csrf_field())
                    input type="hidden" name="target_type" value=(target);
                    input type="hidden" name="target_id" value=(id);
                    input type="hidden" name="back" value=(back);
                    div.field {
                        label for={"reason-" (id)} { "Why?" }
                        select id={"reason-" (id)} name="reason" {
                            @for (code, label) in REPORT_REASONS { option value=(code) { (label) } }
                        }
                    }
                    div.field {
                        label for={"details-" (id)} { "Details for our staff (optional)" }
                        textarea id={"details-" (id)} name="details" rows="2" maxlength="2000" {}
                    }
                    button.secondary type="submit" { "Send the report" }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct ReportFields {
    #[serde(default)]
    target_type: String,
    #[serde(default)]
    target_id: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    back: Option<String>,
}

/// `POST /reports`: a signed-in visitor reports a review, a reply or a question's message.
/// Nothing is hidden until staff decide.
#[handler]
pub async fn report(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let fields: ReportFields = form::read(&visitor, &body)?;
    let back = form::local_path(fields.back.as_deref());
    let actor = visitor.require(&back)?;
    let id = form::path_id(&fields.target_id)?;
    let result = site
        .services
        .moderation
        .report(
            actor,
            &fields.target_type,
            id,
            &fields.reason,
            &fields.details,
        )
        .await;
    visitor.after(
        &back,
        result,
        "Thank you. Our staff will look at it; nothing is hidden until they decide.",
    )
}

/// One review as pages show it, with the seller's reply — and, for the reviewed seller, a form
/// to reply; `back` is the page it is shown on.
pub fn review_item(visitor: &Visitor, review: &ReviewView, back: &str) -> Markup {
    let r = &review.review;
    let replying = visitor
        .actor()
        .is_some_and(|a| a.user_id == r.seller_id && review.reply.is_none());
    let target = match r.subject {
        marketplace_ports::ports::ReviewSubject::Product { .. } => "review",
        marketplace_ports::ports::ReviewSubject::Seller => "seller_review",
    };
    let own_review = visitor
        .actor()
        .is_some_and(|a| Some(a.user_id) == r.buyer_id);
    let own_reply = review.reply.as_ref().filter(|reply| {
        visitor
            .actor()
            .is_some_and(|a| a.user_id == reply.seller_id)
    });
    html! {
        article.review {
            h3 {
                span.stars role="img" aria-label={(r.rating.get()) " out of 5 stars"} { (stars(r.rating.get())) }
                " " (r.title)
            }
            p.muted { (review.author.as_deref().unwrap_or("A guest buyer")) ", " time datetime=(format::iso(r.created_at)) { (format::time(r.created_at)) } }
            @if !r.body.is_empty() { p { (r.body) } }
            @if let Some(reply) = &review.reply {
                blockquote {
                    strong { "The seller replied: " } (reply.body)
                    (report_form(visitor, "reply", reply.id.get(), Some(reply.seller_id), back))
                }
            }
            (report_form(visitor, target, r.id.get(), r.buyer_id, back))
            @if own_review {
                details.report {
                    summary { "Edit your review" }
                    form method="post" action={"/reviews/" (r.id) "/edit"} {
                        (visitor.csrf_field())
                        input type="hidden" name="back" value=(back);
                        div.field {
                            label for={"rating-" (r.id)} { "Rating" }
                            select id={"rating-" (r.id)} name="rating" {
                                @for n in (1..=5u8).rev() { option value=(n) selected[n == r.rating.get()] { (n) " of 5" } }
                            }
                        }
                        div.field { label for={"title-" (r.id)} { "Title" } input id={"title-" (r.id)} type="text" name="title" value=(r.title) maxlength="120"; }
                        div.field { label for={"body-" (r.id)} { "Review" } textarea id={"body-" (r.id)} name="body" rows="4" { (r.body) } }
                        button.secondary type="submit" { "Save the review" }
                    }
                }
            }
            @if let Some(reply) = own_reply {
                details.report {
                    summary { "Edit your reply" }
                    form method="post" action={"/reviews/" (r.id) "/reply/edit"} {
                        (visitor.csrf_field())
                        input type="hidden" name="back" value=(back);
                        div.field { label for={"edit-reply-" (r.id)} { "Your reply" } textarea id={"edit-reply-" (r.id)} name="body" rows="3" required { (reply.body) } }
                        button.secondary type="submit" { "Save the reply" }
                    }
                }
            }
            @if replying {
                form method="post" action={"/reviews/" (r.id) "/reply"} {
                    (visitor.csrf_field())
                    input type="hidden" name="back" value=(back);
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
    let id = ReviewId::from_uuid(form::path_id(&id)?);
    let actor = visitor.require("/seller")?;
    let seller = actor.user_id;
    let back = form::local_path(
        fields
            .back
            .as_deref()
            .or(Some(&format!("/sellers/{seller}"))),
    );
    visitor.after(
        &back,
        site.services
            .review_writing
            .reply(actor, id, &fields.body)
            .await,
        "Your reply is posted.",
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReviewParams {
    sort: Option<String>,
    page: Option<String>,
}

/// `GET /products/{id}/reviews?sort=newest|highest|lowest`: every review of a listing.
#[handler]
pub async fn product_reviews(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    request: &Request,
) -> Result<Response, WebError> {
    let product = ProductId::from_uuid(form::path_id(&id)?);
    let params: ReviewParams = form::query(request.uri().query())?;
    let sort_text = params.sort.clone().unwrap_or_else(|| "newest".to_owned());
    let sort = ReviewSort::parse(&sort_text)
        .ok_or_else(|| WebError::BadRequest("Choose newest, highest or lowest.".to_owned()))?;
    let page = form::page_request(params.page.as_deref(), 20)?;
    let reviews = site
        .services
        .reviews
        .product_reviews(product, sort, page)
        .await
        .or_page()?;
    let back = format!("/products/{product}/reviews");
    let content = html! {
        nav aria-label="Breadcrumb" { a href={"/products/" (product)} { "Back to the product" } }
        h1 { "Reviews" }
        p.chips {
            @for (value, label) in [("newest", "Newest"), ("highest", "Highest rated"), ("lowest", "Lowest rated")] {
                @if value == sort_text { strong { (label) } } @else { a href={(back) "?sort=" (value)} { (label) } }
                " "
            }
        }
        h2.visually-hidden { "The reviews" }
        @if reviews.items.is_empty() { p.muted { "No reviews yet." } }
        @for review in &reviews.items { (review_item(&visitor, review, &back)) }
        (pager(&reviews, &format!("{back}?sort={sort_text}")))
    };
    Ok(render(&visitor, "Reviews", content))
}

#[derive(Deserialize)]
struct EditFields {
    #[serde(default)]
    t: Option<String>,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    back: Option<String>,
}

/// `POST /reviews/{id}/edit`: its author changes a review (within the edit window).
#[handler]
pub async fn edit_review(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let fields: EditFields = form::read(&visitor, &body)?;
    let id = ReviewId::from_uuid(form::path_id(&id)?);
    let back = form::local_path(fields.back.as_deref());
    // A guest edits with their order's token; anyone else signs in.
    let token = fields.t.as_deref().filter(|t| !t.is_empty());
    if token.is_none() {
        visitor.require(&back)?;
    }
    let result = site
        .services
        .review_writing
        .edit_review(
            visitor.order_access(token),
            id,
            &ReviewInput {
                rating: fields.rating.trim().parse::<i64>().unwrap_or(0),
                title: fields.title,
                body: fields.body,
            },
        )
        .await;
    visitor.after(&back, result, "Your review is saved.")
}

/// `POST /reviews/{id}/reply/edit`: the seller changes their reply.
#[handler]
pub async fn edit_reply(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let fields: BodyField = form::read(&visitor, &body)?;
    let id = ReviewId::from_uuid(form::path_id(&id)?);
    let back = form::local_path(fields.back.as_deref());
    let actor = visitor.require(&back)?;
    let result = site
        .services
        .review_writing
        .edit_reply(actor, id, &fields.body)
        .await;
    visitor.after(&back, result, "Your reply is saved.")
}
