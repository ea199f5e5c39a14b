//! Accounts: users and their profiles, login sessions and failed-login records.

use async_trait::async_trait;
use marketplace_domain::accounts::{ProfileChanges, Roles};
use marketplace_domain::ids::{BlobId, SessionId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// A user account as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// Id.
    pub id: UserId,
    /// Username as entered (unique case-insensitively).
    pub username: String,
    /// Account e-mail (may be empty).
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role flags.
    pub roles: Roles,
    /// Inactive accounts cannot log in.
    pub is_active: bool,
    /// Registration time.
    pub created_at: OffsetDateTime,
}

/// A new account with its (empty) profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    /// Id.
    pub id: UserId,
    /// Username.
    pub username: String,
    /// E-mail (may be empty).
    pub email: String,
    /// argon2id hash.
    pub password_hash: String,
    /// Role flags.
    pub roles: Roles,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// The marketplace profile of a user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Public seller label (empty → username).
    pub shop_name: String,
    /// Contact e-mail.
    pub email: String,
    /// First phone.
    pub phone_1: String,
    /// Second phone.
    pub phone_2: String,
    /// Address line 1.
    pub address_1: String,
    /// Address line 2.
    pub address_2: String,
    /// City.
    pub city: String,
    /// US state code.
    pub state: String,
    /// ZIP code.
    pub zip_code: String,
    /// Avatar image, if uploaded.
    pub avatar: Option<BlobId>,
}

/// A login session. The token itself is never stored, only its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// Id.
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// Digest of the bearer/cookie token.
    pub token_digest: String,
    /// The synchronizer token cookie-authenticated writes must echo in `X-CSRF-Token`.
    pub csrf_token: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// After this the session is dead.
    pub expires_at: OffsetDateTime,
}

/// Users and their profiles, inside a transaction.
#[async_trait]
pub trait UserStore: Send {
    /// Inserts a user and an empty profile seeded with the e-mail.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `users_username_lower_key` when the name is taken (any case).
    async fn insert_user(&mut self, user: &NewUser) -> Result<(), StoreError>;
    /// A user by id.
    async fn get_user(&mut self, id: UserId) -> Result<Option<UserRecord>, StoreError>;
    /// A user by username, case-insensitively.
    async fn get_user_by_username(
        &mut self,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError>;
    /// The profile of a user.
    async fn get_profile(&mut self, id: UserId) -> Result<Option<Profile>, StoreError>;
    /// Applies validated profile changes (and the seller opt-in) in one write.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the user does not exist.
    async fn update_profile(
        &mut self,
        id: UserId,
        changes: &ProfileChanges,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Replaces the avatar; returns the previous blob so the caller can delete it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the user does not exist.
    async fn set_avatar(
        &mut self,
        id: UserId,
        avatar: Option<BlobId>,
        now: OffsetDateTime,
    ) -> Result<Option<BlobId>, StoreError>;
}

/// Granting and revoking roles, inside a transaction.
#[async_trait]
pub trait RoleStore: Send {
    /// Sets a user's seller and staff flags (owners' and superusers' flags are left alone);
    /// returns whether the user exists.
    async fn set_roles(
        &mut self,
        user: UserId,
        is_seller: bool,
        is_staff: bool,
    ) -> Result<bool, StoreError>;
}

/// Users as owners look them up.
#[async_trait]
pub trait UserDirectory: Send + Sync {
    /// Users whose username or e-mail contains `text` (case-insensitively; every user without
    /// it), newest first.
    async fn search_users(
        &self,
        text: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<UserRecord>, StoreError>;
}

/// Sessions and login throttling, inside a transaction.
#[async_trait]
pub trait SessionStore: Send {
    /// Stores a new session.
    async fn insert_session(&mut self, session: &SessionRecord) -> Result<(), StoreError>;
    /// Deletes the session with this token digest (logout). Missing is fine.
    async fn delete_session(&mut self, token_digest: &str) -> Result<(), StoreError>;
    /// Records a failed login under a throttle key (`user:<name>` or `ip:<addr>`).
    async fn record_login_failure(
        &mut self,
        key: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Failed logins under `key` since `since`.
    async fn count_login_failures(
        &mut self,
        key: &str,
        since: OffsetDateTime,
    ) -> Result<u32, StoreError>;
    /// Forgets failures under `key` (after a successful login).
    async fn clear_login_failures(&mut self, key: &str) -> Result<(), StoreError>;
}

/// Account reads.
#[async_trait]
pub trait AccountQueries: Send + Sync {
    /// The session with this token digest and its user, when not expired at `now`.
    async fn session_user(
        &self,
        token_digest: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError>;
    /// A user by username, case-insensitively.
    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError>;
    /// A user and their profile.
    async fn user_profile(&self, id: UserId) -> Result<Option<(UserRecord, Profile)>, StoreError>;
}

impl dyn Tx + '_ {
    /// The role changes of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn roles(&mut self) -> Result<&mut (dyn RoleStore + 'static), StoreError> {
        self.store()
    }

    /// The users of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn users(&mut self) -> Result<&mut (dyn UserStore + 'static), StoreError> {
        self.store()
    }

    /// The sessions of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn sessions(&mut self) -> Result<&mut (dyn SessionStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// The user directory.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn users(&self) -> Result<&dyn UserDirectory, StoreError> {
        self.get()
    }

    /// Account reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn accounts(&self) -> Result<&dyn AccountQueries, StoreError> {
        self.get()
    }
}
