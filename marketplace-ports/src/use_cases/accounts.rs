//! Registration, login and logout, session authentication, profiles and avatars, and the first
//! owner.

use marketplace_domain::account::{
    Email, LoginThrottle, ProfileChanges, Roles, SESSION_LIFETIME, Username, check_password,
};
use marketplace_domain::files::{UploadError, check_image};
use marketplace_domain::ids::{BlobId, SessionId, UserId};
use marketplace_domain::validation::FieldErrors;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Actor, Deps, UploadedFile};
use crate::ports::{CryptoError, NewUser, Profile, SessionRecord, StoreError, UserRecord};

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Some fields are invalid (including a taken username).
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// Wrong username or password (deliberately not saying which).
    #[error("invalid username or password")]
    InvalidCredentials,
    /// Too many failed logins; try again later.
    #[error("too many failed logins; retry in {retry_after_seconds} s")]
    Throttled {
        /// Seconds until the window frees up.
        retry_after_seconds: u64,
    },
    /// The user disappeared (deleted while logged in).
    #[error("account not found")]
    NotFound,
    /// An uploaded file was refused.
    #[error(transparent)]
    Upload(#[from] UploadError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing or randomness failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
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

/// A login request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Login {
    /// Username (any case).
    pub username: String,
    /// Password.
    pub password: String,
    /// The client's address, for throttling.
    pub client_address: String,
}

/// A new session for a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn {
    /// The user.
    pub user: UserRecord,
    /// The session token (shown once; only its digest is stored).
    pub token: String,
    /// The CSRF token cookie-authenticated writes must send back.
    pub csrf_token: String,
    /// When the session ends.
    pub expires_at: OffsetDateTime,
}

/// Accounts, sessions and profiles.
#[derive(Clone)]
pub struct AccountService {
    deps: Deps,
    throttle: LoginThrottle,
}

impl AccountService {
    /// Builds the service with the default login throttle.
    pub fn new(deps: Deps) -> Self {
        AccountService {
            deps,
            throttle: LoginThrottle::default(),
        }
    }

    /// Registers a user and signs them in (as the original did after registration).
    ///
    /// # Errors
    /// [`AccountError::Invalid`] with every field problem, including a taken username.
    pub async fn register(&self, command: Register) -> Result<SignedIn, AccountError> {
        let (username, email) = validate_new_account(
            &command.username,
            &command.password,
            command.email.as_deref(),
        )
        .map_err(AccountError::Invalid)?;
        let roles = Roles {
            is_seller: command.register_as_seller,
            ..Roles::default()
        };
        let user = self
            .create_user(&username, &email, &command.password, roles)
            .await?;
        self.open_session(user).await
    }

