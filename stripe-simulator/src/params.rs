//! Stripe's form-encoded parameters: parsing them, and which top-level parameters each simulated
//! endpoint accepts (those Stripe accepts for the calls we make).

use serde_json::{Map, Value};

/// Parameters of a form body or query string, in order.
pub(crate) type Params = Vec<(String, String)>;

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `a=1&b%5Bc%5D=2`.
pub(crate) fn parse_params(text: &str) -> Params {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

pub(crate) fn param<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `prefix[key]=value` pairs as a JSON object (metadata).
pub(crate) fn submap(params: &Params, prefix: &str) -> Map<String, Value> {
    let start = format!("{prefix}[");
    params
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix(&start)?;
            let key = rest.strip_suffix(']')?;
            (!key.contains('[')).then(|| (key.to_owned(), Value::String(v.clone())))
        })
        .collect()
}

/// Top-level parameters each endpoint accepts (those of `requests.json` for what we call).
pub(crate) fn allowed(endpoint: &str) -> &'static [&'static str] {
    match endpoint {
        "POST /v1/checkout/sessions" => &[
            "mode",
            "line_items",
            "success_url",
            "cancel_url",
            "client_reference_id",
            "metadata",
            "payment_intent_data",
            "billing_address_collection",
            "customer_email",
            "shipping_address_collection",
            "phone_number_collection",
            "expires_at",
            "expand",
            "currency",
            "locale",
        ],
        "POST /v1/transfers" => &[
            "amount",
            "currency",
            "destination",
            "source_transaction",
            "transfer_group",
            "metadata",
            "description",
            "expand",
        ],
        "GET /v1/transfers" => &[
            "transfer_group",
            "destination",
            "limit",
            "starting_after",
            "ending_before",
            "created",
            "expand",
        ],
        "POST /v1/transfers/{id}/reversals" => &[
            "amount",
            "description",
            "metadata",
            "expand",
            "refund_application_fee",
        ],
        "POST /v1/refunds" => &[
            "amount",
            "charge",
            "payment_intent",
            "metadata",
            "reason",
            "expand",
        ],
        "POST /v1/accounts" => &[
            "type",
            "country",
            "email",
            "capabilities",
            "business_type",
            "metadata",
            "expand",
        ],
        "POST /v1/account_links" => &[
            "account",
            "refresh_url",
            "return_url",
            "type",
            "collect",
            "expand",
        ],
        _ => &["expand"],
    }
}
