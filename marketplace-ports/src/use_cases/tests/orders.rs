//! Placing, paying and reading orders.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use marketplace_domain::cart::CartRefusal;
use marketplace_domain::catalog::ProductKind;
use marketplace_domain::money::Cents;
use marketplace_domain::orders::{CheckoutPaymentStatus, OrderEventKind, OrderStatus};
use time::Duration;

use super::World;
use marketplace_domain::ids::ProductId;

use crate::ports::{AssetRecord, CheckoutSession, CheckoutSessionStatus, JobKind};
use crate::use_cases::cart::CartOwner;
use crate::use_cases::orders::{
    CheckoutError, CheckoutOutcome, OrderAccess, OrderReadError, PlaceOrderError, ReturnUrls,
};
use crate::use_cases::{Actor, ErrorKind, UploadedFile, UseCaseError};

fn as_user(actor: &Actor) -> OrderAccess<'_> {
    OrderAccess {
        actor: Some(actor),
        token: None,
    }
}

fn with_token(token: &str) -> OrderAccess<'_> {
    OrderAccess {
        actor: None,
        token: Some(token),
    }
}

fn session(id: &str, status: CheckoutSessionStatus) -> CheckoutSession {
    CheckoutSession {
        id: id.to_owned(),
        url: Some(format!("https://checkout.test/{id}")),
        status,
        payment_status: CheckoutPaymentStatus::Unpaid,
        payment_intent: None,
        expires_at: None,
    }
}

#[tokio::test]
async fn a_guest_needs_an_email_and_an_empty_cart_places_nothing() {
    let world = World::new();
    let seller = world.seller("maker").await;
    let print = world
        .listing(&seller, ProductKind::Model, "Owl", "12.50")
        .await;
    let view = world
        .services
        .cart
        .add(
            CartOwner {
                actor: None,
                token: None,
            },
            print,
            1,
        )
        .await
        .unwrap();
    let owner = CartOwner {
        actor: None,
        token: view.token.as_deref(),
    };
    let placement = &world.services.order_placement;
    for email in [None, Some(" "), Some("not-an-address")] {
        let error = placement.place(owner, email).await.unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::Invalid(f) if f.fields().contains_key("guest_email")),
            "{email:?}: {error:?}"
        );
    }
    let buyer = world.buyer("buyer").await;
    let empty = CartOwner {
        actor: Some(&buyer),
        token: None,
    };
    let error = placement.place(empty, None).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict { code: "cart_empty" });
    assert!(world.state().orders.is_empty());
}

#[tokio::test]
async fn placing_prices_the_cart_empties_it_and_a_second_click_returns_the_same_order() {
    let world = World::new();
    let alice = world.seller("alice").await;
    let bob = world.seller("bob").await;
    let buyer = world.buyer("buyer").await;
    let print = world
        .listing(&alice, ProductKind::Model, "Owl", "12.50")
        .await;
    let file = world.listing(&bob, ProductKind::File, "Scan", "3.05").await;
    let order = world.place(Some(&buyer), &[(print, 2), (file, 1)]).await;
    assert_eq!(
        (order.subtotal, order.total),
        (Cents::new(2805), Cents::new(2805))
    );
    let money: Vec<(i64, i64, i64)> = order
        .lines()
        .iter()
        .map(|l| (l.gross.get(), l.fee.get(), l.net.get()))
        .collect();
    assert_eq!(
        money,
        [(2500, 250, 2250), (305, 31, 274)],
        "10 % fee, half up per line"
    );
    assert_eq!(order.status, OrderStatus::Pending);
    let state = world.state();
    assert!(state.cart_lines.is_empty(), "the cart was emptied");
    let events: Vec<OrderEventKind> = state.order_events.iter().map(|(_, e)| e.kind).collect();
    assert_eq!(events, [OrderEventKind::Created]);

    let owner = CartOwner {
        actor: Some(&buyer),
        token: None,
    };
    let placement = &world.services.order_placement;
    // A double click finds the cart empty: it never hands out the order placed from it.
    let again = placement.place(owner, None).await.unwrap_err();
    assert!(matches!(again, PlaceOrderError::EmptyCart));
    assert!(matches!(
        again.kind(),
        ErrorKind::Conflict { code: "cart_empty" }
    ));
    assert_eq!(world.state().orders.len(), 1);
}

