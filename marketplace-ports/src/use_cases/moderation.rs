//! Moderation (docs/moderation.md): signed-in users report reviews, replies and Q&A messages;
//! staff (and owners) work through the queue — dismiss, remove the content, or suspend its
//! author — and suspend or reinstate users directly. Nothing is hidden automatically, and every
//! staff action is written to the audit log.

use marketplace_domain::ids::{MessageId, ReplyId, ReportId, ReviewId, UserId};
use marketplace_domain::moderation::{
    ModerationRefusal, ReportStatus, ReportTarget, Resolution, new_report, staff_note,
};
use marketplace_domain::notifications::NotificationKind;
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::reviews::RatingDelta;
use marketplace_domain::validation::FieldErrors;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ports::{
    AuditEntry, ReportFilter, ReportRecord, ReviewSubject, StoreError, Tx, Visibility,
};
use crate::use_cases::shared::notifications::{Notice, notify};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why a moderation operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    /// No such content, report or user (or the caller does not moderate).
    #[error("not found")]
    NotFound,
    /// The rules refuse it, with the reason.
    #[error(transparent)]
    Refused(#[from] ModerationRefusal),
    /// Some fields are invalid.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ModerationError {
    fn from(error: StoreError) -> Self {
        if error.is_conflict_on("reports_one_open_per_reporter") {
            ModerationError::Refused(ModerationRefusal::AlreadyReported)
        } else {
            ModerationError::Store(error)
        }
    }
}

impl UseCaseError for ModerationError {
    fn kind(&self) -> ErrorKind {
        match self {
            ModerationError::NotFound => ErrorKind::NotFound,
            ModerationError::Refused(refusal) => match refusal {
                ModerationRefusal::AlreadyReported | ModerationRefusal::AlreadyResolved => {
                    ErrorKind::Conflict {
                        code: refusal.code(),
                    }
                }
                ModerationRefusal::GuestAuthor
                | ModerationRefusal::StaffAuthor
                | ModerationRefusal::OwnContent => ErrorKind::Unprocessable {
                    code: refusal.code(),
                },
            },
            ModerationError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            ModerationError::Store(e) => e.kind(),
        }
    }
}

/// What a report is about, as far as moderation needs to know.
struct Content {
    /// Its author (none for a guest's review).
    author: Option<UserId>,
}

/// What a staff member sends to resolve a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveReport {
    /// `dismiss`, `remove` or `suspend`.
    pub action: String,
    /// Why (required; it goes to the audit log).
    pub note: String,
}

operation_group!(
    /// Reports and staff's moderation.
    Moderation
);

impl Moderation {
    /// The shown content a report may be about.
    async fn content(&self, target: ReportTarget, id: Uuid) -> Result<Content, ModerationError> {
        let queries = &self.deps.queries;
        let author = match target {
            ReportTarget::Review | ReportTarget::SellerReview => {
                let view = queries
                    .reviews()?
                    .review(ReviewId::from_uuid(id))
                    .await?
                    .filter(|v| v.review.visibility == Visibility::Visible)
                    .ok_or(ModerationError::NotFound)?;
                let is_seller_review = view.review.subject == ReviewSubject::Seller;
                if is_seller_review != (target == ReportTarget::SellerReview) {
                    return Err(ModerationError::NotFound);
                }
                view.review.buyer_id
            }
            ReportTarget::Reply => Some(
                queries
                    .reviews()?
                    .reply(ReplyId::from_uuid(id))
                    .await?
                    .filter(|r| r.visibility == Visibility::Visible)
                    .ok_or(ModerationError::NotFound)?
                    .seller_id,
            ),
            ReportTarget::Message => Some(
                queries
                    .qa()?
                    .message(MessageId::from_uuid(id))
                    .await?
                    .filter(|m| m.deleted_at.is_none())
                    .ok_or(ModerationError::NotFound)?
                    .author_id,
            ),
        };
        Ok(Content { author })
    }

