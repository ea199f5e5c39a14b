//! Orders (SPEC §3.5): placing an order from the cart, who may see it, paying (free or through a
//! Stripe Checkout Session), lists for buyers and sellers, and downloads of digital files.
//!
//! Payment is confirmed only by webhook; the checkout return URL only shows the order.

use std::collections::BTreeMap;

use marketplace_domain::account::{Email, public_seller_name};
use marketplace_domain::cart::{Addable, CartError, check_addable};
use marketplace_domain::connect::seller_can_sell;
use marketplace_domain::ids::{AssetId, OrderId, OrderItemId, UserId};
use marketplace_domain::money::MoneyError;
use marketplace_domain::order::{CartItem, OrderStatus, PricingError, price_order};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::validation::FieldErrors;
use time::Duration;
use uuid::Uuid;

use super::booking::{BookingError, Payment, mark_paid};
use super::cart::{CartFailure, CartOwner, CartService};
use super::{Actor, Deps};
use crate::ports::{
    AssetRecord, BlobMeta, CheckoutLine, CryptoError, NewCheckoutSession, OrderEventRecord,
    OrderFilter, OrderItemRecord, OrderRecord, PaymentError, PayoutRecord, StoreError, Tx,
};

/// How long after placing an order a repeated placement of the (now empty) cart returns it.
const REPLACEMENT_WINDOW: Duration = Duration::minutes(10);

/// Why an order operation failed.
#[derive(Debug, thiserror::Error)]
pub enum OrderFailure {
    /// Bad input (guest e-mail).
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// Nothing in the cart.
    #[error("the cart is empty")]
    EmptyCart,
    /// A line cannot be bought, for this reason.
    #[error("{title}: {reason}")]
    Refused {
        /// The product's title.
        title: String,
        /// Why.
        reason: CartError,
    },
    /// No such order, or not the caller's (the same answer, on purpose).
    #[error("order not found")]
    NotFound,
    /// The order cannot be paid in its state.
    #[error("this order is {0} and cannot be paid")]
    NotPayable(OrderStatus),
    /// Downloads open once the order is paid (and close when it is fully refunded).
    #[error("downloads are available once the order is paid")]
    NotPaid,
    /// The buyer has paid; the payment's confirmation has not arrived yet.
    #[error("the payment was made and is waiting for confirmation")]
    PaymentInProgress,
    /// Some sellers cannot receive payouts yet.
    #[error("these sellers haven't completed payout setup yet: {}", .0.join(", "))]
    SellersNotReady(Vec<String>),
    /// The payment provider failed.
    #[error(transparent)]
    Payment(#[from] PaymentError),
    /// The order could not be priced.
    #[error(transparent)]
    Pricing(#[from] PricingError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Token generation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Booking failed.
    #[error(transparent)]
    Booking(#[from] BookingError),
}

impl From<CartFailure> for OrderFailure {
    fn from(failure: CartFailure) -> Self {
        match failure {
            CartFailure::Invalid(fields) => OrderFailure::Invalid(fields),
            CartFailure::Refused(reason) => OrderFailure::Refused {
                title: String::new(),
                reason,
            },
            CartFailure::NotFound => OrderFailure::EmptyCart,
            CartFailure::Store(e) => OrderFailure::Store(e),
            CartFailure::Crypto(e) => OrderFailure::Crypto(e),
            CartFailure::Money(e) => OrderFailure::Pricing(PricingError::Money(e)),
        }
    }
}

impl From<MoneyError> for OrderFailure {
    fn from(error: MoneyError) -> Self {
        OrderFailure::Pricing(PricingError::Money(error))
    }
}

/// Who is asking about an order: a logged-in user, the holder of the guest token, or both.
#[derive(Clone, Copy, Debug)]
pub struct OrderAccess<'a> {
    /// The logged-in user.
    pub actor: Option<&'a Actor>,
    /// The guest token sent (`?t=` or `X-Order-Token`).
    pub token: Option<&'a str>,
}

/// An order with its lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderView {
    /// The order.
    pub order: OrderRecord,
    /// Its lines (all of them, or only the seller's in seller views).
    pub items: Vec<OrderItemRecord>,
}

/// An order with everything its page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderDetail {
    /// The order and lines.
    pub view: OrderView,
    /// Downloadable files (paid orders, FILE lines).
    pub downloads: Vec<AssetRecord>,
    /// History.
    pub events: Vec<OrderEventRecord>,
    /// Payouts (owners and sellers).
    pub payouts: Vec<PayoutRecord>,
    /// The guest token, shown to whoever already proved they hold it.
    pub access_token: Option<String>,
}