#[tokio::test]
async fn a_line_that_cannot_be_bought_refuses_the_whole_order() {
    let world = World::new();
    let (seller, buyer, print) = world.shop().await;
    let owner = CartOwner {
        actor: Some(&buyer),
        token: None,
    };
    world.services.cart.add(owner, print, 1).await.unwrap();
    world.set_connect(seller.user_id, "acct_maker", false).await;
    let error = world
        .services
        .order_placement
        .place(owner, None)
        .await
        .unwrap_err();
    assert!(matches!(
        &error,
        PlaceOrderError::Refused {
            reason: CartRefusal::SellerNotReady,
            ..
        }
    ));
    let state = world.state();
    assert!(state.orders.is_empty());
    assert_eq!(state.cart_lines.len(), 1, "the cart is kept");
}

#[tokio::test]
async fn a_free_order_is_paid_at_once_without_stripe() {
    let world = World::new();
    let seller = world.seller("maker").await;
    let free = world.free_file(&seller).await;
    let order = world.place(None, &[(free, 1)]).await;
    let outcome = world
        .services
        .checkout
        .checkout(
            order.id,
            with_token(&order.access_token),
            &ReturnUrls::default(),
        )
        .await
        .unwrap();
    assert_eq!(outcome, CheckoutOutcome::Paid);
    let state = world.state();
    let paid = &state.orders[&order.id];
    assert!(paid.paid_free());
    let jobs: Vec<&JobKind> = state.jobs.iter().map(|j| &j.record.kind).collect();
    assert_eq!(
        jobs,
        [&JobKind::OrderMail { order: order.id }],
        "a guest's mail, no payout"
    );
}

#[tokio::test]
async fn a_paid_order_opens_one_checkout_session_and_reuses_it_while_open() {
    let retrievals = Arc::new(AtomicUsize::new(0));
    let seen = retrievals.clone();
    let world = World::with(move |stripe| {
        stripe
            .expect_create_checkout_session()
            .times(2)
            .returning(|request, key| {
                let attempt = key.rsplit(':').next().unwrap_or_default();
                assert_eq!(
                    key,
                    format!("checkout:{}:{attempt}", request.client_reference_id)
                );
                assert_eq!(request.lines.len(), 1);
                assert_eq!(request.lines[0].unit_amount, Cents::new(1250));
                assert_eq!(
                    request.shipping_countries.as_deref(),
                    Some(&["US".to_owned()][..])
                );
                assert_eq!(request.metadata["order_id"], request.client_reference_id);
                Ok(session(
                    &format!("cs_{attempt}"),
                    CheckoutSessionStatus::Open,
                ))
            });
        stripe
            .expect_retrieve_checkout_session()
            .times(2)
            .returning(move |id| {
                let status = match seen.fetch_add(1, Ordering::SeqCst) {
                    0 => CheckoutSessionStatus::Open,
                    _ => CheckoutSessionStatus::Expired,
                };
                Ok(session(id, status))
            });
    });
    let (_, buyer, print) = world.shop().await;
    let order = world.place(Some(&buyer), &[(print, 1)]).await;
    let checkout = &world.services.checkout;
    let redirect = |url: &str| CheckoutOutcome::Redirect {
        url: url.to_owned(),
    };
    let first = checkout
        .checkout(order.id, as_user(&buyer), &ReturnUrls::default())
        .await
        .unwrap();
    assert_eq!(first, redirect("https://checkout.test/cs_1"));
    let again = checkout
        .checkout(order.id, as_user(&buyer), &ReturnUrls::default())
        .await
        .unwrap();
    assert_eq!(again, first, "the open session is reused");
    let replaced = checkout
        .checkout(order.id, as_user(&buyer), &ReturnUrls::default())
        .await
        .unwrap();
    assert_eq!(
        replaced,
        redirect("https://checkout.test/cs_2"),
        "expired: a new one"
    );
    let stored = &world.state().orders[&order.id];
    assert_eq!(
        (
            stored.checkout.session_id.as_deref(),
            stored.checkout.attempt
        ),
        (Some("cs_2"), 2)
    );
    assert_eq!(retrievals.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn sellers_not_ready_block_payment_except_for_owners() {
    let world = World::new();
    let seller = world.seller("maker").await;
    let buyer = world.buyer("buyer").await;
    let owner = world.owner().await;
    let free = world.free_file(&seller).await;
    let id = free;
    let order = world.place(Some(&buyer), &[(id, 1)]).await;
    let owners_order = world.place(Some(&owner), &[(id, 1)]).await;
    world.set_connect(seller.user_id, "acct_maker", false).await;
    let checkout = &world.services.checkout;
    let error = checkout
        .checkout(order.id, as_user(&buyer), &ReturnUrls::default())
        .await
        .unwrap_err();
    assert!(matches!(&error, CheckoutError::SellersNotReady(names) if names == &["maker"]));
    assert_eq!(
        error.kind(),
        ErrorKind::Conflict {
            code: "sellers_not_ready"
        }
    );
    assert_eq!(world.state().orders[&order.id].status, OrderStatus::Pending);
    let paid = checkout
        .checkout(owners_order.id, as_user(&owner), &ReturnUrls::default())
        .await
        .unwrap();
    assert_eq!(paid, CheckoutOutcome::Paid);
    let error = checkout
        .checkout(owners_order.id, as_user(&owner), &ReturnUrls::default())
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        CheckoutError::NotPayable(OrderStatus::Paid)
    ));
}

