//! Selling: the seller's dashboard with the payout setup (Stripe Connect onboarding), listings
//! (create, edit, activate, images with a primary, digital files), sales, and payouts with the
//! ledger's movements.

use marketplace_domain::catalog::{
    CategoryType, ListingChanges, ListingDraft, PhysicalAttributes, ProductKind, validate_listing,
};
use marketplace_domain::files::{ASSET_MAX_BYTES, IMAGE_MAX_BYTES};
use marketplace_domain::ids::{AssetId, CategoryId, OrderId, ProductId, ProductImageId};
use marketplace_domain::payouts::PayoutStatus;
use marketplace_domain::validation::FieldErrors;
use marketplace_ports::ports::{CategoryWithChildren, LedgerFilter, PayoutRecord};
use marketplace_ports::use_cases::Actor;
use marketplace_ports::use_cases::listings::{NewImage, ProductDetailView};
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Multipart, Path};
use poem::{Request, Response, handler};
use serde::Deserialize;
use uuid::Uuid;

use crate::Site;
use crate::error::{Failed, WebError, field_errors, refusal};
use crate::form::{self, Input, encode};
use crate::format;
use crate::page::{pager, render, render_status, see_other};
use crate::pages::catalog::{image_url, kind_label};
use crate::pages::orders::{short_id, status_badge};
use crate::visitor::Visitor;

fn require_seller<'a>(visitor: &'a Visitor, next: &str) -> Result<&'a Actor, WebError> {
    let actor = visitor.require(next)?;
    if !actor.roles.is_seller() {
        return Err(WebError::Forbidden(
            "Selling is for seller accounts. Turn it on in your account settings.".to_owned(),
        ));
    }
    Ok(actor)
}

fn seller_nav() -> Markup {
    html! {
        nav aria-label="Seller" {
            ul.chips {
                li { a href="/seller" { "Overview" } }
                li { a href="/seller/listings" { "Listings" } }
                li { a href="/seller/listings/new" { "New listing" } }
                li { a href="/seller/orders" { "Sales" } }
                li { a href="/seller/refund-requests" { "Refund requests" } }
                li { a href="/seller/payouts" { "Payouts" } }
                li { a href="/seller/analytics" { "Analytics" } }
            }
        }
    }
}

/// `GET /seller`: the overview — payout setup, balance, the last 30 days and recent sales.
#[handler]
pub async fn dashboard(visitor: Visitor, site: Data<&Site>) -> Result<Response, WebError> {
    let actor = require_seller(&visitor, "/seller")?;
    let d = site
        .services
        .seller_money
        .dashboard(actor)
        .await
        .or_page()?;
    let currency = d.currency;
    let content = html! {
        h1 { "Your shop" }
        (seller_nav())
        section.panel aria-labelledby="payouts-setup" {
            h2 #payouts-setup { "Getting paid" }
            @if d.ready {
                p { span.badge.status-paid { "Ready" } " Stripe pays your sales into your account." }
            } @else {
                p {
                    span.badge.status-pending { "Not set up" } " "
                    @if d.connect.is_some() { "Your Stripe account needs more details before buyers can pay you." }
                    @else { "Set up payouts with Stripe before your listings can be bought." }
                }
                form method="post" action="/seller/connect/start" {
                    (visitor.csrf_field())
                    button type="submit" { @if d.connect.is_some() { "Continue setup with Stripe" } @else { "Set up payouts with Stripe" } }
                }
            }
        }
        ul.stats {
            li { "Balance" strong { (format::cents(d.balance, currency)) } }
            li { "Available to pay out" strong { (format::cents(d.payout_available, currency)) } }
            li { "Sales, last 30 days" strong { (format::cents(d.last_30_days.gross, currency)) } }
            li { "Your net, last 30 days" strong { (format::cents(d.last_30_days.net, currency)) } }
            li { "Orders, last 30 days" strong { (d.last_30_days.orders) } }
            li { "Active listings" strong { (d.active_listings) } span.muted { " (" (d.inactive_listings) " inactive)" } }
        }
        h2 { "Recent sales" }
        @if d.recent_sales.is_empty() {
            p.muted { "No sales yet." }
        } @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "Item" } th scope="col" { "Order" } th.num scope="col" { "Qty" } th.num scope="col" { "Gross" } th.num scope="col" { "Your net" } th scope="col" { "Paid" } } }
                tbody { @for sale in &d.recent_sales { tr {
                    td { (sale.item.title) }
                    td { a href={"/seller/orders/" (sale.item.order_id)} { (short_id(sale.item.order_id)) } }
                    td.num { (sale.item.quantity) }
                    td.num { (format::cents(sale.item.gross, currency)) }
                    td.num { (format::cents(sale.item.net, currency)) }
                    td { @if let Some(at) = sale.paid_at { (format::time(at)) } }
                } } }
            } }
        }
    };
    Ok(render(&visitor, "Your shop", content))
}

#[derive(Deserialize)]
struct CsrfOnly {}

