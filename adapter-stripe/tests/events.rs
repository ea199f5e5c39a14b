//! Every Stripe event sample parses into our typed event (or is explicitly ignored, with a reason),
//! keeping the fields the webhook handlers rely on.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;

use adapter_stripe::parse_event;
use marketplace_domain::money::Cents;
use marketplace_domain::orders::CheckoutPaymentStatus;
use marketplace_ports::ports::{EventPayload, StripeEvent};
use serde_json::{Value, json};

fn events_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/events"
    ))
}

fn sample(name: &str) -> Value {
    let text = std::fs::read_to_string(events_dir().join(name)).expect("the sample is readable");
    serde_json::from_str(&text).expect("the sample is JSON")
}

fn parse(value: &Value) -> StripeEvent {
    parse_event(value.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", value["type"]))
}

#[test]
fn every_sample_event_parses_into_its_typed_payload() {
    let mut seen = 0;
    for entry in std::fs::read_dir(events_dir()).unwrap() {
        let path = entry.unwrap().path();
        let raw: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let event = parse(&raw);
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        assert_eq!(event.event_type, name, "the file is named after its type");
        assert_eq!(event.id, raw["id"].as_str().unwrap());
        assert_eq!(
            event.created.unix_timestamp(),
            raw["created"].as_i64().unwrap()
        );
        assert_eq!(event.livemode, raw["livemode"].as_bool().unwrap());
        let object = &raw["data"]["object"];
        let id = object["id"].as_str().unwrap();
        match (&event.event_type[..], &event.payload) {
            ("checkout.session.completed", EventPayload::CheckoutCompleted(session))
            | (
                "checkout.session.async_payment_succeeded",
                EventPayload::CheckoutAsyncSucceeded(session),
            )
            | (
                "checkout.session.async_payment_failed",
                EventPayload::CheckoutAsyncFailed(session),
            )
            | ("checkout.session.expired", EventPayload::CheckoutExpired(session)) => {
                assert_eq!(session.id, id);
                assert_eq!(
                    session.payment_status,
                    CheckoutPaymentStatus::parse(object["payment_status"].as_str().unwrap())
                );
                assert_eq!(
                    session.payment_intent.as_deref(),
                    object["payment_intent"].as_str()
                );
            }
            ("charge.refunded", EventPayload::ChargeRefunded(charge)) => {
                assert_eq!(charge.id, id);
                assert_eq!(
                    charge.amount,
                    Cents::new(object["amount"].as_i64().unwrap())
                );
                assert_eq!(
                    charge.amount_refunded,
                    Cents::new(object["amount_refunded"].as_i64().unwrap())
                );
            }
            ("refund.created" | "refund.updated", EventPayload::RefundChanged(refund)) => {
                assert_eq!(refund.id, id);
                assert_eq!(
                    refund.amount,
                    Cents::new(object["amount"].as_i64().unwrap())
                );
                assert_eq!(refund.charge.as_deref(), object["charge"].as_str());
            }
            ("charge.dispute.created", EventPayload::DisputeOpened(dispute))
            | ("charge.dispute.updated", EventPayload::DisputeUpdated(dispute))
            | ("charge.dispute.closed", EventPayload::DisputeClosed(dispute)) => {
                assert_eq!(dispute.id, id);
                assert_eq!(
                    dispute.amount,
                    Cents::new(object["amount"].as_i64().unwrap())
                );
                assert_eq!(dispute.charge.as_deref(), object["charge"].as_str());
            }
            ("account.updated", EventPayload::AccountUpdated(account)) => {
                assert_eq!(account.id, id);
                assert_eq!(event.account.as_deref(), raw["account"].as_str());
                assert_eq!(
                    account.details_submitted,
                    object["details_submitted"].as_bool().unwrap()
                );
            }
            (other, EventPayload::Ignored { reason }) => {
                panic!("{other} is one we handle, but it was ignored: {reason}")
            }
            (other, payload) => panic!("{other} parsed into the wrong payload: {payload:?}"),
        }
        seen += 1;
    }
    assert_eq!(seen, 11, "every sample was checked");
}

#[test]
fn our_metadata_and_the_shipping_address_are_read_from_a_completed_session() {
    let mut raw = sample("checkout.session.completed.json");
    let object = &mut raw["data"]["object"];
    object["payment_status"] = json!("paid");
    object["status"] = json!("complete");
    object["amount_total"] = json!(5503);
    object["metadata"] = json!({"order_id": "0190a7a0-0000-7000-8000-000000000001"});
    object["collected_information"] = json!({"shipping_details": {"name": "Ada", "address": {
        "line1": "1 Test Street", "line2": null, "city": "Springfield", "state": "IL",
        "postal_code": "62701", "country": "US"}}});
    let EventPayload::CheckoutCompleted(session) = parse(&raw).payload else {
        panic!("not a completed session");
    };
    assert_eq!(session.payment_status, CheckoutPaymentStatus::Paid);
    assert_eq!(session.amount_total, Some(Cents::new(5503)));
    assert_eq!(
        session.order_id.as_deref(),
        Some("0190a7a0-0000-7000-8000-000000000001")
    );
    let shipping = session.shipping.expect("the address is kept");
    assert_eq!(shipping.city, "Springfield");
    assert_eq!(shipping.line2, "");
}

#[test]
fn a_charge_carries_its_expanded_refunds() {
    let mut raw = sample("charge.refunded.json");
    raw["data"]["object"]["amount_refunded"] = json!(60);
    raw["data"]["object"]["refunds"] = json!({"object": "list", "has_more": false, "data": [
        {"id": "re_1", "object": "refund", "amount": 25, "status": "succeeded", "charge": "ch_1", "created": 1},
        {"id": "re_2", "object": "refund", "amount": 35, "status": "succeeded", "charge": "ch_1", "created": 2},
    ]});
    let EventPayload::ChargeRefunded(charge) = parse(&raw).payload else {
        panic!("not a refunded charge");
    };
    assert_eq!(charge.amount_refunded, Cents::new(60));
    let ids: Vec<&str> = charge.refunds.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["re_1", "re_2"]);
}

#[test]
fn types_we_do_not_handle_are_ignored_with_a_reason_and_broken_bodies_are_errors() {
    let mut raw = sample("refund.created.json");
    raw["type"] = json!("customer.created");
    match parse(&raw).payload {
        EventPayload::Ignored { reason } => assert!(reason.contains("customer.created")),
        other => panic!("expected ignored, got {other:?}"),
    }
    assert!(parse_event(b"not json").is_err());
    assert!(
        parse_event(br#"{"id": "evt_1"}"#).is_err(),
        "no type, no data"
    );
    let mut wrong_shape = sample("refund.created.json");
    wrong_shape["data"]["object"]["amount"] = json!("a lot");
    assert!(parse_event(wrong_shape.to_string().as_bytes()).is_err());
}
