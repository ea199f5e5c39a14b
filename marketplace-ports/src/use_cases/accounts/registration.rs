//! Registering users (who are signed in at once, as the original did) and creating the first
//! owner from the command line.

use marketplace_domain::accounts::{Email, Roles, Username, check_password};
use marketplace_domain::ids::UserId;
use marketplace_domain::validation::FieldErrors;
use uuid::Uuid;

use super::sessions::{OpenSessionError, SignedIn, open_session};
use crate::ports::{CryptoError, NewUser, StoreError, UserRecord};
use crate::use_cases::{ErrorKind, UseCaseError};

/// Why a registration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// Some fields are invalid (including a taken username).
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing or randomness failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl From<OpenSessionError> for RegistrationError {
    fn from(error: OpenSessionError) -> Self {
        match error {
            OpenSessionError::Store(e) => RegistrationError::Store(e),
            OpenSessionError::Crypto(e) => RegistrationError::Crypto(e),
        }
    }
}

impl UseCaseError for RegistrationError {
    fn kind(&self) -> ErrorKind {
        match self {
            RegistrationError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            RegistrationError::Store(e) => e.kind(),
            RegistrationError::Crypto(e) => e.kind(),
        }
    }
}

/// A registration request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Register {
    /// Wanted username.
    pub username: String,
    /// Password.
    pub password: String,
    /// Optional e-mail.
    pub email: Option<String>,
    /// Opt in as a seller right away.
    pub register_as_seller: bool,
}

operation_group!(
    /// Registration and the first owner.
    Registration
);

impl Registration {
    /// Registers a user and signs them in.
    ///
    /// # Errors
    /// [`RegistrationError::Invalid`] with every field problem, including a taken username.
    pub async fn register(&self, command: Register) -> Result<SignedIn, RegistrationError> {
        let (username, email) = validate_new_account(
            &command.username,
            &command.password,
            command.email.as_deref(),
        )
        .map_err(RegistrationError::Invalid)?;
        let roles = Roles {
            is_seller: command.register_as_seller,
            ..Roles::default()
        };
        let user = self
            .create_user(&username, &email, &command.password, roles)
            .await?;
        Ok(open_session(&self.deps, user).await?)
    }

    /// Creates an owner account (`app create-owner`).
    ///
    /// # Errors
    /// As [`Registration::register`].
    pub async fn create_owner(
        &self,
        username: &str,
        email: Option<&str>,
        password: &str,
    ) -> Result<UserRecord, RegistrationError> {
        let (username, email) =
            validate_new_account(username, password, email).map_err(RegistrationError::Invalid)?;
        let roles = Roles {
            is_staff: true,
            is_superuser: true,
            is_owner: true,
            is_seller: true,
        };
        self.create_user(&username, &email, password, roles).await
    }

    async fn create_user(
        &self,
        username: &Username,
        email: &str,
        password: &str,
        roles: Roles,
    ) -> Result<UserRecord, RegistrationError> {
        // Hash before opening the transaction: argon2id is slow on purpose.
        let password_hash = self.deps.crypto.hash_password(password).await?;
        let now = self.deps.clock.now();
        let user = NewUser {
            id: UserId::from_uuid(Uuid::now_v7()),
            username: username.as_str().to_owned(),
            email: email.to_owned(),
            password_hash,
            roles,
            created_at: now,
        };
        let mut tx = self.deps.uow.begin().await?;
        match tx.users()?.insert_user(&user).await {
            Err(e) if e.is_conflict_on("users_username_lower_key") => {
                return Err(RegistrationError::Invalid(FieldErrors::single(
                    "username",
                    "that username is already taken",
                )));
            }
            other => other?,
        }
        tx.commit().await?;
        Ok(UserRecord {
            id: user.id,
            username: user.username,
            email: user.email,
            password_hash: user.password_hash,
            roles,
            is_active: true,
            created_at: now,
        })
    }
}

/// Validates a new account's username, password and optional e-mail together, reporting every
/// problem at once. Returns the username and the normalised e-mail (empty when none).
fn validate_new_account(
    username: &str,
    password: &str,
    email: Option<&str>,
) -> Result<(Username, String), FieldErrors> {
    let mut errors = FieldErrors::new();
    let parsed = errors.check("username", Username::parse(username));
    let email = match email.map(str::trim).filter(|e| !e.is_empty()) {
        None => Some(String::new()),
        Some(raw) => errors.check("email", Email::parse(raw).map(|e| e.as_str().to_owned())),
    };
    let name_for_policy = parsed.as_ref().map_or(username, Username::as_str);
    if let Err(problems) = check_password(password, name_for_policy, email.as_deref()) {
        for problem in problems {
            errors.add("password", problem.to_string());
        }
    }
    match (parsed, email) {
        (Some(username), Some(email)) => errors.into_result((username, email)),
        _ => Err(errors),
    }
}
