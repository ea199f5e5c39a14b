//! Background jobs: anything that calls Stripe after a webhook, and mail. A job is a row written in
//! the same transaction as the change that needs it; a worker claims it (`FOR UPDATE SKIP LOCKED`),
//! runs it with no transaction open during the Stripe call, and marks it done, retries it with
//! exponential backoff, or parks it as dead after too many attempts. Jobs are idempotent.

use std::collections::BTreeMap;

use marketplace_domain::connect::ConnectStatus;
use marketplace_domain::ids::{OrderId, ReversalId, UserId};
use marketplace_domain::ledger::{
    JournalEntry, refund_state, transfer_entry, transfer_reversal_entry,
};
use marketplace_domain::money::Cents;
use marketplace_domain::payout::{
    PayoutContext, PayoutDecision, PayoutStatus, ReversalContext, ReversalStatus, SkipReason,
    order_claim, payout_idempotency_key, plan_payout, plan_reversal, reversal_idempotency_key,
};
use time::{Duration, OffsetDateTime};

use super::Deps;
use super::booking::insert_entry;
use super::webhooks::WebhookService;
use crate::ports::{
    JobKind, JobRecord, MailRecord, NewTransfer, OrderRecord, PaymentError, PayoutRecord,
    ReversalRecord, StoreError, Tx, order_money,
};

/// How long a claimed job stays reserved before another worker may take it over.
const LEASE: Duration = Duration::minutes(5);
/// Longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::minutes(10);

/// Why a job attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum JobFailure {
    /// Worth another attempt later.
    #[error("{0}")]
    Transient(String),
    /// Will not get better by retrying; the job is parked as dead for an owner to look at.
    #[error("{0}")]
    Permanent(String),
}

impl From<StoreError> for JobFailure {
    fn from(error: StoreError) -> Self {
        JobFailure::Transient(error.to_string())
    }
}

impl From<PaymentError> for JobFailure {
    fn from(error: PaymentError) -> Self {
        if error.is_transient() {
            JobFailure::Transient(error.to_string())
        } else {
            JobFailure::Permanent(error.to_string())
        }
    }
}

/// What one run of the worker did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobRun {
    /// No job was due.
    Idle,
    /// A job finished.
    Done(JobKind),
    /// A job failed and will run again.
    Retrying(JobKind),
    /// A job failed for the last time.
    Dead(JobKind),
}

/// Runs queued jobs.
#[derive(Clone)]
pub struct JobRunner {
    deps: Deps,
}

impl JobRunner {
    /// Builds the runner.
    pub fn new(deps: Deps) -> Self {
        JobRunner { deps }
    }

    /// Claims and runs the next due job, if any.
    ///
    /// # Errors
    /// Only when the queue itself cannot be read or written.
    pub async fn run_next(&self) -> Result<JobRun, StoreError> {
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let Some(job) = tx.jobs().claim(now, now + LEASE).await? else {
            return Ok(JobRun::Idle);
        };
        tx.commit().await?;
        let result = self.execute(&job).await;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let run = match result {
            Ok(()) => {
                tx.jobs().complete(job.id, now).await?;
                JobRun::Done(job.kind.clone())
            }
            Err(JobFailure::Transient(error)) if job.attempts < job.max_attempts => {
                let delay = backoff(self.deps.settings.job_retry_base, job.attempts);
                tracing::warn!(job = %job.id, kind = job.kind.name(), attempt = job.attempts, %error, "job failed; retrying");
                tx.jobs().retry(job.id, now + delay, &error, now).await?;
                JobRun::Retrying(job.kind.clone())
            }
            Err(JobFailure::Transient(error) | JobFailure::Permanent(error)) => {
                tracing::error!(job = %job.id, kind = job.kind.name(), attempt = job.attempts, %error, "job is dead");
                tx.jobs().bury(job.id, &error, now).await?;
                JobRun::Dead(job.kind.clone())
            }
        };
        tx.commit().await?;
        Ok(run)
    }

    async fn execute(&self, job: &JobRecord) -> Result<(), JobFailure> {
        match &job.kind {
            JobKind::Payout { order, seller } => self.pay_out(*order, *seller).await,
            JobKind::OrderMail { order } => self.order_mail(*order).await,
            JobKind::RefundSync { order } => self.sync_refunds(*order).await,
            JobKind::Reversal { order, seller } => self.reverse(*order, *seller).await,
        }
    }

