//! Reviews: buyers review what they bought and whom they bought it from, sellers answer, anyone
//! reads them; sellers' public profiles with their rating.

use marketplace_domain::ids::{OrderId, OrderItemId, ProductId, ReviewId, UserId};
use marketplace_domain::reviews::{EDIT_WINDOW, RatingSummary, ReviewSort};
use marketplace_ports::ports::{ReplyRecord, ReviewRecord, ReviewSubject, ReviewView};
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::reviews::{ReviewInput, ReviewTarget, SellerProfile};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use super::orders::OrderToken;
use crate::auth::{Auth, MaybeAuth};
use crate::dto::{PageDto, page_request};
use crate::error::ApiResult;
use crate::json::JsonBody;
use crate::params::{PageNumber, PerPage};

/// Reviews.
pub struct ReviewsApi {
    /// Use cases.
    pub services: Services,
}

/// A review's stars and words.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// 1 to 5 stars.
    #[oai(validator(minimum(value = "1"), maximum(value = "5")))]
    pub rating: i64,
    /// Title, at most 120 characters.
    #[oai(nullable, validator(max_length = 120))]
    pub title: Option<String>,
    /// What you thought, at most 5000 characters.
    #[oai(nullable, validator(max_length = 5000))]
    pub body: Option<String>,
}

impl ReviewBody {
    fn input(self) -> ReviewInput {
        ReviewInput {
            rating: self.rating,
            title: self.title.unwrap_or_default(),
            body: self.body.unwrap_or_default(),
        }
    }
}

/// A seller's answer.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    /// The answer, 1 to 5000 characters.
    #[oai(validator(
        pattern = r"^[^\u0000]*[^\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000][^\u0000]*$",
        max_length = 5000
    ))]
    pub body: String,
}

/// A seller's public reply to a review.
#[derive(Debug, Clone, Object)]
pub struct ReplyDto {
    /// Id.
    pub id: Uuid,
    /// The seller who answered.
    pub seller_id: Uuid,
    /// The answer.
    pub body: String,
    /// Posted.
    pub created_at: OffsetDateTime,
    /// Last edited.
    pub updated_at: OffsetDateTime,
}

/// A review.
#[derive(Debug, Clone, Object)]
pub struct ReviewDto {
    /// Id.
    pub id: Uuid,
    /// `product` or `seller`.
    pub kind: String,
    /// The product reviewed (product reviews).
    #[oai(nullable)]
    pub product_id: Option<Uuid>,
    /// The order line it reviews (product reviews).
    #[oai(nullable)]
    pub order_item_id: Option<Uuid>,
    /// The seller reviewed (or the product's seller).
    pub seller_id: Uuid,
    /// 1 to 5 stars.
    pub rating: u8,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// The author's username, or `Guest`.
    pub author: String,
    /// The seller's reply.
    #[oai(nullable)]
    pub reply: Option<ReplyDto>,
    /// Posted.
    pub created_at: OffsetDateTime,
    /// Last edited.
    pub updated_at: OffsetDateTime,
    /// Until when its author may edit it.
    pub editable_until: OffsetDateTime,
}

/// A rating: average and count.
#[derive(Debug, Clone, Object)]
pub struct RatingDto {
    /// Average stars with two decimals (`"4.67"`), absent without reviews.
    #[oai(nullable)]
    pub avg_rating: Option<String>,
    /// How many reviews.
    pub review_count: i64,
}

/// A seller's public profile.
#[derive(Debug, Object)]
pub struct SellerProfileDto {
    /// Id.
    pub id: Uuid,
    /// Shop name, else username.
    pub public_name: String,
    /// Average stars from seller reviews with two decimals, absent without reviews.
    #[oai(nullable)]
    pub avg_rating: Option<String>,
    /// How many seller reviews.
    pub review_count: i64,
}

