//! Orders: the order row (what was placed and where its payment stands), its lines and history,
//! and every Checkout Session it ever had.

use async_trait::async_trait;
use marketplace_domain::catalog::ProductKind;
use marketplace_domain::ids::{AssetId, BlobId, OrderId, OrderItemId, ProductId, UserId};
use marketplace_domain::money::{BasisPoints, Cents, Currency};
use marketplace_domain::orders::{
    CheckoutState, Order, OrderData, OrderEvent, OrderEventKind, OrderKind, OrderLine, OrderStatus,
    PaymentReference, ShippingAddress,
};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::{
    AssetRecord, OrderEventRecord, OrderFilter, OrderLookup, OrderQueries, OrderStore,
    OwnerOrderFilter, OwnerOrderRow, StoreError,
};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, found, store_error};
use crate::paging;
use crate::{PgStore, TxConn};

/// The stored spelling of a free checkout's payment reference.
const FREE: &str = "FREE";

#[derive(sqlx::FromRow)]
struct OrderRow {
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
    dispute_fee_to_sellers: bool,
    stripe_refunded_cents: Option<i64>,
    stripe_refunded_at: Option<OffsetDateTime>,
}

impl TryFrom<OrderRow> for OrderData {
    type Error = StoreError;

    fn try_from(row: OrderRow) -> Result<Self, Self::Error> {
        let shipping_address = row.shipping_line1.is_some().then(|| ShippingAddress {
            name: row.shipping_name.unwrap_or_default(),
            phone: row.shipping_phone.unwrap_or_default(),
            line1: row.shipping_line1.unwrap_or_default(),
            line2: row.shipping_line2.unwrap_or_default(),
            city: row.shipping_city.unwrap_or_default(),
            state: row.shipping_state.unwrap_or_default(),
            postal_code: row.shipping_postal_code.unwrap_or_default(),
            country: row.shipping_country.unwrap_or_default(),
        });
        let payment = match (
            row.payment_reference.as_deref(),
            row.stripe_payment_intent_id,
        ) {
            (Some(FREE), _) => Some(PaymentReference::Free),
            (Some(other), _) => return Err(corrupt("order", other)),
            (None, intent) => intent.map(PaymentReference::StripePaymentIntent),
        };
        Ok(OrderData {
            id: OrderId::from_uuid(row.id),
            buyer_id: row.buyer_id.map(UserId::from_uuid),
            guest_email: row.guest_email,
            access_token: row.access_token,
            status: OrderStatus::parse(&row.status).ok_or_else(|| corrupt("order", &row.status))?,
            kind: OrderKind::parse(&row.kind).ok_or_else(|| corrupt("order", &row.kind))?,
            currency: Currency::parse(&row.currency).map_err(|e| corrupt("order", e))?,
            fee_rate: BasisPoints::from_stored(i64::from(row.fee_bps))
                .map_err(|e| corrupt("order", e))?,
            dispute_fee_to_sellers: row.dispute_fee_to_sellers,
            stripe_refunded: row
                .stripe_refunded_cents
                .zip(row.stripe_refunded_at)
                .map(|(amount, at)| (Cents::new(amount), at)),
            subtotal: Cents::new(row.subtotal_cents),
            tax: Cents::new(row.tax_cents),
            shipping: Cents::new(row.shipping_cents),
            total: Cents::new(row.total_cents),
            refunded: Cents::new(row.refunded_cents),
            payment,
            checkout: CheckoutState {
                session_id: row.stripe_session_id,
                url: row.stripe_session_url,
                attempt: row.stripe_session_attempt,
                expired: row.stripe_session_expired,
            },
            charge_id: row.stripe_charge_id,
            paid_at: row.paid_at,
            shipping_address,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

struct LineRow {
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

impl TryFrom<LineRow> for OrderLine {
    type Error = StoreError;

    fn try_from(row: LineRow) -> Result<Self, Self::Error> {
        Ok(OrderLine {
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

/// The lines of several orders, by order then position.
pub(crate) async fn lines_of(
    conn: &mut PgConnection,
    orders: &[Uuid],
) -> Result<Vec<OrderLine>, StoreError> {
    let rows = sqlx::query_as!(
        LineRow,
        "select id, order_id, product_id, seller_id, title, kind, quantity, unit_price_cents,
                gross_cents, fee_cents, net_cents, tax_cents, shipping_cents, position
         from order_items where order_id = any($1) order by order_id, position",
        orders
    )
    .fetch_all(conn)
    .await
    .map_err(store_error)?;
    rows.into_iter().map(OrderLine::try_from).collect()
}

/// Orders rebuilt from their rows and the lines of all of them.
fn with_lines(rows: Vec<OrderRow>, lines: Vec<OrderLine>) -> Result<Vec<Order>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let data = OrderData::try_from(row)?;
            let own = lines
                .iter()
                .filter(|l| l.order_id == data.id)
                .cloned()
                .collect();
            Ok(Order::restore(data, own))
        })
        .collect()
}

async fn get_order(
    conn: &mut PgConnection,
    id: OrderId,
    for_update: bool,
) -> Result<Option<Order>, StoreError> {
    // Two spellings of one statement, because `query_as!` wants its SQL literal.
    let row = if for_update {
        sqlx::query_as!(
            OrderRow,
            "select * from orders where id = $1 for no key update",
            id.get()
        )
        .fetch_optional(&mut *conn)
        .await
    } else {
        sqlx::query_as!(OrderRow, "select * from orders where id = $1", id.get())
            .fetch_optional(&mut *conn)
            .await
    }
    .map_err(store_error)?;
    let Some(row) = row else { return Ok(None) };
    let lines = lines_of(conn, &[row.id]).await?;
    Ok(with_lines(vec![row], lines)?.pop())
}

/// The orders of one transaction.
pub(crate) struct PgOrders(pub(crate) TxConn);

#[async_trait]
impl OrderStore for PgOrders {
    async fn insert_order(&mut self, order: &Order) -> Result<(), StoreError> {
        let mut tx = self.0.lock().await;
        let fee_bps = i32::try_from(order.fee_rate.get())
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        sqlx::query!(
            "insert into orders (id, buyer_id, guest_email, access_token, status, kind, currency, fee_bps,
                subtotal_cents, tax_cents, shipping_cents, total_cents, refunded_cents, created_at,
                updated_at, dispute_fee_to_sellers)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            order.id.get(),
            order.buyer_id.map(UserId::get),
            order.guest_email,
            order.access_token,
            order.status.as_str(),
            order.kind.as_str(),
            order.currency.as_str(),
            fee_bps,
            order.subtotal.get(),
            order.tax.get(),
            order.shipping.get(),
            order.total.get(),
            order.refunded.get(),
            order.created_at,
            order.updated_at,
            order.dispute_fee_to_sellers,
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        for line in order.lines() {
            let quantity =
                i32::try_from(line.quantity).map_err(|e| StoreError::Unavailable(e.to_string()))?;
            sqlx::query!(
                "insert into order_items (id, order_id, product_id, seller_id, title, kind, quantity,
                    unit_price_cents, gross_cents, fee_cents, net_cents, tax_cents, shipping_cents,
                    position)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                line.id.get(),
                line.order_id.get(),
                line.product_id.get(),
                line.seller_id.get(),
                line.title,
                line.kind.as_str(),
                quantity,
                line.unit_price.get(),
                line.gross.get(),
                line.fee.get(),
                line.net.get(),
                line.tax.get(),
                line.shipping.get(),
                line.position,
            )
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
        }
        Ok(())
    }

    async fn get_order_for_update(&mut self, id: OrderId) -> Result<Option<Order>, StoreError> {
        get_order(&mut *self.0.lock().await, id, true).await
    }

    async fn find_order_by_stripe_id(
        &mut self,
        stripe_id: &str,
    ) -> Result<Option<OrderId>, StoreError> {
        let id = sqlx::query_scalar!(
            r#"select order_id as "order_id!" from order_sessions where session_id = $1
               union all select id from orders where stripe_payment_intent_id = $1
               union all select id from orders where stripe_charge_id = $1
               limit 1"#,
            stripe_id
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(id.map(OrderId::from_uuid))
    }

    async fn update_order(&mut self, order: &Order) -> Result<(), StoreError> {
        let address = order.shipping_address.as_ref();
        let field = |f: fn(&ShippingAddress) -> &String| address.map(|a| f(a).clone());
        let (reference, intent) = match &order.payment {
            Some(PaymentReference::Free) => (Some(FREE), None),
            Some(PaymentReference::StripePaymentIntent(intent)) => (None, Some(intent.as_str())),
            None => (None, None),
        };
        let checkout = &order.checkout;
        let mut tx = self.0.lock().await;
        let result = sqlx::query!(
            "update orders set status = $2, refunded_cents = $3, payment_reference = $4,
                stripe_session_id = $5, stripe_session_url = $6, stripe_session_attempt = $7,
                stripe_session_expired = $8, stripe_payment_intent_id = $9, stripe_charge_id = $10,
                paid_at = $11, shipping_name = $12, shipping_phone = $13, shipping_line1 = $14,
                shipping_line2 = $15, shipping_city = $16, shipping_state = $17,
                shipping_postal_code = $18, shipping_country = $19, updated_at = $20,
                stripe_refunded_cents = $21, stripe_refunded_at = $22
             where id = $1",
            order.id.get(),
            order.status.as_str(),
            order.refunded.get(),
            reference,
            checkout.session_id,
            checkout.url,
            checkout.attempt,
            checkout.expired,
            intent,
            order.charge_id,
            order.paid_at,
            field(|a| &a.name),
            field(|a| &a.phone),
            field(|a| &a.line1),
            field(|a| &a.line2),
            field(|a| &a.city),
            field(|a| &a.state),
            field(|a| &a.postal_code),
            field(|a| &a.country),
            order.updated_at,
            order.stripe_refunded.map(|(amount, _)| amount.get()),
            order.stripe_refunded.map(|(_, at)| at),
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        found(result.rows_affected())?;
        if let Some(session) = &checkout.session_id {
            sqlx::query!(
                "insert into order_sessions (session_id, order_id) values ($1, $2)
                 on conflict do nothing",
                session,
                order.id.get()
            )
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
        }
        Ok(())
    }

    async fn add_events(
        &mut self,
        order: OrderId,
        events: &[OrderEvent],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.0.lock().await;
        for event in events {
            sqlx::query!(
                "insert into order_events (id, order_id, kind, message, created_at)
                 values ($1, $2, $3, $4, $5)",
                Uuid::now_v7(),
                order.get(),
                event.kind.as_str(),
                event.message,
                now,
            )
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
        }
        Ok(())
    }
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

fn push_owner_filter(builder: &mut QueryBuilder<'_, Postgres>, filter: &OwnerOrderFilter) {
    builder.push(" where true");
    match &filter.lookup {
        None => {}
        Some(OrderLookup::Id(id)) => {
            builder.push(" and o.id = ").push_bind(id.get());
        }
        Some(OrderLookup::StripeId(stripe)) => {
            builder
                .push(" and (o.stripe_session_id = ")
                .push_bind(stripe.clone())
                .push(" or o.stripe_payment_intent_id = ")
                .push_bind(stripe.clone())
                .push(" or o.stripe_charge_id = ")
                .push_bind(stripe.clone())
                .push(")");
        }
        Some(OrderLookup::Email(text)) => {
            // Both sides use trigram indexes (orders_guest_email_trgm_idx, users_email_trgm_idx).
            let pattern = crate::listings::like_pattern(text);
            builder
                .push(" and (o.guest_email ilike ")
                .push_bind(pattern.clone())
                .push(" or o.buyer_id in (select u.id from users u where u.email ilike ")
                .push_bind(pattern)
                .push("))");
        }
    }
    if let Some(status) = filter.status {
        builder.push(" and o.status = ").push_bind(status.as_str());
    }
    if let Some(seller) = filter.seller {
        builder
            .push(" and exists (select 1 from order_items i where i.order_id = o.id and i.seller_id = ")
            .push_bind(seller.get())
            .push(")");
    }
    if let Some(since) = filter.since {
        builder.push(" and o.created_at >= ").push_bind(since);
    }
    if let Some(until) = filter.until {
        builder.push(" and o.created_at < ").push_bind(until);
    }
    match filter.flagged {
        None => {}
        Some(true) => {
            builder.push(" and exists (select 1 from order_flags f where f.order_id = o.id)");
        }
        Some(false) => {
            builder.push(" and not exists (select 1 from order_flags f where f.order_id = o.id)");
        }
    }
}

impl PgStore {
    /// One page of the orders `filter` selects (a run-time query: the filter decides the SQL),
    /// in `order_by`, with their lines, and how many match.
    async fn order_page(
        &self,
        filter: impl Fn(&mut QueryBuilder<'_, Postgres>),
        order_by: &str,
        page: PageRequest,
    ) -> Result<Page<Order>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(store_error)?;
        let mut count = QueryBuilder::<Postgres>::new("select count(*) from orders o");
        filter(&mut count);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&mut *conn)
            .await
            .map_err(store_error)?;
        let mut select = QueryBuilder::<Postgres>::new("select o.* from orders o");
        filter(&mut select);
        select
            .push(order_by)
            .push(" limit ")
            .push_bind(paging::limit(page))
            .push(" offset ")
            .push_bind(paging::offset(page));
        let rows: Vec<OrderRow> = select
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(store_error)?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let lines = lines_of(&mut conn, &ids).await?;
        Ok(paging::page_of(with_lines(rows, lines)?, page, total))
    }
}

#[async_trait]
impl OrderQueries for PgStore {
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(store_error)?;
        get_order(&mut conn, id, false).await
    }

    async fn order_events(&self, id: OrderId) -> Result<Vec<OrderEventRecord>, StoreError> {
        let rows = sqlx::query!(
            "select kind, message, created_at from order_events
             where order_id = $1 order by created_at, id",
            id.get()
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                Ok(OrderEventRecord {
                    kind: OrderEventKind::parse(&row.kind)
                        .ok_or_else(|| corrupt("order event", &row.kind))?,
                    message: row.message,
                    created_at: row.created_at,
                })
            })
            .collect()
    }

    async fn list_orders(
        &self,
        filter: OrderFilter,
        page: PageRequest,
    ) -> Result<Page<Order>, StoreError> {
        let order_by = if filter.paid_only {
            " order by o.paid_at desc, o.id desc"
        } else {
            " order by o.created_at desc, o.id desc"
        };
        self.order_page(|b| push_order_filter(b, filter), order_by, page)
            .await
    }

    async fn owner_orders(
        &self,
        filter: &OwnerOrderFilter,
        page: PageRequest,
    ) -> Result<Page<OwnerOrderRow>, StoreError> {
        let orders = self
            .order_page(
                |b| push_owner_filter(b, filter),
                " order by o.created_at desc, o.id desc",
                page,
            )
            .await?;
        let ids: Vec<Uuid> = orders.items.iter().map(|o| o.id.get()).collect();
        let extras = sqlx::query!(
            r#"select o.id, coalesce(u.email, o.guest_email, '') as "email!",
                      coalesce(array_agg(f.code order by f.code) filter (where f.code is not null),
                               '{}') as "flags!"
               from orders o
               left join users u on u.id = o.buyer_id
               left join order_flags f on f.order_id = o.id
               where o.id = any($1)
               group by o.id, u.email"#,
            &ids,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(orders.map(|order| {
            let extra = extras.iter().find(|e| e.id == order.id.get());
            OwnerOrderRow {
                email: extra.map(|e| e.email.clone()).unwrap_or_default(),
                flags: extra.map(|e| e.flags.clone()).unwrap_or_default(),
                order,
            }
        }))
    }

    async fn order_assets(&self, id: OrderId) -> Result<Vec<AssetRecord>, StoreError> {
        let rows = sqlx::query!(
            "select a.id, a.product_id, a.blob_id, a.original_filename, a.size_bytes, a.created_at
             from order_items i join digital_assets a on a.product_id = i.product_id
             where i.order_id = $1 and i.kind = 'FILE'
             order by i.position, a.created_at, a.id",
            id.get()
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|row| AssetRecord {
                id: AssetId::from_uuid(row.id),
                product_id: ProductId::from_uuid(row.product_id),
                blob_id: BlobId::from_uuid(row.blob_id),
                original_filename: row.original_filename,
                size_bytes: row.size_bytes,
                created_at: row.created_at,
            })
            .collect())
    }

    async fn order_by_session(&self, session_id: &str) -> Result<Option<OrderId>, StoreError> {
        let id = sqlx::query_scalar!(
            "select order_id from order_sessions where session_id = $1",
            session_id
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(id.map(OrderId::from_uuid))
    }
}
