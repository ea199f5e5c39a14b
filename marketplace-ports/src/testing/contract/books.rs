//! Anomalies, reconciliation flags, adjustments and the audit log.

use marketplace_domain::accounts::Roles;
use marketplace_domain::ids::AdjustmentId;
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::PageRequest;
use marketplace_domain::reconcile::{Anomaly, AnomalyKind};

use super::shopping::{fixture, insert, order};
use super::{Subject, at, id, seed_user};
use crate::ports::{AdjustmentRecord, AuditEntry, ReconFilter, StoredFlag};

fn flag(code: &str) -> StoredFlag {
    StoredFlag {
        code: code.to_owned(),
        detail: format!("{code} detail"),
    }
}

/// Anomalies are recorded once per (kind, reference) and resolved by kind; flags are replaced as a
/// whole and the report finds orders by flag, placing date and seller, most recently flagged
/// first.
pub async fn anomalies_and_flags_make_the_reconciliation_report(s: Subject) {
    let f = fixture(&s).await;
    let first = order(f.buyer, &f.print, &f.file, 2);
    let second = order(f.buyer, &f.print, &f.file, 30);
    insert(&s, &first).await;
    insert(&s, &second).await;
    let mismatch = Anomaly {
        kind: AnomalyKind::ChargeMismatch,
        reference: "cs_1".into(),
        amount: Some(Cents::new(999)),
        currency: Some("usd".into()),
        resolved: false,
    };
    let mut tx = s.uow.begin().await.unwrap();
    let books = tx.reconciliation().unwrap();
    books
        .record_anomalies(first.id, &[mismatch.clone(), mismatch.clone()], at(3))
        .await
        .unwrap();
    books
        .record_anomalies(first.id, std::slice::from_ref(&mismatch), at(4))
        .await
        .unwrap();
    assert_eq!(
        books.order_anomalies(first.id).await.unwrap(),
        std::slice::from_ref(&mismatch),
        "once per kind and reference"
    );
    assert_eq!(
        books
            .resolve_anomalies(first.id, AnomalyKind::ExtraPayment, None, at(5))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        books
            .resolve_anomalies(
                first.id,
                AnomalyKind::ChargeMismatch,
                Some("cs_other"),
                at(5)
            )
            .await
            .unwrap(),
        0,
        "only the one about that reference"
    );
    assert_eq!(
        books
            .resolve_anomalies(first.id, AnomalyKind::ChargeMismatch, Some("cs_1"), at(5))
            .await
            .unwrap(),
        1
    );
    assert!(books.order_anomalies(first.id).await.unwrap()[0].resolved);
    books
        .replace_flags(
            first.id,
            &[flag("charge_mismatch"), flag("dispute_open")],
            at(6),
        )
        .await
        .unwrap();
    books
        .replace_flags(second.id, &[flag("payout_failed")], at(7))
        .await
        .unwrap();
    books
        .replace_flags(first.id, &[flag("dispute_open")], at(8))
        .await
        .unwrap();
    assert!(
        books
            .refused_reversal_sellers(first.id)
            .await
            .unwrap()
            .is_empty()
    );
    tx.commit().await.unwrap();

    let report = s.queries.reconciliation().unwrap();
    let all = report
        .flagged_orders(&ReconFilter::default(), PageRequest::first())
        .await
        .unwrap();
    let listed: Vec<_> = all.items.iter().map(|o| o.order_id).collect();
    assert_eq!(listed, [first.id, second.id], "most recently flagged first");
    assert_eq!(all.total, 2);
    assert_eq!(
        all.items[0].flags,
        [flag("dispute_open")],
        "replaced as a whole"
    );
    assert_eq!(all.items[0].flagged_at, at(8));
    assert_eq!(all.items[0].total, first.total);
    let by_flag = |code: &str| ReconFilter {
        flag: Some(code.to_owned()),
        ..ReconFilter::default()
    };
    let failed = report
        .flagged_orders(&by_flag("payout_failed"), PageRequest::first())
        .await
        .unwrap();
    assert_eq!(failed.items.len(), 1);
    assert_eq!(failed.items[0].order_id, second.id);
    let late = ReconFilter {
        since: Some(at(10)),
        ..ReconFilter::default()
    };
    let late = report
        .flagged_orders(&late, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(late.items.len(), 1, "placed at or after");
    let strangers = ReconFilter {
        seller: Some(seed_user(&s, "stranger", Roles::default()).await),
        ..ReconFilter::default()
    };
    assert_eq!(
        report
            .flagged_orders(&strangers, PageRequest::first())
            .await
            .unwrap()
            .total,
        0
    );
    let sellers = ReconFilter {
        seller: Some(f.file.seller_id),
        ..ReconFilter::default()
    };
    assert_eq!(
        report
            .flagged_orders(&sellers, PageRequest::first())
            .await
            .unwrap()
            .total,
        2
    );

    let mut tx = s.uow.begin().await.unwrap();
    tx.reconciliation()
        .unwrap()
        .replace_flags(second.id, &[], at(9))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        report
            .flagged_orders(&ReconFilter::default(), PageRequest::first())
            .await
            .unwrap()
            .total,
        1,
        "no flags, out of the report"
    );
}

/// An adjustment is found by its key, the key is unique, and the audit log is newest first.
pub async fn adjustments_are_unique_per_key_and_audited(s: Subject) {
    let f = fixture(&s).await;
    let owner = seed_user(&s, "owner", Roles::default()).await;
    let adjustment = AdjustmentRecord {
        id: AdjustmentId::from_uuid(id()),
        seller_id: f.print.seller_id,
        amount: Cents::new(-250),
        currency: Currency::USD,
        note: "damaged in transit".into(),
        idempotency_key: "adj-1".into(),
        created_by: owner,
        created_at: at(1),
    };
    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.adjustments().unwrap();
    assert!(store.adjustment_by_key("adj-1").await.unwrap().is_none());
    store.insert_adjustment(&adjustment).await.unwrap();
    assert_eq!(
        store.adjustment_by_key("adj-1").await.unwrap(),
        Some(adjustment.clone())
    );
    for (n, action) in ["adjustment.create", "reconciliation.resolve"]
        .iter()
        .enumerate()
    {
        store
            .record_audit(&AuditEntry {
                actor_id: owner,
                action: (*action).to_owned(),
                subject: "seller:x".into(),
                detail: "why".into(),
                created_at: at(2 + i64::try_from(n).unwrap()),
            })
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = s.uow.begin().await.unwrap();
    let again = AdjustmentRecord {
        id: AdjustmentId::from_uuid(id()),
        ..adjustment
    };
    let twice = tx
        .adjustments()
        .unwrap()
        .insert_adjustment(&again)
        .await
        .unwrap_err();
    assert!(
        twice.is_conflict_on("adjustments_idempotency_key_key"),
        "{twice:?}"
    );
    drop(tx);
    let log = s
        .queries
        .audit()
        .unwrap()
        .audit_log(PageRequest::first())
        .await
        .unwrap();
    let actions: Vec<&str> = log.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["reconciliation.resolve", "adjustment.create"]);
    assert_eq!(log.total, 2);
}