    /// One seller's payout for one order (SPEC §4.5).
    async fn pay_out(&self, order_id: OrderId, seller: UserId) -> Result<(), JobFailure> {
        let now = self.deps.clock.now();
        // 1. Decide under locks: the order (serialises with refunds), the seller's balance
        //    (serialises the seller's payouts) and the payout record.
        let mut tx = self.deps.uow.begin().await?;
        let Some(order) = tx.orders().get_order_for_update(order_id).await? else {
            return Err(JobFailure::Permanent(format!(
                "order {order_id} does not exist"
            )));
        };
        if !order.status.was_paid() || order.payment_reference.as_deref() == Some("FREE") {
            return Ok(());
        }
        let items = tx.orders().order_items(order_id).await?;
        let money = order_money(&order, &items);
        let entries = tx.ledger().order_entries(order_id).await?;
        let state = refund_state(
            &money,
            &entries.iter().map(JournalEntry::fact).collect::<Vec<_>>(),
        )
        .map_err(|e| JobFailure::Permanent(e.to_string()))?;
        let claim = order_claim(&money, &state, seller)
            .map_err(|e| JobFailure::Permanent(e.to_string()))?;
        let connect = tx.connect().get_connect(seller).await?;
        let status = connect
            .as_ref()
            .map(|c| c.status.clone())
            .unwrap_or_default();
        let balance = tx
            .ledger()
            .lock_seller_balance(seller, order.currency)
            .await?;
        let seller_balance =
            balance_as_payouts_see_it(tx.as_mut(), seller, balance, order_id).await?;
        let existing = tx.payouts().get_payout_for_update(order_id, seller).await?;
        let decision = plan_payout(&PayoutContext {
            seller_ready: status.is_ready(),
            order_claim: claim,
            seller_balance,
            existing: existing.as_ref().map(|p| p.status.clone()),
        });
        let amount = match decision {
            PayoutDecision::AlreadyPaid { .. } => return Ok(()),
            PayoutDecision::Skip(reason) => {
                write_payout(
                    tx.as_mut(),
                    existing,
                    order_id,
                    seller,
                    PayoutStatus::Skipped(reason),
                    None,
                    now,
                )
                .await?;
                let why = match reason {
                    SkipReason::SellerNotReady => "the seller is not ready",
                    SkipReason::NothingOwed => {
                        "nothing is owed (netted against the seller's balance)"
                    }
                };
                tx.orders()
                    .add_event(
                        order_id,
                        "transfer_skipped",
                        &format!("payout to seller {seller} skipped: {why}"),
                        now,
                    )
                    .await?;
                tx.commit().await?;
                return Ok(());
            }
            PayoutDecision::Transfer { amount } => amount,
        };
        write_payout(
            tx.as_mut(),
            existing,
            order_id,
            seller,
            PayoutStatus::Pending { amount },
            None,
            now,
        )
        .await?;
        tx.commit().await?;

        // 2. Talk to Stripe with no transaction open.
        let destination = connected_account(&status)?;
        // Transfers are funded by the order's own charge (never the platform's balance).
        let charge = self.charge_of(order_id).await?.ok_or_else(|| {
            JobFailure::Transient(format!("the charge of order {order_id} is not known yet"))
        })?;
        let mut metadata = BTreeMap::new();
        metadata.insert("order_id".to_owned(), order_id.to_string());
        metadata.insert("seller_id".to_owned(), seller.to_string());
        let request = NewTransfer {
            amount,
            currency: order.currency,
            destination,
            source_transaction: Some(charge),
            transfer_group: order_id.to_string(),
            metadata,
        };
        let result = self
            .deps
            .payments
            .create_transfer(&request, &payout_idempotency_key(order_id, seller))
            .await;

        // 3. Book the outcome.
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let existing = tx.payouts().get_payout_for_update(order_id, seller).await?;
        match result {
            Ok(transfer) => {
                let entry = transfer_entry(
                    &transfer.id,
                    Some(order_id),
                    seller,
                    transfer.amount,
                    order.currency,
                )
                .map_err(|e| JobFailure::Permanent(e.to_string()))?;
                insert_entry(tx.as_mut(), &entry, now).await?;
                let paid = PayoutStatus::Paid {
                    amount: transfer.amount,
                    transfer_id: transfer.id.clone(),
                };
                write_payout(tx.as_mut(), existing, order_id, seller, paid, None, now).await?;
                tx.orders()
                    .add_event(
                        order_id,
                        "transfer_created",
                        &format!(
                            "transfer {} of {} to seller {seller}",
                            transfer.id, transfer.amount
                        ),
                        now,
                    )
                    .await?;
                tx.commit().await?;
                Ok(())
            }
            Err(error) => {
                let failed = PayoutStatus::Failed { amount };
                write_payout(
                    tx.as_mut(),
                    existing,
                    order_id,
                    seller,
                    failed,
                    Some(error.to_string()),
                    now,
                )
                .await?;
                tx.orders()
                    .add_event(
                        order_id,
                        "warning",
                        &format!("transfer to seller {seller} failed: {error}"),
                        now,
                    )
                    .await?;
                tx.commit().await?;
                Err(error.into())
            }
        }
    }