#[tokio::test]
async fn others_get_not_found_and_guests_need_their_token() {
    let world = World::new();
    let (seller, buyer, print) = world.shop().await;
    let stranger = world.buyer("stranger").await;
    let owner = world.owner().await;
    let mine = world.place(Some(&buyer), &[(print, 1)]).await;
    let guests = world.place(None, &[(print, 1)]).await;
    let orders = &world.services.orders;
    assert!(orders.get(mine.id, as_user(&buyer)).await.is_ok());
    assert!(
        orders.get(mine.id, as_user(&owner)).await.is_ok(),
        "staff see every order"
    );
    // So does an owner by the owner flag alone (owner = staff, superuser or the flag).
    let flag_only = Actor {
        roles: marketplace_domain::accounts::Roles {
            is_owner: true,
            ..marketplace_domain::accounts::Roles::default()
        },
        ..owner.clone()
    };
    let whole = orders.get(mine.id, as_user(&flag_only)).await.unwrap();
    assert_eq!(
        whole.view.audience,
        crate::use_cases::orders::Audience::Staff,
        "the whole order, sellers' money included"
    );
    for access in [
        as_user(&stranger),
        as_user(&seller),
        with_token(&mine.access_token),
    ] {
        let error = orders.get(mine.id, access).await.unwrap_err();
        assert!(matches!(error, OrderReadError::NotFound), "{error:?}");
    }
    let detail = orders
        .get(guests.id, with_token(&guests.access_token))
        .await
        .unwrap();
    assert_eq!(
        detail.access_token.as_deref(),
        Some(guests.access_token.as_str())
    );
    let error = orders
        .get(guests.id, with_token("guess"))
        .await
        .unwrap_err();
    assert!(matches!(error, OrderReadError::NotFound));
    let checkout = world
        .services
        .checkout
        .checkout(mine.id, as_user(&stranger), &ReturnUrls::default())
        .await;
    assert!(
        matches!(checkout, Err(CheckoutError::NotFound)),
        "nor pay it"
    );
    let by_staff = world
        .services
        .checkout
        .checkout(mine.id, as_user(&owner), &ReturnUrls::default())
        .await;
    assert!(
        matches!(by_staff, Err(CheckoutError::NotFound)),
        "staff see it but do not pay someone else's order"
    );
    let unpaid = orders.seller_order(&seller, mine.id).await;
    assert!(
        matches!(unpaid, Err(OrderReadError::NotFound)),
        "sellers see paid orders"
    );
}

/// A seller `maker` with a 3.00 file "Scan" (one asset, `scan.stl`, 10 bytes), and a buyer.
async fn scan_for_sale(world: &World) -> (Actor, Actor, ProductId, AssetRecord) {
    let seller = world.seller("maker").await;
    let buyer = world.buyer("buyer").await;
    let file = world
        .listing(&seller, ProductKind::File, "Scan", "3.00")
        .await;
    let asset = world
        .services
        .listing_media
        .add_asset(
            &seller,
            file,
            UploadedFile {
                file_name: "scan.stl".to_owned(),
                bytes: b"solid scan".to_vec(),
            },
        )
        .await
        .unwrap();
    (seller, buyer, file, asset)
}

