//! Moderation (docs/moderation.md): anyone signed in reports a review, a seller review, a reply or
//! a Q&A message with a reason; nothing is hidden automatically; staff dismiss the report, remove
//! the content, or suspend its author (who then cannot log in or post), and may lift a suspension.
//! Every staff action is audited.

use crate::validation::{FieldErrors, bounded_text, required_text};

/// The longest report details or staff note, in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// What can be reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReportTarget {
    /// A product review.
    Review,
    /// A seller review.
    SellerReview,
    /// A seller's reply to a review.
    Reply,
    /// A Q&A message.
    Message,
}

impl ReportTarget {
    const ALL: [ReportTarget; 4] = [
        ReportTarget::Review,
        ReportTarget::SellerReview,
        ReportTarget::Reply,
        ReportTarget::Message,
    ];

    /// Wire and stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportTarget::Review => "review",
            ReportTarget::SellerReview => "seller_review",
            ReportTarget::Reply => "reply",
            ReportTarget::Message => "message",
        }
    }

    /// Parses [`ReportTarget::as_str`].
    pub fn parse(text: &str) -> Option<ReportTarget> {
        ReportTarget::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// Why something is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReportReason {
    /// Spam.
    Spam,
    /// Harassment.
    Harassment,
    /// Hate.
    Hate,
    /// Violence.
    Violence,
    /// Sexual content.
    Sexual,
    /// Illegal content.
    Illegal,
    /// Something else.
    Other,
}

impl ReportReason {
    const ALL: [ReportReason; 7] = [
        ReportReason::Spam,
        ReportReason::Harassment,
        ReportReason::Hate,
        ReportReason::Violence,
        ReportReason::Sexual,
        ReportReason::Illegal,
        ReportReason::Other,
    ];

    /// Wire and stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportReason::Spam => "spam",
            ReportReason::Harassment => "harassment",
            ReportReason::Hate => "hate",
            ReportReason::Violence => "violence",
            ReportReason::Sexual => "sexual",
            ReportReason::Illegal => "illegal",
            ReportReason::Other => "other",
        }
    }

    /// Parses [`ReportReason::as_str`].
    pub fn parse(text: &str) -> Option<ReportReason> {
        ReportReason::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// What staff decided about a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// Nothing to do.
    Dismissed,
    /// The content was taken down.
    Removed,
    /// The content was taken down and its author suspended.
    Suspended,
}

impl Resolution {
    const ALL: [Resolution; 3] = [
        Resolution::Dismissed,
        Resolution::Removed,
        Resolution::Suspended,
    ];

    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Dismissed => "dismissed",
            Resolution::Removed => "removed",
            Resolution::Suspended => "suspended",
        }
    }

    /// Parses [`Resolution::as_str`].
    pub fn parse(text: &str) -> Option<Resolution> {
        Resolution::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Parses a staff action: `dismiss`, `remove`, `suspend`.
    pub fn from_action(action: &str) -> Option<Resolution> {
        match action {
            "dismiss" => Some(Resolution::Dismissed),
            "remove" => Some(Resolution::Removed),
            "suspend" => Some(Resolution::Suspended),
            _ => None,
        }
    }

    /// True when the content comes down.
    pub fn removes_content(self) -> bool {
        matches!(self, Resolution::Removed | Resolution::Suspended)
    }
}

fn no_nul(field: &str, text: &str) -> Result<(), FieldErrors> {
    if text.contains('\0') {
        Err(FieldErrors::single(
            field,
            "must not contain NUL characters",
        ))
    } else {
        Ok(())
    }
}

/// A checked report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReport {
    /// What is reported.
    pub target: ReportTarget,
    /// Why.
    pub reason: ReportReason,
    /// Details (may be empty).
    pub details: String,
}

