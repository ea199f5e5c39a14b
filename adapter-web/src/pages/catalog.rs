//! Shopping pages: the home page's buckets, browsing with search, kind, category, sort and
//! pagination, category pages, and the product page.

use marketplace_domain::catalog::{CategoryType, ProductKind};
use marketplace_domain::ids::{CategoryId, ProductId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::use_cases::listings::{
    ProductDetailView, ProductQuery, ProductSort, ProductView,
};
use maud::{Markup, html};
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde::Deserialize;
use uuid::Uuid;

use crate::Site;
use crate::error::{Failed, WebError};
use crate::form::{self, encode};
use crate::format;
use crate::page::{pager, render};
use crate::visitor::Visitor;

/// The URL of a product's image.
pub fn image_url(product: ProductId, image: impl std::fmt::Display) -> String {
    format!("/api/v1/products/{product}/images/{image}")
}

/// A listing's card, as every list shows it. Its link goes through `/products/{id}/go`, which
/// counts the click from the list (as the original's product cards did) and leads on to the page.
pub fn card(view: &ProductView, site: &Site) -> Markup {
    let product = &view.product;
    let listing = &product.listing;
    let url = format!("/products/{}/go", product.id);
    html! {
        li {
            article.card {
                @match view.primary_image {
                    Some(image) => img src=(image_url(product.id, image)) alt="" width="400" height="300" loading="lazy" decoding="async";,
                    None => div.no-image aria-hidden="true" { "No photo yet" },
                }
                div.body {
                    h3 { a href=(url) { (listing.title) } }
                    p.meta {
                        (kind_label(listing.kind)) " · " (view.seller_name)
                        @if view.trending_badge { " " span.badge.hot { "Trending" } }
                        @if listing.is_featured { " " span.badge { "Featured" } }
                    }
                    @if let Some(average) = format::rating(product.rating_sum, product.review_count) {
                        p.meta { span.stars { "★ " (average) } " (" (product.review_count) ")" }
                    }
                    p.price { (format::price(listing.price, site.config.currency)) }
                }
            }
        }
    }
}

/// How a kind is called on pages.
pub fn kind_label(kind: ProductKind) -> &'static str {
    match kind {
        ProductKind::Model => "3D model",
        ProductKind::File => "3D file",
    }
}

fn cards(views: &[ProductView], site: &Site) -> Markup {
    html! {
        ul.grid { @for view in views { (card(view, site)) } }
    }
}

/// `GET /`: the home page, with the featured, new, trending and more buckets.
#[handler]
pub async fn home(visitor: Visitor, site: Data<&Site>) -> Result<Response, WebError> {
    let home = site.services.home.home().await.or_page()?;
    let content = html! {
        section.hero aria-labelledby="hero-title" {
            h1 #hero-title { "Things made by people who print" }
            p { "Printed models shipped to your door, and 3D files to print yourself — from independent makers." }
            p.actions {
                a.button href="/products?kind=MODEL" { "Shop printed models" }
                a href="/products?kind=FILE" { "Browse 3D files" }
            }
        }
        @for (title, views) in [("Featured", &home.featured), ("Trending now", &home.trending), ("New in the shop", &home.new), ("More to discover", &home.more)] {
            @if !views.is_empty() {
                section aria-label=(title) {
                    h2 { (title) }
                    (cards(views, &site))
                }
            }
        }
        @if home.featured.is_empty() && home.new.is_empty() {
            p.muted { "Nothing is listed yet. Sellers: " a href="/register" { "open a shop" } "." }
        }
    };
    Ok(render(&visitor, "Home", content))
}

/// The browse page's parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BrowseParams {
    q: Option<String>,
    kind: Option<String>,
    category: Option<String>,
    sort: Option<String>,
    page: Option<String>,
}

const SORTS: [(&str, &str); 5] = [
    ("new", "Newest"),
    ("trending", "Trending"),
    ("top", "Top rated"),
    ("price_asc", "Price: low to high"),
    ("price_desc", "Price: high to low"),
];

fn sort_of(text: &str) -> Option<ProductSort> {
    Some(match text {
        "" | "new" => ProductSort::New,
        "trending" => ProductSort::Trending,
        "top" => ProductSort::Top,
        "price_asc" => ProductSort::PriceAscending,
        "price_desc" => ProductSort::PriceDescending,
        _ => return None,
    })
}

