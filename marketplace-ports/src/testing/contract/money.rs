//! The ledger, payout and reversal stores' contract.

use marketplace_domain::ids::{AdjustmentId, JournalEntryId, OrderId, ReversalId, UserId};
use marketplace_domain::ledger::{adjustment_entry, order_paid_entry, transfer_entry};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::PageRequest;
use marketplace_domain::payouts::{PayoutStatus, ReversalStatus, SkipReason};

use super::shopping::{Fixture, fixture, insert, order};
use super::{Subject, at, id};
use crate::ports::{LedgerFilter, PayoutRecord, ReversalRecord, StoreError};

fn entry_id() -> JournalEntryId {
    JournalEntryId::from_uuid(id())
}

/// A fixture with one placed order of both sellers' items.
async fn placed(s: &Subject) -> (Fixture, OrderId) {
    let f = fixture(s).await;
    let placed = order(f.buyer, &f.print, &f.file, 2);
    insert(s, &placed).await;
    (f, placed.id)
}

/// A placed order's paid entry, booked at `at(booked)`.
async fn book_order_paid(s: &Subject, f: &Fixture, booked: i64) -> OrderId {
    let placed = order(f.buyer, &f.print, &f.file, 2);
    insert(s, &placed).await;
    let entry = order_paid_entry(&placed.money()).unwrap();
    let mut tx = s.uow.begin().await.unwrap();
    tx.ledger()
        .unwrap()
        .insert_entry(entry_id(), &entry, at(booked))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    placed.id
}

/// An entry is booked once under its key (a replay is a conflict that leaves the transaction
/// usable); sellers' balances move with their payable postings, in the same transaction.
pub async fn journal_entries_are_booked_once_and_move_balances(s: Subject) {
    let f = fixture(&s).await;
    let placed = order(f.buyer, &f.print, &f.file, 2);
    insert(&s, &placed).await;
    let (alice, bob) = (f.print.seller_id, f.file.seller_id);
    let paid = order_paid_entry(&placed.money()).unwrap();
    let transfer = transfer_entry(
        "tr_1",
        Some(placed.id),
        alice,
        Cents::new(1000),
        Currency::USD,
    )
    .unwrap();

    let mut tx = s.uow.begin().await.unwrap();
    tx.ledger()
        .unwrap()
        .insert_entry(entry_id(), &paid, at(3))
        .await
        .unwrap();
    drop(tx);
    let balances = s.queries.ledger().unwrap();
    assert_eq!(
        balances.seller_balance(alice, Currency::USD).await.unwrap(),
        Cents::ZERO,
        "rolled back"
    );

    let mut tx = s.uow.begin().await.unwrap();
    let ledger = tx.ledger().unwrap();
    ledger.insert_entry(entry_id(), &paid, at(3)).await.unwrap();
    let replay = ledger
        .insert_entry(entry_id(), &paid, at(4))
        .await
        .unwrap_err();
    assert!(
        replay.is_conflict_on("journal_entries_key_key"),
        "{replay:?}"
    );
    ledger
        .insert_entry(entry_id(), &transfer, at(5))
        .await
        .unwrap();
    assert_eq!(
        ledger
            .lock_seller_balance(alice, Currency::USD)
            .await
            .unwrap(),
        Cents::new(125)
    );
    let booked = ledger.order_entries(placed.id).await.unwrap();
    assert_eq!(
        booked,
        [paid.clone(), transfer.clone()],
        "booking order, the replay not kept"
    );
    tx.commit().await.unwrap();

    assert_eq!(
        balances.seller_balance(alice, Currency::USD).await.unwrap(),
        Cents::new(125)
    );
    assert_eq!(
        balances.seller_balance(bob, Currency::USD).await.unwrap(),
        Cents::new(1125)
    );
    assert_eq!(
        balances
            .seller_balance(bob, Currency::parse("eur").unwrap())
            .await
            .unwrap(),
        Cents::ZERO
    );
    let stranger = UserId::from_uuid(id());
    assert_eq!(
        balances
            .seller_balance(stranger, Currency::USD)
            .await
            .unwrap(),
        Cents::ZERO
    );
}

