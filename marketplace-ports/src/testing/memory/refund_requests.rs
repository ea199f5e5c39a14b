//! Refund requests and their history, in memory.

use async_trait::async_trait;
use marketplace_domain::ids::{OrderId, OrderItemId, RefundRequestId};
use marketplace_domain::pagination::{Page, PageRequest};

use super::listings::page_of;
use super::{MemoryStore, Working, conflict};
use crate::ports::{
    RefundRequestFilter, RefundRequestQueries, RefundRequestRecord, RefundRequestStep,
    RefundRequestStore, StoreError,
};

pub(crate) struct MemRefundRequests(pub(crate) Working);

#[async_trait]
impl RefundRequestStore for MemRefundRequests {
    async fn insert_refund_request(
        &mut self,
        request: &RefundRequestRecord,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("refund_requests.insert_refund_request")?;
        let held = s.refund_requests.iter().any(|r| {
            r.order_item_id == request.order_item_id && r.progress.status.holds_the_line()
        });
        if held && request.progress.status.holds_the_line() {
            return Err(conflict("refund_requests_one_per_line"));
        }
        s.refund_requests.push(request.clone());
        Ok(())
    }

    async fn refund_request_for_update(
        &mut self,
        id: RefundRequestId,
    ) -> Result<Option<RefundRequestRecord>, StoreError> {
        let s = self.0.state("refund_requests.refund_request_for_update")?;
        Ok(s.refund_requests.iter().find(|r| r.id == id).cloned())
    }

    async fn update_refund_request(
        &mut self,
        request: &RefundRequestRecord,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("refund_requests.update_refund_request")?;
        let stored = s
            .refund_requests
            .iter_mut()
            .find(|r| r.id == request.id)
            .ok_or(StoreError::NotFound)?;
        *stored = RefundRequestRecord {
            created_at: stored.created_at,
            ..request.clone()
        };
        Ok(())
    }

    async fn add_refund_request_step(
        &mut self,
        id: RefundRequestId,
        step: &RefundRequestStep,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("refund_requests.add_refund_request_step")?;
        s.refund_request_steps.push((id, step.clone()));
        Ok(())
    }

    async fn line_is_requested(&mut self, line: OrderItemId) -> Result<bool, StoreError> {
        let s = self.0.state("refund_requests.line_is_requested")?;
        Ok(s.refund_requests
            .iter()
            .any(|r| r.order_item_id == line && r.progress.status.holds_the_line()))
    }

    async fn refunds_in_flight(
        &mut self,
        order: OrderId,
    ) -> Result<Vec<RefundRequestRecord>, StoreError> {
        let s = self.0.state("refund_requests.refunds_in_flight")?;
        Ok(s.refund_requests
            .iter()
            .filter(|r| r.order_id == order && r.progress.in_flight)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl RefundRequestQueries for MemoryStore {
    async fn refund_request(
        &self,
        id: RefundRequestId,
    ) -> Result<Option<RefundRequestRecord>, StoreError> {
        let s = self.read("refund_requests.refund_request")?;
        Ok(s.refund_requests.iter().find(|r| r.id == id).cloned())
    }

    async fn refund_request_steps(
        &self,
        id: RefundRequestId,
    ) -> Result<Vec<RefundRequestStep>, StoreError> {
        let s = self.read("refund_requests.refund_request_steps")?;
        Ok(s.refund_request_steps
            .iter()
            .filter(|(r, _)| *r == id)
            .map(|(_, step)| step.clone())
            .collect())
    }

    async fn refund_requests(
        &self,
        filter: RefundRequestFilter,
        page: PageRequest,
    ) -> Result<Page<RefundRequestRecord>, StoreError> {
        let s = self.read("refund_requests.refund_requests")?;
        let mut found: Vec<RefundRequestRecord> = s
            .refund_requests
            .iter()
            .filter(|r| filter.buyer.is_none_or(|b| r.buyer_id == Some(b)))
            .filter(|r| filter.seller.is_none_or(|seller| r.seller_id == seller))
            .filter(|r| {
                filter
                    .status
                    .is_none_or(|status| r.progress.status == status)
            })
            .cloned()
            .collect();
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(page_of(found, page))
    }
}