/// `GET /products`: search and browse.
#[handler]
pub async fn browse(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let params: BrowseParams = form::query(request.uri().query())?;
    let text = params.q.clone().unwrap_or_default();
    let kind_text = params.kind.clone().unwrap_or_default().to_ascii_uppercase();
    let kind = match kind_text.as_str() {
        "" => None,
        other => Some(
            other
                .parse::<ProductKind>()
                .map_err(|_| WebError::BadRequest("Choose models or files.".to_owned()))?,
        ),
    };
    let category_text = params.category.clone().unwrap_or_default();
    let category = form::optional_choice(
        Some(&category_text),
        |id| Uuid::parse_str(id).ok().map(CategoryId::from_uuid),
        "That category does not exist.",
    )?;
    let sort_text = params.sort.clone().unwrap_or_default();
    let sort = sort_of(&sort_text)
        .ok_or_else(|| WebError::BadRequest("Choose one of the offered orders.".to_owned()))?;
    let request_page = form::page_request(params.page.as_deref(), 24)?;
    let found = site
        .services
        .listings
        .browse(
            ProductQuery {
                seller: None,
                kind,
                text: Some(text.clone()).filter(|t| !t.trim().is_empty()),
                category,
                sort,
            },
            request_page,
        )
        .await
        .or_page()?;
    let tree = site.services.catalog.tree().await.or_page()?;
    let base = format!(
        "/products?q={}&kind={}&category={}&sort={}",
        encode(&text),
        encode(&kind_text),
        encode(&category_text),
        encode(&sort_text)
    );
    let heading = if text.trim().is_empty() {
        match kind {
            Some(ProductKind::Model) => "Printed models".to_owned(),
            Some(ProductKind::File) => "3D files".to_owned(),
            None => "Everything in the shop".to_owned(),
        }
    } else {
        format!("Results for “{}”", text.trim())
    };
    let content = html! {
        h1 { (heading) }
        form.filters method="get" action="/products" {
            div.field.wide {
                label for="f-q" { "Search" }
                input #f-q type="search" name="q" value=(text) maxlength="200";
            }
            div.field {
                label for="f-kind" { "Kind" }
                select #f-kind name="kind" {
                    option value="" selected[kind.is_none()] { "Everything" }
                    option value="MODEL" selected[kind == Some(ProductKind::Model)] { "Printed models" }
                    option value="FILE" selected[kind == Some(ProductKind::File)] { "3D files" }
                }
            }
            div.field {
                label for="f-category" { "Category" }
                select #f-category name="category" {
                    option value="" { "Any category" }
                    @for root in &tree {
                        @let group = match root.category.category_type { CategoryType::Model => "Models", CategoryType::File => "Files" };
                        optgroup label={(group) ": " (root.category.name)} {
                            option value=(root.category.id) selected[category == Some(root.category.id)] { "All " (root.category.name) }
                            @for child in &root.children {
                                option value=(child.id) selected[category == Some(child.id)] { (child.name) }
                            }
                        }
                    }
                }
            }
            div.field {
                label for="f-sort" { "Sort by" }
                select #f-sort name="sort" {
                    @for (value, label) in SORTS {
                        option value=(value) selected[sort_of(value) == Some(sort)] { (label) }
                    }
                }
            }
            div { button type="submit" { "Show" } }
        }
        p.muted role="status" {
            (found.page.total) @if found.page.total == 1 { " listing" } @else { " listings" }
            @if found.trending_fallback { " — not enough activity yet to rank by trend, so the newest come first" }
            @if found.top_fallback { " — no reviews yet, so the newest come first" }
        }
        h2.visually-hidden { "Listings" }
        @if found.page.items.is_empty() {
            p { "Nothing matches. Try fewer words, or " a href="/products" { "see everything" } "." }
        } @else {
            (cards(&found.page.items, &site))
        }
        (pager(&found.page, &base))
    };
    Ok(render(&visitor, &heading, content))
}

