use uuid::Uuid;

use super::*;
use crate::ledger::{Account, Ledger, Posted, transfer_entry};
use crate::orders::{CartItem, PricingTerms, price_order};
use crate::reconcile::{Anomaly, AnomalyKind};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_323_045).unwrap()
}

fn seller(n: u128) -> UserId {
    UserId::from_uuid(id(n))
}

/// A pending order: a 10.00 print from seller 7 and a 5.00 file from seller 8, at 10 %.
fn placed() -> Order {
    let item = |n, seller_n, kind, unit| CartItem {
        product: ProductId::from_uuid(id(n)),
        seller: seller(seller_n),
        kind,
        unit_price: Cents::new(unit),
        is_free: false,
        quantity: 1,
    };
    let priced = price_order(
        &[
            item(20, 7, ProductKind::Model, 1000),
            item(21, 8, ProductKind::File, 500),
        ],
        &PricingTerms::new(BasisPoints::new(1000).unwrap(), Currency::USD),
    )
    .unwrap();
    let (order, event) = Order::place(
        NewOrder {
            id: OrderId::from_uuid(id(1)),
            buyer_id: None,
            guest_email: Some("guest@example.com".into()),
            access_token: "secret".into(),
            priced,
            dispute_fee_to_sellers: false,
            lines: vec![
                NewLine {
                    id: OrderItemId::from_uuid(id(2)),
                    title: "Owl".into(),
                },
                NewLine {
                    id: OrderItemId::from_uuid(id(3)),
                    title: "Owl.stl".into(),
                },
            ],
        },
        now(),
    )
    .unwrap();
    assert_eq!(event, OrderEvent::created(2, Cents::new(1500)));
    order
}

fn paid_session(session: &str, intent: &str) -> CompletedCheckout {
    CompletedCheckout {
        session_id: session.into(),
        payment_intent: Some(intent.into()),
        payment_status: CheckoutPaymentStatus::Paid,
        amount_total: Some(Cents::new(1500)),
        currency: Some("usd".into()),
        shipping: None,
    }
}

#[test]
fn placing_snapshots_the_priced_lines_in_order() {
    let order = placed();
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.kind, OrderKind::Mixed);
    assert_eq!(order.guest_token(), Some("secret"));
    let lines: Vec<(i32, &str, i64, i64)> = order
        .lines()
        .iter()
        .map(|l| (l.position, l.title.as_str(), l.fee.get(), l.net.get()))
        .collect();
    assert_eq!(lines, [(0, "Owl", 100, 900), (1, "Owl.stl", 50, 450)]);
    assert_eq!(order.sellers(), [seller(7), seller(8)]);
    assert!(order.ships());
}

#[test]
fn lines_must_be_named_one_to_one() {
    let order = placed();
    let (data, _) = order.into_parts();
    let priced = price_order(
        &[CartItem {
            product: ProductId::from_uuid(id(20)),
            seller: seller(7),
            kind: ProductKind::Model,
            unit_price: Cents::new(100),
            is_free: false,
            quantity: 1,
        }],
        &PricingTerms::new(data.fee_rate, Currency::USD),
    )
    .unwrap();
    let result = Order::place(
        NewOrder {
            id: data.id,
            buyer_id: None,
            guest_email: None,
            access_token: "t".into(),
            priced,
            lines: Vec::new(),
            dispute_fee_to_sellers: false,
        },
        now(),
    );
    assert_eq!(
        result.err(),
        Some(OrderStateError::LinesMismatch {
            priced: 1,
            named: 0
        })
    );
}

#[test]
fn a_payment_is_booked_once_and_moves_the_order_forward() {
    let mut order = placed();
    let payment = Payment::Stripe {
        payment_intent: Some("pi_1".into()),
    };
    let change = order.apply_payment(&payment, &[], now()).unwrap();
    let entry = change.entry.expect("the payment is booked");
    assert_eq!(entry.key().as_str(), format!("order_paid:{}", id(1)));
    assert_eq!(change.events[0].kind, OrderEventKind::Paid);
    assert_eq!(change.events[0].message, "paid via Stripe payment pi_1");
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(order.paid_at, Some(now()));
    assert_eq!(order.stripe_payment_intent(), Some("pi_1"));

    let replay = order.apply_payment(&payment, &[entry], now()).unwrap();
    assert_eq!(
        replay,
        OrderChange::default(),
        "a replay books and says nothing"
    );
    assert_eq!(order.status, OrderStatus::Paid);
}

