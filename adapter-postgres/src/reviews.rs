//! Reviews, replies and rating summaries.

use async_trait::async_trait;
use marketplace_domain::ids::{OrderId, OrderItemId, ProductId, ReplyId, ReviewId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::reviews::{Rating, RatingDelta, RatingSummary, ReviewSort};
use marketplace_ports::ports::{
    ReplyRecord, ReviewQueries, ReviewRecord, ReviewStore, ReviewSubject, ReviewView, StoreError,
    Visibility,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, found, store_error};
use crate::paging;
use crate::{PgStore, TxConn};

struct ReviewRow {
    id: Uuid,
    kind: String,
    product_id: Option<Uuid>,
    order_item_id: Option<Uuid>,
    seller_id: Uuid,
    order_id: Uuid,
    buyer_id: Option<Uuid>,
    rating: i16,
    title: String,
    body: String,
    visibility: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<ReviewRow> for ReviewRecord {
    type Error = StoreError;

    fn try_from(row: ReviewRow) -> Result<Self, Self::Error> {
        let subject = match (row.kind.as_str(), row.product_id, row.order_item_id) {
            ("product", Some(product), Some(line)) => ReviewSubject::Product {
                product: ProductId::from_uuid(product),
                line: OrderItemId::from_uuid(line),
            },
            ("seller", None, None) => ReviewSubject::Seller,
            _ => return Err(corrupt("review", &row.kind)),
        };
        Ok(ReviewRecord {
            id: ReviewId::from_uuid(row.id),
            subject,
            seller_id: UserId::from_uuid(row.seller_id),
            order_id: OrderId::from_uuid(row.order_id),
            buyer_id: row.buyer_id.map(UserId::from_uuid),
            rating: Rating::new(i64::from(row.rating)).map_err(|e| corrupt("review", e))?,
            title: row.title,
            body: row.body,
            visibility: Visibility::parse(&row.visibility)
                .ok_or_else(|| corrupt("review", &row.visibility))?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

struct ReplyRow {
    id: Uuid,
    review_id: Uuid,
    seller_id: Uuid,
    body: String,
    visibility: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<ReplyRow> for ReplyRecord {
    type Error = StoreError;

    fn try_from(r: ReplyRow) -> Result<Self, Self::Error> {
        Ok(ReplyRecord {
            id: ReplyId::from_uuid(r.id),
            review_id: ReviewId::from_uuid(r.review_id),
            seller_id: UserId::from_uuid(r.seller_id),
            body: r.body,
            visibility: Visibility::parse(&r.visibility)
                .ok_or_else(|| corrupt("reply", &r.visibility))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A review row with its author and reply, as the lists read it.
struct ViewRow {
    id: Uuid,
    kind: String,
    product_id: Option<Uuid>,
    order_item_id: Option<Uuid>,
    seller_id: Uuid,
    order_id: Uuid,
    buyer_id: Option<Uuid>,
    rating: i16,
    title: String,
    body: String,
    visibility: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    author: Option<String>,
    reply_id: Option<Uuid>,
    reply_seller_id: Option<Uuid>,
    reply_body: Option<String>,
    reply_created_at: Option<OffsetDateTime>,
    reply_updated_at: Option<OffsetDateTime>,
}

impl TryFrom<ViewRow> for ReviewView {
    type Error = StoreError;

    fn try_from(row: ViewRow) -> Result<Self, Self::Error> {
        let reply = match (
            row.reply_id,
            row.reply_seller_id,
            row.reply_body,
            row.reply_created_at,
            row.reply_updated_at,
        ) {
            (Some(id), Some(seller), Some(body), Some(created_at), Some(updated_at)) => {
                Some(ReplyRecord {
                    id: ReplyId::from_uuid(id),
                    review_id: ReviewId::from_uuid(row.id),
                    seller_id: UserId::from_uuid(seller),
                    body,
                    visibility: Visibility::Visible,
                    created_at,
                    updated_at,
                })
            }
            _ => None,
        };
        let review = ReviewRecord::try_from(ReviewRow {
            id: row.id,
            kind: row.kind,
            product_id: row.product_id,
            order_item_id: row.order_item_id,
            seller_id: row.seller_id,
            order_id: row.order_id,
            buyer_id: row.buyer_id,
            rating: row.rating,
            title: row.title,
            body: row.body,
            visibility: row.visibility,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })?;
        Ok(ReviewView {
            review,
            author: row.author,
            reply,
        })
    }
}

fn subject_ids(subject: ReviewSubject) -> (Option<Uuid>, Option<Uuid>) {
    match subject {
        ReviewSubject::Product { product, line } => (Some(product.get()), Some(line.get())),
        ReviewSubject::Seller => (None, None),
    }
}

/// Reviews of one transaction.
pub(crate) struct PgReviews(pub(crate) TxConn);

#[async_trait]
impl ReviewStore for PgReviews {
    async fn insert_review(&mut self, review: &ReviewRecord) -> Result<(), StoreError> {
        let (product, line) = subject_ids(review.subject);
        sqlx::query!(
            "insert into reviews (id, kind, product_id, order_item_id, seller_id, order_id,
                buyer_id, rating, title, body, visibility, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            review.id.get(),
            review.subject.kind(),
            product,
            line,
            review.seller_id.get(),
            review.order_id.get(),
            review.buyer_id.map(UserId::get),
            i16::from(review.rating.get()),
            review.title,
            review.body,
            review.visibility.as_str(),
            review.created_at,
            review.updated_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn review_for_update(
        &mut self,
        id: ReviewId,
    ) -> Result<Option<ReviewRecord>, StoreError> {
        let row = sqlx::query_as!(
            ReviewRow,
            "select id, kind, product_id, order_item_id, seller_id, order_id, buyer_id, rating,
                    title, body, visibility, created_at, updated_at
             from reviews where id = $1 for update",
            id.get()
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        row.map(ReviewRecord::try_from).transpose()
    }

    async fn update_review(&mut self, review: &ReviewRecord) -> Result<(), StoreError> {
        let result = sqlx::query!(
            "update reviews set rating = $2, title = $3, body = $4, visibility = $5,
                updated_at = $6
             where id = $1",
            review.id.get(),
            i16::from(review.rating.get()),
            review.title,
            review.body,
            review.visibility.as_str(),
            review.updated_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        found(result.rows_affected())
    }

    async fn apply_rating_delta(
        &mut self,
        review: &ReviewRecord,
        delta: RatingDelta,
    ) -> Result<(), StoreError> {
        if delta.is_zero() {
            return Ok(());
        }
        let mut conn = self.0.lock().await;
        let result = match review.subject {
            ReviewSubject::Product { product, .. } => sqlx::query!(
                "update products set review_count = review_count + $2,
                    rating_sum = rating_sum + $3
                 where id = $1",
                product.get(),
                delta.count,
                delta.sum,
            )
            .execute(&mut **conn)
            .await
            .map_err(store_error)?,
            ReviewSubject::Seller => sqlx::query!(
                "insert into seller_ratings (seller_id, review_count, rating_sum)
                 values ($1, $2, $3)
                 on conflict (seller_id) do update
                 set review_count = seller_ratings.review_count + excluded.review_count,
                     rating_sum = seller_ratings.rating_sum + excluded.rating_sum",
                review.seller_id.get(),
                delta.count,
                delta.sum,
            )
            .execute(&mut **conn)
            .await
            .map_err(store_error)?,
        };
        found(result.rows_affected())
    }

    async fn insert_reply(&mut self, reply: &ReplyRecord) -> Result<(), StoreError> {
        sqlx::query!(
            "insert into review_replies (id, review_id, seller_id, body, visibility, created_at,
                updated_at)
             values ($1, $2, $3, $4, $5, $6, $7)",
            reply.id.get(),
            reply.review_id.get(),
            reply.seller_id.get(),
            reply.body,
            reply.visibility.as_str(),
            reply.created_at,
            reply.updated_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn reply_for_update(
        &mut self,
        review: ReviewId,
    ) -> Result<Option<ReplyRecord>, StoreError> {
        let row = sqlx::query_as!(
            ReplyRow,
            "select id, review_id, seller_id, body, visibility, created_at, updated_at
             from review_replies where review_id = $1 for update",
            review.get()
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        row.map(ReplyRecord::try_from).transpose()
    }

    async fn reply_by_id_for_update(
        &mut self,
        id: ReplyId,
    ) -> Result<Option<ReplyRecord>, StoreError> {
        let row = sqlx::query_as!(
            ReplyRow,
            "select id, review_id, seller_id, body, visibility, created_at, updated_at
             from review_replies where id = $1 for update",
            id.get()
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        row.map(ReplyRecord::try_from).transpose()
    }

    async fn update_reply(&mut self, reply: &ReplyRecord) -> Result<(), StoreError> {
        let result = sqlx::query!(
            "update review_replies set body = $2, visibility = $3, updated_at = $4
             where id = $1",
            reply.id.get(),
            reply.body,
            reply.visibility.as_str(),
            reply.updated_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        found(result.rows_affected())
    }
}

#[async_trait]
impl ReviewQueries for PgStore {
    async fn order_reviews(&self, order: OrderId) -> Result<Vec<ReviewRecord>, StoreError> {
        sqlx::query_as!(
            ReviewRow,
            "select id, kind, product_id, order_item_id, seller_id, order_id, buyer_id, rating,
                    title, body, visibility, created_at, updated_at
             from reviews where order_id = $1 order by created_at, id",
            order.get()
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(ReviewRecord::try_from)
        .collect()
    }

    async fn review(&self, id: ReviewId) -> Result<Option<ReviewView>, StoreError> {
        let row = sqlx::query_as!(
            ViewRow,
            r#"select r.id, r.kind, r.product_id, r.order_item_id, r.seller_id, r.order_id,
                      r.buyer_id, r.rating, r.title, r.body, r.visibility, r.created_at,
                      r.updated_at, u.username as "author?", p.id as "reply_id?",
                      p.seller_id as "reply_seller_id?", p.body as "reply_body?",
                      p.created_at as "reply_created_at?", p.updated_at as "reply_updated_at?"
               from reviews r
               left join users u on u.id = r.buyer_id
               left join review_replies p on p.review_id = r.id and p.visibility = 'visible'
               where r.id = $1"#,
            id.get()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(ReviewView::try_from).transpose()
    }

    async fn product_reviews(
        &self,
        product: ProductId,
        sort: ReviewSort,
        page: PageRequest,
    ) -> Result<Page<ReviewView>, StoreError> {
        let total = sqlx::query_scalar!(
            r#"select review_count as "total!" from products where id = $1"#,
            product.get()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?
        .unwrap_or(0);
        let order = match sort {
            ReviewSort::Newest => 0,
            ReviewSort::Highest => 1,
            ReviewSort::Lowest => 2,
        };
        let rows = sqlx::query_as!(
            ViewRow,
            r#"select r.id, r.kind, r.product_id, r.order_item_id, r.seller_id, r.order_id,
                      r.buyer_id, r.rating, r.title, r.body, r.visibility, r.created_at,
                      r.updated_at, u.username as "author?", p.id as "reply_id?",
                      p.seller_id as "reply_seller_id?", p.body as "reply_body?",
                      p.created_at as "reply_created_at?", p.updated_at as "reply_updated_at?"
               from reviews r
               left join users u on u.id = r.buyer_id
               left join review_replies p on p.review_id = r.id and p.visibility = 'visible'
               where r.product_id = $1 and r.kind = 'product' and r.visibility = 'visible'
               order by case when $2 = 1 then -r.rating when $2 = 2 then r.rating else 0 end,
                        r.created_at desc, r.id desc
               limit $3 offset $4"#,
            product.get(),
            order,
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        paging::converted_page(rows, page, total)
    }

    async fn seller_reviews(
        &self,
        seller: UserId,
        page: PageRequest,
    ) -> Result<Page<ReviewView>, StoreError> {
        let total = self.seller_rating(seller).await?.count;
        let rows = sqlx::query_as!(
            ViewRow,
            r#"select r.id, r.kind, r.product_id, r.order_item_id, r.seller_id, r.order_id,
                      r.buyer_id, r.rating, r.title, r.body, r.visibility, r.created_at,
                      r.updated_at, u.username as "author?", p.id as "reply_id?",
                      p.seller_id as "reply_seller_id?", p.body as "reply_body?",
                      p.created_at as "reply_created_at?", p.updated_at as "reply_updated_at?"
               from reviews r
               left join users u on u.id = r.buyer_id
               left join review_replies p on p.review_id = r.id and p.visibility = 'visible'
               where r.seller_id = $1 and r.kind = 'seller' and r.visibility = 'visible'
               order by r.created_at desc, r.id desc
               limit $2 offset $3"#,
            seller.get(),
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        paging::converted_page(rows, page, total)
    }

    async fn reply(&self, id: ReplyId) -> Result<Option<ReplyRecord>, StoreError> {
        let row = sqlx::query_as!(
            ReplyRow,
            "select id, review_id, seller_id, body, visibility, created_at, updated_at
             from review_replies where id = $1",
            id.get()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(ReplyRecord::try_from).transpose()
    }

    async fn seller_rating(&self, seller: UserId) -> Result<RatingSummary, StoreError> {
        let row = sqlx::query!(
            "select review_count, rating_sum from seller_ratings where seller_id = $1",
            seller.get()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(row.map_or_else(RatingSummary::default, |r| RatingSummary {
            count: r.review_count,
            sum: r.rating_sum,
        }))
    }
}
