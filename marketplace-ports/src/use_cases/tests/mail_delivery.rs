//! Delivering outbox mail: sent once, retried after transient failures, failed for good on a
//! refusal or when the attempts run out.

use std::sync::{Arc, Mutex};

use marketplace_domain::ids::MailId;
use time::Duration;
use uuid::Uuid;

use super::World;
use crate::ports::{Clock, MailRecord, MailStatus, MockMailSender, SendError};
use crate::use_cases::mail_delivery::DeliveryRun;

/// A world whose mail server answers each attempt with the next of `answers` (then `Ok`).
fn world_answering(answers: Vec<Result<(), SendError>>) -> (World, Arc<Mutex<Vec<String>>>) {
    let sent: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = sent.clone();
    let answers = Arc::new(Mutex::new(answers.into_iter()));
    let world = World::configured(|deps| {
        let mut sender = MockMailSender::new();
        sender.expect_send().returning(move |mail| {
            seen.lock().unwrap().push(mail.to.clone());
            answers.lock().unwrap().next().unwrap_or(Ok(()))
        });
        deps.mail_sender = Some(Arc::new(sender));
    });
    (world, sent)
}

async fn queue(world: &World, to: &str) -> MailId {
    let record = MailRecord {
        id: MailId::from_uuid(Uuid::now_v7()),
        to: to.to_owned(),
        subject: "Your order".to_owned(),
        text_body: "text".to_owned(),
        html_body: "<p>html</p>".to_owned(),
        status: MailStatus::Queued,
        order_id: None,
        dedupe_key: None,
        created_at: world.clock.now(),
    };
    let mut tx = world.store.begin_tx().await;
    tx.mail().unwrap().insert_mail(&record).await.unwrap();
    tx.commit().await.unwrap();
    record.id
}

fn status(world: &World, id: MailId) -> MailStatus {
    world
        .state()
        .mail
        .iter()
        .find(|m| m.id == id)
        .unwrap()
        .status
}

#[tokio::test]
async fn a_dropped_connection_is_tried_again_after_the_backoff_and_then_sent() {
    let (world, sent) =
        world_answering(vec![Err(SendError::Transient("connection dropped".into()))]);
    let id = queue(&world, "ada@example.com").await;
    let delivery = &world.services.mail_delivery;
    assert_eq!(
        delivery.deliver_next().await.unwrap(),
        DeliveryRun::Retrying(id)
    );
    assert_eq!(status(&world, id), MailStatus::Queued);
    assert_eq!(
        delivery.deliver_next().await.unwrap(),
        DeliveryRun::Idle,
        "not due yet"
    );
    world.clock.advance(Duration::seconds(3));
    assert_eq!(
        delivery.deliver_next().await.unwrap(),
        DeliveryRun::Sent(id)
    );
    assert_eq!(status(&world, id), MailStatus::Sent);
    assert_eq!(
        delivery.deliver_next().await.unwrap(),
        DeliveryRun::Idle,
        "sent once"
    );
    assert_eq!(sent.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_refusal_fails_the_mail_for_good() {
    let (world, _) = world_answering(vec![Err(SendError::Permanent("550 no such user".into()))]);
    let id = queue(&world, "nobody@example.com").await;
    let delivery = &world.services.mail_delivery;
    assert_eq!(
        delivery.deliver_next().await.unwrap(),
        DeliveryRun::Failed(id)
    );
    assert_eq!(status(&world, id), MailStatus::Failed);
    world.clock.advance(Duration::hours(1));
    assert_eq!(delivery.deliver_next().await.unwrap(), DeliveryRun::Idle);
    let delivery_state = &world.state().mail_delivery[&id];
    assert_eq!(
        delivery_state.last_error.as_deref(),
        Some("550 no such user")
    );
}

#[tokio::test]
async fn transient_failures_give_up_after_the_last_attempt() {
    let failures = (0..20)
        .map(|_| Err(SendError::Transient("busy".into())))
        .collect();
    let (world, sent) = world_answering(failures);
    let id = queue(&world, "ada@example.com").await;
    let delivery = &world.services.mail_delivery;
    let max = world.deps.settings.job_max_attempts;
    let mut runs = Vec::new();
    for _ in 0..max {
        runs.push(delivery.deliver_next().await.unwrap());
        world.clock.advance(Duration::minutes(11));
    }
    assert_eq!(runs.last(), Some(&DeliveryRun::Failed(id)));
    assert!(
        runs[..runs.len() - 1]
            .iter()
            .all(|r| *r == DeliveryRun::Retrying(id))
    );
    assert_eq!(status(&world, id), MailStatus::Failed);
    assert_eq!(delivery.deliver_next().await.unwrap(), DeliveryRun::Idle);
    assert_eq!(sent.lock().unwrap().len(), usize::try_from(max).unwrap());
}

#[tokio::test]
async fn without_a_mail_server_mail_stays_in_the_outbox() {
    let world = World::new();
    let id = queue(&world, "ada@example.com").await;
    assert_eq!(
        world.services.mail_delivery.deliver_next().await.unwrap(),
        DeliveryRun::Idle
    );
    assert_eq!(status(&world, id), MailStatus::Queued);
}