/// `POST /seller/connect/start`: to Stripe's onboarding page.
#[handler]
pub async fn connect_start(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let _: CsrfOnly = form::read(&visitor, &body)?;
    let actor = require_seller(&visitor, "/seller")?;
    match site.services.onboarding.start(actor).await {
        Ok(url) => Ok(see_other(&url)),
        Err(error) => match refusal(&error) {
            Some(message) => Ok(visitor.redirect_with_problem("/seller", &message)),
            None => Err(WebError::from_use_case(&error)),
        },
    }
}

/// `GET /seller/connect/return`: where Stripe sends sellers back after onboarding.
#[handler]
pub async fn connect_return(visitor: Visitor, site: Data<&Site>) -> Result<Response, WebError> {
    let actor = require_seller(&visitor, "/seller/connect/return")?;
    let view = match site.services.onboarding.sync(actor).await {
        Ok(view) => view,
        Err(error) => {
            tracing::warn!(%error, "refreshing the Connect status on return failed");
            site.services.onboarding.status(actor).await.or_page()?
        }
    };
    Ok(if view.ready {
        visitor.redirect_with_notice("/seller", "Payouts are set up: buyers can pay you now.")
    } else {
        visitor.redirect_with_problem(
            "/seller",
            "Stripe still needs some details before you can be paid.",
        )
    })
}

/// `GET /seller/connect/refresh`: the onboarding link expired; offer a new one.
#[handler]
pub async fn connect_refresh(visitor: Visitor) -> Result<Response, WebError> {
    require_seller(&visitor, "/seller")?;
    Ok(visitor.redirect_with_problem(
        "/seller",
        "That Stripe link expired. Continue the setup for a new one.",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListParams {
    q: Option<String>,
    page: Option<String>,
    kind: Option<String>,
}

/// `GET /seller/listings`.
#[handler]
pub async fn listings_page(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_seller(&visitor, "/seller/listings")?;
    let params: ListParams = form::query(request.uri().query())?;
    let text = params.q.clone().unwrap_or_default();
    let page = form::page_request(params.page.as_deref(), 20)?;
    let found = site
        .services
        .my_listings
        .mine(
            actor,
            Some(text.clone()).filter(|t| !t.trim().is_empty()),
            page,
        )
        .await
        .or_page()?;
    let currency = site.config.currency;
    let content = html! {
        h1 { "Your listings" }
        (seller_nav())
        form.filters method="get" action="/seller/listings" {
            div.field.wide { label for="f-q" { "Search your listings" } input #f-q type="search" name="q" value=(text); }
            div { button type="submit" { "Search" } }
        }
        @if found.items.is_empty() {
            p { "No listings yet. " a href="/seller/listings/new" { "Create your first listing" } "." }
        } @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "Title" } th scope="col" { "Kind" } th.num scope="col" { "Price" } th scope="col" { "State" } th scope="col" { "Actions" } } }
                tbody { @for view in &found.items {
                    @let p = &view.product;
                    tr {
                        td { a href={"/seller/listings/" (p.id)} { (p.listing.title) } }
                        td { (kind_label(p.listing.kind)) }
                        td.num { (format::price(p.listing.price, currency)) }
                        td { @if p.listing.is_active { span.badge.status-paid { "Active" } } @else { span.badge.status-pending { "Inactive" } } }
                        td {
                            form.inline method="post" action={"/seller/listings/" (p.id) "/toggle"} {
                                (visitor.csrf_field())
                                button.link type="submit" { @if p.listing.is_active { "Deactivate" } @else { "Activate" } span.visually-hidden { " " (p.listing.title) } }
                            }
                            " · " a href={"/products/" (p.id)} { "View" span.visually-hidden { " " (p.listing.title) } }
                        }
                    }
                } }
            } }
            (pager(&found, &format!("/seller/listings?q={}", encode(&text))))
        }
    };
    Ok(render(&visitor, "Your listings", content))
}

/// The listing form's values, as typed.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
struct ListingForm {
    kind: String,
    title: String,
    category_id: String,
    price: String,
    is_free: Option<String>,
    short_description: String,
    description: String,
    is_active: Option<String>,
    material: String,
    color: String,
    width_mm: String,
    height_mm: String,
    depth_mm: String,
    license_text: String,
}

impl ListingForm {
    fn of(detail: &ProductDetailView) -> ListingForm {
        let l = &detail.view.product.listing;
        let physical = l.physical.clone().unwrap_or(PhysicalAttributes {
            material: String::new(),
            color: String::new(),
            width_mm: None,
            height_mm: None,
            depth_mm: None,
        });
        let number = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_default();
        ListingForm {
            kind: l.kind.as_str().to_owned(),
            title: l.title.clone(),
            category_id: l.category_id.to_string(),
            price: if l.is_free {
                String::new()
            } else {
                l.price.to_string()
            },
            is_free: l.is_free.then(|| "on".to_owned()),
            short_description: l.short_description.clone(),
            description: l.description.clone(),
            is_active: l.is_active.then(|| "on".to_owned()),
            material: physical.material,
            color: physical.color,
            width_mm: number(physical.width_mm),
            height_mm: number(physical.height_mm),
            depth_mm: number(physical.depth_mm),
            license_text: l.license_text.clone().unwrap_or_default(),
        }
    }

