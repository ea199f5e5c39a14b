//! Owners and the books: the reconciliation report (orders whose money needs a look, with why),
//! resolving an anomaly (a charge that did not match the order releases its payouts), adjustments
//! of a seller's balance booked once per key, and the audit log of these actions
//! (docs/money.md, "Reconciliation" and "Adjustments").

use marketplace_domain::adjustments::{Adjustment, AdjustmentInput};
use marketplace_domain::ids::{AdjustmentId, OrderId};
use marketplace_domain::ledger::{LedgerError, adjustment_entry};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::payouts::SkipReason;
use marketplace_domain::reconcile::{AnomalyKind, ReconFlag};
use marketplace_domain::validation::{FieldErrors, required_text};
use uuid::Uuid;

use super::is_owner;
use crate::ports::{AdjustmentRecord, AuditEntry, FlaggedOrder, ReconFilter, StoreError, Tx};
use crate::use_cases::shared::booking::{insert_entry, queue_payouts, record_events};
use crate::use_cases::shared::reconciliation::refresh_flags;
use crate::use_cases::shared::sellers::requeue_skipped;
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why an owner's money tool failed.
#[derive(Debug, thiserror::Error)]
pub enum BooksError {
    /// Only owners.
    #[error("only the marketplace owner can do this")]
    Forbidden,
    /// No such order or seller.
    #[error("not found")]
    NotFound,
    /// Some fields are not acceptable.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// The key was used for another adjustment.
    #[error("this idempotency key was used for another adjustment")]
    KeyInUse,
    /// Nothing of that kind is unresolved on the order.
    #[error("nothing of that kind is unresolved on this order")]
    NothingToResolve,
    /// The ledger refused the entry (logged).
    #[error("the adjustment cannot be booked: {0}")]
    Ledger(#[from] LedgerError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for BooksError {
    fn kind(&self) -> ErrorKind {
        match self {
            BooksError::Forbidden => ErrorKind::Forbidden { code: "forbidden" },
            BooksError::NotFound => ErrorKind::NotFound,
            BooksError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            BooksError::KeyInUse => ErrorKind::Conflict {
                code: "idempotency_key_in_use",
            },
            BooksError::NothingToResolve => ErrorKind::Conflict {
                code: "nothing_to_resolve",
            },
            BooksError::Ledger(_) => ErrorKind::Unprocessable {
                code: "not_bookable",
            },
            BooksError::Store(e) => e.kind(),
        }
    }
}

/// What an adjustment request did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdjustmentOutcome {
    /// The adjustment.
    pub adjustment: AdjustmentRecord,
    /// False when the same request had been booked before under its key.
    pub created: bool,
}

operation_group!(
    /// Owners and the books: reconciliation, anomalies, adjustments, the audit log.
    Books
);

impl Books {
    fn require_owner(actor: &Actor) -> Result<(), BooksError> {
        if is_owner(actor) {
            Ok(())
        } else {
            Err(BooksError::Forbidden)
        }
    }

    /// The reconciliation report: orders with flags, most recently flagged first.
    ///
    /// # Errors
    /// [`BooksError::Invalid`] for an unknown flag code.
    pub async fn report(
        &self,
        actor: &Actor,
        filter: &ReconFilter,
        page: PageRequest,
    ) -> Result<Page<FlaggedOrder>, BooksError> {
        Self::require_owner(actor)?;
        self.operator_report(filter, page).await
    }

    /// The reconciliation report for an operator on the server (`app reconcile`).
    ///
    /// # Errors
    /// [`BooksError::Invalid`] for an unknown flag code.
    pub async fn operator_report(
        &self,
        filter: &ReconFilter,
        page: PageRequest,
    ) -> Result<Page<FlaggedOrder>, BooksError> {
        if let Some(flag) = &filter.flag
            && !ReconFlag::CODES.contains(&flag.as_str())
        {
            return Err(BooksError::Invalid(FieldErrors::single(
                "flag",
                format!("must be one of {}", ReconFlag::CODES.join(", ")),
            )));
        }
        Ok(self
            .deps
            .queries
            .reconciliation()?
            .flagged_orders(filter, page)
            .await?)
    }