/// A seller's ledger shows their side of each entry that touches them, newest first, filtered by
/// kind or by text in the key or order id, paginated.
pub async fn seller_ledger_lines_are_filtered_and_newest_first(s: Subject) {
    let f = fixture(&s).await;
    let alice = f.print.seller_id;
    let order = book_order_paid(&s, &f, 10).await;
    let transfer = transfer_entry("tr_77", Some(order), alice, Cents::new(1000), Currency::USD);
    let adjustment = adjustment_entry(
        AdjustmentId::from_uuid(id()),
        alice,
        Cents::new(-100),
        None,
        Currency::USD,
    );
    let mut tx = s.uow.begin().await.unwrap();
    let ledger = tx.ledger().unwrap();
    ledger
        .insert_entry(entry_id(), &transfer.unwrap(), at(20))
        .await
        .unwrap();
    ledger
        .insert_entry(entry_id(), &adjustment.unwrap(), at(30))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let ledger = s.queries.ledger().unwrap();
    let lines = |filter: LedgerFilter, page: PageRequest| async move {
        let page = ledger.seller_ledger(alice, &filter, page).await.unwrap();
        let lines = page
            .items
            .iter()
            .map(|l| (l.kind.clone(), l.amount.get(), l.order_id, l.created_at))
            .collect::<Vec<_>>();
        (page.total, lines)
    };
    let all = lines(LedgerFilter::default(), PageRequest::first()).await;
    assert_eq!(
        all,
        (
            3,
            vec![
                ("adjustment".into(), -100, None, at(30)),
                ("transfer".into(), -1000, Some(order), at(20)),
                ("order_paid".into(), 1125, Some(order), at(10)),
            ]
        )
    );
    let transfers = LedgerFilter {
        kind: Some("transfer".into()),
        ..LedgerFilter::default()
    };
    assert_eq!(lines(transfers, PageRequest::first()).await.0, 1);
    let by_key = LedgerFilter {
        text: Some("TR_77".into()),
        ..LedgerFilter::default()
    };
    assert_eq!(lines(by_key, PageRequest::first()).await.1[0].0, "transfer");
    let by_order = LedgerFilter {
        text: Some(order.to_string()),
        ..LedgerFilter::default()
    };
    assert_eq!(lines(by_order, PageRequest::first()).await.0, 2);
    let second_page = PageRequest::parse(Some(2), Some(2)).unwrap();
    let (total, page) = lines(LedgerFilter::default(), second_page).await;
    assert_eq!(
        (total, page.len(), page[0].0.as_str()),
        (3, 1, "order_paid")
    );
    let bob = ledger
        .seller_ledger(
            f.file.seller_id,
            &LedgerFilter::default(),
            PageRequest::first(),
        )
        .await
        .unwrap();
    assert_eq!(bob.total, 1, "only entries touching the seller");
}

fn payout(order: OrderId, seller: UserId, status: PayoutStatus, updated: i64) -> PayoutRecord {
    PayoutRecord {
        order_id: order,
        seller_id: seller,
        status,
        attempts: 1,
        last_error: None,
        created_at: at(updated),
        updated_at: at(updated),
    }
}

