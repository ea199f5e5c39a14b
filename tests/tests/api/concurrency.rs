//! Requests that race: cart writes while the same cart becomes an order.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

/// One item in a user's cart; then, at the same moment, the order is placed and three other
/// products are added — fifty times. Locks are taken in one order everywhere (docs/architecture.md,
/// "Lock order"), so nothing deadlocks: every answer is a 2xx or a 4xx, never a 5xx.
#[tokio::test]
async fn cart_writes_racing_an_order_placement_never_deadlock() {
    let app = spawn_app().await;
    let models = app.category("MODEL", "Homeware", None).await;
    let seller = app.ready_seller("potter").await;
    let mut products = Vec::new();
    for n in 0..4 {
        let listing = app
            .listing(
                &seller,
                json!({"kind": "MODEL", "title": format!("Piece {n}"), "category_id": models, "price": "5.00"}),
            )
            .await;
        products.push(listing["id"].as_str().unwrap().to_owned());
    }
    let buyer = app.register("buyer", false).await;
    let mut placed = 0;
    for _ in 0..50 {
        let (status, _, _) = app.add_to_cart(Some(&buyer), None, &products[0], 1).await;
        assert_eq!(status, StatusCode::OK);
        let order = app
            .client
            .post(app.url("/api/v1/orders"))
            .bearer_auth(&buyer.token)
            .json(&json!({}))
            .send();
        let adds = products[1..].iter().map(|product| {
            app.client
                .post(app.url("/api/v1/cart/items"))
                .bearer_auth(&buyer.token)
                .json(&json!({"product_id": product, "quantity": 1}))
                .send()
        });
        let (order, adds) = tokio::join!(order, futures_util::future::join_all(adds));
        let order = order.unwrap();
        let status = order.status();
        let text = order.text().await.unwrap();
        assert!(
            status.is_success() || status.is_client_error(),
            "order: {status} {text}"
        );
        placed += usize::from(status == StatusCode::CREATED);
        for add in adds {
            let add = add.unwrap();
            let status = add.status();
            let text = add.text().await.unwrap();
            assert!(status.is_success(), "add: {status} {text}");
        }
        // The adds that came after the placement stay in the cart: the next round's order
        // holds those products while the next adds want them.
    }
    assert!(placed > 0);
}
