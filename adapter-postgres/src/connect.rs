//! Sellers' Stripe Connect account rows.

use marketplace_domain::connect::ConnectStatus;
use marketplace_domain::ids::UserId;
use marketplace_ports::ports::{ConnectAccountRecord, StoreError};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{found, store_error};

#[derive(sqlx::FromRow)]
struct ConnectRow {
    user_id: Uuid,
    stripe_account_id: Option<String>,
    details_submitted: bool,
    charges_enabled: bool,
    payouts_enabled: bool,
    onboarding_started_at: Option<OffsetDateTime>,
    onboarding_completed_at: Option<OffsetDateTime>,
    status_event_at: Option<OffsetDateTime>,
    synced_at: Option<OffsetDateTime>,
    updated_at: OffsetDateTime,
}

impl From<ConnectRow> for ConnectAccountRecord {
    fn from(row: ConnectRow) -> Self {
        ConnectAccountRecord {
            user_id: UserId::from_uuid(row.user_id),
            status: ConnectStatus {
                stripe_account_id: row.stripe_account_id,
                details_submitted: row.details_submitted,
                charges_enabled: row.charges_enabled,
                payouts_enabled: row.payouts_enabled,
            },
            onboarding_started_at: row.onboarding_started_at,
            onboarding_completed_at: row.onboarding_completed_at,
            status_event_at: row.status_event_at,
            synced_at: row.synced_at,
            updated_at: row.updated_at,
        }
    }
}

const COLUMNS: &str = "user_id, stripe_account_id, details_submitted, charges_enabled, payouts_enabled, \
     onboarding_started_at, onboarding_completed_at, status_event_at, synced_at, updated_at";

pub(crate) async fn get_connect(
    conn: &mut PgConnection,
    user: UserId,
    for_update: bool,
) -> Result<Option<ConnectAccountRecord>, StoreError> {
    let lock = if for_update { " for update" } else { "" };
    let sql = format!("select {COLUMNS} from seller_connect_accounts where user_id = $1{lock}");
    let row: Option<ConnectRow> = sqlx::query_as(&sql)
        .bind(user.get())
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    Ok(row.map(ConnectAccountRecord::from))
}

pub(crate) async fn find_connect_by_account(
    conn: &mut PgConnection,
    account: &str,
) -> Result<Option<ConnectAccountRecord>, StoreError> {
    let sql = format!(
        "select {COLUMNS} from seller_connect_accounts where stripe_account_id = $1 for update"
    );
    let row: Option<ConnectRow> = sqlx::query_as(&sql)
        .bind(account)
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    Ok(row.map(ConnectAccountRecord::from))
}

pub(crate) async fn insert_connect(
    conn: &mut PgConnection,
    record: &ConnectAccountRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into seller_connect_accounts (user_id, stripe_account_id, details_submitted, charges_enabled,
            payouts_enabled, onboarding_started_at, onboarding_completed_at, status_event_at, synced_at, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $9, $10, $8, $8)",
    )
    .bind(record.user_id.get())
    .bind(&record.status.stripe_account_id)
    .bind(record.status.details_submitted)
    .bind(record.status.charges_enabled)
    .bind(record.status.payouts_enabled)
    .bind(record.onboarding_started_at)
    .bind(record.onboarding_completed_at)
    .bind(record.updated_at)
    .bind(record.status_event_at)
    .bind(record.synced_at)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn update_connect(
    conn: &mut PgConnection,
    record: &ConnectAccountRecord,
) -> Result<(), StoreError> {
    let result = sqlx::query(
        "update seller_connect_accounts set stripe_account_id = $2, details_submitted = $3, charges_enabled = $4,
            payouts_enabled = $5, onboarding_started_at = $6, onboarding_completed_at = $7, updated_at = $8,
            status_event_at = $9, synced_at = $10
         where user_id = $1",
    )
    .bind(record.user_id.get())
    .bind(&record.status.stripe_account_id)
    .bind(record.status.details_submitted)
    .bind(record.status.charges_enabled)
    .bind(record.status.payouts_enabled)
    .bind(record.onboarding_started_at)
    .bind(record.onboarding_completed_at)
    .bind(record.updated_at)
    .bind(record.status_event_at)
    .bind(record.synced_at)
    .execute(conn)
    .await
    .map_err(store_error)?;
    found(result.rows_affected())
}
