//! The seller's side of refund requests, with owners and staff as the safety valve: approving or
//! declining a request with a note, triggering its Stripe refund (a job sends it), and the queues
//! to work from. A decision by an owner or staff on another seller's request is also written to
//! the audit log.

use marketplace_domain::ids::{RefundRequestId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::refunds::{RefundProgress, RefundRequestStatus};

use super::{RefundRequestError, Refusal, list, note, step};
use crate::ports::{AuditEntry, JobKind, RefundRequestFilter, RefundRequestRecord};
use crate::use_cases::Actor;
use crate::use_cases::shared::booking::enqueue;
use crate::use_cases::shared::refund_requests::StepBy;

operation_group!(
    /// Sellers', owners' and staff's decisions on refund requests.
    RefundDecisions
);

/// What the line's seller, an owner or staff decide about a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundDecision {
    /// Approve a waiting request; the buyer is told by mail.
    Approve,
    /// Decline a waiting request; the buyer is told by mail.
    Decline,
    /// Send the approved (or failed) amount back through Stripe: queues the job that asks for
    /// the refund (idempotency key `refundreq-{id}`, a new one only after Stripe refused the
    /// attempt before). The request stays approved, its attempt in flight, until Stripe answers.
    Trigger,
}

impl RefundDecision {
    fn apply(self, progress: RefundProgress) -> Result<RefundProgress, Refusal> {
        match self {
            RefundDecision::Approve => progress.approve(),
            RefundDecision::Decline => progress.decline(),
            RefundDecision::Trigger => progress.trigger(),
        }
    }

    fn audit_action(self) -> &'static str {
        match self {
            RefundDecision::Approve => "refund_request.approve",
            RefundDecision::Decline => "refund_request.decline",
            RefundDecision::Trigger => "refund_request.trigger",
        }
    }
}

/// Which requests a queue lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundQueue {
    /// The caller's, as the seller of their lines.
    Seller,
    /// Every seller's, or one seller's (owners and staff).
    Marketplace {
        /// Only this seller's requests.
        seller: Option<UserId>,
    },
}

/// True when `actor` decides `request`: its line's seller, an owner, or staff.
fn decides(actor: &Actor, request: &RefundRequestRecord) -> bool {
    actor.user_id == request.seller_id || actor.roles.is_owner() || actor.roles.is_staff()
}

impl RefundDecisions {
    /// Applies `decision` to a request, with the decider's note.
    ///
    /// # Errors
    /// [`RefundRequestError::NotFound`] unless the caller decides it (its buyer gets
    /// [`RefundRequestError::Forbidden`]); [`RefundRequestError::Refused`] when its state does
    /// not allow the decision (approve and decline: only while it waits; trigger: once approved
    /// or failed, never while an attempt is in flight).
    pub async fn decide(
        &self,
        actor: &Actor,
        id: RefundRequestId,
        note_text: Option<&str>,
        decision: RefundDecision,
    ) -> Result<RefundRequestRecord, RefundRequestError> {
        let note = note("note", note_text)?;
        let queries = &self.deps.queries;
        let seen = queries
            .refund_requests()?
            .refund_request(id)
            .await?
            .ok_or(RefundRequestError::NotFound)?;
        if !decides(actor, &seen) {
            return Err(if seen.buyer_id == Some(actor.user_id) {
                RefundRequestError::Forbidden("not_your_decision")
            } else {
                RefundRequestError::NotFound
            });
        }
        let order = queries
            .orders()?
            .order(seen.order_id)
            .await?
            .ok_or(RefundRequestError::NotFound)?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let by = StepBy {
            actor: Some(actor.user_id),
            note: &note,
        };
        let request = step(tx.as_mut(), &self.deps, &order, id, by, |p| {
            decision.apply(p)
        })
        .await?;
        let next = request.progress;
        if decision == RefundDecision::Trigger {
            let job = JobKind::RefundRequests {
                order: request.order_id,
            };
            enqueue(tx.as_mut(), &job, &self.deps.settings, now).await?;
        }
        if actor.user_id != request.seller_id {
            // An owner's or staff's override of the seller's decision: audited.
            let entry = AuditEntry {
                actor_id: actor.user_id,
                action: decision.audit_action().to_owned(),
                subject: format!("refund_request:{id}"),
                detail: format!(
                    "{} of {} on order {} (seller {}): {note}",
                    next.status, request.amount, request.order_id, request.seller_id
                ),
                created_at: now,
            };
            tx.adjustments()?.record_audit(&entry).await?;
        }
        tx.commit().await?;
        Ok(request)
    }

    /// A queue of requests, newest first, optionally in one state: a seller's own, or (owners
    /// and staff) the whole marketplace's.
    ///
    /// # Errors
    /// [`RefundRequestError::NotFound`] for callers who may not read that queue.
    pub async fn queue(
        &self,
        actor: &Actor,
        queue: RefundQueue,
        status: Option<RefundRequestStatus>,
        page: PageRequest,
    ) -> Result<Page<RefundRequestRecord>, RefundRequestError> {
        let seller = match queue {
            RefundQueue::Seller if actor.roles.is_seller() => Some(actor.user_id),
            RefundQueue::Marketplace { seller }
                if actor.roles.is_owner() || actor.roles.is_staff() =>
            {
                seller
            }
            RefundQueue::Seller | RefundQueue::Marketplace { .. } => {
                return Err(RefundRequestError::NotFound);
            }
        };
        let filter = RefundRequestFilter {
            seller,
            status,
            ..RefundRequestFilter::default()
        };
        list(&self.deps, filter, page).await
    }
}
