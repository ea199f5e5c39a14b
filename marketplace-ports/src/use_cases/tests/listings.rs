//! Sellers managing listings: who may, slugs, and what an edit may change.

use marketplace_domain::catalog::{ListingChanges, ProductKind};
use marketplace_domain::money::Cents;

use super::World;
use crate::use_cases::listings::ListingError;

#[tokio::test]
async fn a_seller_without_a_ready_account_cannot_create_listings() {
    let world = World::new();
    let seller = world.unready_seller("maker").await;
    world.set_connect(seller.user_id, "acct_maker", false).await;
    let draft = world.draft(ProductKind::Model, "Dragon", "5.00").await;
    let error = world
        .services
        .my_listings
        .create(&seller, draft)
        .await
        .unwrap_err();
    assert!(matches!(error, ListingError::ConnectNotReady), "{error:?}");
    assert!(world.state().products.is_empty());
}

#[tokio::test]
async fn a_buyer_is_not_a_seller() {
    let world = World::new();
    let buyer = world.buyer("buyer").await;
    let draft = world.draft(ProductKind::Model, "Dragon", "5.00").await;
    let error = world
        .services
        .my_listings
        .create(&buyer, draft)
        .await
        .unwrap_err();
    assert!(matches!(error, ListingError::NotASeller), "{error:?}");
    let mine = world
        .services
        .my_listings
        .mine(
            &buyer,
            None,
            marketplace_domain::pagination::PageRequest::first(),
        )
        .await;
    assert!(matches!(mine, Err(ListingError::NotASeller)));
}

#[tokio::test]
async fn derived_slugs_are_numbered_until_free() {
    let world = World::new();
    let seller = world.seller("maker").await;
    let other = world.seller("other").await;
    let mut slugs = Vec::new();
    for _ in 0..3 {
        let id = world
            .listing(&seller, ProductKind::Model, "Dragon", "5.00")
            .await;
        slugs.push(world.state().products[&id].slug.clone());
    }
    assert_eq!(slugs, ["dragon", "dragon-2", "dragon-3"]);
    let theirs = world
        .listing(&other, ProductKind::Model, "Dragon", "5.00")
        .await;
    assert_eq!(world.state().products[&theirs].slug, "dragon", "per seller");
    let product = &world.state().products[&theirs];
    assert_eq!(product.listing.price, Cents::new(500));
}

#[tokio::test]
async fn an_edit_changes_only_what_is_given_and_keeps_owner_flags_to_owners() {
    let world = World::new();
    let seller = world.seller("maker").await;
    let id = world
        .listing(&seller, ProductKind::Model, "Dragon", "5.00")
        .await;
    let changes = ListingChanges {
        title: Some("Red dragon".into()),
        price: Some("7.25".into()),
        ..ListingChanges::default()
    };
    let updated = world
        .services
        .my_listings
        .update(&seller, id, changes)
        .await
        .unwrap();
    let listing = &updated.view.product.listing;
    assert_eq!(
        (listing.title.as_str(), listing.price),
        ("Red dragon", Cents::new(725))
    );
    assert_eq!(
        updated.view.product.slug, "red-dragon",
        "a new title, a new slug"
    );

    let featured = ListingChanges {
        is_featured: Some(true),
        ..ListingChanges::default()
    };

    let error = world
        .services
        .my_listings
        .update(&seller, id, featured.clone())
        .await
        .unwrap_err();
    assert!(matches!(&error, ListingError::Invalid(f) if f.fields().contains_key("is_featured")));
    let owner = world.owner().await;
    let by_owner = world
        .services
        .my_listings
        .update(&owner, id, featured)
        .await
        .unwrap();
    assert!(by_owner.view.product.listing.is_featured);
    assert_eq!(
        by_owner.view.product.slug, "red-dragon",
        "the slug stays with the title"
    );

    let kind = ListingChanges {
        kind: Some(ProductKind::File),
        ..ListingChanges::default()
    };
    let error = world
        .services
        .my_listings
        .update(&seller, id, kind)
        .await
        .unwrap_err();
    assert!(matches!(&error, ListingError::Invalid(f) if f.fields().contains_key("kind")));
}

#[tokio::test]
async fn another_sellers_listing_is_not_found() {
    let world = World::new();
    let seller = world.seller("maker").await;
    let rival = world.seller("rival").await;
    let id = world
        .listing(&seller, ProductKind::Model, "Dragon", "5.00")
        .await;
    let toggled = world.services.my_listings.toggle_active(&rival, id).await;
    assert!(matches!(toggled, Err(ListingError::NotFound)));
    assert!(world.state().products[&id].listing.is_active);
    let toggled = world
        .services
        .my_listings
        .toggle_active(&seller, id)
        .await
        .unwrap();
    assert!(!toggled.view.product.listing.is_active);
}
