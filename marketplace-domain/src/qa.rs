//! Questions and answers on products (docs/reviews.md, "Questions"): signed-in users open a thread
//! on an active product; its author, the product's seller and staff reply; authors soft-delete
//! their own messages within 30 minutes, staff at any time (the text is hidden, the message keeps
//! its place in the thread).

use time::{Duration, OffsetDateTime};

use crate::ids::UserId;
use crate::validation::{FieldErrors, bounded_text, required_text};

/// The longest subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 180;
/// The longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 5_000;
/// How long after posting an author may delete their message.
pub const DELETE_WINDOW: Duration = Duration::minutes(30);

/// Why a Q&A action is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QaRefusal {
    /// Only the thread's author, the product's seller and staff reply.
    #[error("only the person who asked, the seller and staff can reply in this thread")]
    NotParticipant,
    /// The author's delete window closed (staff may still delete it).
    #[error("messages can be deleted by their author within 30 minutes; ask staff after that")]
    DeleteWindowClosed,
    /// Someone else's message.
    #[error("only the author or staff can delete this message")]
    NotYourMessage,
}

impl QaRefusal {
    /// The stable code clients see.
    pub fn code(self) -> &'static str {
        match self {
            QaRefusal::NotParticipant => "not_participant",
            QaRefusal::DeleteWindowClosed => "delete_window_closed",
            QaRefusal::NotYourMessage => "not_your_message",
        }
    }
}

fn checked(field: &str, text: &str, max: usize, required: bool) -> Result<String, FieldErrors> {
    if text.contains('\0') {
        return Err(FieldErrors::single(
            field,
            "must not contain NUL characters",
        ));
    }
    let checked = if required {
        required_text(text, max).map_err(|e| e.to_string())
    } else {
        bounded_text(text, max).map_err(|e| e.to_string())
    };
    checked.map_err(|message| FieldErrors::single(field, message))
}

/// Checks a new thread's optional subject and required first message.
///
/// # Errors
/// Field errors on `subject` and `body`.
pub fn thread_content(subject: &str, body: &str) -> Result<(String, String), FieldErrors> {
    let mut errors = FieldErrors::new();
    let subject = checked("subject", subject, MAX_SUBJECT_CHARS, false)
        .map_err(|e| errors.extend(e))
        .ok();
    let body = message_body(body).map_err(|e| errors.extend(e)).ok();
    match (subject, body) {
        (Some(subject), Some(body)) => errors.into_result((subject, body)),
        _ => Err(errors),
    }
}

/// Checks a message: required, at most [`MAX_MESSAGE_CHARS`].
///
/// # Errors
/// A field error on `body`.
pub fn message_body(body: &str) -> Result<String, FieldErrors> {
    checked("body", body, MAX_MESSAGE_CHARS, true)
}

/// Who may reply in a thread: its author, the product's seller, staff.
///
/// # Errors
/// [`QaRefusal::NotParticipant`].
pub fn may_reply(
    who: UserId,
    is_staff: bool,
    thread_author: UserId,
    seller: UserId,
) -> Result<(), QaRefusal> {
    if is_staff || who == thread_author || who == seller {
        Ok(())
    } else {
        Err(QaRefusal::NotParticipant)
    }
}

/// Who may delete a message now: its author within [`DELETE_WINDOW`] of posting it, staff at any
/// time.
///
/// # Errors
/// [`QaRefusal::DeleteWindowClosed`] for its author after the window,
/// [`QaRefusal::NotYourMessage`] for anyone else.
pub fn may_delete(
    who: UserId,
    is_staff: bool,
    author: UserId,
    posted_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), QaRefusal> {
    if is_staff {
        return Ok(());
    }
    if who != author {
        return Err(QaRefusal::NotYourMessage);
    }
    match posted_at.checked_add(DELETE_WINDOW) {
        Some(closes) if now <= closes => Ok(()),
        _ => Err(QaRefusal::DeleteWindowClosed),
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn content_and_permissions() {
        assert_eq!(
            thread_content("  ", " Does it fit? "),
            Ok((String::new(), "Does it fit?".to_owned()))
        );
        let refused = thread_content(&"s".repeat(181), " ").unwrap_err();
        assert_eq!(
            refused.fields().keys().collect::<Vec<_>>(),
            ["body", "subject"]
        );
        assert!(message_body("a\0b").is_err());
        let user = |n| UserId::from_uuid(Uuid::from_u128(n));
        let (asker, seller, other) = (user(1), user(2), user(3));
        assert!(may_reply(asker, false, asker, seller).is_ok());
        assert!(may_reply(seller, false, asker, seller).is_ok());
        assert!(may_reply(other, true, asker, seller).is_ok());
        assert_eq!(
            may_reply(other, false, asker, seller),
            Err(QaRefusal::NotParticipant)
        );
        let posted = OffsetDateTime::UNIX_EPOCH;
        let at = |minutes| posted + Duration::minutes(minutes);
        assert!(may_delete(asker, false, asker, posted, at(30)).is_ok());
        assert_eq!(
            may_delete(asker, false, asker, posted, at(31))
                .unwrap_err()
                .code(),
            "delete_window_closed"
        );
        assert!(may_delete(other, true, asker, posted, at(600)).is_ok());
        assert_eq!(
            may_delete(seller, false, asker, posted, at(1)),
            Err(QaRefusal::NotYourMessage)
        );
    }
}
