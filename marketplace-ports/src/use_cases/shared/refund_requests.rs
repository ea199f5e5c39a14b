//! Steps of a refund request several use cases share (docs/money.md, "Refund requests"): moving a
//! locked request and recording the step with an order event and its mail, and applying what
//! Stripe says about the request's refund, whichever of the job or a webhook hears it first.

use marketplace_domain::ids::{RefundRequestId, UserId};
use marketplace_domain::notifications::NotificationKind;
use marketplace_domain::orders::{Order, OrderEvent, OrderEventKind};
use marketplace_domain::refunds::{RefundProgress, RefundRequestStatus};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ports::{
    Mail, RefundData, RefundRequestRecord, RefundRequestStep, RefundStatus, StoreError, Tx,
};
use crate::use_cases::Deps;
use crate::use_cases::shared::booking::record_events;
use crate::use_cases::shared::mail::queue_mail;
use crate::use_cases::shared::notifications::{Notice, notify};

/// Who moved a request, and what they said.
#[derive(Clone, Copy, Debug)]
pub struct StepBy<'a> {
    /// The person (none for a guest or Stripe).
    pub actor: Option<UserId>,
    /// Their note (or Stripe's reason).
    pub note: &'a str,
}

/// The title of the request's line.
fn item_title(order: &Order, request: &RefundRequestRecord) -> String {
    order
        .lines()
        .iter()
        .find(|line| line.id == request.order_item_id)
        .map_or_else(|| "an item".to_owned(), |line| line.title.clone())
}

/// Queues a mail about the request (nothing when the address is unknown or empty).
async fn tell(
    tx: &mut dyn Tx,
    deps: &Deps,
    to: Option<String>,
    mail: &Mail,
    request: &RefundRequestRecord,
    dedupe_key: String,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    match to.filter(|to| !to.trim().is_empty()) {
        Some(to) => queue_mail(tx, deps, to, mail, Some(request.order_id), dedupe_key, now).await,
        None => Ok(()),
    }
}

/// Writes a new request with its first step, an order event, and the seller's mail.
///
/// # Errors
/// Storage failures ([`StoreError::Conflict`] on `refund_requests_one_per_line`).
pub async fn insert_request(
    tx: &mut dyn Tx,
    deps: &Deps,
    order: &Order,
    request: &RefundRequestRecord,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let store = tx.refund_requests()?;
    store.insert_refund_request(request).await?;
    let step = RefundRequestStep {
        status: request.progress.status,
        actor_id: request.buyer_id,
        note: request.notes.clone(),
        created_at: now,
    };
    store.add_refund_request_step(request.id, &step).await?;
    let item = item_title(order, request);
    let event = OrderEvent::new(
        OrderEventKind::RefundRequested,
        format!(
            "refund of {} requested for {item} ({}; request {})",
            request.amount,
            request.reason.as_str(),
            request.id
        ),
    );
    record_events(tx, order.id, &[event], now).await?;
    let mail = Mail::RefundRequested {
        request: request.id,
        item,
        amount: request.amount,
        currency: request.currency,
        reason: request.reason.as_str().to_owned(),
        notes: request.notes.clone(),
        request_url: deps.links.refund_request(request.id, None),
    };
    let notice = Notice {
        user: request.seller_id,
        kind: NotificationKind::RefundRequest,
        subject: request.id.get(),
        title: format!("Refund requested: {}", item_title(order, request)),
        body: format!(
            "A buyer asked for {} {} back ({}).",
            request.amount,
            request.currency,
            request.reason.as_str()
        ),
    };
    notify(tx, deps, notice, Some(mail), now).await
}