    /// Resolves an order's anomalies of one kind after an owner looked at them, with a note: they
    /// leave the report, and a resolved charge mismatch releases the order's payouts.
    ///
    /// # Errors
    /// [`BooksError::NotFound`] for an unknown order, [`BooksError::NothingToResolve`] when
    /// nothing of that kind is unresolved, [`BooksError::Invalid`] without a note.
    pub async fn resolve(
        &self,
        actor: &Actor,
        order_id: OrderId,
        kind: AnomalyKind,
        note: &str,
    ) -> Result<(), BooksError> {
        Self::require_owner(actor)?;
        let note = required_text(note, 500)
            .map_err(|e| BooksError::Invalid(FieldErrors::single("note", e.to_string())))?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let Some(order) = tx.orders()?.get_order_for_update(order_id).await? else {
            return Err(BooksError::NotFound);
        };
        let resolved = tx
            .reconciliation()?
            .resolve_anomalies(order_id, kind, None, now)
            .await?;
        if resolved == 0 {
            return Err(BooksError::NothingToResolve);
        }
        let event = marketplace_domain::orders::OrderEvent::warning(format!(
            "{} resolved by an owner: {note}",
            kind.as_str()
        ));
        record_events(tx.as_mut(), order_id, &[event], now).await?;
        audit(
            tx.as_mut(),
            actor,
            "reconciliation.resolve",
            format!("order:{order_id}"),
            format!("{}: {note}", kind.as_str()),
            now,
        )
        .await?;
        if order.status.was_paid() {
            queue_payouts(tx.as_mut(), &order, &self.deps.settings, now).await?;
        }
        refresh_flags(tx.as_mut(), order_id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Books an adjustment of a seller's balance once per idempotency key: the same request again
    /// answers with the first one; the key with other fields is refused.
    ///
    /// # Errors
    /// [`BooksError::Invalid`], [`BooksError::NotFound`] for someone who is not a seller,
    /// [`BooksError::KeyInUse`].
    pub async fn adjust(
        &self,
        actor: &Actor,
        input: &AdjustmentInput,
    ) -> Result<AdjustmentOutcome, BooksError> {
        Self::require_owner(actor)?;
        let wanted = Adjustment::new(input).map_err(BooksError::Invalid)?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let seller = tx.users()?.get_user(wanted.seller).await?;
        if !seller.is_some_and(|u| u.roles.is_seller()) {
            return Err(BooksError::NotFound);
        }
        if let Some(before) = tx
            .adjustments()?
            .adjustment_by_key(&wanted.idempotency_key)
            .await?
        {
            return if as_adjustment(&before).same_request(&wanted) {
                Ok(AdjustmentOutcome {
                    adjustment: before,
                    created: false,
                })
            } else {
                Err(BooksError::KeyInUse)
            };
        }
        let record = AdjustmentRecord {
            id: AdjustmentId::from_uuid(Uuid::now_v7()),
            seller_id: wanted.seller,
            amount: wanted.amount,
            currency: wanted.currency,
            note: wanted.note.clone(),
            idempotency_key: wanted.idempotency_key.clone(),
            created_by: actor.user_id,
            created_at: now,
        };
        let entry = adjustment_entry(
            record.id,
            record.seller_id,
            record.amount,
            None,
            record.currency,
        )?;
        match tx.adjustments()?.insert_adjustment(&record).await {
            Err(e) if e.is_conflict_on("adjustments_idempotency_key_key") => {
                return Err(BooksError::KeyInUse);
            }
            other => other?,
        }
        insert_entry(tx.as_mut(), &entry, now).await?;
        if record.amount.is_positive() {
            let reason = SkipReason::NothingOwed;
            requeue_skipped(
                tx.as_mut(),
                record.seller_id,
                reason,
                &self.deps.settings,
                now,
            )
            .await?;
        }
        audit(
            tx.as_mut(),
            actor,
            "adjustment.create",
            format!("seller:{}", record.seller_id),
            format!("{} {}: {}", record.amount, record.currency, record.note),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(AdjustmentOutcome {
            adjustment: record,
            created: true,
        })
    }

    /// The audit log of owners' money actions, newest first.
    ///
    /// # Errors
    /// [`BooksError::Forbidden`] for anyone but an owner.
    pub async fn audit_log(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, BooksError> {
        Self::require_owner(actor)?;
        Ok(self.deps.queries.audit()?.audit_log(page).await?)
    }
}

fn as_adjustment(record: &AdjustmentRecord) -> Adjustment {
    Adjustment {
        seller: record.seller_id,
        amount: record.amount,
        currency: record.currency,
        note: record.note.clone(),
        idempotency_key: record.idempotency_key.clone(),
    }
}

async fn audit(
    tx: &mut dyn Tx,
    actor: &Actor,
    action: &str,
    subject: String,
    detail: String,
    now: time::OffsetDateTime,
) -> Result<(), StoreError> {
    tx.adjustments()?
        .record_audit(&AuditEntry {
            actor_id: actor.user_id,
            action: action.to_owned(),
            subject,
            detail,
            created_at: now,
        })
        .await
}