    fn kind(&self) -> Option<ProductKind> {
        self.kind.trim().to_ascii_uppercase().parse().ok()
    }

    /// The typed values the use case takes; errors for what cannot even be read.
    fn parsed(&self) -> Result<(Option<CategoryId>, Option<PhysicalAttributes>), FieldErrors> {
        let mut errors = FieldErrors::default();
        let category = match Uuid::parse_str(self.category_id.trim()) {
            Ok(id) => Some(CategoryId::from_uuid(id)),
            Err(_) => {
                errors.add("category_id", "Choose a category.");
                None
            }
        };
        let mut millimetres = |field: &str, text: &str| -> Option<i32> {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            match text.parse::<i32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.add(field, "Enter whole millimetres.");
                    None
                }
            }
        };
        let width = millimetres("width_mm", &self.width_mm);
        let height = millimetres("height_mm", &self.height_mm);
        let depth = millimetres("depth_mm", &self.depth_mm);
        let physical = (self.kind() == Some(ProductKind::Model)).then(|| PhysicalAttributes {
            material: self.material.trim().to_owned(),
            color: self.color.trim().to_owned(),
            width_mm: width,
            height_mm: height,
            depth_mm: depth,
        });
        errors.into_result((category, physical))
    }
}

fn listing_form_page(
    visitor: &Visitor,
    tree: &[CategoryWithChildren],
    values: &ListingForm,
    errors: &FieldErrors,
    existing: Option<&ProductDetailView>,
    status: StatusCode,
) -> Response {
    let after = existing.map(|detail| media_sections(visitor, detail));
    let kind = values.kind().unwrap_or(ProductKind::Model);
    let (title, action) = match existing {
        Some(detail) => (
            format!("Edit “{}”", detail.view.product.listing.title),
            format!("/seller/listings/{}", detail.view.product.id),
        ),
        None => ("New listing".to_owned(), "/seller/listings/new".to_owned()),
    };
    let shown = [
        "kind",
        "title",
        "category_id",
        "price",
        "short_description",
        "description",
        "material",
        "color",
        "width_mm",
        "height_mm",
        "depth_mm",
        "license_text",
    ];
    let wanted_type = match kind {
        ProductKind::Model => CategoryType::Model,
        ProductKind::File => CategoryType::File,
    };
    let content = html! {
        h1 { (title) }
        (seller_nav())
        (form::summary(errors, &shown))
        @if existing.is_none() {
            form.filters method="get" action="/seller/listings/new" {
                div.field {
                    label for="f-kind-pick" { "What are you listing?" }
                    select #f-kind-pick name="kind" {
                        option value="MODEL" selected[kind == ProductKind::Model] { "A printed model (shipped)" }
                        option value="FILE" selected[kind == ProductKind::File] { "A 3D file (downloaded)" }
                    }
                }
                div { button.secondary type="submit" { "Switch" } }
            }
        }
        div.form-card {
            form method="post" action=(action) novalidate {
                (visitor.csrf_field())
                input type="hidden" name="kind" value=(kind.as_str());
                p.muted { "Listing a " (kind_label(kind)) "." }
                (Input::text("title", "Title", &values.title).required().render(errors))
                div.field {
                    label for="f-category_id" { "Category " span.req aria-hidden="true" { "*" } }
                    select #f-category_id name="category_id" required aria-invalid=[(!form::messages(errors, "category_id").is_empty()).then_some("true")] aria-describedby=[form::described_by(errors, "category_id")] {
                        option value="" { "Choose…" }
                        @for root in tree.iter().filter(|r| r.category.category_type == wanted_type) {
                            option value=(root.category.id) selected[values.category_id == root.category.id.to_string()] { (root.category.name) }
                            @for child in &root.children {
                                option value=(child.id) selected[values.category_id == child.id.to_string()] { "— " (child.name) }
                            }
                        }
                    }
                    (form::field_errors(errors, "category_id"))
                }
                (Input::text("price", "Price", &values.price).autocomplete("off").hint("In dollars, like 12.50. Leave empty for a free listing and tick Free.").render(errors))
                div.checkbox {
                    input #f-is_free type="checkbox" name="is_free" value="on" checked[values.is_free.is_some()];
                    label for="f-is_free" { "Free" }
                }
                (Input::text("short_description", "Short description", &values.short_description).hint("One line shown in lists (up to 280 characters).").render(errors))
                div.field {
                    label for="f-description" { "Description" }
                    textarea #f-description name="description" rows="8" aria-describedby=[form::described_by(errors, "description")] { (values.description) }
                    (form::field_errors(errors, "description"))
                }
                @if kind == ProductKind::Model {
                    fieldset {
                        legend { "The printed object" }
                        (Input::text("material", "Material", &values.material).render(errors))
                        (Input::text("color", "Colour", &values.color).render(errors))
                        (Input::text("width_mm", "Width (mm)", &values.width_mm).kind("number").render(errors))
                        (Input::text("height_mm", "Height (mm)", &values.height_mm).kind("number").render(errors))
                        (Input::text("depth_mm", "Depth (mm)", &values.depth_mm).kind("number").render(errors))
                    }
                } @else {
                    div.field {
                        label for="f-license_text" { "Licence" }
                        textarea #f-license_text name="license_text" rows="4" aria-describedby=[form::described_by(errors, "license_text")] { (values.license_text) }
                        (form::field_errors(errors, "license_text"))
                    }
                }
                div.checkbox {
                    input #f-is_active type="checkbox" name="is_active" value="on" checked[values.is_active.is_some()];
                    label for="f-is_active" { "Active (shoppers can see and buy it)" }
                }
                button type="submit" { @if existing.is_some() { "Save changes" } @else { "Create listing" } }
            }
        }
        @if let Some(after) = after { (after) }
    };
    render_status(visitor, status, &title, content)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct KindParam {
    kind: Option<String>,
}

