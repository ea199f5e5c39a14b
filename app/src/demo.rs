//! `app demo-data`: a deterministic sample marketplace built through the real use cases — the
//! category trees, sellers onboarded on the Stripe simulator (so they can really be paid), and
//! listings with images (and files for digital listings). The same flags always produce the same data; running it again only adds what
//! is missing.

use anyhow::{Context, anyhow};
use futures_util::StreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use marketplace_domain::catalog::CategoryType;
use marketplace_domain::catalog::ListingDraft;
use marketplace_domain::catalog::ProductKind;
use marketplace_domain::ids::{CategoryId, SessionId};
use marketplace_ports::ports::{AccountQueries, CategoryRecord, Crypto, Queries, UserRecord};
use marketplace_ports::use_cases::accounts::Register;
use marketplace_ports::use_cases::catalog::NewCategory;
use marketplace_ports::use_cases::listings::NewImage;
use marketplace_ports::use_cases::{Actor, Services, UploadedFile};
use uuid::Uuid;

use stripe_simulator::Simulator;

use crate::crypto::Argon2Crypto;
use crate::png::banded_png;

/// How much to create.
#[derive(Clone, Copy, Debug)]
pub struct DemoSize {
    /// Number of sellers.
    pub sellers: u32,
    /// Number of listings, spread over the sellers.
    pub products: u32,
}

/// The password every demo seller gets.
pub const DEMO_SELLER_PASSWORD: &str = "Demo-Printer-Password-1";
/// The demo owner's username.
pub const DEMO_OWNER: &str = "demo-owner";

const TREES: &[(CategoryType, &str, &[&str])] = &[
    (
        CategoryType::Model,
        "Tabletop Gaming",
        &["Miniatures", "Terrain", "Dice Towers"],
    ),
    (
        CategoryType::Model,
        "Home & Decor",
        &["Vases", "Planters", "Lamps"],
    ),
    (
        CategoryType::Model,
        "Toys & Games",
        &["Puzzles", "Fidget Toys"],
    ),
    (
        CategoryType::Model,
        "Tools & Gadgets",
        &["Organizers", "Repair Parts"],
    ),
    (
        CategoryType::File,
        "Printable Miniatures",
        &["Fantasy", "Sci-Fi"],
    ),
    (
        CategoryType::File,
        "Functional Prints",
        &["Brackets", "Enclosures"],
    ),
    (
        CategoryType::File,
        "Cosplay & Props",
        &["Helmets", "Weapons"],
    ),
];

const SHOPS: &[&str] = &[
    "Layer Line Labs",
    "Nozzle & Knot",
    "Filament Forge",
    "Brim Works",
    "Infill Studio",
    "Raft & Resin",
    "The Print Barn",
    "Overhang Co.",
    "Benchy Bay",
    "Spool Street",
];
const ADJECTIVES: &[&str] = &[
    "Articulated",
    "Hexagonal",
    "Low-Poly",
    "Modular",
    "Gothic",
    "Minimalist",
    "Twisted",
    "Geometric",
    "Vintage",
    "Cyberpunk",
    "Celtic",
    "Desert",
    "Arctic",
    "Ancient",
    "Clockwork",
];
const NOUNS: &[&str] = &[
    "Dragon",
    "Castle Tower",
    "Vase",
    "Planter",
    "Desk Organizer",
    "Cable Clip",
    "Knight",
    "Starship",
    "Lamp Shade",
    "Dice Tower",
    "Puzzle Box",
    "Wall Hook",
    "Helmet",
    "Phone Stand",
    "Chess Set",
];

/// A small deterministic generator (SplitMix64), so demo data is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The demo owner, to act as from the command line.
///
/// # Errors
/// When the demo data has not been created (or storage fails).
pub(crate) async fn demo_owner(queries: &Queries) -> anyhow::Result<Actor> {
    let owner = queries
        .accounts()
        .map_err(|e| anyhow!(e))?
        .user_by_username(DEMO_OWNER)
        .await
        .map_err(|e| anyhow!(e))?
        .context("the demo owner does not exist")?;
    Ok(actor_for(&owner))
}

fn actor_for(user: &UserRecord) -> Actor {
    // The command line is trusted: it acts as these users without a login session.
    Actor {
        user_id: user.id,
        username: user.username.clone(),
        roles: user.roles,
        session_id: SessionId::from_uuid(Uuid::nil()),
        csrf_token: String::new(),
    }
}

