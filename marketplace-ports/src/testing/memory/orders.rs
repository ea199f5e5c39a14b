//! Orders, their history and Checkout Sessions, in memory.

use std::cmp::Reverse;

use async_trait::async_trait;
use marketplace_domain::catalog::ProductKind;
use marketplace_domain::ids::OrderId;
use marketplace_domain::orders::{Order, OrderEvent};
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;

use super::listings::page_of;
use super::{MemoryStore, Working, conflict};
use crate::ports::{
    AssetRecord, OrderEventRecord, OrderFilter, OrderLookup, OrderQueries, OrderStore,
    OwnerOrderFilter, OwnerOrderRow, StoreError,
};

pub(crate) struct MemOrders(pub(crate) Working);

#[async_trait]
impl OrderStore for MemOrders {
    async fn insert_order(&mut self, order: &Order) -> Result<(), StoreError> {
        let mut s = self.0.state("orders.insert_order")?;
        if s.orders.contains_key(&order.id) {
            return Err(conflict("orders_pkey"));
        }
        s.orders.insert(order.id, order.clone());
        Ok(())
    }

    async fn get_order_for_update(&mut self, id: OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self
            .0
            .state("orders.get_order_for_update")?
            .orders
            .get(&id)
            .cloned())
    }

    async fn find_order_by_stripe_id(
        &mut self,
        stripe_id: &str,
    ) -> Result<Option<OrderId>, StoreError> {
        let s = self.0.state("orders.find_order_by_stripe_id")?;
        if let Some(order) = s.order_sessions.get(stripe_id) {
            return Ok(Some(*order));
        }
        Ok(s.orders
            .values()
            .find(|o| {
                o.stripe_payment_intent() == Some(stripe_id)
                    || o.charge_id.as_deref() == Some(stripe_id)
            })
            .map(|o| o.id))
    }

    async fn update_order(&mut self, order: &Order) -> Result<(), StoreError> {
        let mut s = self.0.state("orders.update_order")?;
        let stored = s.orders.get(&order.id).ok_or(StoreError::NotFound)?;
        // Lines never change: keep the stored ones, take everything else.
        let (data, _) = order.clone().into_parts();
        let lines = stored.lines().to_vec();
        s.orders.insert(order.id, Order::restore(data, lines));
        if let Some(session) = &order.checkout.session_id {
            s.order_sessions.entry(session.clone()).or_insert(order.id);
        }
        Ok(())
    }

    async fn add_events(
        &mut self,
        order: OrderId,
        events: &[OrderEvent],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("orders.add_events")?;
        if !s.orders.contains_key(&order) {
            return Err(conflict("order_events_order_id_fkey"));
        }
        for event in events {
            s.order_events.push((
                order,
                OrderEventRecord {
                    kind: event.kind,
                    message: event.message.clone(),
                    created_at: now,
                },
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl OrderQueries for MemoryStore {
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.read("orders.order")?.orders.get(&id).cloned())
    }

    async fn order_events(&self, id: OrderId) -> Result<Vec<OrderEventRecord>, StoreError> {
        let s = self.read("orders.order_events")?;
        let mut events: Vec<OrderEventRecord> = s
            .order_events
            .iter()
            .filter(|(order, _)| *order == id)
            .map(|(_, event)| event.clone())
            .collect();
        // Stable: events written at the same time keep the order they were written in.
        events.sort_by_key(|e| e.created_at);
        Ok(events)
    }

    async fn list_orders(
        &self,
        filter: OrderFilter,
        page: PageRequest,
    ) -> Result<Page<Order>, StoreError> {
        let s = self.read("orders.list_orders")?;
        let mut orders: Vec<Order> = s
            .orders
            .values()
            .filter(|o| filter.buyer.is_none_or(|buyer| o.buyer_id == Some(buyer)))
            .filter(|o| {
                filter
                    .seller
                    .is_none_or(|seller| o.lines().iter().any(|l| l.seller_id == seller))
            })
            .filter(|o| !filter.paid_only || o.paid_at.is_some())
            .cloned()
            .collect();
        if filter.paid_only {
            orders.sort_by_key(|o| Reverse((o.paid_at, o.id)));
        } else {
            orders.sort_by_key(|o| Reverse((o.created_at, o.id)));
        }
        Ok(page_of(orders, page))
    }

    async fn owner_orders(
        &self,
        filter: &OwnerOrderFilter,
        page: PageRequest,
    ) -> Result<Page<OwnerOrderRow>, StoreError> {
        let s = self.read("orders.owner_orders")?;
        let email_of = |o: &Order| match (o.buyer_id, &o.guest_email) {
            (Some(buyer), _) => s
                .users
                .get(&buyer)
                .map(|u| u.email.clone())
                .unwrap_or_default(),
            (None, Some(email)) => email.clone(),
            (None, None) => String::new(),
        };
        let flags_of = |o: &Order| -> Vec<String> {
            let mut codes: Vec<String> = s
                .flags
                .get(&o.id)
                .map(|(flags, _)| flags.iter().map(|f| f.code.clone()).collect())
                .unwrap_or_default();
            codes.sort();
            codes
        };
        let found = |o: &Order| match &filter.lookup {
            None => true,
            Some(OrderLookup::Id(id)) => o.id == *id,
            Some(OrderLookup::StripeId(stripe)) => [
                o.checkout.session_id.as_deref(),
                o.payment.as_ref().and_then(|p| p.stripe_payment_intent()),
                o.charge_id.as_deref(),
            ]
            .contains(&Some(stripe.as_str())),
            Some(OrderLookup::Email(text)) => {
                email_of(o).to_lowercase().contains(&text.to_lowercase())
            }
        };
        let mut rows: Vec<OwnerOrderRow> = s
            .orders
            .values()
            .filter(|o| found(o))
            .filter(|o| filter.status.is_none_or(|status| o.status == status))
            .filter(|o| {
                filter
                    .seller
                    .is_none_or(|seller| o.lines().iter().any(|l| l.seller_id == seller))
            })
            .filter(|o| filter.since.is_none_or(|since| o.created_at >= since))
            .filter(|o| filter.until.is_none_or(|until| o.created_at < until))
            .filter(|o| {
                filter
                    .flagged
                    .is_none_or(|flagged| flagged != flags_of(o).is_empty())
            })
            .map(|o| OwnerOrderRow {
                order: o.clone(),
                email: email_of(o),
                flags: flags_of(o),
            })
            .collect();
        rows.sort_by_key(|r| Reverse((r.order.created_at, r.order.id)));
        Ok(page_of(rows, page))
    }

    async fn order_assets(&self, id: OrderId) -> Result<Vec<AssetRecord>, StoreError> {
        let s = self.read("orders.order_assets")?;
        let Some(order) = s.orders.get(&id) else {
            return Ok(Vec::new());
        };
        let mut assets = Vec::new();
        for line in order.lines().iter().filter(|l| l.kind == ProductKind::File) {
            let mut of_line: Vec<AssetRecord> = s
                .assets
                .iter()
                .filter(|a| a.product_id == line.product_id)
                .cloned()
                .collect();
            of_line.sort_by_key(|a| (a.created_at, a.id));
            assets.extend(of_line);
        }
        Ok(assets)
    }

    async fn order_by_session(&self, session_id: &str) -> Result<Option<OrderId>, StoreError> {
        Ok(self
            .read("orders.order_by_session")?
            .order_sessions
            .get(session_id)
            .copied())
    }
}