/// `GET /seller/listings/new`.
#[handler]
pub async fn new_listing_form(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    require_seller(&visitor, "/seller/listings/new")?;
    let params: KindParam = form::query(request.uri().query())?;
    let tree = site.services.catalog.tree().await.or_page()?;
    let values = ListingForm {
        kind: params.kind.unwrap_or_else(|| "MODEL".to_owned()),
        is_active: Some("on".to_owned()),
        ..ListingForm::default()
    };
    Ok(listing_form_page(
        &visitor,
        &tree,
        &values,
        &FieldErrors::default(),
        None,
        StatusCode::OK,
    ))
}

/// Every problem of a form that could not even be read (a category not chosen, a size that is
/// not a number): those, and what the domain's listing rules say of the rest, so the seller sees
/// them all at once.
fn all_problems(values: &ListingForm, kind: ProductKind, unreadable: FieldErrors) -> FieldErrors {
    let draft = ListingDraft {
        kind,
        title: values.title.clone(),
        slug: None,
        category_id: CategoryId::from_uuid(Uuid::nil()),
        price: empty_to_none(&values.price),
        is_free: values.is_free.is_some(),
        short_description: Some(values.short_description.clone()),
        description: Some(values.description.clone()),
        is_active: Some(values.is_active.is_some()),
        is_featured: None,
        is_trending: None,
        physical: None,
        license_text: (kind == ProductKind::File).then(|| values.license_text.clone()),
    };
    let mut problems = unreadable;
    if let Err(rules) = validate_listing(draft, None, false) {
        for (field, messages) in rules.fields() {
            if form::messages(&problems, field).is_empty() {
                for message in messages {
                    problems.add(field, message.clone());
                }
            }
        }
    }
    problems
}

fn empty_to_none(text: &str) -> Option<String> {
    Some(text.to_owned()).filter(|t| !t.trim().is_empty())
}

