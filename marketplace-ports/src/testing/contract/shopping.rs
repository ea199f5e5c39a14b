//! The Connect, cart, order and sales stores' contract.

use marketplace_domain::accounts::Roles;
use marketplace_domain::catalog::{CategoryType, ProductKind};
use marketplace_domain::connect::ConnectStatus;
use marketplace_domain::ids::{AssetId, BlobId, CartId, OrderId, OrderItemId, UserId};
use marketplace_domain::money::{BasisPoints, Currency};
use marketplace_domain::orders::{
    CartItem, NewLine, NewOrder, Order, OrderEvent, OrderEventKind, Payment, PricingTerms,
    ShippingAddress, price_order,
};
use marketplace_domain::pagination::PageRequest;

use super::{Subject, at, id, product, seed_category, seed_product, seed_user, seller_roles};
use crate::ports::{AssetRecord, ConnectAccountRecord, OrderFilter, ProductRecord, StoreError};

/// One Connect row per seller, found by its Stripe account.
pub async fn connect_accounts_are_one_per_seller(s: Subject) {
    let seller = seed_user(&s, "maker", seller_roles()).await;
    let mut record = ConnectAccountRecord {
        user_id: seller,
        status: ConnectStatus {
            stripe_account_id: Some("acct_42".into()),
            ..ConnectStatus::default()
        },
        onboarding_started_at: Some(at(1)),
        onboarding_completed_at: None,
        status_event_at: None,
        synced_at: Some(at(1)),
        updated_at: at(1),
    };
    let mut tx = s.uow.begin().await.unwrap();
    let connect = tx.connect().unwrap();
    assert!(connect.get_connect(seller).await.unwrap().is_none());
    connect.insert_connect(&record).await.unwrap();
    record.status.details_submitted = true;
    record.status_event_at = Some(at(2));
    record.updated_at = at(2);
    connect.update_connect(&record).await.unwrap();
    assert_eq!(
        connect.find_connect_by_account("acct_42").await.unwrap(),
        Some(record.clone())
    );
    assert!(
        connect
            .find_connect_by_account("acct_other")
            .await
            .unwrap()
            .is_none()
    );
    let mut stranger = record.clone();
    stranger.user_id = UserId::from_uuid(id());
    assert_eq!(
        connect.update_connect(&stranger).await.unwrap_err(),
        StoreError::NotFound
    );
    tx.commit().await.unwrap();
    let mut tx = s.uow.begin().await.unwrap();
    let twice = tx
        .connect()
        .unwrap()
        .insert_connect(&record)
        .await
        .unwrap_err();
    assert!(
        twice.is_conflict_on("seller_connect_accounts_pkey"),
        "{twice:?}"
    );
    drop(tx);
    let read = s
        .queries
        .connect()
        .unwrap()
        .connect_account(seller)
        .await
        .unwrap();
    assert_eq!(read, Some(record));
}

/// A user has one cart (created on first use); anonymous carts are found by their token digest;
/// lines come with their product and seller, oldest first; clearing remembers the order placed.
pub async fn carts_keep_their_lines_and_remember_the_order(s: Subject) {
    let seller = seed_user(&s, "maker", seller_roles()).await;
    let buyer = seed_user(&s, "buyer", Roles::default()).await;
    let category = seed_category(&s, CategoryType::Model, "minis").await;
    let owl = product(seller, category, ProductKind::Model, "Owl", 1);
    let fox = product(seller, category, ProductKind::Model, "Fox", 2);
    seed_product(&s, &owl).await;
    seed_product(&s, &fox).await;
    let mut tx = s.uow.begin().await.unwrap();
    let carts = tx.carts().unwrap();
    let cart = carts.user_cart(buyer, at(3)).await.unwrap();
    assert_eq!(
        carts.user_cart(buyer, at(4)).await.unwrap().id,
        cart.id,
        "one per user"
    );
    carts.set_quantity(cart.id, fox.id, 1, at(5)).await.unwrap();
    carts.set_quantity(cart.id, owl.id, 2, at(6)).await.unwrap();
    carts.set_quantity(cart.id, fox.id, 3, at(7)).await.unwrap();
    let lines = carts.cart_lines(cart.id).await.unwrap();
    let summary: Vec<(&str, u32)> = lines
        .iter()
        .map(|l| (l.product.listing.title.as_str(), l.quantity))
        .collect();
    assert_eq!(
        summary,
        [("Fox", 3), ("Owl", 2)],
        "oldest line first, quantity replaced"
    );
    assert_eq!(lines[0].seller.id, seller);
    assert_eq!(lines[0].added_at, at(5));
    carts.remove_line(cart.id, fox.id).await.unwrap();
    carts.remove_line(cart.id, fox.id).await.unwrap();
    let order = OrderId::from_uuid(id());
    carts.clear(cart.id, Some(order), at(8)).await.unwrap();
    assert!(carts.cart_lines(cart.id).await.unwrap().is_empty());
    let cleared = carts.user_cart(buyer, at(9)).await.unwrap();
    assert_eq!(
        (cleared.last_order_id, cleared.updated_at),
        (Some(order), at(8))
    );

    let anonymous = CartId::from_uuid(id());
    let created = carts
        .insert_token_cart(anonymous, "digest:t", at(10))
        .await
        .unwrap();
    assert_eq!((created.id, created.user_id), (anonymous, None));
    assert_eq!(
        carts.token_cart("digest:t").await.unwrap().map(|c| c.id),
        Some(anonymous)
    );
    assert!(carts.token_cart("digest:other").await.unwrap().is_none());
    carts.delete_cart(anonymous).await.unwrap();
    assert!(carts.token_cart("digest:t").await.unwrap().is_none());
}