    /// Creates an owner account from the command line (`app create-owner`).
    ///
    /// # Errors
    /// As [`AccountService::register`].
    pub async fn create_owner(
        &self,
        username: &str,
        email: Option<&str>,
        password: &str,
    ) -> Result<UserRecord, AccountError> {
        let (username, email) =
            validate_new_account(username, password, email).map_err(AccountError::Invalid)?;
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
    ) -> Result<UserRecord, AccountError> {
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
        match tx.users().insert_user(&user).await {
            Err(e) if e.is_conflict_on("users_username_lower_key") => {
                return Err(AccountError::Invalid(FieldErrors::single(
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

    /// Checks a username and password and opens a session. Failed attempts are counted per username
    /// and per client address; past the limits every attempt is refused until the window passes.
    ///
    /// # Errors
    /// [`AccountError::Throttled`] past the limits, [`AccountError::InvalidCredentials`] otherwise.
    pub async fn login(&self, command: Login) -> Result<SignedIn, AccountError> {
        let now = self.deps.clock.now();
        let user_key = LoginThrottle::username_key(&command.username);
        let address_key = LoginThrottle::address_key(&command.client_address);
        let since = now - self.throttle.window;

        let mut tx = self.deps.uow.begin().await?;
        let user_failures = tx.sessions().count_login_failures(&user_key, since).await?;
        let address_failures = tx
            .sessions()
            .count_login_failures(&address_key, since)
            .await?;
        if self.throttle.is_blocked(user_failures, address_failures) {
            return Err(AccountError::Throttled {
                retry_after_seconds: u64::try_from(self.throttle.window.whole_seconds())
                    .unwrap_or(900),
            });
        }
        let user = tx
            .users()
            .get_user_by_username(command.username.trim())
            .await?;
        drop(tx);

        // Verify outside any transaction. An unknown user still costs one hash, so response time
        // does not reveal which usernames exist.
        let verified = match &user {
            Some(user) if user.is_active => {
                self.deps
                    .crypto
                    .verify_password(&command.password, &user.password_hash)
                    .await
            }
            _ => {
                // Same argon2 work as a verification, result discarded.
                let _ = self.deps.crypto.hash_password(&command.password).await;
                false
            }
        };
        match (user, verified) {
            (Some(user), true) => {
                let mut tx = self.deps.uow.begin().await?;
                tx.sessions().clear_login_failures(&user_key).await?;
                tx.commit().await?;
                self.open_session(user).await
            }
            _ => {
                let mut tx = self.deps.uow.begin().await?;
                tx.sessions().record_login_failure(&user_key, now).await?;
                tx.sessions()
                    .record_login_failure(&address_key, now)
                    .await?;
                tx.commit().await?;
                Err(AccountError::InvalidCredentials)
            }
        }
    }

    async fn open_session(&self, user: UserRecord) -> Result<SignedIn, AccountError> {
        let now = self.deps.clock.now();
        let token = self.deps.crypto.new_token()?;
        let csrf_token = self.deps.crypto.new_token()?;
        let session = SessionRecord {
            id: SessionId::from_uuid(Uuid::now_v7()),
            user_id: user.id,
            token_digest: self.deps.crypto.digest(&token),
            csrf_token: csrf_token.clone(),
            created_at: now,
            expires_at: now + SESSION_LIFETIME,
        };
        let mut tx = self.deps.uow.begin().await?;
        tx.sessions().insert_session(&session).await?;
        tx.commit().await?;
        Ok(SignedIn {
            user,
            token,
            csrf_token,
            expires_at: session.expires_at,
        })
    }

    /// Ends the session that carries this token. Unknown tokens are fine (already logged out).
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn logout(&self, token: &str) -> Result<(), AccountError> {
        let digest = self.deps.crypto.digest(token);
        let mut tx = self.deps.uow.begin().await?;
        tx.sessions().delete_session(&digest).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The actor a session token belongs to, when the session is alive and the user active.
    ///
    /// # Errors
    /// Storage failures only; a bad token is `Ok(None)`.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Actor>, AccountError> {
        if token.is_empty() || token.len() > 256 {
            return Ok(None);
        }
        let digest = self.deps.crypto.digest(token);
        let now = self.deps.clock.now();
        let found = self.deps.queries.session_user(&digest, now).await?;
        Ok(found
            .filter(|(_, user)| user.is_active)
            .map(|(session, user)| Actor {
                user_id: user.id,
                username: user.username,
                roles: user.roles,
                session_id: session.id,
                csrf_token: session.csrf_token,
            }))
    }

    /// The caller's account and profile.
    ///
    /// # Errors
    /// [`AccountError::NotFound`] when the account vanished.
    pub async fn profile(&self, actor: &Actor) -> Result<(UserRecord, Profile), AccountError> {
        self.deps
            .queries
            .user_profile(actor.user_id)
            .await?
            .ok_or(AccountError::NotFound)
    }

    /// Changes the caller's profile. `is_owner` and staff flags are not editable here.
    ///
    /// # Errors
    /// [`AccountError::Invalid`] with every field problem.
    pub async fn update_profile(
        &self,
        actor: &Actor,
        changes: ProfileChanges,
    ) -> Result<(UserRecord, Profile), AccountError> {
        let changes = changes.validate().map_err(AccountError::Invalid)?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        tx.users()
            .update_profile(actor.user_id, &changes, now)
            .await
            .map_err(not_found_as_account)?;
        tx.commit().await?;
        self.profile(actor).await
    }

    /// Replaces the caller's avatar with an uploaded image.
    ///
    /// # Errors
    /// [`AccountError::Upload`] when the file is not an accepted image or too large.
    pub async fn set_avatar(
        &self,
        actor: &Actor,
        file: UploadedFile,
    ) -> Result<BlobId, AccountError> {
        let format = check_image(file.size(), &file.bytes)?;
        let blob = BlobId::from_uuid(Uuid::now_v7());
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        tx.blobs()
            .insert_blob(blob, format.content_type(), &file.bytes, now)
            .await?;
        let previous = tx
            .users()
            .set_avatar(actor.user_id, Some(blob), now)
            .await
            .map_err(not_found_as_account)?;
        if let Some(previous) = previous {
            tx.blobs().delete_blob(previous).await?;
        }
        tx.commit().await?;
        Ok(blob)
    }

    /// Removes the caller's avatar.
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn delete_avatar(&self, actor: &Actor) -> Result<(), AccountError> {
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let previous = tx
            .users()
            .set_avatar(actor.user_id, None, now)
            .await
            .map_err(not_found_as_account)?;
        if let Some(previous) = previous {
            tx.blobs().delete_blob(previous).await?;
        }
        tx.commit().await?;
        Ok(())
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

fn not_found_as_account(error: StoreError) -> AccountError {
    match error {
        StoreError::NotFound => AccountError::NotFound,
        other => AccountError::Store(other),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ports::{MockCrypto, MockPaymentGateway, MockQueries};
    use crate::testing::{FakeTx, FakeUow, deps};

    fn service(uow: FakeUow, crypto: MockCrypto) -> AccountService {
        AccountService::new(deps(
            uow,
            MockQueries::new(),
            crypto,
            MockPaymentGateway::new(),
        ))
    }

    fn register(username: &str, password: &str) -> Register {
        Register {
            username: username.into(),
            password: password.into(),
            email: Some("Maker@Example.com".into()),
            register_as_seller: true,
        }
    }

    #[tokio::test]
    async fn register_hashes_the_password_stores_the_user_and_opens_a_session() {
        let mut crypto = MockCrypto::new();
        crypto
            .expect_hash_password()
            .returning(|_| Ok("hashed".into()));
        crypto.expect_new_token().returning(|| Ok("tok".into()));
        crypto.expect_digest().returning(|t| format!("digest:{t}"));
        let uow = FakeUow::new(|| {
            let mut tx = FakeTx::default();
            tx.users.expect_insert_user().returning(|user| {
                assert_eq!(user.username, "maker");
                assert_eq!(user.email, "maker@example.com");
                assert_eq!(user.password_hash, "hashed");
                assert!(user.roles.is_seller && !user.roles.is_owner());
                Ok(())
            });
            tx.sessions.expect_insert_session().returning(|session| {
                assert_eq!(session.token_digest, "digest:tok");
                Ok(())
            });
            tx
        });
        let signed_in = service(uow, crypto)
            .register(register("maker", "Tr1cky-Sailboat"))
            .await
            .unwrap();
        assert_eq!(signed_in.token, "tok");
        assert!(signed_in.user.roles.is_seller);
    }

    #[tokio::test]
    async fn register_reports_every_field_problem_without_touching_the_store() {
        let uow = FakeUow::new(|| panic!("no transaction expected"));
        let error = service(uow, MockCrypto::new())
            .register(Register {
                username: "bad name".into(),
                password: "123".into(),
                email: Some("nope".into()),
                register_as_seller: false,
            })
            .await
            .unwrap_err();
        let AccountError::Invalid(errors) = error else {
            panic!("expected Invalid")
        };
        assert_eq!(
            errors.fields().keys().collect::<Vec<_>>(),
            ["email", "password", "username"]
        );
    }

    #[tokio::test]
    async fn a_taken_username_is_a_field_error() {
        let mut crypto = MockCrypto::new();
        crypto
            .expect_hash_password()
            .returning(|_| Ok("hashed".into()));
        let uow = FakeUow::new(|| {
            let mut tx = FakeTx::default();
            tx.users.expect_insert_user().returning(|_| {
                Err(StoreError::Conflict {
                    constraint: "users_username_lower_key".into(),
                })
            });
            tx
        });
        let error = service(uow, crypto)
            .register(register("maker", "Tr1cky-Sailboat"))
            .await
            .unwrap_err();
        assert!(matches!(error, AccountError::Invalid(e) if e.fields().contains_key("username")));
    }

    #[tokio::test]
    async fn login_is_refused_without_checking_the_password_once_throttled() {
        let uow = FakeUow::new(|| {
            let mut tx = FakeTx::default();
            tx.sessions
                .expect_count_login_failures()
                .returning(|key, _| Ok(if key.starts_with("user:") { 5 } else { 0 }));
            tx
        });
        // No expectation on verify_password: calling it would panic the mock.
        let error = service(uow, MockCrypto::new())
            .login(Login {
                username: "maker".into(),
                password: "whatever".into(),
                client_address: "127.0.0.1".into(),
            })
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            AccountError::Throttled {
                retry_after_seconds: 900
            }
        ));
    }

    #[tokio::test]
    async fn a_wrong_password_records_a_failure_under_both_keys() {
        let mut crypto = MockCrypto::new();
        // The user does not exist: the password is hashed anyway so timing does not tell.
        crypto
            .expect_hash_password()
            .times(1)
            .returning(|_| Ok("ignored".into()));
        let recorded = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = recorded.clone();
        let uow = FakeUow::new(move || {
            let mut tx = FakeTx::default();
            tx.sessions
                .expect_count_login_failures()
                .returning(|_, _| Ok(0));
            tx.users
                .expect_get_user_by_username()
                .returning(|_| Ok(None));
            let seen = seen.clone();
            tx.sessions
                .expect_record_login_failure()
                .returning(move |key, _| {
                    seen.lock().unwrap().push(key.to_owned());
                    Ok(())
                });
            tx
        });
        let error = service(uow, crypto)
            .login(Login {
                username: "Maker".into(),
                password: "wrong".into(),
                client_address: "10.0.0.9".into(),
            })
            .await
            .unwrap_err();
        assert!(matches!(error, AccountError::InvalidCredentials));
        assert_eq!(*recorded.lock().unwrap(), ["user:maker", "ip:10.0.0.9"]);
    }
}
