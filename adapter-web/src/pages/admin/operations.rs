//! Background work: jobs, the mail outbox and received webhook events.

use super::*;

/// `GET /admin/jobs`: background work, with the dead ones to retry.
#[handler]
pub async fn jobs(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/jobs")?;
    let params: Params = form::query(request.uri().query())?;
    let status_text = params.status.clone().unwrap_or_default();
    let status = form::optional_choice(
        Some(&status_text),
        JobStatus::parse,
        "Choose an offered state.",
    )?;
    let page = form::page_request(params.page.as_deref(), 25)?;
    let found = site
        .services
        .job_admin
        .jobs(actor, status, page)
        .await
        .or_page()?;
    let content = html! {
        h1 { "Jobs" }
        (admin_nav())
        form.filters method="get" action="/admin/jobs" {
            div.field { label for="f-status" { "State" } select #f-status name="status" {
                option value="" { "Any" }
                @for s in JobStatus::ALL { option value=(s.as_str()) selected[status == Some(s)] { (s.as_str()) } }
            } }
            div { button type="submit" { "Show" } }
        }
        div.table-wrap { table {
            thead { tr { th scope="col" { "Kind" } th scope="col" { "Order" } th scope="col" { "State" } th.num scope="col" { "Attempts" } th scope="col" { "Next run" } th scope="col" { "Last error" } th scope="col" { "Action" } } }
            tbody { @for job in &found.items { tr {
                td { (job.kind.name().as_str().replace('_', " ")) }
                td { a href={"/admin/orders/" (job.kind.order())} { (short_id(job.kind.order())) } }
                td { (job.status.as_str()) }
                td.num { (job.attempts) " / " (job.max_attempts) }
                td { (format::time(job.run_at)) }
                td { (job.last_error.as_deref().unwrap_or("")) }
                td { @if job.status == JobStatus::Dead {
                    form method="post" action={"/admin/jobs/" (job.id) "/retry"} { (visitor.csrf_field()) button.link type="submit" { "Retry" span.visually-hidden { " the " (job.kind.name().as_str().replace('_', " ")) " job of order " (short_id(job.kind.order())) } } }
                } }
            } } }
        } }
        (pager(&found, &format!("/admin/jobs?status={}", encode(&status_text))))
    };
    Ok(render(&visitor, "Jobs", content))
}

/// `POST /admin/jobs/{id}/retry`.
#[handler]
pub async fn retry_job(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let _: NoteForm = form::read(&visitor, &body)?;
    let id = JobId::from_uuid(form::path_id(&id)?);
    let actor = require_staff(&visitor, "/admin/jobs")?;
    let result = site.services.job_admin.retry_job(actor, id).await;
    visitor.after("/admin/jobs", result, "The job is queued again.")
}

/// `GET /admin/outbox`: mail waiting or sent.
#[handler]
pub async fn outbox(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/outbox")?;
    let params: Params = form::query(request.uri().query())?;
    let page = form::page_request(params.page.as_deref(), 25)?;
    let mails = site
        .services
        .site_admin
        .outbox(actor, page)
        .await
        .or_page()?;
    let content = html! {
        h1 { "Outbox" }
        (admin_nav())
        div.table-wrap { table {
            thead { tr { th scope="col" { "To" } th scope="col" { "Subject" } th scope="col" { "State" } th scope="col" { "Queued" } } }
            tbody { @for m in &mails.items { tr {
                td { (m.to) } td { (m.subject) } td { (m.status.as_str()) } td { (format::time(m.created_at)) }
            } } }
        } }
        (pager(&mails, "/admin/outbox"))
    };
    Ok(render(&visitor, "Outbox", content))
}

/// `GET /admin/webhooks`: received Stripe events and their outcome.
#[handler]
pub async fn webhooks(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/webhooks")?;
    let params: Params = form::query(request.uri().query())?;
    let status_text = params.status.clone().unwrap_or_default();
    let status = form::optional_choice(
        Some(&status_text),
        WebhookStatus::parse,
        "Choose an offered state.",
    )?;
    let page = form::page_request(params.page.as_deref(), 25)?;
    let events = site
        .services
        .webhook_admin
        .webhook_events(actor, status, page)
        .await
        .or_page()?;
    let content = html! {
        h1 { "Webhook events" }
        (admin_nav())
        div.table-wrap { table {
            thead { tr { th scope="col" { "Event" } th scope="col" { "Type" } th scope="col" { "State" } th scope="col" { "Outcome" } th scope="col" { "Received" } th scope="col" { "Action" } } }
            tbody { @for e in &events.items { tr {
                td { code { (e.id) } } td { (e.event_type) } td { (e.status.as_str()) } td { (e.outcome) } td { (format::time(e.received_at)) }
                td { form method="post" action={"/admin/webhooks/" (e.id) "/process"} { (visitor.csrf_field()) button.link type="submit" { "Process again" span.visually-hidden { " " (e.id) } } } }
            } } }
        } }
        (pager(&events, &format!("/admin/webhooks?status={}", encode(&status_text))))
    };
    Ok(render(&visitor, "Webhook events", content))
}

/// `POST /admin/webhooks/{id}/process`: run a received event again (recorded as an owner action).
#[handler]
pub async fn process_webhook(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let _: NoteForm = form::read(&visitor, &body)?;
    let actor = require_staff(&visitor, "/admin/webhooks")?;
    let result = site.services.webhooks.process_again(actor, &id).await;
    visitor.after("/admin/webhooks", result, "The event was processed again.")
}