/// An order of one print (seller `a`) and one file (seller `b`), placed at `placed`.
pub(super) fn order(
    buyer: UserId,
    print: &ProductRecord,
    file: &ProductRecord,
    placed: i64,
) -> Order {
    placed_order(Some(buyer), None, print, file, placed)
}

/// As [`order`], by a buyer or a guest.
fn placed_order(
    buyer: Option<UserId>,
    guest_email: Option<&str>,
    print: &ProductRecord,
    file: &ProductRecord,
    placed: i64,
) -> Order {
    let item = |p: &ProductRecord| CartItem {
        product: p.id,
        seller: p.seller_id,
        kind: p.listing.kind,
        unit_price: p.listing.price,
        is_free: false,
        quantity: 1,
    };
    let priced = price_order(
        &[item(print), item(file)],
        &PricingTerms::new(BasisPoints::new(1000).unwrap(), Currency::USD),
    )
    .unwrap();
    let lines = [print, file]
        .iter()
        .map(|p| NewLine {
            id: OrderItemId::from_uuid(id()),
            title: p.listing.title.clone(),
        })
        .collect();
    Order::place(
        NewOrder {
            id: OrderId::from_uuid(id()),
            buyer_id: buyer,
            guest_email: guest_email.map(str::to_owned),
            access_token: "secret".into(),
            priced,
            lines,
            dispute_fee_to_sellers: placed % 2 == 1,
        },
        at(placed),
    )
    .unwrap()
    .0
}

/// Two sellers (`alice` sells a print, `bob` a file) and a buyer.
pub(super) struct Fixture {
    pub(super) buyer: UserId,
    pub(super) print: ProductRecord,
    pub(super) file: ProductRecord,
}

/// Seeds a [`Fixture`].
pub(super) async fn fixture(s: &Subject) -> Fixture {
    let a = seed_user(s, "alice", seller_roles()).await;
    let b = seed_user(s, "bob", seller_roles()).await;
    let buyer = seed_user(s, "buyer", Roles::default()).await;
    let models = seed_category(s, CategoryType::Model, "minis").await;
    let files = seed_category(s, CategoryType::File, "stl").await;
    let print = product(a, models, ProductKind::Model, "Owl", 1);
    let file = product(b, files, ProductKind::File, "Scan", 1);
    seed_product(s, &print).await;
    seed_product(s, &file).await;
    Fixture { buyer, print, file }
}

/// Inserts an order.
pub(super) async fn insert(s: &Subject, order: &Order) {
    let mut tx = s.uow.begin().await.unwrap();
    tx.orders().unwrap().insert_order(order).await.unwrap();
    tx.commit().await.unwrap();
}

