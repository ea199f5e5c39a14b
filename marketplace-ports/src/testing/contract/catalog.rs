//! The catalog, listings and files stores' contract.

use marketplace_domain::accounts::Roles;
use marketplace_domain::catalog::{CategoryType, ProductKind};
use marketplace_domain::connect::ConnectStatus;
use marketplace_domain::ids::{AssetId, BlobId, CategoryId, ProductId, ProductImageId};
use marketplace_domain::pagination::PageRequest;

use super::{
    Subject, at, id, product, root_category, seed_category, seed_product, seed_user, seller_roles,
};
use crate::ports::{
    AssetRecord, ConnectAccountRecord, ListingOrder, ProductFilter, ProductImageRecord,
    ProductRecord, StoreError,
};

/// A category slug is unique per (type, parent), not across trees.
pub async fn category_slugs_are_unique_per_place_in_the_tree(s: Subject) {
    let minis = seed_category(&s, CategoryType::Model, "minis").await;
    let mut tx = s.uow.begin().await.unwrap();
    let categories = tx.categories().unwrap();
    let clash = categories
        .insert_category(
            CategoryId::from_uuid(id()),
            &root_category(CategoryType::Model, "minis"),
            at(1),
        )
        .await
        .unwrap_err();
    assert!(
        clash.is_conflict_on("categories_type_parent_slug_key"),
        "{clash:?}"
    );
    drop(tx);
    let mut tx = s.uow.begin().await.unwrap();
    let categories = tx.categories().unwrap();
    categories
        .insert_category(
            CategoryId::from_uuid(id()),
            &root_category(CategoryType::File, "minis"),
            at(1),
        )
        .await
        .expect("another tree may use the slug");
    let mut child = root_category(CategoryType::Model, "minis");
    child.parent_id = Some(minis);
    let child_id = CategoryId::from_uuid(id());
    categories
        .insert_category(child_id, &child, at(1))
        .await
        .expect("another parent may use the slug");
    let usage = categories.category_usage(minis).await.unwrap();
    assert!(usage.has_children && !usage.has_products);
    let mut renamed = root_category(CategoryType::Model, "figures");
    renamed.sort_order = 3;
    categories
        .update_category(minis, &renamed, at(2))
        .await
        .unwrap();
    let stored = categories
        .get_category_for_update(minis)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.slug.as_str(), stored.sort_order), ("figures", 3));
    assert_eq!((stored.created_at, stored.updated_at), (at(0), at(2)));
    let missing = categories
        .update_category(CategoryId::from_uuid(id()), &renamed, at(2))
        .await
        .unwrap_err();
    assert_eq!(missing, StoreError::NotFound);
}

/// Deleting a root deletes its children, unless listings use one of them.
pub async fn categories_in_use_cannot_be_deleted_and_children_go_with_their_root(s: Subject) {
    let seller = seed_user(&s, "maker", seller_roles()).await;
    let root = seed_category(&s, CategoryType::Model, "minis").await;
    let mut child = root_category(CategoryType::Model, "dragons");
    child.parent_id = Some(root);
    let child_id = CategoryId::from_uuid(id());
    let mut tx = s.uow.begin().await.unwrap();
    tx.categories()
        .unwrap()
        .insert_category(child_id, &child, at(1))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let listing = product(seller, child_id, ProductKind::Model, "Owl", 1);
    seed_product(&s, &listing).await;
    let mut tx = s.uow.begin().await.unwrap();
    let in_use = tx
        .categories()
        .unwrap()
        .delete_category(root)
        .await
        .unwrap_err();
    assert!(
        in_use.is_conflict_on("products_category_id_fkey"),
        "{in_use:?}"
    );
    drop(tx);

    let other_root = seed_category(&s, CategoryType::File, "files").await;
    let mut sub = root_category(CategoryType::File, "stl");
    sub.parent_id = Some(other_root);
    let sub_id = CategoryId::from_uuid(id());
    let mut tx = s.uow.begin().await.unwrap();
    tx.categories()
        .unwrap()
        .insert_category(sub_id, &sub, at(1))
        .await
        .unwrap();
    tx.categories()
        .unwrap()
        .delete_category(other_root)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let catalog = s.queries.catalog().unwrap();
    assert!(catalog.category(other_root).await.unwrap().is_none());
    assert!(
        catalog.category(sub_id).await.unwrap().is_none(),
        "children go too"
    );
    assert!(catalog.category(child_id).await.unwrap().is_some());
}