#[test]
fn a_free_checkout_is_paid_with_the_free_reference() {
    let mut order = placed();
    let change = order.apply_payment(&Payment::Free, &[], now()).unwrap();
    assert!(change.booked_something());
    assert!(order.paid_free());
    assert_eq!(change.events[0].message, "paid via free checkout");
}

#[test]
fn refunds_seen_before_the_payment_still_count() {
    let mut order = placed();
    let refund = Fact::Refund {
        refund_id: "re_1".into(),
        order: order.id,
        amount: Cents::new(300),
        line: None,
        created: now(),
    };
    let early = order.apply_money_event(refund, &[], now()).unwrap();
    assert_eq!(order.status, OrderStatus::PartiallyRefunded);
    let booked = vec![early.entry.unwrap()];
    let change = order
        .apply_payment(
            &Payment::Stripe {
                payment_intent: None,
            },
            &booked,
            now(),
        )
        .unwrap();
    assert!(change.booked_something());
    assert_eq!(order.status, OrderStatus::PartiallyRefunded);
    assert_eq!(order.refunded, Cents::new(300));
}

#[test]
fn money_events_refund_then_replay_then_fail() {
    let mut order = placed();
    let mut ledger = Ledger::new();
    let paid = order.apply_payment(&Payment::Free, &[], now()).unwrap();
    assert_eq!(ledger.post(paid.entry.unwrap()), Posted::Booked);
    let refund = Fact::Refund {
        refund_id: "re_1".into(),
        order: order.id,
        amount: Cents::new(1500),
        line: None,
        created: now(),
    };
    let booked = |ledger: &Ledger| ledger.entries().to_vec();
    let change = order
        .apply_money_event(refund.clone(), &booked(&ledger), now())
        .unwrap();
    assert_eq!(order.status, OrderStatus::Refunded);
    assert_eq!(change.events, [OrderEvent::booked(&refund)]);
    assert_eq!(ledger.post(change.entry.unwrap()), Posted::Booked);
    assert_eq!(ledger.fee_revenue(Currency::USD).unwrap(), Cents::ZERO);

    let replay = order
        .apply_money_event(refund, &booked(&ledger), now())
        .unwrap();
    assert_eq!(replay, OrderChange::default());

    let failed = Fact::RefundFailed {
        refund_id: "re_1".into(),
        order: order.id,
    };
    let change = order
        .apply_money_event(failed, &booked(&ledger), now())
        .unwrap();
    assert_eq!(ledger.post(change.entry.unwrap()), Posted::Booked);
    assert_eq!(order.refunded, Cents::ZERO);
    assert_eq!(
        order.status,
        OrderStatus::Paid,
        "the status follows the refunds that stand"
    );
    assert_eq!(ledger.fee_revenue(Currency::USD).unwrap(), Cents::new(150));
}

/// [`placed`], paid free, then a refund of `amount` naming the print's line (seller 7), booked;
/// returns the order, the ledger and the refund's change.
fn paid_then_print_refunded(amount: i64) -> (Order, Ledger, OrderChange) {
    let mut order = placed();
    let mut ledger = Ledger::new();
    let paid = order.apply_payment(&Payment::Free, &[], now()).unwrap();
    assert_eq!(ledger.post(paid.entry.unwrap()), Posted::Booked);
    let refund = Fact::Refund {
        refund_id: "re_1".into(),
        order: order.id,
        amount: Cents::new(amount),
        line: Some(OrderItemId::from_uuid(id(2))),
        created: now(),
    };
    let change = order
        .apply_money_event(refund, ledger.entries(), now())
        .unwrap();
    assert_eq!(ledger.post(change.entry.clone().unwrap()), Posted::Booked);
    (order, ledger, change)
}

