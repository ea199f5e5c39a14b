//! Reviews of products and sellers, sellers' replies, and the running rating summaries kept in
//! step with them (docs/reviews.md).

use async_trait::async_trait;
use marketplace_domain::ids::{OrderId, OrderItemId, ProductId, ReplyId, ReviewId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::reviews::{Rating, RatingDelta, RatingSummary, ReviewSort};
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// What a review is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewSubject {
    /// A product, through the order line that bought it.
    Product {
        /// The product.
        product: ProductId,
        /// The line (one review per line).
        line: OrderItemId,
    },
    /// The seller of some of the order's lines (one review per order and seller).
    Seller,
}

impl ReviewSubject {
    /// Stored spelling of its kind.
    pub fn kind(self) -> &'static str {
        match self {
            ReviewSubject::Product { .. } => "product",
            ReviewSubject::Seller => "seller",
        }
    }
}

/// Whether a review or reply is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Shown.
    Visible,
    /// Taken down by staff (its rating no longer counts).
    Removed,
}

impl Visibility {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Visible => "visible",
            Visibility::Removed => "removed",
        }
    }

    /// Parses [`Visibility::as_str`].
    pub fn parse(text: &str) -> Option<Visibility> {
        [Visibility::Visible, Visibility::Removed]
            .into_iter()
            .find(|v| v.as_str() == text)
    }
}

/// A review as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewRecord {
    /// Id.
    pub id: ReviewId,
    /// A product (through its line) or the seller.
    pub subject: ReviewSubject,
    /// The seller reviewed (the product's seller for product reviews).
    pub seller_id: UserId,
    /// The order the purchase was made in.
    pub order_id: OrderId,
    /// The author (none for a guest's order).
    pub buyer_id: Option<UserId>,
    /// Stars.
    pub rating: Rating,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Shown or removed.
    pub visibility: Visibility,
    /// Posted.
    pub created_at: OffsetDateTime,
    /// Last edited.
    pub updated_at: OffsetDateTime,
}

/// A seller's public reply to a review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyRecord {
    /// Id.
    pub id: ReplyId,
    /// The review answered (one reply each).
    pub review_id: ReviewId,
    /// The seller who answered.
    pub seller_id: UserId,
    /// What they said.
    pub body: String,
    /// Shown or removed.
    pub visibility: Visibility,
    /// Posted.
    pub created_at: OffsetDateTime,
    /// Last edited.
    pub updated_at: OffsetDateTime,
}

/// A review as pages show it: with its author's public name and the seller's reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewView {
    /// The review.
    pub review: ReviewRecord,
    /// The author's username (none for a guest).
    pub author: Option<String>,
    /// The seller's reply, when there is a visible one.
    pub reply: Option<ReplyRecord>,
}

/// Reviews, inside a transaction.
#[async_trait]
pub trait ReviewStore: Send {
    /// Records a new review.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `reviews_one_per_line` or `reviews_one_per_order_seller` when
    /// the purchase was reviewed already.
    async fn insert_review(&mut self, review: &ReviewRecord) -> Result<(), StoreError>;
    /// A review, locked.
    async fn review_for_update(&mut self, id: ReviewId)
    -> Result<Option<ReviewRecord>, StoreError>;
    /// Writes a review's rating, words and visibility.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it does not exist.
    async fn update_review(&mut self, review: &ReviewRecord) -> Result<(), StoreError>;
    /// Adds `delta` to the running summary of what `review` is about (its product, or its
    /// seller), in one statement.
    async fn apply_rating_delta(
        &mut self,
        review: &ReviewRecord,
        delta: RatingDelta,
    ) -> Result<(), StoreError>;
    /// Records a reply.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `review_replies_one_per_review`.
    async fn insert_reply(&mut self, reply: &ReplyRecord) -> Result<(), StoreError>;
    /// A review's reply, locked.
    async fn reply_for_update(
        &mut self,
        review: ReviewId,
    ) -> Result<Option<ReplyRecord>, StoreError>;
    /// A reply by its own id, locked.
    async fn reply_by_id_for_update(
        &mut self,
        id: ReplyId,
    ) -> Result<Option<ReplyRecord>, StoreError>;
    /// Writes a reply's body and visibility.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it does not exist.
    async fn update_reply(&mut self, reply: &ReplyRecord) -> Result<(), StoreError>;
}

/// Review reads.
#[async_trait]
pub trait ReviewQueries: Send + Sync {
    /// One review (visible or not).
    async fn review(&self, id: ReviewId) -> Result<Option<ReviewView>, StoreError>;
    /// A product's visible reviews.
    async fn product_reviews(
        &self,
        product: ProductId,
        sort: ReviewSort,
        page: PageRequest,
    ) -> Result<Page<ReviewView>, StoreError>;
    /// A seller's visible seller reviews, newest first.
    async fn seller_reviews(
        &self,
        seller: UserId,
        page: PageRequest,
    ) -> Result<Page<ReviewView>, StoreError>;
    /// A seller's rating summary (from their seller reviews).
    async fn seller_rating(&self, seller: UserId) -> Result<RatingSummary, StoreError>;
    /// One reply (visible or not).
    async fn reply(&self, id: ReplyId) -> Result<Option<ReplyRecord>, StoreError>;
    /// The reviews written from one order (of its lines and its sellers; visible or not), oldest
    /// first: what its buyer has reviewed already.
    async fn order_reviews(&self, order: OrderId) -> Result<Vec<ReviewRecord>, StoreError>;
}

impl dyn Tx + '_ {
    /// The reviews of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn reviews(&mut self) -> Result<&mut (dyn ReviewStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Review reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn reviews(&self) -> Result<&dyn ReviewQueries, StoreError> {
        self.get()
    }
}
