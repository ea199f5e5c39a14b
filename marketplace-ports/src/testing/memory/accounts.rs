//! Users, profiles, sessions and failed logins, in memory.

use async_trait::async_trait;
use marketplace_domain::accounts::ProfileChanges;
use marketplace_domain::ids::{BlobId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;

use super::{MemoryStore, Working, conflict};
use crate::ports::{
    AccountQueries, NewUser, Profile, RoleStore, SessionRecord, SessionStore, StoreError,
    UserDirectory, UserRecord, UserStore,
};

/// Failed logins older than this are forgotten when new ones are recorded.
const FAILURE_RETENTION: time::Duration = time::Duration::days(1);

pub(crate) struct MemUsers(pub(crate) Working);

fn by_name<'a>(users: impl Iterator<Item = &'a UserRecord>, name: &str) -> Option<UserRecord> {
    let name = name.to_lowercase();
    users
        .into_iter()
        .find(|u| u.username.to_lowercase() == name)
        .cloned()
}

#[async_trait]
impl UserStore for MemUsers {
    async fn insert_user(&mut self, user: &NewUser) -> Result<(), StoreError> {
        let mut s = self.0.state("users.insert_user")?;
        if by_name(s.users.values(), &user.username).is_some() {
            return Err(conflict("users_username_lower_key"));
        }
        s.users.insert(
            user.id,
            UserRecord {
                id: user.id,
                username: user.username.clone(),
                email: user.email.clone(),
                password_hash: user.password_hash.clone(),
                roles: user.roles,
                is_active: true,
                created_at: user.created_at,
            },
        );
        s.profiles.insert(
            user.id,
            Profile {
                email: user.email.clone(),
                ..Profile::default()
            },
        );
        Ok(())
    }

    async fn get_user(&mut self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.0.state("users.get_user")?.users.get(&id).cloned())
    }

    async fn get_user_by_username(
        &mut self,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let s = self.0.state("users.get_user_by_username")?;
        Ok(by_name(s.users.values(), username))
    }

    async fn get_profile(&mut self, id: UserId) -> Result<Option<Profile>, StoreError> {
        Ok(self
            .0
            .state("users.get_profile")?
            .profiles
            .get(&id)
            .cloned())
    }

    async fn update_profile(
        &mut self,
        id: UserId,
        changes: &ProfileChanges,
        _now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("users.update_profile")?;
        let seller = changes.is_seller;
        let profile = s.profiles.get_mut(&id).ok_or(StoreError::NotFound)?;
        let set = |slot: &mut String, value: &Option<String>| {
            if let Some(value) = value {
                slot.clone_from(value);
            }
        };
        set(&mut profile.first_name, &changes.first_name);
        set(&mut profile.last_name, &changes.last_name);
        set(&mut profile.shop_name, &changes.shop_name);
        set(&mut profile.email, &changes.email);
        set(&mut profile.phone_1, &changes.phone_1);
        set(&mut profile.phone_2, &changes.phone_2);
        set(&mut profile.address_1, &changes.address_1);
        set(&mut profile.address_2, &changes.address_2);
        set(&mut profile.city, &changes.city);
        set(&mut profile.state, &changes.state);
        set(&mut profile.zip_code, &changes.zip_code);
        if let (Some(is_seller), Some(user)) = (seller, s.users.get_mut(&id)) {
            user.roles.is_seller = is_seller;
        }
        Ok(())
    }

    async fn set_avatar(
        &mut self,
        id: UserId,
        avatar: Option<BlobId>,
        _now: OffsetDateTime,
    ) -> Result<Option<BlobId>, StoreError> {
        let mut s = self.0.state("users.set_avatar")?;
        let profile = s.profiles.get_mut(&id).ok_or(StoreError::NotFound)?;
        Ok(std::mem::replace(&mut profile.avatar, avatar))
    }
}

pub(crate) struct MemSessions(pub(crate) Working);

#[async_trait]
impl SessionStore for MemSessions {
    async fn insert_session(&mut self, session: &SessionRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("sessions.insert_session")?;
        s.sessions
            .retain(|old| !(old.user_id == session.user_id && old.expires_at < session.created_at));
        s.sessions.push(session.clone());
        Ok(())
    }

    async fn delete_session(&mut self, token_digest: &str) -> Result<(), StoreError> {
        let mut s = self.0.state("sessions.delete_session")?;
        s.sessions.retain(|old| old.token_digest != token_digest);
        Ok(())
    }

    async fn record_login_failure(
        &mut self,
        key: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("sessions.record_login_failure")?;
        s.login_failures
            .retain(|(_, failed_at)| *failed_at >= at - FAILURE_RETENTION);
        s.login_failures.push((key.to_owned(), at));
        Ok(())
    }

    async fn count_login_failures(
        &mut self,
        key: &str,
        since: OffsetDateTime,
    ) -> Result<u32, StoreError> {
        let s = self.0.state("sessions.count_login_failures")?;
        let count = s
            .login_failures
            .iter()
            .filter(|(k, at)| k == key && *at >= since)
            .count();
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn clear_login_failures(&mut self, key: &str) -> Result<(), StoreError> {
        let mut s = self.0.state("sessions.clear_login_failures")?;
        s.login_failures.retain(|(k, _)| k != key);
        Ok(())
    }
}

#[async_trait]
impl AccountQueries for MemoryStore {
    async fn session_user(
        &self,
        token_digest: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        let s = self.read("accounts.session_user")?;
        Ok(s.sessions
            .iter()
            .find(|session| session.token_digest == token_digest && session.expires_at > now)
            .and_then(|session| {
                s.users
                    .get(&session.user_id)
                    .map(|user| (session.clone(), user.clone()))
            }))
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let s = self.read("accounts.user_by_username")?;
        Ok(by_name(s.users.values(), username))
    }

    async fn user_profile(&self, id: UserId) -> Result<Option<(UserRecord, Profile)>, StoreError> {
        let s = self.read("accounts.user_profile")?;
        Ok(s.users
            .get(&id)
            .zip(s.profiles.get(&id))
            .map(|(user, profile)| (user.clone(), profile.clone())))
    }
}

pub(crate) struct MemRoles(pub(crate) Working);

#[async_trait]
impl RoleStore for MemRoles {
    async fn set_roles(
        &mut self,
        user: UserId,
        is_seller: bool,
        is_staff: bool,
    ) -> Result<bool, StoreError> {
        let mut s = self.0.state("roles.set_roles")?;
        let Some(record) = s.users.get_mut(&user) else {
            return Ok(false);
        };
        record.roles.is_seller = is_seller;
        record.roles.is_staff = is_staff;
        Ok(true)
    }
}

#[async_trait]
impl UserDirectory for MemoryStore {
    async fn search_users(
        &self,
        text: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<UserRecord>, StoreError> {
        let s = self.read("users.search_users")?;
        let needle = text.map(str::to_lowercase);
        let mut found: Vec<UserRecord> = s
            .users
            .values()
            .filter(|u| {
                needle.as_deref().is_none_or(|n| {
                    u.username.to_lowercase().contains(n) || u.email.to_lowercase().contains(n)
                })
            })
            .cloned()
            .collect();
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(super::listings::page_of(found, page))
    }
}