/// The outcome of placing an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    /// The order.
    pub view: OrderView,
    /// The guest token (guests only).
    pub access_token: Option<String>,
    /// False when the cart was placed already and this is that order.
    pub created: bool,
}

/// What checkout did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckoutOutcome {
    /// Nothing to pay: the order is paid.
    Paid,
    /// Pay on this hosted page.
    Redirect {
        /// The Checkout Session's URL.
        url: String,
    },
}

/// A file to download.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download {
    /// The file's bytes metadata.
    pub blob: BlobMeta,
    /// The name to save it as.
    pub file_name: String,
}

/// Orders and checkout.
#[derive(Clone)]
pub struct OrderService {
    deps: Deps,
    carts: CartService,
}

impl OrderService {
    /// Builds the service.
    pub fn new(deps: Deps) -> Self {
        OrderService {
            carts: CartService::new(deps.clone()),
            deps,
        }
    }

    /// Places an order from the cart in one transaction: the cart is emptied only if the order
    /// commits, and placing the same cart twice (concurrently or again within minutes) returns the
    /// first order.
    ///
    /// # Errors
    /// [`OrderFailure::EmptyCart`], [`OrderFailure::Refused`], [`OrderFailure::Invalid`] (guest
    /// e-mail).
    pub async fn place(
        &self,
        owner: CartOwner<'_>,
        guest_email: Option<&str>,
    ) -> Result<Placed, OrderFailure> {
        let guest_email = match owner.actor {
            Some(_) => None,
            None => {
                let raw = guest_email
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .ok_or_else(|| {
                        OrderFailure::Invalid(FieldErrors::single(
                            "guest_email",
                            "an e-mail is required to check out as a guest",
                        ))
                    })?;
                Some(Email::parse(raw).map_err(|e| {
                    OrderFailure::Invalid(FieldErrors::single("guest_email", e.to_string()))
                })?)
            }
        };
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        // Opening the cart locks it: concurrent placements of one cart run one after the other.
        let cart = self
            .carts
            .open(tx.as_mut(), owner, false)
            .await?
            .ok_or(OrderFailure::EmptyCart)?;
        let lines = tx.carts().cart_lines(cart.record.id).await?;
        if lines.is_empty() {
            let recent = now - cart.record.updated_at < REPLACEMENT_WINDOW;
            if let (Some(order_id), true) = (cart.record.last_order_id, recent) {
                let order = tx
                    .orders()
                    .get_order_for_update(order_id)
                    .await?
                    .ok_or(OrderFailure::EmptyCart)?;
                let items = tx.orders().order_items(order_id).await?;
                let access_token = order
                    .guest_email
                    .as_ref()
                    .map(|_| order.access_token.clone());
                return Ok(Placed {
                    view: OrderView { order, items },
                    access_token,
                    created: false,
                });
            }
            return Err(OrderFailure::EmptyCart);
        }
        let buyer_is_owner = owner.actor.is_some_and(|a| a.roles.is_owner());
        let mut cart_items = Vec::with_capacity(lines.len());
        for line in &lines {
            let facts = Addable {
                is_active: line.product.is_active,
                seller_can_sell: seller_can_sell(line.seller.roles, line.seller.connect.as_ref()),
                buyer_is_owner,
                is_own_listing: owner
                    .actor
                    .is_some_and(|a| a.user_id == line.product.seller_id),
            };
            check_addable(facts).map_err(|reason| OrderFailure::Refused {
                title: line.product.title.clone(),
                reason,
            })?;
            cart_items.push(CartItem {
                product: line.product.id,
                seller: Some(line.product.seller_id),
                kind: line.product.kind,
                unit_price: line.product.price,
                is_free: line.product.is_free,
                quantity: line.quantity,
            });
        }
        let config = tx.platform().site_config().await?;
        let priced = price_order(
            &cart_items,
            config.fee.basis_points(),
            config.currency,
            Default::default(),
            Default::default(),
        )?;
        let order_id = OrderId::from_uuid(Uuid::now_v7());
        let order = OrderRecord {
            id: order_id,
            buyer_id: owner.actor.map(|a| a.user_id),
            guest_email: guest_email.map(|e| e.as_str().to_owned()),
            access_token: self.deps.crypto.new_token()?,
            status: OrderStatus::Pending,
            kind: priced.kind,
            currency: priced.currency,
            fee_rate: priced.fee_rate,
            subtotal: priced.subtotal,
            tax: priced.tax,
            shipping: priced.shipping,
            total: priced.total,
            refunded: Default::default(),
            payment_reference: None,
            stripe_session_id: None,
            stripe_session_url: None,
            stripe_session_attempt: 0,
            stripe_session_expired: false,
            stripe_payment_intent_id: None,
            stripe_charge_id: None,
            paid_at: None,
            shipping_address: None,
            created_at: now,
            updated_at: now,
        };
        let items: Vec<OrderItemRecord> = priced
            .lines
            .iter()
            .zip(&lines)
            .zip(0_i32..)
            .map(|((priced, line), position)| OrderItemRecord {
                id: OrderItemId::from_uuid(Uuid::now_v7()),
                order_id,
                product_id: priced.product,
                seller_id: priced.seller,
                title: line.product.title.clone(),
                kind: priced.kind,
                quantity: priced.quantity,
                unit_price: priced.unit_price,
                gross: priced.gross,
                fee: priced.fee,
                net: priced.net,
                tax: priced.tax,
                shipping: priced.shipping,
                position,
            })
            .collect();
        tx.orders().insert_order(&order, &items).await?;
        tx.orders()
            .add_event(
                order_id,
                "created",
                &format!("{} line(s), total {}", items.len(), order.total),
                now,
            )
            .await?;
        tx.carts()
            .clear(cart.record.id, Some(order_id), now)
            .await?;
        tx.commit().await?;
        let access_token = order
            .guest_email
            .as_ref()
            .map(|_| order.access_token.clone());
        Ok(Placed {
            view: OrderView { order, items },
            access_token,
            created: true,
        })
    }

