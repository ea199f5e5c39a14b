use super::*;
use uuid::Uuid;

fn category(category_type: CategoryType) -> Option<CategoryFacts> {
    Some(CategoryFacts {
        id: CategoryId::from_uuid(Uuid::from_u128(7)),
        category_type,
        is_active: true,
    })
}

fn model_draft() -> ListingDraft {
    ListingDraft {
        kind: ProductKind::Model,
        title: "Dragon Bust".into(),
        slug: None,
        category_id: CategoryId::from_uuid(Uuid::from_u128(7)),
        price: Some("12.50".into()),
        is_free: false,
        short_description: Some("A bust".into()),
        description: None,
        is_active: None,
        is_featured: None,
        is_trending: None,
        physical: None,
        license_text: None,
    }
}

fn models() -> Option<CategoryFacts> {
    category(CategoryType::Model)
}

#[test]
fn a_priced_model_in_a_model_category_is_valid() {
    let valid = validate_listing(model_draft(), models(), false).unwrap();
    assert_eq!(valid.listing.price, Cents::new(1250));
    assert!(valid.listing.is_active, "active unless said otherwise");
    assert_eq!(
        valid.slug,
        SlugChoice {
            base: "dragon-bust".into(),
            explicit: false
        }
    );
}

#[test]
fn kind_must_match_the_category_tree() {
    let errors = validate_listing(model_draft(), category(CategoryType::File), false).unwrap_err();
    assert_eq!(
        errors.fields()["category_id"],
        ["model products must use a 3D Models category"]
    );
    let errors = validate_listing(model_draft(), None, false).unwrap_err();
    assert_eq!(errors.fields()["category_id"], ["select a valid category"]);
}

#[test]
fn free_forces_zero_and_priced_must_be_positive() {
    let mut free = model_draft();
    free.is_free = true;
    free.price = Some("99.00".into());
    let listing = validate_listing(free, models(), false).unwrap().listing;
    assert_eq!(
        (listing.price, listing.unit_price()),
        (Cents::ZERO, Cents::ZERO)
    );

    for bad in ["0", "0.00", "-5", "abc", "1.999"] {
        let mut draft = model_draft();
        draft.price = Some(bad.into());
        let errors = validate_listing(draft, models(), false).unwrap_err();
        assert!(
            errors.fields().contains_key("price"),
            "{bad} should be refused"
        );
    }
    let mut missing = model_draft();
    missing.price = None;
    assert!(validate_listing(missing, models(), false).is_err());
}

#[test]
fn short_description_is_limited_to_280_characters() {
    let mut draft = model_draft();
    draft.short_description = Some("x".repeat(281));
    assert!(
        validate_listing(draft, models(), false)
            .unwrap_err()
            .fields()
            .contains_key("short_description")
    );
}

#[test]
fn only_owners_set_home_page_flags() {
    let mut draft = model_draft();
    draft.is_featured = Some(true);
    assert!(validate_listing(draft.clone(), models(), false).is_err());
    assert!(
        validate_listing(draft, models(), true)
            .unwrap()
            .listing
            .is_featured
    );
}

#[test]
fn extras_must_fit_the_kind() {
    let mut draft = model_draft();
    draft.license_text = Some("CC-BY".into());
    assert!(validate_listing(draft, models(), false).is_err());

    let mut file = model_draft();
    file.kind = ProductKind::File;
    file.physical = Some(PhysicalAttributes {
        material: "PLA".into(),
        ..Default::default()
    });
    assert!(validate_listing(file, category(CategoryType::File), false).is_err());
}

fn current() -> Listing {
    validate_listing(model_draft(), models(), false)
        .unwrap()
        .listing
}

#[test]
fn changes_keep_what_they_do_not_name_and_the_slug_unless_the_title_changes() {
    let (draft, may_set_flags) = ListingChanges {
        price: Some("20.00".into()),
        ..ListingChanges::default()
    }
    .merged_into(&current(), "dragon-bust-2", false)
    .unwrap();
    assert!(may_set_flags, "keeping the flags is no change");
    assert_eq!(draft.slug.as_deref(), Some("dragon-bust-2"));
    let valid = validate_listing(draft, models(), may_set_flags).unwrap();
    assert_eq!(valid.listing.price, Cents::new(2000));
    assert_eq!(valid.listing.title, "Dragon Bust");
    assert_eq!(valid.listing.short_description, "A bust");

    let (renamed, _) = ListingChanges {
        title: Some("Wyvern".into()),
        ..ListingChanges::default()
    }
    .merged_into(&current(), "dragon-bust-2", false)
    .unwrap();
    assert_eq!(renamed.slug, None, "a new title gets a fresh slug");
    assert_eq!(
        renamed.price.as_deref(),
        Some("12.50"),
        "the price is kept as entered"
    );
}

#[test]
fn changes_cannot_change_the_kind_and_only_owners_change_flags() {
    let error = ListingChanges {
        kind: Some(ProductKind::File),
        ..ListingChanges::default()
    }
    .merged_into(&current(), "dragon-bust", true)
    .unwrap_err();
    assert!(error.fields().contains_key("kind"));
    let featuring = ListingChanges {
        is_featured: Some(true),
        ..ListingChanges::default()
    };
    let (_, seller_may) = featuring
        .clone()
        .merged_into(&current(), "dragon-bust", false)
        .unwrap();
    let (_, owner_may) = featuring
        .merged_into(&current(), "dragon-bust", true)
        .unwrap();
    assert_eq!((seller_may, owner_may), (false, true));
}

#[test]
fn toggling_flips_visibility_only() {
    let listing = current();
    let toggled = listing.clone().toggled();
    assert!(!toggled.is_active);
    assert_eq!(toggled.toggled(), listing);
}

#[test]
fn numbered_slugs_fit_the_limit() {
    assert_eq!(numbered_slug("dragon", 1), "dragon");
    assert_eq!(numbered_slug("dragon", 3), "dragon-3");
    let long = "a".repeat(PRODUCT_SLUG_MAX);
    let numbered = numbered_slug(&long, 12);
    assert_eq!(numbered.chars().count(), PRODUCT_SLUG_MAX);
    assert!(numbered.ends_with("-12"));
}