/// `GET /categories/{id}`: a category, its subcategories and its listings.
#[handler]
pub async fn category_page(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    request: &Request,
) -> Result<Response, WebError> {
    let id = form::path_id(&id)?;
    let params: BrowseParams = form::query(request.uri().query())?;
    let request_page = form::page_request(params.page.as_deref(), 24)?;
    let found = site
        .services
        .catalog
        .page(CategoryId::from_uuid(id), request_page)
        .await
        .or_page()?;
    let title = found.category.name.clone();
    let base = format!("/categories/{id}");
    let content = html! {
        nav aria-label="Breadcrumb" { a href="/products" { "Shop" } " › " (title) }
        h1 { (title) }
        @if !found.category.description.is_empty() { p { (found.category.description) } }
        @if !found.children.is_empty() {
            ul.chips aria-label="Subcategories" {
                @for child in &found.children { li { a href={"/categories/" (child.id)} { (child.name) } } }
            }
        }
        h2.visually-hidden { "Listings" }
        @if found.products.items.is_empty() {
            p { "Nothing is listed here yet." }
        } @else {
            (cards(&found.products.items, &site))
        }
        (pager(&found.products, &base))
    };
    Ok(render(&visitor, &title, content))
}

/// `GET /products/{id}/go`: a click on a listing's card — counted (once per visitor and listing
/// in five minutes, the engagement rules), then on to the product page. A listing that is not
/// shown gets the 404 page.
#[handler]
pub async fn go_to_product(
    site: Data<&Site>,
    Path(id): Path<String>,
    request: &Request,
) -> Result<Response, WebError> {
    let id = ProductId::from_uuid(form::path_id(&id)?);
    let visitor = adapter_http::auth::visitor_of(request);
    site.services
        .engagement
        .click(&visitor, id)
        .await
        .or_page()?;
    Ok(crate::page::see_other(&format!("/products/{id}")))
}

/// `GET /products/{id}`: the product page.
#[handler]
pub async fn product_page(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    request: &Request,
) -> Result<Response, WebError> {
    let id = form::path_id(&id)?;
    let engagement = adapter_http::auth::visitor_of(request);
    let detail = site
        .services
        .listings
        .detail(visitor.actor(), &engagement, ProductId::from_uuid(id))
        .await
        .or_page()?;
    let threads = site
        .services
        .questions
        .threads(detail.view.product.id, PageRequest::first())
        .await
        .ok();
    let title = detail.view.product.listing.title.clone();
    let content = product_content(&visitor, &site, &detail, threads.as_ref());
    Ok(render(&visitor, &title, content))
}

