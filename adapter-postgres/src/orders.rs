//! Orders, their lines and history, and the order queries.

use marketplace_domain::ids::{AssetId, BlobId, OrderId, OrderItemId, ProductId, UserId};
use marketplace_domain::money::{BasisPoints, Cents, Currency};
use marketplace_domain::order::{OrderKind, OrderStatus};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::product::ProductKind;
use marketplace_ports::ports::{
    AssetRecord, OrderEventRecord, OrderFilter, OrderItemRecord, OrderRecord, ShippingDetails,
    StoreError,
};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, found, store_error};
use crate::paging;

pub(crate) const ORDER_COLUMNS: &str = "o.id, o.buyer_id, o.guest_email, o.access_token, o.status, o.kind, o.currency, \
     o.fee_bps, o.subtotal_cents, o.tax_cents, o.shipping_cents, o.total_cents, o.refunded_cents, o.payment_reference, \
     o.stripe_session_id, o.stripe_session_url, o.stripe_session_attempt, o.stripe_session_expired, \
     o.stripe_payment_intent_id, o.stripe_charge_id, o.paid_at, o.shipping_name, o.shipping_phone, o.shipping_line1, \
     o.shipping_line2, o.shipping_city, o.shipping_state, o.shipping_postal_code, o.shipping_country, o.created_at, \
     o.updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct OrderRow {
    id: Uuid,
    buyer_id: Option<Uuid>,
    guest_email: Option<String>,
    access_token: String,
    status: String,
    kind: String,
    currency: String,
    fee_bps: i32,
    subtotal_cents: i64,
    tax_cents: i64,
    shipping_cents: i64,
    total_cents: i64,
    refunded_cents: i64,
    payment_reference: Option<String>,
    stripe_session_id: Option<String>,
    stripe_session_url: Option<String>,
    stripe_session_attempt: i32,
    stripe_session_expired: bool,
    stripe_payment_intent_id: Option<String>,
    stripe_charge_id: Option<String>,
    paid_at: Option<OffsetDateTime>,
    shipping_name: Option<String>,
    shipping_phone: Option<String>,
    shipping_line1: Option<String>,
    shipping_line2: Option<String>,
    shipping_city: Option<String>,
    shipping_state: Option<String>,
    shipping_postal_code: Option<String>,
    shipping_country: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<OrderRow> for OrderRecord {
    type Error = StoreError;

    fn try_from(row: OrderRow) -> Result<Self, Self::Error> {
        let shipping_address = row.shipping_line1.is_some().then(|| ShippingDetails {
            name: row.shipping_name.unwrap_or_default(),
            phone: row.shipping_phone.unwrap_or_default(),
            line1: row.shipping_line1.unwrap_or_default(),
            line2: row.shipping_line2.unwrap_or_default(),
            city: row.shipping_city.unwrap_or_default(),
            state: row.shipping_state.unwrap_or_default(),
            postal_code: row.shipping_postal_code.unwrap_or_default(),
            country: row.shipping_country.unwrap_or_default(),
        });
        Ok(OrderRecord {
            id: OrderId::from_uuid(row.id),
            buyer_id: row.buyer_id.map(UserId::from_uuid),
            guest_email: row.guest_email,
            access_token: row.access_token,
            status: OrderStatus::parse(&row.status).ok_or_else(|| corrupt("order", &row.status))?,
            kind: OrderKind::parse(&row.kind).ok_or_else(|| corrupt("order", &row.kind))?,
            currency: Currency::parse(&row.currency).map_err(|e| corrupt("order", e))?,
            fee_rate: BasisPoints::from_stored(i64::from(row.fee_bps))
                .map_err(|e| corrupt("order", e))?,
            subtotal: Cents::new(row.subtotal_cents),
            tax: Cents::new(row.tax_cents),
            shipping: Cents::new(row.shipping_cents),
            total: Cents::new(row.total_cents),
            refunded: Cents::new(row.refunded_cents),
            payment_reference: row.payment_reference,
            stripe_session_id: row.stripe_session_id,
            stripe_session_url: row.stripe_session_url,
            stripe_session_attempt: row.stripe_session_attempt,
            stripe_session_expired: row.stripe_session_expired,
            stripe_payment_intent_id: row.stripe_payment_intent_id,
            stripe_charge_id: row.stripe_charge_id,
            paid_at: row.paid_at,
            shipping_address,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const ITEM_COLUMNS: &str = "id, order_id, product_id, seller_id, title, kind, quantity, unit_price_cents, gross_cents, \
     fee_cents, net_cents, tax_cents, shipping_cents, position";

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: Uuid,
    order_id: Uuid,
    product_id: Uuid,
    seller_id: Uuid,
    title: String,
    kind: String,
    quantity: i32,
    unit_price_cents: i64,
    gross_cents: i64,
    fee_cents: i64,
    net_cents: i64,
    tax_cents: i64,
    shipping_cents: i64,
    position: i32,
}

impl TryFrom<ItemRow> for OrderItemRecord {
    type Error = StoreError;

    fn try_from(row: ItemRow) -> Result<Self, Self::Error> {
        Ok(OrderItemRecord {
            id: OrderItemId::from_uuid(row.id),
            order_id: OrderId::from_uuid(row.order_id),
            product_id: ProductId::from_uuid(row.product_id),
            seller_id: UserId::from_uuid(row.seller_id),
            title: row.title,
            kind: row
                .kind
                .parse::<ProductKind>()
                .map_err(|e| corrupt("order item", e))?,
            quantity: u32::try_from(row.quantity).map_err(|e| corrupt("order item", e))?,
            unit_price: Cents::new(row.unit_price_cents),
            gross: Cents::new(row.gross_cents),
            fee: Cents::new(row.fee_cents),
            net: Cents::new(row.net_cents),
            tax: Cents::new(row.tax_cents),
            shipping: Cents::new(row.shipping_cents),
            position: row.position,
        })
    }
}

pub(crate) async fn insert_order(
    conn: &mut PgConnection,
    order: &OrderRecord,
    items: &[OrderItemRecord],
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into orders (id, buyer_id, guest_email, access_token, status, kind, currency, fee_bps, subtotal_cents,
            tax_cents, shipping_cents, total_cents, refunded_cents, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(order.id.get())
    .bind(order.buyer_id.map(UserId::get))
    .bind(&order.guest_email)
    .bind(&order.access_token)
    .bind(order.status.as_str())
    .bind(order.kind.as_str())
    .bind(order.currency.as_str())
    .bind(i32::try_from(order.fee_rate.get()).unwrap_or(i32::MAX))
    .bind(order.subtotal.get())
    .bind(order.tax.get())
    .bind(order.shipping.get())
    .bind(order.total.get())
    .bind(order.refunded.get())
    .bind(order.created_at)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    for item in items {
        sqlx::query(
            "insert into order_items (id, order_id, product_id, seller_id, title, kind, quantity, unit_price_cents,
                gross_cents, fee_cents, net_cents, tax_cents, shipping_cents, position)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(item.id.get())
        .bind(item.order_id.get())
        .bind(item.product_id.get())
        .bind(item.seller_id.get())
        .bind(&item.title)
        .bind(item.kind.as_str())
        .bind(i32::try_from(item.quantity).unwrap_or(i32::MAX))
        .bind(item.unit_price.get())
        .bind(item.gross.get())
        .bind(item.fee.get())
        .bind(item.net.get())
        .bind(item.tax.get())
        .bind(item.shipping.get())
        .bind(item.position)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    }
    Ok(())
}

pub(crate) async fn get_order(
    conn: &mut PgConnection,
    id: OrderId,
    for_update: bool,
) -> Result<Option<OrderRecord>, StoreError> {
    let lock = if for_update { " for update" } else { "" };
    let sql = format!("select {ORDER_COLUMNS} from orders o where o.id = $1{lock}");
    let row: Option<OrderRow> = sqlx::query_as(&sql)
        .bind(id.get())
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    row.map(OrderRecord::try_from).transpose()
}

pub(crate) async fn order_items(
    conn: &mut PgConnection,
    id: OrderId,
) -> Result<Vec<OrderItemRecord>, StoreError> {
    items_of_orders(conn, &[id]).await
}

pub(crate) async fn items_of_orders(
    conn: &mut PgConnection,
    ids: &[OrderId],
) -> Result<Vec<OrderItemRecord>, StoreError> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.get()).collect();
    let sql = format!(
        "select {ITEM_COLUMNS} from order_items where order_id = any($1) order by order_id, position"
    );
    let rows: Vec<ItemRow> = sqlx::query_as(&sql)
        .bind(ids)
        .fetch_all(conn)
        .await
        .map_err(store_error)?;
    rows.into_iter().map(OrderItemRecord::try_from).collect()
}

pub(crate) async fn find_order_by_stripe_id(
    conn: &mut PgConnection,
    stripe_id: &str,
) -> Result<Option<OrderId>, StoreError> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "select order_id from order_sessions where session_id = $1
         union all select id from orders where stripe_payment_intent_id = $1
         union all select id from orders where stripe_charge_id = $1
         limit 1",
    )
    .bind(stripe_id)
    .fetch_optional(conn)
    .await
    .map_err(store_error)?;
    Ok(id.map(OrderId::from_uuid))
}

