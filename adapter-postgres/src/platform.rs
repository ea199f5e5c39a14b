//! Webhook events, the mail outbox and the site configuration.

use marketplace_domain::ids::OrderId;
use marketplace_domain::money::{BasisPoints, Currency, FeePercent};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::site::SiteConfig;
use marketplace_ports::ports::{MailRecord, StoreError, WebhookEventRecord};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, store_error};
use crate::paging;

pub(crate) async fn record_webhook_event(
    conn: &mut PgConnection,
    event: &WebhookEventRecord,
) -> Result<bool, StoreError> {
    let inserted: Option<String> = sqlx::query_scalar(
        "insert into webhook_events (id, endpoint, event_type, created, outcome, received_at) values ($1, $2, $3, $4, $5, $6)
         on conflict (id) do nothing returning id",
    )
    .bind(&event.id)
    .bind(&event.endpoint)
    .bind(&event.event_type)
    .bind(event.created)
    .bind(&event.outcome)
    .bind(event.received_at)
    .fetch_optional(conn)
    .await
    .map_err(store_error)?;
    Ok(inserted.is_some())
}

pub(crate) async fn set_webhook_outcome(
    conn: &mut PgConnection,
    id: &str,
    outcome: &str,
) -> Result<(), StoreError> {
    sqlx::query("update webhook_events set outcome = $2 where id = $1")
        .bind(id)
        .bind(outcome)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn insert_mail(
    conn: &mut PgConnection,
    mail: &MailRecord,
) -> Result<(), StoreError> {
    // One mail per order: a job that runs twice writes it once.
    let dedupe = mail.order_id.map(|order| format!("order:{order}"));
    sqlx::query(
        "insert into outbox (id, to_address, subject, body, status, order_id, dedupe_key, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (dedupe_key) do nothing",
    )
    .bind(mail.id)
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.body)
    .bind(&mail.status)
    .bind(mail.order_id.map(OrderId::get))
    .bind(dedupe)
    .bind(mail.created_at)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn list_outbox(
    conn: &mut PgConnection,
    page: PageRequest,
) -> Result<Page<MailRecord>, StoreError> {
    let total: i64 = sqlx::query_scalar("select count(*) from outbox")
        .fetch_one(&mut *conn)
        .await
        .map_err(store_error)?;
    let rows: Vec<MailRow> = sqlx::query_as(
        "select id, to_address, subject, body, status, order_id, created_at from outbox
         order by created_at desc, id desc limit $1 offset $2",
    )
    .bind(paging::limit(page))
    .bind(paging::offset(page))
    .fetch_all(conn)
    .await
    .map_err(store_error)?;
    let items = rows
        .into_iter()
        .map(|row| MailRecord {
            id: row.id,
            to: row.to_address,
            subject: row.subject,
            body: row.body,
            status: row.status,
            order_id: row.order_id.map(OrderId::from_uuid),
            created_at: row.created_at,
        })
        .collect();
    Ok(paging::page_of(items, page, total))
}

pub(crate) async fn site_config(conn: &mut PgConnection) -> Result<SiteConfig, StoreError> {
    let (fee_bps, currency, countries): (i32, String, Vec<String>) = sqlx::query_as(
        "select fee_bps, currency, allowed_shipping_countries from site_config where id",
    )
    .fetch_one(conn)
    .await
    .map_err(store_error)?;
    Ok(SiteConfig {
        fee: FeePercent::from_basis_points(
            BasisPoints::from_stored(i64::from(fee_bps)).map_err(|e| corrupt("site config", e))?,
        ),
        currency: Currency::parse(&currency).map_err(|e| corrupt("site config", e))?,
        allowed_shipping_countries: countries,
    })
}

pub(crate) async fn update_site_config(
    conn: &mut PgConnection,
    config: &SiteConfig,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("update site_config set fee_bps = $1, currency = $2, allowed_shipping_countries = $3, updated_at = $4 where id")
        .bind(i32::try_from(config.fee.basis_points().get()).unwrap_or(0))
        .bind(config.currency.as_str())
        .bind(&config.allowed_shipping_countries)
        .bind(now)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// One outbox row.
#[derive(sqlx::FromRow)]
struct MailRow {
    id: Uuid,
    to_address: String,
    subject: String,
    body: String,
    status: String,
    order_id: Option<Uuid>,
    created_at: OffsetDateTime,
}