    /// Takes back from a seller what refunds after their payout made them owe for one order
    /// (SPEC §4.4): decide under locks, reverse the transfer with no transaction open, book the
    /// outcome. A reversal Stripe refuses is recorded as refused and leaves the debt to netting.
    async fn reverse(&self, order_id: OrderId, seller: UserId) -> Result<(), JobFailure> {
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let Some(order) = tx.orders().get_order_for_update(order_id).await? else {
            return Err(JobFailure::Permanent(format!(
                "order {order_id} does not exist"
            )));
        };
        let reversal = match tx
            .payouts()
            .pending_reversal_for_update(order_id, seller)
            .await?
        {
            // An earlier attempt's outcome is unknown: the same amount under the same key.
            Some(pending) => pending,
            None => match recoverable(tx.as_mut(), &order, seller).await? {
                Recovery::Recover {
                    transfer_id,
                    amount,
                } => {
                    let record = ReversalRecord {
                        id: ReversalId::from_uuid(uuid::Uuid::now_v7()),
                        order_id,
                        seller_id: seller,
                        transfer_id,
                        amount,
                        currency: order.currency,
                        status: ReversalStatus::Pending,
                        last_error: None,
                        created_at: now,
                        updated_at: now,
                    };
                    tx.payouts().insert_reversal(&record).await?;
                    record
                }
                Recovery::NotPaidOut | Recovery::NothingOwed => {
                    tx.orders()
                        .add_event(
                            order_id,
                            "reversal_skipped",
                            &format!("nothing to take back from seller {seller}"),
                            now,
                        )
                        .await?;
                    tx.commit().await?;
                    return Ok(());
                }
            },
        };
        tx.commit().await?;

        let result = self
            .deps
            .payments
            .create_transfer_reversal(
                &reversal.transfer_id,
                reversal.amount,
                &reversal_idempotency_key(reversal.id),
            )
            .await;

        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let mut record = reversal;
        record.updated_at = now;
        let outcome = match result {
            Ok(reversed) => {
                let entry = transfer_reversal_entry(
                    &reversed.id,
                    Some(order_id),
                    seller,
                    reversed.amount,
                    record.currency,
                )
                .map_err(|e| JobFailure::Permanent(e.to_string()))?;
                insert_entry(tx.as_mut(), &entry, now).await?;
                tx.orders()
                    .add_event(
                        order_id,
                        "transfer_reversed",
                        &format!(
                            "reversal {} took back {} from seller {seller}",
                            reversed.id, reversed.amount
                        ),
                        now,
                    )
                    .await?;
                record.amount = reversed.amount;
                record.status = ReversalStatus::Reversed {
                    reversal_id: reversed.id,
                };
                record.last_error = None;
                Ok(())
            }
            Err(error) if error.is_transient() => {
                record.last_error = Some(error.to_string());
                Err(JobFailure::Transient(error.to_string()))
            }
            Err(error) => {
                tx.orders()
                    .add_event(
                        order_id,
                        "warning",
                        &format!(
                            "reversal of {} from seller {seller} refused: {error}; the debt is netted against later payouts",
                            record.amount
                        ),
                        now,
                    )
                    .await?;
                record.status = ReversalStatus::Refused;
                record.last_error = Some(error.to_string());
                Ok(())
            }
        };
        tx.payouts().update_reversal(&record).await?;
        tx.commit().await?;
        outcome
    }

    /// The order's charge id, reading it from the payment intent (and remembering it) if needed.
    async fn charge_of(&self, order_id: OrderId) -> Result<Option<String>, JobFailure> {
        let Some((order, _)) = self.deps.queries.order_detail(order_id).await? else {
            return Ok(None);
        };
        if order.stripe_charge_id.is_some() {
            return Ok(order.stripe_charge_id);
        }
        let Some(payment_intent) = order.stripe_payment_intent_id else {
            return Ok(None);
        };
        let intent = self
            .deps
            .payments
            .retrieve_payment_intent(&payment_intent)
            .await?;
        if let Some(charge) = &intent.latest_charge {
            let now = self.deps.clock.now();
            let mut tx = self.deps.uow.begin().await?;
            if let Some(mut order) = tx.orders().get_order_for_update(order_id).await?
                && order.stripe_charge_id.is_none()
            {
                order.stripe_charge_id = Some(charge.clone());
                order.updated_at = now;
                tx.orders().update_order(&order).await?;
            }
            tx.commit().await?;
        }
        Ok(intent.latest_charge)
    }

