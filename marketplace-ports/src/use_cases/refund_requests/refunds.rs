//! The refund-request job: sends the Stripe refund of each of an order's triggered requests — its
//! snapshotted amount, less what other refunds or lost disputes took from the line since — with
//! no transaction open during the call, then records Stripe's answer on the request. The refund's
//! webhook books the money on the request's line (docs/money.md, "Refund requests").

use std::collections::BTreeMap;

use marketplace_domain::ids::OrderId;
use marketplace_domain::money::Cents;
use marketplace_domain::refunds::{RefundRequestStatus, refund_request_key, refund_to_send};

use crate::ports::{NewRefund, PaymentError, Refund, RefundRequestRecord, RefundStatus};
use crate::use_cases::Deps;
use crate::use_cases::shared::jobs::JobError;
use crate::use_cases::shared::refund_requests::{StepBy, move_request};

/// What Stripe answered to one attempt.
enum Answer {
    /// It made the refund (succeeded, or settling).
    Accepted(Refund),
    /// It refused, with its reason.
    Refused(String),
}

/// Sends the refunds of `order_id`'s requests whose attempt is in flight.
///
/// # Errors
/// [`JobError::Transient`] while Stripe or storage is unavailable (the same attempt, with the same
/// idempotency key, is sent again).
pub async fn send_refund_requests(deps: &Deps, order_id: OrderId) -> Result<(), JobError> {
    let mut tx = deps.uow.begin().await?;
    let Some(order) = tx.orders()?.get_order_for_update(order_id).await? else {
        return Err(JobError::Permanent(format!(
            "order {order_id} does not exist"
        )));
    };
    let in_flight = tx.refund_requests()?.refunds_in_flight(order_id).await?;
    let entries = tx.ledger()?.order_entries(order_id).await?;
    drop(tx);
    let refunds = order.refunds(&entries)?;
    let mut refundable = refunds.refundable(&order.money())?;
    for request in in_flight {
        // Decided now, from the books: what refunds and disputes took since the request.
        let to_send = match order
            .lines()
            .iter()
            .position(|line| line.id == request.order_item_id)
        {
            Some(index) => refund_to_send(
                request.amount,
                order.lines()[index].money().paid()?,
                refunds.line_refunded(index)?,
                refundable,
            )
            .map_err(|refusal| refusal.to_string()),
            None => Err("the item is not part of the order".to_owned()),
        };
        let answer = match (order.stripe_payment_intent(), to_send) {
            (Some(intent), Ok(amount)) => ask_stripe(deps, intent, &request, amount).await?,
            (None, _) => Answer::Refused("the order was not paid through Stripe".to_owned()),
            (_, Err(why)) => Answer::Refused(why),
        };
        if let Answer::Accepted(refund) = &answer {
            // Not booked until its webhook: the next request of this run must not count on it.
            refundable = refundable.checked_sub(refund.amount)?.max(Cents::ZERO);
        }
        record_answer(deps, order_id, &request, answer).await?;
    }
    Ok(())
}

async fn ask_stripe(
    deps: &Deps,
    payment_intent: &str,
    request: &RefundRequestRecord,
    amount: Cents,
) -> Result<Answer, JobError> {
    let attempt = request.progress.attempts;
    let metadata = BTreeMap::from([
        ("order_id".to_owned(), request.order_id.to_string()),
        (
            "order_item_id".to_owned(),
            request.order_item_id.to_string(),
        ),
        ("refund_request_id".to_owned(), request.id.to_string()),
        ("refund_attempt".to_owned(), attempt.to_string()),
    ]);
    let refund = NewRefund {
        payment_intent: payment_intent.to_owned(),
        amount,
        metadata,
    };
    let key = refund_request_key(request.id, attempt);
    match deps.payments.create_refund(&refund, &key).await {
        Ok(refund) => Ok(match refund.status {
            RefundStatus::Failed | RefundStatus::Canceled => Answer::Refused(
                refund
                    .failure_reason
                    .unwrap_or_else(|| format!("the refund was {}", refund.status.as_str())),
            ),
            _ => Answer::Accepted(refund),
        }),
        Err(PaymentError::Declined { message }) => Ok(Answer::Refused(message)),
        Err(PaymentError::Rejected { code, message }) => {
            Ok(Answer::Refused(format!("{message} ({code})")))
        }
        Err(transient @ PaymentError::Transient { .. }) => Err(transient.into()),
    }
}

/// Records Stripe's answer on the request, unless the refund's webhook did first (or the attempt
/// is no longer the one in flight).
async fn record_answer(
    deps: &Deps,
    order_id: OrderId,
    sent: &RefundRequestRecord,
    answer: Answer,
) -> Result<(), JobError> {
    let now = deps.clock.now();
    let mut tx = deps.uow.begin().await?;
    // The order first, then the request: the order in which a refund's webhook locks them.
    let Some(order) = tx.orders()?.get_order_for_update(order_id).await? else {
        return Ok(());
    };
    let Some(mut request) = tx
        .refund_requests()?
        .refund_request_for_update(sent.id)
        .await?
    else {
        return Ok(());
    };
    if request.progress.attempts != sent.progress.attempts {
        return Ok(());
    }
    let (next, note) = match &answer {
        Answer::Accepted(refund) => {
            request.stripe_refund_id = Some(refund.id.clone());
            request.last_error = None;
            (
                request.progress.refund_accepted(),
                format!("Stripe refund {}", refund.id),
            )
        }
        Answer::Refused(reason) => {
            request.last_error = Some(reason.clone());
            (request.progress.refund_refused(), reason.clone())
        }
    };
    let Some(next) = next else {
        return Ok(());
    };
    debug_assert!(matches!(
        next.status,
        RefundRequestStatus::Refunded | RefundRequestStatus::Failed
    ));
    let by = StepBy {
        actor: None,
        note: &note,
    };
    move_request(tx.as_mut(), deps, &order, &mut request, next, by, now).await?;
    tx.commit().await?;
    Ok(())
}