    /// True when `access` may see `order`: its buyer, staff, or the holder of its guest token.
    fn may_see(&self, order: &OrderRecord, access: OrderAccess<'_>) -> bool {
        if access
            .actor
            .is_some_and(|a| a.roles.is_staff() || Some(a.user_id) == order.buyer_id)
        {
            return true;
        }
        order.guest_email.is_some()
            && access
                .token
                .is_some_and(|token| self.deps.crypto.secrets_match(token, &order.access_token))
    }

    /// An order and everything its page shows.
    ///
    /// # Errors
    /// [`OrderFailure::NotFound`] also when the caller may not see it.
    pub async fn get(
        &self,
        id: OrderId,
        access: OrderAccess<'_>,
    ) -> Result<OrderDetail, OrderFailure> {
        let (order, items) = self
            .deps
            .queries
            .order_detail(id)
            .await?
            .ok_or(OrderFailure::NotFound)?;
        if !self.may_see(&order, access) {
            return Err(OrderFailure::NotFound);
        }
        let downloads = if downloadable(order.status) {
            self.deps.queries.order_assets(id).await?
        } else {
            Vec::new()
        };
        let events = self.deps.queries.order_events(id).await?;
        let payouts = self.deps.queries.order_payouts(id).await?;
        let access_token = order
            .guest_email
            .as_ref()
            .map(|_| order.access_token.clone());
        Ok(OrderDetail {
            view: OrderView { order, items },
            downloads,
            events,
            payouts,
            access_token,
        })
    }

