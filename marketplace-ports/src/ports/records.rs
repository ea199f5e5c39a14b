//! The records stores read and write. Plain data: no SQL, no serde.

use marketplace_domain::account::Roles;
use marketplace_domain::catalog::CategoryType;
use marketplace_domain::connect::ConnectStatus;
use marketplace_domain::ids::{
    AssetId, BlobId, CartId, CategoryId, JobId, OrderId, OrderItemId, ProductId, ProductImageId,
    ReversalId, SessionId, UserId,
};
use marketplace_domain::ledger::{LineMoney, OrderMoney};
use marketplace_domain::money::{BasisPoints, Cents, Currency};
use marketplace_domain::order::{OrderKind, OrderStatus};
use marketplace_domain::payout::{PayoutStatus, ReversalStatus};
use marketplace_domain::product::{PhysicalAttributes, ProductKind};
use time::OffsetDateTime;

use super::payments::ShippingDetails;

/// A user account as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// Id.
    pub id: UserId,
    /// Username as entered (unique case-insensitively).
    pub username: String,
    /// Account e-mail (may be empty).
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role flags.
    pub roles: Roles,
    /// Inactive accounts cannot log in.
    pub is_active: bool,
    /// Registration time.
    pub created_at: OffsetDateTime,
}

/// The marketplace profile of a user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Public seller label (empty → username).
    pub shop_name: String,
    /// Contact e-mail.
    pub email: String,
    /// First phone.
    pub phone_1: String,
    /// Second phone.
    pub phone_2: String,
    /// Address line 1.
    pub address_1: String,
    /// Address line 2.
    pub address_2: String,
    /// City.
    pub city: String,
    /// US state code.
    pub state: String,
    /// ZIP code.
    pub zip_code: String,
    /// Avatar image, if uploaded.
    pub avatar: Option<BlobId>,
}

/// A login session. The token itself is never stored, only its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// Id.
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// Digest of the bearer/cookie token.
    pub token_digest: String,
    /// The synchronizer token cookie-authenticated writes must echo in `X-CSRF-Token`.
    pub csrf_token: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// After this the session is dead.
    pub expires_at: OffsetDateTime,
}

/// A catalog category as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryRecord {
    /// Id.
    pub id: CategoryId,
    /// Tree.
    pub category_type: CategoryType,
    /// Name.
    pub name: String,
    /// Slug (unique per type and parent).
    pub slug: String,
    /// Root parent, for subcategories.
    pub parent_id: Option<CategoryId>,
    /// Description.
    pub description: String,
    /// Publicly visible.
    pub is_active: bool,
    /// Ordering key among siblings.
    pub sort_order: i32,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// A listing as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductRecord {
    /// Id.
    pub id: ProductId,
    /// Owner of the listing.
    pub seller_id: UserId,
    /// Kind.
    pub kind: ProductKind,
    /// Title.
    pub title: String,
    /// Slug, unique per seller.
    pub slug: String,
    /// Short description.
    pub short_description: String,
    /// Description.
    pub description: String,
    /// Category.
    pub category_id: CategoryId,
    /// Price; zero when free.
    pub price: Cents,
    /// Free listing.
    pub is_free: bool,
    /// Publicly visible.
    pub is_active: bool,
    /// Featured on the home page.
    pub is_featured: bool,
    /// Manually trending.
    pub is_trending: bool,
    /// Physical attributes (models).
    pub physical: Option<PhysicalAttributes>,
    /// Licence (files).
    pub license_text: Option<String>,
    /// Number of reviews (rollup kept by review writes).
    pub review_count: i64,
    /// Sum of review ratings (rollup), so the average needs no scan.
    pub rating_sum: i64,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// An image of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductImageRecord {
    /// Id.
    pub id: ProductImageId,
    /// Listing.
    pub product_id: ProductId,
    /// Bytes.
    pub blob_id: BlobId,
    /// Alt text.
    pub alt_text: String,
    /// The one primary image.
    pub is_primary: bool,
    /// Ordering key.
    pub sort_order: i32,
    /// Upload time.
    pub created_at: OffsetDateTime,
}

/// A downloadable file of a digital listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetRecord {
    /// Id.
    pub id: AssetId,
    /// Listing.
    pub product_id: ProductId,
    /// Bytes.
    pub blob_id: BlobId,
    /// Name shown and used on download.
    pub original_filename: String,
    /// Size.
    pub size_bytes: i64,
    /// Upload time.
    pub created_at: OffsetDateTime,
}

