//! Reviews, replies and rating summaries, in memory.

use async_trait::async_trait;
use marketplace_domain::ids::{OrderId, ProductId, ReplyId, ReviewId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::reviews::{RatingDelta, RatingSummary, ReviewSort};

use super::listings::page_of;
use super::{MemoryStore, State, Working, conflict};
use crate::ports::{
    ReplyRecord, ReviewQueries, ReviewRecord, ReviewStore, ReviewSubject, ReviewView, StoreError,
    Visibility,
};

pub(crate) struct MemReviews(pub(crate) Working);

#[async_trait]
impl ReviewStore for MemReviews {
    async fn insert_review(&mut self, review: &ReviewRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("reviews.insert_review")?;
        for existing in &s.reviews {
            match (existing.subject, review.subject) {
                (
                    ReviewSubject::Product { line: a, .. },
                    ReviewSubject::Product { line: b, .. },
                ) if a == b => {
                    return Err(conflict("reviews_one_per_line"));
                }
                (ReviewSubject::Seller, ReviewSubject::Seller)
                    if existing.order_id == review.order_id
                        && existing.seller_id == review.seller_id =>
                {
                    return Err(conflict("reviews_one_per_order_seller"));
                }
                _ => {}
            }
        }
        s.reviews.push(review.clone());
        Ok(())
    }

    async fn review_for_update(
        &mut self,
        id: ReviewId,
    ) -> Result<Option<ReviewRecord>, StoreError> {
        let s = self.0.state("reviews.review_for_update")?;
        Ok(s.reviews.iter().find(|r| r.id == id).cloned())
    }

    async fn update_review(&mut self, review: &ReviewRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("reviews.update_review")?;
        let stored = s
            .reviews
            .iter_mut()
            .find(|r| r.id == review.id)
            .ok_or(StoreError::NotFound)?;
        *stored = review.clone();
        Ok(())
    }

    async fn apply_rating_delta(
        &mut self,
        review: &ReviewRecord,
        delta: RatingDelta,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("reviews.apply_rating_delta")?;
        match review.subject {
            ReviewSubject::Product { product, .. } => {
                let product = s.products.get_mut(&product).ok_or(StoreError::NotFound)?;
                product.review_count += delta.count;
                product.rating_sum += delta.sum;
            }
            ReviewSubject::Seller => {
                let summary = s.seller_ratings.entry(review.seller_id).or_default();
                summary.count += delta.count;
                summary.sum += delta.sum;
            }
        }
        Ok(())
    }

    async fn insert_reply(&mut self, reply: &ReplyRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("reviews.insert_reply")?;
        if s.replies.iter().any(|r| r.review_id == reply.review_id) {
            return Err(conflict("review_replies_one_per_review"));
        }
        s.replies.push(reply.clone());
        Ok(())
    }

    async fn reply_for_update(
        &mut self,
        review: ReviewId,
    ) -> Result<Option<ReplyRecord>, StoreError> {
        let s = self.0.state("reviews.reply_for_update")?;
        Ok(s.replies.iter().find(|r| r.review_id == review).cloned())
    }

    async fn reply_by_id_for_update(
        &mut self,
        id: ReplyId,
    ) -> Result<Option<ReplyRecord>, StoreError> {
        let s = self.0.state("reviews.reply_by_id_for_update")?;
        Ok(s.replies.iter().find(|r| r.id == id).cloned())
    }

    async fn update_reply(&mut self, reply: &ReplyRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("reviews.update_reply")?;
        let stored = s
            .replies
            .iter_mut()
            .find(|r| r.id == reply.id)
            .ok_or(StoreError::NotFound)?;
        *stored = reply.clone();
        Ok(())
    }
}

fn view(s: &State, review: &ReviewRecord) -> ReviewView {
    ReviewView {
        review: review.clone(),
        author: review
            .buyer_id
            .and_then(|b| s.users.get(&b))
            .map(|u| u.username.clone()),
        reply: s
            .replies
            .iter()
            .find(|r| r.review_id == review.id && r.visibility == Visibility::Visible)
            .cloned(),
    }
}

fn newest_first(a: &ReviewRecord, b: &ReviewRecord) -> std::cmp::Ordering {
    b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id))
}

#[async_trait]
impl ReviewQueries for MemoryStore {
    async fn order_reviews(&self, order: OrderId) -> Result<Vec<ReviewRecord>, StoreError> {
        let s = self.read("reviews.order_reviews")?;
        let mut reviews: Vec<ReviewRecord> = s
            .reviews
            .iter()
            .filter(|r| r.order_id == order)
            .cloned()
            .collect();
        reviews.sort_by_key(|r| (r.created_at, r.id.get()));
        Ok(reviews)
    }

    async fn review(&self, id: ReviewId) -> Result<Option<ReviewView>, StoreError> {
        let s = self.read("reviews.review")?;
        Ok(s.reviews.iter().find(|r| r.id == id).map(|r| view(&s, r)))
    }

    async fn product_reviews(
        &self,
        product: ProductId,
        sort: ReviewSort,
        page: PageRequest,
    ) -> Result<Page<ReviewView>, StoreError> {
        let s = self.read("reviews.product_reviews")?;
        let mut found: Vec<&ReviewRecord> = s
            .reviews
            .iter()
            .filter(|r| r.visibility == Visibility::Visible)
            .filter(
                |r| matches!(r.subject, ReviewSubject::Product { product: p, .. } if p == product),
            )
            .collect();
        found.sort_by(|a, b| {
            let stars = match sort {
                ReviewSort::Newest => std::cmp::Ordering::Equal,
                ReviewSort::Highest => b.rating.cmp(&a.rating),
                ReviewSort::Lowest => a.rating.cmp(&b.rating),
            };
            stars.then(newest_first(a, b))
        });
        let views = found.into_iter().map(|r| view(&s, r)).collect();
        Ok(page_of(views, page))
    }

    async fn seller_reviews(
        &self,
        seller: UserId,
        page: PageRequest,
    ) -> Result<Page<ReviewView>, StoreError> {
        let s = self.read("reviews.seller_reviews")?;
        let mut found: Vec<&ReviewRecord> = s
            .reviews
            .iter()
            .filter(|r| r.visibility == Visibility::Visible)
            .filter(|r| r.subject == ReviewSubject::Seller && r.seller_id == seller)
            .collect();
        found.sort_by(|a, b| newest_first(a, b));
        let views = found.into_iter().map(|r| view(&s, r)).collect();
        Ok(page_of(views, page))
    }

    async fn reply(&self, id: ReplyId) -> Result<Option<ReplyRecord>, StoreError> {
        let s = self.read("reviews.reply")?;
        Ok(s.replies.iter().find(|r| r.id == id).cloned())
    }

    async fn seller_rating(&self, seller: UserId) -> Result<RatingSummary, StoreError> {
        let s = self.read("reviews.seller_rating")?;
        Ok(s.seller_ratings.get(&seller).copied().unwrap_or_default())
    }
}
