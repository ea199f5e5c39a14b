//! Reading orders: one order's page (buyer, staff, or the holder of its guest token), the order a
//! Checkout Session returns to, buyers' and sellers' lists, and downloads of bought files.

use marketplace_domain::ids::{AssetId, OrderId, UserId};
use marketplace_domain::orders::Order;
use marketplace_domain::pagination::{Page, PageRequest};

use super::{Audience, OrderAccess, OrderView, is_buyer, may_see};
use marketplace_domain::entitlements::DownloadRefused;

use crate::ports::{
    AssetRecord, BlobMeta, DownloadRecord, EntitlementRecord, OrderEventRecord, OrderFilter,
    PayoutRecord, ProductDownloads, ReviewRecord, StoreError,
};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why an order could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OrderReadError {
    /// No such order, or not the caller's (the same answer, on purpose).
    #[error("order not found")]
    NotFound,
    /// Downloads open once the order is paid.
    #[error("downloads are available once the order is paid")]
    NotPaid,
    /// The purchase's entitlement refuses the download (revoked, expired, used up).
    #[error(transparent)]
    Refused(#[from] DownloadRefused),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for OrderReadError {
    fn kind(&self) -> ErrorKind {
        match self {
            OrderReadError::NotFound => ErrorKind::NotFound,
            OrderReadError::NotPaid => ErrorKind::Forbidden {
                code: "order_not_paid",
            },
            OrderReadError::Refused(refused) => ErrorKind::Forbidden {
                code: refused.code(),
            },
            OrderReadError::Store(e) => e.kind(),
        }
    }
}

/// An order with everything its page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderDetail {
    /// The order and the lines shown.
    pub view: OrderView,
    /// Files the buyer may download now: those of FILE lines whose entitlement stands, as the
    /// product had them when it was paid for.
    pub downloads: Vec<AssetRecord>,
    /// The entitlement of each paid FILE line (downloads used and left, expiry, revocation).
    pub entitlements: Vec<EntitlementRecord>,
    /// History.
    pub events: Vec<OrderEventRecord>,
    /// Payouts (owners and sellers).
    pub payouts: Vec<PayoutRecord>,
    /// The guest token, shown to whoever already proved they may see the order.
    pub access_token: Option<String>,
    /// Whether the caller is the order's buyer (or holds its guest token): only they pay it, ask
    /// for refunds and review it; staff who open it only look.
    pub viewer_is_buyer: bool,
    /// The reviews written from this order (of its lines and sellers), for its buyer only: what
    /// they can edit rather than write again.
    pub reviews: Vec<ReviewRecord>,
}

/// A file to download.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download {
    /// The file's bytes metadata.
    pub blob: BlobMeta,
    /// The name to save it as.
    pub file_name: String,
}

operation_group!(
    /// Reading orders, lists and downloads.
    OrderReading
);

impl OrderReading {
    /// An order and everything its page shows.
    ///
    /// # Errors
    /// [`OrderReadError::NotFound`] also when the caller may not see it.
    pub async fn get(
        &self,
        id: OrderId,
        access: OrderAccess<'_>,
    ) -> Result<OrderDetail, OrderReadError> {
        let orders = self.deps.queries.orders()?;
        let order = orders
            .order(id)
            .await?
            .filter(|order| may_see(self.deps.crypto.as_ref(), order, access))
            .ok_or(OrderReadError::NotFound)?;
        let entitlements = self
            .deps
            .queries
            .entitlements()?
            .order_entitlements(id)
            .await?;
        let downloads = orders
            .order_assets(id)
            .await?
            .into_iter()
            .filter(|asset| {
                entitlements.iter().any(|e| {
                    e.product_id == asset.product_id
                        && !e.entitlement.revoked
                        && e.entitlement.covers(asset.created_at)
                })
            })
            .collect();
        let events = orders.order_events(id).await?;
        // The guest token goes back only to whoever is the buyer: staff who open the order get
        // no credential to act as the buyer (nor links that would spend their downloads).
        let viewer_is_buyer = is_buyer(self.deps.crypto.as_ref(), &order, access);
        let reviews = if viewer_is_buyer {
            self.deps.queries.reviews()?.order_reviews(id).await?
        } else {
            Vec::new()
        };
        let access_token = viewer_is_buyer
            .then(|| order.guest_token().map(str::to_owned))
            .flatten();
        // The buyer's view shows what they paid and what happened to it; owners (staff included)
        // see everything.
        let staff = access.actor.is_some_and(|a| a.roles.is_owner());
        let (view, events, payouts) = if staff {
            let payouts = self.deps.queries.payouts()?.order_payouts(id).await?;
            (OrderView::whole(order), events, payouts)
        } else {
            let events = events
                .into_iter()
                .filter(|e| e.kind.shown_to_buyer())
                .collect();
            (OrderView::for_buyer(order), events, Vec::new())
        };
        Ok(OrderDetail {
            view,
            downloads,
            entitlements,
            events,
            payouts,
            access_token,
            viewer_is_buyer,
            reviews,
        })
    }

