//! Site settings and the category tree.

use super::*;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SiteForm {
    fee_percent: String,
    currency: String,
    allowed_shipping_countries: String,
    dispute_fee_to_sellers: Option<String>,
    download_limit: String,
    download_expiry_days: String,
}

impl SiteForm {
    fn of(config: &SiteConfig) -> SiteForm {
        SiteForm {
            fee_percent: config.fee.get().normalize().to_string(),
            currency: config.currency.as_str().to_ascii_uppercase(),
            allowed_shipping_countries: config.allowed_shipping_countries.join(", "),
            dispute_fee_to_sellers: config.dispute_fee_to_sellers.then(|| "on".to_owned()),
            download_limit: config
                .downloads
                .limit
                .map(|n| n.to_string())
                .unwrap_or_default(),
            download_expiry_days: config
                .downloads
                .expiry_days
                .map(|n| n.to_string())
                .unwrap_or_default(),
        }
    }
}

fn site_page(
    visitor: &Visitor,
    values: &SiteForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let content = html! {
        h1 { "Site settings" }
        (admin_nav())
        (form::summary(errors, &["fee_percent", "currency", "allowed_shipping_countries", "download_limit", "download_expiry_days"]))
        div.form-card {
            form method="post" action="/admin/site-config" novalidate {
                (visitor.csrf_field())
                (Input::text("fee_percent", "Marketplace fee (%)", &values.fee_percent).required().hint("Applies to orders placed from now on; each order keeps the fee it was placed with.").render(errors))
                (Input::text("currency", "Currency", &values.currency).required().hint("Three letters, like USD.").render(errors))
                (Input::text("allowed_shipping_countries", "Countries printed models ship to", &values.allowed_shipping_countries).hint("Two-letter codes separated by commas, like US, CA.").render(errors))
                div.checkbox {
                    input #f-dispute type="checkbox" name="dispute_fee_to_sellers" value="on" checked[values.dispute_fee_to_sellers.is_some()];
                    label for="f-dispute" { "Charge Stripe's dispute fees to the sellers" }
                }
                (Input::text("download_limit", "Downloads per purchase", &values.download_limit).kind("number").hint("Empty: unlimited.").render(errors))
                (Input::text("download_expiry_days", "Days downloads stay open", &values.download_expiry_days).kind("number").hint("Empty: forever.").render(errors))
                button type="submit" { "Save settings" }
            }
        }
    };
    render_status(visitor, status, "Site settings", content)
}

/// `GET /admin/site-config`.
#[handler]
pub async fn site_config(visitor: Visitor, site: Data<&Site>) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/site-config")?;
    let config = site
        .services
        .site_admin
        .site_config(actor)
        .await
        .or_page()?;
    Ok(site_page(
        &visitor,
        &SiteForm::of(&config),
        &FieldErrors::default(),
        StatusCode::OK,
    ))
}

fn optional_number(errors: &mut FieldErrors, field: &str, text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(field, "Enter a whole number, or leave it empty.");
            None
        }
    }
}

