//! Reviews: one per line and one per (order, seller), running summaries moved by deltas, sorted
//! lists of visible reviews with their author and reply, one reply per review.

use marketplace_domain::ids::{ReplyId, ReviewId};
use marketplace_domain::orders::Order;
use marketplace_domain::pagination::PageRequest;
use marketplace_domain::reviews::{Rating, RatingDelta, RatingSummary, ReviewSort};

use super::shopping::{fixture, insert, order};
use super::{Subject, at, id};
use crate::ports::{ReplyRecord, ReviewRecord, ReviewSubject, StoreError, Visibility};

fn review(order: &Order, line: usize, stars: i64, created: i64) -> ReviewRecord {
    let line = &order.lines()[line];
    ReviewRecord {
        id: ReviewId::from_uuid(id()),
        subject: ReviewSubject::Product {
            product: line.product_id,
            line: line.id,
        },
        seller_id: line.seller_id,
        order_id: order.id,
        buyer_id: order.buyer_id,
        rating: Rating::new(stars).unwrap(),
        title: format!("{stars} stars"),
        body: String::new(),
        visibility: Visibility::Visible,
        created_at: at(created),
        updated_at: at(created),
    }
}

async fn post(s: &Subject, review: &ReviewRecord) -> Result<(), StoreError> {
    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.reviews().unwrap();
    store.insert_review(review).await?;
    store
        .apply_rating_delta(review, RatingDelta::added(review.rating))
        .await?;
    tx.commit().await.unwrap();
    Ok(())
}

/// One review per purchased line and per (order, seller); summaries follow the deltas; lists show
/// visible reviews sorted, with their author and the seller's reply.
pub async fn reviews_are_one_per_purchase_and_summaries_follow_them(s: Subject) {
    let f = fixture(&s).await;
    let (first, second) = (
        order(f.buyer, &f.print, &f.file, 2),
        order(f.buyer, &f.print, &f.file, 3),
    );
    insert(&s, &first).await;
    insert(&s, &second).await;
    let (low, high) = (review(&first, 0, 2, 4), review(&second, 0, 5, 5));
    post(&s, &low).await.unwrap();
    post(&s, &high).await.unwrap();
    let twice = post(&s, &review(&first, 0, 4, 6)).await.unwrap_err();
    assert!(twice.is_conflict_on("reviews_one_per_line"), "{twice:?}");
    let seller = ReviewRecord {
        subject: ReviewSubject::Seller,
        ..review(&first, 0, 4, 7)
    };
    post(&s, &seller).await.unwrap();
    let again = ReviewRecord {
        id: ReviewId::from_uuid(id()),
        ..seller.clone()
    };
    let twice = post(&s, &again).await.unwrap_err();
    assert!(
        twice.is_conflict_on("reviews_one_per_order_seller"),
        "{twice:?}"
    );

    let reads = s.queries.reviews().unwrap();
    let page = PageRequest::first();
    let stars = |sort| async move {
        let found = reads.product_reviews(f.print.id, sort, page).await.unwrap();
        assert_eq!(found.total, 2);
        found
            .items
            .iter()
            .map(|v| v.review.rating.get())
            .collect::<Vec<_>>()
    };
    assert_eq!(stars(ReviewSort::Newest).await, [5, 2]);
    assert_eq!(stars(ReviewSort::Highest).await, [5, 2]);
    assert_eq!(stars(ReviewSort::Lowest).await, [2, 5]);
    assert_eq!(
        reads.seller_rating(f.print.seller_id).await.unwrap(),
        RatingSummary { count: 1, sum: 4 }
    );
    let sellers = reads.seller_reviews(f.print.seller_id, page).await.unwrap();
    assert_eq!(sellers.items.len(), 1);
    assert_eq!(sellers.items[0].author.as_deref(), Some("buyer"));

    // The seller answers once; staff take the low review down: its rating stops counting.
    let reply = ReplyRecord {
        id: ReplyId::from_uuid(id()),
        review_id: high.id,
        seller_id: high.seller_id,
        body: "Thank you!".into(),
        visibility: Visibility::Visible,
        created_at: at(8),
        updated_at: at(8),
    };
    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.reviews().unwrap();
    store.insert_reply(&reply).await.unwrap();
    let mut removed = store.review_for_update(low.id).await.unwrap().unwrap();
    assert_eq!(removed, low);
    removed.visibility = Visibility::Removed;
    store.update_review(&removed).await.unwrap();
    store
        .apply_rating_delta(&removed, RatingDelta::removed(removed.rating))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.uow.begin().await.unwrap();
    let second_reply = ReplyRecord {
        id: ReplyId::from_uuid(id()),
        ..reply.clone()
    };
    let twice = tx
        .reviews()
        .unwrap()
        .insert_reply(&second_reply)
        .await
        .unwrap_err();
    assert!(
        twice.is_conflict_on("review_replies_one_per_review"),
        "{twice:?}"
    );
    drop(tx);
    let shown = reads
        .product_reviews(f.print.id, ReviewSort::Newest, page)
        .await
        .unwrap();
    assert_eq!(
        shown.total, 1,
        "the removed review is neither shown nor counted"
    );
    assert_eq!(
        shown.items[0].reply.as_ref().map(|r| r.body.as_str()),
        Some("Thank you!")
    );
    let one = reads.review(low.id).await.unwrap().unwrap();
    assert_eq!(one.review.visibility, Visibility::Removed);
    // An order's reviews, removed ones too, oldest first; another order's are not among them.
    let ids = |reviews: Vec<ReviewRecord>| reviews.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(reads.order_reviews(first.id).await.unwrap()),
        [low.id, seller.id]
    );
    assert_eq!(
        ids(reads.order_reviews(second.id).await.unwrap()),
        [high.id]
    );
}