    /// The order of a Checkout Session (the page Stripe sends the buyer back to).
    ///
    /// # Errors
    /// [`OrderFailure::NotFound`].
    pub async fn by_session(
        &self,
        session_id: &str,
        access: OrderAccess<'_>,
    ) -> Result<OrderDetail, OrderFailure> {
        let id = self
            .deps
            .queries
            .order_by_session(session_id)
            .await?
            .ok_or(OrderFailure::NotFound)?;
        self.get(id, access).await
    }

    /// Pays an order: at once when it costs nothing, otherwise through a Stripe Checkout Session
    /// (re-used while open, replaced once expired). No Stripe call is made while a transaction is
    /// open.
    ///
    /// # Errors
    /// [`OrderFailure::NotFound`], [`OrderFailure::NotPayable`], [`OrderFailure::SellersNotReady`],
    /// [`OrderFailure::Payment`].
    pub async fn checkout(
        &self,
        id: OrderId,
        access: OrderAccess<'_>,
    ) -> Result<CheckoutOutcome, OrderFailure> {
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let mut order = tx
            .orders()
            .get_order_for_update(id)
            .await?
            .ok_or(OrderFailure::NotFound)?;
        if !self.may_see(&order, access) {
            return Err(OrderFailure::NotFound);
        }
        if order.status != OrderStatus::Pending {
            return Err(OrderFailure::NotPayable(order.status));
        }
        let items = tx.orders().order_items(id).await?;
        let unready = unready_sellers(tx.as_mut(), &items).await?;
        if !unready.is_empty() && !access.actor.is_some_and(|a| a.roles.is_owner()) {
            return Err(OrderFailure::SellersNotReady(unready));
        }
        if order.total.is_zero() {
            mark_paid(
                tx.as_mut(),
                &mut order,
                Payment::Free,
                &self.deps.settings,
                now,
            )
            .await?;
            tx.commit().await?;
            return Ok(CheckoutOutcome::Paid);
        }
        let shipping_countries = if items.iter().any(|i| i.kind.requires_shipping()) {
            Some(
                tx.platform()
                    .site_config()
                    .await?
                    .allowed_shipping_countries,
            )
        } else {
            None
        };
        drop(tx);

        let mut attempt = order.stripe_session_attempt;
        if let (Some(session), false) = (&order.stripe_session_id, order.stripe_session_expired) {
            match self.deps.payments.retrieve_checkout_session(session).await {
                Ok(current) if current.status == "open" => {
                    if let Some(url) = current.url.or(order.stripe_session_url.clone()) {
                        return Ok(CheckoutOutcome::Redirect { url });
                    }
                }
                Ok(current) if current.status == "complete" => {
                    return Err(OrderFailure::PaymentInProgress);
                }
                // Expired, or unknown to the provider (the simulator restarted): make a new one.
                Ok(_) | Err(PaymentError::Rejected { .. }) => {}
                Err(other) => return Err(other.into()),
            }
        }
        if order.stripe_session_id.is_some() {
            attempt = attempt.saturating_add(1);
        } else {
            attempt = attempt.max(1);
        }
        let request = self.session_request(&order, &items, shipping_countries);
        let session = self
            .deps
            .payments
            .create_checkout_session(&request, &format!("checkout:{}:{attempt}", order.id))
            .await?;

        let mut tx = self.deps.uow.begin().await?;
        let mut order = tx
            .orders()
            .get_order_for_update(id)
            .await?
            .ok_or(OrderFailure::NotFound)?;
        if attempt >= order.stripe_session_attempt {
            order.stripe_session_attempt = attempt;
            order.stripe_session_id = Some(session.id.clone());
            order.stripe_session_url.clone_from(&session.url);
            order.stripe_session_expired = false;
            order.updated_at = now;
            tx.orders().update_order(&order).await?;
            tx.orders()
                .add_event(
                    id,
                    "checkout_session_created",
                    &format!("session {}", session.id),
                    now,
                )
                .await?;
        }
        tx.commit().await?;
        session
            .url
            .map(|url| CheckoutOutcome::Redirect { url })
            .ok_or_else(|| {
                PaymentError::Rejected {
                    code: "no_url".into(),
                    message: "the session has no URL".into(),
                }
                .into()
            })
    }