/// `POST /admin/site-config`.
#[handler]
pub async fn save_site_config(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let values: SiteForm = form::read(&visitor, &body)?;
    let actor = require_staff(&visitor, "/admin/site-config")?;
    let mut errors = FieldErrors::default();
    let fee = values.fee_percent.trim().parse::<rust_decimal::Decimal>();
    if fee.is_err() {
        errors.add("fee_percent", "Enter a percentage like 10 or 12.5.");
    }
    let limit = optional_number(&mut errors, "download_limit", &values.download_limit);
    let expiry = optional_number(
        &mut errors,
        "download_expiry_days",
        &values.download_expiry_days,
    );
    let countries: Vec<String> = values
        .allowed_shipping_countries
        .split(',')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    if let (Ok(fee), true) = (fee, errors.is_empty()) {
        let result = site
            .services
            .site_admin
            .update_site_config(
                actor,
                fee,
                values.currency.trim(),
                &countries,
                values.dispute_fee_to_sellers.is_some(),
                DownloadPolicy {
                    limit,
                    expiry_days: expiry,
                },
            )
            .await;
        match result {
            Ok(saved) => {
                return Ok(visitor.redirect_with_notice(
                    "/admin/site-config",
                    &format!(
                        "Settings saved. The fee is now {}.",
                        format::percent(saved.fee.get())
                    ),
                ));
            }
            Err(error) => match (field_errors(&error), refusal(&error)) {
                (Some(fields), _) => errors = fields,
                (None, Some(message)) => errors.add("form", message),
                (None, None) => return Err(WebError::from_use_case(&error)),
            },
        }
    }
    Ok(site_page(
        &visitor,
        &values,
        &errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

/// `GET /admin/categories`: every category, with forms to add and change them.
#[handler]
pub async fn categories(visitor: Visitor, site: Data<&Site>) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/categories")?;
    let all = site.services.category_admin.all(actor).await.or_page()?;
    let roots: Vec<_> = all.iter().filter(|c| c.parent_id.is_none()).collect();
    let content = html! {
        h1 { "Categories" }
        (admin_nav())
        div.table-wrap { table {
            thead { tr { th scope="col" { "Name" } th scope="col" { "Tree" } th.num scope="col" { "Order" } th scope="col" { "Visible" } th scope="col" { "Change" } } }
            tbody { @for c in &all {
                tr {
                    td { @if c.parent_id.is_some() { "— " } (c.name) }
                    td { @match c.category_type { CategoryType::Model => "Models", CategoryType::File => "Files" } }
                    td.num { (c.sort_order) }
                    td { @if c.is_active { "Yes" } @else { "No" } }
                    td {
                        form.inline method="post" action={"/admin/categories/" (c.id)} {
                            (visitor.csrf_field())
                            label.visually-hidden for={"name-" (c.id)} { "New name for " (c.name) }
                            input.qty-input id={"name-" (c.id)} type="text" name="name" value=(c.name) required;
                            " "
                            input type="hidden" name="is_active" value=(if c.is_active { "false" } else { "true" });
                            button.link type="submit" name="save" value="rename" { "Rename" span.visually-hidden { " " (c.name) } }
                            " · "
                            button.link type="submit" name="save" value="toggle" { @if c.is_active { "Hide" } @else { "Show" } span.visually-hidden { " " (c.name) } }
                        }
                        " · "
                        form.inline method="post" action={"/admin/categories/" (c.id) "/delete"} {
                            (visitor.csrf_field())
                            button.link type="submit" { "Delete" span.visually-hidden { " " (c.name) } }
                        }
                    }
                }
            } }
        } }
        h2 { "Add a category" }
        div.form-card {
            form method="post" action="/admin/categories" {
                (visitor.csrf_field())
                div.field {
                    label for="f-type" { "Tree" }
                    select #f-type name="category_type" { option value="MODEL" { "3D models" } option value="FILE" { "3D files" } }
                }
                (Input::text("name", "Name", "").required().render(&FieldErrors::default()))
                div.field {
                    label for="f-parent" { "Inside" }
                    select #f-parent name="parent_id" {
                        option value="" { "Nothing (a top category)" }
                        @for root in &roots { option value=(root.id) { (root.name) } }
                    }
                }
                button type="submit" { "Add" }
            }
        }
    };
    Ok(render(&visitor, "Categories", content))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CategoryForm {
    category_type: String,
    name: String,
    parent_id: String,
    is_active: String,
    save: String,
}

fn category_type(text: &str) -> Option<CategoryType> {
    match text {
        "MODEL" => Some(CategoryType::Model),
        "FILE" => Some(CategoryType::File),
        _ => None,
    }
}

/// `POST /admin/categories`.
#[handler]
pub async fn create_category(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let values: CategoryForm = form::read(&visitor, &body)?;
    let actor = require_staff(&visitor, "/admin/categories")?;
    let kind = category_type(&values.category_type)
        .ok_or_else(|| WebError::BadRequest("Choose a tree.".to_owned()))?;
    let parent = form::optional_choice(
        Some(&values.parent_id),
        |id| Uuid::parse_str(id).ok().map(CategoryId::from_uuid),
        "Choose a parent.",
    )?;
    let result = site
        .services
        .category_admin
        .create(
            actor,
            NewCategory {
                category_type: kind,
                name: values.name,
                slug: None,
                parent_id: parent,
                description: None,
                is_active: Some(true),
                sort_order: None,
            },
        )
        .await;
    visitor.after("/admin/categories", result, "Category added.")
}

fn category_id(text: &str) -> Result<CategoryId, WebError> {
    form::path_id(text).map(CategoryId::from_uuid)
}

/// `POST /admin/categories/{id}`: rename, or show/hide.
#[handler]
pub async fn update_category(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let values: CategoryForm = form::read(&visitor, &body)?;
    let id = category_id(&id)?;
    let actor = require_staff(&visitor, "/admin/categories")?;
    let changes = if values.save == "toggle" {
        CategoryChanges {
            is_active: Some(values.is_active == "true"),
            ..CategoryChanges::default()
        }
    } else {
        CategoryChanges {
            name: Some(values.name),
            ..CategoryChanges::default()
        }
    };
    let result = site
        .services
        .category_admin
        .update(actor, id, changes)
        .await;
    visitor.after("/admin/categories", result, "Category changed.")
}
/// `POST /admin/categories/{id}/delete`: refused while listings use it.
#[handler]
pub async fn delete_category(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let _: NoteForm = form::read(&visitor, &body)?;
    let id = category_id(&id)?;
    let actor = require_staff(&visitor, "/admin/categories")?;
    let result = site.services.category_admin.delete(actor, id).await;
    visitor.after("/admin/categories", result, "Category deleted.")
}
