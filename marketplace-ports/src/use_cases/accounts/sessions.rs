//! Login, logout and authentication: opaque session tokens stored as digests, with login
//! throttling per username and per client address.

use marketplace_domain::accounts::{LoginThrottle, SESSION_LIFETIME};
use marketplace_domain::ids::SessionId;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ports::{CryptoError, SessionRecord, StoreError, UserRecord};
use crate::use_cases::{Actor, Deps, ErrorKind, UseCaseError};

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Wrong username or password (deliberately not saying which).
    #[error("invalid username or password")]
    InvalidCredentials,
    /// The right password for an account staff suspended.
    #[error("this account is suspended")]
    Suspended,
    /// Too many failed logins; try again later.
    #[error("too many failed logins; retry in {retry_after_seconds} s")]
    Throttled {
        /// Seconds until the window frees up.
        retry_after_seconds: u64,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing or randomness failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl UseCaseError for SessionError {
    fn kind(&self) -> ErrorKind {
        match self {
            SessionError::InvalidCredentials => ErrorKind::Unauthenticated {
                code: "invalid_credentials",
            },
            SessionError::Suspended => ErrorKind::Forbidden {
                code: "account_suspended",
            },
            SessionError::Throttled {
                retry_after_seconds,
            } => ErrorKind::Throttled {
                retry_after_seconds: *retry_after_seconds,
            },
            SessionError::Store(e) => e.kind(),
            SessionError::Crypto(e) => e.kind(),
        }
    }
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

/// Login sessions.
#[derive(Clone)]
pub struct Sessions {
    deps: Deps,
    throttle: LoginThrottle,
}

impl Sessions {
    /// Builds the group with the default login throttle.
    pub fn new(deps: Deps) -> Self {
        Sessions {
            deps,
            throttle: LoginThrottle::default(),
        }
    }

    /// Checks a username and password and opens a session. Failed attempts are counted per username
    /// and per client address; past the limits every attempt is refused until the window passes.
    ///
    /// # Errors
    /// [`SessionError::Throttled`] past the limits, [`SessionError::InvalidCredentials`] otherwise.
    pub async fn login(&self, command: Login) -> Result<SignedIn, SessionError> {
        let now = self.deps.clock.now();
        let user_key = LoginThrottle::username_key(&command.username);
        let address_key = LoginThrottle::address_key(&command.client_address);
        let since = now - self.throttle.window;

        let mut tx = self.deps.uow.begin().await?;
        let user_failures = tx
            .sessions()?
            .count_login_failures(&user_key, since)
            .await?;
        let address_failures = tx
            .sessions()?
            .count_login_failures(&address_key, since)
            .await?;
        if self.throttle.is_blocked(user_failures, address_failures) {
            return Err(SessionError::Throttled {
                retry_after_seconds: u64::try_from(self.throttle.window.whole_seconds())
                    .unwrap_or(900),
            });
        }
        let user = tx
            .users()?
            .get_user_by_username(command.username.trim())
            .await?;
        drop(tx);

        // Verify outside any transaction. An unknown user still costs one hash, so response time
        // does not reveal which usernames exist.
        let verified = match &user {
            Some(user) => {
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
        let mut tx = self.deps.uow.begin().await?;
        match (user, verified) {
            // Only whoever knows the password learns that the account is suspended.
            (Some(user), true) if !user.is_active => Err(SessionError::Suspended),
            (Some(user), true) => {
                tx.sessions()?.clear_login_failures(&user_key).await?;
                tx.commit().await?;
                Ok(open_session(&self.deps, user).await?)
            }
            _ => {
                tx.sessions()?.record_login_failure(&user_key, now).await?;
                tx.sessions()?
                    .record_login_failure(&address_key, now)
                    .await?;
                tx.commit().await?;
                Err(SessionError::InvalidCredentials)
            }
        }
    }

    /// Ends the session that carries this token. Unknown tokens are fine (already logged out).
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn logout(&self, token: &str) -> Result<(), SessionError> {
        let digest = self.deps.crypto.digest(token);
        let mut tx = self.deps.uow.begin().await?;
        tx.sessions()?.delete_session(&digest).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The actor a session token belongs to, when the session is alive and the user active.
    ///
    /// # Errors
    /// Storage failures only; a bad token is `Ok(None)`.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Actor>, SessionError> {
        if token.is_empty() || token.len() > 256 {
            return Ok(None);
        }
        let digest = self.deps.crypto.digest(token);
        let now = self.deps.clock.now();
        let found = self
            .deps
            .queries
            .accounts()?
            .session_user(&digest, now)
            .await?;
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
}

/// Why a session could not be opened.
#[derive(Debug, thiserror::Error)]
pub(super) enum OpenSessionError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Randomness failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl From<OpenSessionError> for SessionError {
    fn from(error: OpenSessionError) -> Self {
        match error {
            OpenSessionError::Store(e) => SessionError::Store(e),
            OpenSessionError::Crypto(e) => SessionError::Crypto(e),
        }
    }
}

/// Opens a session for `user`: a fresh token (shown once), its digest stored with a CSRF token.
pub(super) async fn open_session(
    deps: &Deps,
    user: UserRecord,
) -> Result<SignedIn, OpenSessionError> {
    let now = deps.clock.now();
    let token = deps.crypto.new_token()?;
    let csrf_token = deps.crypto.new_token()?;
    let session = SessionRecord {
        id: SessionId::from_uuid(Uuid::now_v7()),
        user_id: user.id,
        token_digest: deps.crypto.digest(&token),
        csrf_token: csrf_token.clone(),
        created_at: now,
        expires_at: now + SESSION_LIFETIME,
    };
    let mut tx = deps.uow.begin().await?;
    tx.sessions()?.insert_session(&session).await?;
    tx.commit().await?;
    Ok(SignedIn {
        user,
        token,
        csrf_token,
        expires_at: session.expires_at,
    })
}