    fn session_request(
        &self,
        order: &OrderRecord,
        items: &[OrderItemRecord],
        shipping_countries: Option<Vec<String>>,
    ) -> NewCheckoutSession {
        let base = &self.deps.settings.site_base_url;
        let guest_query = order
            .guest_email
            .as_ref()
            .map(|_| format!("t={}", order.access_token));
        let success_url = match &guest_query {
            Some(query) => format!(
                "{base}/api/v1/checkout/complete?session_id={{CHECKOUT_SESSION_ID}}&{query}"
            ),
            None => format!("{base}/api/v1/checkout/complete?session_id={{CHECKOUT_SESSION_ID}}"),
        };
        let cancel_url = match &guest_query {
            Some(query) => format!("{base}/api/v1/orders/{}?{query}", order.id),
            None => format!("{base}/api/v1/orders/{}", order.id),
        };
        let mut lines: Vec<CheckoutLine> = items
            .iter()
            .map(|item| CheckoutLine {
                name: item.title.clone(),
                unit_amount: item.unit_price,
                quantity: item.quantity,
            })
            .collect();
        for (name, amount) in [("Tax", order.tax), ("Shipping", order.shipping)] {
            if amount.is_positive() {
                lines.push(CheckoutLine {
                    name: name.to_owned(),
                    unit_amount: amount,
                    quantity: 1,
                });
            }
        }
        let mut metadata = BTreeMap::new();
        metadata.insert("order_id".to_owned(), order.id.to_string());
        metadata.insert("order_token".to_owned(), order.access_token.clone());
        NewCheckoutSession {
            currency: order.currency,
            lines,
            success_url,
            cancel_url,
            client_reference_id: order.id.to_string(),
            metadata,
            transfer_group: order.id.to_string(),
            customer_email: order.guest_email.clone(),
            shipping_countries,
        }
    }

