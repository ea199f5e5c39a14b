//! Reviews: a line refunded in full is no longer reviewable, edits close after 30 days, and the
//! product's running rating follows posts and edits.

use marketplace_domain::reviews::RatingSummary;
use time::Duration;

use super::World;
use super::jobs::stripe_transfers;
use crate::use_cases::orders::OrderAccess;
use crate::use_cases::reviews::ReviewInput;
use crate::use_cases::reviews::ReviewTarget::{Line, Seller};
use crate::use_cases::{ErrorKind, UseCaseError};

fn stars(rating: i64) -> ReviewInput {
    ReviewInput {
        rating,
        ..ReviewInput::default()
    }
}

#[tokio::test]
async fn a_line_refunded_in_full_cannot_be_reviewed_and_edits_close_after_30_days() {
    let world = World::with(|stripe| {
        stripe_transfers(stripe, Vec::new());
    });
    let (_, buyer, order) = world.print_and_file_paid().await;
    let print = order.lines()[0].product_id;
    let (print_line, file_line) = (order.lines()[0].id, order.lines()[1].id);
    let mut refund = world.refund("re_file", 500);
    refund.order_item_id = Some(file_line.to_string());
    world
        .deliver_refund("evt_re", "refund.created", refund)
        .await;
    let access = OrderAccess {
        actor: Some(&buyer),
        token: None,
    };
    let writing = &world.services.review_writing;
    let refused = writing
        .review(access, order.id, Line(file_line), &stars(1))
        .await
        .unwrap_err();
    assert_eq!(
        refused.kind(),
        ErrorKind::Unprocessable {
            code: "line_refunded"
        }
    );
    let review = writing
        .review(access, order.id, Line(print_line), &stars(2))
        .await
        .unwrap();
    world.clock.advance(Duration::days(29));
    writing
        .edit_review(access, review.id, &stars(4))
        .await
        .unwrap();
    let product = world.state().products[&print].clone();
    assert_eq!(
        RatingSummary {
            count: product.review_count,
            sum: product.rating_sum
        },
        RatingSummary { count: 1, sum: 4 }
    );
    world.clock.advance(Duration::days(1));
    let late = writing
        .edit_review(access, review.id, &stars(5))
        .await
        .unwrap_err();
    assert_eq!(
        late.kind(),
        ErrorKind::Forbidden {
            code: "edit_window_closed"
        }
    );
    assert_eq!(world.state().products[&print].rating_sum, 4, "unchanged");
}

#[tokio::test]
async fn a_seller_whose_lines_were_all_refunded_cannot_be_reviewed_for_that_order() {
    let world = World::with(|stripe| {
        stripe_transfers(stripe, Vec::new());
    });
    let (maker, buyer, print) = world.shop().await;
    let other = world.seller("other").await;
    let lamp = world
        .listing(
            &other,
            marketplace_domain::catalog::ProductKind::Model,
            "Lamp",
            "20.00",
        )
        .await;
    let order = world.place(Some(&buyer), &[(print, 1), (lamp, 1)]).await;
    world.pay(&order, 1).await;
    let mut refund = world.refund("re_print", 1250);
    refund.order_item_id = Some(order.lines()[0].id.to_string());
    world
        .deliver_refund("evt_re", "refund.created", refund)
        .await;
    let access = OrderAccess {
        actor: Some(&buyer),
        token: None,
    };
    let writing = &world.services.review_writing;
    let refused = writing
        .review(access, order.id, Seller(maker.user_id), &stars(1))
        .await
        .unwrap_err();
    assert_eq!(
        refused.kind(),
        ErrorKind::Unprocessable {
            code: "line_refunded"
        }
    );
    writing
        .review(access, order.id, Seller(other.user_id), &stars(5))
        .await
        .expect("the other seller's line stands");
}