/// How reviews are sorted.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "lowercase")]
pub enum ReviewSortDto {
    /// Newest first.
    Newest,
    /// Most stars first.
    Highest,
    /// Fewest stars first.
    Lowest,
}

/// A new review.
#[derive(ApiResponse)]
pub enum CreatedReview {
    /// Posted.
    #[oai(status = 201)]
    Created(Json<ReviewDto>),
}

/// A new reply.
#[derive(ApiResponse)]
pub enum CreatedReply {
    /// Posted.
    #[oai(status = 201)]
    Created(Json<ReplyDto>),
}

/// The wire shape of a rating.
pub fn rating_dto(rating: RatingSummary) -> RatingDto {
    RatingDto {
        avg_rating: rating.average(),
        review_count: rating.count,
    }
}

fn reply_dto(reply: ReplyRecord) -> ReplyDto {
    ReplyDto {
        id: reply.id.get(),
        seller_id: reply.seller_id.get(),
        body: reply.body,
        created_at: reply.created_at,
        updated_at: reply.updated_at,
    }
}

fn record_dto(
    review: ReviewRecord,
    author: Option<String>,
    reply: Option<ReplyRecord>,
) -> ReviewDto {
    let (product_id, order_item_id) = match review.subject {
        ReviewSubject::Product { product, line } => (Some(product.get()), Some(line.get())),
        ReviewSubject::Seller => (None, None),
    };
    ReviewDto {
        id: review.id.get(),
        kind: review.subject.kind().to_owned(),
        product_id,
        order_item_id,
        seller_id: review.seller_id.get(),
        rating: review.rating.get(),
        title: review.title,
        body: review.body,
        author: author.unwrap_or_else(|| "Guest".to_owned()),
        reply: reply.map(reply_dto),
        created_at: review.created_at,
        updated_at: review.updated_at,
        editable_until: review.created_at + EDIT_WINDOW,
    }
}

/// The wire shape of a review as lists show it.
pub fn review_dto(view: ReviewView) -> ReviewDto {
    record_dto(view.review, view.author, view.reply)
}

