//! Sessions and failed-login records.

use marketplace_domain::ids::{SessionId, UserId};
use marketplace_ports::ports::{SessionRecord, StoreError, UserRecord};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::store_error;
use crate::users::{USER_COLUMNS, UserRow};

/// Failed logins older than this are deleted as new ones arrive; the throttle window is far shorter.
const FAILURE_RETENTION: time::Duration = time::Duration::days(1);

pub(crate) async fn insert_session(
    conn: &mut PgConnection,
    session: &SessionRecord,
) -> Result<(), StoreError> {
    // Opportunistic cleanup of the user's dead sessions keeps the table small without a sweeper.
    sqlx::query("delete from sessions where user_id = $1 and expires_at < $2")
        .bind(session.user_id.get())
        .bind(session.created_at)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    sqlx::query(
        "insert into sessions (id, user_id, token_digest, csrf_token, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(session.id.get())
    .bind(session.user_id.get())
    .bind(&session.token_digest)
    .bind(&session.csrf_token)
    .bind(session.created_at)
    .bind(session.expires_at)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn delete_session(
    conn: &mut PgConnection,
    token_digest: &str,
) -> Result<(), StoreError> {
    sqlx::query("delete from sessions where token_digest = $1")
        .bind(token_digest)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn record_login_failure(
    conn: &mut PgConnection,
    key: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("delete from login_failures where failed_at < $1")
        .bind(at - FAILURE_RETENTION)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    sqlx::query("insert into login_failures (key, failed_at) values ($1, $2)")
        .bind(key)
        .bind(at)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn count_login_failures(
    conn: &mut PgConnection,
    key: &str,
    since: OffsetDateTime,
) -> Result<u32, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "select count(*) from login_failures where key = $1 and failed_at >= $2",
    )
    .bind(key)
    .bind(since)
    .fetch_one(conn)
    .await
    .map_err(store_error)?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

pub(crate) async fn clear_login_failures(
    conn: &mut PgConnection,
    key: &str,
) -> Result<(), StoreError> {
    sqlx::query("delete from login_failures where key = $1")
        .bind(key)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    session_id: Uuid,
    session_user_id: Uuid,
    token_digest: String,
    csrf_token: String,
    session_created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    #[sqlx(flatten)]
    user: UserRow,
}

pub(crate) async fn session_user(
    conn: &mut PgConnection,
    token_digest: &str,
    now: OffsetDateTime,
) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
    let sql = format!(
        "select s.id as session_id, s.user_id as session_user_id, s.token_digest, s.csrf_token,
                s.created_at as session_created_at, s.expires_at, {USER_COLUMNS}
         from sessions s
         join users u on u.id = s.user_id
         join profiles p on p.user_id = u.id
         where s.token_digest = $1 and s.expires_at > $2"
    );
    let row: Option<SessionRow> = sqlx::query_as(&sql)
        .bind(token_digest)
        .bind(now)
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    Ok(row.map(|row| {
        let session = SessionRecord {
            id: SessionId::from_uuid(row.session_id),
            user_id: UserId::from_uuid(row.session_user_id),
            token_digest: row.token_digest,
            csrf_token: row.csrf_token,
            created_at: row.session_created_at,
            expires_at: row.expires_at,
        };
        (session, UserRecord::from(row.user))
    }))
}
