//! The job queue, outbox, webhook inbox and site configuration stores' contract.

use marketplace_domain::entitlements::DownloadPolicy;
use marketplace_domain::ids::{JobId, MailId, OrderId, UserId};
use marketplace_domain::money::{BasisPoints, Currency, FeePercent};
use marketplace_domain::pagination::PageRequest;
use marketplace_domain::site::SiteConfig;

use super::{Subject, at, id};
use crate::ports::{
    JobKind, JobName, JobRecord, JobStatus, MailRecord, MailStatus, WebhookEndpoint,
    WebhookEventRecord, WebhookStatus,
};

fn payout_job() -> JobKind {
    JobKind::Payout {
        order: OrderId::from_uuid(id()),
        seller: UserId::from_uuid(id()),
    }
}

/// The jobs in `status`, newest change first.
async fn jobs_in(s: &Subject, status: JobStatus) -> Vec<JobRecord> {
    let page = PageRequest::first();
    s.queries
        .jobs()
        .unwrap()
        .list_jobs(Some(status), page)
        .await
        .unwrap()
        .items
}

/// One queued job per key; jobs are claimed when due, earliest first, counting the attempt; a
/// claimed job is not claimed again until its lease runs out.
pub async fn jobs_are_queued_once_per_key_and_claimed_in_order(s: Subject) {
    let (late, early) = (payout_job(), payout_job());
    let mail = JobKind::OrderMail {
        order: OrderId::from_uuid(id()),
    };
    let mut tx = s.uow.begin().await.unwrap();
    let jobs = tx.jobs().unwrap();
    jobs.enqueue(&late, at(20), 5, at(1)).await.unwrap();
    jobs.enqueue(&late, at(20), 5, at(2)).await.unwrap();
    jobs.enqueue(&early, at(10), 5, at(3)).await.unwrap();
    jobs.enqueue(&mail, at(30), 3, at(4)).await.unwrap();
    assert!(
        jobs.claim(at(5), at(65)).await.unwrap().is_none(),
        "nothing due yet"
    );
    let first = jobs.claim(at(25), at(85)).await.unwrap().unwrap();
    assert_eq!(
        (&first.kind, first.status, first.attempts),
        (&early, JobStatus::Running, 1)
    );
    let second = jobs.claim(at(25), at(85)).await.unwrap().unwrap();
    assert_eq!(second.kind, late);
    assert!(
        jobs.claim(at(25), at(85)).await.unwrap().is_none(),
        "the mail is not due"
    );
    assert!(jobs.complete(second.id, 1, at(26)).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(
        jobs_in(&s, JobStatus::Queued).await.len(),
        1,
        "the key was queued once"
    );
    assert_eq!(jobs_in(&s, JobStatus::Done).await[0].id, second.id);

    let mut tx = s.uow.begin().await.unwrap();
    let jobs = tx.jobs().unwrap();
    jobs.enqueue(&early, at(27), 5, at(27)).await.unwrap();
    let claimed = jobs.claim(at(40), at(100)).await.unwrap().unwrap();
    assert_eq!(
        claimed.kind, early,
        "a running job's key may be queued again"
    );
    let mail_job = jobs.claim(at(40), at(100)).await.unwrap().unwrap();
    assert_eq!((mail_job.kind, mail_job.max_attempts), (mail, 3));
    assert!(
        jobs.claim(at(80), at(140)).await.unwrap().is_none(),
        "leases still run"
    );
    let abandoned = jobs.claim(at(86), at(146)).await.unwrap().unwrap();
    assert_eq!(
        (abandoned.id, abandoned.attempts),
        (first.id, 2),
        "its worker vanished"
    );
    for late_word in [
        jobs.complete(first.id, 1, at(87)).await.unwrap(),
        jobs.retry(first.id, 1, at(90), "late", at(87))
            .await
            .unwrap(),
        jobs.bury(first.id, 1, "late", at(87)).await.unwrap(),
    ] {
        assert!(!late_word, "the worker whose lease ran out changes nothing");
    }
    tx.commit().await.unwrap();
    let all = s
        .queries
        .jobs()
        .unwrap()
        .list_jobs(None, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(all.total, 4);
    assert_eq!(all.items[0].id, abandoned.id, "newest change first");
    assert_eq!(
        (all.items[0].status, all.items[0].attempts),
        (JobStatus::Running, 2),
        "still the new worker's"
    );
}

/// A failed job goes back to the queue with its error, or is done when the same work was queued
/// meanwhile; a buried job waits for an owner, who revives it (one per key) with a fresh budget.
pub async fn failed_jobs_are_retried_buried_and_revived(s: Subject) {
    let (kind, other) = (payout_job(), payout_job());
    let mut tx = s.uow.begin().await.unwrap();
    let jobs = tx.jobs().unwrap();
    jobs.enqueue(&kind, at(1), 2, at(1)).await.unwrap();
    let job = jobs.claim(at(1), at(61)).await.unwrap().unwrap();
    assert!(
        jobs.retry(job.id, 1, at(30), "stripe timed out", at(2))
            .await
            .unwrap()
    );
    assert!(
        jobs.claim(at(29), at(89)).await.unwrap().is_none(),
        "backing off"
    );
    let again = jobs.claim(at(30), at(90)).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (job.id, 2));
    assert_eq!(again.last_error.as_deref(), Some("stripe timed out"));
    jobs.enqueue(&kind, at(31), 2, at(31)).await.unwrap();
    assert!(
        jobs.retry(job.id, 2, at(40), "again", at(32))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let queued = jobs_in(&s, JobStatus::Queued).await;
    assert_eq!(queued.len(), 1, "the retry gave way to the newer copy");
    assert_ne!(queued[0].id, job.id);
    assert_eq!(jobs_in(&s, JobStatus::Done).await[0].id, job.id);

    let mut tx = s.uow.begin().await.unwrap();
    let jobs = tx.jobs().unwrap();
    let newer = jobs.claim(at(41), at(101)).await.unwrap().unwrap();
    assert!(jobs.bury(newer.id, 1, "gave up", at(42)).await.unwrap());
    jobs.enqueue(&other, at(43), 2, at(43)).await.unwrap();
    let doomed = jobs.claim(at(43), at(103)).await.unwrap().unwrap();
    assert!(
        jobs.bury(doomed.id, 1, "gave up too", at(44))
            .await
            .unwrap()
    );
    assert!(!jobs.revive(JobId::from_uuid(id()), at(45)).await.unwrap());
    tx.commit().await.unwrap();
    let dead = jobs_in(&s, JobStatus::Dead).await;
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[1].last_error.as_deref(), Some("gave up"));

    let mut tx = s.uow.begin().await.unwrap();
    let jobs = tx.jobs().unwrap();
    assert!(jobs.revive(newer.id, at(50)).await.unwrap());
    assert!(
        !jobs.revive(newer.id, at(50)).await.unwrap(),
        "it is no longer dead"
    );
    let revived = jobs.claim(at(50), at(110)).await.unwrap().unwrap();
    assert_eq!(
        (revived.id, revived.attempts),
        (newer.id, 1),
        "a fresh budget"
    );
    assert!(
        jobs.bury(revived.id, 1, "still failing", at(51))
            .await
            .unwrap()
    );
    jobs.enqueue(&other, at(52), 2, at(52)).await.unwrap();
    let revived_count = jobs
        .revive_all(&[JobName::Payout, JobName::Reversal], at(53))
        .await
        .unwrap();
    assert_eq!(revived_count, 1, "the other key is queued already");
    assert_eq!(
        jobs.revive_all(&[JobName::OrderMail], at(54))
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();
    assert!(
        jobs_in(&s, JobStatus::Dead).await.is_empty(),
        "the superseded copy is done"
    );
    let queued: Vec<JobKind> = jobs_in(&s, JobStatus::Queued)
        .await
        .into_iter()
        .map(|j| j.kind)
        .collect();
    assert_eq!(queued.len(), 2);
    assert!(queued.contains(&kind) && queued.contains(&other));
}

fn mail(to: &str, key: Option<&str>, created: i64) -> MailRecord {
    MailRecord {
        id: MailId::from_uuid(id()),
        to: to.to_owned(),
        subject: "Your order".to_owned(),
        text_body: "text".to_owned(),
        html_body: "<p>html</p>".to_owned(),
        status: MailStatus::Queued,
        order_id: None,
        dedupe_key: key.map(str::to_owned),
        created_at: at(created),
    }
}

/// Mail with a dedupe key is written once; webhook events are recorded once; the site
/// configuration starts at its defaults and is replaced whole.
pub async fn mail_webhooks_and_site_config(s: Subject) {
    let mut tx = s.uow.begin().await.unwrap();
    let outbox = tx.mail().unwrap();
    assert!(
        outbox
            .insert_mail(&mail("a@example.com", Some("k"), 1))
            .await
            .unwrap()
    );
    assert!(
        !outbox
            .insert_mail(&mail("b@example.com", Some("k"), 2))
            .await
            .unwrap()
    );
    assert!(
        outbox
            .insert_mail(&mail("c@example.com", None, 3))
            .await
            .unwrap()
    );
    assert!(
        outbox
            .insert_mail(&mail("d@example.com", None, 4))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let outbox = s
        .queries
        .mail()
        .unwrap()
        .list_outbox(PageRequest::first())
        .await
        .unwrap();
    let to: Vec<&str> = outbox.items.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(to, ["d@example.com", "c@example.com", "a@example.com"]);
    assert_eq!(outbox.items[2], mail_with_id(&outbox.items[2]));

    let event = WebhookEventRecord {
        id: "evt_1".into(),
        endpoint: WebhookEndpoint::Payments,
        event_type: "checkout.session.completed".into(),
        created: at(1),
        status: WebhookStatus::Processing,
        outcome: "processing".into(),
        received_at: at(2),
        attempts: 1,
    };
    let mut tx = s.uow.begin().await.unwrap();
    assert!(
        tx.webhooks()
            .unwrap()
            .claim_webhook_event(&event, false)
            .await
            .unwrap()
    );
    drop(tx);
    let mut tx = s.uow.begin().await.unwrap();
    let inbox = tx.webhooks().unwrap();
    assert!(
        inbox.claim_webhook_event(&event, false).await.unwrap(),
        "the rollback forgot it"
    );
    assert!(
        !inbox.claim_webhook_event(&event, true).await.unwrap(),
        "a duplicate"
    );
    inbox
        .finish_webhook_event("evt_1", WebhookStatus::Applied, "applied: order paid", None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.uow.begin().await.unwrap();
    assert!(
        !tx.webhooks()
            .unwrap()
            .claim_webhook_event(&event, true)
            .await
            .unwrap()
    );
    // A failure is kept (with the payload) in a transaction of its own; an applied event is
    // never turned into a failed one.
    tx.webhooks()
        .unwrap()
        .record_webhook_failure(&event, "late", b"{}")
        .await
        .unwrap();
    let failing = WebhookEventRecord {
        id: "evt_2".into(),
        received_at: at(3),
        ..event.clone()
    };
    tx.webhooks()
        .unwrap()
        .record_webhook_failure(&failing, "database is unavailable", b"{\"id\":\"evt_2\"}")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let webhooks = s.queries.webhooks().unwrap();
    let (applied, payload) = webhooks.webhook_event("evt_1").await.unwrap().unwrap();
    assert_eq!(
        (applied.status, applied.outcome.as_str(), payload),
        (WebhookStatus::Applied, "applied: order paid", None)
    );
    let (failed, payload) = webhooks.webhook_event("evt_2").await.unwrap().unwrap();
    assert_eq!(
        (failed.status, failed.outcome.as_str(), failed.attempts),
        (WebhookStatus::Failed, "failed: database is unavailable", 1)
    );
    assert_eq!(payload.as_deref(), Some(&b"{\"id\":\"evt_2\"}"[..]));
    assert!(webhooks.webhook_event("evt_9").await.unwrap().is_none());
    let listed = |status| async move {
        webhooks
            .webhook_events(status, PageRequest::first())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|e| e.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(listed(None).await, ["evt_2", "evt_1"]);
    assert_eq!(listed(Some(WebhookStatus::Failed)).await, ["evt_2"]);
    // A redelivery claims the failed event again; a rejected one only when asked to.
    let mut tx = s.uow.begin().await.unwrap();
    let inbox = tx.webhooks().unwrap();
    assert!(inbox.claim_webhook_event(&failing, false).await.unwrap());
    inbox
        .finish_webhook_event(
            "evt_2",
            WebhookStatus::Rejected,
            "rejected: overflow",
            Some(b"{}"),
        )
        .await
        .unwrap();
    assert!(!inbox.claim_webhook_event(&failing, false).await.unwrap());
    assert!(inbox.claim_webhook_event(&failing, true).await.unwrap());
    tx.commit().await.unwrap();
    let (claimed, _) = webhooks.webhook_event("evt_2").await.unwrap().unwrap();
    assert_eq!(
        (claimed.status, claimed.attempts),
        (WebhookStatus::Processing, 3)
    );

    let site = s.queries.site_config().unwrap();
    assert_eq!(site.site_config().await.unwrap(), SiteConfig::default());
    let changed = SiteConfig {
        fee: FeePercent::from_basis_points(BasisPoints::new(1250).unwrap()),
        currency: Currency::parse("eur").unwrap(),
        allowed_shipping_countries: vec!["DE".into(), "FR".into()],
        dispute_fee_to_sellers: true,
        downloads: DownloadPolicy {
            limit: Some(3),
            expiry_days: Some(14),
        },
    };
    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.site_config().unwrap();
    store.update_site_config(&changed, at(3)).await.unwrap();
    assert_eq!(store.site_config().await.unwrap(), changed);
    assert_eq!(
        site.site_config().await.unwrap(),
        SiteConfig::default(),
        "not committed yet"
    );
    tx.commit().await.unwrap();
    assert_eq!(site.site_config().await.unwrap(), changed);
    s.queries.health().unwrap().ping().await.unwrap();
}

/// The first mail as written (its id comes from the store's answer).
fn mail_with_id(stored: &MailRecord) -> MailRecord {
    MailRecord {
        id: stored.id,
        ..mail("a@example.com", Some("k"), 1)
    }
}

/// Queued mail is claimed oldest first by one worker at a time, counted per attempt, retried when
/// asked and failed for good otherwise.
pub async fn outbox_mail_is_claimed_once_retried_and_failed(s: Subject) {
    let first = mail("a@example.com", None, 1);
    let second = mail("b@example.com", None, 2);
    let mut tx = s.uow.begin().await.unwrap();
    for m in [&first, &second] {
        assert!(tx.mail().unwrap().insert_mail(m).await.unwrap());
    }
    tx.commit().await.unwrap();
    let claim = |now: i64, lease: i64| {
        let uow = s.uow.clone();
        async move {
            let mut tx = uow.begin().await.unwrap();
            let claimed = tx
                .mail()
                .unwrap()
                .claim_due_mail(at(now), at(lease))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            claimed.map(|c| (c.mail.id, c.attempt))
        }
    };
    assert_eq!(claim(10, 70).await, Some((first.id, 1)), "oldest first");
    assert_eq!(
        claim(10, 70).await,
        Some((second.id, 1)),
        "a held mail is skipped"
    );
    assert_eq!(claim(10, 70).await, None);
    let mut tx = s.uow.begin().await.unwrap();
    tx.mail()
        .unwrap()
        .mail_not_sent(first.id, 1, "connection dropped", Some(at(100)))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        claim(50, 110).await,
        None,
        "not due yet; the other is still held"
    );
    assert_eq!(claim(100, 160).await, Some((first.id, 2)));
    let mut tx = s.uow.begin().await.unwrap();
    let outbox = tx.mail().unwrap();
    // The first attempt's late answer does not overwrite the second's claim.
    outbox
        .mail_not_sent(first.id, 1, "late", None)
        .await
        .unwrap();
    outbox.mail_sent(first.id, 2, at(101)).await.unwrap();
    outbox
        .mail_not_sent(second.id, 1, "550 no such user", None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        claim(200, 260).await,
        None,
        "sent and failed mail is never claimed"
    );
    let listed = s
        .queries
        .mail()
        .unwrap()
        .list_outbox(PageRequest::first())
        .await
        .unwrap();
    let statuses: Vec<(MailId, MailStatus)> =
        listed.items.iter().map(|m| (m.id, m.status)).collect();
    assert_eq!(
        statuses,
        [
            (second.id, MailStatus::Failed),
            (first.id, MailStatus::Sent)
        ]
    );
}