/// Creates the demo marketplace. Returns a summary to print.
///
/// # Errors
/// When a use case refuses (which would be a bug in the demo data) or storage fails.
pub async fn create_demo_data(
    services: &Services,
    queries: &Queries,
    simulator: &Simulator,
    size: DemoSize,
) -> anyhow::Result<String> {
    let accounts = queries.accounts().map_err(|e| anyhow!(e))?;
    let mut summary = String::new();
    let owner = match accounts
        .user_by_username(DEMO_OWNER)
        .await
        .map_err(|e| anyhow!(e))?
    {
        Some(owner) => owner,
        None => {
            let token = Argon2Crypto.new_token().map_err(|e| anyhow!(e))?;
            let password = format!("Owner-{}", &token[..24]);
            let owner = services
                .registration
                .create_owner(DEMO_OWNER, Some("owner@demo.homecraft3d.test"), &password)
                .await
                .map_err(|e| anyhow!("creating the demo owner: {e}"))?;
            summary.push_str(&format!("owner: {DEMO_OWNER} / {password}\n"));
            owner
        }
    };
    let owner = actor_for(&owner);

    let categories = ensure_categories(services, &owner).await?;
    let leaves = |kind: CategoryType| -> Vec<CategoryId> {
        categories
            .iter()
            .filter(|c| c.category_type == kind && c.parent_id.is_some())
            .map(|c| c.id)
            .collect()
    };
    let (model_leaves, file_leaves) = (leaves(CategoryType::Model), leaves(CategoryType::File));

    let progress = ProgressBar::new(u64::from(size.products));
    progress.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta})")
            .map_err(|e| anyhow!(e))?
            .progress_chars("=> "),
    );
    progress.set_message("listings");
    let per_seller = size.products.div_ceil(size.sellers.max(1));
    let leaves = Leaves {
        models: &model_leaves,
        files: &file_leaves,
    };
    // Sellers are seeded side by side (each one's listings in turn), so the database commits
    // them in groups; each seller's random choices depend on its number only, so the data is the
    // same whatever the order they finish in.
    let seeded: Vec<anyhow::Result<()>> = futures_util::stream::iter(1..=size.sellers)
        .map(|n| {
            let listings = per_seller.min(size.products.saturating_sub((n - 1) * per_seller));
            seed_seller(
                services, simulator, accounts, n, listings, leaves, &progress,
            )
        })
        .buffer_unordered(SELLERS_AT_ONCE)
        .collect()
        .await;
    seeded.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    progress.finish_with_message("done");
    summary.push_str(&format!(
        "{} sellers (password {DEMO_SELLER_PASSWORD}), {} listings, {} categories\n",
        size.sellers,
        size.products,
        categories.len()
    ));
    Ok(summary)
}

/// How many sellers are seeded at once.
const SELLERS_AT_ONCE: usize = 16;

/// The leaf categories listings go into.
#[derive(Clone, Copy)]
struct Leaves<'a> {
    models: &'a [CategoryId],
    files: &'a [CategoryId],
}

