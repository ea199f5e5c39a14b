//! Carts and their lines.

use marketplace_domain::ids::{CartId, OrderId, ProductId, UserId};
use marketplace_ports::ports::{CartLineRow, CartRecord, ProductRecord, StoreError};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::store_error;
use crate::products::{PRODUCT_COLUMNS, ProductRow, SELLER_JOIN_COLUMNS, SellerColumns};

#[derive(sqlx::FromRow)]
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

pub(crate) async fn user_cart(
    conn: &mut PgConnection,
    user: UserId,
    now: OffsetDateTime,
) -> Result<CartRecord, StoreError> {
    sqlx::query(
        "insert into carts (id, user_id, created_at, updated_at) values ($1, $2, $3, $3)
         on conflict (user_id) do nothing",
    )
    .bind(Uuid::now_v7())
    .bind(user.get())
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    let row: CartRow = sqlx::query_as(
        "select id, user_id, last_order_id, updated_at from carts where user_id = $1 for update",
    )
    .bind(user.get())
    .fetch_one(conn)
    .await
    .map_err(store_error)?;
    Ok(row.into())
}

pub(crate) async fn token_cart(
    conn: &mut PgConnection,
    token_digest: &str,
) -> Result<Option<CartRecord>, StoreError> {
    let row: Option<CartRow> =
        sqlx::query_as("select id, user_id, last_order_id, updated_at from carts where token_digest = $1 for update")
            .bind(token_digest)
            .fetch_optional(conn)
            .await
            .map_err(store_error)?;
    Ok(row.map(CartRecord::from))
}

pub(crate) async fn insert_token_cart(
    conn: &mut PgConnection,
    id: CartId,
    token_digest: &str,
    now: OffsetDateTime,
) -> Result<CartRecord, StoreError> {
    let row: CartRow = sqlx::query_as(
        "insert into carts (id, token_digest, created_at, updated_at) values ($1, $2, $3, $3)
         returning id, user_id, last_order_id, updated_at",
    )
    .bind(id.get())
    .bind(token_digest)
    .bind(now)
    .fetch_one(conn)
    .await
    .map_err(store_error)?;
    Ok(row.into())
}

#[derive(sqlx::FromRow)]
struct CartLineDbRow {
    #[sqlx(flatten)]
    product: ProductRow,
    #[sqlx(flatten)]
    seller: SellerColumns,
    quantity: i32,
    added_at: OffsetDateTime,
}

pub(crate) async fn cart_lines(
    conn: &mut PgConnection,
    cart: CartId,
) -> Result<Vec<CartLineRow>, StoreError> {
    let sql = format!(
        "select {PRODUCT_COLUMNS}, {SELLER_JOIN_COLUMNS}, ci.quantity, ci.added_at
         from cart_items ci
         join products p on p.id = ci.product_id
         join users u on u.id = p.seller_id
         join profiles pr on pr.user_id = p.seller_id
         left join seller_connect_accounts ca on ca.user_id = p.seller_id
         where ci.cart_id = $1
         order by ci.added_at, ci.product_id"
    );
    let rows: Vec<CartLineDbRow> = sqlx::query_as(&sql)
        .bind(cart.get())
        .fetch_all(conn)
        .await
        .map_err(store_error)?;
    rows.into_iter()
        .map(|row| {
            let product = ProductRecord::try_from(row.product)?;
            Ok(CartLineRow {
                seller: row.seller.into_row(product.seller_id),
                product,
                quantity: u32::try_from(row.quantity).unwrap_or(1),
                added_at: row.added_at,
            })
        })
        .collect()
}

async fn touch(
    conn: &mut PgConnection,
    cart: CartId,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("update carts set updated_at = $2 where id = $1")
        .bind(cart.get())
        .bind(now)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn set_quantity(
    conn: &mut PgConnection,
    cart: CartId,
    product: ProductId,
    quantity: u32,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into cart_items (cart_id, product_id, quantity, added_at) values ($1, $2, $3, $4)
         on conflict (cart_id, product_id) do update set quantity = excluded.quantity",
    )
    .bind(cart.get())
    .bind(product.get())
    .bind(i32::try_from(quantity).unwrap_or(i32::MAX))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    touch(conn, cart, now).await
}

pub(crate) async fn remove_line(
    conn: &mut PgConnection,
    cart: CartId,
    product: ProductId,
) -> Result<(), StoreError> {
    sqlx::query("delete from cart_items where cart_id = $1 and product_id = $2")
        .bind(cart.get())
        .bind(product.get())
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn clear(
    conn: &mut PgConnection,
    cart: CartId,
    placed_order: Option<OrderId>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("delete from cart_items where cart_id = $1")
        .bind(cart.get())
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    sqlx::query("update carts set last_order_id = $2, updated_at = $3 where id = $1")
        .bind(cart.get())
        .bind(placed_order.map(OrderId::get))
        .bind(now)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn delete_cart(conn: &mut PgConnection, cart: CartId) -> Result<(), StoreError> {
    sqlx::query("delete from carts where id = $1")
        .bind(cart.get())
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}