    /// Reports a shown review, seller review, reply or Q&A message to staff. One open report per
    /// content and reporter; nothing is hidden until staff decide.
    ///
    /// # Errors
    /// [`ModerationError::Invalid`] for the type, reason or details; [`ModerationError::NotFound`]
    /// for content that is not shown; [`ModerationError::Refused`] with `already_reported` or
    /// `own_content`.
    pub async fn report(
        &self,
        actor: &Actor,
        target_type: &str,
        target_id: Uuid,
        reason: &str,
        details: &str,
    ) -> Result<ReportRecord, ModerationError> {
        let report = new_report(target_type, reason, details).map_err(ModerationError::Invalid)?;
        let content = self.content(report.target, target_id).await?;
        if content.author == Some(actor.user_id) {
            return Err(ModerationRefusal::OwnContent.into());
        }
        let record = ReportRecord {
            id: ReportId::from_uuid(Uuid::now_v7()),
            target: report.target,
            target_id,
            reporter_id: actor.user_id,
            reason: report.reason,
            details: report.details,
            status: ReportStatus::Open,
            resolved_by: None,
            resolution_note: String::new(),
            created_at: self.deps.clock.now(),
            resolved_at: None,
        };
        let mut tx = self.deps.uow.begin().await?;
        tx.moderation()?.insert_report(&record).await?;
        tx.commit().await?;
        Ok(record)
    }

    fn require_moderator(actor: &Actor) -> Result<(), ModerationError> {
        if actor.roles.moderates() {
            Ok(())
        } else {
            Err(ModerationError::NotFound)
        }
    }

    /// The report queue (staff and owners): open reports oldest first, or resolved and all newest
    /// first.
    ///
    /// # Errors
    /// [`ModerationError::NotFound`] for anyone else.
    pub async fn reports(
        &self,
        actor: &Actor,
        filter: ReportFilter,
        page: PageRequest,
    ) -> Result<Page<ReportRecord>, ModerationError> {
        Self::require_moderator(actor)?;
        Ok(self
            .deps
            .queries
            .moderation()?
            .reports(filter, page)
            .await?)
    }

    /// Resolves an open report: `dismiss` it, `remove` the content (its rating stops counting;
    /// the other open reports of it are resolved with it), or `suspend` its author too. Audited.
    ///
    /// # Errors
    /// [`ModerationError::NotFound`] for non-moderators and unknown reports;
    /// [`ModerationError::Invalid`] for the action or a missing note; [`ModerationError::Refused`]
    /// with `already_resolved`, `guest_author` or `staff_author`.
    pub async fn resolve(
        &self,
        actor: &Actor,
        id: ReportId,
        input: &ResolveReport,
    ) -> Result<ReportRecord, ModerationError> {
        Self::require_moderator(actor)?;
        let mut fields = FieldErrors::new();
        let resolution = Resolution::from_action(input.action.trim());
        if resolution.is_none() {
            fields.add("action", "must be dismiss, remove or suspend");
        }
        let note = fields.check("note", staff_note(&input.note).map_err(|e| e.to_string()));
        let (Some(resolution), Some(note)) = (resolution, note) else {
            return Err(ModerationError::Invalid(fields));
        };
        let seen = self
            .deps
            .queries
            .moderation()?
            .report(id)
            .await?
            .ok_or(ModerationError::NotFound)?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        // Locks in one order for every resolver: the content's open reports (oldest first), then
        // the content. A dismissal locks only its own report.
        let mut resolved = if resolution.removes_content() {
            tx.moderation()?
                .open_reports_on(seen.target, seen.target_id)
                .await?
        } else {
            tx.moderation()?
                .report_for_update(id)
                .await?
                .into_iter()
                .collect()
        };
        let Some(position) = resolved.iter().position(|r| r.id == id) else {
            // Resolved meanwhile (with its content, or on its own).
            return Err(ModerationRefusal::AlreadyResolved.into());
        };
        for r in &mut resolved {
            r.status = r.status.resolve(resolution)?;
        }
        let report = resolved.swap_remove(position);
        if resolution.removes_content() {
            let author = remove_content(tx.as_mut(), &report, actor, now).await?;
            if resolution == Resolution::Suspended {
                let author = author.ok_or(ModerationRefusal::GuestAuthor)?;
                suspend(tx.as_mut(), actor, author, true, &note, now).await?;
            }
        }
        resolved.insert(0, report.clone());
        for r in &mut resolved {
            r.resolved_by = Some(actor.user_id);
            r.resolution_note = note.clone();
            r.resolved_at = Some(now);
            tx.moderation()?.update_report(r).await?;
            let outcome = match resolution {
                Resolution::Dismissed => "staff looked at it and left it up",
                Resolution::Removed => "staff removed it",
                Resolution::Suspended => "staff removed it and suspended its author",
            };
            let notice = Notice {
                user: r.reporter_id,
                kind: NotificationKind::ReportOutcome,
                subject: r.id.get(),
                title: "Your report was reviewed".to_owned(),
                body: format!(
                    "You reported a {} for {}: {outcome}.",
                    r.target.as_str(),
                    r.reason.as_str()
                ),
            };
            notify(tx.as_mut(), &self.deps, notice, None, now).await?;
        }
        let entry = AuditEntry {
            actor_id: actor.user_id,
            action: format!("report.{}", resolution.as_str()),
            subject: format!("report:{id}"),
            detail: format!(
                "{} {} reported for {}: {note}",
                report.target.as_str(),
                report.target_id,
                report.reason.as_str()
            ),
            created_at: now,
        };
        tx.adjustments()?.record_audit(&entry).await?;
        tx.commit().await?;
        Ok(resolved.swap_remove(0))
    }

