//! Owners: the user directory and granting or revoking the seller and staff roles. A change takes
//! effect at once (every request reads the user's roles afresh, existing sessions included) and
//! goes to the audit log.

use marketplace_domain::ids::UserId;
use marketplace_domain::moderation::staff_note;
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::validation::FieldErrors;

use super::is_owner;
use crate::ports::{AuditEntry, StoreError, UserRecord};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// The longest text users are searched by.
pub const MAX_USER_SEARCH: usize = 150;

/// Why a user tool failed.
#[derive(Debug, thiserror::Error)]
pub enum UserAdminError {
    /// Only owners.
    #[error("only the marketplace owner can do this")]
    Forbidden,
    /// No such user.
    #[error("not found")]
    NotFound,
    /// Owners do not change their own roles (nobody locks themselves out by mistake).
    #[error("you cannot change your own roles")]
    OwnRoles,
    /// Some fields are invalid.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for UserAdminError {
    fn kind(&self) -> ErrorKind {
        match self {
            UserAdminError::Forbidden => ErrorKind::Forbidden { code: "forbidden" },
            UserAdminError::NotFound => ErrorKind::NotFound,
            UserAdminError::OwnRoles => ErrorKind::Unprocessable { code: "own_roles" },
            UserAdminError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            UserAdminError::Store(e) => e.kind(),
        }
    }
}

/// A role change: the flags to set (absent: unchanged) and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleChange {
    /// May sell.
    pub is_seller: Option<bool>,
    /// Staff: the refund safety valve and moderation.
    pub is_staff: Option<bool>,
    /// Why (required; it goes to the audit log).
    pub note: String,
}

operation_group!(
    /// Owners: users and their roles.
    UserAdmin
);

impl UserAdmin {
    /// Users whose username or e-mail contains `text`, newest first.
    ///
    /// # Errors
    /// [`UserAdminError::Forbidden`] for anyone but an owner.
    pub async fn users(
        &self,
        actor: &Actor,
        text: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<UserRecord>, UserAdminError> {
        if !is_owner(actor) {
            return Err(UserAdminError::Forbidden);
        }
        let text = text.map(str::trim).filter(|t| !t.is_empty());
        if text.is_some_and(|t| t.contains('\0') || t.chars().count() > MAX_USER_SEARCH) {
            return Err(UserAdminError::Invalid(FieldErrors::single(
                "q",
                format!("must be at most {MAX_USER_SEARCH} characters, without NUL"),
            )));
        }
        Ok(self.deps.queries.users()?.search_users(text, page).await?)
    }

    /// Grants or revokes a user's seller and staff roles, audited.
    ///
    /// # Errors
    /// [`UserAdminError::Forbidden`] for anyone but an owner; [`UserAdminError::OwnRoles`];
    /// [`UserAdminError::NotFound`]; [`UserAdminError::Invalid`] without a note.
    pub async fn set_roles(
        &self,
        actor: &Actor,
        user: UserId,
        change: &RoleChange,
    ) -> Result<UserRecord, UserAdminError> {
        if !is_owner(actor) {
            return Err(UserAdminError::Forbidden);
        }
        if user == actor.user_id {
            return Err(UserAdminError::OwnRoles);
        }
        let note = staff_note(&change.note).map_err(UserAdminError::Invalid)?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let mut record = tx
            .users()?
            .get_user(user)
            .await?
            .ok_or(UserAdminError::NotFound)?;
        let before = record.roles;
        record.roles.is_seller = change.is_seller.unwrap_or(before.is_seller);
        record.roles.is_staff = change.is_staff.unwrap_or(before.is_staff);
        tx.roles()?
            .set_roles(user, record.roles.is_seller, record.roles.is_staff)
            .await?;
        let entry = AuditEntry {
            actor_id: actor.user_id,
            action: "user.roles".to_owned(),
            subject: format!("user:{user}"),
            detail: format!(
                "{}: seller {} → {}, staff {} → {}: {note}",
                record.username,
                before.is_seller,
                record.roles.is_seller,
                before.is_staff,
                record.roles.is_staff
            ),
            created_at: now,
        };
        tx.adjustments()?.record_audit(&entry).await?;
        tx.commit().await?;
        Ok(record)
    }
}