    /// The order of a Checkout Session (the page Stripe sends the buyer back to).
    ///
    /// # Errors
    /// [`OrderReadError::NotFound`].
    pub async fn by_session(
        &self,
        session_id: &str,
        access: OrderAccess<'_>,
    ) -> Result<OrderDetail, OrderReadError> {
        let id = self
            .deps
            .queries
            .orders()?
            .order_by_session(session_id)
            .await?
            .ok_or(OrderReadError::NotFound)?;
        self.get(id, access).await
    }

    /// The caller's orders, newest first.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn mine(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<OrderView>, OrderReadError> {
        let filter = OrderFilter {
            buyer: Some(actor.user_id),
            ..OrderFilter::default()
        };
        self.list(filter, page).await
    }

    /// The caller's paid orders (purchases).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn purchases(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<OrderView>, OrderReadError> {
        let filter = OrderFilter {
            buyer: Some(actor.user_id),
            paid_only: true,
            ..OrderFilter::default()
        };
        self.list(filter, page).await
    }

    /// Paid orders containing the caller's lines (owners: every paid order), with only their lines.
    ///
    /// # Errors
    /// [`OrderReadError::NotFound`] for non-sellers.
    pub async fn seller_orders(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<OrderView>, OrderReadError> {
        if !actor.roles.is_seller() {
            return Err(OrderReadError::NotFound);
        }
        let seller = (!actor.roles.is_owner()).then_some(actor.user_id);
        let filter = OrderFilter {
            seller,
            paid_only: true,
            ..OrderFilter::default()
        };
        let page = self.list(filter, page).await?;
        let Some(seller) = seller else {
            return Ok(page.map(|view| OrderView::whole(view.order)));
        };
        // Each order's share needs its journal: one read per order of the page (≤ per_page).
        let mut views = Vec::with_capacity(page.items.len());
        for view in page.items {
            views.push(self.seller_view(view.order, seller).await?);
        }
        Ok(Page {
            items: views,
            request: page.request,
            total: page.total,
        })
    }

    /// A seller's view of an order: their lines, their share of its money.
    async fn seller_view(&self, order: Order, seller: UserId) -> Result<OrderView, OrderReadError> {
        let booked = self.deps.queries.ledger()?.order_entries(order.id).await?;
        let share = order
            .seller_share(seller, &booked)
            .map_err(|e| StoreError::Unavailable(format!("order {}: {e}", order.id)))?;
        Ok(OrderView {
            order,
            audience: Audience::Seller { seller, share },
        })
    }

    /// One paid order as its seller sees it: only their lines and payouts (owners: all, with the
    /// history).
    ///
    /// # Errors
    /// [`OrderReadError::NotFound`] when none of its lines are the caller's.
    pub async fn seller_order(
        &self,
        actor: &Actor,
        id: OrderId,
    ) -> Result<OrderDetail, OrderReadError> {
        if !actor.roles.is_seller() {
            return Err(OrderReadError::NotFound);
        }
        let orders = self.deps.queries.orders()?;
        let order = orders
            .order(id)
            .await?
            .filter(|order| order.status.was_paid())
            .ok_or(OrderReadError::NotFound)?;
        let owner = actor.roles.is_owner();
        let view = if owner {
            OrderView::whole(order)
        } else {
            self.seller_view(order, actor.user_id).await?
        };
        if view.lines().next().is_none() {
            return Err(OrderReadError::NotFound);
        }
        let payouts = self
            .deps
            .queries
            .payouts()?
            .order_payouts(id)
            .await?
            .into_iter()
            .filter(|p| owner || p.seller_id == actor.user_id)
            .collect();
        let events = if owner {
            orders.order_events(id).await?
        } else {
            Vec::new()
        };
        Ok(OrderDetail {
            view,
            downloads: Vec::new(),
            entitlements: Vec::new(),
            events,
            payouts,
            access_token: None,
            viewer_is_buyer: false,
            reviews: Vec::new(),
        })
    }

    async fn list(
        &self,
        filter: OrderFilter,
        page: PageRequest,
    ) -> Result<Page<OrderView>, OrderReadError> {
        Ok(self
            .deps
            .queries
            .orders()?
            .list_orders(filter, page)
            .await?
            .map(OrderView::for_buyer))
    }

    /// A digital file of a paid order, for whoever may see the order: logged (who, when, which
    /// file, how many bytes) and, for its buyer, counted on its line's entitlement, before it is
    /// served.
    ///
    /// # Errors
    /// [`OrderReadError::NotFound`] when the order is not the caller's or the file is not part of
    /// the purchase, [`OrderReadError::NotPaid`] before payment, [`OrderReadError::Refused`] when
    /// the entitlement was revoked, expired or used up.
    pub async fn download(
        &self,
        id: OrderId,
        asset: AssetId,
        access: OrderAccess<'_>,
    ) -> Result<Download, OrderReadError> {
        let orders = self.deps.queries.orders()?;
        let order = orders
            .order(id)
            .await?
            .filter(|order| may_see(self.deps.crypto.as_ref(), order, access))
            .ok_or(OrderReadError::NotFound)?;
        if !order.status.was_paid() {
            return Err(OrderReadError::NotPaid);
        }
        let asset = orders
            .order_assets(id)
            .await?
            .into_iter()
            .find(|a| a.id == asset)
            .ok_or(OrderReadError::NotFound)?;
        let blob = self
            .deps
            .queries
            .files()?
            .blob_meta(asset.blob_id)
            .await?
            .ok_or(OrderReadError::NotFound)?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let store = tx.entitlements()?;
        let granted = store
            .entitlement_for_update(id, asset.product_id)
            .await?
            .filter(|e| e.entitlement.covers(asset.created_at))
            .ok_or(OrderReadError::NotFound)?;
        // The buyer's downloads use the entitlement; staff (who may see every order) only leave a
        // trace in the log.
        let counted = is_buyer(self.deps.crypto.as_ref(), &order, access);
        if counted {
            granted.entitlement.download(now)?;
        }
        store
            .record_download(&DownloadRecord {
                order_item_id: granted.order_item_id,
                order_id: id,
                asset_id: asset.id,
                user_id: access.actor.map(|a| a.user_id),
                bytes: blob.size_bytes,
                downloaded_at: now,
                counted,
            })
            .await?;
        tx.commit().await?;
        Ok(Download {
            blob,
            file_name: asset.original_filename,
        })
    }

    /// The downloads of an order, newest first: for whoever may see the order (its buyer, the
    /// holder of its guest token, staff).
    ///
    /// # Errors
    /// [`OrderReadError::NotFound`] for anyone else.
    pub async fn downloads(
        &self,
        id: OrderId,
        access: OrderAccess<'_>,
        page: PageRequest,
    ) -> Result<Page<DownloadRecord>, OrderReadError> {
        self.deps
            .queries
            .orders()?
            .order(id)
            .await?
            .filter(|order| may_see(self.deps.crypto.as_ref(), order, access))
            .ok_or(OrderReadError::NotFound)?;
        Ok(self
            .deps
            .queries
            .entitlements()?
            .order_downloads(id, page)
            .await?)
    }

    /// How often each of the caller's products was downloaded, most downloaded first.
    ///
    /// # Errors
    /// [`OrderReadError::NotFound`] for callers who are not sellers.
    pub async fn seller_downloads(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<ProductDownloads>, OrderReadError> {
        if !actor.roles.is_seller() {
            return Err(OrderReadError::NotFound);
        }
        Ok(self
            .deps
            .queries
            .entitlements()?
            .seller_downloads(actor.user_id, page)
            .await?)
    }
}
