//! Accounts: users with their profiles, login sessions and failed-login records.

use async_trait::async_trait;
use marketplace_domain::accounts::{ProfileChanges, Roles};
use marketplace_domain::ids::{BlobId, SessionId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::{
    AccountQueries, NewUser, Profile, RoleStore, SessionRecord, SessionStore, StoreError,
    UserDirectory, UserRecord, UserStore,
};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{found, store_error};
use crate::paging;
use crate::{PgStore, TxConn};

/// Failed logins older than this are forgotten when new ones are recorded.
const FAILURE_RETENTION: time::Duration = time::Duration::days(1);

/// A user and the role flags kept on their profile.
struct UserRow {
    id: Uuid,
    username: String,
    email: String,
    password_hash: String,
    is_staff: bool,
    is_superuser: bool,
    is_active: bool,
    created_at: OffsetDateTime,
    is_owner: bool,
    is_seller: bool,
}

impl From<UserRow> for UserRecord {
    fn from(row: UserRow) -> Self {
        UserRecord {
            id: UserId::from_uuid(row.id),
            username: row.username,
            email: row.email,
            password_hash: row.password_hash,
            roles: Roles {
                is_staff: row.is_staff,
                is_superuser: row.is_superuser,
                is_owner: row.is_owner,
                is_seller: row.is_seller,
            },
            is_active: row.is_active,
            created_at: row.created_at,
        }
    }
}

struct ProfileRow {
    first_name: String,
    last_name: String,
    shop_name: String,
    email: String,
    phone_1: String,
    phone_2: String,
    address_1: String,
    address_2: String,
    city: String,
    state: String,
    zip_code: String,
    avatar_blob_id: Option<Uuid>,
}

impl From<ProfileRow> for Profile {
    fn from(row: ProfileRow) -> Self {
        Profile {
            first_name: row.first_name,
            last_name: row.last_name,
            shop_name: row.shop_name,
            email: row.email,
            phone_1: row.phone_1,
            phone_2: row.phone_2,
            address_1: row.address_1,
            address_2: row.address_2,
            city: row.city,
            state: row.state,
            zip_code: row.zip_code,
            avatar: row.avatar_blob_id.map(BlobId::from_uuid),
        }
    }
}

async fn insert_user(conn: &mut PgConnection, user: &NewUser) -> Result<(), StoreError> {
    sqlx::query!(
        "insert into users (id, username, email, password_hash, is_staff, is_superuser, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
        user.id.get(),
        user.username,
        user.email,
        user.password_hash,
        user.roles.is_staff,
        user.roles.is_superuser,
        user.created_at,
    )
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    sqlx::query!(
        "insert into profiles (user_id, email, is_seller, is_owner, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $5)",
        user.id.get(),
        user.email,
        user.roles.is_seller,
        user.roles.is_owner,
        user.created_at,
    )
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

async fn get_user(conn: &mut PgConnection, id: UserId) -> Result<Option<UserRecord>, StoreError> {
    let row = sqlx::query_as!(
        UserRow,
        "select u.id, u.username, u.email, u.password_hash, u.is_staff, u.is_superuser, u.is_active,
                u.created_at, p.is_owner, p.is_seller
         from users u join profiles p on p.user_id = u.id where u.id = $1",
        id.get()
    )
    .fetch_optional(conn)
    .await
    .map_err(store_error)?;
    Ok(row.map(UserRecord::from))
}

async fn get_user_by_username(
    conn: &mut PgConnection,
    username: &str,
) -> Result<Option<UserRecord>, StoreError> {
    let row = sqlx::query_as!(
        UserRow,
        "select u.id, u.username, u.email, u.password_hash, u.is_staff, u.is_superuser, u.is_active,
                u.created_at, p.is_owner, p.is_seller
         from users u join profiles p on p.user_id = u.id where lower(u.username) = lower($1)",
        username
    )
    .fetch_optional(conn)
    .await
    .map_err(store_error)?;
    Ok(row.map(UserRecord::from))
}

async fn get_profile(conn: &mut PgConnection, id: UserId) -> Result<Option<Profile>, StoreError> {
    let row = sqlx::query_as!(
        ProfileRow,
        "select first_name, last_name, shop_name, email, phone_1, phone_2, address_1, address_2,
                city, state, zip_code, avatar_blob_id
         from profiles where user_id = $1",
        id.get()
    )
    .fetch_optional(conn)
    .await
    .map_err(store_error)?;
    Ok(row.map(Profile::from))
}

async fn update_profile(
    conn: &mut PgConnection,
    id: UserId,
    changes: &ProfileChanges,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let result = sqlx::query!(
        "update profiles set
            first_name = coalesce($2, first_name),
            last_name = coalesce($3, last_name),
            shop_name = coalesce($4, shop_name),
            email = coalesce($5, email),
            phone_1 = coalesce($6, phone_1),
            phone_2 = coalesce($7, phone_2),
            address_1 = coalesce($8, address_1),
            address_2 = coalesce($9, address_2),
            city = coalesce($10, city),
            state = coalesce($11, state),
            zip_code = coalesce($12, zip_code),
            is_seller = coalesce($13, is_seller),
            updated_at = $14
         where user_id = $1",
        id.get(),
        changes.first_name.as_deref(),
        changes.last_name.as_deref(),
        changes.shop_name.as_deref(),
        changes.email.as_deref(),
        changes.phone_1.as_deref(),
        changes.phone_2.as_deref(),
        changes.address_1.as_deref(),
        changes.address_2.as_deref(),
        changes.city.as_deref(),
        changes.state.as_deref(),
        changes.zip_code.as_deref(),
        changes.is_seller,
        now,
    )
    .execute(conn)
    .await
    .map_err(store_error)?;
    found(result.rows_affected())
}

async fn set_avatar(
    conn: &mut PgConnection,
    id: UserId,
    avatar: Option<BlobId>,
    now: OffsetDateTime,
) -> Result<Option<BlobId>, StoreError> {
    // Read the previous value under the row lock, then replace it.
    let previous = sqlx::query_scalar!(
        "select avatar_blob_id from profiles where user_id = $1 for update",
        id.get()
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(store_error)?
    .ok_or(StoreError::NotFound)?;
    sqlx::query!(
        "update profiles set avatar_blob_id = $2, updated_at = $3 where user_id = $1",
        id.get(),
        avatar.map(BlobId::get),
        now,
    )
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(previous.map(BlobId::from_uuid))
}

/// The users of one transaction.
pub(crate) struct PgUsers(pub(crate) TxConn);

#[async_trait]
impl UserStore for PgUsers {
    async fn insert_user(&mut self, user: &NewUser) -> Result<(), StoreError> {
        insert_user(&mut *self.0.lock().await, user).await
    }
    async fn get_user(&mut self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        get_user(&mut *self.0.lock().await, id).await
    }
    async fn get_user_by_username(
        &mut self,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        get_user_by_username(&mut *self.0.lock().await, username).await
    }
    async fn get_profile(&mut self, id: UserId) -> Result<Option<Profile>, StoreError> {
        get_profile(&mut *self.0.lock().await, id).await
    }
    async fn update_profile(
        &mut self,
        id: UserId,
        changes: &ProfileChanges,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        update_profile(&mut *self.0.lock().await, id, changes, now).await
    }
    async fn set_avatar(
        &mut self,
        id: UserId,
        avatar: Option<BlobId>,
        now: OffsetDateTime,
    ) -> Result<Option<BlobId>, StoreError> {
        set_avatar(&mut *self.0.lock().await, id, avatar, now).await
    }
}

/// The sessions of one transaction.
pub(crate) struct PgSessions(pub(crate) TxConn);

#[async_trait]
impl SessionStore for PgSessions {
    async fn insert_session(&mut self, session: &SessionRecord) -> Result<(), StoreError> {
        let mut tx = self.0.lock().await;
        // Opportunistic cleanup of the user's dead sessions keeps the table small without a
        // sweeper.
        sqlx::query!(
            "delete from sessions where user_id = $1 and expires_at < $2",
            session.user_id.get(),
            session.created_at,
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        sqlx::query!(
            "insert into sessions (id, user_id, token_digest, csrf_token, created_at, expires_at)
             values ($1, $2, $3, $4, $5, $6)",
            session.id.get(),
            session.user_id.get(),
            session.token_digest,
            session.csrf_token,
            session.created_at,
            session.expires_at,
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn delete_session(&mut self, token_digest: &str) -> Result<(), StoreError> {
        sqlx::query!("delete from sessions where token_digest = $1", token_digest)
            .execute(&mut **self.0.lock().await)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn record_login_failure(
        &mut self,
        key: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.0.lock().await;
        sqlx::query!(
            "delete from login_failures where failed_at < $1",
            at - FAILURE_RETENTION
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        sqlx::query!(
            "insert into login_failures (key, failed_at) values ($1, $2)",
            key,
            at
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn count_login_failures(
        &mut self,
        key: &str,
        since: OffsetDateTime,
    ) -> Result<u32, StoreError> {
        let count = sqlx::query_scalar!(
            r#"select count(*) as "count!" from login_failures where key = $1 and failed_at >= $2"#,
            key,
            since
        )
        .fetch_one(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn clear_login_failures(&mut self, key: &str) -> Result<(), StoreError> {
        sqlx::query!("delete from login_failures where key = $1", key)
            .execute(&mut **self.0.lock().await)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

#[async_trait]
impl AccountQueries for PgStore {
    async fn session_user(
        &self,
        token_digest: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        let row = sqlx::query!(
            "select s.id as session_id, s.user_id as session_user_id, s.token_digest, s.csrf_token,
                    s.created_at as session_created_at, s.expires_at,
                    u.id, u.username, u.email, u.password_hash, u.is_staff, u.is_superuser,
                    u.is_active, u.created_at, p.is_owner, p.is_seller
             from sessions s
             join users u on u.id = s.user_id
             join profiles p on p.user_id = u.id
             where s.token_digest = $1 and s.expires_at > $2",
            token_digest,
            now
        )
        .fetch_optional(&self.pool)
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
            let user = UserRow {
                id: row.id,
                username: row.username,
                email: row.email,
                password_hash: row.password_hash,
                is_staff: row.is_staff,
                is_superuser: row.is_superuser,
                is_active: row.is_active,
                created_at: row.created_at,
                is_owner: row.is_owner,
                is_seller: row.is_seller,
            };
            (session, UserRecord::from(user))
        }))
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(store_error)?;
        get_user_by_username(&mut conn, username).await
    }

    async fn user_profile(&self, id: UserId) -> Result<Option<(UserRecord, Profile)>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(store_error)?;
        let Some(user) = get_user(&mut conn, id).await? else {
            return Ok(None);
        };
        Ok(get_profile(&mut conn, id)
            .await?
            .map(|profile| (user, profile)))
    }
}

/// Role changes of one transaction.
pub(crate) struct PgRoles(pub(crate) TxConn);

#[async_trait]
impl RoleStore for PgRoles {
    async fn set_roles(
        &mut self,
        user: UserId,
        is_seller: bool,
        is_staff: bool,
    ) -> Result<bool, StoreError> {
        let mut conn = self.0.lock().await;
        let staff = sqlx::query!(
            "update users set is_staff = $2 where id = $1",
            user.get(),
            is_staff
        )
        .execute(&mut **conn)
        .await
        .map_err(store_error)?;
        sqlx::query!(
            "update profiles set is_seller = $2 where user_id = $1",
            user.get(),
            is_seller
        )
        .execute(&mut **conn)
        .await
        .map_err(store_error)?;
        Ok(staff.rows_affected() > 0)
    }
}

#[async_trait]
impl UserDirectory for PgStore {
    async fn search_users(
        &self,
        text: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<UserRecord>, StoreError> {
        let pattern = text.map(crate::listings::like_pattern);
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from users u
               where $1::text is null or u.username ilike $1 or u.email ilike $1"#,
            pattern,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        let rows = sqlx::query_as!(
            UserRow,
            "select u.id, u.username, u.email, u.password_hash, u.is_staff, u.is_superuser,
                    u.is_active, u.created_at, p.is_owner, p.is_seller
             from users u join profiles p on p.user_id = u.id
             where $1::text is null or u.username ilike $1 or u.email ilike $1
             order by u.created_at desc, u.id desc limit $2 offset $3",
            pattern,
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(paging::page_of(
            rows.into_iter().map(UserRecord::from).collect(),
            page,
            total,
        ))
    }
}
