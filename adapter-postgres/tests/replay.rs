//! The replay property through PostgreSQL: the refunds, failed refunds and disputes of an order,
//! delivered in any order and any number of times through the same booking step the webhooks use
//! (with the journal's real unique keys), leave the order's postings, refunded amount and status
//! exactly as booking each fact once in real order does with the domain's in-memory ledger.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::arithmetic_side_effects,
    clippy::as_conversions,
    missing_docs
)]

use std::sync::Arc;

use adapter_postgres::PgStore;
use adapter_postgres::testing::{fresh_database, query_i64};
use marketplace_domain::accounts::Roles;
use marketplace_domain::catalog::{CategoryType, ProductKind};
use marketplace_domain::ids::{OrderId, OrderItemId, UserId};
use marketplace_domain::ledger::{Account, Fact, Ledger, Posted, refund_state};
use marketplace_domain::money::{BasisPoints, Cents, Currency};
use marketplace_domain::orders::{
    CartItem, NewLine, NewOrder, Order, Payment, PricingTerms, price_order,
};
use marketplace_ports::ports::ProductRecord;
use marketplace_ports::testing::TestDeps;
use marketplace_ports::testing::contract::{
    Subject, at, product, seed_category, seed_product, seed_user, seller_roles,
};
use marketplace_ports::use_cases::Settings;
use marketplace_ports::use_cases::shared::booking::{book_order_fact, lock_books, mark_paid};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use uuid::Uuid;

/// One thing that happened to the order, in real order.
#[derive(Clone, Debug)]
enum Step {
    Refund { percent: i64, line: Option<usize> },
    RefundFails,
    DisputeOpened { percent: i64, fee: i64 },
    DisputeLost,
    DisputeWon { fee_kept: bool },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (1..=100_i64, prop::option::of(0..2_usize))
            .prop_map(|(percent, line)| Step::Refund { percent, line }),
        1 => Just(Step::RefundFails),
        2 => (1..=100_i64, 0..2_000_i64).prop_map(|(percent, fee)| Step::DisputeOpened { percent, fee }),
        1 => Just(Step::DisputeLost),
        1 => any::<bool>().prop_map(|fee_kept| Step::DisputeWon { fee_kept }),
    ]
}

struct Shop {
    database: adapter_postgres::ConnectOptions,
    subject: Subject,
    buyer: UserId,
    products: [ProductRecord; 2],
}

async fn shop() -> Shop {
    let database = fresh_database().await;
    let store = PgStore::connect(database.clone(), 4).await.unwrap();
    let subject = Subject {
        queries: store.queries(),
        uow: Arc::new(store.clone()),
    };
    let alice = seed_user(&subject, "alice", seller_roles()).await;
    let bob = seed_user(&subject, "bob", seller_roles()).await;
    let buyer = seed_user(&subject, "buyer", Roles::default()).await;
    let models = seed_category(&subject, CategoryType::Model, "minis").await;
    let print = product(alice, models, ProductKind::Model, "Owl", 1);
    let other = product(bob, models, ProductKind::Model, "Fox", 1);
    seed_product(&subject, &print).await;
    seed_product(&subject, &other).await;
    drop(store);
    Shop {
        database,
        subject,
        buyer,
        products: [print, other],
    }
}

/// A paid two-seller order priced `prices`, stored and booked; returns it as the database has it.
async fn paid_order(shop: &Shop, prices: [i64; 2]) -> Order {
    let items: Vec<CartItem> = shop
        .products
        .iter()
        .zip(prices)
        .map(|(p, price)| CartItem {
            product: p.id,
            seller: p.seller_id,
            kind: ProductKind::Model,
            unit_price: Cents::new(price),
            is_free: false,
            quantity: 1,
        })
        .collect();
    let priced = price_order(
        &items,
        &PricingTerms::new(BasisPoints::new(1000).unwrap(), Currency::USD),
    )
    .unwrap();
    let new = NewOrder {
        id: OrderId::from_uuid(Uuid::now_v7()),
        buyer_id: Some(shop.buyer),
        guest_email: None,
        access_token: "token".into(),
        priced,
        lines: (0..2)
            .map(|n| NewLine {
                id: OrderItemId::from_uuid(Uuid::now_v7()),
                title: format!("line {n}"),
            })
            .collect(),
        dispute_fee_to_sellers: prices[0] % 2 == 1,
    };
    let (mut order, _) = Order::place(new, at(1)).unwrap();
    let mut tx = shop.subject.uow.begin().await.unwrap();
    tx.orders().unwrap().insert_order(&order).await.unwrap();
    let payment = Payment::Stripe {
        payment_intent: Some(format!("pi_{}", order.id)),
    };
    let deps =
        TestDeps::default().deps_over(shop.subject.uow.clone(), shop.subject.queries.clone());
    mark_paid(tx.as_mut(), &mut order, &payment, &deps, at(2))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    order
}