/// One payout record per (order, seller); what is pending counts as on its way (a refused attempt
/// made no transfer); sellers not ready are remembered so their payouts run when they become ready.
pub async fn payouts_are_one_per_order_and_seller(s: Subject) {
    let (f, first) = placed(&s).await;
    let second = order(f.buyer, &f.print, &f.file, 3);
    insert(&s, &second).await;
    let (alice, bob) = (f.print.seller_id, f.file.seller_id);
    let pending = PayoutStatus::Pending {
        amount: Cents::new(1000),
    };
    let mut tx = s.uow.begin().await.unwrap();
    let payouts = tx.payouts().unwrap();
    assert!(
        payouts
            .get_payout_for_update(first, alice)
            .await
            .unwrap()
            .is_none()
    );
    payouts
        .insert_payout(&payout(first, alice, pending.clone(), 4))
        .await
        .unwrap();
    let mut failed = payout(
        first,
        alice,
        PayoutStatus::Failed {
            amount: Cents::new(1000),
        },
        5,
    );
    failed.last_error = Some("card_declined".into());
    failed.attempts = 2;
    payouts.update_payout(&failed).await.unwrap();
    let mut stored = payouts
        .get_payout_for_update(first, alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.created_at, at(4), "the first insert's time stays");
    stored.created_at = at(5);
    assert_eq!(stored, failed);
    assert_eq!(
        payouts
            .unconfirmed_total(alice, Currency::USD, second.id)
            .await
            .unwrap(),
        Cents::ZERO,
        "a refused attempt made no transfer"
    );
    payouts
        .update_payout(&payout(first, alice, pending.clone(), 5))
        .await
        .unwrap();
    assert_eq!(
        payouts
            .unconfirmed_total(alice, Currency::USD, second.id)
            .await
            .unwrap(),
        Cents::new(1000)
    );
    assert_eq!(
        payouts
            .unconfirmed_total(alice, Currency::USD, first)
            .await
            .unwrap(),
        Cents::ZERO
    );
    let euros = Currency::parse("eur").unwrap();
    assert_eq!(
        payouts
            .unconfirmed_total(alice, euros, second.id)
            .await
            .unwrap(),
        Cents::ZERO,
        "never summed across currencies"
    );
    let not_ready = PayoutStatus::Skipped(SkipReason::SellerNotReady);
    payouts
        .insert_payout(&payout(second.id, alice, not_ready, 6))
        .await
        .unwrap();
    payouts
        .insert_payout(&payout(first, bob, pending, 7))
        .await
        .unwrap();
    let not_ready = SkipReason::SellerNotReady;
    assert_eq!(
        payouts.skipped_payouts(alice, not_ready).await.unwrap(),
        [second.id]
    );
    assert!(
        payouts
            .skipped_payouts(alice, SkipReason::NothingOwed)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        payouts
            .skipped_payouts(bob, not_ready)
            .await
            .unwrap()
            .is_empty()
    );
    let ghost = payout(
        OrderId::from_uuid(id()),
        alice,
        PayoutStatus::Skipped(SkipReason::NothingOwed),
        8,
    );
    assert_eq!(
        payouts.update_payout(&ghost).await.unwrap_err(),
        StoreError::NotFound
    );
    tx.commit().await.unwrap();

    let mut tx = s.uow.begin().await.unwrap();
    let twice = tx
        .payouts()
        .unwrap()
        .insert_payout(&payout(
            first,
            alice,
            PayoutStatus::Skipped(SkipReason::NothingOwed),
            9,
        ))
        .await
        .unwrap_err();
    assert!(twice.is_conflict_on("payouts_pkey"), "{twice:?}");
    drop(tx);

    let mut tx = s.uow.begin().await.unwrap();
    let paid = PayoutStatus::Paid {
        amount: Cents::new(1000),
        transfer_id: "tr_1".into(),
    };
    tx.payouts()
        .unwrap()
        .update_payout(&payout(first, alice, paid.clone(), 10))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let queries = s.queries.payouts().unwrap();
    assert_eq!(
        queries
            .unconfirmed_payouts(alice, Currency::USD)
            .await
            .unwrap(),
        Cents::ZERO
    );
    assert_eq!(
        queries
            .unconfirmed_payouts(bob, Currency::USD)
            .await
            .unwrap(),
        Cents::new(1000)
    );
    let of_first: Vec<(UserId, PayoutStatus)> = queries
        .order_payouts(first)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.seller_id, p.status))
        .collect();
    assert_eq!(of_first.len(), 2);
    assert!(of_first.contains(&(alice, paid)));
    let mine = queries
        .seller_payouts(alice, PageRequest::first())
        .await
        .unwrap();
    let orders: Vec<OrderId> = mine.items.iter().map(|p| p.order_id).collect();
    assert_eq!(
        (mine.total, orders),
        (2, vec![first, second.id]),
        "last changed first"
    );
}

fn reversal(order: OrderId, seller: UserId, amount: i64, created: i64) -> ReversalRecord {
    ReversalRecord {
        id: ReversalId::from_uuid(id()),
        order_id: order,
        seller_id: seller,
        transfer_id: "tr_1".into(),
        amount: Cents::new(amount),
        currency: Currency::USD,
        status: ReversalStatus::Pending,
        last_error: None,
        created_at: at(created),
        updated_at: at(created),
    }
}