#[test]
fn a_refund_naming_a_line_never_moves_onto_another_sellers_line() {
    // 1,200 naming the 1,000 print of seller 7: 200 more than the line holds.
    let (order, ledger, change) = paid_then_print_refunded(1200);
    assert!(
        change
            .events
            .iter()
            .any(|e| e.kind == OrderEventKind::Warning && e.message.contains("2.00 of refund:re_1")),
        "{:?}",
        change.events
    );
    assert_eq!(order.refunded, Cents::new(1000));
    assert_eq!(order.status, OrderStatus::PartiallyRefunded);
    assert_eq!(
        ledger.seller_balance(seller(8), Currency::USD).unwrap(),
        Cents::new(450),
        "the file's seller keeps their whole net"
    );
    assert_eq!(
        ledger.seller_balance(seller(7), Currency::USD).unwrap(),
        Cents::ZERO
    );
    assert_eq!(
        ledger
            .balance(Account::UnallocatedRefunds, Currency::USD)
            .unwrap(),
        Cents::new(200)
    );
}

#[test]
fn another_orders_fact_is_refused_and_changes_nothing() {
    let mut order = placed();
    let before = order.clone();
    let foreign = Fact::Refund {
        refund_id: "re_9".into(),
        order: OrderId::from_uuid(id(99)),
        amount: Cents::new(100),
        line: None,
        created: now(),
    };
    assert!(order.apply_money_event(foreign, &[], now()).is_err());
    let transfer = transfer_entry(
        "tr_1",
        Some(order.id),
        seller(7),
        Cents::new(1),
        Currency::USD,
    )
    .unwrap()
    .fact()
    .clone();
    assert!(order.apply_money_event(transfer, &[], now()).is_err());
    assert_eq!(order, before);
}

#[test]
fn checkout_sessions_are_numbered_and_replaced_once_ended() {
    let mut order = placed();
    assert_eq!(order.open_session(), None);
    assert_eq!(order.next_checkout_attempt(), 1);
    let event = order.record_checkout_session(1, "cs_1", Some("https://pay/1".into()), now());
    assert_eq!(event, Some(OrderEvent::checkout_session_created("cs_1")));
    assert_eq!(order.open_session(), Some("cs_1"));
    assert_eq!(order.next_checkout_attempt(), 2);
    let ended = order.end_session("cs_1", SessionEnd::Expired, now());
    assert_eq!(ended.kind, OrderEventKind::CheckoutExpired);
    assert_eq!(order.open_session(), None);
    assert!(
        order
            .record_checkout_session(0, "cs_0", None, now())
            .is_none(),
        "an older attempt never replaces a newer one"
    );
    let other = order.end_session("cs_old", SessionEnd::PaymentFailed, now());
    assert_eq!(other.kind, OrderEventKind::PaymentFailed);
    assert_eq!(order.checkout.session_id.as_deref(), Some("cs_1"));
    assert!(order.ensure_payable().is_ok());
}

#[test]
fn a_completed_unpaid_checkout_waits_for_its_money() {
    let mut order = placed();
    let mut session = paid_session("cs_1", "pi_1");
    session.payment_status = CheckoutPaymentStatus::Unpaid;
    let (completion, change) = order.complete_checkout(&session, &[], now());
    assert_eq!(completion, CheckoutCompletion::AwaitingPayment);
    assert_eq!(change.events[0].kind, OrderEventKind::PaymentPending);
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.stripe_payment_intent(), Some("pi_1"));
}

#[test]
fn the_session_that_pays_replaces_an_earlier_attempts_payment() {
    let mut order = placed();
    let mut failed = paid_session("cs_1", "pi_1");
    failed.payment_status = CheckoutPaymentStatus::Unpaid;
    let _ = order.complete_checkout(&failed, &[], now());
    assert!(order.remember_charge("ch_1", now()));
    assert!(
        !order.remember_charge("ch_other", now()),
        "the first charge stays"
    );
    let (completion, change) = order.complete_checkout(&paid_session("cs_2", "pi_2"), &[], now());
    assert_eq!(completion, CheckoutCompletion::Paid { newly: true });
    assert!(change.booked_something());
    assert_eq!(order.checkout.session_id.as_deref(), Some("cs_2"));
    assert_eq!(order.stripe_payment_intent(), Some("pi_2"));
    assert_eq!(
        order.charge_id, None,
        "the old attempt's charge is forgotten"
    );

    let booked = vec![change.entry.unwrap()];
    let (second, change) = order.complete_checkout(&paid_session("cs_3", "pi_3"), &booked, now());
    assert_eq!(second, CheckoutCompletion::PaidByAnotherPayment);
    assert!(change.events[0].message.contains("belongs to the buyer"));
    assert_eq!(
        change.entry.as_ref().map(|e| e.key().as_str().to_owned()),
        Some("extra_payment:pi_3".to_owned()),
        "booked as the buyer's money"
    );
    assert_eq!(
        change.anomalies,
        [Anomaly {
            kind: AnomalyKind::ExtraPayment,
            reference: "pi_3".into(),
            amount: Some(Cents::new(1500)),
            currency: Some("usd".into()),
            resolved: false,
        }]
    );
}