/// An order comes back as it was placed, lines in order; what changes (status, payment, checkout,
/// charge, address) is written by `update_order`.
pub async fn orders_round_trip_with_their_lines_and_payment(s: Subject) {
    let f = fixture(&s).await;
    let mut placed = order(f.buyer, &f.print, &f.file, 2);
    insert(&s, &placed).await;
    let mut tx = s.uow.begin().await.unwrap();
    let orders = tx.orders().unwrap();
    assert_eq!(
        orders.get_order_for_update(placed.id).await.unwrap(),
        Some(placed.clone())
    );
    let _ = placed.record_checkout_session(1, "cs_1", Some("https://pay/1".into()), at(3));
    let _ = placed
        .apply_payment(
            &Payment::Stripe {
                payment_intent: Some("pi_1".into()),
            },
            &[],
            at(4),
        )
        .unwrap();
    assert!(placed.remember_charge("ch_1", at(4)));
    let (data, lines) = placed.clone().into_parts();
    let mut data = data;
    data.shipping_address = Some(ShippingAddress {
        name: "Ada".into(),
        line1: "1 Loop Road".into(),
        city: "Cupertino".into(),
        country: "US".into(),
        ..ShippingAddress::default()
    });
    let placed = Order::restore(data, lines);
    orders.update_order(&placed).await.unwrap();
    tx.commit().await.unwrap();
    let read = s.queries.orders().unwrap().order(placed.id).await.unwrap();
    assert_eq!(read, Some(placed.clone()));

    let mut free = order(f.buyer, &f.print, &f.file, 5);
    insert(&s, &free).await;
    let _ = free.apply_payment(&Payment::Free, &[], at(6)).unwrap();
    let mut tx = s.uow.begin().await.unwrap();
    tx.orders().unwrap().update_order(&free).await.unwrap();
    let ghost = order(f.buyer, &f.print, &f.file, 6);
    assert_eq!(
        tx.orders().unwrap().update_order(&ghost).await.unwrap_err(),
        StoreError::NotFound
    );
    tx.commit().await.unwrap();
    let read = s
        .queries
        .orders()
        .unwrap()
        .order(free.id)
        .await
        .unwrap()
        .unwrap();
    assert!(read.paid_free());
}

/// Every Checkout Session an order ever had, its payment intent and its charge find it.
pub async fn orders_are_found_by_any_of_their_stripe_ids(s: Subject) {
    let f = fixture(&s).await;
    let mut placed = order(f.buyer, &f.print, &f.file, 2);
    insert(&s, &placed).await;
    let mut tx = s.uow.begin().await.unwrap();
    let _ = placed.record_checkout_session(1, "cs_old", None, at(3));
    tx.orders().unwrap().update_order(&placed).await.unwrap();
    let _ = placed.record_checkout_session(2, "cs_new", None, at(4));
    let _ = placed
        .apply_payment(
            &Payment::Stripe {
                payment_intent: Some("pi_9".into()),
            },
            &[],
            at(5),
        )
        .unwrap();
    let _ = placed.remember_charge("ch_9", at(5));
    tx.orders().unwrap().update_order(&placed).await.unwrap();
    let orders = tx.orders().unwrap();
    for stripe_id in ["cs_old", "cs_new", "pi_9", "ch_9"] {
        assert_eq!(
            orders.find_order_by_stripe_id(stripe_id).await.unwrap(),
            Some(placed.id),
            "{stripe_id}"
        );
    }
    assert!(
        orders
            .find_order_by_stripe_id("cs_unknown")
            .await
            .unwrap()
            .is_none()
    );
    tx.commit().await.unwrap();
    let queries = s.queries.orders().unwrap();
    assert_eq!(
        queries.order_by_session("cs_old").await.unwrap(),
        Some(placed.id)
    );
    assert!(
        queries.order_by_session("pi_9").await.unwrap().is_none(),
        "sessions only"
    );
}