    /// Writes the guest's paid-order e-mail (order link and download links, tokenised) to the
    /// outbox, once.
    async fn order_mail(&self, order_id: OrderId) -> Result<(), JobFailure> {
        let Some((order, items)) = self.deps.queries.order_detail(order_id).await? else {
            return Err(JobFailure::Permanent(format!(
                "order {order_id} does not exist"
            )));
        };
        let Some(to) = order.guest_email.clone() else {
            return Ok(());
        };
        let assets = self.deps.queries.order_assets(order_id).await?;
        let base = &self.deps.settings.site_base_url;
        let token = &order.access_token;
        let mut body =
            String::from("Thanks for your purchase at Home Craft 3D!\n\nAccess your order here:\n");
        body.push_str(&format!("{base}/api/v1/orders/{order_id}?t={token}\n\n"));
        body.push_str("Items:\n");
        for item in &items {
            body.push_str(&format!(
                "- {} × {} ({} {})\n",
                item.quantity, item.title, item.gross, order.currency
            ));
        }
        if !assets.is_empty() {
            body.push_str("\nYour digital downloads (links are tied to your order):\n");
            for asset in &assets {
                body.push_str(&format!(
                    "- {}: {base}/api/v1/orders/{order_id}/assets/{}?t={token}\n",
                    asset.original_filename, asset.id
                ));
            }
        }
        body.push_str("\nIf you didn't make this purchase, you can ignore this email.\n");
        let mail = MailRecord {
            id: uuid::Uuid::now_v7(),
            to,
            subject: format!("Your Home Craft 3D order {order_id}"),
            body,
            status: "queued".to_owned(),
            order_id: Some(order_id),
            created_at: self.deps.clock.now(),
        };
        let mut tx = self.deps.uow.begin().await?;
        tx.platform().insert_mail(&mail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Reads the order's refunds from Stripe and books any we missed.
    async fn sync_refunds(&self, order_id: OrderId) -> Result<(), JobFailure> {
        let Some(charge) = self.charge_of(order_id).await? else {
            return Err(JobFailure::Transient(format!(
                "order {order_id} has no charge yet"
            )));
        };
        let refunds = self.deps.payments.charge_refunds(&charge).await?;
        let webhooks = WebhookService::new(self.deps.clone());
        let mut tx = self.deps.uow.begin().await?;
        for refund in &refunds {
            webhooks.book_refund(tx.as_mut(), order_id, refund).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// What [`recoverable`] found for one (order, seller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Recovery {
    /// The seller was not paid for this order: refunds only lowered what it owes them.
    NotPaidOut,
    /// Paid, but they owe nothing back (or it was already taken back or netted).
    NothingOwed,
    /// Take this amount back by reversing this transfer.
    Recover {
        /// The payout's transfer.
        transfer_id: String,
        /// Amount (positive).
        amount: Cents,
    },
}

/// What may be taken back from `seller` for `order` now. Locks the seller's balance: call inside
/// the transaction that acts on the answer, after locking the order.
pub(crate) async fn recoverable(
    tx: &mut dyn Tx,
    order: &OrderRecord,
    seller: UserId,
) -> Result<Recovery, JobFailure> {
    // Locks in the payout job's order: order, seller balance, payout record.
    let balance = tx
        .ledger()
        .lock_seller_balance(seller, order.currency)
        .await?;
    let payout = tx.payouts().get_payout_for_update(order.id, seller).await?;
    let Some(PayoutStatus::Paid {
        amount: transferred,
        transfer_id,
    }) = payout.map(|p| p.status)
    else {
        return Ok(Recovery::NotPaidOut);
    };
    let permanent = |e: &dyn std::fmt::Display| JobFailure::Permanent(e.to_string());
    let items = tx.orders().order_items(order.id).await?;
    let money = order_money(order, &items);
    let entries = tx.ledger().order_entries(order.id).await?;
    let state = refund_state(
        &money,
        &entries.iter().map(JournalEntry::fact).collect::<Vec<_>>(),
    )
    .map_err(|e| permanent(&e))?;
    let claim = order_claim(&money, &state, seller).map_err(|e| permanent(&e))?;
    let seller_balance = balance_as_payouts_see_it(tx, seller, balance, order.id).await?;
    let reversed = tx.payouts().reversed_total(order.id, seller).await?;
    let amount = plan_reversal(&ReversalContext {
        transferred,
        order_claim: claim,
        reversed,
        seller_balance,
    })
    .map_err(|e| permanent(&e))?;
    Ok(if amount.is_positive() {
        Recovery::Recover {
            transfer_id,
            amount,
        }
    } else {
        Recovery::NothingOwed
    })
}

/// The seller's ledger balance less payouts under way (money leaving) plus reversals under way
/// (money coming back), except those of `except`: what payouts and reversals decide on.
async fn balance_as_payouts_see_it(
    tx: &mut dyn Tx,
    seller: UserId,
    ledger_balance: Cents,
    except: OrderId,
) -> Result<Cents, JobFailure> {
    let leaving = tx.payouts().unconfirmed_total(seller, except).await?;
    let coming_back = tx.payouts().pending_reversals_total(seller, except).await?;
    ledger_balance
        .checked_sub(leaving)
        .and_then(|b| b.checked_add(coming_back))
        .map_err(|e| JobFailure::Permanent(e.to_string()))
}

fn connected_account(status: &ConnectStatus) -> Result<String, JobFailure> {
    status
        .stripe_account_id
        .clone()
        .ok_or_else(|| JobFailure::Permanent("the seller has no connected account".to_owned()))
}

async fn write_payout(
    tx: &mut dyn crate::ports::Tx,
    existing: Option<PayoutRecord>,
    order_id: OrderId,
    seller_id: UserId,
    status: PayoutStatus,
    last_error: Option<String>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    match existing {
        Some(mut record) => {
            record.status = status;
            record.last_error = last_error;
            record.updated_at = now;
            tx.payouts().update_payout(&record).await
        }
        None => {
            let record = PayoutRecord {
                order_id,
                seller_id,
                status,
                last_error,
                created_at: now,
                updated_at: now,
            };
            tx.payouts().insert_payout(&record).await
        }
    }
}

/// `base × 2^(attempt − 1)`, at most ten minutes.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let factor = 2_i32.saturating_pow(exponent);
    base.checked_mul(factor)
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use marketplace_domain::connect::ConnectStatus;
    use marketplace_domain::ids::{JobId, OrderItemId, ProductId};
    use marketplace_domain::ledger::order_paid_entry;
    use marketplace_domain::money::{BasisPoints, Cents, Currency};
    use marketplace_domain::order::{OrderKind, OrderStatus};
    use marketplace_domain::product::ProductKind;
    use uuid::Uuid;

    use super::*;
    use crate::ports::{
        ConnectAccountRecord, JobStatus, MockCrypto, MockPaymentGateway, MockQueries,
        OrderItemRecord, OrderRecord, Transfer,
    };
    use crate::testing::{FakeTx, FakeUow, deps, fixed_clock};

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn paid_order() -> (OrderRecord, Vec<OrderItemRecord>) {
        let now = fixed_clock().0;
        let order = OrderRecord {
            id: OrderId::from_uuid(id(1)),
            buyer_id: Some(UserId::from_uuid(id(2))),
            guest_email: None,
            access_token: "token".to_owned(),
            status: OrderStatus::Paid,
            kind: OrderKind::Physical,
            currency: Currency::USD,
            fee_rate: BasisPoints::new(1000).unwrap(),
            subtotal: Cents::new(1000),
            tax: Cents::ZERO,
            shipping: Cents::ZERO,
            total: Cents::new(1000),
            refunded: Cents::ZERO,
            payment_reference: None,
            stripe_session_id: Some("cs_1".to_owned()),
            stripe_session_url: None,
            stripe_session_attempt: 1,
            stripe_session_expired: false,
            stripe_payment_intent_id: Some("pi_1".to_owned()),
            stripe_charge_id: Some("ch_1".to_owned()),
            paid_at: Some(now),
            shipping_address: None,
            created_at: now,
            updated_at: now,
        };
        let item = OrderItemRecord {
            id: OrderItemId::from_uuid(id(3)),
            order_id: order.id,
            product_id: ProductId::from_uuid(id(4)),
            seller_id: seller(),
            title: "Owl".to_owned(),
            kind: ProductKind::Model,
            quantity: 1,
            unit_price: Cents::new(1000),
            gross: Cents::new(1000),
            fee: Cents::new(100),
            net: Cents::new(900),
            tax: Cents::ZERO,
            shipping: Cents::ZERO,
            position: 0,
        };
        (order, vec![item])
    }

    fn seller() -> UserId {
        UserId::from_uuid(id(5))
    }

    fn job(attempts: i32) -> JobRecord {
        let now = fixed_clock().0;
        JobRecord {
            id: JobId::from_uuid(id(6)),
            kind: JobKind::Payout {
                order: OrderId::from_uuid(id(1)),
                seller: seller(),
            },
            status: JobStatus::Running,
            attempts,
            max_attempts: 8,
            run_at: now,
            last_error: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// What the fake transactions saw.
    #[derive(Default)]
    struct Seen {
        payouts: Vec<PayoutRecord>,
        entries: Vec<String>,
        retried_at: Option<OffsetDateTime>,
        completed: bool,
        buried: bool,
    }

    /// Every transaction of a payout job over one paid order of one ready seller owed 9.00.
    fn uow(attempts: i32, seen: Arc<Mutex<Seen>>) -> FakeUow {
        FakeUow::new(move || {
            let (order, items) = paid_order();
            let mut tx = FakeTx::default();
            tx.jobs
                .expect_claim()
                .returning(move |_, _| Ok(Some(job(attempts))));
            tx.orders.expect_add_event().returning(|_, _, _, _| Ok(()));
            let paid = order_paid_entry(&crate::ports::order_money(&order, &items)).unwrap();
            let log = seen.clone();
            order_with_ledger(&mut tx, vec![paid], 900, move |key| {
                log.lock().unwrap().entries.push(key);
            });
            tx.connect.expect_get_connect().returning(|user| {
                Ok(Some(ConnectAccountRecord {
                    user_id: user,
                    status: ConnectStatus {
                        stripe_account_id: Some("acct_seller".to_owned()),
                        details_submitted: true,
                        charges_enabled: true,
                        payouts_enabled: true,
                    },
                    onboarding_started_at: None,
                    onboarding_completed_at: None,
                    status_event_at: None,
                    synced_at: None,
                    updated_at: fixed_clock().0,
                }))
            });
            nothing_else_under_way(&mut tx);
            let log = seen.clone();
            tx.payouts
                .expect_get_payout_for_update()
                .returning(move |_, _| Ok(log.lock().unwrap().payouts.last().cloned()));
            let log = seen.clone();
            tx.payouts.expect_insert_payout().returning(move |p| {
                log.lock().unwrap().payouts.push(p.clone());
                Ok(())
            });
            let log = seen.clone();
            tx.payouts.expect_update_payout().returning(move |p| {
                log.lock().unwrap().payouts.push(p.clone());
                Ok(())
            });
            let log = seen.clone();
            tx.jobs.expect_retry().returning(move |_, run_at, _, _| {
                log.lock().unwrap().retried_at = Some(run_at);
                Ok(())
            });
            let log = seen.clone();
            tx.jobs.expect_complete().returning(move |_, _| {
                log.lock().unwrap().completed = true;
                Ok(())
            });
            let log = seen.clone();
            tx.jobs.expect_bury().returning(move |_, _, _| {
                log.lock().unwrap().buried = true;
                Ok(())
            });
            tx
        })
    }

    fn runner(attempts: i32, seen: Arc<Mutex<Seen>>, payments: MockPaymentGateway) -> JobRunner {
        let mut queries = MockQueries::new();
        queries
            .expect_order_detail()
            .returning(|_| Ok(Some(paid_order())));
        JobRunner::new(deps(
            uow(attempts, seen),
            queries,
            MockCrypto::new(),
            payments,
        ))
    }

    fn expect_transfer(
        payments: &mut MockPaymentGateway,
        result: impl Fn() -> Result<Transfer, PaymentError> + Send + 'static,
    ) {
        payments
            .expect_create_transfer()
            .withf(|transfer, key| {
                key == format!("payout:{}:{}", id(1), id(5))
                    && transfer.amount == Cents::new(900)
                    && transfer.destination == "acct_seller"
                    && transfer.source_transaction.as_deref() == Some("ch_1")
                    && transfer.transfer_group == id(1).to_string()
            })
            .times(1)
            .returning(move |_, _| result());
    }

    #[tokio::test]
    async fn a_payout_transfers_the_net_from_the_charge_and_books_it() {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let mut payments = MockPaymentGateway::new();
        expect_transfer(&mut payments, || {
            Ok(Transfer {
                id: "tr_1".to_owned(),
                amount: Cents::new(900),
            })
        });
        let run = runner(1, seen.clone(), payments).run_next().await.unwrap();
        assert!(matches!(run, JobRun::Done(JobKind::Payout { .. })));
        let seen = seen.lock().unwrap();
        assert!(seen.completed);
        assert_eq!(seen.entries, ["transfer:tr_1"]);
        let statuses: Vec<&PayoutStatus> = seen.payouts.iter().map(|p| &p.status).collect();
        assert_eq!(
            statuses,
            [
                &PayoutStatus::Pending {
                    amount: Cents::new(900)
                },
                &PayoutStatus::Paid {
                    amount: Cents::new(900),
                    transfer_id: "tr_1".to_owned()
                }
            ]
        );
    }

    #[tokio::test]
    async fn a_transient_failure_marks_the_payout_failed_and_retries_later() {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let mut payments = MockPaymentGateway::new();
        expect_transfer(&mut payments, || {
            Err(PaymentError::Transient {
                message: "HTTP 500".to_owned(),
            })
        });
        let run = runner(3, seen.clone(), payments).run_next().await.unwrap();
        assert!(matches!(run, JobRun::Retrying(_)));
        let seen = seen.lock().unwrap();
        assert!(seen.entries.is_empty(), "nothing booked");
        assert!(!seen.completed && !seen.buried);
        assert_eq!(
            seen.retried_at,
            Some(fixed_clock().0 + Duration::seconds(8)),
            "third attempt: 2 s × 2²"
        );
        assert_eq!(
            seen.payouts.last().unwrap().status,
            PayoutStatus::Failed {
                amount: Cents::new(900)
            }
        );
        assert!(seen.payouts.last().unwrap().last_error.is_some());
    }

    #[tokio::test]
    async fn a_refused_transfer_parks_the_job_as_dead() {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let mut payments = MockPaymentGateway::new();
        expect_transfer(&mut payments, || {
            Err(PaymentError::Rejected {
                code: "account_invalid".to_owned(),
                message: "the destination cannot receive transfers".to_owned(),
            })
        });
        let run = runner(1, seen.clone(), payments).run_next().await.unwrap();
        assert!(matches!(run, JobRun::Dead(_)));
        let seen = seen.lock().unwrap();
        assert!(seen.buried && seen.retried_at.is_none());
    }

    /// The order of [`paid_order`] (locked and its lines), its journal `entries` and the seller's
    /// `balance`; the keys of entries booked are handed to `booked`.
    fn order_with_ledger(
        tx: &mut FakeTx,
        entries: Vec<JournalEntry>,
        balance: i64,
        booked: impl Fn(String) + Send + 'static,
    ) {
        let (order, items) = paid_order();
        tx.orders
            .expect_get_order_for_update()
            .returning(move |_| Ok(Some(order.clone())));
        tx.orders
            .expect_order_items()
            .returning(move |_| Ok(items.clone()));
        tx.ledger
            .expect_order_entries()
            .returning(move |_| Ok(entries.clone()));
        tx.ledger
            .expect_lock_seller_balance()
            .returning(move |_, _| Ok(Cents::new(balance)));
        tx.ledger
            .expect_insert_entry()
            .returning(move |_, entry, _| {
                booked(entry.key().as_str().to_owned());
                Ok(())
            });
    }

    /// No other payout or reversal of the seller is in flight.
    fn nothing_else_under_way(tx: &mut FakeTx) {
        tx.payouts
            .expect_unconfirmed_total()
            .returning(|_, _| Ok(Cents::ZERO));
        tx.payouts
            .expect_pending_reversals_total()
            .returning(|_, _| Ok(Cents::ZERO));
    }

    /// What the fake transactions of a reversal job saw.
    #[derive(Default)]
    struct ReversalSeen {
        reversals: Vec<ReversalRecord>,
        entries: Vec<String>,
        events: Vec<String>,
        completed: bool,
        retried: bool,
    }

    /// Every transaction of a reversal job over the paid order of [`paid_order`], paid out (9.00)
    /// and then refunded 4.00 from the Stripe dashboard: the seller owes 3.60.
    fn reversal_runner(seen: Arc<Mutex<ReversalSeen>>, payments: MockPaymentGateway) -> JobRunner {
        let uow = FakeUow::new(move || {
            let (order, items) = paid_order();
            let mut tx = FakeTx::default();
            tx.jobs.expect_claim().returning(|_, _| {
                let mut job = job(1);
                job.kind = JobKind::Reversal {
                    order: OrderId::from_uuid(id(1)),
                    seller: seller(),
                };
                Ok(Some(job))
            });
            let log = seen.clone();
            tx.orders
                .expect_add_event()
                .returning(move |_, kind, _, _| {
                    log.lock().unwrap().events.push(kind.to_owned());
                    Ok(())
                });
            let money = crate::ports::order_money(&order, &items);
            let paid = order_paid_entry(&money).unwrap();
            let refund = marketplace_domain::ledger::order_event_entry(
                &money,
                &[&paid],
                marketplace_domain::ledger::Fact::Refund {
                    refund_id: "re_1".to_owned(),
                    order: order.id,
                    amount: Cents::new(400),
                    line: None,
                    created: fixed_clock().0,
                },
            )
            .unwrap();
            let log = seen.clone();
            order_with_ledger(&mut tx, vec![paid, refund], -360, move |key| {
                log.lock().unwrap().entries.push(key);
            });
            tx.payouts.expect_get_payout_for_update().returning(|o, s| {
                Ok(Some(PayoutRecord {
                    order_id: o,
                    seller_id: s,
                    status: PayoutStatus::Paid {
                        amount: Cents::new(900),
                        transfer_id: "tr_1".to_owned(),
                    },
                    last_error: None,
                    created_at: fixed_clock().0,
                    updated_at: fixed_clock().0,
                }))
            });
            nothing_else_under_way(&mut tx);
            let log = seen.clone();
            tx.payouts.expect_reversed_total().returning(move |_, _| {
                let seen = log.lock().unwrap();
                Cents::sum(
                    seen.reversals
                        .iter()
                        .filter(|r| r.status != ReversalStatus::Refused)
                        .map(|r| r.amount),
                )
                .map_err(|e| StoreError::Unavailable(e.to_string()))
            });
            let log = seen.clone();
            tx.payouts
                .expect_pending_reversal_for_update()
                .returning(move |_, _| {
                    Ok(log
                        .lock()
                        .unwrap()
                        .reversals
                        .last()
                        .filter(|r| r.status == ReversalStatus::Pending)
                        .cloned())
                });
            let log = seen.clone();
            tx.payouts.expect_insert_reversal().returning(move |r| {
                log.lock().unwrap().reversals.push(r.clone());
                Ok(())
            });
            let log = seen.clone();
            tx.payouts.expect_update_reversal().returning(move |r| {
                let mut seen = log.lock().unwrap();
                if let Some(last) = seen.reversals.iter_mut().find(|x| x.id == r.id) {
                    *last = r.clone();
                }
                Ok(())
            });
            let log = seen.clone();
            tx.jobs.expect_complete().returning(move |_, _| {
                log.lock().unwrap().completed = true;
                Ok(())
            });
            let log = seen.clone();
            tx.jobs.expect_retry().returning(move |_, _, _, _| {
                log.lock().unwrap().retried = true;
                Ok(())
            });
            tx
        });
        JobRunner::new(deps(uow, MockQueries::new(), MockCrypto::new(), payments))
    }

    #[tokio::test]
    async fn a_reversal_takes_back_the_sellers_part_of_a_later_refund_once() {
        let seen = Arc::new(Mutex::new(ReversalSeen::default()));
        let mut payments = MockPaymentGateway::new();
        let keys = Arc::new(Mutex::new(Vec::new()));
        let log = keys.clone();
        payments
            .expect_create_transfer_reversal()
            .withf(|transfer, amount, _| transfer == "tr_1" && *amount == Cents::new(360))
            .times(2)
            .returning(move |_, amount, key| {
                let mut keys = log.lock().unwrap();
                keys.push(key.to_owned());
                if keys.len() == 1 {
                    // The first answer is lost: the job must retry with the same key.
                    Err(PaymentError::Transient {
                        message: "timeout".to_owned(),
                    })
                } else {
                    Ok(crate::ports::TransferReversal {
                        id: "trr_1".to_owned(),
                        amount,
                    })
                }
            });
        let runner = reversal_runner(seen.clone(), payments);
        assert!(matches!(
            runner.run_next().await.unwrap(),
            JobRun::Retrying(_)
        ));
        assert!(matches!(runner.run_next().await.unwrap(), JobRun::Done(_)));
        // A third run finds nothing left to take back and calls nobody.
        assert!(matches!(runner.run_next().await.unwrap(), JobRun::Done(_)));
        let seen = seen.lock().unwrap();
        let keys = keys.lock().unwrap();
        assert_eq!(seen.reversals.len(), 1, "one reversal, retried");
        let key = format!("reversal:{}", seen.reversals[0].id);
        assert_eq!(*keys, [key.clone(), key]);
        assert_eq!(
            seen.reversals[0].status,
            ReversalStatus::Reversed {
                reversal_id: "trr_1".to_owned()
            }
        );
        assert_eq!(seen.entries, ["transfer_reversal:trr_1"]);
        assert_eq!(
            seen.events,
            ["transfer_reversed", "reversal_skipped"],
            "booked once, then nothing to do"
        );
    }

    #[tokio::test]
    async fn a_refused_reversal_is_recorded_and_leaves_the_debt() {
        let seen = Arc::new(Mutex::new(ReversalSeen::default()));
        let mut payments = MockPaymentGateway::new();
        payments
            .expect_create_transfer_reversal()
            .times(1)
            .returning(|_, _, _| {
                Err(PaymentError::Rejected {
                    code: "balance_insufficient".to_owned(),
                    message: "insufficient funds in the connected account".to_owned(),
                })
            });
        let run = reversal_runner(seen.clone(), payments)
            .run_next()
            .await
            .unwrap();
        assert!(matches!(run, JobRun::Done(JobKind::Reversal { .. })));
        let seen = seen.lock().unwrap();
        assert!(seen.completed && !seen.retried);
        assert_eq!(seen.reversals[0].status, ReversalStatus::Refused);
        assert!(
            seen.reversals[0]
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("insufficient"))
        );
        assert!(seen.entries.is_empty(), "nothing booked");
        assert_eq!(seen.events, ["warning"]);
    }

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        let base = Duration::seconds(2);
        assert_eq!(backoff(base, 1), Duration::seconds(2));
        assert_eq!(backoff(base, 2), Duration::seconds(4));
        assert_eq!(backoff(base, 5), Duration::seconds(32));
        assert_eq!(backoff(base, 30), MAX_BACKOFF);
    }
}
