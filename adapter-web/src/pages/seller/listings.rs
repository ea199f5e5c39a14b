//! A seller's listings: the list, and the listing form to create and edit one (and activate it).

use super::*;

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
