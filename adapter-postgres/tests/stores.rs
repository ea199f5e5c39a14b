//! Store tests against a real PostgreSQL: a fresh database per test.
#![allow(clippy::unwrap_used, missing_docs)]

use adapter_postgres::PgStore;
use adapter_postgres::testing::fresh_database;
use marketplace_domain::account::Roles;
use marketplace_domain::catalog::{CategoryType, ValidCategory};
use marketplace_domain::ids::{BlobId, CategoryId, ProductId, UserId};
use marketplace_domain::money::Cents;
use marketplace_domain::pagination::PageRequest;
use marketplace_domain::product::ProductKind;
use marketplace_ports::ports::{
    NewUser, ProductFilter, ProductRecord, Queries, StoreError, UnitOfWork,
};
use time::OffsetDateTime;
use uuid::Uuid;

async fn store() -> PgStore {
    PgStore::connect(fresh_database().await, 4).await.unwrap()
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        id: UserId::from_uuid(Uuid::now_v7()),
        username: name.into(),
        email: String::new(),
        password_hash: "hash".into(),
        roles: Roles {
            is_seller: true,
            ..Roles::default()
        },
        created_at: OffsetDateTime::now_utc(),
    }
}

fn category(category_type: CategoryType, slug: &str, parent: Option<CategoryId>) -> ValidCategory {
    ValidCategory {
        category_type,
        name: slug.into(),
        slug: slug.into(),
        parent_id: parent,
        description: String::new(),
        is_active: true,
        sort_order: 0,
    }
}

fn product(seller: UserId, category: CategoryId, title: &str, slug: &str) -> ProductRecord {
    let now = OffsetDateTime::now_utc();
    ProductRecord {
        id: ProductId::from_uuid(Uuid::now_v7()),
        seller_id: seller,
        kind: ProductKind::Model,
        title: title.into(),
        slug: slug.into(),
        short_description: String::new(),
        description: "A sturdy print".into(),
        category_id: category,
        price: Cents::new(1250),
        is_free: false,
        is_active: true,
        is_featured: false,
        is_trending: false,
        physical: None,
        license_text: None,
        review_count: 0,
        rating_sum: 0,
        created_at: now,
        updated_at: now,
    }
}

#[tokio::test]
async fn usernames_are_unique_whatever_their_case() {
    let store = store().await;
    let mut tx = store.begin().await.unwrap();
    tx.users().insert_user(&new_user("Maker")).await.unwrap();
    let clash = tx
        .users()
        .insert_user(&new_user("mAKER"))
        .await
        .unwrap_err();
    assert_eq!(
        clash,
        StoreError::Conflict {
            constraint: "users_username_lower_key".into()
        }
    );
}

#[tokio::test]
async fn root_category_slugs_are_unique_per_type() {
    let store = store().await;
    let now = OffsetDateTime::now_utc();
    let mut tx = store.begin().await.unwrap();
    let first = CategoryId::from_uuid(Uuid::now_v7());
    tx.categories()
        .insert_category(first, &category(CategoryType::Model, "minis", None), now)
        .await
        .unwrap();
    // Same slug in the other tree is fine; twice as a root of the same tree is not.
    tx.categories()
        .insert_category(
            CategoryId::from_uuid(Uuid::now_v7()),
            &category(CategoryType::File, "minis", None),
            now,
        )
        .await
        .unwrap();
    let clash = tx
        .categories()
        .insert_category(
            CategoryId::from_uuid(Uuid::now_v7()),
            &category(CategoryType::Model, "minis", None),
            now,
        )
        .await
        .unwrap_err();
    assert!(clash.is_conflict_on("categories_type_parent_slug_key"));
}

