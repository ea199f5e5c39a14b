//! Discovery and insight: engagement counting and the trending refresh ([`engagement`]), the home
//! page ([`home`]), and seller analytics and the admin dashboard ([`analytics`]). See
//! docs/discovery.md.

pub mod analytics;
pub mod engagement;
pub mod home;

pub use analytics::{AdminDashboard, Analytics, AnalyticsError, SellerAnalytics};
pub use engagement::{Engagement, EngagementBuffer, EngagementError, TrendingRefresh, Visitor};
pub use home::{Home, HomePage};