pub(crate) async fn update_order(
    conn: &mut PgConnection,
    order: &OrderRecord,
) -> Result<(), StoreError> {
    let address = order.shipping_address.clone();
    let field = |f: fn(&ShippingDetails) -> &String| address.as_ref().map(|a| f(a).clone());
    let result = sqlx::query(
        "update orders set status = $2, refunded_cents = $3, payment_reference = $4, stripe_session_id = $5,
            stripe_session_url = $6, stripe_session_attempt = $7, stripe_session_expired = $8,
            stripe_payment_intent_id = $9, stripe_charge_id = $10, paid_at = $11, shipping_name = $12,
            shipping_phone = $13, shipping_line1 = $14, shipping_line2 = $15, shipping_city = $16,
            shipping_state = $17, shipping_postal_code = $18, shipping_country = $19, updated_at = $20
         where id = $1",
    )
    .bind(order.id.get())
    .bind(order.status.as_str())
    .bind(order.refunded.get())
    .bind(&order.payment_reference)
    .bind(&order.stripe_session_id)
    .bind(&order.stripe_session_url)
    .bind(order.stripe_session_attempt)
    .bind(order.stripe_session_expired)
    .bind(&order.stripe_payment_intent_id)
    .bind(&order.stripe_charge_id)
    .bind(order.paid_at)
    .bind(field(|a| &a.name))
    .bind(field(|a| &a.phone))
    .bind(field(|a| &a.line1))
    .bind(field(|a| &a.line2))
    .bind(field(|a| &a.city))
    .bind(field(|a| &a.state))
    .bind(field(|a| &a.postal_code))
    .bind(field(|a| &a.country))
    .bind(order.updated_at)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    found(result.rows_affected())?;
    if let Some(session) = &order.stripe_session_id {
        sqlx::query("insert into order_sessions (session_id, order_id) values ($1, $2) on conflict do nothing")
            .bind(session)
            .bind(order.id.get())
            .execute(conn)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

pub(crate) async fn add_event(
    conn: &mut PgConnection,
    order: OrderId,
    kind: &str,
    message: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("insert into order_events (id, order_id, kind, message, created_at) values ($1, $2, $3, $4, $5)")
        .bind(Uuid::now_v7())
        .bind(order.get())
        .bind(kind)
        .bind(message)
        .bind(now)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn order_events(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<OrderEventRecord>, StoreError> {
    let rows: Vec<(String, String, OffsetDateTime)> =
        sqlx::query_as("select kind, message, created_at from order_events where order_id = $1 order by created_at, id")
            .bind(order.get())
            .fetch_all(conn)
            .await
            .map_err(store_error)?;
    Ok(rows
        .into_iter()
        .map(|(kind, message, created_at)| OrderEventRecord {
            kind,
            message,
            created_at,
        })
        .collect())
}

fn push_order_filter(builder: &mut QueryBuilder<'_, Postgres>, filter: OrderFilter) {
    builder.push(" where true");
    if let Some(buyer) = filter.buyer {
        builder.push(" and o.buyer_id = ").push_bind(buyer.get());
    }
    if let Some(seller) = filter.seller {
        builder
            .push(" and exists (select 1 from order_items i where i.order_id = o.id and i.seller_id = ")
            .push_bind(seller.get())
            .push(")");
    }
    if filter.paid_only {
        builder.push(" and o.paid_at is not null");
    }
}

pub(crate) async fn list_orders(
    conn: &mut PgConnection,
    filter: OrderFilter,
    page: PageRequest,
) -> Result<Page<OrderRecord>, StoreError> {
    let mut count = QueryBuilder::<Postgres>::new("select count(*) from orders o");
    push_order_filter(&mut count, filter);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(store_error)?;
    let mut select = QueryBuilder::<Postgres>::new(format!("select {ORDER_COLUMNS} from orders o"));
    push_order_filter(&mut select, filter);
    let order = if filter.paid_only {
        " order by o.paid_at desc, o.id desc"
    } else {
        " order by o.created_at desc, o.id desc"
    };
    select
        .push(order)
        .push(" limit ")
        .push_bind(paging::limit(page))
        .push(" offset ")
        .push_bind(paging::offset(page));
    let rows: Vec<OrderRow> = select
        .build_query_as()
        .fetch_all(conn)
        .await
        .map_err(store_error)?;
    paging::converted_page(rows, page, total)
}

pub(crate) async fn order_assets(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<AssetRecord>, StoreError> {
    let rows: Vec<(Uuid, Uuid, Uuid, String, i64, OffsetDateTime)> = sqlx::query_as(
        "select a.id, a.product_id, a.blob_id, a.original_filename, a.size_bytes, a.created_at
         from order_items i join digital_assets a on a.product_id = i.product_id
         where i.order_id = $1 and i.kind = 'FILE'
         order by i.position, a.created_at, a.id",
    )
    .bind(order.get())
    .fetch_all(conn)
    .await
    .map_err(store_error)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, product_id, blob_id, original_filename, size_bytes, created_at)| AssetRecord {
                id: AssetId::from_uuid(id),
                product_id: ProductId::from_uuid(product_id),
                blob_id: BlobId::from_uuid(blob_id),
                original_filename,
                size_bytes,
                created_at,
            },
        )
        .collect())
}

pub(crate) async fn order_by_session(
    conn: &mut PgConnection,
    session: &str,
) -> Result<Option<OrderId>, StoreError> {
    let id: Option<Uuid> =
        sqlx::query_scalar("select order_id from order_sessions where session_id = $1")
            .bind(session)
            .fetch_optional(conn)
            .await
            .map_err(store_error)?;
    Ok(id.map(OrderId::from_uuid))
}