/// The public tree: active roots (models first) with their active children, by sort order then
/// name; inactive ones are left out.
pub async fn the_public_tree_has_active_roots_and_children_in_order(s: Subject) {
    let files = seed_category(&s, CategoryType::File, "files").await;
    let models = seed_category(&s, CategoryType::Model, "models").await;
    let hidden = seed_category(&s, CategoryType::Model, "hidden").await;
    let mut tx = s.uow.begin().await.unwrap();
    let categories = tx.categories().unwrap();
    let mut off = root_category(CategoryType::Model, "hidden");
    off.is_active = false;
    categories
        .update_category(hidden, &off, at(1))
        .await
        .unwrap();
    let mut children = Vec::new();
    for (slug, sort_order, active) in [
        ("zebra", 0, true),
        ("apple", 1, true),
        ("mango", 0, true),
        ("gone", 0, false),
    ] {
        let mut child = root_category(CategoryType::Model, slug);
        child.parent_id = Some(models);
        child.sort_order = sort_order;
        child.is_active = active;
        let child_id = CategoryId::from_uuid(id());
        categories
            .insert_category(child_id, &child, at(1))
            .await
            .unwrap();
        children.push(child_id);
    }
    tx.commit().await.unwrap();
    let tree = s
        .queries
        .catalog()
        .unwrap()
        .active_category_tree()
        .await
        .unwrap();
    let roots: Vec<CategoryId> = tree.iter().map(|r| r.category.id).collect();
    assert_eq!(roots, [models, files]);
    let names: Vec<&str> = tree[0].children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["mango", "zebra", "apple"]);
    let all = s.queries.catalog().unwrap().all_categories().await.unwrap();
    assert_eq!(all.len(), 7, "owners see every category");
}

/// A listing slug is unique per seller; another seller may use it.
pub async fn listing_slugs_are_unique_per_seller(s: Subject) {
    let (a, b) = (
        seed_user(&s, "alice", seller_roles()).await,
        seed_user(&s, "bob", seller_roles()).await,
    );
    let category = seed_category(&s, CategoryType::Model, "minis").await;
    let first = product(a, category, ProductKind::Model, "Owl", 1);
    seed_product(&s, &first).await;
    let mut tx = s.uow.begin().await.unwrap();
    let products = tx.products().unwrap();
    let clash = products
        .insert_product(&product(a, category, ProductKind::Model, "Owl", 2))
        .await
        .unwrap_err();
    assert!(
        clash.is_conflict_on("products_seller_slug_key"),
        "{clash:?}"
    );
    drop(tx);
    let mut tx = s.uow.begin().await.unwrap();
    let products = tx.products().unwrap();
    products
        .insert_product(&product(b, category, ProductKind::Model, "Owl", 2))
        .await
        .expect("another seller's slug");
    assert!(products.slug_taken(a, "owl", None).await.unwrap());
    assert!(!products.slug_taken(a, "owl", Some(first.id)).await.unwrap());
    assert!(!products.slug_taken(a, "owl-2", None).await.unwrap());
    let mut changed = products
        .get_product_for_update(first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed, first, "stored as given");
    changed.listing = changed.listing.toggled();
    changed.slug = "owl-2".into();
    changed.updated_at = at(9);
    products.update_product(&changed).await.unwrap();
    assert_eq!(
        products.get_product_for_update(first.id).await.unwrap(),
        Some(changed.clone())
    );
    changed.id = ProductId::from_uuid(id());
    assert_eq!(
        products.update_product(&changed).await.unwrap_err(),
        StoreError::NotFound
    );
}

