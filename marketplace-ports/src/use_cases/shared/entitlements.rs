//! Digital entitlements kept in step with an order's money (docs/money.md, "Digital
//! entitlements"): granted when the order is paid, revoked when a FILE line is refunded in full or
//! a dispute is lost, and given back when the refund that revoked it fails.

use marketplace_domain::catalog::ProductKind;
use marketplace_domain::ledger::JournalEntry;
use marketplace_domain::orders::{Order, OrderEvent};
use time::OffsetDateTime;

use crate::ports::{EntitlementRecord, StoreError, Tx};
use crate::use_cases::shared::booking::record_events;

/// Grants each FILE line of a paid order its entitlement under the site's download policy now (a
/// line granted before keeps its own), then applies what the order's refunds already took.
///
/// # Errors
/// Storage failures.
pub async fn grant_entitlements(
    tx: &mut dyn Tx,
    order: &Order,
    entries: &[JournalEntry],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let files: Vec<_> = order
        .lines()
        .iter()
        .filter(|line| line.kind == ProductKind::File)
        .collect();
    if files.is_empty() {
        return Ok(());
    }
    let policy = tx.site_config()?.site_config().await?.downloads;
    let paid_at = order.paid_at.unwrap_or(now);
    let grants: Vec<EntitlementRecord> = files
        .into_iter()
        .map(|line| EntitlementRecord {
            order_item_id: line.id,
            order_id: order.id,
            product_id: line.product_id,
            seller_id: line.seller_id,
            entitlement: policy.grant(paid_at),
        })
        .collect();
    tx.entitlements()?.grant_entitlements(&grants).await?;
    sync_revocations(tx, order, entries, now).await
}

/// Revokes the entitlement of each FILE line refunded in full (or of every line after a lost
/// dispute), and gives back the ones whose refunds no longer stand.
///
/// # Errors
/// Storage failures.
pub async fn sync_revocations(
    tx: &mut dyn Tx,
    order: &Order,
    entries: &[JournalEntry],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let lines = match order.file_lines_revoked(entries) {
        Ok(lines) => lines,
        Err(error) => {
            // The books were accepted entry by entry; a state they cannot explain is an owner's.
            let warning = OrderEvent::warning(format!(
                "downloads were left as they were: the refunds could not be read ({error})"
            ));
            return record_events(tx, order.id, &[warning], now).await;
        }
    };
    let store = tx.entitlements()?;
    for (line, revoked) in lines {
        store
            .set_entitlement_revoked(line, revoked.then_some(now))
            .await?;
    }
    Ok(())
}
