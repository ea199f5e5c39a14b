//! Refund requests: one holds a line at a time, history in order, lists by buyer, seller and
//! state, newest first.

use marketplace_domain::ids::RefundRequestId;
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::orders::Order;
use marketplace_domain::pagination::PageRequest;
use marketplace_domain::refunds::{RefundProgress, RefundReason, RefundRequestStatus};

use super::shopping::{fixture, insert, order};
use super::{Subject, at, id};
use crate::ports::{RefundRequestFilter, RefundRequestRecord, RefundRequestStep, StoreError};

fn request(order: &Order, created: i64) -> RefundRequestRecord {
    let line = &order.lines()[0];
    RefundRequestRecord {
        id: RefundRequestId::from_uuid(id()),
        order_id: order.id,
        order_item_id: line.id,
        seller_id: line.seller_id,
        buyer_id: order.buyer_id,
        reason: RefundReason::Damaged,
        notes: "cracked".into(),
        amount: Cents::new(1250),
        currency: Currency::USD,
        progress: RefundProgress::requested(),
        stripe_refund_id: None,
        last_error: None,
        created_at: at(created),
        updated_at: at(created),
    }
}

/// One request holds a line until it is declined or canceled; every step is kept in order.
pub async fn a_refund_request_holds_its_line_and_keeps_its_history(s: Subject) {
    let f = fixture(&s).await;
    let placed = order(f.buyer, &f.print, &f.file, 2);
    insert(&s, &placed).await;
    let first = request(&placed, 3);
    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.refund_requests().unwrap();
    assert!(!store.line_is_requested(first.order_item_id).await.unwrap());
    store.insert_refund_request(&first).await.unwrap();
    assert!(store.line_is_requested(first.order_item_id).await.unwrap());
    tx.commit().await.unwrap();
    // A refused write spoils its transaction (PostgreSQL): tried in one of its own.
    let mut tx = s.uow.begin().await.unwrap();
    let twice = tx
        .refund_requests()
        .unwrap()
        .insert_refund_request(&request(&placed, 4))
        .await
        .unwrap_err();
    assert!(
        twice.is_conflict_on("refund_requests_one_per_line"),
        "{twice:?}"
    );
    drop(tx);

    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.refund_requests().unwrap();
    let mut declined = store
        .refund_request_for_update(first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(declined, first);
    declined.progress.status = RefundRequestStatus::Declined;
    declined.updated_at = at(5);
    store.update_refund_request(&declined).await.unwrap();
    for (status, note, when) in [
        (RefundRequestStatus::Requested, "cracked", 3),
        (RefundRequestStatus::Declined, "worked when shipped", 5),
    ] {
        let step = RefundRequestStep {
            status,
            actor_id: Some(f.buyer),
            note: note.into(),
            created_at: at(when),
        };
        store
            .add_refund_request_step(first.id, &step)
            .await
            .unwrap();
    }
    assert!(
        !store.line_is_requested(first.order_item_id).await.unwrap(),
        "a declined request frees the line"
    );
    let mut second = request(&placed, 6);
    second.progress = RefundProgress {
        status: RefundRequestStatus::Approved,
        attempts: 2,
        in_flight: true,
    };
    second.last_error = Some("charge_disputed".into());
    store.insert_refund_request(&second).await.unwrap();
    let ghost = request(&placed, 7);
    assert_eq!(
        store.update_refund_request(&ghost).await.unwrap_err(),
        StoreError::NotFound
    );
    let in_flight = store.refunds_in_flight(placed.id).await.unwrap();
    assert_eq!(in_flight, [second.clone()], "only the attempt in flight");
    tx.commit().await.unwrap();

    let reads = s.queries.refund_requests().unwrap();
    assert_eq!(
        reads.refund_request(second.id).await.unwrap(),
        Some(second.clone())
    );
    let steps = reads.refund_request_steps(first.id).await.unwrap();
    let notes: Vec<&str> = steps.iter().map(|s| s.note.as_str()).collect();
    assert_eq!(notes, ["cracked", "worked when shipped"], "oldest first");
    let all = reads
        .refund_requests(RefundRequestFilter::default(), PageRequest::first())
        .await
        .unwrap();
    let ids: Vec<RefundRequestId> = all.items.iter().map(|r| r.id).collect();
    assert_eq!(ids, [second.id, first.id], "newest first");
    let past_the_end = reads
        .refund_requests(
            RefundRequestFilter::default(),
            PageRequest::parse(Some(5), Some(10)).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        (past_the_end.items.len(), past_the_end.total),
        (0, 2),
        "the total does not depend on the page"
    );
    let sellers = RefundRequestFilter {
        seller: Some(f.print.seller_id),
        status: Some(RefundRequestStatus::Approved),
        ..RefundRequestFilter::default()
    };
    let failed = reads
        .refund_requests(sellers, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(failed.total, 1);
    let strangers = RefundRequestFilter {
        seller: Some(f.file.seller_id),
        ..RefundRequestFilter::default()
    };
    assert_eq!(
        reads
            .refund_requests(strangers, PageRequest::first())
            .await
            .unwrap()
            .total,
        0
    );
    let buyers = RefundRequestFilter {
        buyer: Some(f.buyer),
        ..RefundRequestFilter::default()
    };
    assert_eq!(
        reads
            .refund_requests(buyers, PageRequest::first())
            .await
            .unwrap()
            .total,
        2
    );
}
