//! Payouts and transfer reversals, in memory.

use async_trait::async_trait;
use marketplace_domain::ids::{OrderId, UserId};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::payouts::{PayoutStatus, ReversalStatus, SkipReason};

use super::listings::page_of;
use super::{MemoryStore, State, Working, conflict};
use crate::ports::{
    PayoutQueries, PayoutRecord, PayoutStore, ReversalRecord, ReversalStore, StoreError,
};

pub(crate) struct MemPayouts(pub(crate) Working);

/// Σ amounts of `seller`'s payouts whose transfer may exist (pending), except `except`'s.
fn unconfirmed(
    s: &State,
    seller: UserId,
    currency: Currency,
    except: Option<OrderId>,
) -> Result<Cents, StoreError> {
    let in_currency = |order: OrderId| s.orders.get(&order).is_some_and(|o| o.currency == currency);
    Cents::sum(
        s.payouts
            .values()
            .filter(|p| p.seller_id == seller && Some(p.order_id) != except)
            .filter(|p| in_currency(p.order_id))
            .filter_map(|p| match p.status {
                PayoutStatus::Pending { amount } => Some(amount),
                PayoutStatus::Failed { .. }
                | PayoutStatus::Paid { .. }
                | PayoutStatus::Skipped(_) => None,
            }),
    )
    .map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// An order's payouts, oldest first.
fn of_order(s: &State, order: OrderId) -> Vec<PayoutRecord> {
    let mut payouts: Vec<PayoutRecord> = s
        .payouts
        .values()
        .filter(|p| p.order_id == order)
        .cloned()
        .collect();
    payouts.sort_by_key(|a| (a.created_at, a.seller_id));
    payouts
}

#[async_trait]
impl PayoutStore for MemPayouts {
    async fn get_payout_for_update(
        &mut self,
        order: OrderId,
        seller: UserId,
    ) -> Result<Option<PayoutRecord>, StoreError> {
        let s = self.0.state("payouts.get_payout_for_update")?;
        Ok(s.payouts.get(&(order, seller)).cloned())
    }

    async fn insert_payout(&mut self, payout: &PayoutRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("payouts.insert_payout")?;
        let key = (payout.order_id, payout.seller_id);
        if s.payouts.contains_key(&key) {
            return Err(conflict("payouts_pkey"));
        }
        s.payouts.insert(key, payout.clone());
        Ok(())
    }

    async fn update_payout(&mut self, payout: &PayoutRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("payouts.update_payout")?;
        let stored = s
            .payouts
            .get_mut(&(payout.order_id, payout.seller_id))
            .ok_or(StoreError::NotFound)?;
        let created_at = stored.created_at;
        *stored = PayoutRecord {
            created_at,
            ..payout.clone()
        };
        Ok(())
    }

    async fn unconfirmed_total(
        &mut self,
        seller: UserId,
        currency: Currency,
        except: OrderId,
    ) -> Result<Cents, StoreError> {
        unconfirmed(
            &*self.0.state("payouts.unconfirmed_total")?,
            seller,
            currency,
            Some(except),
        )
    }

    async fn skipped_payouts(
        &mut self,
        seller: UserId,
        reason: SkipReason,
    ) -> Result<Vec<OrderId>, StoreError> {
        let s = self.0.state("payouts.skipped_payouts")?;
        let mut skipped: Vec<&PayoutRecord> = s
            .payouts
            .values()
            .filter(|p| p.seller_id == seller && p.status == PayoutStatus::Skipped(reason))
            .collect();
        skipped.sort_by_key(|p| p.created_at);
        Ok(skipped.into_iter().map(|p| p.order_id).collect())
    }

    async fn order_payouts(&mut self, order: OrderId) -> Result<Vec<PayoutRecord>, StoreError> {
        Ok(of_order(&*self.0.state("payouts.order_payouts")?, order))
    }
}

pub(crate) struct MemReversals(pub(crate) Working);

fn reversal_total(s: &State, keep: impl Fn(&ReversalRecord) -> bool) -> Result<Cents, StoreError> {
    Cents::sum(s.reversals.iter().filter(|r| keep(r)).map(|r| r.amount))
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

#[async_trait]
impl ReversalStore for MemReversals {
    async fn pending_reversal_for_update(
        &mut self,
        order: OrderId,
        seller: UserId,
    ) -> Result<Option<ReversalRecord>, StoreError> {
        let s = self.0.state("reversals.pending_reversal_for_update")?;
        Ok(s.reversals
            .iter()
            .find(|r| {
                r.order_id == order && r.seller_id == seller && r.status == ReversalStatus::Pending
            })
            .cloned())
    }

    async fn reversed_total(
        &mut self,
        order: OrderId,
        seller: UserId,
    ) -> Result<Cents, StoreError> {
        let s = self.0.state("reversals.reversed_total")?;
        reversal_total(&s, |r| {
            r.order_id == order && r.seller_id == seller && r.status != ReversalStatus::Refused
        })
    }

    async fn reversed_from(&mut self, transfer_id: &str) -> Result<Cents, StoreError> {
        let s = self.0.state("reversals.reversed_from")?;
        reversal_total(&s, |r| {
            r.transfer_id == transfer_id && r.status != ReversalStatus::Refused
        })
    }

    async fn pending_reversals_total(
        &mut self,
        seller: UserId,
        currency: Currency,
        except: OrderId,
    ) -> Result<Cents, StoreError> {
        let s = self.0.state("reversals.pending_reversals_total")?;
        reversal_total(&s, |r| {
            r.seller_id == seller
                && r.order_id != except
                && r.currency == currency
                && r.status == ReversalStatus::Pending
        })
    }

    async fn insert_reversal(&mut self, reversal: &ReversalRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("reversals.insert_reversal")?;
        let pending_already = s.reversals.iter().any(|r| {
            r.order_id == reversal.order_id
                && r.seller_id == reversal.seller_id
                && r.status == ReversalStatus::Pending
        });
        if pending_already && reversal.status == ReversalStatus::Pending {
            return Err(conflict("transfer_reversals_one_pending"));
        }
        s.reversals.push(reversal.clone());
        Ok(())
    }

    async fn update_reversal(&mut self, reversal: &ReversalRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("reversals.update_reversal")?;
        let stored = s
            .reversals
            .iter_mut()
            .find(|r| r.id == reversal.id)
            .ok_or(StoreError::NotFound)?;
        stored.amount = reversal.amount;
        stored.status = reversal.status.clone();
        stored.last_error.clone_from(&reversal.last_error);
        stored.updated_at = reversal.updated_at;
        Ok(())
    }
}

#[async_trait]
impl PayoutQueries for MemoryStore {
    async fn order_payouts(&self, order: OrderId) -> Result<Vec<PayoutRecord>, StoreError> {
        Ok(of_order(&self.read("payouts.order_payouts")?, order))
    }

    async fn seller_payouts(
        &self,
        seller: UserId,
        page: PageRequest,
    ) -> Result<Page<PayoutRecord>, StoreError> {
        let s = self.read("payouts.seller_payouts")?;
        let mut payouts: Vec<PayoutRecord> = s
            .payouts
            .values()
            .filter(|p| p.seller_id == seller)
            .cloned()
            .collect();
        payouts.sort_by(|a, b| {
            b.updated_at
                .cmp(&a.updated_at)
                .then(a.order_id.cmp(&b.order_id))
        });
        Ok(page_of(payouts, page))
    }

    async fn unconfirmed_payouts(
        &self,
        seller: UserId,
        currency: Currency,
    ) -> Result<Cents, StoreError> {
        unconfirmed(
            &self.read("payouts.unconfirmed_payouts")?,
            seller,
            currency,
            None,
        )
    }

    async fn order_reversals(&self, order: OrderId) -> Result<Vec<ReversalRecord>, StoreError> {
        let s = self.read("payouts.order_reversals")?;
        let mut reversals: Vec<ReversalRecord> = s
            .reversals
            .iter()
            .filter(|r| r.order_id == order)
            .cloned()
            .collect();
        reversals.sort_by_key(|a| (a.created_at, a.id));
        Ok(reversals)
    }
}