/// Turns the steps into facts as they really happened, booking them on `reference` (in memory)
/// and on `expected` (the order as the domain moves it).
fn facts_of(
    order: &Order,
    steps: &[Step],
    reference: &mut Ledger,
    expected: &mut Order,
) -> Vec<Fact> {
    let money = order.money();
    let mut facts = Vec::new();
    let mut refunds: Vec<String> = Vec::new();
    let mut open: Vec<(String, Cents, Cents, time::OffsetDateTime)> = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        let booked: Vec<&Fact> = reference
            .order_entries(order.id)
            .into_iter()
            .map(|e| e.fact())
            .collect();
        let left = refund_state(&money, &booked)
            .unwrap()
            .refundable(&money)
            .unwrap();
        let portion =
            |percent: i64| Cents::new((left.get() * percent / 100).clamp(1, left.get().max(1)));
        let created = at(10 + n as i64);
        let fact = match step {
            Step::Refund { percent, line } if left.is_positive() => {
                let refund_id = format!("re_{}_{n}", order.id.get().simple());
                refunds.push(refund_id.clone());
                Fact::Refund {
                    refund_id,
                    order: order.id,
                    amount: portion(*percent),
                    line: line.map(|l| order.lines()[l].id),
                    created,
                }
            }
            Step::RefundFails => match refunds.pop() {
                Some(refund_id) => Fact::RefundFailed {
                    refund_id,
                    order: order.id,
                },
                None => continue,
            },
            Step::DisputeOpened { percent, fee } if left.is_positive() => {
                let (amount, fee) = (portion(*percent), Cents::new(*fee));
                let dispute_id = format!("dp_{}_{n}", order.id.get().simple());
                open.push((dispute_id.clone(), amount, fee, created));
                Fact::DisputeOpened {
                    dispute_id,
                    order: order.id,
                    amount,
                    fee,
                    created,
                }
            }
            Step::DisputeLost => match open.pop() {
                Some((dispute_id, amount, fee, created)) => Fact::DisputeLost {
                    dispute_id,
                    order: order.id,
                    amount,
                    fee,
                    created,
                },
                None => continue,
            },
            Step::DisputeWon { fee_kept } => match open.pop() {
                Some((dispute_id, _, fee, _)) => Fact::DisputeWon {
                    dispute_id,
                    order: order.id,
                    fee: if *fee_kept { fee } else { Cents::ZERO },
                },
                None => continue,
            },
            _ => continue,
        };
        let change = expected
            .apply_money_event(fact.clone(), reference.entries(), at(5))
            .unwrap();
        assert_eq!(reference.post(change.entry.unwrap()), Posted::Booked);
        facts.push(fact);
    }
    facts
}

/// Every fact once plus `extra` repeats, shuffled by `seed` (SplitMix64, so failures replay).
fn deliveries(count: usize, extra: &[usize], seed: u64) -> Vec<usize> {
    if count == 0 {
        return Vec::new();
    }
    let mut all: Vec<usize> = (0..count).chain(extra.iter().map(|e| e % count)).collect();
    let mut state = seed;
    for i in (1..all.len()).rev() {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let j = ((z ^ (z >> 31)) % (i as u64 + 1)) as usize;
        all.swap(i, j);
    }
    all
}

async fn posted_on(shop: &Shop, order: OrderId, account: &Account) -> i64 {
    query_i64(
        &shop.database,
        &format!(
            "select coalesce(sum(p.amount_cents), 0)::bigint from journal_postings p
             join journal_entries e on e.id = p.entry_id
             where e.order_id = '{order}' and p.account = '{}'",
            account.code()
        ),
    )
    .await
}

#[test]
fn replaying_an_orders_facts_through_postgresql_gives_the_ledger_of_booking_each_once() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let shop = runtime.block_on(shop());
    let config = Config {
        cases: 200,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        source_file: Some(file!()),
        ..Config::default()
    };
    let strategy = (
        (1..5_000_i64, 1..5_000_i64),
        prop::collection::vec(step(), 1..8),
        prop::collection::vec(0..100_usize, 0..5),
        any::<u64>(),
    );
    TestRunner::new(config)
        .run(&strategy, |((a, b), steps, extra, seed)| {
            runtime.block_on(async {
                let order = paid_order(&shop, [a, b]).await;
                let mut reference = Ledger::new();
                let mut expected = order.clone();
                let paid = expected
                    .apply_payment(
                        &Payment::Stripe {
                            payment_intent: None,
                        },
                        &[],
                        at(2),
                    )
                    .unwrap();
                assert_eq!(reference.post(paid.entry.unwrap()), Posted::Booked);
                let facts = facts_of(&order, &steps, &mut reference, &mut expected);
                for index in deliveries(facts.len(), &extra, seed) {
                    let mut tx = shop.subject.uow.begin().await.unwrap();
                    let books = lock_books(tx.as_mut(), order.id).await.unwrap().unwrap();
                    book_order_fact(
                        tx.as_mut(),
                        books,
                        facts[index].clone(),
                        &Settings::default(),
                        at(20),
                    )
                    .await
                    .unwrap();
                    tx.commit().await.unwrap();
                }
                let entries = query_i64(
                    &shop.database,
                    &format!(
                        "select count(*) from journal_entries where order_id = '{}'",
                        order.id
                    ),
                )
                .await;
                prop_assert_eq!(entries, facts.len() as i64 + 1, "each fact booked once");
                let mut accounts = vec![
                    Account::Clearing,
                    Account::FeeRevenue,
                    Account::TaxPayable,
                    Account::DisputeCosts,
                    Account::DisputedFunds,
                    Account::Losses,
                    Account::UnallocatedRefunds,
                ];
                accounts.extend(order.sellers().into_iter().map(Account::SellerPayable));
                for account in &accounts {
                    let stored = posted_on(&shop, order.id, account).await;
                    let booked = reference
                        .debit_balance(*account, Currency::USD)
                        .unwrap()
                        .get();
                    prop_assert_eq!(stored, booked, "{} of order {}", account.code(), order.id);
                }
                let stored = shop
                    .subject
                    .queries
                    .orders()
                    .unwrap()
                    .order(order.id)
                    .await
                    .unwrap()
                    .unwrap();
                prop_assert_eq!(stored.refunded, expected.refunded);
                prop_assert_eq!(stored.status, expected.status);
                Ok(())
            })
        })
        .unwrap();
}