/// Checks a report's target type, reason and details.
///
/// # Errors
/// Field errors on `target_type`, `reason` and `details`.
pub fn new_report(target: &str, reason: &str, details: &str) -> Result<NewReport, FieldErrors> {
    let mut errors = FieldErrors::new();
    let target = ReportTarget::parse(target.trim());
    if target.is_none() {
        errors.add(
            "target_type",
            "must be review, seller_review, reply or message",
        );
    }
    let reason = ReportReason::parse(reason.trim());
    if reason.is_none() {
        errors.add(
            "reason",
            "must be spam, harassment, hate, violence, sexual, illegal or other",
        );
    }
    let details = match no_nul("details", details) {
        Ok(()) => errors.check("details", bounded_text(details, MAX_NOTE_CHARS)),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    match (target, reason, details) {
        (Some(target), Some(reason), Some(details)) => errors.into_result(NewReport {
            target,
            reason,
            details,
        }),
        _ => Err(errors),
    }
}

/// Checks a staff note: required (it says why, for the audit log), at most [`MAX_NOTE_CHARS`].
///
/// # Errors
/// A field error on `note`.
pub fn staff_note(note: &str) -> Result<String, FieldErrors> {
    no_nul("note", note)?;
    required_text(note, MAX_NOTE_CHARS).map_err(|e| FieldErrors::single("note", e.to_string()))
}

/// Where a report stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportStatus {
    /// Waiting for staff.
    Open,
    /// Staff decided.
    Resolved(Resolution),
}

impl ReportStatus {
    /// Resolves an open report.
    ///
    /// # Errors
    /// [`ModerationRefusal::AlreadyResolved`] for a report resolved before.
    pub fn resolve(self, resolution: Resolution) -> Result<ReportStatus, ModerationRefusal> {
        match self {
            ReportStatus::Open => Ok(ReportStatus::Resolved(resolution)),
            ReportStatus::Resolved(_) => Err(ModerationRefusal::AlreadyResolved),
        }
    }
}

/// Why a moderation step is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModerationRefusal {
    /// One open report per content and reporter.
    #[error("you have reported this already; staff will look at it")]
    AlreadyReported,
    /// Resolved before.
    #[error("this report was resolved already")]
    AlreadyResolved,
    /// Guests have no account to suspend.
    #[error("the author is a guest without an account: remove the content instead")]
    GuestAuthor,
    /// Staff cannot be suspended through a report (an owner revokes their role first).
    #[error("staff accounts cannot be suspended")]
    StaffAuthor,
    /// Reporting one's own words.
    #[error("you cannot report what you wrote")]
    OwnContent,
}

impl ModerationRefusal {
    /// The stable code clients see.
    pub fn code(self) -> &'static str {
        match self {
            ModerationRefusal::AlreadyReported => "already_reported",
            ModerationRefusal::AlreadyResolved => "already_resolved",
            ModerationRefusal::GuestAuthor => "guest_author",
            ModerationRefusal::StaffAuthor => "staff_author",
            ModerationRefusal::OwnContent => "own_content",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_and_resolutions_are_checked() {
        let report = new_report("reply", "spam", " buy my stuff ").unwrap();
        assert_eq!(
            (report.target, report.reason, report.details.as_str()),
            (ReportTarget::Reply, ReportReason::Spam, "buy my stuff")
        );
        let refused = new_report("product", "rude", &"x".repeat(2001)).unwrap_err();
        assert_eq!(
            refused.fields().keys().collect::<Vec<_>>(),
            ["details", "reason", "target_type"]
        );
        assert!(staff_note(" ").is_err() && staff_note("spam link").is_ok());
        assert_eq!(Resolution::from_action("remove"), Some(Resolution::Removed));
        assert_eq!(Resolution::from_action("delete"), None);
        assert!(
            Resolution::Suspended.removes_content() && !Resolution::Dismissed.removes_content()
        );
        let resolved = ReportStatus::Open.resolve(Resolution::Dismissed).unwrap();
        assert_eq!(
            resolved.resolve(Resolution::Removed),
            Err(ModerationRefusal::AlreadyResolved)
        );
        for target in ReportTarget::ALL {
            assert_eq!(ReportTarget::parse(target.as_str()), Some(target));
        }
        for resolution in Resolution::ALL {
            assert_eq!(Resolution::parse(resolution.as_str()), Some(resolution));
        }
    }
}
