//! Notifications (docs/notifications.md): what a user is told in the app, and which of those
//! also come by e-mail (their preferences; every kind by default).

/// What a notification is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NotificationKind {
    /// A seller: someone asked about their product.
    NewQuestion,
    /// Someone replied in a question thread the user is in.
    ThreadReply,
    /// A seller: someone reviewed them or their product.
    NewReview,
    /// A reporter: staff resolved their report.
    ReportOutcome,
    /// A refund request of theirs moved (sellers: a new request; buyers: each decision and the
    /// money sent).
    RefundRequest,
    /// A seller: an order with their items was paid.
    Sale,
}

impl NotificationKind {
    /// Every kind.
    pub const ALL: [NotificationKind; 6] = [
        NotificationKind::NewQuestion,
        NotificationKind::ThreadReply,
        NotificationKind::NewReview,
        NotificationKind::ReportOutcome,
        NotificationKind::RefundRequest,
        NotificationKind::Sale,
    ];

    /// Wire and stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::NewQuestion => "new_question",
            NotificationKind::ThreadReply => "thread_reply",
            NotificationKind::NewReview => "new_review",
            NotificationKind::ReportOutcome => "report_outcome",
            NotificationKind::RefundRequest => "refund_request",
            NotificationKind::Sale => "sale",
        }
    }

    /// Parses [`NotificationKind::as_str`].
    pub fn parse(text: &str) -> Option<NotificationKind> {
        NotificationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// Which kinds a user does not want by e-mail (in-app notifications always appear).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailPreferences {
    muted: Vec<NotificationKind>,
}

impl MailPreferences {
    /// Preferences muting `kinds`.
    pub fn muting(kinds: impl IntoIterator<Item = NotificationKind>) -> MailPreferences {
        let mut muted: Vec<NotificationKind> = kinds.into_iter().collect();
        muted.sort();
        muted.dedup();
        MailPreferences { muted }
    }

    /// True when `kind` also comes by e-mail.
    pub fn mails(&self, kind: NotificationKind) -> bool {
        !self.muted.contains(&kind)
    }

    /// The muted kinds, in order.
    pub fn muted(&self) -> &[NotificationKind] {
        &self.muted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_mails_unless_muted() {
        let default = MailPreferences::default();
        assert!(NotificationKind::ALL.iter().all(|k| default.mails(*k)));
        let quiet = MailPreferences::muting([
            NotificationKind::Sale,
            NotificationKind::ThreadReply,
            NotificationKind::Sale,
        ]);
        assert_eq!(
            quiet.muted(),
            [NotificationKind::ThreadReply, NotificationKind::Sale]
        );
        assert!(!quiet.mails(NotificationKind::Sale) && quiet.mails(NotificationKind::NewReview));
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
        }
    }
}
