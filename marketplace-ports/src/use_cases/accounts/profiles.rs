//! Profiles: the caller's account and marketplace profile, and their avatar.

use marketplace_domain::accounts::ProfileChanges;
use marketplace_domain::files::{UploadError, check_image};
use marketplace_domain::ids::BlobId;
use marketplace_domain::validation::FieldErrors;
use uuid::Uuid;

use crate::ports::{Profile, StoreError, UserRecord};
use crate::use_cases::{Actor, ErrorKind, UploadedFile, UseCaseError};

/// Why a profile operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Some fields are invalid.
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// The user disappeared (deleted while logged in).
    #[error("account not found")]
    NotFound,
    /// An uploaded file was refused.
    #[error(transparent)]
    Upload(#[from] UploadError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for ProfileError {
    fn kind(&self) -> ErrorKind {
        match self {
            ProfileError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            ProfileError::NotFound => ErrorKind::NotFound,
            ProfileError::Upload(e) => e.kind(),
            ProfileError::Store(e) => e.kind(),
        }
    }
}

fn not_found_as_profile(error: StoreError) -> ProfileError {
    match error {
        StoreError::NotFound => ProfileError::NotFound,
        other => ProfileError::Store(other),
    }
}

operation_group!(
    /// Profiles and avatars.
    Profiles
);

impl Profiles {
    /// The caller's account and profile.
    ///
    /// # Errors
    /// [`ProfileError::NotFound`] when the account vanished.
    pub async fn profile(&self, actor: &Actor) -> Result<(UserRecord, Profile), ProfileError> {
        self.deps
            .queries
            .accounts()?
            .user_profile(actor.user_id)
            .await?
            .ok_or(ProfileError::NotFound)
    }

    /// Changes the caller's profile. `is_owner` and staff flags are not editable here.
    ///
    /// # Errors
    /// [`ProfileError::Invalid`] with every field problem.
    pub async fn update_profile(
        &self,
        actor: &Actor,
        changes: ProfileChanges,
    ) -> Result<(UserRecord, Profile), ProfileError> {
        let changes = changes.validate().map_err(ProfileError::Invalid)?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        tx.users()?
            .update_profile(actor.user_id, &changes, now)
            .await
            .map_err(not_found_as_profile)?;
        tx.commit().await?;
        self.profile(actor).await
    }

    /// Replaces the caller's avatar with an uploaded image.
    ///
    /// # Errors
    /// [`ProfileError::Upload`] when the file is not an accepted image or too large.
    pub async fn set_avatar(
        &self,
        actor: &Actor,
        file: UploadedFile,
    ) -> Result<BlobId, ProfileError> {
        let format = check_image(file.size(), &file.bytes)?;
        let blob = BlobId::from_uuid(Uuid::now_v7());
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        tx.blobs()?
            .insert_blob(blob, format.content_type(), &file.bytes, now)
            .await?;
        let previous = tx
            .users()?
            .set_avatar(actor.user_id, Some(blob), now)
            .await
            .map_err(not_found_as_profile)?;
        if let Some(previous) = previous {
            tx.blobs()?.delete_blob(previous).await?;
        }
        tx.commit().await?;
        Ok(blob)
    }

    /// Removes the caller's avatar.
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn delete_avatar(&self, actor: &Actor) -> Result<(), ProfileError> {
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let previous = tx
            .users()?
            .set_avatar(actor.user_id, None, now)
            .await
            .map_err(not_found_as_profile)?;
        if let Some(previous) = previous {
            tx.blobs()?.delete_blob(previous).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
