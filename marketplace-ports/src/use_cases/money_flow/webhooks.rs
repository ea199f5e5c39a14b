//! Stripe webhooks: verify, then in ONE transaction record the event id and apply its effects
//! (journal entries, order state, queued jobs), then commit. A duplicate event id changes
//! nothing; any failure rolls everything back, keeps the event as `failed` with its payload and
//! answers "retry" so Stripe delivers it again (or an owner processes it again).
//! Unknown types and events for unknown orders are recorded and acknowledged. Every money fact is
//! booked once under its key and an order's state follows the facts that stand, so events may
//! arrive in any order.
//!
//! Longer than our usual ~600 lines on purpose: it is the one place that maps each Stripe event
//! type to its booking, so a reviewer reads every money fact's entry point side by side.

use marketplace_domain::ids::OrderId;
use marketplace_domain::ledger::Fact;
use marketplace_domain::money::Cents;
use marketplace_domain::orders::{
    CheckoutCompletion, CompletedCheckout, Order, OrderEvent, SessionEnd,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ports::{
    AuditEntry, ChargeData, CheckoutSessionData, DisputeData, DisputeStatus, EventPayload, JobKind,
    RefundData, RefundStatus, StoreError, StripeEvent, Tx, WebhookEndpoint, WebhookError,
    WebhookEventRecord, WebhookStatus,
};
use crate::use_cases::shared::booking::{
    after_payment, book, book_refund, enqueue, lock_books, persist, record_events,
    refuse_other_currency,
};
use crate::use_cases::shared::reconciliation::refresh_flags;
use crate::use_cases::shared::sellers::apply_account_status;
use crate::use_cases::{Actor, Deps, ErrorKind, Settings, UseCaseError};

/// Why a webhook was not processed.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveWebhookError {
    /// Not a genuine, fresh Stripe event: refused, nothing recorded.
    #[error(transparent)]
    Verification(#[from] WebhookError),
    /// Applying it failed: rolled back, Stripe will deliver it again.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A genuine event whose amounts cannot be booked (they overflow): recorded with the reason,
    /// nothing applied.
    #[error("the event was rejected: {0}")]
    Rejected(String),
}

impl UseCaseError for ReceiveWebhookError {
    fn kind(&self) -> ErrorKind {
        match self {
            // Signed, but not an event we can store (an overlong or NUL-bearing identifier).
            ReceiveWebhookError::Verification(WebhookError::MalformedEvent(_)) => {
                ErrorKind::BadRequest {
                    code: "malformed_event",
                }
            }
            ReceiveWebhookError::Verification(_) => ErrorKind::BadRequest {
                code: "webhook_verification_failed",
            },
            ReceiveWebhookError::Rejected(_) => ErrorKind::Unprocessable {
                code: "webhook_rejected",
            },
            ReceiveWebhookError::Store(e @ StoreError::Unavailable(_)) => e.kind(),
            // Whatever failed was rolled back: asking for a retry makes Stripe deliver it again.
            ReceiveWebhookError::Store(_) => ErrorKind::Unavailable {
                code: "retry_later",
                message: "the event could not be applied now; deliver it again",
            },
        }
    }
}

/// What happened to an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Its effects were applied.
    Applied(String),
    /// Seen before: nothing done.
    Duplicate,
    /// Recorded, nothing to do.
    Ignored(String),
    /// Recorded and refused: its amounts cannot be booked. Nothing was applied.
    Rejected(String),
}

