//! The cart: quantities, refusals, anonymous carts and their merge, lines that became unavailable.

use marketplace_domain::cart::CartRefusal;
use marketplace_domain::catalog::ProductKind;
use marketplace_domain::money::Cents;

use super::World;
use crate::use_cases::cart::{CartError, CartOwner};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

fn user(actor: &Actor) -> CartOwner<'_> {
    CartOwner {
        actor: Some(actor),
        token: None,
    }
}

fn guest(token: Option<&str>) -> CartOwner<'_> {
    CartOwner { actor: None, token }
}

#[tokio::test]
async fn prints_add_up_and_files_stay_single() {
    let world = World::new();
    let (seller, buyer, print) = world.shop().await;
    let file = world
        .listing(&seller, ProductKind::File, "Owl STL", "3.00")
        .await;
    let cart = &world.services.cart;
    cart.add(user(&buyer), print, 2).await.unwrap();
    cart.add(user(&buyer), print, 3).await.unwrap();
    cart.add(user(&buyer), file, 4).await.unwrap();
    let view = cart.add(user(&buyer), file, 1).await.unwrap();
    let lines: Vec<(u32, Cents)> = view
        .lines
        .iter()
        .map(|l| (l.quantity, l.line_total))
        .collect();
    assert_eq!(lines, [(5, Cents::new(6250)), (1, Cents::new(300))]);
    assert_eq!(view.subtotal, Cents::new(6550));
    assert!(view.can_checkout);

    let error = cart
        .set_quantity(user(&buyer), print, 0 - 1)
        .await
        .unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Invalid(f) if f.fields().contains_key("quantity")));
    let view = cart.set_quantity(user(&buyer), print, 0).await.unwrap();
    assert_eq!(view.lines.len(), 1, "zero removes the line");
}

#[tokio::test]
async fn refused_listings_leave_the_cart_as_it_was() {
    let world = World::new();
    let seller = world.seller("maker").await;
    let waiting = world.seller("waiting").await;
    let owner = world.owner().await;
    let own = world
        .listing(&seller, ProductKind::Model, "Owl", "12.50")
        .await;
    let unready = world
        .listing(&waiting, ProductKind::Model, "Fox", "8.00")
        .await;
    world
        .set_connect(waiting.user_id, "acct_waiting", false)
        .await;
    let cart = &world.services.cart;
    let refusal = |e: CartError| match e {
        CartError::Refused(reason) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let error = cart.add(user(&seller), own, 1).await.unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Conflict {
            code: "own_listing"
        }
    );
    assert_eq!(refusal(error), CartRefusal::OwnListing);
    let error = cart.add(guest(None), unready, 1).await.unwrap_err();
    assert_eq!(refusal(error), CartRefusal::SellerNotReady);
    assert!(
        world.state().carts.is_empty(),
        "no cart was created for a refused add"
    );
    let view = cart.add(user(&owner), unready, 1).await.unwrap();
    assert_eq!(
        view.lines.len(),
        1,
        "owners may buy from sellers who are not ready"
    );
}

#[tokio::test]
async fn an_anonymous_cart_joins_the_users_cart_when_they_sign_in() {
    let world = World::new();
    let (seller, buyer, print) = world.shop().await;
    let file = world
        .listing(&seller, ProductKind::File, "Owl STL", "3.00")
        .await;
    let cart = &world.services.cart;
    let anonymous = cart.add(guest(None), print, 2).await.unwrap();
    let token = anonymous.token.clone().unwrap();
    cart.add(guest(Some(&token)), file, 1).await.unwrap();
    cart.add(user(&buyer), print, 1).await.unwrap();
    cart.merge_into_user(&buyer, &token).await.unwrap();
    let view = cart.view(user(&buyer)).await.unwrap();
    let lines: Vec<(&str, u32)> = view
        .lines
        .iter()
        .map(|l| (l.title.as_str(), l.quantity))
        .collect();
    assert_eq!(lines, [("Owl", 3), ("Owl STL", 1)]);
    let gone = cart.view(guest(Some(&token))).await.unwrap();
    assert!(
        gone.lines.is_empty() && gone.token.is_none(),
        "the anonymous cart is gone"
    );
    assert_eq!(world.state().carts.len(), 1);
}

#[tokio::test]
async fn a_listing_that_became_unavailable_is_dropped_and_reported() {
    let world = World::new();
    let (seller, buyer, print) = world.shop().await;
    let cart = &world.services.cart;
    cart.add(user(&buyer), print, 1).await.unwrap();
    world
        .services
        .my_listings
        .toggle_active(&seller, print)
        .await
        .unwrap();
    let view = cart.view(user(&buyer)).await.unwrap();
    assert!(view.lines.is_empty() && !view.can_checkout);
    assert_eq!(view.removed.len(), 1);
    assert_eq!(view.removed[0].reason, CartRefusal::Inactive.to_string());
    assert!(
        world.state().cart_lines.is_empty(),
        "the line was removed for good"
    );
    let again = cart.view(user(&buyer)).await.unwrap();
    assert!(again.removed.is_empty(), "reported once");
}

#[tokio::test]
async fn a_seller_who_stops_being_ready_blocks_checkout() {
    let world = World::new();
    let (seller, buyer, print) = world.shop().await;
    world
        .services
        .cart
        .add(user(&buyer), print, 1)
        .await
        .unwrap();
    world.set_connect(seller.user_id, "acct_maker", false).await;
    let view = world.services.cart.view(user(&buyer)).await.unwrap();
    assert_eq!(view.lines.len(), 1);
    assert!(!view.lines[0].can_buy && !view.can_checkout);
    assert_eq!(view.unready_sellers, ["maker"]);
}
