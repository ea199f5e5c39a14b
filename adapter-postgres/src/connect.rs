//! Sellers' Stripe Connect account rows.

use async_trait::async_trait;
use marketplace_domain::connect::ConnectStatus;
use marketplace_domain::ids::UserId;
use marketplace_ports::ports::{ConnectAccountRecord, ConnectQueries, ConnectStore, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{found, store_error};
use crate::{PgStore, TxConn};

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

/// The Connect accounts of one transaction.
pub(crate) struct PgConnect(pub(crate) TxConn);

#[async_trait]
impl ConnectStore for PgConnect {
    async fn get_connect(
        &mut self,
        user: UserId,
    ) -> Result<Option<ConnectAccountRecord>, StoreError> {
        let row = sqlx::query_as!(
            ConnectRow,
            "select user_id, stripe_account_id, details_submitted, charges_enabled, payouts_enabled,
                    onboarding_started_at, onboarding_completed_at, status_event_at, synced_at, updated_at
             from seller_connect_accounts where user_id = $1",
            user.get()
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(row.map(ConnectAccountRecord::from))
    }

    async fn insert_connect(&mut self, record: &ConnectAccountRecord) -> Result<(), StoreError> {
        sqlx::query!(
            "insert into seller_connect_accounts (user_id, stripe_account_id, details_submitted,
                charges_enabled, payouts_enabled, onboarding_started_at, onboarding_completed_at,
                status_event_at, synced_at, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
            record.user_id.get(),
            record.status.stripe_account_id,
            record.status.details_submitted,
            record.status.charges_enabled,
            record.status.payouts_enabled,
            record.onboarding_started_at,
            record.onboarding_completed_at,
            record.status_event_at,
            record.synced_at,
            record.updated_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn update_connect(&mut self, record: &ConnectAccountRecord) -> Result<(), StoreError> {
        let result = sqlx::query!(
            "update seller_connect_accounts set stripe_account_id = $2, details_submitted = $3,
                charges_enabled = $4, payouts_enabled = $5, onboarding_started_at = $6,
                onboarding_completed_at = $7, status_event_at = $8, synced_at = $9, updated_at = $10
             where user_id = $1",
            record.user_id.get(),
            record.status.stripe_account_id,
            record.status.details_submitted,
            record.status.charges_enabled,
            record.status.payouts_enabled,
            record.onboarding_started_at,
            record.onboarding_completed_at,
            record.status_event_at,
            record.synced_at,
            record.updated_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        found(result.rows_affected())
    }

    async fn find_connect_by_account(
        &mut self,
        account_id: &str,
    ) -> Result<Option<ConnectAccountRecord>, StoreError> {
        let row = sqlx::query_as!(
            ConnectRow,
            "select user_id, stripe_account_id, details_submitted, charges_enabled, payouts_enabled,
                    onboarding_started_at, onboarding_completed_at, status_event_at, synced_at, updated_at
             from seller_connect_accounts where stripe_account_id = $1 for update",
            account_id
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(row.map(ConnectAccountRecord::from))
    }
}

#[async_trait]
impl ConnectQueries for PgStore {
    async fn connect_account(
        &self,
        seller: UserId,
    ) -> Result<Option<ConnectAccountRecord>, StoreError> {
        let row = sqlx::query_as!(
            ConnectRow,
            "select user_id, stripe_account_id, details_submitted, charges_enabled, payouts_enabled,
                    onboarding_started_at, onboarding_completed_at, status_event_at, synced_at, updated_at
             from seller_connect_accounts where user_id = $1",
            seller.get()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(row.map(ConnectAccountRecord::from))
    }
}