/// A stored file's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobMeta {
    /// Id.
    pub id: BlobId,
    /// Served content type.
    pub content_type: String,
    /// Total size in bytes.
    pub size_bytes: i64,
    /// Number of chunks (0-based sequence numbers below this).
    pub chunk_count: i32,
}

/// A seller's Stripe Connect account row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectAccountRecord {
    /// Seller.
    pub user_id: UserId,
    /// Account id and capability flags.
    pub status: ConnectStatus,
    /// First onboarding attempt.
    pub onboarding_started_at: Option<OffsetDateTime>,
    /// When the account first became ready.
    pub onboarding_completed_at: Option<OffsetDateTime>,
    /// Stripe's `created` of the last `account.updated` applied (older events are ignored).
    pub status_event_at: Option<OffsetDateTime>,
    /// When the status was last read from Stripe.
    pub synced_at: Option<OffsetDateTime>,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// A shopping cart: a user's, or an anonymous one known by its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartRecord {
    /// Id.
    pub id: CartId,
    /// Owner, for logged-in users.
    pub user_id: Option<UserId>,
    /// The order last placed from it (a second placement of the same cart finds it).
    pub last_order_id: Option<OrderId>,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// A cart line with what the rules need about its product and seller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartLineRow {
    /// The product.
    pub product: ProductRecord,
    /// Its seller.
    pub seller: super::queries::SellerRow,
    /// Quantity.
    pub quantity: u32,
    /// When it was added.
    pub added_at: OffsetDateTime,
}

/// An order as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRecord {
    /// Id.
    pub id: OrderId,
    /// Registered buyer.
    pub buyer_id: Option<UserId>,
    /// Guest e-mail (lower-case), for guest orders.
    pub guest_email: Option<String>,
    /// Secret giving guests access to the order (compared in constant time).
    pub access_token: String,
    /// Status.
    pub status: OrderStatus,
    /// Digital, physical or mixed.
    pub kind: OrderKind,
    /// Currency.
    pub currency: Currency,
    /// Fee rate snapshot.
    pub fee_rate: BasisPoints,
    /// Σ line gross.
    pub subtotal: Cents,
    /// Tax.
    pub tax: Cents,
    /// Shipping.
    pub shipping: Cents,
    /// Total charged.
    pub total: Cents,
    /// Returned to the buyer so far (refunds and lost disputes).
    pub refunded: Cents,
    /// `FREE` for free checkouts.
    pub payment_reference: Option<String>,
    /// Current Checkout Session.
    pub stripe_session_id: Option<String>,
    /// Its hosted page.
    pub stripe_session_url: Option<String>,
    /// How many sessions were created (part of the idempotency key).
    pub stripe_session_attempt: i32,
    /// The current session expired (a new one may be created).
    pub stripe_session_expired: bool,
    /// Payment intent.
    pub stripe_payment_intent_id: Option<String>,
    /// Charge (source of the transfers).
    pub stripe_charge_id: Option<String>,
    /// When payment was confirmed.
    pub paid_at: Option<OffsetDateTime>,
    /// Shipping address collected at checkout.
    pub shipping_address: Option<ShippingDetails>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// An order line as stored (snapshot of product, seller, price and split).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderItemRecord {
    /// Id.
    pub id: OrderItemId,
    /// Order.
    pub order_id: OrderId,
    /// Product.
    pub product_id: ProductId,
    /// Seller snapshot.
    pub seller_id: UserId,
    /// Title snapshot.
    pub title: String,
    /// Kind.
    pub kind: ProductKind,
    /// Quantity.
    pub quantity: u32,
    /// Unit price.
    pub unit_price: Cents,
    /// `quantity × unit_price`.
    pub gross: Cents,
    /// Platform fee.
    pub fee: Cents,
    /// Seller net.
    pub net: Cents,
    /// Tax share.
    pub tax: Cents,
    /// Shipping share.
    pub shipping: Cents,
    /// Position in the order.
    pub position: i32,
}

/// The money view of a stored order.
pub fn order_money(order: &OrderRecord, items: &[OrderItemRecord]) -> OrderMoney {
    OrderMoney {
        order: order.id,
        currency: order.currency,
        lines: items
            .iter()
            .map(|item| LineMoney {
                line: item.id,
                seller: item.seller_id,
                net: item.net,
                fee: item.fee,
                tax: item.tax,
                shipping: item.shipping,
                requires_shipping: item.kind.requires_shipping(),
            })
            .collect(),
    }
}