#[tokio::test]
async fn listings_filter_by_text_kind_and_category_newest_first() {
    let store = store().await;
    let now = OffsetDateTime::now_utc();
    let seller = new_user("maker");
    let root = CategoryId::from_uuid(Uuid::now_v7());
    let child = CategoryId::from_uuid(Uuid::now_v7());
    let mut tx = store.begin().await.unwrap();
    tx.users().insert_user(&seller).await.unwrap();
    tx.categories()
        .insert_category(root, &category(CategoryType::Model, "minis", None), now)
        .await
        .unwrap();
    tx.categories()
        .insert_category(
            child,
            &category(CategoryType::Model, "dragons", Some(root)),
            now,
        )
        .await
        .unwrap();
    let mut older = product(seller.id, root, "Castle Tower 50%_off", "castle");
    older.created_at = now - time::Duration::hours(1);
    tx.products().insert_product(&older).await.unwrap();
    tx.products()
        .insert_product(&product(seller.id, child, "Red Dragon", "dragon"))
        .await
        .unwrap();
    let mut hidden = product(seller.id, child, "Hidden Dragon", "hidden");
    hidden.is_active = false;
    tx.products().insert_product(&hidden).await.unwrap();
    tx.commit().await.unwrap();

    let page = PageRequest::first();
    let all = store
        .list_products(&ProductFilter::default(), page)
        .await
        .unwrap();
    let titles: Vec<_> = all.items.iter().map(|r| r.product.title.as_str()).collect();
    assert_eq!(titles, ["Red Dragon", "Castle Tower 50%_off"]);
    assert_eq!(all.total, 2);

    let text = ProductFilter {
        text: Some("DRAGON".into()),
        ..ProductFilter::default()
    };
    assert_eq!(store.list_products(&text, page).await.unwrap().total, 1);
    let literal = ProductFilter {
        text: Some("50%_".into()),
        ..ProductFilter::default()
    };
    assert_eq!(store.list_products(&literal, page).await.unwrap().total, 1);
    let wildcard = ProductFilter {
        text: Some("%".into()),
        ..ProductFilter::default()
    };
    assert_eq!(
        store.list_products(&wildcard, page).await.unwrap().total,
        1,
        "% matches literally"
    );

    let in_child = ProductFilter {
        categories: Some(vec![child]),
        ..ProductFilter::default()
    };
    assert_eq!(store.list_products(&in_child, page).await.unwrap().total, 1);
    let files = ProductFilter {
        kind: Some(ProductKind::File),
        ..ProductFilter::default()
    };
    assert_eq!(store.list_products(&files, page).await.unwrap().total, 0);
    let managed = ProductFilter {
        seller: Some(seller.id),
        include_inactive: true,
        ..ProductFilter::default()
    };
    assert_eq!(store.list_products(&managed, page).await.unwrap().total, 3);

    let second_page = PageRequest::parse(Some(2), Some(1)).unwrap();
    let page_two = store
        .list_products(&ProductFilter::default(), second_page)
        .await
        .unwrap();
    assert_eq!(page_two.items[0].product.title, "Castle Tower 50%_off");
    assert!(!page_two.items[0].seller.roles.is_owner());
    assert!(page_two.items[0].seller.connect.is_none());
}

#[tokio::test]
async fn blobs_round_trip_across_chunks() {
    let store = store().await;
    let bytes: Vec<u8> = (0..600_000_u32).map(|i| (i % 251) as u8).collect();
    let id = BlobId::from_uuid(Uuid::now_v7());
    let mut tx = store.begin().await.unwrap();
    tx.blobs()
        .insert_blob(id, "model/stl", &bytes, OffsetDateTime::now_utc())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let meta = store.blob_meta(id).await.unwrap().unwrap();
    assert_eq!((meta.size_bytes, meta.chunk_count), (600_000, 3));
    let mut read = Vec::new();
    for seq in 0..meta.chunk_count {
        read.extend(store.blob_chunk(id, seq).await.unwrap().unwrap());
    }
    assert_eq!(read, bytes);
    assert!(store.blob_chunk(id, 3).await.unwrap().is_none());
}

#[tokio::test]
async fn a_dropped_transaction_writes_nothing() {
    let store = store().await;
    let user = new_user("ghost");
    {
        let mut tx = store.begin().await.unwrap();
        tx.users().insert_user(&user).await.unwrap();
    }
    assert!(store.user_profile(user.id).await.unwrap().is_none());
}