/// Public lists: active only (unless asked), by kind, category, seller and text (any case, any
/// of title and descriptions), newest first, paged with the full count.
pub async fn listings_are_filtered_paged_and_newest_first(s: Subject) {
    let seller = seed_user(&s, "maker", seller_roles()).await;
    let other = seed_user(&s, "other", seller_roles()).await;
    let models = seed_category(&s, CategoryType::Model, "minis").await;
    let files = seed_category(&s, CategoryType::File, "stl").await;
    let mut owl = product(seller, models, ProductKind::Model, "Owl", 1);
    (owl.review_count, owl.rating_sum) = (100, 480);
    owl.listing.price = marketplace_domain::money::Cents::new(500);
    let mut dragon = product(seller, models, ProductKind::Model, "Dragon", 2);
    (dragon.review_count, dragon.rating_sum) = (1, 5);
    dragon.listing.price = marketplace_domain::money::Cents::new(1000);
    dragon.listing.description = "Breathes FIRE".into();
    let mut hidden = product(seller, models, ProductKind::Model, "Hidden", 3);
    hidden.listing.is_active = false;
    let mut scan = product(other, files, ProductKind::File, "Scan", 4);
    scan.listing.price = marketplace_domain::money::Cents::new(2000);
    for p in [&owl, &dragon, &hidden, &scan] {
        seed_product(&s, p).await;
    }
    let listings = s.queries.listings().unwrap();
    let ids = |page: marketplace_domain::pagination::Page<crate::ports::ProductListRow>| {
        page.items
            .into_iter()
            .map(|r| r.product.id)
            .collect::<Vec<_>>()
    };
    let everything = listings
        .list_products(&ProductFilter::default(), PageRequest::first())
        .await
        .unwrap();
    assert_eq!(everything.total, 3);
    assert_eq!(ids(everything), [scan.id, dragon.id, owl.id]);
    let top = ProductFilter {
        order: ListingOrder::TopRated,
        ..ProductFilter::default()
    };
    assert_eq!(
        ids(listings
            .list_products(&top, PageRequest::first())
            .await
            .unwrap()),
        [owl.id, dragon.id, scan.id],
        "a hundred 4.8s beat one 5, which beats none"
    );
    for (order, expected) in [
        (ListingOrder::PriceAscending, [owl.id, dragon.id, scan.id]),
        (ListingOrder::PriceDescending, [scan.id, dragon.id, owl.id]),
    ] {
        let filter = ProductFilter {
            order,
            ..ProductFilter::default()
        };
        let found = listings
            .list_products(&filter, PageRequest::first())
            .await
            .unwrap();
        assert_eq!(ids(found), expected, "{order:?}");
    }
    let filter = |f: ProductFilter| f;
    let by_kind = filter(ProductFilter {
        kind: Some(ProductKind::File),
        ..ProductFilter::default()
    });
    assert_eq!(
        ids(listings
            .list_products(&by_kind, PageRequest::first())
            .await
            .unwrap()),
        [scan.id]
    );
    let by_text = ProductFilter {
        text: Some("fire".into()),
        ..ProductFilter::default()
    };
    assert_eq!(
        ids(listings
            .list_products(&by_text, PageRequest::first())
            .await
            .unwrap()),
        [dragon.id]
    );
    let mine = ProductFilter {
        seller: Some(seller),
        include_inactive: true,
        categories: Some(vec![models]),
        ..ProductFilter::default()
    };
    assert_eq!(
        ids(listings
            .list_products(&mine, PageRequest::first())
            .await
            .unwrap()),
        [hidden.id, dragon.id, owl.id]
    );
    let second_page = listings
        .list_products(
            &ProductFilter::default(),
            PageRequest::parse(Some(2), Some(2)).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(second_page.total, 3);
    assert_eq!(ids(second_page), [owl.id]);
    let counts = listings.listing_counts(seller).await.unwrap();
    assert_eq!((counts.active, counts.inactive), (2, 1));
}

/// A list's total follows every listing that joins or leaves it: new listings, deactivation,
/// reactivation, a move to another category and a change of kind, counted exactly per filter.
pub async fn list_totals_follow_every_change_of_a_listing(s: Subject) {
    let seller = seed_user(&s, "maker", seller_roles()).await;
    let minis = seed_category(&s, CategoryType::Model, "minis").await;
    let terrain = seed_category(&s, CategoryType::Model, "terrain").await;
    let mut owl = product(seller, minis, ProductKind::Model, "Owl", 1);
    let dragon = product(seller, minis, ProductKind::Model, "Dragon", 2);
    let scan = product(seller, terrain, ProductKind::File, "Scan", 3);
    for p in [&owl, &dragon, &scan] {
        seed_product(&s, p).await;
    }
    let listings = s.queries.listings().unwrap();
    let totals = || async {
        let total = |filter: ProductFilter| async move {
            listings
                .list_products(&filter, PageRequest::first())
                .await
                .unwrap()
                .total
        };
        [
            total(ProductFilter::default()).await,
            total(ProductFilter {
                kind: Some(ProductKind::Model),
                ..ProductFilter::default()
            })
            .await,
            total(ProductFilter {
                categories: Some(vec![minis]),
                ..ProductFilter::default()
            })
            .await,
            total(ProductFilter {
                categories: Some(vec![minis, terrain]),
                kind: Some(ProductKind::File),
                ..ProductFilter::default()
            })
            .await,
        ]
    };
    assert_eq!(totals().await, [3, 2, 2, 1]);
    let update = |p: ProductRecord| {
        let uow = s.uow.clone();
        async move {
            let mut tx = uow.begin().await.unwrap();
            tx.products().unwrap().update_product(&p).await.unwrap();
            tx.commit().await.unwrap();
        }
    };
    owl.listing.is_active = false;
    update(owl.clone()).await;
    assert_eq!(totals().await, [2, 1, 1, 1], "deactivated");
    owl.listing.is_active = true;
    owl.listing.category_id = terrain;
    update(owl.clone()).await;
    assert_eq!(totals().await, [3, 2, 1, 1], "back, in another category");
    owl.listing.title = "Owl, painted".into();
    update(owl.clone()).await;
    assert_eq!(totals().await, [3, 2, 1, 1], "an edit that moves nothing");
    let mut moved = dragon.clone();
    moved.listing.category_id = terrain;
    update(moved.clone()).await;
    assert_eq!(totals().await, [3, 2, 0, 1], "moved while active");
    moved.listing.category_id = minis;
    update(moved).await;
    assert_eq!(totals().await, [3, 2, 1, 1], "and back");
    let mut rolled_back = s.uow.begin().await.unwrap();
    let mut gone = dragon.clone();
    gone.listing.is_active = false;
    rolled_back
        .products()
        .unwrap()
        .update_product(&gone)
        .await
        .unwrap();
    drop(rolled_back);
    assert_eq!(
        totals().await,
        [3, 2, 1, 1],
        "a rolled back change counts for nothing"
    );
}

/// A listing's detail: the seller's public facts (with their Connect status), the category name,
/// images in order with the primary first in lists, and files.
pub async fn a_listing_detail_has_its_seller_images_and_files(s: Subject) {
    let seller = seed_user(&s, "maker", seller_roles()).await;
    let category = seed_category(&s, CategoryType::File, "stl").await;
    let scan = product(seller, category, ProductKind::File, "Scan", 1);
    seed_product(&s, &scan).await;
    let blob = BlobId::from_uuid(id());
    let image = |n: i32, primary: bool| ProductImageRecord {
        id: ProductImageId::from_uuid(id()),
        product_id: scan.id,
        blob_id: blob,
        alt_text: format!("view {n}"),
        is_primary: primary,
        sort_order: n,
        created_at: at(2),
    };
    let (second, first) = (image(1, true), image(0, false));
    let asset = AssetRecord {
        id: AssetId::from_uuid(id()),
        product_id: scan.id,
        blob_id: blob,
        original_filename: "scan.stl".into(),
        size_bytes: 3,
        created_at: at(3),
    };
    let mut tx = s.uow.begin().await.unwrap();
    tx.blobs()
        .unwrap()
        .insert_blob(blob, "model/stl", b"stl", at(2))
        .await
        .unwrap();
    let media = tx.product_media().unwrap();
    media.insert_image(&second).await.unwrap();
    media.insert_image(&first).await.unwrap();
    media.insert_asset(&asset).await.unwrap();
    tx.connect()
        .unwrap()
        .insert_connect(&ConnectAccountRecord {
            user_id: seller,
            status: ConnectStatus {
                stripe_account_id: Some("acct_1".into()),
                details_submitted: true,
                charges_enabled: true,
                payouts_enabled: true,
            },
            onboarding_started_at: Some(at(1)),
            onboarding_completed_at: Some(at(1)),
            status_event_at: None,
            synced_at: None,
            updated_at: at(1),
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let listings = s.queries.listings().unwrap();
    let detail = listings.product_detail(scan.id).await.unwrap().unwrap();
    assert_eq!(detail.row.product, scan);
    assert_eq!(detail.row.category_name, "stl");
    assert_eq!(detail.row.primary_image, Some(second.id));
    assert!(detail.row.seller.can_sell());
    assert_eq!(detail.row.seller.public_name(), "maker");
    assert_eq!(detail.images, [first.clone(), second.clone()]);
    assert_eq!(detail.assets, std::slice::from_ref(&asset));
    assert_eq!(
        listings.product_image(scan.id, first.id).await.unwrap(),
        Some(first)
    );
    assert_eq!(
        listings.product_asset(scan.id, asset.id).await.unwrap(),
        Some(asset)
    );
    assert!(
        listings
            .product_detail(ProductId::from_uuid(id()))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        listings
            .product_asset(ProductId::from_uuid(id()), AssetId::from_uuid(id()))
            .await
            .unwrap()
            .is_none()
    );
    let owner = seed_user(
        &s,
        "boss",
        Roles {
            is_owner: true,
            ..Roles::default()
        },
    )
    .await;
    let owned = product(owner, category, ProductKind::File, "Owned", 5);
    seed_product(&s, &owned).await;
    let row = listings
        .product_detail(owned.id)
        .await
        .unwrap()
        .unwrap()
        .row;
    assert!(
        row.seller.connect.is_none() && row.seller.can_sell(),
        "owners sell without Stripe"
    );
}

/// At most one image is primary: a new primary image or a choice moves it; deleting returns the
/// image, once.
pub async fn one_image_is_primary(s: Subject) {
    let seller = seed_user(&s, "maker", seller_roles()).await;
    let category = seed_category(&s, CategoryType::Model, "minis").await;
    let owl = product(seller, category, ProductKind::Model, "Owl", 1);
    seed_product(&s, &owl).await;
    let blob = BlobId::from_uuid(id());
    let mut tx = s.uow.begin().await.unwrap();
    tx.blobs()
        .unwrap()
        .insert_blob(blob, "image/png", b"png", at(1))
        .await
        .unwrap();
    let media = tx.product_media().unwrap();
    let mut ids = Vec::new();
    for n in 0..3 {
        let image = ProductImageRecord {
            id: ProductImageId::from_uuid(id()),
            product_id: owl.id,
            blob_id: blob,
            alt_text: String::new(),
            is_primary: true,
            sort_order: n,
            created_at: at(1),
        };
        media.insert_image(&image).await.unwrap();
        ids.push(image.id);
    }
    let primaries = |images: &[ProductImageRecord]| {
        images
            .iter()
            .filter(|i| i.is_primary)
            .map(|i| i.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        primaries(&media.list_images(owl.id).await.unwrap()),
        [ids[2]]
    );
    media.set_primary_image(owl.id, ids[0]).await.unwrap();
    assert_eq!(
        primaries(&media.list_images(owl.id).await.unwrap()),
        [ids[0]]
    );
    let foreign = media
        .set_primary_image(ProductId::from_uuid(id()), ids[1])
        .await
        .unwrap_err();
    assert_eq!(foreign, StoreError::NotFound);
    let deleted = media.delete_image(owl.id, ids[0]).await.unwrap().unwrap();
    assert!(deleted.is_primary);
    assert!(media.delete_image(owl.id, ids[0]).await.unwrap().is_none());
    assert_eq!(media.list_images(owl.id).await.unwrap().len(), 2);
}

/// A file's bytes come back whole, chunk by chunk, whatever the chunk size; deleting removes it.
pub async fn files_are_stored_in_chunks(s: Subject) {
    let blob = BlobId::from_uuid(id());
    let bytes: Vec<u8> = (0..600_000_u32).map(|n| (n % 251) as u8).collect();
    let mut tx = s.uow.begin().await.unwrap();
    tx.blobs()
        .unwrap()
        .insert_blob(blob, "model/stl", &bytes, at(1))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let files = s.queries.files().unwrap();
    let meta = files.blob_meta(blob).await.unwrap().unwrap();
    assert_eq!(
        (meta.content_type.as_str(), meta.size_bytes),
        ("model/stl", 600_000)
    );
    assert!(meta.chunk_count > 1);
    let mut read = Vec::new();
    for seq in 0..meta.chunk_count {
        read.extend(files.blob_chunk(blob, seq).await.unwrap().unwrap());
    }
    assert_eq!(read, bytes);
    assert!(
        files
            .blob_chunk(blob, meta.chunk_count)
            .await
            .unwrap()
            .is_none()
    );
    let mut tx = s.uow.begin().await.unwrap();
    tx.blobs().unwrap().delete_blob(blob).await.unwrap();
    tx.commit().await.unwrap();
    assert!(files.blob_meta(blob).await.unwrap().is_none());
}