#[test]
fn a_session_in_another_currency_is_recorded_not_booked() {
    let mut order = placed();
    let mut session = paid_session("cs_1", "pi_1");
    session.currency = Some("eur".into());
    let (completion, change) = order.complete_checkout(&session, &[], now());
    assert_eq!(completion, CheckoutCompletion::WrongCurrency);
    assert!(!change.booked_something());
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(change.anomalies[0].kind, AnomalyKind::CurrencyMismatch);
    assert_eq!(change.anomalies[0].currency.as_deref(), Some("eur"));
    // Nor as a second payment of the order once it is paid.
    let (_, paid) = order.complete_checkout(&paid_session("cs_2", "pi_2"), &[], now());
    let booked = vec![paid.entry.unwrap()];
    let mut second = paid_session("cs_3", "pi_3");
    second.currency = Some("eur".into());
    let (completion, change) = order.complete_checkout(&second, &booked, now());
    assert_eq!(completion, CheckoutCompletion::WrongCurrency);
    assert!(
        !change.booked_something(),
        "never summed with the order's money"
    );
}

#[test]
fn a_charge_that_differs_from_the_total_is_flagged() {
    let mut order = placed();
    let mut session = paid_session("cs_1", "pi_1");
    session.amount_total = Some(Cents::new(1499));
    let (_, change) = order.complete_checkout(&session, &[], now());
    let kinds: Vec<OrderEventKind> = change.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [OrderEventKind::Warning, OrderEventKind::Paid]);
    assert_eq!(change.anomalies.len(), 1);
    assert!(change.anomalies[0].holds_payouts());
    assert_eq!(change.anomalies[0].amount, Some(Cents::new(1499)));
}

#[test]
fn an_orders_flags_follow_its_money() {
    use crate::payouts::{PayoutStatus, SkipReason};
    use crate::reconcile::{OrderBooks, ReconPayout, order_flags};

    let mut order = placed();
    let mut ledger = Ledger::new();
    let mut session = paid_session("cs_1", "pi_1");
    session.amount_total = Some(Cents::new(1499));
    let (_, paid) = order.complete_checkout(&session, &[], now());
    let mut anomalies = paid.anomalies.clone();
    assert_eq!(ledger.post(paid.entry.unwrap()), Posted::Booked);
    for fact in [
        Fact::Refund {
            refund_id: "re_1".into(),
            order: order.id,
            amount: Cents::new(1200),
            line: Some(OrderItemId::from_uuid(id(2))),
            created: now(),
        },
        Fact::DisputeOpened {
            dispute_id: "dp_1".into(),
            order: order.id,
            amount: Cents::new(100),
            fee: Cents::new(1500),
            created: now(),
        },
    ] {
        let change = order
            .apply_money_event(fact, ledger.entries(), now())
            .unwrap();
        anomalies.extend(change.anomalies);
        assert_eq!(ledger.post(change.entry.unwrap()), Posted::Booked);
    }
    assert_eq!(
        anomalies
            .iter()
            .map(|a| (a.kind, a.amount))
            .collect::<Vec<_>>(),
        [
            (AnomalyKind::ChargeMismatch, Some(Cents::new(1499))),
            (AnomalyKind::UnallocatedRefund, Some(Cents::new(200)))
        ]
    );
    let payouts = [
        ReconPayout {
            seller: seller(7),
            status: PayoutStatus::Skipped(SkipReason::OnHold),
        },
        ReconPayout {
            seller: seller(8),
            status: PayoutStatus::Failed {
                amount: Cents::new(450),
            },
        },
    ];
    let ready = |_| true;
    let codes = |order: &Order, anomalies: &[Anomaly], refused: &[UserId]| -> Vec<&'static str> {
        let books = OrderBooks {
            order,
            journal: ledger.entries(),
            payouts: &payouts,
            refused_reversals: refused,
            anomalies,
            seller_ready: &ready,
        };
        order_flags(&books)
            .unwrap()
            .iter()
            .map(|f| f.code())
            .collect()
    };
    assert_eq!(
        codes(&order, &anomalies, &[seller(7)]),
        [
            "unallocated_refund",
            "dispute_open",
            "payout_on_hold",
            "payout_failed",
            "reversal_refused",
            "charge_mismatch"
        ]
    );
    // Stripe's refunded total against the refunds booked (1,200): newest report wins.
    assert!(order.note_stripe_refunded(Cents::new(1500), now(), now()));
    assert!(codes(&order, &anomalies, &[seller(7)]).contains(&"refunds_mismatch"));
    let earlier = now() - time::Duration::minutes(1);
    assert!(!order.note_stripe_refunded(Cents::new(1200), earlier, now()));
    assert!(order.note_stripe_refunded(Cents::new(1200), now(), now()));
    assert!(!codes(&order, &anomalies, &[seller(7)]).contains(&"refunds_mismatch"));
    for anomaly in &mut anomalies {
        anomaly.resolved = true;
    }
    let left = codes(&order, &anomalies, &[]);
    assert!(
        !left.contains(&"charge_mismatch") && !left.contains(&"unallocated_refund"),
        "a resolved anomaly is no longer flagged: {left:?}"
    );
}

