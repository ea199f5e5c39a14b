//! Keeping an order's reconciliation flags in step with its money (docs/money.md,
//! "Reconciliation"): recomputed from the order's books whenever money moves on it, inside that
//! transaction, and stored, so the owner's report is a query.

use std::collections::BTreeMap;

use marketplace_domain::ids::{OrderId, UserId};
use marketplace_domain::ledger::LedgerError;
use marketplace_domain::reconcile::{OrderBooks, ReconPayout, order_flags};
use time::OffsetDateTime;

use crate::ports::{StoreError, StoredFlag, Tx};

/// Recomputes and stores the flags of `order_id` (none for an unknown order).
///
/// # Errors
/// Storage failures; an order whose facts cannot be folded is stored with an `unbalanced_entry`
/// flag rather than failing the caller.
pub async fn refresh_flags(
    tx: &mut dyn Tx,
    order_id: OrderId,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let Some(order) = tx.orders()?.get_order_for_update(order_id).await? else {
        return Ok(());
    };
    let journal = tx.ledger()?.order_entries(order_id).await?;
    let payouts: Vec<ReconPayout> = tx
        .payouts()?
        .order_payouts(order_id)
        .await?
        .into_iter()
        .map(|p| ReconPayout {
            seller: p.seller_id,
            status: p.status,
        })
        .collect();
    let refused = tx
        .reconciliation()?
        .refused_reversal_sellers(order_id)
        .await?;
    let anomalies = tx.reconciliation()?.order_anomalies(order_id).await?;
    let mut ready: BTreeMap<UserId, bool> = BTreeMap::new();
    for seller in order.sellers() {
        let status = tx.connect()?.get_connect(seller).await?;
        ready.insert(seller, status.is_some_and(|c| c.status.is_ready()));
    }
    let flags = {
        let seller_ready = |seller: UserId| ready.get(&seller).copied().unwrap_or(false);
        let books = OrderBooks {
            order: &order,
            journal: &journal,
            payouts: &payouts,
            refused_reversals: &refused,
            anomalies: &anomalies,
            seller_ready: &seller_ready,
        };
        match order_flags(&books) {
            Ok(flags) => stored(flags.iter().map(|f| (f.code(), f.to_string()))),
            Err(error) => vec![unfoldable(&error)],
        }
    };
    tx.reconciliation()?
        .replace_flags(order_id, &flags, now)
        .await
}

/// One stored flag per code, the details of several joined.
fn stored<'a>(flags: impl Iterator<Item = (&'a str, String)>) -> Vec<StoredFlag> {
    let mut by_code: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (code, detail) in flags {
        by_code.entry(code).or_default().push(detail);
    }
    by_code
        .into_iter()
        .map(|(code, details)| StoredFlag {
            code: code.to_owned(),
            detail: details.join("; "),
        })
        .collect()
}

fn unfoldable(error: &LedgerError) -> StoredFlag {
    StoredFlag {
        code: "unbalanced_entry".to_owned(),
        detail: format!("the order's money cannot be folded: {error}"),
    }
}
