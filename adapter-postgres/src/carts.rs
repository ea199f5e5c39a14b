//! Carts: users' carts and anonymous ones known by a token digest, and their lines.

use async_trait::async_trait;
use marketplace_domain::ids::{CartId, OrderId, ProductId, UserId};
use marketplace_ports::ports::{CartLineRow, CartRecord, CartStore, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::TxConn;
use crate::errors::{corrupt, store_error};
use crate::listings::{product_record, seller_row};

struct CartRow {
    id: Uuid,
    user_id: Option<Uuid>,
    last_order_id: Option<Uuid>,
    updated_at: OffsetDateTime,
}

impl From<CartRow> for CartRecord {
    fn from(row: CartRow) -> Self {
        CartRecord {
            id: CartId::from_uuid(row.id),
            user_id: row.user_id.map(UserId::from_uuid),
            last_order_id: row.last_order_id.map(OrderId::from_uuid),
            updated_at: row.updated_at,
        }
    }
}

async fn touch(
    conn: &mut sqlx::PgConnection,
    cart: CartId,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query!(
        "update carts set updated_at = $2 where id = $1",
        cart.get(),
        now
    )
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// The carts of one transaction.
pub(crate) struct PgCarts(pub(crate) TxConn);

#[async_trait]
impl CartStore for PgCarts {
    async fn user_cart(
        &mut self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<CartRecord, StoreError> {
        let mut tx = self.0.lock().await;
        sqlx::query!(
            "insert into carts (id, user_id, created_at, updated_at) values ($1, $2, $3, $3)
             on conflict (user_id) do nothing",
            Uuid::now_v7(),
            user.get(),
            now,
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        let row = sqlx::query_as!(
            CartRow,
            "select id, user_id, last_order_id, updated_at from carts where user_id = $1 for update",
            user.get()
        )
        .fetch_one(&mut **tx)
        .await
        .map_err(store_error)?;
        Ok(row.into())
    }

    async fn token_cart(&mut self, token_digest: &str) -> Result<Option<CartRecord>, StoreError> {
        let row = sqlx::query_as!(
            CartRow,
            "select id, user_id, last_order_id, updated_at from carts
             where token_digest = $1 for update",
            token_digest
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(row.map(CartRecord::from))
    }

    async fn insert_token_cart(
        &mut self,
        id: CartId,
        token_digest: &str,
        now: OffsetDateTime,
    ) -> Result<CartRecord, StoreError> {
        let row = sqlx::query_as!(
            CartRow,
            "insert into carts (id, token_digest, created_at, updated_at) values ($1, $2, $3, $3)
             returning id, user_id, last_order_id, updated_at",
            id.get(),
            token_digest,
            now
        )
        .fetch_one(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(row.into())
    }

    async fn cart_lines(&mut self, cart: CartId) -> Result<Vec<CartLineRow>, StoreError> {
        let rows = sqlx::query!(
            r#"select p.id, p.seller_id, p.kind, p.title, p.slug, p.short_description, p.description,
                    p.category_id, p.price_cents, p.is_free, p.is_active, p.is_featured, p.is_trending,
                    p.material, p.color, p.width_mm, p.height_mm, p.depth_mm, p.license_text,
                    p.review_count, p.rating_sum, p.created_at, p.updated_at,
                    u.username as seller_username, pr.shop_name as seller_shop_name,
                    u.is_staff as seller_is_staff, u.is_superuser as seller_is_superuser,
                    pr.is_owner as seller_is_owner, pr.is_seller as seller_is_seller,
                    (ca.user_id is not null) as "seller_has_connect!",
                    ca.stripe_account_id as "seller_stripe_account_id?",
                    coalesce(ca.details_submitted, false) as "seller_details_submitted!",
                    coalesce(ca.charges_enabled, false) as "seller_charges_enabled!",
                    coalesce(ca.payouts_enabled, false) as "seller_payouts_enabled!",
                    ci.quantity, ci.added_at
             from cart_items ci
             join products p on p.id = ci.product_id
             join users u on u.id = p.seller_id
             join profiles pr on pr.user_id = p.seller_id
             left join seller_connect_accounts ca on ca.user_id = p.seller_id
             where ci.cart_id = $1
             order by ci.added_at, ci.product_id"#,
            cart.get()
        )
        .fetch_all(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|mut row| {
                let seller = seller_row!(row, UserId::from_uuid(row.seller_id));
                let quantity = u32::try_from(row.quantity).map_err(|e| corrupt("cart line", e))?;
                let added_at = row.added_at;
                Ok(CartLineRow {
                    product: product_record!(row),
                    seller,
                    quantity,
                    added_at,
                })
            })
            .collect()
    }

    async fn set_quantity(
        &mut self,
        cart: CartId,
        product: ProductId,
        quantity: u32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let quantity = i32::try_from(quantity)
            .map_err(|_| StoreError::Unavailable("quantity out of range".into()))?;
        let mut tx = self.0.lock().await;
        sqlx::query!(
            "insert into cart_items (cart_id, product_id, quantity, added_at) values ($1, $2, $3, $4)
             on conflict (cart_id, product_id) do update set quantity = excluded.quantity",
            cart.get(),
            product.get(),
            quantity,
            now,
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        touch(&mut tx, cart, now).await
    }

    async fn remove_line(&mut self, cart: CartId, product: ProductId) -> Result<(), StoreError> {
        sqlx::query!(
            "delete from cart_items where cart_id = $1 and product_id = $2",
            cart.get(),
            product.get()
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn clear(
        &mut self,
        cart: CartId,
        placed_order: Option<OrderId>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.0.lock().await;
        sqlx::query!("delete from cart_items where cart_id = $1", cart.get())
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
        sqlx::query!(
            "update carts set last_order_id = $2, updated_at = $3 where id = $1",
            cart.get(),
            placed_order.map(OrderId::get),
            now,
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn delete_cart(&mut self, cart: CartId) -> Result<(), StoreError> {
        sqlx::query!("delete from carts where id = $1", cart.get())
            .execute(&mut **self.0.lock().await)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
