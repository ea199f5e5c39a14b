//! Digital entitlements (docs/money.md, "Digital entitlements"): each paid FILE line grants its
//! buyer the product's files as they were when it was paid for, under the download limit and
//! expiry the site had then; a full refund of the line or a lost dispute on the order revokes it,
//! and a refund that fails afterwards gives it back.

use time::{Duration, OffsetDateTime};

use crate::validation::FieldErrors;

/// The site's download policy, copied onto each entitlement when it is granted (a change applies
/// to purchases made after it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DownloadPolicy {
    /// Downloads allowed per entitlement (`None`: unlimited).
    pub limit: Option<u32>,
    /// Days an entitlement lasts after the purchase (`None`: forever).
    pub expiry_days: Option<u32>,
}

/// The longest expiry an owner may set (ten years).
pub const MAX_EXPIRY_DAYS: u32 = 3_650;
/// The highest download limit an owner may set.
pub const MAX_DOWNLOAD_LIMIT: u32 = 10_000;

impl DownloadPolicy {
    /// Checks an owner's input: a limit of 1 to [`MAX_DOWNLOAD_LIMIT`], an expiry of 1 to
    /// [`MAX_EXPIRY_DAYS`] days (absent: unlimited, never).
    ///
    /// # Errors
    /// Field errors on `download_limit` and `download_expiry_days`.
    pub fn from_input(
        limit: Option<u32>,
        expiry_days: Option<u32>,
    ) -> Result<DownloadPolicy, FieldErrors> {
        let mut errors = FieldErrors::new();
        if limit.is_some_and(|l| !(1..=MAX_DOWNLOAD_LIMIT).contains(&l)) {
            errors.add(
                "download_limit",
                format!("must be between 1 and {MAX_DOWNLOAD_LIMIT}, or absent for unlimited"),
            );
        }
        if expiry_days.is_some_and(|d| !(1..=MAX_EXPIRY_DAYS).contains(&d)) {
            errors.add(
                "download_expiry_days",
                format!("must be between 1 and {MAX_EXPIRY_DAYS}, or absent for never"),
            );
        }
        errors.into_result(DownloadPolicy { limit, expiry_days })
    }

    /// The entitlement of a purchase paid at `paid_at`.
    pub fn grant(self, paid_at: OffsetDateTime) -> Entitlement {
        Entitlement {
            granted_at: paid_at,
            // Ten years at most: only a date at the end of time could overflow (then: never).
            expires_at: self
                .expiry_days
                .and_then(|days| paid_at.checked_add(Duration::days(i64::from(days)))),
            download_limit: self.limit,
            downloads: 0,
            revoked: false,
        }
    }
}

/// What a buyer may download for one FILE line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entitlement {
    /// When the line was paid for: files added to the product later are not part of it.
    pub granted_at: OffsetDateTime,
    /// After this, no more downloads.
    pub expires_at: Option<OffsetDateTime>,
    /// Downloads allowed (`None`: unlimited).
    pub download_limit: Option<u32>,
    /// Downloads so far.
    pub downloads: u32,
    /// The line was refunded in full, or a dispute on the order was lost.
    pub revoked: bool,
}

/// Why a download is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DownloadRefused {
    /// Refunded in full, or lost in a dispute.
    #[error("this purchase was refunded or charged back: its files can no longer be downloaded")]
    Revoked,
    /// Past its expiry.
    #[error("the download period of this purchase has ended")]
    Expired,
    /// Every allowed download was used.
    #[error("every download allowed for this purchase has been used")]
    LimitReached,
}

impl DownloadRefused {
    /// The stable code clients see.
    pub fn code(self) -> &'static str {
        match self {
            DownloadRefused::Revoked => "entitlement_revoked",
            DownloadRefused::Expired => "entitlement_expired",
            DownloadRefused::LimitReached => "download_limit_reached",
        }
    }
}

impl Entitlement {
    /// Takes one download at `now`: the entitlement with it counted.
    ///
    /// # Errors
    /// [`DownloadRefused`] when revoked, expired or used up (checked in that order).
    pub fn download(self, now: OffsetDateTime) -> Result<Entitlement, DownloadRefused> {
        if self.revoked {
            return Err(DownloadRefused::Revoked);
        }
        if self.expires_at.is_some_and(|at| now >= at) {
            return Err(DownloadRefused::Expired);
        }
        if self.remaining() == Some(0) {
            return Err(DownloadRefused::LimitReached);
        }
        Ok(Entitlement {
            downloads: self.downloads.saturating_add(1),
            ..self
        })
    }

    /// Downloads left (`None`: unlimited).
    pub fn remaining(&self) -> Option<u32> {
        self.download_limit
            .map(|limit| limit.saturating_sub(self.downloads))
    }

    /// Whether a file created at `created_at` is part of it: files the product had when it was
    /// paid for.
    pub fn covers(&self, created_at: OffsetDateTime) -> bool {
        created_at <= self.granted_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(n)
    }

    #[test]
    fn limits_expiry_and_revocation_are_enforced_in_that_order() {
        let paid = day(0);
        let policy = DownloadPolicy::from_input(Some(2), Some(30)).unwrap();
        let granted = policy.grant(paid);
        assert_eq!(granted.expires_at, Some(day(30)));
        assert_eq!(granted.remaining(), Some(2));
        let once = granted.download(paid).unwrap();
        let twice = once.download(paid).unwrap();
        assert_eq!((twice.downloads, twice.remaining()), (2, Some(0)));
        assert_eq!(twice.download(paid), Err(DownloadRefused::LimitReached));
        assert_eq!(
            once.download(day(30)),
            Err(DownloadRefused::Expired),
            "the expiry instant is already past"
        );
        assert!(once.download(day(30) - Duration::MINUTE).is_ok());
        let revoked = Entitlement {
            revoked: true,
            ..twice
        };
        assert_eq!(
            revoked.download(paid).unwrap_err().code(),
            "entitlement_revoked"
        );
        let unlimited = DownloadPolicy::default().grant(paid);
        assert_eq!((unlimited.remaining(), unlimited.expires_at), (None, None));
        assert!(unlimited.download(day(40_000)).is_ok());
        assert!(unlimited.covers(paid) && !unlimited.covers(paid + Duration::SECOND));
    }

    #[test]
    fn an_owner_cannot_set_a_zero_limit_or_a_silly_expiry() {
        assert!(DownloadPolicy::from_input(None, None).is_ok());
        let refused = DownloadPolicy::from_input(Some(0), Some(MAX_EXPIRY_DAYS + 1)).unwrap_err();
        assert_eq!(
            refused.fields().keys().collect::<Vec<_>>(),
            ["download_expiry_days", "download_limit"]
        );
    }
}
