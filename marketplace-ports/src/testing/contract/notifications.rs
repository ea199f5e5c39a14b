//! Notifications: each user's own, newest first, read once; mail preferences per user.

use marketplace_domain::accounts::Roles;
use marketplace_domain::ids::{NotificationId, UserId};
use marketplace_domain::notifications::{MailPreferences, NotificationKind};
use marketplace_domain::pagination::PageRequest;

use super::{Subject, at, id, seed_user};
use crate::ports::NotificationRecord;

fn notification(user: UserId, n: i64) -> NotificationRecord {
    NotificationRecord {
        id: NotificationId::from_uuid(id()),
        user_id: user,
        kind: NotificationKind::NewQuestion,
        title: format!("question {n}"),
        body: "What size is it?".into(),
        subject_id: id(),
        read_at: None,
        created_at: at(n),
    }
}

/// A user sees only their notifications, newest first; marking one read is theirs to do and
/// happens once; marking all read counts the unread; preferences are kept per user.
pub async fn notifications_are_each_users_own_and_read_once(s: Subject) {
    let ann = seed_user(&s, "ann", Roles::default()).await;
    let ben = seed_user(&s, "ben", Roles::default()).await;
    let (first, second, third) = (
        notification(ann, 1),
        notification(ann, 2),
        notification(ann, 3),
    );
    let bens = notification(ben, 4);
    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.notifications().unwrap();
    for n in [&first, &second, &third, &bens] {
        store.insert_notification(n).await.unwrap();
    }
    tx.commit().await.unwrap();
    let reads = s.queries.notifications().unwrap();
    let titles = |page: marketplace_domain::pagination::Page<NotificationRecord>| {
        page.items.into_iter().map(|n| n.title).collect::<Vec<_>>()
    };
    assert_eq!(
        titles(
            reads
                .notifications(ann, false, PageRequest::first())
                .await
                .unwrap()
        ),
        ["question 3", "question 2", "question 1"]
    );
    assert_eq!(
        (
            reads.unread_count(ann).await.unwrap(),
            reads.unread_count(ben).await.unwrap()
        ),
        (3, 1)
    );

    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.notifications().unwrap();
    assert!(
        !store.mark_read(ben, first.id, at(10)).await.unwrap(),
        "not Ben's to mark"
    );
    assert!(store.mark_read(ann, second.id, at(10)).await.unwrap());
    assert!(store.mark_read(ann, second.id, at(20)).await.unwrap());
    tx.commit().await.unwrap();
    let all = reads
        .notifications(ann, false, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(
        all.items[1].read_at,
        Some(at(10)),
        "read once, when first marked"
    );
    assert_eq!(
        titles(
            reads
                .notifications(ann, true, PageRequest::first())
                .await
                .unwrap()
        ),
        ["question 3", "question 1"]
    );

    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.notifications().unwrap();
    assert_eq!(store.mark_all_read(ann, at(30)).await.unwrap(), 2);
    assert_eq!(store.mark_all_read(ann, at(40)).await.unwrap(), 0);
    tx.commit().await.unwrap();
    assert_eq!(
        (
            reads.unread_count(ann).await.unwrap(),
            reads.unread_count(ben).await.unwrap()
        ),
        (0, 1),
        "Ben's stay unread"
    );

    let muted = MailPreferences::muting([NotificationKind::Sale, NotificationKind::NewReview]);
    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.notifications().unwrap();
    assert_eq!(
        store.mail_preferences(ann).await.unwrap(),
        MailPreferences::default()
    );
    store.set_mail_preferences(ann, &muted).await.unwrap();
    store
        .set_mail_preferences(ann, &MailPreferences::muting([NotificationKind::Sale]))
        .await
        .unwrap();
    store.set_mail_preferences(ann, &muted).await.unwrap();
    assert_eq!(store.mail_preferences(ann).await.unwrap(), muted);
    assert_eq!(
        store.mail_preferences(ben).await.unwrap(),
        MailPreferences::default()
    );
    tx.commit().await.unwrap();
}
