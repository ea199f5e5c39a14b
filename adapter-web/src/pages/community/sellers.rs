//! A seller's public page: their rating, reviews and listings.

use super::*;

/// `GET /sellers/{id}`: a seller's public page — rating, reviews and listings.
#[handler]
pub async fn seller_page(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    request: &Request,
) -> Result<Response, WebError> {
    let id = UserId::from_uuid(form::path_id(&id)?);
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
        @for review in &reviews.items { (review_item(&visitor, review, &format!("/sellers/{id}"))) }
        (pager(&reviews, &format!("/sellers/{id}")))
    };
    Ok(render(&visitor, &profile.public_name, content))
}
