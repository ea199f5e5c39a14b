//! Reports and suspensions: one open report per (content, reporter), the queue oldest first,
//! resolutions written once, and a suspension that ends the user's sessions.

use marketplace_domain::accounts::Roles;
use marketplace_domain::ids::{ReportId, SessionId, UserId};
use marketplace_domain::moderation::{ReportReason, ReportStatus, ReportTarget, Resolution};
use marketplace_domain::pagination::PageRequest;
use uuid::Uuid;

use super::{Subject, at, id, seed_user};
use crate::ports::{ReportFilter, ReportRecord, SessionRecord, StoreError};

fn report(target: ReportTarget, target_id: Uuid, reporter: UserId, n: i64) -> ReportRecord {
    ReportRecord {
        id: ReportId::from_uuid(id()),
        target,
        target_id,
        reporter_id: reporter,
        reason: ReportReason::Spam,
        details: format!("report {n}"),
        status: ReportStatus::Open,
        resolved_by: None,
        resolution_note: String::new(),
        created_at: at(n),
        resolved_at: None,
    }
}

/// A reporter has one open report per piece of content (another once it is resolved); the queue
/// is oldest first, resolved ones newest first; a resolution reads back as written.
pub async fn reports_are_one_open_per_reporter_and_resolved_once(s: Subject) {
    let first = seed_user(&s, "first", Roles::default()).await;
    let second = seed_user(&s, "second", Roles::default()).await;
    let staff = seed_user(
        &s,
        "staff",
        Roles {
            is_staff: true,
            ..Roles::default()
        },
    )
    .await;
    let (review, message) = (id(), id());
    let r1 = report(ReportTarget::Review, review, first, 1);
    let r2 = report(ReportTarget::Review, review, second, 2);
    let r3 = report(ReportTarget::Message, message, first, 3);
    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.moderation().unwrap();
    for r in [&r1, &r2, &r3] {
        store.insert_report(r).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = s.uow.begin().await.unwrap();
    let again = tx
        .moderation()
        .unwrap()
        .insert_report(&report(ReportTarget::Review, review, first, 4))
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict { ref constraint }) if constraint == "reports_one_open_per_reporter"),
        "{again:?}"
    );
    drop(tx);

    let reads = s.queries.moderation().unwrap();
    let details = |page: marketplace_domain::pagination::Page<ReportRecord>| {
        page.items
            .into_iter()
            .map(|r| r.details)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        details(
            reads
                .reports(ReportFilter::Open, PageRequest::first())
                .await
                .unwrap()
        ),
        ["report 1", "report 2", "report 3"],
        "the queue: oldest first"
    );

    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.moderation().unwrap();
    let mut on_review = store
        .open_reports_on(ReportTarget::Review, review)
        .await
        .unwrap();
    on_review.sort_by_key(|r| r.created_at);
    assert_eq!(on_review, [r1.clone(), r2.clone()]);
    let mut resolved = store.report_for_update(r1.id).await.unwrap().unwrap();
    resolved.status = ReportStatus::Resolved(Resolution::Dismissed);
    resolved.resolved_by = Some(staff);
    resolved.resolution_note = "not spam".into();
    resolved.resolved_at = Some(at(10));
    store.update_report(&resolved).await.unwrap();
    let unknown = report(ReportTarget::Reply, id(), first, 5);
    assert!(matches!(
        store.update_report(&unknown).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
    assert_eq!(reads.report(r1.id).await.unwrap(), Some(resolved));
    assert_eq!(
        details(
            reads
                .reports(ReportFilter::Resolved, PageRequest::first())
                .await
                .unwrap()
        ),
        ["report 1"]
    );

    // Resolved, it no longer holds the reporter back.
    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.moderation().unwrap();
    store
        .insert_report(&report(ReportTarget::Review, review, first, 6))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let all = reads
        .reports(ReportFilter::All, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(all.total, 4);
    assert_eq!(all.items[0].details, "report 6", "newest first");
}

/// Suspending a user ends every session of theirs; lifting it does not bring them back; an
/// unknown user is said to be unknown.
pub async fn a_suspension_ends_the_users_sessions(s: Subject) {
    let user = seed_user(&s, "spammer", Roles::default()).await;
    let session = SessionRecord {
        id: SessionId::from_uuid(id()),
        user_id: user,
        token_digest: "digest-s".into(),
        csrf_token: "csrf".into(),
        created_at: at(0),
        expires_at: at(1000),
    };
    let mut tx = s.uow.begin().await.unwrap();
    tx.sessions()
        .unwrap()
        .insert_session(&session)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let accounts = s.queries.accounts().unwrap();
    assert!(
        accounts
            .session_user("digest-s", at(1))
            .await
            .unwrap()
            .is_some()
    );
    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.moderation().unwrap();
    assert!(store.set_suspended(user, true).await.unwrap());
    assert!(
        !store
            .set_suspended(UserId::from_uuid(id()), true)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert!(
        accounts
            .session_user("digest-s", at(2))
            .await
            .unwrap()
            .is_none()
    );
    let mut tx = s.uow.begin().await.unwrap();
    assert!(
        tx.moderation()
            .unwrap()
            .set_suspended(user, false)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert!(
        accounts
            .session_user("digest-s", at(3))
            .await
            .unwrap()
            .is_none(),
        "a lifted suspension does not revive old sessions"
    );
}