/// `POST /seller/listings/new`.
#[handler]
pub async fn create_listing(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let values: ListingForm = form::read(&visitor, &body)?;
    let actor = require_seller(&visitor, "/seller/listings/new")?;
    let Some(kind) = values.kind() else {
        return Err(WebError::BadRequest("Choose a model or a file.".to_owned()));
    };
    let result: Result<(), FieldErrors> = match values.parsed() {
        Err(errors) => Err(all_problems(&values, kind, errors)),
        Ok((category, physical)) => {
            let draft = ListingDraft {
                kind,
                title: values.title.clone(),
                slug: None,
                category_id: category.unwrap_or_else(|| CategoryId::from_uuid(Uuid::nil())),
                price: empty_to_none(&values.price),
                is_free: values.is_free.is_some(),
                short_description: Some(values.short_description.clone()),
                description: Some(values.description.clone()),
                is_active: Some(values.is_active.is_some()),
                is_featured: None,
                is_trending: None,
                physical,
                license_text: (kind == ProductKind::File).then(|| values.license_text.clone()),
            };
            match site.services.my_listings.create(actor, draft).await {
                Ok(created) => {
                    let id = created.view.product.id;
                    return Ok(visitor.redirect_with_notice(
                        &format!("/seller/listings/{id}"),
                        "Listing created. Add photos (and files) below.",
                    ));
                }
                Err(error) => match (field_errors(&error), refusal(&error)) {
                    (Some(errors), _) => Err(errors),
                    (None, Some(message)) => Err(FieldErrors::single("form", message)),
                    (None, None) => return Err(WebError::from_use_case(&error)),
                },
            }
        }
    };
    let errors = result.err().unwrap_or_default();
    let tree = site.services.catalog.tree().await.or_page()?;
    Ok(listing_form_page(
        &visitor,
        &tree,
        &values,
        &errors,
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

fn product_id(text: &str) -> Result<ProductId, WebError> {
    form::path_id(text).map(ProductId::from_uuid)
}

/// The edit page: the form, then the photos and files.
fn edit_page(
    visitor: &Visitor,
    tree: &[CategoryWithChildren],
    detail: &ProductDetailView,
    values: &ListingForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    listing_form_page(visitor, tree, values, errors, Some(detail), status)
}

fn media_sections(visitor: &Visitor, detail: &ProductDetailView) -> Markup {
    let product = &detail.view.product;
    let base = format!("/seller/listings/{}", product.id);
    html! {
        section.panel aria-labelledby="photos" {
            h2 #photos { "Photos" }
            @if detail.images.is_empty() { p.muted { "No photos yet. Listings with photos sell better." } }
            ul.grid {
                @for (number, image) in detail.images.iter().enumerate() {
                    li { article.card {
                        img src=(image_url(product.id, image.id)) alt=(image.alt_text) width="400" height="300" loading="lazy";
                        div.body {
                            @if image.is_primary { p { span.badge { "Primary photo" } } }
                            @else {
                                form method="post" action={(base) "/images/" (image.id) "/primary"} {
                                    (visitor.csrf_field())
                                    button.link type="submit" { "Make primary" span.visually-hidden { " (photo " (number + 1) ")" } }
                                }
                            }
                            form method="post" action={(base) "/images/" (image.id) "/delete"} {
                                (visitor.csrf_field())
                                button.link type="submit" { "Delete photo" span.visually-hidden { " " (number + 1) } }
                            }
                        }
                    } }
                }
            }
            form method="post" action={(base) "/images"} enctype="multipart/form-data" {
                (visitor.csrf_field())
                div.field { label for="f-image" { "Add a photo (PNG, JPEG, GIF or WebP, up to 5 MB)" } input #f-image type="file" name="file" accept="image/png,image/jpeg,image/gif,image/webp" required; }
                div.field { label for="f-alt" { "Describe the photo for people who cannot see it" } input #f-alt type="text" name="alt_text" maxlength="255"; }
                div.checkbox { input #f-primary type="checkbox" name="is_primary" value="on"; label for="f-primary" { "Make it the primary photo" } }
                button type="submit" { "Upload photo" }
            }
        }
        @if product.listing.kind.is_digital() {
            section.panel aria-labelledby="files" {
                h2 #files { "Files buyers download" }
                @if detail.assets.is_empty() { p.muted { "No files yet: buyers get nothing to download until you add one." } }
                ul {
                    @for asset in &detail.assets {
                        li {
                            (asset.original_filename) " (" (format::size(asset.size_bytes)) ") "
                            form.inline method="post" action={(base) "/files/" (asset.id) "/delete"} {
                                (visitor.csrf_field())
                                button.link type="submit" { "Delete" span.visually-hidden { " " (asset.original_filename) } }
                            }
                        }
                    }
                }
                form method="post" action={(base) "/files"} enctype="multipart/form-data" {
                    (visitor.csrf_field())
                    div.field { label for="f-asset" { "Add a file (STL, OBJ, 3MF, STEP or ZIP)" } input #f-asset type="file" name="file" required; }
                    button type="submit" { "Upload file" }
                }
            }
        }
    }
}

/// `GET /seller/listings/{id}`: edit a listing, its photos and files.
#[handler]
pub async fn edit_listing_form(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = product_id(&id)?;
    let actor = require_seller(&visitor, &format!("/seller/listings/{id}"))?;
    let detail = site
        .services
        .my_listings
        .get_mine(actor, id)
        .await
        .or_page()?;
    let tree = site.services.catalog.tree().await.or_page()?;
    Ok(edit_page(
        &visitor,
        &tree,
        &detail,
        &ListingForm::of(&detail),
        &FieldErrors::default(),
        StatusCode::OK,
    ))
}

/// `POST /seller/listings/{id}`: save the listing form.
#[handler]
pub async fn update_listing(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let values: ListingForm = form::read(&visitor, &body)?;
    let id = product_id(&id)?;
    let actor = require_seller(&visitor, &format!("/seller/listings/{id}"))?;
    let current = site
        .services
        .my_listings
        .get_mine(actor, id)
        .await
        .or_page()?;
    let kind = current.view.product.listing.kind;
    let outcome: Result<(), FieldErrors> = match values.parsed() {
        Err(errors) => Err(all_problems(&values, kind, errors)),
        Ok((category, physical)) => {
            let changes = ListingChanges {
                kind: None,
                title: Some(values.title.clone()),
                slug: None,
                category_id: category,
                price: empty_to_none(&values.price),
                is_free: Some(values.is_free.is_some()),
                short_description: Some(values.short_description.clone()),
                description: Some(values.description.clone()),
                is_active: Some(values.is_active.is_some()),
                is_featured: None,
                is_trending: None,
                physical,
                license_text: (kind == ProductKind::File).then(|| values.license_text.clone()),
            };
            match site.services.my_listings.update(actor, id, changes).await {
                Ok(_) => {
                    return Ok(visitor.redirect_with_notice(
                        &format!("/seller/listings/{id}"),
                        "Changes saved.",
                    ));
                }
                Err(error) => match (field_errors(&error), refusal(&error)) {
                    (Some(errors), _) => Err(errors),
                    (None, Some(message)) => Err(FieldErrors::single("form", message)),
                    (None, None) => return Err(WebError::from_use_case(&error)),
                },
            }
        }
    };
    let errors = outcome.err().unwrap_or_default();
    let tree = site.services.catalog.tree().await.or_page()?;
    let values = ListingForm {
        kind: kind.as_str().to_owned(),
        ..values
    };
    Ok(edit_page(
        &visitor,
        &tree,
        &current,
        &values,
        &errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

/// `POST /seller/listings/{id}/toggle`: activate or deactivate.
#[handler]
pub async fn toggle_listing(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let _: CsrfOnly = form::read(&visitor, &body)?;
    let id = product_id(&id)?;
    let actor = require_seller(&visitor, "/seller/listings")?;
    match site.services.my_listings.toggle_active(actor, id).await {
        Ok(detail) => {
            let message = if detail.view.product.listing.is_active {
                "Listing activated: shoppers can see it."
            } else {
                "Listing deactivated: shoppers no longer see it."
            };
            Ok(visitor.redirect_with_notice("/seller/listings", message))
        }
        Err(error) => match refusal(&error) {
            Some(message) => Ok(visitor.redirect_with_problem("/seller/listings", &message)),
            None => Err(WebError::from_use_case(&error)),
        },
    }
}

/// `POST /seller/listings/{id}/images` (multipart: `file`, `alt_text`, `is_primary`).
#[handler]
pub async fn add_image(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let id = product_id(&id)?;
    let back = format!("/seller/listings/{id}");
    let actor = require_seller(&visitor, &back)?;
    let upload = form::read_upload_form(&visitor, multipart, IMAGE_MAX_BYTES).await?;
    let Some(file) = upload.file else {
        return Ok(visitor.redirect_with_problem(&back, "Choose a photo to upload."));
    };
    let result = site
        .services
        .listing_media
        .add_image(
            actor,
            id,
            NewImage {
                file,
                alt_text: upload.fields.get("alt_text").cloned(),
                is_primary: upload.fields.contains_key("is_primary"),
            },
        )
        .await;
    visitor.after(&back, result, "Photo added.")
}

/// `POST /seller/listings/{id}/images/{image}/primary`.
#[handler]
pub async fn primary_image(
    visitor: Visitor,
    site: Data<&Site>,
    Path((id, image)): Path<(String, String)>,
    body: String,
) -> Result<Response, WebError> {
    let _: CsrfOnly = form::read(&visitor, &body)?;
    let id = product_id(&id)?;
    let image = form::path_id(&image)?;
    let actor = require_seller(&visitor, "/seller/listings")?;
    let result = site
        .services
        .listing_media
        .set_primary_image(actor, id, ProductImageId::from_uuid(image))
        .await;
    visitor.after(
        &format!("/seller/listings/{id}"),
        result,
        "Primary photo changed.",
    )
}

/// `POST /seller/listings/{id}/images/{image}/delete`.
#[handler]
pub async fn delete_image(
    visitor: Visitor,
    site: Data<&Site>,
    Path((id, image)): Path<(String, String)>,
    body: String,
) -> Result<Response, WebError> {
    let _: CsrfOnly = form::read(&visitor, &body)?;
    let id = product_id(&id)?;
    let image = form::path_id(&image)?;
    let actor = require_seller(&visitor, "/seller/listings")?;
    let result = site
        .services
        .listing_media
        .delete_image(actor, id, ProductImageId::from_uuid(image))
        .await;
    visitor.after(&format!("/seller/listings/{id}"), result, "Photo deleted.")
}

/// `POST /seller/listings/{id}/files` (multipart: `file`).
#[handler]
pub async fn add_file(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let id = product_id(&id)?;
    let back = format!("/seller/listings/{id}");
    let actor = require_seller(&visitor, &back)?;
    let upload = form::read_upload_form(&visitor, multipart, ASSET_MAX_BYTES).await?;
    let Some(file) = upload.file else {
        return Ok(visitor.redirect_with_problem(&back, "Choose a file to upload."));
    };
    let result = site.services.listing_media.add_asset(actor, id, file).await;
    visitor.after(&back, result, "File added.")
}

/// `POST /seller/listings/{id}/files/{asset}/delete`.
#[handler]
pub async fn delete_file(
    visitor: Visitor,
    site: Data<&Site>,
    Path((id, asset)): Path<(String, String)>,
    body: String,
) -> Result<Response, WebError> {
    let _: CsrfOnly = form::read(&visitor, &body)?;
    let id = product_id(&id)?;
    let asset = form::path_id(&asset)?;
    let actor = require_seller(&visitor, "/seller/listings")?;
    let result = site
        .services
        .listing_media
        .delete_asset(actor, id, AssetId::from_uuid(asset))
        .await;
    visitor.after(&format!("/seller/listings/{id}"), result, "File deleted.")
}

/// `GET /seller/orders`: paid orders with the seller's lines.
#[handler]
pub async fn sales_page(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_seller(&visitor, "/seller/orders")?;
    let params: ListParams = form::query(request.uri().query())?;
    let page = form::page_request(params.page.as_deref(), 20)?;
    let found = site
        .services
        .orders
        .seller_orders(actor, page)
        .await
        .or_page()?;
    let content = html! {
        h1 { "Sales" }
        (seller_nav())
        @if found.items.is_empty() {
            p.muted { "No paid orders with your items yet." }
        } @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "Order" } th scope="col" { "Paid" } th scope="col" { "Your items" } th scope="col" { "Status" } th.num scope="col" { "Your total" } } }
                tbody { @for view in &found.items {
                    @let order = &view.order;
                    @let share = view.seller_share();
                    tr {
                        td { a href={"/seller/orders/" (order.id)} { (short_id(order.id)) } }
                        td { @if let Some(at) = order.paid_at { (format::time(at)) } }
                        td { (view.lines().map(|l| format!("{} × {}", l.quantity, l.title)).collect::<Vec<_>>().join(", ")) }
                        td { (status_badge(order.status)) }
                        td.num { (format::cents(share.map_or(order.total, |s| s.total), order.currency)) }
                    }
                } }
            } }
            (pager(&found, "/seller/orders"))
        }
    };
    Ok(render(&visitor, "Sales", content))
}

/// `GET /seller/orders/{id}`: one sale — the seller's lines, their money and payouts, and the
/// address when one of their lines ships.
#[handler]
pub async fn sale_page(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = form::path_id(&id)?;
    let actor = require_seller(&visitor, &format!("/seller/orders/{id}"))?;
    let detail = site
        .services
        .orders
        .seller_order(actor, OrderId::from_uuid(id))
        .await
        .or_page()?;
    let order = &detail.view.order;
    let currency = order.currency;
    let content = html! {
        h1 { "Sale " (short_id(order.id)) " " (status_badge(order.status)) }
        (seller_nav())
        div.table-wrap { table {
            thead { tr { th scope="col" { "Item" } th.num scope="col" { "Qty" } th.num scope="col" { "Gross" } th.num scope="col" { "Fee" } th.num scope="col" { "Your net" } } }
            tbody { @for line in detail.view.lines() { tr {
                td { (line.title) br; span.muted { (kind_label(line.kind)) } }
                td.num { (line.quantity) }
                td.num { (format::cents(line.gross, currency)) }
                td.num { @if detail.view.shows_seller_money() { (format::cents(line.fee, currency)) } }
                td.num { @if detail.view.shows_seller_money() { (format::cents(line.net, currency)) } }
            } } }
        } }
        @if let Some(address) = order.shipping_address.as_ref().filter(|_| detail.view.shows_address()) {
            h2 { "Ship to" }
            address.panel {
                (address.name) br; (address.line1) br;
                @if !address.line2.is_empty() { (address.line2) br; }
                (address.city) ", " (address.state) " " (address.postal_code) br; (address.country)
                @if !address.phone.is_empty() { br; "Phone: " (address.phone) }
            }
        }
        h2 { "Payouts" }
        (payout_table(&detail.payouts, currency))
    };
    Ok(render(&visitor, "Sale", content))
}

pub(crate) fn payout_status(
    status: &PayoutStatus,
) -> (String, Option<marketplace_domain::money::Cents>) {
    match status {
        PayoutStatus::Pending { amount } => ("Being sent".to_owned(), Some(*amount)),
        PayoutStatus::Paid { amount, .. } => ("Paid".to_owned(), Some(*amount)),
        PayoutStatus::Skipped(reason) => (
            format!("Not paid: {}", reason.as_str().replace('_', " ")),
            None,
        ),
        PayoutStatus::Failed { amount } => {
            ("Failed; retried automatically".to_owned(), Some(*amount))
        }
    }
}

fn payout_table(payouts: &[PayoutRecord], currency: marketplace_domain::money::Currency) -> Markup {
    html! {
        @if payouts.is_empty() {
            p.muted { "No payouts yet." }
        } @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "Order" } th scope="col" { "Status" } th.num scope="col" { "Amount" } th scope="col" { "Updated" } } }
                tbody { @for payout in payouts {
                    @let (label, amount) = payout_status(&payout.status);
                    tr {
                        td { a href={"/seller/orders/" (payout.order_id)} { (short_id(payout.order_id)) } }
                        td { (label) }
                        td.num { @if let Some(amount) = amount { (format::cents(amount, currency)) } }
                        td { (format::time(payout.updated_at)) }
                    }
                } }
            } }
        }
    }
}

