//! The buyer's side of refund requests: asking for a physical line's money back (guests with their
//! order token and the checkout e-mail typed again), withdrawing the request while it waits,
//! reading one and listing one's own.

use marketplace_domain::ids::{OrderId, OrderItemId, RefundRequestId};
use marketplace_domain::orders::Order;
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::refunds::{
    RefundProgress, RefundReason, RefundableLine, refund_request_amount,
};
use marketplace_domain::validation::FieldErrors;
use uuid::Uuid;

use super::{RefundRequestDetail, RefundRequestError, Refusal, list, note, step};
use crate::ports::{RefundRequestFilter, RefundRequestRecord};
use crate::use_cases::Actor;
use crate::use_cases::orders::{OrderAccess, is_buyer};
use crate::use_cases::shared::refund_requests::{StepBy, insert_request};

/// What a buyer sends to ask for a refund.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewRefundRequest {
    /// `damaged`, `not_as_described`, `late`, `wrong_item` or `other`.
    pub reason: String,
    /// Their notes.
    pub notes: Option<String>,
    /// The checkout e-mail, typed again (guests).
    pub email: Option<String>,
}

operation_group!(
    /// Buyers' refund requests.
    RefundRequests
);

impl RefundRequests {
    /// Asks for a line's money back: its gross plus its exact shares of tax and shipping, never
    /// more than is left to refund on it. The seller is told by mail.
    ///
    /// # Errors
    /// [`RefundRequestError::NotFound`] unless the caller bought it,
    /// [`RefundRequestError::EmailMismatch`] for a guest's wrong e-mail,
    /// [`RefundRequestError::Invalid`] for the reason or notes,
    /// [`RefundRequestError::Refused`] with the rule's code (`free_order`, `digital_line`,
    /// `order_not_paid`, `already_requested`, `already_refunded`).
    pub async fn request(
        &self,
        access: OrderAccess<'_>,
        order_id: OrderId,
        line_id: OrderItemId,
        input: &NewRefundRequest,
    ) -> Result<RefundRequestRecord, RefundRequestError> {
        let mut fields = FieldErrors::new();
        let reason = RefundReason::parse(input.reason.trim());
        if reason.is_none() {
            fields.add(
                "reason",
                "must be one of damaged, not_as_described, late, wrong_item, other",
            );
        }
        let notes = match note("notes", input.notes.as_deref()) {
            Ok(notes) => notes,
            Err(RefundRequestError::Invalid(e)) => {
                fields.extend(e);
                String::new()
            }
            Err(e) => return Err(e),
        };
        let order = self
            .deps
            .queries
            .orders()?
            .order(order_id)
            .await?
            .filter(|order| is_buyer(self.deps.crypto.as_ref(), order, access))
            .ok_or(RefundRequestError::NotFound)?;
        if let Some(expected) = order.guest_email.as_deref() {
            match input.email.as_deref().map(str::trim) {
                None | Some("") => fields.add("email", "type the e-mail the order was placed with"),
                Some(sent) if !sent.eq_ignore_ascii_case(expected) => {
                    return Err(RefundRequestError::EmailMismatch);
                }
                Some(_) => {}
            }
        }
        let (Some(reason), true) = (reason, fields.is_empty()) else {
            return Err(RefundRequestError::Invalid(fields));
        };
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let order = tx
            .orders()?
            .get_order_for_update(order_id)
            .await?
            .ok_or(RefundRequestError::NotFound)?;
        let (index, line) = order
            .lines()
            .iter()
            .enumerate()
            .find(|(_, line)| line.id == line_id)
            .ok_or(RefundRequestError::NotFound)?;
        let entries = tx.ledger()?.order_entries(order_id).await?;
        let refunded = order
            .refunds(&entries)?
            .line_refunded(index)
            .map_err(Refusal::from)?;
        let requested = tx.refund_requests()?.line_is_requested(line_id).await?;
        let money = line.money();
        let amount = refund_request_amount(&RefundableLine {
            order_status: order.status,
            free_order: order.paid_free() || !order.total.is_positive(),
            line: &money,
            refunded,
            requested,
        })?;
        let request = RefundRequestRecord {
            id: RefundRequestId::from_uuid(Uuid::now_v7()),
            order_id,
            order_item_id: line_id,
            seller_id: line.seller_id,
            buyer_id: order.buyer_id,
            reason,
            notes,
            amount,
            currency: order.currency,
            progress: RefundProgress::requested(),
            stripe_refund_id: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        };
        insert_request(tx.as_mut(), &self.deps, &order, &request, now).await?;
        tx.commit().await?;
        Ok(request)
    }

    /// Withdraws a request that still waits for its seller.
    ///
    /// # Errors
    /// [`RefundRequestError::NotFound`] unless the caller made it,
    /// [`RefundRequestError::Refused`] once it was decided.
    pub async fn cancel(
        &self,
        access: OrderAccess<'_>,
        id: RefundRequestId,
        note_text: Option<&str>,
    ) -> Result<RefundRequestRecord, RefundRequestError> {
        let note = note("note", note_text)?;
        let order = self.order_of(access, id).await?;
        let mut tx = self.deps.uow.begin().await?;
        let by = StepBy {
            actor: access.actor.map(|a| a.user_id),
            note: &note,
        };
        let request = step(
            tx.as_mut(),
            &self.deps,
            &order,
            id,
            by,
            RefundProgress::cancel,
        )
        .await?;
        tx.commit().await?;
        Ok(request)
    }

    /// The order of a request the caller made (as its buyer or with its guest token).
    async fn order_of(
        &self,
        access: OrderAccess<'_>,
        id: RefundRequestId,
    ) -> Result<Order, RefundRequestError> {
        let queries = &self.deps.queries;
        let request = queries
            .refund_requests()?
            .refund_request(id)
            .await?
            .ok_or(RefundRequestError::NotFound)?;
        queries
            .orders()?
            .order(request.order_id)
            .await?
            .filter(|order| is_buyer(self.deps.crypto.as_ref(), order, access))
            .ok_or(RefundRequestError::NotFound)
    }

    /// One request with its history: for its buyer (or guest token), the line's seller, owners
    /// and staff.
    ///
    /// # Errors
    /// [`RefundRequestError::NotFound`] for anyone else.
    pub async fn get(
        &self,
        access: OrderAccess<'_>,
        id: RefundRequestId,
    ) -> Result<RefundRequestDetail, RefundRequestError> {
        let reads = self.deps.queries.refund_requests()?;
        let request = reads
            .refund_request(id)
            .await?
            .ok_or(RefundRequestError::NotFound)?;
        let decides = access.actor.is_some_and(|a| {
            a.user_id == request.seller_id || a.roles.is_owner() || a.roles.is_staff()
        });
        if !decides {
            self.order_of(access, id).await?;
        }
        let history = reads.refund_request_steps(id).await?;
        Ok(RefundRequestDetail { request, history })
    }

    /// The caller's requests, newest first.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn mine(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<RefundRequestRecord>, RefundRequestError> {
        let filter = RefundRequestFilter {
            buyer: Some(actor.user_id),
            ..RefundRequestFilter::default()
        };
        list(&self.deps, filter, page).await
    }
}
