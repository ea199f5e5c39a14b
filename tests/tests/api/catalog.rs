//! Category trees: owner management with every tree rule, the public tree and category pages.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_error, expect_json, expect_not_found, spawn_app};

#[tokio::test]
async fn owners_build_the_two_trees_and_the_rules_hold() {
    let app = spawn_app().await;
    let owner = Some(app.owner.token.as_str());
    let minis = app.category("MODEL", "Tabletop Minis", None).await;
    let dragons = app.category("MODEL", "Dragons", Some(&minis)).await;
    let stl = app.category("FILE", "STL Packs", None).await;

    // Subcategory of the other tree.
    let wrong_type = app
        .post(
            "/api/v1/admin/categories",
            owner,
            json!({"type": "FILE", "name": "Bad", "parent_id": minis}),
        )
        .await;
    expect_error(
        wrong_type,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("parent_id"),
    )
    .await;
    // Two levels deep.
    let grandchild = app
        .post(
            "/api/v1/admin/categories",
            owner,
            json!({"type": "MODEL", "name": "Red", "parent_id": dragons}),
        )
        .await;
    expect_error(
        grandchild,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("parent_id"),
    )
    .await;
    // Same slug at the same place.
    let clash = app
        .post(
            "/api/v1/admin/categories",
            owner,
            json!({"type": "MODEL", "name": "tabletop minis"}),
        )
        .await;
    expect_error(
        clash,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("slug"),
    )
    .await;
    // The same name in the other tree is fine.
    app.category("FILE", "Tabletop Minis", None).await;
    // Unknown parent.
    let unknown = app
        .post(
            "/api/v1/admin/categories",
            owner,
            json!({"type": "MODEL", "name": "Orphan", "parent_id": uuid::Uuid::new_v4()}),
        )
        .await;
    expect_error(
        unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("parent_id"),
    )
    .await;

    // A root with children cannot become a child, nor change type.
    let demote = app
        .patch(
            &format!("/api/v1/admin/categories/{minis}"),
            owner,
            json!({"parent_id": stl}),
        )
        .await;
    expect_error(
        demote,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("parent_id"),
    )
    .await;
    let retype = app
        .patch(
            &format!("/api/v1/admin/categories/{minis}"),
            owner,
            json!({"type": "FILE"}),
        )
        .await;
    expect_error(
        retype,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("type"),
    )
    .await;

    // Renaming refreshes the slug; sort order and activity are editable.
    let renamed = app
        .patch(
            &format!("/api/v1/admin/categories/{dragons}"),
            owner,
            json!({"name": "Dragons & Wyrms", "sort_order": 3}),
        )
        .await;
    let renamed = expect_json(renamed, StatusCode::OK).await;
    assert_eq!(renamed["slug"], "dragons-wyrms");
    assert_eq!(renamed["parent_id"], minis.as_str());

    // Non-owners cannot manage categories.
    let buyer = app.register("buyer", false).await;
    let refused = app
        .post(
            "/api/v1/admin/categories",
            Some(&buyer.token),
            json!({"type": "MODEL", "name": "Mine"}),
        )
        .await;
    expect_error(refused, StatusCode::FORBIDDEN, "forbidden", None).await;
    expect_error(
        app.get("/api/v1/admin/categories", Some(&buyer.token))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;

    let all = expect_json(
        app.get("/api/v1/admin/categories", owner).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn the_public_tree_and_category_pages_show_active_things_only() {
    let app = spawn_app().await;
    let owner = Some(app.owner.token.as_str());
    let decor = app.category("MODEL", "Home Decor", None).await;
    let vases = app.category("MODEL", "Vases", Some(&decor)).await;
    let hidden = app.category("MODEL", "Hidden", Some(&decor)).await;
    app.patch(
        &format!("/api/v1/admin/categories/{hidden}"),
        owner,
        json!({"is_active": false}),
    )
    .await;
    let files = app.category("FILE", "STL", None).await;
    app.patch(
        &format!("/api/v1/admin/categories/{files}"),
        owner,
        json!({"sort_order": 1}),
    )
    .await;

    let tree = expect_json(app.get("/api/v1/categories", None).await, StatusCode::OK).await;
    assert_eq!(tree["models"][0]["name"], "Home Decor");
    let children: Vec<_> = tree["models"][0]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(children, [json!("Vases")]);
    assert_eq!(tree["files"][0]["name"], "STL");

    let seller = app.ready_seller("potter").await;
    app.listing(
        &seller,
        json!({"kind": "MODEL", "title": "Root Vase", "category_id": decor, "price": "10.00"}),
    )
    .await;
    app.listing(
        &seller,
        json!({"kind": "MODEL", "title": "Child Vase", "category_id": vases, "price": "12.00"}),
    )
    .await;
    app.listing(
        &seller,
        json!({"kind": "MODEL", "title": "Off Vase", "category_id": vases, "price": "9.00",
                                "is_active": false}),
    )
    .await;

    let page = expect_json(
        app.get(&format!("/api/v1/categories/{decor}?per_page=1"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["category"]["name"], "Home Decor");
    assert_eq!(
        page["products"]["total"], 2,
        "the category and its direct children, active only"
    );
    assert_eq!(page["products"]["per_page"], 1);
    assert_eq!(
        page["products"]["items"][0]["title"], "Child Vase",
        "newest first"
    );
    let child_page = expect_json(
        app.get(&format!("/api/v1/categories/{vases}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(child_page["products"]["total"], 1);

    expect_not_found(app.get(&format!("/api/v1/categories/{hidden}"), None).await).await;
}

#[tokio::test]
async fn categories_in_use_cannot_be_deleted() {
    let app = spawn_app().await;
    let owner = Some(app.owner.token.as_str());
    let toys = app.category("MODEL", "Toys", None).await;
    let puzzles = app.category("MODEL", "Puzzles", Some(&toys)).await;
    let empty = app.category("MODEL", "Empty", None).await;
    let seller = app.ready_seller("toymaker").await;
    app.listing(
        &seller,
        json!({"kind": "MODEL", "title": "Cube", "category_id": puzzles, "price": "5.00"}),
    )
    .await;

    // The root's subcategory has a listing: deleting the root would orphan it.
    expect_error(
        app.delete(&format!("/api/v1/admin/categories/{toys}"), owner)
            .await,
        StatusCode::CONFLICT,
        "category_in_use",
        None,
    )
    .await;
    let tree = expect_json(app.get("/api/v1/categories", None).await, StatusCode::OK).await;
    assert_eq!(
        tree["models"].as_array().unwrap().len(),
        2,
        "nothing was deleted"
    );

    assert_eq!(
        app.delete(&format!("/api/v1/admin/categories/{empty}"), owner)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    expect_not_found(
        app.delete(&format!("/api/v1/admin/categories/{empty}"), owner)
            .await,
    )
    .await;
}