/// The kinds of money fact a seller's movements can be filtered by (the ledger's own names).
const LEDGER_KINDS: [(&str, &str); 10] = [
    ("", "Every movement"),
    ("order_paid", "Sales"),
    ("transfer", "Payouts"),
    ("transfer_reversal", "Payouts taken back"),
    ("refund", "Refunds"),
    ("refund_failed", "Refunds that failed"),
    ("dispute_opened", "Disputes opened"),
    ("dispute_won", "Disputes won"),
    ("dispute_lost", "Disputes lost"),
    ("adjustment", "Adjustments"),
];

/// `GET /seller/payouts`: the balance, the ledger's movements (filter by kind, search by order)
/// and the payouts.
#[handler]
pub async fn payouts_page(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_seller(&visitor, "/seller/payouts")?;
    let params: ListParams = form::query(request.uri().query())?;
    let kind = params.kind.clone().unwrap_or_default();
    let text = params.q.clone().unwrap_or_default();
    let page = form::page_request(params.page.as_deref(), 25)?;
    let filter = LedgerFilter {
        kind: empty_to_none(kind.trim()),
        text: empty_to_none(text.trim()),
    };
    let money = site
        .services
        .seller_money
        .payouts(actor, &filter, page)
        .await
        .or_page()?;
    let currency = money.currency;
    let content = html! {
        h1 { "Payouts and balance" }
        (seller_nav())
        ul.stats { li { "Balance" strong { (format::cents(money.balance, currency)) } } }
        h2 { "Movements" }
        form.filters method="get" action="/seller/payouts" {
            div.field {
                label for="f-kind" { "Kind" }
                select #f-kind name="kind" { @for (value, label) in LEDGER_KINDS { option value=(value) selected[kind == value] { (label) } } }
            }
            div.field.wide { label for="f-q" { "Order or reference" } input #f-q type="search" name="q" value=(text); }
            div { button type="submit" { "Filter" } }
        }
        @if money.entries.items.is_empty() {
            p.muted { "No movements match." }
        } @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "When" } th scope="col" { "What" } th scope="col" { "Order" } th.num scope="col" { "Amount" } } }
                tbody { @for line in &money.entries.items { tr {
                    td { (format::time(line.created_at)) }
                    td { (line.kind.replace('_', " ")) }
                    td { @if let Some(order) = line.order_id { a href={"/seller/orders/" (order)} { (short_id(order)) } } }
                    td.num { (format::cents(line.amount, line.currency)) }
                } } }
            } }
            (pager(&money.entries, &format!("/seller/payouts?kind={}&q={}", encode(&kind), encode(&text))))
        }
        h2 { "Payouts" }
        (payout_table(&money.payouts.items, currency))
    };
    Ok(render(&visitor, "Payouts", content))
}

