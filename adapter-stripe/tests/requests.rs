//! Every request our client builds sends only parameters Stripe accepts for that endpoint
//! (`fixtures/requests.json`, from Stripe's own request-parameter definitions), with values of the
//! accepted type and enum, and every required parameter present.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;

use adapter_stripe::form::key_path;
use adapter_stripe::requests::{
    Method, StripeRequest, create_account_link, create_checkout_session, create_express_account,
    create_refund, create_transfer, create_transfer_reversal, list_transfers_of_group,
    retrieve_account, retrieve_charge_with_refunds, retrieve_checkout_session,
    retrieve_payment_intent,
};
use marketplace_domain::money::{Cents, Currency};
use marketplace_ports::ports::{CheckoutLine, NewCheckoutSession, NewRefund, NewTransfer};
use serde_json::Value;

fn accepted() -> Value {
    let read = |name: &str| -> Value {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("the fixture is readable");
        serde_json::from_str(&text).expect("the fixture is JSON")
    };
    let mut spec = read("requests.json");
    let lists = read("requests-lists.json");
    for (endpoint, schema) in lists["endpoints"].as_object().unwrap() {
        spec["endpoints"][endpoint] = schema.clone();
    }
    spec
}

/// Checks one flattened parameter against the schema; returns why it is not accepted.
fn check(schema: &Value, path: &[String], value: &str) -> Result<(), String> {
    if let Some(alternatives) = schema["anyOf"].as_array() {
        let errors: Vec<String> = alternatives
            .iter()
            .filter_map(|alt| check(alt, path, value).err())
            .collect();
        return if errors.len() < alternatives.len() {
            Ok(())
        } else {
            Err(errors.join(" / "))
        };
    }
    let Some((head, rest)) = path.split_first() else {
        return check_leaf(schema, value);
    };
    match schema["type"].as_str() {
        Some("object") => {
            if let Some(property) = schema["properties"].get(head.as_str()) {
                return check(property, rest, value);
            }
            match &schema["additionalProperties"] {
                Value::Object(_) => check(&schema["additionalProperties"], rest, value),
                // An object whose contents are not listed accepts any key (see the note).
                _ if schema.get("properties").is_none() => Ok(()),
                _ => Err(format!("unknown parameter `{head}`")),
            }
        }
        Some("array") => {
            head.parse::<usize>()
                .map_err(|_| format!("`{head}` is not an array index"))?;
            check(&schema["items"], rest, value)
        }
        other => Err(format!(
            "`{head}` goes inside a {other:?}, which has no fields"
        )),
    }
}

fn check_leaf(schema: &Value, value: &str) -> Result<(), String> {
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.iter().any(|a| a == value)
    {
        return Err(format!("{value:?} is not one of {allowed:?}"));
    }
    match schema["type"].as_str() {
        Some("integer") => value
            .parse::<i64>()
            .map(|_| ())
            .map_err(|_| format!("{value:?} is not an integer")),
        Some("boolean") => match value {
            "true" | "false" => Ok(()),
            _ => Err(format!("{value:?} is not a boolean")),
        },
        Some("string") | None => Ok(()),
        Some(other) => Err(format!("a {other} cannot be a single value")),
    }
}

/// Asserts the request conforms to its endpoint's accepted parameters.
fn assert_accepted(request: &StripeRequest) {
    let spec = accepted();
    let endpoint = &spec["endpoints"][request.endpoint];
    assert!(
        endpoint.is_object(),
        "{} is not a known endpoint",
        request.endpoint
    );
    let (method, template) = request.endpoint.split_once(' ').unwrap();
    assert_eq!(
        method,
        match request.method {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    );
    let template: Vec<&str> = template.split('/').collect();
    let path: Vec<&str> = request.path.split('/').collect();
    assert_eq!(
        template.len(),
        path.len(),
        "{} vs {}",
        request.path,
        request.endpoint
    );
    for (t, p) in template.iter().zip(&path) {
        assert!(
            t == p || (t.starts_with('{') && !p.is_empty()),
            "{} does not fit {}",
            request.path,
            request.endpoint
        );
    }
    let pairs = request.form.pairs();
    for (key, value) in &pairs {
        let path = key_path(key);
        if let Err(why) = check(endpoint, &path, value) {
            panic!(
                "{}: {key}={value:?} is not accepted: {why}",
                request.endpoint
            );
        }
    }
    for required in endpoint["required"].as_array().into_iter().flatten() {
        let name = required.as_str().unwrap();
        assert!(
            pairs.iter().any(|(key, _)| key_path(key)[0] == name),
            "{} needs `{name}`",
            request.endpoint
        );
    }
}

fn metadata() -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "order_id".to_owned(),
            "0190a7a0-0000-7000-8000-000000000001".to_owned(),
        ),
        ("order_token".to_owned(), "tok".to_owned()),
    ])
}

