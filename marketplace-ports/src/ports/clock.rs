//! Time as a port, so use cases and tests agree on "now".

use time::OffsetDateTime;

/// The current time.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The wall clock moved by an offset: what the application runs on. Nothing in the running
/// marketplace moves it; end-to-end tests do (through the handle the application hands them), to
/// see what happens once a window has closed, as the Stripe simulator's clock lets them do for
/// Stripe.
#[derive(Clone, Debug, Default)]
pub struct OffsetClock {
    offset_seconds: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl OffsetClock {
    /// Moves the clock forward by `by` (whole seconds).
    pub fn advance(&self, by: time::Duration) {
        self.offset_seconds
            .fetch_add(by.whole_seconds(), std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> OffsetDateTime {
        let offset = self
            .offset_seconds
            .load(std::sync::atomic::Ordering::SeqCst);
        let now = OffsetDateTime::now_utc();
        now.checked_add(time::Duration::seconds(offset))
            .unwrap_or(now)
    }
}