/// The payout record of one (order, seller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutRecord {
    /// Order.
    pub order_id: OrderId,
    /// Seller.
    pub seller_id: UserId,
    /// State.
    pub status: PayoutStatus,
    /// Last error, for failed attempts.
    pub last_error: Option<String>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// A transfer reversal taking back a seller's part of refunds made after their payout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReversalRecord {
    /// Id (its idempotency key is derived from it).
    pub id: ReversalId,
    /// Order.
    pub order_id: OrderId,
    /// Seller.
    pub seller_id: UserId,
    /// The transfer being reversed (the order's payout to the seller).
    pub transfer_id: String,
    /// Amount to take back.
    pub amount: Cents,
    /// The order's currency.
    pub currency: Currency,
    /// State.
    pub status: ReversalStatus,
    /// Stripe's last error, if any.
    pub last_error: Option<String>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// What a background job does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// Pay (or skip) one seller for one order.
    Payout {
        /// Order.
        order: OrderId,
        /// Seller.
        seller: UserId,
    },
    /// Write the paid-order e-mail of a guest order into the outbox.
    OrderMail {
        /// Order.
        order: OrderId,
    },
    /// Read a charge's refunds from Stripe and book the ones we missed.
    RefundSync {
        /// Order.
        order: OrderId,
    },
    /// Take back from a seller, by reversing their payout transfer, what refunds after the payout
    /// made them owe for one order.
    Reversal {
        /// Order.
        order: OrderId,
        /// Seller.
        seller: UserId,
    },
}

impl JobKind {
    /// Stored name of [`JobKind::Payout`].
    pub const PAYOUT: &'static str = "payout";
    /// Stored name of [`JobKind::Reversal`].
    pub const REVERSAL: &'static str = "reversal";

    /// Stored name of the kind.
    pub fn name(&self) -> &'static str {
        match self {
            JobKind::Payout { .. } => Self::PAYOUT,
            JobKind::OrderMail { .. } => "order_mail",
            JobKind::RefundSync { .. } => "refund_sync",
            JobKind::Reversal { .. } => Self::REVERSAL,
        }
    }

    /// At most one queued job per key.
    pub fn dedupe_key(&self) -> String {
        match self {
            JobKind::Payout { order, seller } => format!("payout:{order}:{seller}"),
            JobKind::OrderMail { order } => format!("order_mail:{order}"),
            JobKind::RefundSync { order } => format!("refund_sync:{order}"),
            JobKind::Reversal { order, seller } => format!("reversal:{order}:{seller}"),
        }
    }
}

/// A job's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting to run (possibly after a backoff).
    Queued,
    /// Claimed by a worker.
    Running,
    /// Finished.
    Done,
    /// Gave up after too many attempts; waits for an owner.
    Dead,
}

impl JobStatus {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }

    /// Parses [`JobStatus::as_str`].
    pub fn parse(text: &str) -> Option<JobStatus> {
        [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Done,
            JobStatus::Dead,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A background job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRecord {
    /// Id.
    pub id: JobId,
    /// What it does.
    pub kind: JobKind,
    /// State.
    pub status: JobStatus,
    /// Attempts started so far.
    pub attempts: i32,
    /// After this many attempts it is dead.
    pub max_attempts: i32,
    /// Not before this time.
    pub run_at: OffsetDateTime,
    /// Last error.
    pub last_error: Option<String>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// An e-mail in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailRecord {
    /// Id.
    pub id: uuid::Uuid,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// `queued`, `sent` or `failed`.
    pub status: String,
    /// The order it is about, if any.
    pub order_id: Option<OrderId>,
    /// Created.
    pub created_at: OffsetDateTime,
}

/// A webhook event as recorded (the de-duplication key is Stripe's event id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookEventRecord {
    /// `evt_…`.
    pub id: String,
    /// Endpoint (`payments` or `connect`).
    pub endpoint: String,
    /// Event type.
    pub event_type: String,
    /// Stripe's `created`.
    pub created: OffsetDateTime,
    /// What we did with it (`applied`, `ignored: …`, `unknown order`).
    pub outcome: String,
    /// When we received it.
    pub received_at: OffsetDateTime,
}

/// An order event (the order's append-only history).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderEventRecord {
    /// Kind (`created`, `paid`, `transfer_created`, `warning`, …).
    pub kind: String,
    /// Details.
    pub message: String,
    /// When.
    pub created_at: OffsetDateTime,
}