/// The history keeps its order; lists filter by buyer, seller and payment, newest first; an
/// order's files are its FILE lines' assets.
pub async fn order_history_and_lists(s: Subject) {
    let f = fixture(&s).await;
    let older = order(f.buyer, &f.print, &f.file, 2);
    let mut newer = order(f.buyer, &f.print, &f.file, 3);
    insert(&s, &older).await;
    insert(&s, &newer).await;
    let asset = AssetRecord {
        id: AssetId::from_uuid(id()),
        product_id: f.file.id,
        blob_id: BlobId::from_uuid(id()),
        original_filename: "scan.stl".into(),
        size_bytes: 3,
        created_at: at(1),
    };
    let mut tx = s.uow.begin().await.unwrap();
    tx.blobs()
        .unwrap()
        .insert_blob(asset.blob_id, "model/stl", b"stl", at(1))
        .await
        .unwrap();
    tx.product_media()
        .unwrap()
        .insert_asset(&asset)
        .await
        .unwrap();
    let events = [
        OrderEvent::created(2, newer.total),
        OrderEvent::warning("second"),
        OrderEvent::new(OrderEventKind::Paid, "third"),
    ];
    tx.orders()
        .unwrap()
        .add_events(newer.id, &events, at(4))
        .await
        .unwrap();
    let _ = newer.apply_payment(&Payment::Free, &[], at(5)).unwrap();
    tx.orders().unwrap().update_order(&newer).await.unwrap();
    tx.commit().await.unwrap();
    let orders = s.queries.orders().unwrap();
    let history = orders.order_events(newer.id).await.unwrap();
    let kinds: Vec<OrderEventKind> = history.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            OrderEventKind::Created,
            OrderEventKind::Warning,
            OrderEventKind::Paid
        ]
    );
    assert_eq!(history[1].message, "second");
    let ids = |page: marketplace_domain::pagination::Page<Order>| {
        page.items.into_iter().map(|o| o.id).collect::<Vec<_>>()
    };
    let mine = OrderFilter {
        buyer: Some(f.buyer),
        ..OrderFilter::default()
    };
    let listed = orders
        .list_orders(mine, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(listed.total, 2);
    assert_eq!(listed.items[0].lines().len(), 2, "lists carry the lines");
    assert_eq!(ids(listed), [newer.id, older.id]);
    let paid_of_seller = OrderFilter {
        seller: Some(f.file.seller_id),
        paid_only: true,
        ..OrderFilter::default()
    };
    assert_eq!(
        ids(orders
            .list_orders(paid_of_seller, PageRequest::first())
            .await
            .unwrap()),
        [newer.id]
    );
    let stranger = OrderFilter {
        seller: Some(UserId::from_uuid(id())),
        ..OrderFilter::default()
    };
    assert_eq!(
        orders
            .list_orders(stranger, PageRequest::first())
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(orders.order_assets(newer.id).await.unwrap(), [asset]);
}

/// Sales count the seller's lines of paid orders; the buyer's spending counts paid orders less
/// refunds.
pub async fn sales_figures_count_paid_lines(s: Subject) {
    let f = fixture(&s).await;
    let unpaid = order(f.buyer, &f.print, &f.file, 2);
    let mut paid = order(f.buyer, &f.print, &f.file, 3);
    insert(&s, &unpaid).await;
    insert(&s, &paid).await;
    let _ = paid.apply_payment(&Payment::Free, &[], at(10)).unwrap();
    let mut tx = s.uow.begin().await.unwrap();
    tx.orders().unwrap().update_order(&paid).await.unwrap();
    tx.commit().await.unwrap();
    let sales = s.queries.sales().unwrap();
    let print_seller = f.print.seller_id;
    let summary = sales.seller_sales(print_seller, at(0)).await.unwrap();
    assert_eq!(
        (
            summary.gross.get(),
            summary.net.get(),
            summary.orders,
            summary.units
        ),
        (1250, 1125, 1, 1)
    );
    assert_eq!(
        sales
            .seller_sales(print_seller, at(11))
            .await
            .unwrap()
            .orders,
        0
    );
    let recent = sales.recent_sales(print_seller, 10).await.unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(
        (recent[0].item.title.as_str(), recent[0].paid_at),
        ("Owl", Some(at(10)))
    );
    let buyer = sales.buyer_summary(f.buyer).await.unwrap();
    assert_eq!((buyer.total_spent.get(), buyer.paid_orders), (2500, 1));
}

/// Owners find orders by id, current Stripe id or part of an e-mail (account or guest), and
/// narrow them by status, seller, placing day and flags; rows carry the e-mail and flag codes.
pub async fn owners_find_orders_by_id_stripe_id_e_mail_and_flags(s: Subject) {
    use crate::ports::{OrderLookup, OwnerOrderFilter, StoredFlag};
    use marketplace_domain::orders::OrderStatus;

    let f = fixture(&s).await;
    let mut paid = order(f.buyer, &f.print, &f.file, 2);
    let guest = placed_order(None, Some("guest.person@example.com"), &f.print, &f.file, 3);
    insert(&s, &paid).await;
    insert(&s, &guest).await;
    let mut tx = s.uow.begin().await.unwrap();
    let _ = paid.record_checkout_session(1, "cs_a", None, at(3));
    let _ = paid
        .apply_payment(
            &Payment::Stripe {
                payment_intent: Some("pi_a".into()),
            },
            &[],
            at(4),
        )
        .unwrap();
    let _ = paid.remember_charge("ch_a", at(4));
    tx.orders().unwrap().update_order(&paid).await.unwrap();
    let flags = [
        StoredFlag {
            code: "open_dispute".into(),
            detail: "d".into(),
        },
        StoredFlag {
            code: "charge_mismatch".into(),
            detail: "m".into(),
        },
    ];
    tx.reconciliation()
        .unwrap()
        .replace_flags(paid.id, &flags, at(5))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let orders = s.queries.orders().unwrap();
    let find = |filter: OwnerOrderFilter| async move {
        orders
            .owner_orders(&filter, PageRequest::first())
            .await
            .unwrap()
    };
    let everything = find(OwnerOrderFilter::default()).await;
    assert_eq!(everything.total, 2);
    let listed: Vec<(OrderId, &str, Vec<String>)> = everything
        .items
        .iter()
        .map(|r| (r.order.id, r.email.as_str(), r.flags.clone()))
        .collect();
    assert_eq!(
        listed,
        [
            (guest.id, "guest.person@example.com", vec![]),
            (
                paid.id,
                "buyer@example.com",
                vec!["charge_mismatch".to_owned(), "open_dispute".to_owned()]
            ),
        ]
    );
    assert_eq!(everything.items[1].order.lines().len(), 2);
    let only = |lookup: OrderLookup| OwnerOrderFilter {
        lookup: Some(lookup),
        ..OwnerOrderFilter::default()
    };
    for stripe in ["cs_a", "pi_a", "ch_a"] {
        let found = find(only(OrderLookup::StripeId(stripe.into()))).await;
        assert_eq!(found.items[0].order.id, paid.id, "{stripe}");
        assert_eq!(found.total, 1, "{stripe}");
    }
    assert_eq!(
        find(only(OrderLookup::StripeId("pi_".into()))).await.total,
        0
    );
    assert_eq!(
        find(only(OrderLookup::Id(guest.id))).await.items[0]
            .order
            .id,
        guest.id
    );
    let by_mail = find(only(OrderLookup::Email("PERSON@".into()))).await;
    assert_eq!((by_mail.total, by_mail.items[0].order.id), (1, guest.id));
    assert_eq!(
        find(only(OrderLookup::Email("buyer@".into()))).await.items[0]
            .order
            .id,
        paid.id
    );
    assert_eq!(find(only(OrderLookup::Email("100%".into()))).await.total, 0);
    let flagged = find(OwnerOrderFilter {
        flagged: Some(true),
        ..OwnerOrderFilter::default()
    })
    .await;
    assert_eq!((flagged.total, flagged.items[0].order.id), (1, paid.id));
    let unflagged = find(OwnerOrderFilter {
        flagged: Some(false),
        ..OwnerOrderFilter::default()
    })
    .await;
    assert_eq!(
        (unflagged.total, unflagged.items[0].order.id),
        (1, guest.id)
    );
    let pending = find(OwnerOrderFilter {
        status: Some(OrderStatus::Pending),
        ..OwnerOrderFilter::default()
    })
    .await;
    assert_eq!((pending.total, pending.items[0].order.id), (1, guest.id));
    let placed_late = find(OwnerOrderFilter {
        since: Some(at(3)),
        until: Some(at(4)),
        ..OwnerOrderFilter::default()
    })
    .await;
    assert_eq!(
        (placed_late.total, placed_late.items[0].order.id),
        (1, guest.id)
    );
    let of_seller = find(OwnerOrderFilter {
        seller: Some(f.print.seller_id),
        ..OwnerOrderFilter::default()
    })
    .await;
    assert_eq!(of_seller.total, 2);
    let stranger = find(OwnerOrderFilter {
        seller: Some(UserId::from_uuid(id())),
        ..OwnerOrderFilter::default()
    })
    .await;
    assert_eq!(stranger.total, 0);
}
