//! Carts and their lines, in memory.

use async_trait::async_trait;
use marketplace_domain::ids::{CartId, OrderId, ProductId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::listings::seller_row;
use super::{CartLine, State, Working};
use crate::ports::{CartLineRow, CartRecord, CartStore, StoreError};

pub(crate) struct MemCarts(pub(crate) Working);

fn touch(s: &mut State, cart: CartId, now: OffsetDateTime) {
    if let Some((record, _)) = s.carts.get_mut(&cart) {
        record.updated_at = now;
    }
}

#[async_trait]
impl CartStore for MemCarts {
    async fn user_cart(
        &mut self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<CartRecord, StoreError> {
        let mut s = self.0.state("carts.user_cart")?;
        if let Some((record, _)) = s.carts.values().find(|(c, _)| c.user_id == Some(user)) {
            return Ok(record.clone());
        }
        let record = CartRecord {
            id: CartId::from_uuid(Uuid::now_v7()),
            user_id: Some(user),
            last_order_id: None,
            updated_at: now,
        };
        s.carts.insert(record.id, (record.clone(), None));
        Ok(record)
    }

    async fn token_cart(&mut self, token_digest: &str) -> Result<Option<CartRecord>, StoreError> {
        let s = self.0.state("carts.token_cart")?;
        Ok(s.carts
            .values()
            .find(|(_, digest)| digest.as_deref() == Some(token_digest))
            .map(|(record, _)| record.clone()))
    }

    async fn insert_token_cart(
        &mut self,
        id: CartId,
        token_digest: &str,
        now: OffsetDateTime,
    ) -> Result<CartRecord, StoreError> {
        let record = CartRecord {
            id,
            user_id: None,
            last_order_id: None,
            updated_at: now,
        };
        self.0
            .state("carts.insert_token_cart")?
            .carts
            .insert(id, (record.clone(), Some(token_digest.to_owned())));
        Ok(record)
    }

    async fn cart_lines(&mut self, cart: CartId) -> Result<Vec<CartLineRow>, StoreError> {
        let s = self.0.state("carts.cart_lines")?;
        let mut lines: Vec<&CartLine> = s.cart_lines.iter().filter(|l| l.cart == cart).collect();
        lines.sort_by_key(|a| (a.added_at, a.product));
        Ok(lines
            .into_iter()
            .filter_map(|line| {
                let product = s.products.get(&line.product)?;
                Some(CartLineRow {
                    seller: seller_row(&s, product.seller_id)?,
                    product: product.clone(),
                    quantity: line.quantity,
                    added_at: line.added_at,
                })
            })
            .collect())
    }

    async fn set_quantity(
        &mut self,
        cart: CartId,
        product: ProductId,
        quantity: u32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("carts.set_quantity")?;
        match s
            .cart_lines
            .iter_mut()
            .find(|l| l.cart == cart && l.product == product)
        {
            Some(line) => line.quantity = quantity,
            None => s.cart_lines.push(CartLine {
                cart,
                product,
                quantity,
                added_at: now,
            }),
        }
        touch(&mut s, cart, now);
        Ok(())
    }

    async fn remove_line(&mut self, cart: CartId, product: ProductId) -> Result<(), StoreError> {
        let mut s = self.0.state("carts.remove_line")?;
        s.cart_lines
            .retain(|l| !(l.cart == cart && l.product == product));
        Ok(())
    }

    async fn clear(
        &mut self,
        cart: CartId,
        placed_order: Option<OrderId>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("carts.clear")?;
        s.cart_lines.retain(|l| l.cart != cart);
        if let Some((record, _)) = s.carts.get_mut(&cart) {
            record.last_order_id = placed_order;
            record.updated_at = now;
        }
        Ok(())
    }

    async fn delete_cart(&mut self, cart: CartId) -> Result<(), StoreError> {
        let mut s = self.0.state("carts.delete_cart")?;
        s.carts.remove(&cart);
        s.cart_lines.retain(|l| l.cart != cart);
        Ok(())
    }
}