fn session(shipping: Option<Vec<String>>, email: Option<&str>) -> NewCheckoutSession {
    NewCheckoutSession {
        currency: Currency::USD,
        lines: vec![
            CheckoutLine {
                name: "Owl".to_owned(),
                unit_amount: Cents::new(2499),
                quantity: 2,
            },
            CheckoutLine {
                name: "Shipping".to_owned(),
                unit_amount: Cents::new(500),
                quantity: 1,
            },
        ],
        success_url:
            "https://shop.example/api/v1/checkout/complete?session_id={CHECKOUT_SESSION_ID}"
                .to_owned(),
        cancel_url: "https://shop.example/api/v1/orders/1".to_owned(),
        client_reference_id: "0190a7a0-0000-7000-8000-000000000001".to_owned(),
        metadata: metadata(),
        transfer_group: "0190a7a0-0000-7000-8000-000000000001".to_owned(),
        customer_email: email.map(str::to_owned),
        shipping_countries: shipping,
    }
}

#[test]
fn checkout_sessions_send_only_accepted_parameters() {
    let physical = create_checkout_session(&session(
        Some(vec!["US".to_owned(), "CA".to_owned()]),
        Some("guest@example.com"),
    ));
    assert_accepted(&physical);
    let pairs = physical.form.pairs();
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(
        value("payment_intent_data[transfer_group]"),
        Some("0190a7a0-0000-7000-8000-000000000001")
    );
    assert_eq!(value("line_items[1][price_data][unit_amount]"), Some("500"));
    assert_eq!(
        value("shipping_address_collection[allowed_countries][1]"),
        Some("CA")
    );
    assert_eq!(value("phone_number_collection[enabled]"), Some("true"));
    assert_eq!(value("billing_address_collection"), Some("required"));
    assert_eq!(
        value("metadata[order_id]"),
        Some("0190a7a0-0000-7000-8000-000000000001")
    );
    let digital = create_checkout_session(&session(None, None));
    assert_accepted(&digital);
    assert!(
        digital
            .form
            .pairs()
            .iter()
            .all(|(k, _)| !k.starts_with("shipping_address_collection") && k != "customer_email"),
        "digital orders by registered buyers send neither"
    );
}

#[test]
fn transfers_refunds_and_reversals_send_only_accepted_parameters() {
    let transfer = create_transfer(&NewTransfer {
        amount: Cents::new(4498),
        currency: Currency::USD,
        destination: "acct_1".to_owned(),
        source_transaction: Some("ch_1".to_owned()),
        transfer_group: "0190a7a0-0000-7000-8000-000000000001".to_owned(),
        metadata: metadata(),
    });
    assert_accepted(&transfer);
    assert!(
        transfer
            .form
            .pairs()
            .contains(&("source_transaction".to_owned(), "ch_1".to_owned()))
    );
    assert_accepted(&create_transfer_reversal("tr_1", Cents::new(100)));
    assert_accepted(&create_refund(&NewRefund {
        payment_intent: "pi_1".to_owned(),
        amount: Cents::new(250),
        metadata: metadata(),
    }));
}

#[test]
fn connect_and_read_requests_send_only_accepted_parameters() {
    assert_accepted(&create_express_account("maker@example.com", "US"));
    assert_accepted(&create_account_link(
        "acct_1",
        "https://shop.example/api/v1/seller/connect/refresh",
        "https://shop.example/api/v1/seller/connect/return",
    ));
    assert_accepted(&retrieve_account("acct_1"));
    assert_accepted(&retrieve_checkout_session("cs_1"));
    assert_accepted(&retrieve_payment_intent("pi_1"));
    assert_accepted(&retrieve_charge_with_refunds("ch_1"));
}

#[test]
fn the_checker_refuses_what_stripe_would_refuse() {
    let spec = accepted();
    let endpoint = &spec["endpoints"]["POST /v1/checkout/sessions"];
    let path = |key: &str| key_path(key);
    assert!(check(endpoint, &path("mode"), "payment").is_ok());
    assert!(check(endpoint, &path("mode"), "barter").is_err(), "enum");
    assert!(
        check(endpoint, &path("transfer_group"), "x").is_err(),
        "top-level on the intent only"
    );
    assert!(
        check(endpoint, &path("line_items[0][quantity]"), "two").is_err(),
        "integer"
    );
    assert!(
        check(endpoint, &path("line_items[x][quantity]"), "2").is_err(),
        "array index"
    );
    assert!(check(endpoint, &path("line_items[0][price_data][colour]"), "red").is_err());
    assert!(
        check(endpoint, &path("metadata[anything]"), "ok").is_ok(),
        "metadata is free-form"
    );
    let transfers = &spec["endpoints"]["POST /v1/transfers"];
    let mut missing = create_transfer(&NewTransfer {
        amount: Cents::new(1),
        currency: Currency::USD,
        destination: "acct_1".to_owned(),
        source_transaction: None,
        transfer_group: "g".to_owned(),
        metadata: BTreeMap::new(),
    });
    missing.form = adapter_stripe::form::Form::new().int("amount", 1);
    let result = std::panic::catch_unwind(|| assert_accepted(&missing));
    assert!(result.is_err(), "a missing required parameter is caught");
    assert!(transfers["required"].as_array().unwrap().len() == 2);
}

#[test]
fn listing_a_groups_transfers_sends_only_accepted_parameters() {
    let request = list_transfers_of_group("0190a7a0-0000-7000-8000-000000000001");
    assert_accepted(&request);
    assert_eq!(
        request.form.pairs(),
        [
            (
                "transfer_group".to_owned(),
                "0190a7a0-0000-7000-8000-000000000001".to_owned()
            ),
            ("limit".to_owned(), "100".to_owned())
        ]
    );
}
