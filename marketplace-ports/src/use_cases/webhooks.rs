//! Stripe webhooks (SPEC §5): verify, then in ONE transaction record the event id and apply its
//! effects (journal entries, order state, queued jobs), then commit. A duplicate event id changes
//! nothing; any failure rolls everything back and answers 5xx so Stripe delivers it again. Unknown
//! types and events for unknown orders are recorded and acknowledged. Every effect only moves state
//! forward, so events may arrive in any order.

use marketplace_domain::ids::{OrderId, OrderItemId};
use marketplace_domain::ledger::Fact;
use uuid::Uuid;

use super::Deps;
use super::booking::{Booked, BookingError, Payment, book_order_fact, enqueue, mark_paid};
use super::connect::apply_account_status;
use crate::ports::{
    ChargeData, CheckoutSessionData, DisputeData, EventPayload, JobKind, OrderRecord, RefundData,
    StoreError, StripeEvent, Tx, WebhookEndpoint, WebhookError, WebhookEventRecord,
};

/// Why a webhook was not processed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookFailure {
    /// Not a genuine, fresh Stripe event: 400, nothing recorded.
    #[error(transparent)]
    Verification(#[from] WebhookError),
    /// Applying it failed: 5xx, rolled back, Stripe will retry.
    #[error(transparent)]
    Store(#[from] StoreError),
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
}

/// Handles webhook deliveries.
#[derive(Clone)]
pub struct WebhookService {
    deps: Deps,
}

impl WebhookService {
    /// Builds the service.
    pub fn new(deps: Deps) -> Self {
        WebhookService { deps }
    }

    /// Verifies, records and applies one delivery.
    ///
    /// # Errors
    /// [`WebhookFailure::Verification`] (answer 400) or [`WebhookFailure::Store`] (answer 5xx).
    pub async fn handle(
        &self,
        endpoint: WebhookEndpoint,
        payload: &[u8],
        signature: &str,
    ) -> Result<WebhookOutcome, WebhookFailure> {
        let now = self.deps.clock.now();
        let event = self
            .deps
            .webhooks
            .verify(endpoint, payload, signature, now)?;
        let mut tx = self.deps.uow.begin().await?;
        let record = WebhookEventRecord {
            id: event.id.clone(),
            endpoint: match endpoint {
                WebhookEndpoint::Payments => "payments".to_owned(),
                WebhookEndpoint::Connect => "connect".to_owned(),
            },
            event_type: event.event_type.clone(),
            created: event.created,
            outcome: "processing".to_owned(),
            received_at: now,
        };
        // A concurrent delivery of the same event waits here on the unique key until the first
        // commits (then finds it) or rolls back (then processes it).
        if !tx.platform().record_webhook_event(&record).await? {
            return Ok(WebhookOutcome::Duplicate);
        }
        let outcome = if event.livemode != self.deps.settings.stripe_livemode {
            WebhookOutcome::Ignored("livemode does not match the configured key".to_owned())
        } else {
            self.apply(tx.as_mut(), &event).await?
        };
        let described = match &outcome {
            WebhookOutcome::Applied(what) => format!("applied: {what}"),
            WebhookOutcome::Ignored(why) => format!("ignored: {why}"),
            WebhookOutcome::Duplicate => "duplicate".to_owned(),
        };
        tx.platform()
            .set_webhook_outcome(&event.id, &described)
            .await?;
        tx.commit().await?;
        tracing::info!(event = %event.id, kind = %event.event_type, outcome = %described, "webhook");
        Ok(outcome)
    }

    async fn apply(
        &self,
        tx: &mut dyn Tx,
        event: &StripeEvent,
    ) -> Result<WebhookOutcome, StoreError> {
        match &event.payload {
            EventPayload::CheckoutCompleted(session)
            | EventPayload::CheckoutAsyncSucceeded(session) => {
                self.on_session_paid(tx, session).await
            }
            EventPayload::CheckoutAsyncFailed(session) => {
                self.on_session_over(tx, session, "payment_failed").await
            }
            EventPayload::CheckoutExpired(session) => {
                self.on_session_over(tx, session, "checkout_expired").await
            }
            EventPayload::ChargeRefunded(charge) => self.on_charge_refunded(tx, charge).await,
            EventPayload::RefundChanged(refund) => self.on_refund(tx, refund).await,
            EventPayload::DisputeOpened(dispute) => {
                self.on_dispute_opened(tx, dispute, &event.event_type).await
            }
            EventPayload::DisputeClosed(dispute) => self.on_dispute_closed(tx, dispute).await,
            EventPayload::AccountUpdated(account) => {
                let now = self.deps.clock.now();
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
        }
    }

    /// The order a Checkout Session is for (by the session id we recorded, else by its metadata),
    /// locked; or why the event is ignored.
    async fn session_order_for_update(
        &self,
        tx: &mut dyn Tx,
        session: &CheckoutSessionData,
    ) -> Result<Result<OrderRecord, String>, StoreError> {
        let recorded = tx.orders().find_order_by_stripe_id(&session.id).await?;
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
            .orders()
            .get_order_for_update(order_id)
            .await?
            .ok_or_else(|| format!("unknown order {order_id}")))
    }

    async fn on_session_paid(
        &self,
        tx: &mut dyn Tx,
        session: &CheckoutSessionData,
    ) -> Result<WebhookOutcome, StoreError> {
        let now = self.deps.clock.now();
        let mut order = match self.session_order_for_update(tx, session).await? {
            Ok(order) => order,
            Err(reason) => return Ok(WebhookOutcome::Ignored(reason)),
        };
        let order_id = order.id;
        let pays = session.payment_status == "paid";
        if pays && !order.status.was_paid() {
            // The session that pays is the order's payment, whatever an earlier attempt (a
            // delayed payment that failed, say) left behind; its charge funds the payouts.
            if order.stripe_payment_intent_id != session.payment_intent {
                order.stripe_charge_id = None;
            }
            order.stripe_session_id = Some(session.id.clone());
            order
                .stripe_payment_intent_id
                .clone_from(&session.payment_intent);
        } else {
            if order.stripe_session_id.is_none() {
                order.stripe_session_id = Some(session.id.clone());
            }
            if order.stripe_payment_intent_id.is_none() {
                order
                    .stripe_payment_intent_id
                    .clone_from(&session.payment_intent);
            }
            if pays && order.stripe_payment_intent_id != session.payment_intent {
                tx.orders()
                    .add_event(
                        order_id,
                        "warning",
                        &format!(
                            "a second payment ({}) arrived through session {} for an order already paid: refund it",
                            session.payment_intent.as_deref().unwrap_or("no payment intent"),
                            session.id
                        ),
                        now,
                    )
                    .await?;
                return Ok(WebhookOutcome::Applied(format!(
                    "order {order_id} was already paid by another payment"
                )));
            }
        }
        if session.shipping.is_some() {
            order.shipping_address.clone_from(&session.shipping);
        }
        order.updated_at = now;
        tx.orders().update_order(&order).await?;
        // Delayed payment methods complete the session unpaid; only `paid` is money.
        if session.payment_status != "paid" {
            tx.orders()
                .add_event(
                    order_id,
                    "payment_pending",
                    &format!(
                        "session {} completed, payment {}",
                        session.id, session.payment_status
                    ),
                    now,
                )
                .await?;
            return Ok(WebhookOutcome::Applied(format!(
                "order {order_id} awaits its payment"
            )));
        }
        if let Some(amount) = session.amount_total.filter(|a| *a != order.total) {
            tx.orders()
                .add_event(
                    order_id,
                    "warning",
                    &format!(
                        "session {} charged {amount}, the order total is {}",
                        session.id, order.total
                    ),
                    now,
                )
                .await?;
        }
        let payment = Payment::Stripe {
            payment_intent: session.payment_intent.clone(),
        };
        let booked = match mark_paid(tx, &mut order, payment, &self.deps.settings, now).await {
            Ok(booked) => booked,
            Err(BookingError::Store(e)) => return Err(e),
            Err(BookingError::Ledger(e)) => {
                tx.orders()
                    .add_event(
                        order_id,
                        "warning",
                        &format!("payment not booked: {e}"),
                        now,
                    )
                    .await?;
                return Ok(WebhookOutcome::Ignored(e.to_string()));
            }
        };
        Ok(WebhookOutcome::Applied(match booked {
            Booked::New => format!("order {order_id} paid"),
            Booked::Already => format!("order {order_id} was already paid"),
        }))
    }

    async fn on_session_over(
        &self,
        tx: &mut dyn Tx,
        session: &CheckoutSessionData,
        kind: &str,
    ) -> Result<WebhookOutcome, StoreError> {
        let now = self.deps.clock.now();
        let mut order = match self.session_order_for_update(tx, session).await? {
            Ok(order) => order,
            Err(reason) => return Ok(WebhookOutcome::Ignored(reason)),
        };
        let order_id = order.id;
        // A new session may be created for the order, unless it is already paid.
        if order.stripe_session_id.as_deref() == Some(session.id.as_str()) {
            order.stripe_session_expired = true;
            order.updated_at = now;
            tx.orders().update_order(&order).await?;
        }
        tx.orders()
            .add_event(order_id, kind, &format!("session {}", session.id), now)
            .await?;
        Ok(WebhookOutcome::Applied(format!("order {order_id}: {kind}")))
    }

    async fn order_of_charge(
        &self,
        tx: &mut dyn Tx,
        charge: Option<&str>,
        payment_intent: Option<&str>,
    ) -> Result<Option<OrderId>, StoreError> {
        for id in [charge, payment_intent].into_iter().flatten() {
            if let Some(order) = tx.orders().find_order_by_stripe_id(id).await? {
                return Ok(Some(order));
            }
        }
        Ok(None)
    }

    async fn on_charge_refunded(
        &self,
        tx: &mut dyn Tx,
        charge: &ChargeData,
    ) -> Result<WebhookOutcome, StoreError> {
        let now = self.deps.clock.now();
        let Some(order_id) = self
            .order_of_charge(tx, Some(&charge.id), charge.payment_intent.as_deref())
            .await?
        else {
            return Ok(WebhookOutcome::Ignored(format!(
                "no order for charge {}",
                charge.id
            )));
        };
        remember_charge(tx, order_id, &charge.id, now).await?;
        for refund in &charge.refunds {
            self.book_refund(tx, order_id, refund).await?;
        }
        // The cumulative amount tells us whether refunds are missing from the list (it is not
        // expanded by default): fetch them in a job, outside this transaction.
        let listed: i64 = charge
            .refunds
            .iter()
            .filter(|r| r.status == "succeeded")
            .map(|r| r.amount.get())
            .sum();
        if charge.amount_refunded.get() > listed {
            enqueue(
                tx,
                &JobKind::RefundSync { order: order_id },
                &self.deps.settings,
                now,
            )
            .await?;
        }
        Ok(WebhookOutcome::Applied(format!(
            "charge {} refunded {} (order {order_id})",
            charge.id, charge.amount_refunded
        )))
    }

    async fn on_refund(
        &self,
        tx: &mut dyn Tx,
        refund: &RefundData,
    ) -> Result<WebhookOutcome, StoreError> {
        let now = self.deps.clock.now();
        let by_metadata = refund
            .order_id
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok())
            .map(OrderId::from_uuid);
        let order_id = match by_metadata {
            Some(id) => Some(id),
            None => {
                self.order_of_charge(
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
            remember_charge(tx, order_id, charge, now).await?;
        }
        Ok(match self.book_refund(tx, order_id, refund).await? {
            Some(what) => WebhookOutcome::Applied(what),
            None => WebhookOutcome::Ignored(format!("refund {} is {}", refund.id, refund.status)),
        })
    }

    /// Books a refund by its id once (whatever event carries it); a failed or canceled refund
    /// cancels it. Pending refunds wait for their update.
    pub(crate) async fn book_refund(
        &self,
        tx: &mut dyn Tx,
        order_id: OrderId,
        refund: &RefundData,
    ) -> Result<Option<String>, StoreError> {
        let fact = match refund.status.as_str() {
            "succeeded" => Fact::Refund {
                refund_id: refund.id.clone(),
                order: order_id,
                amount: refund.amount,
                line: refund
                    .order_item_id
                    .as_deref()
                    .and_then(|id| Uuid::parse_str(id).ok())
                    .map(OrderItemId::from_uuid),
                created: refund.created,
            },
            "failed" | "canceled" => Fact::RefundFailed {
                refund_id: refund.id.clone(),
                order: order_id,
            },
            _ => return Ok(None),
        };
        book(tx, order_id, fact, self.deps.clock.now()).await
    }

    /// The order a dispute is about (disputes carry no metadata of ours: look up the charge), or
    /// the outcome to record when it is not one of ours.
    async fn order_of_dispute(
        &self,
        tx: &mut dyn Tx,
        dispute: &DisputeData,
    ) -> Result<Result<OrderId, WebhookOutcome>, StoreError> {
        let order = self
            .order_of_charge(
                tx,
                dispute.charge.as_deref(),
                dispute.payment_intent.as_deref(),
            )
            .await?;
        Ok(order
            .ok_or_else(|| WebhookOutcome::Ignored(format!("no order for dispute {}", dispute.id))))
    }

    async fn on_dispute_opened(
        &self,
        tx: &mut dyn Tx,
        dispute: &DisputeData,
        kind: &str,
    ) -> Result<WebhookOutcome, StoreError> {
        let order_id = match self.order_of_dispute(tx, dispute).await? {
            Ok(order_id) => order_id,
            Err(ignored) => return Ok(ignored),
        };
        let now = self.deps.clock.now();
        tx.orders()
            .add_event(
                order_id,
                "dispute",
                &format!(
                    "{kind}: dispute {} of {} is {}",
                    dispute.id, dispute.amount, dispute.status
                ),
                now,
            )
            .await?;
        Ok(WebhookOutcome::Applied(format!(
            "dispute {} noted on order {order_id}",
            dispute.id
        )))
    }

    async fn on_dispute_closed(
        &self,
        tx: &mut dyn Tx,
        dispute: &DisputeData,
    ) -> Result<WebhookOutcome, StoreError> {
        let order_id = match self.order_of_dispute(tx, dispute).await? {
            Ok(order_id) => order_id,
            Err(ignored) => return Ok(ignored),
        };
        let fact = match dispute.status.as_str() {
            "lost" => Fact::DisputeLost {
                dispute_id: dispute.id.clone(),
                order: order_id,
                amount: dispute.amount,
                fee: dispute.fee,
                created: dispute.created,
            },
            "won" => Fact::DisputeWon {
                dispute_id: dispute.id.clone(),
                order: order_id,
            },
            other => {
                let now = self.deps.clock.now();
                tx.orders()
                    .add_event(
                        order_id,
                        "dispute",
                        &format!("dispute {} closed as {other}", dispute.id),
                        now,
                    )
                    .await?;
                return Ok(WebhookOutcome::Applied(format!(
                    "dispute {} closed as {other}",
                    dispute.id
                )));
            }
        };
        let now = self.deps.clock.now();
        Ok(match book(tx, order_id, fact, now).await? {
            Some(what) => WebhookOutcome::Applied(what),
            None => WebhookOutcome::Ignored(format!("dispute {} already booked", dispute.id)),
        })
    }
}

/// Books an order fact; the money core's refusals become warnings on the order (the event is
/// still acknowledged), storage failures propagate.
async fn book(
    tx: &mut dyn Tx,
    order_id: OrderId,
    fact: Fact,
    now: time::OffsetDateTime,
) -> Result<Option<String>, StoreError> {
    let key = fact.key();
    match book_order_fact(tx, order_id, fact, now).await {
        Ok(Booked::New) => Ok(Some(format!("booked {key}"))),
        Ok(Booked::Already) => Ok(None),
        Err(BookingError::Store(StoreError::NotFound)) => Ok(None),
        Err(BookingError::Store(e)) => Err(e),
        Err(BookingError::Ledger(e)) => {
            tx.orders()
                .add_event(order_id, "warning", &format!("{key} not booked: {e}"), now)
                .await?;
            Ok(None)
        }
    }
}

/// Remembers an order's charge id (transfers use it as their source).
async fn remember_charge(
    tx: &mut dyn Tx,
    order_id: OrderId,
    charge: &str,
    now: time::OffsetDateTime,
) -> Result<(), StoreError> {
    if let Some(mut order) = tx.orders().get_order_for_update(order_id).await?
        && order.stripe_charge_id.is_none()
    {
        order.stripe_charge_id = Some(charge.to_owned());
        order.updated_at = now;
        tx.orders().update_order(&order).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use time::OffsetDateTime;

    use super::*;
    use crate::ports::{
        ConnectedAccount, MockCrypto, MockPaymentGateway, MockQueries, MockWebhookVerifier,
    };
    use crate::testing::{FakeTx, FakeUow, deps, fixed_clock};

    fn account_event(livemode: bool) -> StripeEvent {
        StripeEvent {
            id: "evt_1".to_owned(),
            event_type: "account.updated".to_owned(),
            created: fixed_clock().0,
            livemode,
            account: Some("acct_1".to_owned()),
            payload: EventPayload::AccountUpdated(ConnectedAccount {
                id: "acct_1".to_owned(),
                details_submitted: true,
                charges_enabled: true,
                payouts_enabled: true,
            }),
        }
    }

    fn service(uow: FakeUow, verified: Result<StripeEvent, WebhookError>) -> WebhookService {
        let mut verifier = MockWebhookVerifier::new();
        verifier
            .expect_verify()
            .returning(move |_, _, _, _: OffsetDateTime| verified.clone());
        let mut deps = deps(
            uow,
            MockQueries::new(),
            MockCrypto::new(),
            MockPaymentGateway::new(),
        );
        deps.webhooks = Arc::new(verifier);
        WebhookService::new(deps)
    }

    #[tokio::test]
    async fn a_forged_delivery_is_refused_before_any_transaction() {
        let uow = FakeUow::new(|| panic!("nothing may be recorded"));
        let result = service(uow, Err(WebhookError::SignatureMismatch))
            .handle(WebhookEndpoint::Payments, b"{}", "t=1,v1=00")
            .await;
        assert!(matches!(
            result,
            Err(WebhookFailure::Verification(
                WebhookError::SignatureMismatch
            ))
        ));
    }

    #[tokio::test]
    async fn a_duplicate_event_is_acknowledged_and_changes_nothing() {
        let uow = FakeUow::new(|| {
            let mut tx = FakeTx::default();
            // Any other store call would fail the test: mocks refuse unexpected calls.
            tx.platform
                .expect_record_webhook_event()
                .returning(|_| Ok(false));
            tx
        });
        let outcome = service(uow, Ok(account_event(false)))
            .handle(WebhookEndpoint::Connect, b"{}", "sig")
            .await
            .unwrap();
        assert_eq!(outcome, WebhookOutcome::Duplicate);
    }

    #[tokio::test]
    async fn a_failure_while_applying_rolls_everything_back() {
        let commits = Arc::new(AtomicUsize::new(0));
        let counter = commits.clone();
        let uow = FakeUow::new(move || {
            let mut tx = FakeTx {
                commits: Some(counter.clone()),
                ..FakeTx::default()
            };
            tx.platform
                .expect_record_webhook_event()
                .returning(|_| Ok(true));
            tx.connect
                .expect_find_connect_by_account()
                .returning(|_| Err(StoreError::Unavailable("connection reset".to_owned())));
            tx
        });
        let result = service(uow, Ok(account_event(false)))
            .handle(WebhookEndpoint::Connect, b"{}", "sig")
            .await;
        assert!(matches!(result, Err(WebhookFailure::Store(_))));
        assert_eq!(commits.load(Ordering::SeqCst), 0, "nothing committed");
    }

    #[tokio::test]
    async fn an_event_of_the_other_mode_is_recorded_and_ignored() {
        let commits = Arc::new(AtomicUsize::new(0));
        let counter = commits.clone();
        let uow = FakeUow::new(move || {
            let mut tx = FakeTx {
                commits: Some(counter.clone()),
                ..FakeTx::default()
            };
            tx.platform
                .expect_record_webhook_event()
                .withf(|event| event.id == "evt_1" && event.endpoint == "connect")
                .returning(|_| Ok(true));
            tx.platform
                .expect_set_webhook_outcome()
                .withf(|id, outcome| id == "evt_1" && outcome.starts_with("ignored: livemode"))
                .returning(|_, _| Ok(()));
            tx
        });
        let outcome = service(uow, Ok(account_event(true)))
            .handle(WebhookEndpoint::Connect, b"{}", "sig")
            .await
            .unwrap();
        assert!(matches!(outcome, WebhookOutcome::Ignored(_)));
        assert_eq!(commits.load(Ordering::SeqCst), 1);
    }
}