/// `GET /seller/refund-requests`: refund requests on the seller's lines, by state.
#[handler]
pub async fn refund_queue(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    require_seller(&visitor, "/seller/refund-requests")?;
    crate::pages::refunds::queue_page(
        &visitor,
        &site,
        request,
        marketplace_ports::use_cases::refund_requests::RefundQueue::Seller,
        "/seller/refund-requests",
        "Refund requests",
        seller_nav(),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PeriodParams {
    days: Option<String>,
    page: Option<String>,
}

/// `GET /seller/analytics?days=7|30|90`: views, clicks, adds to cart, orders, units, conversion,
/// gross and net, in all and per listing.
#[handler]
pub async fn analytics(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_seller(&visitor, "/seller/analytics")?;
    let params: PeriodParams = form::query(request.uri().query())?;
    let days = match params.days.as_deref().map(str::trim) {
        None | Some("") => 30,
        Some(text) => text
            .parse::<i64>()
            .map_err(|_| WebError::BadRequest("Choose 7, 30 or 90 days.".to_owned()))?,
    };
    let page = form::page_request(params.page.as_deref(), 20)?;
    let found = match site.services.analytics.seller(actor, days, page).await {
        Ok(found) => found,
        Err(error) => match refusal(&error) {
            Some(message) => return Err(WebError::BadRequest(message)),
            None => return Err(WebError::from_use_case(&error)),
        },
    };
    let currency = site.config.currency;
    let t = &found.activity.totals;
    let content = html! {
        h1 { "Analytics" }
        (seller_nav())
        p.chips {
            @for d in [7, 30, 90] {
                @if d == days { strong { "Last " (d) " days" } } @else { a href={"/seller/analytics?days=" (d)} { "Last " (d) " days" } }
                " "
            }
        }
        p.muted { "Since " (found.since) " (UTC)." }
        ul.stats {
            li { "Views" strong { (t.views) } }
            li { "Clicks" strong { (t.clicks) } }
            li { "Added to cart" strong { (t.add_to_carts) } }
            li { "Orders" strong { (t.orders) } }
            li { "Units" strong { (t.units) } }
            li { "Conversion" strong { (t.conversion_percent().map_or_else(|| "—".to_owned(), |p| format!("{p} %"))) } }
            li { "Gross" strong { (format::cents(t.gross, currency)) } }
            li { "Your net" strong { (format::cents(t.net, currency)) } }
        }
        h2 { "Per listing" }
        div.table-wrap { table {
            thead { tr { th scope="col" { "Listing" } th.num scope="col" { "Views" } th.num scope="col" { "Clicks" } th.num scope="col" { "Carts" } th.num scope="col" { "Orders" } th.num scope="col" { "Conversion" } th.num scope="col" { "Net" } } }
            tbody { @for p in &found.activity.products.items { tr {
                td { a href={"/products/" (p.product_id)} { (p.title) } }
                td.num { (p.totals.views) } td.num { (p.totals.clicks) } td.num { (p.totals.add_to_carts) } td.num { (p.totals.orders) }
                td.num { (p.totals.conversion_percent().map_or_else(|| "—".to_owned(), |c| format!("{c} %"))) }
                td.num { (format::cents(p.totals.net, currency)) }
            } } }
        } }
        (pager(&found.activity.products, &format!("/seller/analytics?days={days}")))
    };
    Ok(render(&visitor, "Analytics", content))
}