/// At most one reversal of (order, seller) is under way; done and under-way reversals count as
/// taken back, refused ones do not.
pub async fn one_reversal_is_pending_at_a_time(s: Subject) {
    let (f, order) = placed(&s).await;
    let other = OrderId::from_uuid(id());
    let alice = f.print.seller_id;
    let mut first = reversal(order, alice, 300, 3);
    let mut tx = s.uow.begin().await.unwrap();
    let reversals = tx.reversals().unwrap();
    assert!(
        reversals
            .pending_reversal_for_update(order, alice)
            .await
            .unwrap()
            .is_none()
    );
    reversals.insert_reversal(&first).await.unwrap();
    assert_eq!(
        reversals
            .pending_reversal_for_update(order, alice)
            .await
            .unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        reversals.reversed_total(order, alice).await.unwrap(),
        Cents::new(300)
    );
    assert_eq!(
        reversals
            .pending_reversals_total(alice, Currency::USD, other)
            .await
            .unwrap(),
        Cents::new(300)
    );
    assert_eq!(
        reversals
            .pending_reversals_total(alice, Currency::USD, order)
            .await
            .unwrap(),
        Cents::ZERO
    );
    tx.commit().await.unwrap();

    let mut tx = s.uow.begin().await.unwrap();
    let twice = tx
        .reversals()
        .unwrap()
        .insert_reversal(&reversal(order, alice, 50, 4))
        .await;
    let twice = twice.unwrap_err();
    assert!(
        twice.is_conflict_on("transfer_reversals_one_pending"),
        "{twice:?}"
    );
    drop(tx);

    let mut tx = s.uow.begin().await.unwrap();
    let reversals = tx.reversals().unwrap();
    first.status = ReversalStatus::Reversed {
        reversal_id: "trr_1".into(),
    };
    first.updated_at = at(5);
    reversals.update_reversal(&first).await.unwrap();
    assert!(
        reversals
            .pending_reversal_for_update(order, alice)
            .await
            .unwrap()
            .is_none()
    );
    let mut second = reversal(order, alice, 200, 6);
    reversals.insert_reversal(&second).await.unwrap();
    assert_eq!(
        reversals.reversed_total(order, alice).await.unwrap(),
        Cents::new(500)
    );
    second.status = ReversalStatus::Refused;
    second.last_error = Some("balance_insufficient".into());
    reversals.update_reversal(&second).await.unwrap();
    assert_eq!(
        reversals.reversed_total(order, alice).await.unwrap(),
        Cents::new(300)
    );
    assert_eq!(
        reversals.reversed_from(&second.transfer_id).await.unwrap(),
        Cents::new(300),
        "a refused reversal took nothing from its transfer"
    );
    assert_eq!(
        reversals.reversed_from("tr_another").await.unwrap(),
        Cents::ZERO
    );
    assert_eq!(
        reversals
            .pending_reversals_total(alice, Currency::USD, other)
            .await
            .unwrap(),
        Cents::ZERO
    );
    let ghost = reversal(order, alice, 1, 7);
    assert_eq!(
        reversals.update_reversal(&ghost).await.unwrap_err(),
        StoreError::NotFound
    );
    tx.commit().await.unwrap();

    let listed = s
        .queries
        .payouts()
        .unwrap()
        .order_reversals(order)
        .await
        .unwrap();
    assert_eq!(listed, [first, second.clone()], "oldest first");

    // The latest reversal of a seller decides whether a refusal is still flagged.
    let mut tx = s.uow.begin().await.unwrap();
    assert_eq!(
        tx.reconciliation()
            .unwrap()
            .refused_reversal_sellers(order)
            .await
            .unwrap(),
        [alice]
    );
    let mut third = reversal(order, alice, 100, 8);
    third.status = ReversalStatus::Reversed {
        reversal_id: "trr_3".into(),
    };
    tx.reversals()
        .unwrap()
        .insert_reversal(&third)
        .await
        .unwrap();
    assert!(
        tx.reconciliation()
            .unwrap()
            .refused_reversal_sellers(order)
            .await
            .unwrap()
            .is_empty(),
        "a later reversal went through"
    );
}