/// Moves a locked request to `next`, records the step and an order event, and mails the buyer when
/// it was approved, declined, refunded or its refund failed.
///
/// # Errors
/// Storage failures.
pub async fn move_request(
    tx: &mut dyn Tx,
    deps: &Deps,
    order: &Order,
    request: &mut RefundRequestRecord,
    next: RefundProgress,
    by: StepBy<'_>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let before = request.progress;
    if next.in_flight && !before.in_flight {
        // A new attempt: the refund of the one before (refused, or failed later) is not its own.
        request.stripe_refund_id = None;
    }
    request.progress = next;
    request.updated_at = now;
    let store = tx.refund_requests()?;
    store.update_refund_request(request).await?;
    let step = RefundRequestStep {
        status: next.status,
        actor_id: by.actor,
        note: by.note.to_owned(),
        created_at: now,
    };
    store.add_refund_request_step(request.id, &step).await?;
    let item = item_title(order, request);
    let (kind, what) = match next.status {
        RefundRequestStatus::Approved if next.in_flight => (
            OrderEventKind::RefundProcessed,
            format!("refund attempt {} sent to Stripe", next.attempts),
        ),
        RefundRequestStatus::Refunded | RefundRequestStatus::Failed => (
            OrderEventKind::RefundProcessed,
            format!("refund {}", next.status),
        ),
        status => (OrderEventKind::RefundDecided, status.to_string()),
    };
    let message = if by.note.is_empty() {
        format!("refund request {} for {item}: {what}", request.id)
    } else {
        format!(
            "refund request {} for {item}: {what} ({})",
            request.id, by.note
        )
    };
    record_events(tx, order.id, &[OrderEvent::new(kind, message)], now).await?;
    let tell_buyer = match next.status {
        RefundRequestStatus::Approved => before.status == RefundRequestStatus::Requested,
        RefundRequestStatus::Declined
        | RefundRequestStatus::Refunded
        | RefundRequestStatus::Failed => true,
        RefundRequestStatus::Requested | RefundRequestStatus::Canceled => false,
    };
    if !tell_buyer {
        return Ok(());
    }
    let mail = Mail::RefundRequestUpdated {
        request: request.id,
        item,
        amount: request.amount,
        currency: request.currency,
        status: next.status,
        note: by.note.to_owned(),
        request_url: deps.links.refund_request(request.id, order.guest_token()),
    };
    // One mail per state and attempt: a replayed outcome writes none.
    match order.buyer_id {
        // A registered buyer: in the app, and by mail unless they muted it.
        Some(buyer) => {
            let notice = Notice {
                user: buyer,
                kind: NotificationKind::RefundRequest,
                subject: request.id.get(),
                title: format!("Your refund request is {}", next.status),
                body: format!(
                    "{}: {} {}",
                    item_title(order, request),
                    request.amount,
                    request.currency
                ),
            };
            notify(tx, deps, notice, Some(mail), now).await
        }
        // A guest: by mail, once per state and attempt.
        None => {
            let key = format!(
                "refund_request:{}:{}:{}",
                request.id, next.status, next.attempts
            );
            tell(
                tx,
                deps,
                order.guest_email.clone(),
                &mail,
                request,
                key,
                now,
            )
            .await
        }
    }
}

/// Applies what Stripe says about a refund of a refund request (its metadata names the request)
/// to that request: accepted → refunded, failed or canceled → failed with Stripe's reason (it may
/// be triggered again). A replay, or news of an older attempt, changes nothing.
///
/// # Errors
/// Storage failures.
pub async fn apply_refund_outcome(
    tx: &mut dyn Tx,
    deps: &Deps,
    order: &Order,
    refund: &RefundData,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let Some(id) = refund
        .refund_request_id
        .as_deref()
        .and_then(|id| Uuid::parse_str(id).ok())
        .map(RefundRequestId::from_uuid)
    else {
        return Ok(());
    };
    let Some(mut request) = tx.refund_requests()?.refund_request_for_update(id).await? else {
        return Ok(());
    };
    if request.order_id != order.id {
        return Ok(());
    }
    // Only news of the current attempt moves the request: a late event of an earlier, refused
    // attempt must neither mark a retry refunded nor fail it.
    let current = match refund.refund_attempt {
        Some(attempt) => attempt == request.progress.attempts,
        None => request.stripe_refund_id.as_deref() == Some(refund.id.as_str()),
    };
    let known = request
        .stripe_refund_id
        .as_deref()
        .is_none_or(|known| known == refund.id);
    if !(current && known) {
        return Ok(());
    }
    let next = match refund.status {
        RefundStatus::Succeeded | RefundStatus::Pending | RefundStatus::RequiresAction => {
            request.progress.refund_accepted()
        }
        RefundStatus::Failed | RefundStatus::Canceled => request.progress.refund_refused(),
        RefundStatus::Other(_) => None,
    };
    let Some(next) = next else {
        return Ok(());
    };
    request.stripe_refund_id = Some(refund.id.clone());
    let reason = refund
        .failure_reason
        .clone()
        .unwrap_or_else(|| format!("Stripe reported the refund {}", refund.status.as_str()));
    let note = if next.status == RefundRequestStatus::Failed {
        request.last_error = Some(reason.clone());
        reason
    } else {
        request.last_error = None;
        format!("Stripe refund {}", refund.id)
    };
    let by = StepBy {
        actor: None,
        note: &note,
    };
    move_request(tx, deps, order, &mut request, next, by, now).await
}