#[test]
fn a_file_is_revoked_by_its_full_refund_or_a_lost_dispute_and_returned_when_a_refund_fails() {
    let mut order = placed();
    let mut ledger = Ledger::new();
    let paid = order.apply_payment(&Payment::Free, &[], now()).unwrap();
    assert_eq!(ledger.post(paid.entry.unwrap()), Posted::Booked);
    let file = OrderItemId::from_uuid(id(3));
    assert_eq!(
        order.file_lines_revoked(ledger.entries()).unwrap(),
        [(file, false)]
    );
    let mut book = |order: &mut Order, fact: Fact| {
        let change = order
            .apply_money_event(fact, ledger.entries(), now())
            .unwrap();
        assert_eq!(ledger.post(change.entry.unwrap()), Posted::Booked);
        order.file_lines_revoked(ledger.entries()).unwrap()
    };
    let refund = |id: &str, amount| Fact::Refund {
        refund_id: id.into(),
        order: OrderId::from_uuid(Uuid::from_u128(1)),
        amount: Cents::new(amount),
        line: Some(file),
        created: now(),
    };
    assert_eq!(
        book(&mut order, refund("re_1", 499)),
        [(file, false)],
        "one cent left"
    );
    assert_eq!(book(&mut order, refund("re_2", 1)), [(file, true)]);
    let failed = Fact::RefundFailed {
        refund_id: "re_2".into(),
        order: order.id,
    };
    assert_eq!(
        book(&mut order, failed),
        [(file, false)],
        "the files come back"
    );
    let lost = Fact::DisputeLost {
        dispute_id: "dp_1".into(),
        order: order.id,
        amount: Cents::new(100),
        fee: Cents::new(1500),
        created: now(),
    };
    assert_eq!(
        book(&mut order, lost),
        [(file, true)],
        "a lost chargeback revokes"
    );
}

#[test]
fn a_sellers_share_holds_their_lines_and_what_was_refunded_of_them() {
    let (order, ledger, _) = paid_then_print_refunded(600);
    let print = order.seller_share(seller(7), ledger.entries()).unwrap();
    assert_eq!(
        print,
        SellerShare {
            subtotal: Cents::new(1000),
            tax: Cents::ZERO,
            shipping: Cents::ZERO,
            total: Cents::new(1000),
            refunded: Cents::new(600),
            ships: true,
        }
    );
    let file = order.seller_share(seller(8), ledger.entries()).unwrap();
    assert_eq!(
        (file.total, file.refunded, file.ships),
        (Cents::new(500), Cents::ZERO, false),
        "another seller's refund is not theirs"
    );
    let stranger = order.seller_share(seller(9), ledger.entries()).unwrap();
    assert_eq!(stranger, SellerShare::default());
    assert!(OrderEventKind::Refunded.shown_to_buyer());
    assert!(!OrderEventKind::TransferCreated.shown_to_buyer());
    assert!(!OrderEventKind::Dispute.shown_to_buyer());
}
