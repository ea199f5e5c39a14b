//! Writing reviews: a buyer (a guest with the order token) reviews a line they bought or a seller
//! they bought from, and edits it for thirty days (`reviews::EDIT_WINDOW`); the reviewed seller answers once and may
//! edit the answer. Each change moves the product's or seller's running rating in the same
//! transaction.

use marketplace_domain::engagement::day_of;
use marketplace_domain::ids::{OrderId, OrderItemId, ReplyId, ReviewId, UserId};
use marketplace_domain::orders::Order;
use marketplace_domain::reviews::{
    Purchase, RatingDelta, ReviewContent, may_edit, may_review, reply_body, review_content,
};
use uuid::Uuid;

use marketplace_domain::notifications::NotificationKind;

use super::ReviewError;
use crate::ports::Tx;
use crate::ports::{ReplyRecord, ReviewRecord, ReviewSubject, Visibility};
use crate::use_cases::Actor;
use crate::use_cases::Deps;
use crate::use_cases::orders::{OrderAccess, is_buyer};
use crate::use_cases::shared::notifications::{Notice, notify};

/// What a reviewer sends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewInput {
    /// 1–5.
    pub rating: i64,
    /// Title (optional).
    pub title: String,
    /// Body (optional).
    pub body: String,
}

impl ReviewInput {
    fn checked(&self) -> Result<ReviewContent, ReviewError> {
        review_content(self.rating, &self.title, &self.body).map_err(ReviewError::Invalid)
    }
}

/// Records a new review, moves its product's or seller's rating, and tells the seller.
async fn post(tx: &mut dyn Tx, deps: &Deps, review: &ReviewRecord) -> Result<(), ReviewError> {
    let store = tx.reviews()?;
    store.insert_review(review).await?;
    store
        .apply_rating_delta(review, RatingDelta::added(review.rating))
        .await?;
    let about = match review.subject {
        ReviewSubject::Product { product, .. } => {
            tx.engagement()?
                .count_review(product, day_of(review.created_at))
                .await?;
            "your product"
        }
        ReviewSubject::Seller => "you",
    };
    let notice = Notice {
        user: review.seller_id,
        kind: NotificationKind::NewReview,
        subject: review.id.get(),
        title: format!("A buyer reviewed {about}: {} stars", review.rating),
        // Never the words themselves: a review removed later must not live on here.
        body: "Open the review to read it or to reply.".to_owned(),
    };
    notify(tx, deps, notice, None, review.created_at).await?;
    Ok(())
}

/// What a buyer reviews in an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewTarget {
    /// A line they bought.
    Line(OrderItemId),
    /// A seller of some of its lines.
    Seller(UserId),
}

operation_group!(
    /// Writing reviews and replies.
    ReviewWriting
);

impl ReviewWriting {
    /// The order, if it exists (anyone may learn that only by holding its id).
    async fn order(&self, id: OrderId) -> Result<Order, ReviewError> {
        self.deps
            .queries
            .orders()?
            .order(id)
            .await?
            .ok_or(ReviewError::NotFound)
    }

    /// Reviews a line the caller bought, or a seller they bought from: by the order's buyer (a
    /// guest with its token), of a paid (or partly refunded) order, once per line or per order and
    /// seller. A line refunded in full (for a seller: all of their lines) is no longer a purchase.
    ///
    /// # Errors
    /// [`ReviewError::Invalid`] for the content; [`ReviewError::NotFound`] for an unknown order
    /// or line; [`ReviewError::Refused`] with `not_purchased` (also when the seller sold nothing
    /// in the order), `order_not_paid`, `line_refunded`, `own_listing` or `already_reviewed`.
    pub async fn review(
        &self,
        access: OrderAccess<'_>,
        order_id: OrderId,
        target: ReviewTarget,
        input: &ReviewInput,
    ) -> Result<ReviewRecord, ReviewError> {
        let content = input.checked()?;
        let order = self.order(order_id).await?;
        let mut tx = self.deps.uow.begin().await?;
        let entries = tx.ledger()?.order_entries(order_id).await?;
        let full = order.lines_refunded_in_full(&entries)?;
        let (subject, seller, refunded) = match target {
            ReviewTarget::Line(id) => {
                let index = order
                    .lines()
                    .iter()
                    .position(|line| line.id == id)
                    .ok_or(ReviewError::NotFound)?;
                let line = &order.lines()[index];
                let subject = ReviewSubject::Product {
                    product: line.product_id,
                    line: line.id,
                };
                (subject, line.seller_id, full[index])
            }
            ReviewTarget::Seller(seller) => {
                let mut theirs = order
                    .lines()
                    .iter()
                    .zip(&full)
                    .filter(|(line, _)| line.seller_id == seller);
                (ReviewSubject::Seller, seller, theirs.all(|(_, full)| *full))
            }
        };
        may_review(Purchase {
            is_buyer: is_buyer(self.deps.crypto.as_ref(), &order, access),
            in_order: order.lines().iter().any(|line| line.seller_id == seller),
            order_status: order.status,
            line_refunded: refunded,
            own_listing: access.actor.is_some_and(|a| a.user_id == seller),
            reviewed: false,
        })?;
        let now = self.deps.clock.now();
        let review = ReviewRecord {
            id: ReviewId::from_uuid(Uuid::now_v7()),
            subject,
            seller_id: seller,
            order_id,
            buyer_id: order.buyer_id,
            rating: content.rating,
            title: content.title,
            body: content.body,
            visibility: Visibility::Visible,
            created_at: now,
            updated_at: now,
        };
        post(tx.as_mut(), &self.deps, &review).await?;
        tx.commit().await?;
        Ok(review)
    }