/// Registers seller `n` (unless a previous run did), names their shop, onboards them and creates
/// their `listings`.
async fn seed_seller(
    services: &Services,
    simulator: &Simulator,
    accounts: &dyn AccountQueries,
    n: u32,
    listings: u32,
    leaves: Leaves<'_>,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    let username = format!("demo-seller-{n:02}");
    if accounts
        .user_by_username(&username)
        .await
        .map_err(|e| anyhow!(e))?
        .is_some()
    {
        // Existing seller: its listings were created before.
        progress.inc(u64::from(listings));
        return Ok(());
    }
    let signed_in = services
        .registration
        .register(Register {
            username: username.clone(),
            password: DEMO_SELLER_PASSWORD.to_owned(),
            email: Some(format!("{username}@demo.homecraft3d.test")),
            register_as_seller: true,
        })
        .await
        .map_err(|e| anyhow!("registering {username}: {e}"))?;
    let seller = actor_for(&signed_in.user);
    let shop = SHOPS[usize::try_from(n - 1).unwrap_or(0) % SHOPS.len()];
    services
        .profiles
        .update_profile(
            &seller,
            marketplace_domain::accounts::ProfileChanges {
                shop_name: Some(shop.to_owned()),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| anyhow!("naming {username}'s shop: {e}"))?;
    onboard(services, simulator, &seller)
        .await
        .with_context(|| format!("onboarding {username}"))?;
    let mut rng = Rng(0x00C0_FFEE ^ u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    for _ in 0..listings {
        create_listing(services, &seller, &mut rng, leaves.models, leaves.files)
            .await
            .with_context(|| format!("creating a listing for {username}"))?;
        progress.inc(1);
    }
    Ok(())
}

/// Onboards a seller the way a person would, with the simulator's onboarding page replaced by
/// its direct equivalent: the Express account is created through the payment gateway, completed
/// on the simulator, and read back (the seller becomes ready).
async fn onboard(services: &Services, simulator: &Simulator, seller: &Actor) -> anyhow::Result<()> {
    services
        .onboarding
        .start(seller)
        .await
        .map_err(|e| anyhow!("starting onboarding: {e}"))?;
    let account = services
        .onboarding
        .status(seller)
        .await
        .map_err(|e| anyhow!("reading the account: {e}"))?
        .account
        .and_then(|a| a.status.stripe_account_id)
        .context("no Express account was recorded")?;
    if !simulator.activate_account(&account).await {
        anyhow::bail!("the simulator does not know account {account}");
    }
    let view = services
        .onboarding
        .sync(seller)
        .await
        .map_err(|e| anyhow!("reading the account back: {e}"))?;
    if !view.ready {
        anyhow::bail!("account {account} is not ready after onboarding");
    }
    Ok(())
}

async fn ensure_categories(
    services: &Services,
    owner: &Actor,
) -> anyhow::Result<Vec<CategoryRecord>> {
    let mut existing = services
        .category_admin
        .all(owner)
        .await
        .map_err(|e| anyhow!(e))?;
    let find =
        |all: &[CategoryRecord], kind: CategoryType, parent: Option<CategoryId>, name: &str| {
            all.iter()
                .find(|c| c.category_type == kind && c.parent_id == parent && c.name == name)
                .cloned()
        };
    for (sort, (kind, root_name, children)) in (0_i32..).zip(TREES) {
        let root = match find(&existing, *kind, None, root_name) {
            Some(root) => root,
            None => {
                let root = create_category(services, owner, *kind, root_name, None, sort).await?;
                existing.push(root.clone());
                root
            }
        };
        for (child_sort, child) in (0_i32..).zip(children.iter()) {
            if find(&existing, *kind, Some(root.id), child).is_none() {
                let created =
                    create_category(services, owner, *kind, child, Some(root.id), child_sort)
                        .await?;
                existing.push(created);
            }
        }
    }
    Ok(existing)
}

async fn create_category(
    services: &Services,
    owner: &Actor,
    kind: CategoryType,
    name: &str,
    parent: Option<CategoryId>,
    sort_order: i32,
) -> anyhow::Result<CategoryRecord> {
    services
        .category_admin
        .create(
            owner,
            NewCategory {
                category_type: kind,
                name: name.to_owned(),
                slug: None,
                parent_id: parent,
                description: Some(format!("{name} — {}", kind.label())),
                is_active: Some(true),
                sort_order: Some(sort_order),
            },
        )
        .await
        .map_err(|e| anyhow!("creating category {name}: {e}"))
}

/// The cover images listings get: 64 colours, each encoded once per run (encoding one per
/// listing took a sixth of the seeding time).
fn covers() -> &'static [Vec<u8>] {
    static COVERS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    COVERS.get_or_init(|| {
        let mut rng = Rng(0x0C0F_FEE5);
        (0..64)
            .map(|_| {
                let colour = [rng.below(200), rng.below(200), rng.below(200)]
                    .map(|c| u8::try_from(c).unwrap_or(0));
                banded_png(128, 96, colour)
            })
            .collect()
    })
}

async fn create_listing(
    services: &Services,
    seller: &Actor,
    rng: &mut Rng,
    model_leaves: &[CategoryId],
    file_leaves: &[CategoryId],
) -> anyhow::Result<()> {
    let kind = if rng.below(3) == 0 {
        ProductKind::File
    } else {
        ProductKind::Model
    };
    let category = match kind {
        ProductKind::Model => *rng.pick(model_leaves),
        ProductKind::File => *rng.pick(file_leaves),
    };
    let title = format!("{} {}", rng.pick(ADJECTIVES), rng.pick(NOUNS));
    let is_free = rng.below(10) == 0;
    let price_cents = 199 + rng.below(9_800);
    let price = format!("{}.{:02}", price_cents / 100, price_cents % 100);
    let listing = services
        .my_listings
        .create(
            seller,
            ListingDraft {
                kind,
                title: title.clone(),
                slug: None,
                category_id: category,
                price: (!is_free).then_some(price),
                is_free,
                short_description: Some(format!("A {} printed with care.", title.to_lowercase())),
                description: Some(format!(
                    "{title}. Designed and tested by the seller; {}.",
                    match kind {
                        ProductKind::Model => "printed in PLA and shipped in recycled packaging",
                        ProductKind::File => "sliced and test-printed before release",
                    }
                )),
                is_active: Some(true),
                is_featured: None,
                is_trending: None,
                physical: None,
                license_text: (kind == ProductKind::File).then(|| "Personal use only.".to_owned()),
            },
        )
        .await
        .map_err(|e| anyhow!(e))?;
    let product = listing.view.product.id;
    let cover = rng.pick(covers()).clone();
    services
        .listing_media
        .add_image(
            seller,
            product,
            NewImage {
                file: UploadedFile {
                    file_name: "cover.png".to_owned(),
                    bytes: cover,
                },
                alt_text: Some(title.clone()),
                is_primary: true,
            },
        )
        .await
        .map_err(|e| anyhow!(e))?;
    if kind == ProductKind::File {
        let stl = "solid demo\n  facet normal 0 0 1\n    outer loop\n      vertex 0 0 0\n      vertex 1 0 0\n      vertex 0 1 0\n    endloop\n  endfacet\nendsolid demo\n";
        services
            .listing_media
            .add_asset(
                seller,
                product,
                UploadedFile {
                    file_name: format!("{}.stl", title.to_lowercase().replace(' ', "-")),
                    bytes: stl.as_bytes().to_vec(),
                },
            )
            .await
            .map_err(|e| anyhow!(e))?;
    }
    Ok(())
}
