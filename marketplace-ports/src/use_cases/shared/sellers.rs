//! Sellers' readiness to be paid: applying a Connect account's state (from `account.updated`, a
//! sync, or an owner), queueing again the payouts skipped while a seller was not ready, and naming
//! the sellers of an order who cannot be paid.

use marketplace_domain::accounts::public_seller_name;
use marketplace_domain::connect::{ConnectStatus, seller_can_sell};
use marketplace_domain::ids::{OrderId, UserId};
use marketplace_domain::orders::Order;
use marketplace_domain::payouts::SkipReason;
use time::OffsetDateTime;

use super::booking::enqueue;
use crate::ports::{ConnectedAccount, JobKind, StoreError, Tx};
use crate::use_cases::Settings;

/// The readiness flags of an account as Stripe reports them.
pub fn status_of(account: &ConnectedAccount) -> ConnectStatus {
    ConnectStatus {
        stripe_account_id: Some(account.id.clone()),
        details_submitted: account.details_submitted,
        charges_enabled: account.charges_enabled,
        payouts_enabled: account.payouts_enabled,
    }
}

/// Queues again the payouts skipped while `seller` was not ready (they just became ready).
/// Returns how many.
///
/// # Errors
/// Storage failures.
pub async fn requeue_skipped_payouts(
    tx: &mut dyn Tx,
    seller: UserId,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    requeue_skipped(tx, seller, SkipReason::SellerNotReady, settings, now).await
}

/// Queues again `seller`'s payouts skipped for `reason`: when they became ready, or, for
/// `nothing_owed`, when something raised their balance (a refund that failed, a dispute won, a
/// reversal, an owner's credit), since a payout netted to nothing may be owed now. Returns how
/// many.
///
/// # Errors
/// Storage failures.
pub async fn requeue_skipped(
    tx: &mut dyn Tx,
    seller: UserId,
    reason: SkipReason,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let orders = tx.payouts()?.skipped_payouts(seller, reason).await?;
    let payouts: Vec<(OrderId, UserId)> = orders.into_iter().map(|o| (o, seller)).collect();
    queue_payouts_in_order(tx, payouts, settings, now).await
}

/// Queues payout jobs in one order (by order, then seller) whoever calls, so two transactions
/// queueing overlapping sets never wait on each other's job keys in opposite orders. Returns how
/// many were asked for.
///
/// # Errors
/// Storage failures.
pub async fn queue_payouts_in_order(
    tx: &mut dyn Tx,
    payouts: impl IntoIterator<Item = (OrderId, UserId)>,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let payouts: std::collections::BTreeSet<(OrderId, UserId)> = payouts.into_iter().collect();
    for (order, seller) in &payouts {
        let payout = JobKind::Payout {
            order: *order,
            seller: *seller,
        };
        enqueue(tx, &payout, settings, now).await?;
    }
    Ok(payouts.len())
}

/// Applies an account's state to the seller holding it. `event_created` (webhooks) guards against
/// an older `account.updated` overwriting a newer one; a direct read (`None`) always applies. A
/// seller who becomes ready gets their skipped payouts queued again. Returns what changed, or
/// `None` when no seller holds the account or the event is stale.
///
/// # Errors
/// Storage failures.
pub async fn apply_account_status(
    tx: &mut dyn Tx,
    account: &ConnectedAccount,
    event_created: Option<OffsetDateTime>,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<Option<String>, StoreError> {
    let Some(mut record) = tx.connect()?.find_connect_by_account(&account.id).await? else {
        return Ok(None);
    };
    let Some((was_ready, ready)) = record.apply_status(status_of(account), event_created, now)
    else {
        return Ok(None);
    };
    tx.connect()?.update_connect(&record).await?;
    let requeued = if ready && !was_ready {
        requeue_skipped_payouts(tx, record.user_id, settings, now).await?
    } else {
        0
    };
    Ok(Some(format!(
        "seller {} is {}{}",
        record.user_id,
        if ready { "ready" } else { "not ready" },
        if requeued > 0 {
            format!("; {requeued} skipped payout(s) queued again")
        } else {
            String::new()
        }
    )))
}

/// Whether `seller` can sell now (owner, or Connect account ready).
///
/// # Errors
/// Storage failures.
pub async fn can_sell(tx: &mut dyn Tx, seller: UserId) -> Result<bool, StoreError> {
    let roles = tx
        .users()?
        .get_user(seller)
        .await?
        .map(|u| u.roles)
        .unwrap_or_default();
    let connect = tx.connect()?.get_connect(seller).await?;
    Ok(seller_can_sell(roles, connect.as_ref().map(|c| &c.status)))
}

/// Public names of the order's sellers who cannot be paid now.
///
/// # Errors
/// Storage failures.
pub async fn unready_sellers(tx: &mut dyn Tx, order: &Order) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    for seller in order.sellers() {
        if can_sell(tx, seller).await? {
            continue;
        }
        let username = tx
            .users()?
            .get_user(seller)
            .await?
            .map(|u| u.username)
            .unwrap_or_default();
        let shop_name = tx
            .users()?
            .get_profile(seller)
            .await?
            .map(|p| p.shop_name)
            .unwrap_or_default();
        names.push(public_seller_name(&shop_name, &username));
    }
    Ok(names)
}