fn sort(sort: Option<ReviewSortDto>) -> ReviewSort {
    match sort {
        None | Some(ReviewSortDto::Newest) => ReviewSort::Newest,
        Some(ReviewSortDto::Highest) => ReviewSort::Highest,
        Some(ReviewSortDto::Lowest) => ReviewSort::Lowest,
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Products")]
impl ReviewsApi {
    /// Review a line you bought (guests: with the order token). Refused with `not_purchased`,
    /// `own_listing` (403), `order_not_paid`, `line_refunded` (422), `already_reviewed` (409).
    #[oai(path = "/orders/:order_id/items/:item_id/review", method = "post")]
    async fn review_product(
        &self,
        auth: MaybeAuth,
        order_id: Path<Uuid>,
        item_id: Path<Uuid>,
        #[oai(name = "t")] token: OrderToken,
        body: JsonBody<ReviewBody>,
    ) -> ApiResult<CreatedReview> {
        let line = ReviewTarget::Line(OrderItemId::from_uuid(item_id.0));
        self.post_review(auth, order_id, token, line, body).await
    }

    /// Review a seller you bought from in this order (once per order and seller).
    #[oai(path = "/orders/:order_id/sellers/:seller_id/review", method = "post")]
    async fn review_seller(
        &self,
        auth: MaybeAuth,
        order_id: Path<Uuid>,
        seller_id: Path<Uuid>,
        #[oai(name = "t")] token: OrderToken,
        body: JsonBody<ReviewBody>,
    ) -> ApiResult<CreatedReview> {
        let seller = ReviewTarget::Seller(UserId::from_uuid(seller_id.0));
        self.post_review(auth, order_id, token, seller, body).await
    }

    /// Edit your review within 30 days of posting it (guests: with the order token); 403
    /// `edit_window_closed` afterwards.
    #[oai(path = "/reviews/:id", method = "put")]
    async fn edit(
        &self,
        auth: MaybeAuth,
        id: Path<Uuid>,
        #[oai(name = "t")] token: OrderToken,
        body: JsonBody<ReviewBody>,
    ) -> ApiResult<Json<ReviewDto>> {
        let id = ReviewId::from_uuid(id.0);
        self.services
            .review_writing
            .edit_review(token.access(&auth), id, &body.0.input())
            .await?;
        self.get(id).await
    }

    /// A shown review with its reply.
    #[oai(path = "/reviews/:id", method = "get")]
    async fn review(&self, id: Path<Uuid>) -> ApiResult<Json<ReviewDto>> {
        self.get(ReviewId::from_uuid(id.0)).await
    }

    /// Answer a review of you or your product (once; edit with PUT).
    #[oai(path = "/reviews/:id/reply", method = "post")]
    async fn reply(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<ReplyBody>,
    ) -> ApiResult<CreatedReply> {
        let reply = self
            .services
            .review_writing
            .reply(auth.actor(), ReviewId::from_uuid(id.0), &body.0.body)
            .await?;
        Ok(CreatedReply::Created(Json(reply_dto(reply))))
    }

    /// Edit your answer to a review.
    #[oai(path = "/reviews/:id/reply", method = "put")]
    async fn edit_reply(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<ReplyBody>,
    ) -> ApiResult<Json<ReplyDto>> {
        let reply = self
            .services
            .review_writing
            .edit_reply(auth.actor(), ReviewId::from_uuid(id.0), &body.0.body)
            .await?;
        Ok(Json(reply_dto(reply)))
    }

    /// A product's reviews: `sort` = `newest` (default), `highest` or `lowest`.
    #[oai(path = "/products/:id/reviews", method = "get")]
    async fn product_reviews(
        &self,
        id: Path<Uuid>,
        #[oai(name = "sort")] order: Query<Option<ReviewSortDto>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<ReviewDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let found = self
            .services
            .reviews
            .product_reviews(ProductId::from_uuid(id.0), sort(order.0), request)
            .await?;
        Ok(Json(PageDto::from_page(found, review_dto)))
    }

    /// A seller's public profile with their rating.
    #[oai(path = "/sellers/:id", method = "get")]
    async fn seller(&self, id: Path<Uuid>) -> ApiResult<Json<SellerProfileDto>> {
        let SellerProfile {
            id,
            public_name,
            rating,
        } = self
            .services
            .reviews
            .seller(UserId::from_uuid(id.0))
            .await?;
        Ok(Json(SellerProfileDto {
            id: id.get(),
            public_name,
            avg_rating: rating.average(),
            review_count: rating.count,
        }))
    }

    /// A seller's reviews, newest first.
    #[oai(path = "/sellers/:id/reviews", method = "get")]
    async fn seller_reviews(
        &self,
        id: Path<Uuid>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<ReviewDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let found = self
            .services
            .reviews
            .seller_reviews(UserId::from_uuid(id.0), request)
            .await?;
        Ok(Json(PageDto::from_page(found, review_dto)))
    }
}

impl ReviewsApi {
    async fn post_review(
        &self,
        auth: MaybeAuth,
        order_id: Path<Uuid>,
        token: OrderToken,
        target: ReviewTarget,
        body: JsonBody<ReviewBody>,
    ) -> ApiResult<CreatedReview> {
        let review = self
            .services
            .review_writing
            .review(
                token.access(&auth),
                OrderId::from_uuid(order_id.0),
                target,
                &body.0.input(),
            )
            .await?;
        // A guest order's review is a guest's, whoever holds its token.
        let author = review
            .buyer_id
            .and(auth.actor().map(|a| a.username.clone()));
        Ok(CreatedReview::Created(Json(record_dto(
            review, author, None,
        ))))
    }

    async fn get(&self, id: ReviewId) -> ApiResult<Json<ReviewDto>> {
        let view = self.services.reviews.review(id).await?;
        Ok(Json(review_dto(view)))
    }
}