#[tokio::test]
async fn downloads_wait_for_payment() {
    let world = World::new();
    let (_, buyer, file, asset) = scan_for_sale(&world).await;
    let order = world.place(Some(&buyer), &[(file, 1)]).await;
    let orders = &world.services.orders;
    let error = orders
        .download(order.id, asset.id, as_user(&buyer))
        .await
        .unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Forbidden {
            code: "order_not_paid"
        }
    );
    world.pay(&order, 1).await;
    let download = orders
        .download(order.id, asset.id, as_user(&buyer))
        .await
        .unwrap();
    assert_eq!(
        (download.file_name.as_str(), download.blob.size_bytes),
        ("scan.stl", 10)
    );
    let detail = orders.get(order.id, as_user(&buyer)).await.unwrap();
    assert_eq!(detail.downloads, [asset]);
    let stranger = world.buyer("stranger").await;
    let error = orders
        .download(order.id, detail.downloads[0].id, as_user(&stranger))
        .await;
    assert!(matches!(error, Err(OrderReadError::NotFound)));
}

#[tokio::test]
async fn an_entitlement_counts_downloads_until_its_limit_expiry_or_full_refund() {
    let world = World::with(|stripe| {
        super::jobs::stripe_transfers(stripe, Vec::new());
    });
    let owner = world.owner().await;
    world
        .services
        .site_admin
        .update_site_config(
            &owner,
            rust_decimal::Decimal::TEN,
            "usd",
            &[],
            false,
            marketplace_domain::entitlements::DownloadPolicy {
                limit: Some(2),
                expiry_days: Some(7),
            },
        )
        .await
        .unwrap();
    let (seller, buyer, file, asset) = scan_for_sale(&world).await;
    let order = world.place(Some(&buyer), &[(file, 1)]).await;
    world.pay(&order, 1).await;
    let orders = &world.services.orders;
    for _ in 0..2 {
        orders
            .download(order.id, asset.id, as_user(&buyer))
            .await
            .unwrap();
    }
    let refused = |error: OrderReadError| error.kind();
    let third = orders.download(order.id, asset.id, as_user(&buyer)).await;
    assert_eq!(
        refused(third.unwrap_err()),
        ErrorKind::Forbidden {
            code: "download_limit_reached"
        }
    );
    orders
        .download(order.id, asset.id, as_user(&owner))
        .await
        .expect("staff look at the file without using the buyer's downloads");
    let detail = orders.get(order.id, as_user(&buyer)).await.unwrap();
    let entitlement = detail.entitlements[0].entitlement;
    assert_eq!(
        (entitlement.downloads, entitlement.remaining()),
        (2, Some(0))
    );
    let log = orders
        .downloads(
            order.id,
            as_user(&buyer),
            marketplace_domain::pagination::PageRequest::first(),
        )
        .await
        .unwrap();
    assert_eq!(
        log.total, 3,
        "every download is logged, not the refused one"
    );
    assert_eq!(
        log.items.iter().filter(|d| d.counted).count(),
        2,
        "staff's is not counted"
    );
    assert_eq!(
        (log.items[0].bytes, log.items[0].user_id),
        (10, Some(owner.user_id))
    );
    let counts = orders
        .seller_downloads(
            &seller,
            marketplace_domain::pagination::PageRequest::first(),
        )
        .await
        .unwrap();
    assert_eq!(
        (counts.items[0].product_id, counts.items[0].downloads),
        (file, 2)
    );

    // Another purchase of the same file: expired after 7 days, revoked by a full refund.
    let again = world.place(Some(&buyer), &[(file, 1)]).await;
    world.pay(&again, 2).await;
    world.clock.advance(Duration::days(7));
    let late = orders.download(again.id, asset.id, as_user(&buyer)).await;
    assert_eq!(
        refused(late.unwrap_err()),
        ErrorKind::Forbidden {
            code: "entitlement_expired"
        }
    );
    let mut refund = world.refund("re_file", 300);
    refund.payment_intent = Some("pi_2".into());
    refund.charge = None;
    refund.order_id = Some(again.id.to_string());
    world
        .deliver_refund("evt_re", "refund.created", refund)
        .await;
    let revoked = orders.download(again.id, asset.id, as_user(&buyer)).await;
    assert_eq!(
        refused(revoked.unwrap_err()),
        ErrorKind::Forbidden {
            code: "entitlement_revoked"
        }
    );
    let detail = orders.get(again.id, as_user(&buyer)).await.unwrap();
    assert!(detail.entitlements[0].entitlement.revoked);
    assert!(detail.downloads.is_empty(), "no links to revoked files");
}
