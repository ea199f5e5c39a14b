//! The catalogue cache: anonymous answers carry ETags and revalidate to 304, every change is
//! visible at once to the instance that made it and within moments to the others, signed-in
//! requests pass by it, and views of cached pages still count.

use adapter_postgres::testing::{execute, query_i64};
use reqwest::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH, VARY};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, eventually, expect_json, png_bytes, spawn_app, titles};

/// An anonymous GET, with `If-None-Match` when given.
async fn get(app: &TestApp, path: &str, etag: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(etag) = etag {
        request = request.header(IF_NONE_MATCH, etag);
    }
    request.send().await.unwrap()
}

fn etag_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(ETAG)
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn anonymous_catalogue_answers_revalidate_to_304_until_something_changes() {
    let app = spawn_app().await;
    let models = app.category("MODEL", "Homeware", None).await;
    let seller = app.ready_seller("potter").await;
    let vase = app.model_listing(&seller, &models, "Vase").await;

    for path in [
        "/api/v1/products?sort=new".to_owned(),
        "/api/v1/home".to_owned(),
        "/api/v1/categories".to_owned(),
        format!("/api/v1/products/{vase}"),
    ] {
        let first = get(&app, &path, None).await;
        assert_eq!(first.status(), StatusCode::OK, "{path}");
        let etag = etag_of(&first);
        assert_eq!(first.headers()[CACHE_CONTROL], "public, no-cache", "{path}");
        assert_eq!(first.headers()[VARY], "Authorization, Cookie", "{path}");
        let body = first.text().await.unwrap();
        let again = get(&app, &path, None).await;
        assert_eq!(
            etag_of(&again),
            etag,
            "{path}: the same answer, the same tag"
        );
        assert_eq!(again.text().await.unwrap(), body, "{path}");
        let unchanged = get(&app, &path, Some(&etag)).await;
        assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(etag_of(&unchanged), etag);
        assert!(
            unchanged.bytes().await.unwrap().is_empty(),
            "{path}: no body"
        );
    }

    // The seller renames the vase: the very next anonymous read shows it, with a new tag.
    let list = "/api/v1/products?sort=new";
    let before = etag_of(&get(&app, list, None).await);
    expect_json(
        app.patch(
            &format!("/api/v1/seller/products/{vase}"),
            Some(&seller.token),
            json!({"title": "Tall vase", "price": "12.00"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let after = get(&app, list, Some(&before)).await;
    assert_eq!(
        after.status(),
        StatusCode::OK,
        "the old tag no longer matches"
    );
    assert_ne!(etag_of(&after), before);
    assert_eq!(titles(&after.json().await.unwrap()), ["Tall vase"]);
    let page: Value = get(&app, &format!("/api/v1/products/{vase}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["price"], "12.00");

    // Deactivated: gone from the list and the page at once.
    expect_json(
        app.patch(
            &format!("/api/v1/seller/products/{vase}"),
            Some(&seller.token),
            json!({"is_active": false}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let list_now: Value = get(&app, list, None).await.json().await.unwrap();
    assert_eq!(list_now["total"], 0);
    assert_eq!(
        get(&app, &format!("/api/v1/products/{vase}"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Its seller still sees it: signed-in requests pass by the cache, and carry no tag.
    let own = app
        .get(&format!("/api/v1/products/{vase}"), Some(&seller.token))
        .await;
    assert_eq!(own.status(), StatusCode::OK);
    assert!(own.headers().get(ETAG).is_none());
}

#[tokio::test]
async fn a_change_committed_elsewhere_reaches_the_cache_through_the_database() {
    let app = spawn_app().await;
    let models = app.category("MODEL", "Homeware", None).await;
    let seller = app.ready_seller("potter").await;
    let vase = app.model_listing(&seller, &models, "Vase").await;
    let list = "/api/v1/products?sort=new";
    let cached = etag_of(&get(&app, list, None).await);
    assert_eq!(
        get(&app, list, Some(&cached)).await.status(),
        StatusCode::NOT_MODIFIED,
        "the answer is cached"
    );
    // Another instance (here: another connection) renames the listing.
    execute(
        &app.db,
        &format!("update products set title = 'Renamed elsewhere' where id = '{vase}'"),
    )
    .await;
    eventually("the other instance's change is served", || async {
        let list: Value = get(&app, list, None).await.json().await.unwrap();
        (titles(&list) == ["Renamed elsewhere"]).then_some(())
    })
    .await;
}

#[tokio::test]
async fn views_of_cached_pages_count_once_per_visitor() {
    let app = spawn_app().await;
    let models = app.category("MODEL", "Homeware", None).await;
    let seller = app.ready_seller("potter").await;
    let vase = app.model_listing(&seller, &models, "Vase").await;
    let page = format!("/api/v1/products/{vase}");
    // Three visitors (told apart by their cart tokens), the first twice: the second and later
    // answers come from the cache, and still count.
    for token in ["cart-one", "cart-one", "cart-two", "cart-three"] {
        let response = app
            .client
            .get(app.url(&page))
            .header("X-Cart-Token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let cached = etag_of(&get(&app, &page, None).await);
    assert_eq!(
        get(&app, &page, Some(&cached)).await.status(),
        StatusCode::NOT_MODIFIED
    );
    app.services.engagement.flush().await.unwrap();
    let views = "select coalesce(sum(views), 0)::int8 from product_daily_stats";
    // Three cart visitors and the anonymous address: four.
    assert_eq!(query_i64(&app.db, views).await, 4);
}

#[tokio::test]
async fn images_are_kept_a_year_and_avatars_revalidate_until_they_change() {
    let app = spawn_app().await;
    let models = app.category("MODEL", "Homeware", None).await;
    let seller = app.ready_seller("potter").await;
    let vase = app.model_listing(&seller, &models, "Vase").await;
    let image = expect_json(
        app.upload(
            &format!("/api/v1/seller/products/{vase}/images"),
            &seller.token,
            "a.png",
            png_bytes(),
            &[("alt_text", "front")],
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let url = image["url"].as_str().unwrap().to_owned();
    let first = get(&app, &url, None).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(
        first.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    let etag = etag_of(&first);
    assert_eq!(first.bytes().await.unwrap().to_vec(), png_bytes());
    let again = get(&app, &url, Some(&etag)).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(etag_of(&again), etag);
    assert!(again.bytes().await.unwrap().is_empty());
    assert_eq!(
        get(&app, &url, Some("\"something else\"")).await.status(),
        StatusCode::OK
    );

    // An avatar keeps its URL when it changes: the old tag stops matching.
    let avatar_of = |bytes: Vec<u8>| {
        let app = &app;
        let token = seller.token.clone();
        async move {
            let uploaded = app
                .upload_with(
                    Method::PUT,
                    "/api/v1/me/avatar",
                    &token,
                    "me.png",
                    bytes,
                    &[],
                )
                .await;
            expect_json(uploaded, StatusCode::OK).await["avatar_url"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let avatar = avatar_of(png_bytes()).await;
    let before = etag_of(&get(&app, &avatar, None).await);
    assert_eq!(
        get(&app, &avatar, Some(&before)).await.status(),
        StatusCode::NOT_MODIFIED
    );
    avatar_of(png_bytes()).await;
    let after = get(&app, &avatar, Some(&before)).await;
    assert_eq!(after.status(), StatusCode::OK, "a new avatar is a new tag");
    assert_ne!(etag_of(&after), before);
}