    /// Suspends a user (they can no longer log in or post; their sessions end) or lifts the
    /// suspension. Audited.
    ///
    /// # Errors
    /// [`ModerationError::NotFound`] for non-moderators and unknown users;
    /// [`ModerationError::Refused`] with `staff_author` for staff and owners;
    /// [`ModerationError::Invalid`] without a note.
    pub async fn set_suspended(
        &self,
        actor: &Actor,
        user: UserId,
        suspended: bool,
        note: &str,
    ) -> Result<(), ModerationError> {
        Self::require_moderator(actor)?;
        let note = staff_note(note).map_err(ModerationError::Invalid)?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        suspend(tx.as_mut(), actor, user, suspended, &note, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Takes content down (idempotent); returns its author.
async fn remove_content(
    tx: &mut dyn Tx,
    report: &ReportRecord,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<Option<UserId>, ModerationError> {
    match report.target {
        ReportTarget::Review | ReportTarget::SellerReview => {
            let reviews = tx.reviews()?;
            let mut review = reviews
                .review_for_update(ReviewId::from_uuid(report.target_id))
                .await?
                .ok_or(ModerationError::NotFound)?;
            if review.visibility == Visibility::Visible {
                review.visibility = Visibility::Removed;
                review.updated_at = now;
                reviews.update_review(&review).await?;
                reviews
                    .apply_rating_delta(&review, RatingDelta::removed(review.rating))
                    .await?;
            }
            Ok(review.buyer_id)
        }
        ReportTarget::Reply => {
            let reviews = tx.reviews()?;
            let mut reply = reviews
                .reply_by_id_for_update(ReplyId::from_uuid(report.target_id))
                .await?
                .ok_or(ModerationError::NotFound)?;
            if reply.visibility == Visibility::Visible {
                reply.visibility = Visibility::Removed;
                reply.updated_at = now;
                reviews.update_reply(&reply).await?;
            }
            Ok(Some(reply.seller_id))
        }
        ReportTarget::Message => {
            let qa = tx.qa()?;
            let mut message = qa
                .message_for_update(MessageId::from_uuid(report.target_id))
                .await?
                .ok_or(ModerationError::NotFound)?;
            if message.deleted_at.is_none() {
                message.deleted_at = Some(now);
                message.deleted_by = Some(actor.user_id);
                qa.mark_deleted(&message).await?;
            }
            Ok(Some(message.author_id))
        }
    }
}

/// Suspends or reinstates `user` and audits it; staff and owners are never suspended this way.
async fn suspend(
    tx: &mut dyn Tx,
    actor: &Actor,
    user: UserId,
    suspended: bool,
    note: &str,
    now: OffsetDateTime,
) -> Result<(), ModerationError> {
    let record = tx
        .users()?
        .get_user(user)
        .await?
        .ok_or(ModerationError::NotFound)?;
    if record.roles.moderates() {
        return Err(ModerationRefusal::StaffAuthor.into());
    }
    if !tx.moderation()?.set_suspended(user, suspended).await? {
        return Err(ModerationError::NotFound);
    }
    let entry = AuditEntry {
        actor_id: actor.user_id,
        action: if suspended {
            "user.suspend"
        } else {
            "user.reinstate"
        }
        .to_owned(),
        subject: format!("user:{user}"),
        detail: format!("{}: {note}", record.username),
        created_at: now,
    };
    tx.adjustments()?.record_audit(&entry).await?;
    Ok(())
}