    /// The caller's orders, newest first.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn mine(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<OrderView>, OrderFailure> {
        self.list(
            OrderFilter {
                buyer: Some(actor.user_id),
                ..OrderFilter::default()
            },
            page,
            None,
        )
        .await
    }

    /// The caller's paid orders (purchases).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn purchases(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<OrderView>, OrderFailure> {
        self.list(
            OrderFilter {
                buyer: Some(actor.user_id),
                paid_only: true,
                ..OrderFilter::default()
            },
            page,
            None,
        )
        .await
    }

    /// Paid orders containing the caller's lines (owners: every paid order), with only their lines.
    ///
    /// # Errors
    /// [`OrderFailure::NotFound`] for non-sellers.
    pub async fn seller_orders(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<OrderView>, OrderFailure> {
        if !actor.roles.is_seller() {
            return Err(OrderFailure::NotFound);
        }
        let seller = (!actor.roles.is_owner()).then_some(actor.user_id);
        self.list(
            OrderFilter {
                seller,
                paid_only: true,
                ..OrderFilter::default()
            },
            page,
            seller,
        )
        .await
    }

    /// One paid order as its seller sees it: only their lines (owners: all).
    ///
    /// # Errors
    /// [`OrderFailure::NotFound`] when none of its lines are the caller's.
    pub async fn seller_order(
        &self,
        actor: &Actor,
        id: OrderId,
    ) -> Result<OrderDetail, OrderFailure> {
        if !actor.roles.is_seller() {
            return Err(OrderFailure::NotFound);
        }
        let (order, items) = self
            .deps
            .queries
            .order_detail(id)
            .await?
            .ok_or(OrderFailure::NotFound)?;
        if !order.status.was_paid() {
            return Err(OrderFailure::NotFound);
        }
        let items: Vec<OrderItemRecord> = if actor.roles.is_owner() {
            items
        } else {
            items
                .into_iter()
                .filter(|i| i.seller_id == actor.user_id)
                .collect()
        };
        if items.is_empty() {
            return Err(OrderFailure::NotFound);
        }
        let payouts = self
            .deps
            .queries
            .order_payouts(id)
            .await?
            .into_iter()
            .filter(|p| actor.roles.is_owner() || p.seller_id == actor.user_id)
            .collect();
        let events = if actor.roles.is_owner() {
            self.deps.queries.order_events(id).await?
        } else {
            Vec::new()
        };
        Ok(OrderDetail {
            view: OrderView { order, items },
            downloads: Vec::new(),
            events,
            payouts,
            access_token: None,
        })
    }

    async fn list(
        &self,
        filter: OrderFilter,
        page: PageRequest,
        only_seller: Option<UserId>,
    ) -> Result<Page<OrderView>, OrderFailure> {
        let orders = self.deps.queries.list_orders(filter, page).await?;
        let ids: Vec<OrderId> = orders.items.iter().map(|o| o.id).collect();
        let mut items = self.deps.queries.items_of_orders(&ids).await?;
        if let Some(seller) = only_seller {
            items.retain(|i| i.seller_id == seller);
        }
        Ok(orders.map(|order| {
            let lines = items
                .iter()
                .filter(|i| i.order_id == order.id)
                .cloned()
                .collect();
            OrderView {
                order,
                items: lines,
            }
        }))
    }

    /// A digital file of a paid order, for whoever may see the order.
    ///
    /// # Errors
    /// [`OrderFailure::NotFound`] when the order is not paid, not the caller's, or the file is not
    /// part of it.
    pub async fn download(
        &self,
        id: OrderId,
        asset: AssetId,
        access: OrderAccess<'_>,
    ) -> Result<Download, OrderFailure> {
        let (order, _) = self
            .deps
            .queries
            .order_detail(id)
            .await?
            .ok_or(OrderFailure::NotFound)?;
        if !self.may_see(&order, access) {
            return Err(OrderFailure::NotFound);
        }
        if !downloadable(order.status) {
            return Err(OrderFailure::NotPaid);
        }
        let asset = self
            .deps
            .queries
            .order_assets(id)
            .await?
            .into_iter()
            .find(|a| a.id == asset)
            .ok_or(OrderFailure::NotFound)?;
        let blob = self
            .deps
            .queries
            .blob_meta(asset.blob_id)
            .await?
            .ok_or(OrderFailure::NotFound)?;
        Ok(Download {
            blob,
            file_name: asset.original_filename,
        })
    }
}

/// Files can be downloaded once paid, unless the whole order was refunded.
fn downloadable(status: OrderStatus) -> bool {
    matches!(status, OrderStatus::Paid | OrderStatus::PartiallyRefunded)
}

/// Public names of the order's sellers who cannot be paid now.
pub(crate) async fn unready_sellers(
    tx: &mut dyn Tx,
    items: &[OrderItemRecord],
) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    let mut seen: Vec<UserId> = Vec::new();
    for item in items {
        if seen.contains(&item.seller_id) {
            continue;
        }
        seen.push(item.seller_id);
        let user = tx.users().get_user(item.seller_id).await?;
        let profile = tx.users().get_profile(item.seller_id).await?;
        let connect = tx.connect().get_connect(item.seller_id).await?;
        let roles = user.as_ref().map(|u| u.roles).unwrap_or_default();
        if !seller_can_sell(roles, connect.as_ref().map(|c| &c.status)) {
            let username = user.map(|u| u.username).unwrap_or_default();
            names.push(public_seller_name(
                &profile.map(|p| p.shop_name).unwrap_or_default(),
                &username,
            ));
        }
    }
    Ok(names)
}
