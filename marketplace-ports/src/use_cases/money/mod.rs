//! Money views: a seller's balance, ledger and payouts and their dashboard ([`seller`]); a buyer's
//! dashboard ([`buyer`]).

pub mod buyer;
pub mod seller;

pub use buyer::{BuyerDashboard, BuyerDashboardError, ConsumerDashboard};
pub use seller::{SellerDashboard, SellerMoney, SellerMoneyError, SellerPayouts};