    /// Edits one's review within thirty days of posting it (`reviews::EDIT_WINDOW`); the rating
    /// summary follows.
    ///
    /// # Errors
    /// [`ReviewError::NotFound`] unless the caller wrote it (guests: the order token) and it is
    /// shown; [`ReviewError::Refused`] with `edit_window_closed`; [`ReviewError::Invalid`].
    pub async fn edit_review(
        &self,
        access: OrderAccess<'_>,
        id: ReviewId,
        input: &ReviewInput,
    ) -> Result<ReviewRecord, ReviewError> {
        let content = input.checked()?;
        // Who wrote it is decided from the order, read before the transaction opens (a
        // transaction never waits for a second connection).
        let seen = self
            .deps
            .queries
            .reviews()?
            .review(id)
            .await?
            .ok_or(ReviewError::NotFound)?;
        let order = self.order(seen.review.order_id).await?;
        if !is_buyer(self.deps.crypto.as_ref(), &order, access) {
            return Err(ReviewError::NotFound);
        }
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let mut review = tx
            .reviews()?
            .review_for_update(id)
            .await?
            .filter(|r| r.visibility == Visibility::Visible)
            .ok_or(ReviewError::NotFound)?;
        may_edit(review.created_at, now)?;
        let delta = RatingDelta::changed(review.rating, content.rating);
        review.rating = content.rating;
        review.title = content.title;
        review.body = content.body;
        review.updated_at = now;
        let store = tx.reviews()?;
        store.update_review(&review).await?;
        store.apply_rating_delta(&review, delta).await?;
        tx.commit().await?;
        Ok(review)
    }

    /// The reviewed seller answers a review, once (edits go through
    /// [`ReviewWriting::edit_reply`]).
    ///
    /// # Errors
    /// [`ReviewError::NotFound`] for an unknown or removed review; [`ReviewError::Forbidden`]
    /// (`not_your_review`) for anyone but its seller; [`ReviewError::AlreadyReplied`];
    /// [`ReviewError::Invalid`].
    pub async fn reply(
        &self,
        actor: &Actor,
        review_id: ReviewId,
        body: &str,
    ) -> Result<ReplyRecord, ReviewError> {
        let body = reply_body(body).map_err(ReviewError::Invalid)?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        reviewed_seller(tx.as_mut(), actor, review_id).await?;
        let reply = ReplyRecord {
            id: ReplyId::from_uuid(Uuid::now_v7()),
            review_id,
            seller_id: actor.user_id,
            body,
            visibility: Visibility::Visible,
            created_at: now,
            updated_at: now,
        };
        tx.reviews()?.insert_reply(&reply).await?;
        tx.commit().await?;
        Ok(reply)
    }

    /// The seller edits their reply (at any time: it is their answer).
    ///
    /// # Errors
    /// As [`ReviewWriting::reply`]; [`ReviewError::NotFound`] when there is no reply.
    pub async fn edit_reply(
        &self,
        actor: &Actor,
        review_id: ReviewId,
        body: &str,
    ) -> Result<ReplyRecord, ReviewError> {
        let body = reply_body(body).map_err(ReviewError::Invalid)?;
        let mut tx = self.deps.uow.begin().await?;
        reviewed_seller(tx.as_mut(), actor, review_id).await?;
        let store = tx.reviews()?;
        let mut reply = store
            .reply_for_update(review_id)
            .await?
            .filter(|r| r.visibility == Visibility::Visible)
            .ok_or(ReviewError::NotFound)?;
        reply.body = body;
        reply.updated_at = self.deps.clock.now();
        store.update_reply(&reply).await?;
        tx.commit().await?;
        Ok(reply)
    }
}

/// Locks a shown review and checks the caller is the seller it is about.
async fn reviewed_seller(tx: &mut dyn Tx, actor: &Actor, id: ReviewId) -> Result<(), ReviewError> {
    let review = tx
        .reviews()?
        .review_for_update(id)
        .await?
        .filter(|r| r.visibility == Visibility::Visible)
        .ok_or(ReviewError::NotFound)?;
    if review.seller_id == actor.user_id {
        Ok(())
    } else {
        Err(ReviewError::Forbidden {
            code: "not_your_review",
            message: "only the seller reviewed can answer this review",
        })
    }
}