fn product_content(
    visitor: &Visitor,
    site: &Site,
    detail: &ProductDetailView,
    threads: Option<&Page<marketplace_ports::ports::ThreadView>>,
) -> Markup {
    let view = &detail.view;
    let product = &view.product;
    let listing = &product.listing;
    let currency = site.config.currency;
    let primary = detail
        .images
        .iter()
        .find(|i| i.is_primary)
        .or(detail.images.first());
    let own = visitor.actor().is_some_and(|a| a.user_id == view.seller_id);
    html! {
        nav aria-label="Breadcrumb" {
            a href="/products" { "Shop" } " › "
            a href={"/categories/" (listing.category_id)} { (view.category_name) }
        }
        div.product {
            div.gallery {
                @if let Some(image) = primary {
                    img src=(image_url(product.id, image.id)) alt=(alt_of(&image.alt_text, &listing.title)) width="800" height="600";
                } @else {
                    div.no-image aria-hidden="true" { "No photo yet" }
                }
                @if detail.images.len() > 1 {
                    ul.thumbs aria-label="More photos" {
                        @for image in detail.images.iter().filter(|i| Some(i.id) != primary.map(|p| p.id)) {
                            li { a href=(image_url(product.id, image.id)) {
                                img src=(image_url(product.id, image.id)) alt=(alt_of(&image.alt_text, &listing.title)) width="96" height="72" loading="lazy";
                            } }
                        }
                    }
                }
            }
            div.buy {
                h1 { (listing.title) }
                p.muted {
                    (kind_label(listing.kind)) " by "
                    a href={"/sellers/" (view.seller_id)} { (view.seller_name) }
                    @if let Some(average) = format::rating(detail.seller_rating.sum, detail.seller_rating.count) {
                        " · seller rated " span.stars { "★ " (average) } " (" (detail.seller_rating.count) ")"
                    }
                }
                p.price { (format::price(listing.price, currency)) }
                @if !listing.short_description.is_empty() { p { (listing.short_description) } }
                @if !listing.is_active {
                    p.flash.problem { "This listing is not active: shoppers cannot see it." }
                } @else if own {
                    p.muted { "This is your listing." }
                } @else if !view.can_buy {
                    p.flash.problem { "The seller is not ready to take payments yet." }
                } @else {
                    form method="post" action="/cart/items" {
                        (visitor.csrf_field())
                        input type="hidden" name="product_id" value=(product.id);
                        div.qty {
                            @if listing.kind.is_digital() {
                                input type="hidden" name="quantity" value="1";
                            } @else {
                                div.field {
                                    label for="f-quantity" { "Quantity" }
                                    input #f-quantity type="number" name="quantity" value="1" min="1" max="99" inputmode="numeric";
                                }
                            }
                            button type="submit" { "Add to cart" }
                        }
                    }
                }
                h2 { "Details" }
                dl.specs {
                    dt { "Kind" } dd { (kind_label(listing.kind)) }
                    dt { "Category" } dd { (view.category_name) }
                    @if let Some(physical) = &listing.physical {
                        @if !physical.material.is_empty() { dt { "Material" } dd { (physical.material) } }
                        @if !physical.color.is_empty() { dt { "Colour" } dd { (physical.color) } }
                        @if let (Some(w), Some(h), Some(d)) = (physical.width_mm, physical.height_mm, physical.depth_mm) {
                            dt { "Size" } dd { (w) " × " (h) " × " (d) " mm" }
                        }
                    }
                    @if !detail.assets.is_empty() {
                        dt { "Files" }
                        dd { ul { @for asset in &detail.assets { li { (asset.original_filename) " (" (format::size(asset.size_bytes)) ")" } } } }
                    }
                    @if let Some(license) = &listing.license_text {
                        @if !license.is_empty() { dt { "Licence" } dd { (license) } }
                    }
                }
            }
        }
        @if !listing.description.is_empty() {
            section aria-labelledby="about" {
                h2 #about { "About this item" }
                @for paragraph in listing.description.split("\n\n") { p { (paragraph) } }
            }
        }
        section aria-labelledby="reviews" {
            h2 #reviews {
                "Reviews"
                @if let Some(average) = format::rating(product.rating_sum, product.review_count) {
                    " " span.stars { "★ " (average) } " " span.muted { "(" (product.review_count) ")" }
                }
            }
            @if detail.latest_reviews.is_empty() {
                p.muted { "No reviews yet. Buyers can review what they bought from their order page." }
            }
            @for review in &detail.latest_reviews {
                (crate::pages::community::review_item(visitor, review, &format!("/products/{}", product.id)))
            }
            @if product.review_count > i64::try_from(detail.latest_reviews.len()).unwrap_or(i64::MAX) {
                p { a href={"/products/" (product.id) "/reviews"} { "All " (product.review_count) " reviews" } }
            }
        }
        section aria-labelledby="questions" {
            h2 #questions { "Questions" }
            @match threads {
                Some(page) if !page.items.is_empty() => {
                    @for thread in &page.items {
                        article.review {
                            h3 { a href={"/questions/" (thread.thread.id)} { @if thread.thread.subject.is_empty() { "Question" } @else { (thread.thread.subject) } } }
                            @if let Some(first) = thread.messages.first() {
                                p {
                                    strong { (first.author) ": " }
                                    @if first.message.deleted_at.is_some() { em.muted { "(removed)" } } @else { (first.message.body) }
                                }
                            }
                            p.muted { (thread.messages.len().saturating_sub(1)) " replies" }
                        }
                    }
                }
                _ => { p.muted { "No questions yet." } }
            }
            @if own {
            } @else if visitor.actor().is_some() {
                form #ask method="post" action={"/products/" (product.id) "/questions"} {
                    (visitor.csrf_field())
                    h3 { "Ask the seller" }
                    div.field { label for="f-subject" { "Subject (optional)" } input #f-subject type="text" name="subject" maxlength="180"; }
                    div.field { label for="f-question" { "Your question" } textarea #f-question name="body" rows="3" required {} }
                    button.secondary type="submit" { "Ask" }
                }
            } @else {
                p { a href={"/login?next=%2Fproducts%2F" (product.id)} { "Sign in" } " to ask the seller a question." }
            }
        }
        @if !detail.more_like_this.is_empty() {
            section aria-labelledby="more" {
                h2 #more { "More like this" }
                (cards(&detail.more_like_this, site))
            }
        }
    }
}

fn alt_of<'a>(alt: &'a str, title: &'a str) -> &'a str {
    if alt.trim().is_empty() { title } else { alt }
}

/// `★★★★☆` for a rating out of five.
pub fn stars(rating: u8) -> String {
    let full = usize::from(rating.min(5));
    format!("{}{}", "★".repeat(full), "☆".repeat(5 - full))
}