/// Why an owner could not process a kept event again.
#[derive(Debug, thiserror::Error)]
pub enum ProcessAgainError {
    /// Only owners.
    #[error("only the marketplace owner can do this")]
    Forbidden,
    /// No such event.
    #[error("not found")]
    NotFound,
    /// The event did not fail (or was not rejected): processing it again would apply it twice.
    #[error("only a failed or rejected event can be processed again")]
    NotFailed,
    /// The event failed before payloads were kept: only a redelivery from Stripe can bring it.
    #[error("the event's payload was not kept; resend it from the Stripe dashboard")]
    NoPayload,
    /// Processing it failed again, or its payload cannot be read.
    #[error(transparent)]
    Receive(#[from] ReceiveWebhookError),
}

impl UseCaseError for ProcessAgainError {
    fn kind(&self) -> ErrorKind {
        match self {
            ProcessAgainError::Forbidden => ErrorKind::Forbidden { code: "forbidden" },
            ProcessAgainError::NotFound => ErrorKind::NotFound,
            ProcessAgainError::NotFailed => ErrorKind::Conflict { code: "not_failed" },
            ProcessAgainError::NoPayload => ErrorKind::Conflict { code: "no_payload" },
            ProcessAgainError::Receive(e) => e.kind(),
        }
    }
}

operation_group!(
    /// Stripe webhooks.
    WebhookReceiver
);

impl WebhookReceiver {
    /// Verifies, records and applies one delivery. When applying fails, everything is rolled
    /// back, the event is kept as `failed` with its payload (a redelivery or an owner processes
    /// it again), and Stripe is asked to retry.
    ///
    /// # Errors
    /// [`ReceiveWebhookError::Verification`] or [`ReceiveWebhookError::Store`].
    pub async fn handle(
        &self,
        endpoint: WebhookEndpoint,
        payload: &[u8],
        signature: &str,
    ) -> Result<WebhookOutcome, ReceiveWebhookError> {
        let now = self.deps.clock.now();
        let event = self
            .deps
            .webhooks
            .verify(endpoint, payload, signature, now)?;
        self.process(endpoint, &event, payload, None).await
    }

