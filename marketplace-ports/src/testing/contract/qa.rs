//! Questions and answers: threads most recently active first, messages oldest first with their
//! authors, deletions recorded in place.

use marketplace_domain::accounts::Roles;
use marketplace_domain::ids::{MessageId, ThreadId};
use marketplace_domain::pagination::PageRequest;

use super::shopping::fixture;
use super::{Subject, at, id, seed_user};
use crate::ports::{MessageRecord, ThreadRecord};

/// Threads come back most recently active first with their messages in order; a deletion keeps
/// the message in its place.
pub async fn threads_keep_their_messages_in_order(s: Subject) {
    let f = fixture(&s).await;
    let asker = seed_user(&s, "asker", Roles::default()).await;
    let thread = |n: i64| ThreadRecord {
        id: ThreadId::from_uuid(id()),
        product_id: f.print.id,
        seller_id: f.print.seller_id,
        author_id: asker,
        subject: format!("question {n}"),
        created_at: at(n),
        updated_at: at(n),
    };
    let message = |thread: &ThreadRecord, author, n: i64| MessageRecord {
        id: MessageId::from_uuid(id()),
        thread_id: thread.id,
        author_id: author,
        body: format!("message {n}"),
        created_at: at(n),
        deleted_at: None,
        deleted_by: None,
    };
    let (old, new) = (thread(1), thread(2));
    let first = message(&old, asker, 1);
    let answer = message(&old, f.print.seller_id, 5);
    let mut tx = s.uow.begin().await.unwrap();
    let qa = tx.qa().unwrap();
    qa.insert_thread(&old).await.unwrap();
    qa.insert_thread(&new).await.unwrap();
    qa.insert_message(&first).await.unwrap();
    qa.insert_message(&message(&new, asker, 2)).await.unwrap();
    qa.insert_message(&answer).await.unwrap();
    assert_eq!(
        qa.thread_for_update(old.id)
            .await
            .unwrap()
            .map(|t| t.updated_at),
        Some(at(5))
    );
    let mut deleted = qa.message_for_update(first.id).await.unwrap().unwrap();
    deleted.deleted_at = Some(at(6));
    deleted.deleted_by = Some(asker);
    qa.mark_deleted(&deleted).await.unwrap();
    tx.commit().await.unwrap();

    let reads = s.queries.qa().unwrap();
    let page = reads
        .product_threads(f.print.id, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    let subjects: Vec<&str> = page
        .items
        .iter()
        .map(|t| t.thread.subject.as_str())
        .collect();
    assert_eq!(
        subjects,
        ["question 1", "question 2"],
        "the answered one is newer"
    );
    let answered = &page.items[0];
    assert_eq!(answered.author, "asker");
    let bodies: Vec<(&str, bool)> = answered
        .messages
        .iter()
        .map(|m| (m.message.body.as_str(), m.message.deleted_at.is_some()))
        .collect();
    assert_eq!(bodies, [("message 1", true), ("message 5", false)]);
    assert_eq!(answered.messages[1].author, "alice");
    assert_eq!(reads.message(answer.id).await.unwrap(), Some(answer));
    assert_eq!(
        reads
            .thread(new.id)
            .await
            .unwrap()
            .map(|t| t.messages.len()),
        Some(1)
    );
}
