//! Reading reviews: a product's (sorted newest, highest or lowest), a seller's, and a seller's
//! public profile with their rating.

use marketplace_domain::accounts::public_seller_name;
use marketplace_domain::ids::{ProductId, ReviewId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::reviews::{RatingSummary, ReviewSort};

use super::ReviewError;
use crate::ports::{ReviewView, Visibility};

/// A seller's public profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SellerProfile {
    /// The seller.
    pub id: UserId,
    /// Their public label (shop name, else username).
    pub public_name: String,
    /// Their rating from seller reviews.
    pub rating: RatingSummary,
}

operation_group!(
    /// Reading reviews and sellers' ratings.
    ReviewReading
);

impl ReviewReading {
    /// A product's shown reviews.
    ///
    /// # Errors
    /// [`ReviewError::NotFound`] for an unknown or inactive product.
    pub async fn product_reviews(
        &self,
        product: ProductId,
        sort: ReviewSort,
        page: PageRequest,
    ) -> Result<Page<ReviewView>, ReviewError> {
        let queries = &self.deps.queries;
        queries
            .listings()?
            .product_detail(product)
            .await?
            .filter(|d| d.row.product.listing.is_active)
            .ok_or(ReviewError::NotFound)?;
        Ok(queries
            .reviews()?
            .product_reviews(product, sort, page)
            .await?)
    }

    /// One shown review with its reply.
    ///
    /// # Errors
    /// [`ReviewError::NotFound`] for an unknown or removed review.
    pub async fn review(&self, id: ReviewId) -> Result<ReviewView, ReviewError> {
        self.deps
            .queries
            .reviews()?
            .review(id)
            .await?
            .filter(|v| v.review.visibility == Visibility::Visible)
            .ok_or(ReviewError::NotFound)
    }

    /// A seller's public profile with their rating.
    ///
    /// # Errors
    /// [`ReviewError::NotFound`] for anyone who is not a seller.
    pub async fn seller(&self, id: UserId) -> Result<SellerProfile, ReviewError> {
        let (user, profile) = self
            .deps
            .queries
            .accounts()?
            .user_profile(id)
            .await?
            .filter(|(user, _)| user.roles.is_seller() && user.is_active)
            .ok_or(ReviewError::NotFound)?;
        let rating = self.deps.queries.reviews()?.seller_rating(id).await?;
        Ok(SellerProfile {
            id,
            public_name: public_seller_name(&profile.shop_name, &user.username),
            rating,
        })
    }

    /// A seller's shown seller reviews, newest first.
    ///
    /// # Errors
    /// [`ReviewError::NotFound`] for anyone who is not a seller.
    pub async fn seller_reviews(
        &self,
        id: UserId,
        page: PageRequest,
    ) -> Result<Page<ReviewView>, ReviewError> {
        self.seller(id).await?;
        Ok(self
            .deps
            .queries
            .reviews()?
            .seller_reviews(id, page)
            .await?)
    }
}