    /// Processes a kept `failed` or `rejected` event again (owners), as if Stripe delivered it:
    /// its effects are applied once, and the action goes to the audit log in the same
    /// transaction.
    ///
    /// # Errors
    /// [`ProcessAgainError`].
    pub async fn process_again(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<WebhookOutcome, ProcessAgainError> {
        if !actor.roles.is_owner() {
            return Err(ProcessAgainError::Forbidden);
        }
        // Stripe's event ids are short and plain (`evt_…`): anything else was never received.
        let plain = |c: char| c.is_ascii_alphanumeric() || c == '_';
        if id.is_empty() || id.len() > 255 || !id.chars().all(plain) {
            return Err(ProcessAgainError::NotFound);
        }
        let (record, payload) = self
            .deps
            .queries
            .webhooks()
            .map_err(ReceiveWebhookError::from)?
            .webhook_event(id)
            .await
            .map_err(ReceiveWebhookError::from)?
            .ok_or(ProcessAgainError::NotFound)?;
        if !record.status.may_process_again() {
            return Err(ProcessAgainError::NotFailed);
        }
        let payload = payload.ok_or(ProcessAgainError::NoPayload)?;
        let event = self
            .deps
            .webhooks
            .parse(&payload)
            .map_err(ReceiveWebhookError::from)?;
        if event.id != record.id {
            return Err(ProcessAgainError::NotFound);
        }
        match self
            .process(record.endpoint, &event, &payload, Some(actor))
            .await
        {
            Err(ReceiveWebhookError::Rejected(why)) => Ok(WebhookOutcome::Rejected(why)),
            other => Ok(other?),
        }
    }

    /// Claims, applies and records one event in one transaction; on a storage failure keeps it
    /// as `failed` in a transaction of its own. `by_owner` processes a kept event again.
    async fn process(
        &self,
        endpoint: WebhookEndpoint,
        event: &StripeEvent,
        payload: &[u8],
        by_owner: Option<&Actor>,
    ) -> Result<WebhookOutcome, ReceiveWebhookError> {
        let now = self.deps.clock.now();
        let record = WebhookEventRecord {
            id: event.id.clone(),
            endpoint,
            event_type: event.event_type.clone(),
            created: event.created,
            status: WebhookStatus::Processing,
            outcome: "processing".to_owned(),
            received_at: now,
            attempts: 1,
        };
        match self
            .apply_once(&record, event, payload, by_owner, now)
            .await
        {
            Err(ReceiveWebhookError::Store(error)) => {
                self.keep_failed(&record, &error, payload).await;
                Err(ReceiveWebhookError::Store(error))
            }
            other => other,
        }
    }

    async fn apply_once(
        &self,
        record: &WebhookEventRecord,
        event: &StripeEvent,
        payload: &[u8],
        by_owner: Option<&Actor>,
        now: OffsetDateTime,
    ) -> Result<WebhookOutcome, ReceiveWebhookError> {
        let mut tx = self.deps.uow.begin().await?;
        // A concurrent delivery of the same event waits here on the unique key until the first
        // commits (then finds it) or rolls back (then processes it).
        if !tx
            .webhooks()?
            .claim_webhook_event(record, by_owner.is_some())
            .await?
        {
            return Ok(WebhookOutcome::Duplicate);
        }
        let outcome = if event.livemode != self.deps.settings.stripe_livemode {
            WebhookOutcome::Ignored("livemode does not match the configured key".to_owned())
        } else {
            self.apply(tx.as_mut(), event, now).await?
        };
        let (status, described, kept) = match &outcome {
            WebhookOutcome::Applied(what) => {
                (WebhookStatus::Applied, format!("applied: {what}"), None)
            }
            WebhookOutcome::Ignored(why) => {
                (WebhookStatus::Ignored, format!("ignored: {why}"), None)
            }
            WebhookOutcome::Rejected(why) => (
                WebhookStatus::Rejected,
                format!("rejected: {why}"),
                Some(payload),
            ),
            WebhookOutcome::Duplicate => (WebhookStatus::Applied, "duplicate".to_owned(), None),
        };
        tx.webhooks()?
            .finish_webhook_event(&event.id, status, &described, kept)
            .await?;
        if let Some(owner) = by_owner {
            let entry = AuditEntry {
                actor_id: owner.user_id,
                action: "webhook.process_again".to_owned(),
                subject: format!("webhook:{}", event.id),
                detail: described.clone(),
                created_at: now,
            };
            tx.adjustments()?.record_audit(&entry).await?;
        }
        tx.commit().await?;
        tracing::info!(event = %event.id, kind = %event.event_type, outcome = %described, "webhook");
        match outcome {
            WebhookOutcome::Rejected(why) => Err(ReceiveWebhookError::Rejected(why)),
            other => Ok(other),
        }
    }

    /// Keeps an event whose processing failed, for a redelivery or an owner (best effort: when
    /// the database is down this fails too, and Stripe's redelivery is what remains).
    async fn keep_failed(&self, record: &WebhookEventRecord, error: &StoreError, payload: &[u8]) {
        let kept = async {
            let mut tx = self.deps.uow.begin().await?;
            tx.webhooks()?
                .record_webhook_failure(record, &error.to_string(), payload)
                .await?;
            tx.commit().await
        };
        if let Err(failure) = kept.await {
            tracing::error!(event = %record.id, %error, %failure, "a failed webhook event could not be kept");
        }
    }

    async fn apply(
        &self,
        tx: &mut dyn Tx,
        event: &StripeEvent,
        now: OffsetDateTime,
    ) -> Result<WebhookOutcome, StoreError> {
        match &event.payload {
            EventPayload::CheckoutCompleted(session)
            | EventPayload::CheckoutAsyncSucceeded(session) => {
                self.on_session_completed(tx, session, now).await
            }
            EventPayload::CheckoutAsyncFailed(session) => {
                on_session_ended(tx, session, SessionEnd::PaymentFailed, now).await
            }
            EventPayload::CheckoutExpired(session) => {
                on_session_ended(tx, session, SessionEnd::Expired, now).await
            }
            EventPayload::ChargeRefunded(charge) => {
                self.on_charge_refunded(tx, charge, event.created, now)
                    .await
            }
            EventPayload::RefundChanged(refund) => on_refund(tx, refund, &self.deps, now).await,
            EventPayload::DisputeOpened(dispute) => {
                on_dispute_opened(tx, dispute, &event.event_type, &self.deps.settings, now).await
            }
            EventPayload::DisputeUpdated(dispute) => {
                note_dispute(tx, dispute, &event.event_type, now).await
            }
            EventPayload::DisputeReinstated(dispute) => {
                book_dispute_won(tx, dispute, &self.deps.settings, now).await
            }
            EventPayload::DisputeClosed(dispute) => {
                on_dispute_closed(tx, dispute, &self.deps.settings, now).await
            }
            EventPayload::AccountUpdated(account) => {
                let applied = apply_account_status(
                    tx,
                    account,
                    Some(event.created),
                    &self.deps.settings,
                    now,
                )
                .await?;
                Ok(match applied {
                    Some(what) => WebhookOutcome::Applied(what),
                    None => {
                        WebhookOutcome::Ignored(format!("no seller has account {}", account.id))
                    }
                })
            }
            EventPayload::Ignored { reason } => Ok(WebhookOutcome::Ignored(reason.clone())),
            EventPayload::Rejected { reason } => Ok(WebhookOutcome::Rejected(reason.clone())),
        }
    }

    async fn on_session_completed(
        &self,
        tx: &mut dyn Tx,
        session: &CheckoutSessionData,
        now: OffsetDateTime,
    ) -> Result<WebhookOutcome, StoreError> {
        let mut order = match session_order_for_update(tx, session).await? {
            Ok(order) => order,
            Err(reason) => return Ok(WebhookOutcome::Ignored(reason)),
        };
        let order_id = order.id;
        let booked = tx.ledger()?.order_entries(order_id).await?;
        let completed = CompletedCheckout {
            session_id: session.id.clone(),
            payment_intent: session.payment_intent.clone(),
            payment_status: session.payment_status.clone(),
            amount_total: session.amount_total,
            currency: session.currency.clone(),
            shipping: session.shipping.clone(),
        };
        let (completion, change) = order.complete_checkout(&completed, &booked, now);
        persist(tx, &order, &change, now).await?;
        if completion == CheckoutCompletion::PaidByAnotherPayment && change.booked_something() {
            let refund = JobKind::ExtraPaymentRefund { order: order_id };
            enqueue(tx, &refund, &self.deps.settings, now).await?;
        }
        Ok(match completion {
            CheckoutCompletion::AwaitingPayment => {
                WebhookOutcome::Applied(format!("order {order_id} awaits its payment"))
            }
            CheckoutCompletion::PaidByAnotherPayment => WebhookOutcome::Applied(format!(
                "order {order_id} was already paid by another payment: recorded for the owner"
            )),
            CheckoutCompletion::WrongCurrency => WebhookOutcome::Ignored(format!(
                "session {} is not in order {order_id}'s currency: recorded for the owner",
                session.id
            )),
            CheckoutCompletion::Paid { newly: true } => {
                after_payment(tx, &order, &self.deps, now).await?;
                WebhookOutcome::Applied(format!("order {order_id} paid"))
            }
            CheckoutCompletion::Paid { newly: false } => {
                WebhookOutcome::Applied(format!("order {order_id} was already paid"))
            }
            CheckoutCompletion::NotBooked(error) => WebhookOutcome::Ignored(error.to_string()),
        })
    }

    async fn on_charge_refunded(
        &self,
        tx: &mut dyn Tx,
        charge: &ChargeData,
        reported_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<WebhookOutcome, StoreError> {
        // What the listed refunds add up to, in checked arithmetic, before anything is booked.
        let Ok(listed) = Cents::sum(
            charge
                .refunds
                .iter()
                .filter(|r| r.status == RefundStatus::Succeeded)
                .map(|r| r.amount),
        ) else {
            return Ok(WebhookOutcome::Rejected(format!(
                "the refunds listed on charge {} overflow when added",
                charge.id
            )));
        };
        let Some(order_id) =
            order_of_charge(tx, Some(&charge.id), charge.payment_intent.as_deref()).await?
        else {
            return Ok(WebhookOutcome::Ignored(format!(
                "no order for charge {}",
                charge.id
            )));
        };
        remember_charge(
            tx,
            order_id,
            &charge.id,
            charge.payment_intent.as_deref(),
            now,
        )
        .await?;
        for refund in &charge.refunds {
            book_refund(tx, order_id, refund, &self.deps, now).await?;
        }
        // Stripe's own total, for reconciliation (the order's charge only).
        if let Some(mut order) = tx.orders()?.get_order_for_update(order_id).await?
            && order.charge_id.as_deref() == Some(charge.id.as_str())
            && order.note_stripe_refunded(charge.amount_refunded, reported_at, now)
        {
            tx.orders()?.update_order(&order).await?;
            refresh_flags(tx, order_id, now).await?;
        }
        // The cumulative amount tells us whether refunds are missing from the list (it is not
        // expanded by default): fetch them in a job, outside this transaction.
        if charge.amount_refunded > listed {
            let sync = JobKind::RefundSync { order: order_id };
            enqueue(tx, &sync, &self.deps.settings, now).await?;
        }
        Ok(WebhookOutcome::Applied(format!(
            "charge {} refunded {} (order {order_id})",
            charge.id, charge.amount_refunded
        )))
    }
}

/// The order a Checkout Session is for (by the session id we recorded, else by its metadata),
/// locked; or why the event is ignored.
async fn session_order_for_update(
    tx: &mut dyn Tx,
    session: &CheckoutSessionData,
) -> Result<Result<Order, String>, StoreError> {
    let recorded = tx.orders()?.find_order_by_stripe_id(&session.id).await?;
    let Some(order_id) = recorded.or_else(|| {
        session
            .order_id
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok())
            .map(OrderId::from_uuid)
    }) else {
        return Ok(Err(format!("no order for session {}", session.id)));
    };
    Ok(tx
        .orders()?
        .get_order_for_update(order_id)
        .await?
        .ok_or_else(|| format!("unknown order {order_id}")))
}

async fn on_session_ended(
    tx: &mut dyn Tx,
    session: &CheckoutSessionData,
    how: SessionEnd,
    now: OffsetDateTime,
) -> Result<WebhookOutcome, StoreError> {
    let mut order = match session_order_for_update(tx, session).await? {
        Ok(order) => order,
        Err(reason) => return Ok(WebhookOutcome::Ignored(reason)),
    };
    let event = order.end_session(&session.id, how, now);
    tx.orders()?.update_order(&order).await?;
    let kind = event.kind;
    record_events(tx, order.id, &[event], now).await?;
    Ok(WebhookOutcome::Applied(format!(
        "order {}: {kind}",
        order.id
    )))
}

async fn order_of_charge(
    tx: &mut dyn Tx,
    charge: Option<&str>,
    payment_intent: Option<&str>,
) -> Result<Option<OrderId>, StoreError> {
    for id in [charge, payment_intent].into_iter().flatten() {
        if let Some(order) = tx.orders()?.find_order_by_stripe_id(id).await? {
            return Ok(Some(order));
        }
    }
    Ok(None)
}

async fn on_refund(
    tx: &mut dyn Tx,
    refund: &RefundData,
    deps: &Deps,
    now: OffsetDateTime,
) -> Result<WebhookOutcome, StoreError> {
    let by_metadata = refund
        .order_id
        .as_deref()
        .and_then(|id| Uuid::parse_str(id).ok())
        .map(OrderId::from_uuid);
    let order_id = match by_metadata {
        Some(id) => Some(id),
        None => {
            order_of_charge(
                tx,
                refund.charge.as_deref(),
                refund.payment_intent.as_deref(),
            )
            .await?
        }
    };
    let Some(order_id) = order_id else {
        return Ok(WebhookOutcome::Ignored(format!(
            "no order for refund {}",
            refund.id
        )));
    };
    if let Some(charge) = &refund.charge {
        remember_charge(tx, order_id, charge, refund.payment_intent.as_deref(), now).await?;
    }
    Ok(match book_refund(tx, order_id, refund, deps, now).await? {
        Some(key) => WebhookOutcome::Applied(format!("booked {key}")),
        None => WebhookOutcome::Ignored(format!(
            "refund {} is {}",
            refund.id,
            refund.status.as_str()
        )),
    })
}

/// The order a dispute is about (disputes carry no metadata of ours: look up the charge), or the
/// outcome to record when it is not one of ours.
async fn order_of_dispute(
    tx: &mut dyn Tx,
    dispute: &DisputeData,
) -> Result<Result<OrderId, WebhookOutcome>, StoreError> {
    let order = order_of_charge(
        tx,
        dispute.charge.as_deref(),
        dispute.payment_intent.as_deref(),
    )
    .await?;
    Ok(
        order
            .ok_or_else(|| WebhookOutcome::Ignored(format!("no order for dispute {}", dispute.id))),
    )
}

/// A dispute opened (or its funds withdrawn): Stripe took the disputed amount and its fee, which
/// is booked now, and the order's payouts are held until it closes. An inquiry (`warning_…`)
/// withdraws nothing and is only noted.
async fn on_dispute_opened(
    tx: &mut dyn Tx,
    dispute: &DisputeData,
    event_type: &str,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<WebhookOutcome, StoreError> {
    let inquiry =
        matches!(&dispute.status, DisputeStatus::Open(status) if status.starts_with("warning_"));
    if inquiry {
        return note_dispute(tx, dispute, event_type, now).await;
    }
    book_dispute(tx, dispute, settings, now, |order| Fact::DisputeOpened {
        dispute_id: dispute.id.clone(),
        order,
        amount: dispute.amount,
        fee: dispute.fee,
        created: dispute.created,
    })
    .await
}

/// Notes a dispute event that moves no money in the order's history.
async fn note_dispute(
    tx: &mut dyn Tx,
    dispute: &DisputeData,
    event_type: &str,
    now: OffsetDateTime,
) -> Result<WebhookOutcome, StoreError> {
    let event = OrderEvent::dispute_noted(
        event_type,
        &dispute.id,
        dispute.amount,
        dispute.status.as_str(),
    );
    let noted = format!("dispute {} noted", dispute.id);
    note_on_order(tx, dispute, event, noted, now).await
}

/// Adds `event` to the history of the dispute's order.
async fn note_on_order(
    tx: &mut dyn Tx,
    dispute: &DisputeData,
    event: OrderEvent,
    what: String,
    now: OffsetDateTime,
) -> Result<WebhookOutcome, StoreError> {
    let order_id = match order_of_dispute(tx, dispute).await? {
        Ok(order_id) => order_id,
        Err(ignored) => return Ok(ignored),
    };
    record_events(tx, order_id, &[event], now).await?;
    Ok(WebhookOutcome::Applied(format!(
        "{what} on order {order_id}"
    )))
}

/// A won dispute (closed `won`, or its funds reinstated): the amount came back; the fee Stripe
/// kept is the dispute's balance-transaction fees at this point.
async fn book_dispute_won(
    tx: &mut dyn Tx,
    dispute: &DisputeData,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<WebhookOutcome, StoreError> {
    book_dispute(tx, dispute, settings, now, |order| Fact::DisputeWon {
        dispute_id: dispute.id.clone(),
        order,
        fee: dispute.fee,
    })
    .await
}

/// Books the fact `fact` makes of a dispute on its order (found by its charge), once.
async fn book_dispute(
    tx: &mut dyn Tx,
    dispute: &DisputeData,
    settings: &Settings,
    now: OffsetDateTime,
    fact: impl FnOnce(OrderId) -> Fact,
) -> Result<WebhookOutcome, StoreError> {
    let order_id = match order_of_dispute(tx, dispute).await? {
        Ok(order_id) => order_id,
        Err(ignored) => return Ok(ignored),
    };
    let already = || WebhookOutcome::Ignored(format!("dispute {} already booked", dispute.id));
    let Some(books) = lock_books(tx, order_id).await? else {
        return Ok(already());
    };
    let currency = dispute.currency.as_deref();
    let order = &books.order;
    if refuse_other_currency(tx, order, &dispute.id, dispute.amount, currency, now).await? {
        return Ok(WebhookOutcome::Ignored(format!(
            "dispute {} is not in the order's currency: recorded for the owner",
            dispute.id
        )));
    }
    Ok(
        match book(tx, books, fact(order_id), settings, now).await? {
            Some(key) => WebhookOutcome::Applied(format!("booked {key}")),
            None => already(),
        },
    )
}

async fn on_dispute_closed(
    tx: &mut dyn Tx,
    dispute: &DisputeData,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<WebhookOutcome, StoreError> {
    match &dispute.status {
        DisputeStatus::Lost => {
            book_dispute(tx, dispute, settings, now, |order| Fact::DisputeLost {
                dispute_id: dispute.id.clone(),
                order,
                amount: dispute.amount,
                fee: dispute.fee,
                created: dispute.created,
            })
            .await
        }
        DisputeStatus::Won => book_dispute_won(tx, dispute, settings, now).await,
        DisputeStatus::Open(other) => {
            let event = OrderEvent::dispute_closed(&dispute.id, other);
            let closed = format!("dispute {} closed as {other}", dispute.id);
            note_on_order(tx, dispute, event, closed, now).await
        }
    }
}

/// Remembers an order's charge id (transfers use it as their source), unless the charge belongs
/// to another payment intent than the order's (a second payment's refund, say).
async fn remember_charge(
    tx: &mut dyn Tx,
    order_id: OrderId,
    charge: &str,
    payment_intent: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if let Some(mut order) = tx.orders()?.get_order_for_update(order_id).await?
        && payment_intent.is_none_or(|pi| order.stripe_payment_intent().is_none_or(|own| own == pi))
        && order.remember_charge(charge, now)
    {
        tx.orders()?.update_order(&order).await?;
    }
    Ok(())
}
