//! Seller listings from onboarding gate to public detail, images and assets, and every refusal.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, User, expect_error, expect_json, expect_not_found, png_bytes, spawn_app, stl_bytes,
    titles,
};

struct Catalog {
    minis: String,
    dragons: String,
    stl: String,
}

async fn catalog(app: &TestApp) -> Catalog {
    let minis = app.category("MODEL", "Miniatures", None).await;
    let dragons = app.category("MODEL", "Dragons", Some(&minis)).await;
    let stl = app.category("FILE", "STL Files", None).await;
    Catalog {
        minis,
        dragons,
        stl,
    }
}

async fn listing_count(app: &TestApp, seller: &User) -> u64 {
    let mine = expect_json(
        app.get("/api/v1/seller/products", Some(&seller.token))
            .await,
        StatusCode::OK,
    )
    .await;
    mine["total"].as_u64().unwrap()
}

#[tokio::test]
async fn a_seller_lists_a_model_and_a_file_once_ready_and_buyers_find_them() {
    let app = spawn_app().await;
    let cat = catalog(&app).await;
    let seller = app.register("maker", true).await;
    let model = json!({"kind": "MODEL", "title": "Red Dragon Bust", "category_id": cat.dragons, "price": "24.50",
                       "short_description": "A fierce dragon", "physical": {"material": "PLA", "width_mm": 80}});

    // Not ready yet: listing management is open, creating is not.
    expect_json(
        app.get("/api/v1/seller/products", Some(&seller.token))
            .await,
        StatusCode::OK,
    )
    .await;
    let refused = app
        .post(
            "/api/v1/seller/products",
            Some(&seller.token),
            model.clone(),
        )
        .await;
    expect_error(refused, StatusCode::FORBIDDEN, "connect_not_ready", None).await;
    assert_eq!(listing_count(&app, &seller).await, 0);

    // A half-ready account is still refused.
    let half = app
        .put(
            &format!("/api/v1/admin/sellers/{}/connect", seller.id),
            Some(&app.owner.token),
            json!({"stripe_account_id": "acct_maker1", "details_submitted": true, "charges_enabled": true,
                   "payouts_enabled": false}),
        )
        .await;
    assert_eq!(expect_json(half, StatusCode::OK).await["ready"], false);
    let still = app
        .post(
            "/api/v1/seller/products",
            Some(&seller.token),
            model.clone(),
        )
        .await;
    expect_error(still, StatusCode::FORBIDDEN, "connect_not_ready", None).await;

    app.make_ready(&seller).await;
    let created = app.listing(&seller, model).await;
    assert_eq!(created["slug"], "red-dragon-bust");
    assert_eq!(created["price"], "24.50");
    assert_eq!(created["price_cents"], 2450);
    assert_eq!(created["currency"], "usd");
    assert_eq!(created["kind"], "MODEL");
    assert_eq!(created["seller"]["public_name"], "maker");
    assert_eq!(created["physical"]["material"], "PLA");
    assert_eq!(created["can_buy"], true);
    let model_id = created["id"].as_str().unwrap().to_owned();

    let file = app
        .listing(
            &seller,
            json!({"kind": "FILE", "title": "Dragon STL Pack", "category_id": cat.stl, "is_free": true,
                   "price": "99.00", "license_text": "Personal use"}),
        )
        .await;
    assert_eq!(file["price_cents"], 0, "free forces zero");
    assert_eq!(file["is_free"], true);
    let file_id = file["id"].as_str().unwrap().to_owned();

    // Images: the first becomes primary; a later one can take over.
    let first = app
        .upload(
            &format!("/api/v1/seller/products/{model_id}/images"),
            &seller.token,
            "a.png",
            png_bytes(),
            &[("alt_text", "front")],
        )
        .await;
    let first = expect_json(first, StatusCode::CREATED).await;
    assert_eq!(first["is_primary"], true);
    let second = app
        .upload(
            &format!("/api/v1/seller/products/{model_id}/images"),
            &seller.token,
            "b.png",
            png_bytes(),
            &[("is_primary", "true")],
        )
        .await;
    let second = expect_json(second, StatusCode::CREATED).await;
    assert_eq!(second["is_primary"], true);
    app.upload(
        &format!("/api/v1/seller/products/{file_id}/images"),
        &seller.token,
        "c.png",
        png_bytes(),
        &[],
    )
    .await;

    // The asset goes on the FILE listing only.
    let asset = app
        .upload(
            &format!("/api/v1/seller/products/{file_id}/assets"),
            &seller.token,
            "dragon.stl",
            stl_bytes(),
            &[],
        )
        .await;
    let asset = expect_json(asset, StatusCode::CREATED).await;
    assert_eq!(asset["file_name"], "dragon.stl");
    assert_eq!(asset["size_bytes"], stl_bytes().len());
    let on_model = app
        .upload(
            &format!("/api/v1/seller/products/{model_id}/assets"),
            &seller.token,
            "x.stl",
            stl_bytes(),
            &[],
        )
        .await;
    expect_error(
        on_model,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("file"),
    )
    .await;
    let assets = expect_json(
        app.get(
            &format!("/api/v1/seller/products/{file_id}/assets"),
            Some(&seller.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(assets.as_array().unwrap().len(), 1);
    let download = app
        .get(
            &format!(
                "/api/v1/seller/products/{file_id}/assets/{}",
                asset["id"].as_str().unwrap()
            ),
            Some(&seller.token),
        )
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(
        download.headers()["content-disposition"],
        "attachment; filename=\"dragon.stl\""
    );
    assert_eq!(download.bytes().await.unwrap().to_vec(), stl_bytes());

    // Public list, search, filters and detail.
    let all = expect_json(app.get("/api/v1/products", None).await, StatusCode::OK).await;
    assert_eq!(all["total"], 2);
    assert_eq!(all["items"][0]["title"], "Dragon STL Pack", "newest first");
    let searched = expect_json(
        app.get("/api/v1/products?q=fierce", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(titles(&searched), ["Red Dragon Bust"]);
    let files = expect_json(
        app.get("/api/v1/products?kind=FILE", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(titles(&files), ["Dragon STL Pack"]);
    let in_root = expect_json(
        app.get(&format!("/api/v1/products?category={}", cat.minis), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        titles(&in_root),
        ["Red Dragon Bust"],
        "a category includes its children"
    );
    let sorted = expect_json(
        app.get("/api/v1/products?sort=new&page=2&per_page=1", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(titles(&sorted), ["Red Dragon Bust"]);

    let detail = expect_json(
        app.get(&format!("/api/v1/products/{model_id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["can_buy"], true);
    assert_eq!(detail["avg_rating"], Value::Null);
    assert_eq!(detail["review_count"], 0);
    let images = detail["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    let primary: Vec<_> = images.iter().filter(|i| i["is_primary"] == true).collect();
    assert_eq!(primary.len(), 1, "exactly one primary image");
    assert_eq!(primary[0]["id"], second["id"]);
    assert_eq!(detail["primary_image_url"], primary[0]["url"]);
    let image = app.get(primary[0]["url"].as_str().unwrap(), None).await;
    assert_eq!(image.headers()["content-type"], "image/png");
    let file_detail = expect_json(
        app.get(&format!("/api/v1/products/{file_id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(file_detail["files"][0]["file_name"], "dragon.stl");

    // Deleting the primary image promotes the next one.
    let deleted = app
        .delete(
            &format!(
                "/api/v1/seller/products/{model_id}/images/{}",
                second["id"].as_str().unwrap()
            ),
            Some(&seller.token),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let detail = expect_json(
        app.get(&format!("/api/v1/products/{model_id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["images"].as_array().unwrap().len(), 1);
    assert_eq!(detail["images"][0]["id"], first["id"]);
    assert_eq!(detail["images"][0]["is_primary"], true);

    // Switching the primary image explicitly.
    let third = app
        .upload(
            &format!("/api/v1/seller/products/{model_id}/images"),
            &seller.token,
            "d.png",
            png_bytes(),
            &[],
        )
        .await;
    let third = expect_json(third, StatusCode::CREATED).await;
    assert_eq!(third["is_primary"], false);
    let switched = app
        .post(
            &format!(
                "/api/v1/seller/products/{model_id}/images/{}/primary",
                third["id"].as_str().unwrap()
            ),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(switched.status(), StatusCode::NO_CONTENT);
    let detail = expect_json(
        app.get(&format!("/api/v1/products/{model_id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["primary_image_url"], third["url"]);

    // Asset deletion.
    let removed = app
        .delete(
            &format!(
                "/api/v1/seller/products/{file_id}/assets/{}",
                asset["id"].as_str().unwrap()
            ),
            Some(&seller.token),
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let file_detail = expect_json(
        app.get(&format!("/api/v1/products/{file_id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(file_detail["files"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn another_seller_cannot_touch_my_listings() {
    let app = spawn_app().await;
    let cat = catalog(&app).await;
    let mine = app.ready_seller("alice").await;
    let other = app.ready_seller("mallory").await;
    let listing = app
        .listing(
            &mine,
            json!({"kind": "MODEL", "title": "Vase", "category_id": cat.dragons, "price": "10.00"}),
        )
        .await;
    let id = listing["id"].as_str().unwrap();

    let base = format!("/api/v1/seller/products/{id}");
    expect_not_found(app.get(&base, Some(&other.token)).await).await;
    expect_not_found(
        app.patch(&base, Some(&other.token), json!({"title": "Mine now"}))
            .await,
    )
    .await;
    expect_not_found(
        app.post(
            &format!("{base}/toggle-active"),
            Some(&other.token),
            json!({}),
        )
        .await,
    )
    .await;
    let upload = app
        .upload(
            &format!("{base}/images"),
            &other.token,
            "x.png",
            png_bytes(),
            &[],
        )
        .await;
    expect_not_found(upload).await;

    let detail = expect_json(
        app.get(&format!("/api/v1/products/{id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["title"], "Vase");
    assert_eq!(detail["images"].as_array().unwrap().len(), 0);

    // The owner can manage anyone's listing (and sees every listing).
    let owner = Some(app.owner.token.as_str());
    let renamed = expect_json(
        app.patch(
            &base,
            owner,
            json!({"title": "Curated Vase", "is_featured": true}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["title"], "Curated Vase");
    assert_eq!(renamed["is_featured"], true);
    let all = expect_json(
        app.get("/api/v1/seller/products", owner).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(all["total"], 1);

    // The seller keeps the owner's flag when editing, but cannot set flags.
    let kept = app
        .patch(
            &base,
            Some(&mine.token),
            json!({"description": "Hand finished"}),
        )
        .await;
    assert_eq!(expect_json(kept, StatusCode::OK).await["is_featured"], true);
    let self_promo = app
        .patch(&base, Some(&mine.token), json!({"is_trending": true}))
        .await;
    expect_error(
        self_promo,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("is_trending"),
    )
    .await;

    // Buyers are not sellers.
    let buyer = app.register("buyer", false).await;
    expect_error(
        app.get("/api/v1/seller/products", Some(&buyer.token)).await,
        StatusCode::FORBIDDEN,
        "not_a_seller",
        None,
    )
    .await;
}

#[tokio::test]
async fn inactive_listings_are_hidden_from_the_public_but_not_from_their_seller() {
    let app = spawn_app().await;
    let cat = catalog(&app).await;
    let seller = app.ready_seller("maker").await;
    let listing = app
        .listing(&seller, json!({"kind": "MODEL", "title": "Prototype", "category_id": cat.dragons, "price": "3.00"}))
        .await;
    let id = listing["id"].as_str().unwrap();
    let toggled = app
        .post(
            &format!("/api/v1/seller/products/{id}/toggle-active"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(
        expect_json(toggled, StatusCode::OK).await["is_active"],
        false
    );

    assert_eq!(
        expect_json(app.get("/api/v1/products", None).await, StatusCode::OK).await["total"],
        0
    );
    expect_not_found(app.get(&format!("/api/v1/products/{id}"), None).await).await;
    let stranger = app.register("stranger", false).await;
    expect_not_found(
        app.get(&format!("/api/v1/products/{id}"), Some(&stranger.token))
            .await,
    )
    .await;
    let own_view = expect_json(
        app.get(&format!("/api/v1/products/{id}"), Some(&seller.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(own_view["is_active"], false);
    assert_eq!(
        listing_count(&app, &seller).await,
        1,
        "listing management shows inactive listings"
    );

    // A seller whose account stops being ready keeps the listing, but it cannot be bought.
    app.put(
        &format!("/api/v1/admin/sellers/{}/connect", seller.id),
        Some(&app.owner.token),
        json!({"stripe_account_id": "acct_maker", "details_submitted": true, "charges_enabled": false, "payouts_enabled": true}),
    )
    .await;
    let owner = Some(app.owner.token.as_str());
    app.post(
        &format!("/api/v1/seller/products/{id}/toggle-active"),
        owner,
        json!({}),
    )
    .await;
    let public = expect_json(
        app.get(&format!("/api/v1/products/{id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(public["can_buy"], false);
}

#[tokio::test]
async fn bad_listing_input_is_refused_with_field_messages_and_changes_nothing() {
    let app = spawn_app().await;
    let cat = catalog(&app).await;
    let seller = app.ready_seller("maker").await;
    let create = |body: Value| {
        let app = &app;
        let token = seller.token.clone();
        async move {
            app.post("/api/v1/seller/products", Some(&token), body)
                .await
        }
    };

    let wrong_tree =
        create(json!({"kind": "FILE", "title": "A", "category_id": cat.dragons, "price": "1.00"}))
            .await;
    expect_error(
        wrong_tree,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("category_id"),
    )
    .await;
    let negative = create(
        json!({"kind": "MODEL", "title": "A", "category_id": cat.dragons, "price": "-5.00"}),
    )
    .await;
    expect_error(
        negative,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("price"),
    )
    .await;
    let zero =
        create(json!({"kind": "MODEL", "title": "A", "category_id": cat.dragons, "price": "0"}))
            .await;
    expect_error(
        zero,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("price"),
    )
    .await;
    let precise = create(
        json!({"kind": "MODEL", "title": "A", "category_id": cat.dragons, "price": "1.005"}),
    )
    .await;
    expect_error(
        precise,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("price"),
    )
    .await;
    let numeric =
        create(json!({"kind": "MODEL", "title": "A", "category_id": cat.dragons, "price": 5}))
            .await;
    expect_error(
        numeric,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("price"),
    )
    .await;
    let no_title =
        create(json!({"kind": "MODEL", "title": " ", "category_id": cat.dragons, "price": "1.00"}))
            .await;
    expect_error(
        no_title,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("title"),
    )
    .await;
    let long_short = create(
        json!({"kind": "MODEL", "title": "A", "category_id": cat.dragons, "price": "1.00",
                                   "short_description": "x".repeat(281)}),
    )
    .await;
    expect_error(
        long_short,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("short_description"),
    )
    .await;
    let missing_kind =
        create(json!({"title": "A", "category_id": cat.dragons, "price": "1.00"})).await;
    expect_error(
        missing_kind,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("kind"),
    )
    .await;
    let bad_kind = create(
        json!({"kind": "STATUE", "title": "A", "category_id": cat.dragons, "price": "1.00"}),
    )
    .await;
    expect_error(
        bad_kind,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("kind"),
    )
    .await;
    let bad_dimension = create(
        json!({"kind": "MODEL", "title": "A", "category_id": cat.dragons, "price": "1.00",
                                      "physical": {"width_mm": "wide"}}),
    )
    .await;
    expect_error(
        bad_dimension,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("physical.width_mm"),
    )
    .await;
    let malformed = app
        .client
        .post(app.url("/api/v1/seller/products"))
        .bearer_auth(&seller.token)
        .header("content-type", "application/json")
        .body("{\"kind\": \"MODEL\", ")
        .send()
        .await
        .unwrap();
    expect_error(malformed, StatusCode::BAD_REQUEST, "malformed_json", None).await;
    assert_eq!(listing_count(&app, &seller).await, 0, "nothing was created");

    // Edits are checked the same way and a refused edit changes nothing.
    let listing = app
        .listing(
            &seller,
            json!({"kind": "MODEL", "title": "Good", "category_id": cat.dragons, "price": "8.00"}),
        )
        .await;
    let id = listing["id"].as_str().unwrap();
    let path = format!("/api/v1/seller/products/{id}");
    let to_file_tree = app
        .patch(
            &path,
            Some(&seller.token),
            json!({"category_id": cat.stl, "title": "Changed"}),
        )
        .await;
    expect_error(
        to_file_tree,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("category_id"),
    )
    .await;
    let kind_change = app
        .patch(&path, Some(&seller.token), json!({"kind": "FILE"}))
        .await;
    expect_error(
        kind_change,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("kind"),
    )
    .await;
    let negative_edit = app
        .patch(&path, Some(&seller.token), json!({"price": "-1"}))
        .await;
    expect_error(
        negative_edit,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("price"),
    )
    .await;
    let unchanged = expect_json(app.get(&path, Some(&seller.token)).await, StatusCode::OK).await;
    assert_eq!(
        (unchanged["title"].clone(), unchanged["price"].clone()),
        (json!("Good"), json!("8.00"))
    );

    // A valid edit re-derives the slug from the new title, numbering it when taken.
    app.listing(
        &seller,
        json!({"kind": "MODEL", "title": "Better", "category_id": cat.dragons, "price": "1.00"}),
    )
    .await;
    let edited = expect_json(
        app.patch(
            &path,
            Some(&seller.token),
            json!({"title": "Better", "price": "9.99"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["slug"], "better-2");
    assert_eq!(edited["price_cents"], 999);
    let explicit = app
        .patch(&path, Some(&seller.token), json!({"slug": "better"}))
        .await;
    expect_error(
        explicit,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("slug"),
    )
    .await;
}

#[tokio::test]
async fn uploads_are_checked_for_type_and_size() {
    let app = spawn_app().await;
    let cat = catalog(&app).await;
    let seller = app.ready_seller("maker").await;
    let listing = app
        .listing(
            &seller,
            json!({"kind": "FILE", "title": "Pack", "category_id": cat.stl, "price": "2.00"}),
        )
        .await;
    let id = listing["id"].as_str().unwrap();

    let mut huge = png_bytes();
    huge.resize(6 * 1024 * 1024, 0);
    let too_big = app
        .upload(
            &format!("/api/v1/seller/products/{id}/images"),
            &seller.token,
            "big.png",
            huge,
            &[],
        )
        .await;
    expect_error(
        too_big,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    )
    .await;
    let fake = app
        .upload(
            &format!("/api/v1/seller/products/{id}/images"),
            &seller.token,
            "fake.png",
            b"GIF-not-really".to_vec(),
            &[],
        )
        .await;
    expect_error(
        fake,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("file"),
    )
    .await;
    let exe = app
        .upload(
            &format!("/api/v1/seller/products/{id}/assets"),
            &seller.token,
            "run.exe",
            b"MZ".to_vec(),
            &[],
        )
        .await;
    expect_error(
        exe,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("file"),
    )
    .await;
    let empty = app
        .upload(
            &format!("/api/v1/seller/products/{id}/assets"),
            &seller.token,
            "a.stl",
            Vec::new(),
            &[],
        )
        .await;
    expect_error(
        empty,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("file"),
    )
    .await;
    // A request body over the upload limit is refused before it is read.
    let over_limit = vec![0_u8; 52 * 1024 * 1024];
    let body_too_big = app
        .upload(
            &format!("/api/v1/seller/products/{id}/assets"),
            &seller.token,
            "a.stl",
            over_limit,
            &[],
        )
        .await;
    expect_error(
        body_too_big,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    )
    .await;

    let detail = expect_json(
        app.get(
            &format!("/api/v1/seller/products/{id}"),
            Some(&seller.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        detail["images"].as_array().unwrap().len(),
        0,
        "nothing was stored"
    );
    assert_eq!(detail["files"].as_array().unwrap().len(), 0);
}
