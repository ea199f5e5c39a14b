//! Users, profiles and roles.

use marketplace_domain::account::{ProfileChanges, Roles};
use marketplace_domain::ids::{BlobId, UserId};
use marketplace_ports::ports::{NewUser, Profile, StoreError, UserRecord};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{found, store_error};

/// The columns of a user with its profile's role flags.
pub(crate) const USER_COLUMNS: &str = "u.id, u.username, u.email, u.password_hash, u.is_staff, \
     u.is_superuser, u.is_active, u.created_at, p.is_owner, p.is_seller";

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
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

#[derive(sqlx::FromRow)]
pub(crate) struct ProfileRow {
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

pub(crate) async fn insert_user(conn: &mut PgConnection, user: &NewUser) -> Result<(), StoreError> {
    sqlx::query(
        "insert into users (id, username, email, password_hash, is_staff, is_superuser, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(user.id.get())
    .bind(&user.username)
    .bind(&user.email)
    .bind(&user.password_hash)
    .bind(user.roles.is_staff)
    .bind(user.roles.is_superuser)
    .bind(user.created_at)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    sqlx::query(
        "insert into profiles (user_id, email, is_seller, is_owner, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $5)",
    )
    .bind(user.id.get())
    .bind(&user.email)
    .bind(user.roles.is_seller)
    .bind(user.roles.is_owner)
    .bind(user.created_at)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn get_user(
    conn: &mut PgConnection,
    id: UserId,
) -> Result<Option<UserRecord>, StoreError> {
    let sql = format!(
        "select {USER_COLUMNS} from users u join profiles p on p.user_id = u.id where u.id = $1"
    );
    let row: Option<UserRow> = sqlx::query_as(&sql)
        .bind(id.get())
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    Ok(row.map(UserRecord::from))
}

pub(crate) async fn get_user_by_username(
    conn: &mut PgConnection,
    username: &str,
) -> Result<Option<UserRecord>, StoreError> {
    let sql = format!(
        "select {USER_COLUMNS} from users u join profiles p on p.user_id = u.id where lower(u.username) = lower($1)"
    );
    let row: Option<UserRow> = sqlx::query_as(&sql)
        .bind(username)
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    Ok(row.map(UserRecord::from))
}

const PROFILE_COLUMNS: &str = "first_name, last_name, shop_name, email, phone_1, phone_2, address_1, \
     address_2, city, state, zip_code, avatar_blob_id";

pub(crate) async fn get_profile(
    conn: &mut PgConnection,
    id: UserId,
) -> Result<Option<Profile>, StoreError> {
    let sql = format!("select {PROFILE_COLUMNS} from profiles where user_id = $1");
    let row: Option<ProfileRow> = sqlx::query_as(&sql)
        .bind(id.get())
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    Ok(row.map(Profile::from))
}

pub(crate) async fn update_profile(
    conn: &mut PgConnection,
    id: UserId,
    changes: &ProfileChanges,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let result = sqlx::query(
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
    )
    .bind(id.get())
    .bind(&changes.first_name)
    .bind(&changes.last_name)
    .bind(&changes.shop_name)
    .bind(&changes.email)
    .bind(&changes.phone_1)
    .bind(&changes.phone_2)
    .bind(&changes.address_1)
    .bind(&changes.address_2)
    .bind(&changes.city)
    .bind(&changes.state)
    .bind(&changes.zip_code)
    .bind(changes.is_seller)
    .bind(now)
    .execute(conn)
    .await
    .map_err(store_error)?;
    found(result.rows_affected())
}

pub(crate) async fn set_avatar(
    conn: &mut PgConnection,
    id: UserId,
    avatar: Option<BlobId>,
    now: OffsetDateTime,
) -> Result<Option<BlobId>, StoreError> {
    // Read the previous value under the row lock, then replace it.
    let previous: Option<Option<Uuid>> =
        sqlx::query_scalar("select avatar_blob_id from profiles where user_id = $1 for update")
            .bind(id.get())
            .fetch_optional(&mut *conn)
            .await
            .map_err(store_error)?;
    let previous = previous.ok_or(StoreError::NotFound)?;
    sqlx::query("update profiles set avatar_blob_id = $2, updated_at = $3 where user_id = $1")
        .bind(id.get())
        .bind(avatar.map(BlobId::get))
        .bind(now)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(previous.map(BlobId::from_uuid))
}

pub(crate) async fn set_roles(
    conn: &mut PgConnection,
    id: UserId,
    roles: Roles,
) -> Result<(), StoreError> {
    let users = sqlx::query("update users set is_staff = $2, is_superuser = $3 where id = $1")
        .bind(id.get())
        .bind(roles.is_staff)
        .bind(roles.is_superuser)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    found(users.rows_affected())?;
    sqlx::query("update profiles set is_owner = $2, is_seller = $3 where user_id = $1")
        .bind(id.get())
        .bind(roles.is_owner)
        .bind(roles.is_seller)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn set_password_hash(
    conn: &mut PgConnection,
    id: UserId,
    hash: &str,
) -> Result<(), StoreError> {
    let result = sqlx::query("update users set password_hash = $2 where id = $1")
        .bind(id.get())
        .bind(hash)
        .execute(conn)
        .await
        .map_err(store_error)?;
    found(result.rows_affected())
}
