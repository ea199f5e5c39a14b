//! The simulated Stripe API (`/v1/…`) and the simulator's test controls (`/_sim/…`).

use std::sync::Arc;
use std::time::Duration;

use poem::http::{Method, StatusCode};
use poem::{Request, Response};
use serde_json::{Map, Value, json};

use super::{Fault, PendingEvent, Remembered, Sim, State, deliver, emit, new_id, now};

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
fn submap(params: &Params, prefix: &str) -> Map<String, Value> {
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

/// The error JSON and status of a refused request.
pub(crate) struct ApiError {
    status: StatusCode,
    body: Value,
}

fn error(
    status: StatusCode,
    kind: &str,
    code: &str,
    message: impl Into<String>,
    param: Option<&str>,
) -> ApiError {
    ApiError {
        status,
        body: json!({"error": {"type": kind, "code": code, "message": message.into(), "param": param}}),
    }
}

fn invalid(code: &str, message: impl Into<String>, param: Option<&str>) -> ApiError {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        code,
        message,
        param,
    )
}

fn missing(what: &str, id: &str) -> ApiError {
    error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        "resource_missing",
        format!("No such {what}: '{id}'"),
        Some("id"),
    )
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

/// Top-level parameters each endpoint accepts (those of `requests.json` for what we call).
fn allowed(endpoint: &str) -> &'static [&'static str] {
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

/// Serves `/v1/…`: authentication, injected faults, idempotent replay, then the operation.
pub(crate) async fn handle(sim: Arc<Sim>, mut request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let idempotency_key = request
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let authorized = request
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {}", sim.secret_key));
    let body = request.take_body().into_string().await.unwrap_or_default();
    let params = if method == Method::GET {
        parse_params(&query)
    } else {
        parse_params(&body)
    };
    let log = |status: u16, sim: &Sim| {
        sim.state().log_request(json!({
            "method": method.as_str(), "path": path, "idempotency_key": idempotency_key,
            "params": params.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(), "status": status,
        }));
    };
    if !authorized {
        let e = error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "api_key_invalid",
            "Invalid API Key provided",
            None,
        );
        log(e.status.as_u16(), &sim);
        return json_response(e.status, &e.body);
    }
    let fault = {
        let mut state = sim.state();
        let found = state.faults.iter_mut().find(|f| {
            f.remaining > 0
                && path.starts_with(&f.path_prefix)
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
        });
        found.map(|f| {
            f.remaining = f.remaining.saturating_sub(1);
            f.clone()
        })
    };
    if let Some(injected) = fault.as_ref().and_then(injected_error) {
        log(injected.status.as_u16(), &sim);
        let mut response = json_response(injected.status, &injected.body);
        if let Some(should_retry) = fault.as_ref().and_then(|f| f.should_retry) {
            response.headers_mut().insert(
                "Stripe-Should-Retry",
                poem::http::HeaderValue::from_static(if should_retry { "true" } else { "false" }),
            );
        }
        return response;
    }
    let timeout = fault.as_ref().is_some_and(|f| f.kind == "timeout");
    let fingerprint = format!("{method} {path} {params:?}");
    let replay = idempotency_key
        .as_ref()
        .and_then(|key| sim.state().idempotency.get(key).cloned());
    let (status, body) = match replay {
        Some(stored) if stored.fingerprint != fingerprint => {
            let e = error(
                StatusCode::BAD_REQUEST,
                "idempotency_error",
                "idempotency_key_in_use",
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                None,
            );
            (e.status, e.body)
        }
        Some(stored) => (
            StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
            stored.body,
        ),
        None => {
            let result = operate(&sim, &method, &path, &params);
            let (status, body) = match result {
                Ok(body) => (StatusCode::OK, body),
                Err(e) => (e.status, e.body),
            };
            // Like Stripe, a completed request is remembered under its key (errors of 5xx are not).
            if let (Some(key), false) = (&idempotency_key, status.is_server_error()) {
                sim.state().remember(
                    key,
                    Remembered {
                        fingerprint,
                        status: status.as_u16(),
                        body: body.clone(),
                        at: now(),
                    },
                );
            }
            (status, body)
        }
    };
    log(status.as_u16(), &sim);
    if timeout {
        // The work is done; the answer comes too late for the client, who retries with the same key.
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    json_response(status, &body)
}

/// The error an injected fault answers with instead of doing the work (none for a timeout,
/// which does the work and answers too late).
fn injected_error(fault: &Fault) -> Option<ApiError> {
    match fault.kind.as_str() {
        "500" => Some(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "simulated_failure",
            "Simulated server error",
            None,
        )),
        "429" => Some(error(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_request_error",
            "rate_limit",
            "Simulated rate limit",
            None,
        )),
        "409" => Some(error(
            StatusCode::CONFLICT,
            "invalid_request_error",
            "lock_timeout",
            "Simulated lock timeout: another request is using this object",
            None,
        )),
        "400" => Some(error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            fault.code.as_deref().unwrap_or("simulated_refusal"),
            "Simulated refusal",
            None,
        )),
        _ => None,
    }
}

fn segments(path: &str) -> Vec<&str> {
    path.trim_matches('/').split('/').collect()
}

fn operate(
    sim: &Arc<Sim>,
    method: &Method,
    path: &str,
    params: &Params,
) -> Result<Value, ApiError> {
    let parts = segments(path);
    let endpoint = match (method.as_str(), parts.as_slice()) {
        ("POST", ["v1", "checkout", "sessions"]) => "POST /v1/checkout/sessions",
        ("POST", ["v1", "transfers"]) => "POST /v1/transfers",
        ("POST", ["v1", "transfers", _, "reversals"]) => "POST /v1/transfers/{id}/reversals",
        ("POST", ["v1", "refunds"]) => "POST /v1/refunds",
        ("POST", ["v1", "accounts"]) => "POST /v1/accounts",
        ("POST", ["v1", "account_links"]) => "POST /v1/account_links",
        _ => "",
    };
    for (key, _) in params {
        let top = key.split('[').next().unwrap_or_default();
        if !allowed(endpoint).contains(&top) {
            return Err(invalid(
                "parameter_unknown",
                format!("Received unknown parameter: {top}"),
                Some(top),
            ));
        }
    }
    let mut state = sim.state();
    match (method.as_str(), parts.as_slice()) {
        ("POST", ["v1", "checkout", "sessions"]) => create_session(&mut state, params),
        ("GET", ["v1", "checkout", "sessions", id]) => state
            .sessions
            .get(*id)
            .cloned()
            .map(public)
            .ok_or_else(|| missing("checkout.session", id)),
        ("POST", ["v1", "checkout", "sessions", id, "expire"]) => {
            let session = expire_session(&mut state, id)?;
            drop(state);
            emit(sim, "checkout.session.expired", session.clone(), None);
            Ok(session)
        }
        ("GET", ["v1", "payment_intents", id]) => state
            .intents
            .get(*id)
            .cloned()
            .ok_or_else(|| missing("payment_intent", id)),
        ("GET", ["v1", "charges", id]) => state
            .charges
            .get(*id)
            .map(charge_public)
            .ok_or_else(|| missing("charge", id)),
        ("POST", ["v1", "transfers"]) => create_transfer(&mut state, params),
        ("POST", ["v1", "transfers", id, "reversals"]) => create_reversal(&mut state, id, params),
        ("POST", ["v1", "refunds"]) => {
            let amount = param(params, "amount").and_then(|a| a.parse::<i64>().ok());
            let intent = param(params, "payment_intent").map(str::to_owned);
            let (refund, charge) = create_refund(
                &mut state,
                intent.as_deref(),
                amount,
                submap(params, "metadata"),
            )?;
            drop(state);
            emit(sim, "refund.created", refund.clone(), None);
            emit(sim, "charge.refunded", charge, None);
            Ok(refund)
        }
        ("POST", ["v1", "accounts"]) => {
            let id = new_id("acct");
            let account = json!({
                "id": id, "object": "account", "type": param(params, "type").unwrap_or("express"),
                "country": param(params, "country").unwrap_or("US"), "email": param(params, "email"),
                "details_submitted": false, "charges_enabled": false, "payouts_enabled": false,
                "capabilities": {"card_payments": "inactive", "transfers": "inactive"}, "created": now(),
                "metadata": {},
            });
            state.accounts.insert(id, account.clone());
            Ok(account)
        }
        ("GET", ["v1", "accounts", id]) => state
            .accounts
            .get(*id)
            .cloned()
            .ok_or_else(|| missing("account", id)),
        ("POST", ["v1", "account_links"]) => {
            let account = param(params, "account").unwrap_or_default().to_owned();
            if !state.accounts.contains_key(&account) {
                return Err(missing("account", &account));
            }
            let id = new_id("link");
            state.links.insert(
                id.clone(),
                json!({"account": account, "refresh_url": param(params, "refresh_url"), "return_url": param(params, "return_url"),
                       "expires_at": now() + 300, "used": false}),
            );
            Ok(
                json!({"object": "account_link", "created": now(), "expires_at": now() + 300,
                      "url": format!("{}/connect/onboard/{id}", state.base_url)}),
            )
        }
        _ => Err(error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "resource_missing",
            format!("Unrecognized request URL ({method} {path})"),
            None,
        )),
    }
}

fn create_session(state: &mut State, params: &Params) -> Result<Value, ApiError> {
    if param(params, "mode") != Some("payment") {
        return Err(invalid(
            "parameter_invalid",
            "only mode=payment is simulated",
            Some("mode"),
        ));
    }
    let mut lines = Vec::new();
    for index in 0.. {
        let key = |rest: &str| format!("line_items[{index}]{rest}");
        let Some(name) = param(params, &key("[price_data][product_data][name]")) else {
            break;
        };
        let unit: i64 = param(params, &key("[price_data][unit_amount]"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let quantity: i64 = param(params, &key("[quantity]"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let currency = param(params, &key("[price_data][currency]"))
            .unwrap_or("usd")
            .to_owned();
        lines.push(
            json!({"name": name, "unit_amount": unit, "quantity": quantity, "currency": currency}),
        );
    }
    if lines.is_empty() {
        return Err(invalid(
            "parameter_missing",
            "line_items is required",
            Some("line_items"),
        ));
    }
    let total: i64 = lines
        .iter()
        .map(|l| l["unit_amount"].as_i64().unwrap_or(0) * l["quantity"].as_i64().unwrap_or(0))
        .sum();
    let countries: Vec<Value> = (0..)
        .map_while(|i| {
            param(
                params,
                &format!("shipping_address_collection[allowed_countries][{i}]"),
            )
            .map(|c| Value::String(c.to_owned()))
        })
        .collect();
    let id = new_id("cs_test");
    let session = json!({
        "id": id, "object": "checkout.session", "mode": "payment", "status": "open", "payment_status": "unpaid",
        "amount_total": total, "amount_subtotal": total, "currency": lines[0]["currency"],
        "url": format!("{}/checkout/{id}", state.base_url),
        "success_url": param(params, "success_url"), "cancel_url": param(params, "cancel_url"),
        "client_reference_id": param(params, "client_reference_id"),
        "metadata": submap(params, "metadata"), "customer_email": param(params, "customer_email"),
        "payment_intent": null, "customer_details": null, "collected_information": null,
        "shipping_address_collection": if countries.is_empty() { Value::Null } else { json!({"allowed_countries": countries}) },
        "expires_at": now() + 86_400, "created": now(), "livemode": false,
        "x_sim": {
            "lines": lines,
            "payment_intent_metadata": submap(params, "payment_intent_data[metadata]"),
            "transfer_group": param(params, "payment_intent_data[transfer_group]"),
        },
    });
    state.sessions.insert(id, session.clone());
    Ok(public(session))
}

/// The object as Stripe shows it (without the simulator's own notes).
pub(crate) fn public(mut object: Value) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.remove("x_sim");
    }
    object
}

pub(crate) fn expire_session(state: &mut State, id: &str) -> Result<Value, ApiError> {
    let session = state
        .sessions
        .get_mut(id)
        .ok_or_else(|| missing("checkout.session", id))?;
    if session["status"] != "open" {
        return Err(invalid(
            "checkout_session_not_open",
            "Only open sessions can be expired",
            None,
        ));
    }
    session["status"] = json!("expired");
    Ok(public(session.clone()))
}

fn create_transfer(state: &mut State, params: &Params) -> Result<Value, ApiError> {
    let amount: i64 = param(params, "amount")
        .and_then(|a| a.parse().ok())
        .filter(|a| *a > 0)
        .ok_or_else(|| {
            invalid(
                "parameter_invalid_integer",
                "amount must be a positive integer",
                Some("amount"),
            )
        })?;
    let currency = param(params, "currency").unwrap_or_default().to_owned();
    let destination = param(params, "destination").unwrap_or_default().to_owned();
    let account = state
        .accounts
        .get(&destination)
        .ok_or_else(|| missing("account", &destination))?;
    if account["payouts_enabled"] != true || account["charges_enabled"] != true {
        return Err(invalid(
            "account_invalid",
            format!("The destination account {destination} cannot receive transfers yet"),
            Some("destination"),
        ));
    }
    let source = param(params, "source_transaction").map(str::to_owned);
    if let Some(charge_id) = &source {
        let charge = state
            .charges
            .get(charge_id)
            .ok_or_else(|| missing("charge", charge_id))?;
        if charge["currency"].as_str() != Some(currency.as_str()) {
            return Err(invalid(
                "currency_mismatch",
                "the transfer currency must match the source transaction",
                Some("currency"),
            ));
        }
        let already: i64 = state
            .transfers
            .values()
            .filter(|t| t["source_transaction"].as_str() == Some(charge_id))
            .map(|t| t["amount"].as_i64().unwrap_or(0))
            .sum();
        if already + amount > charge["amount"].as_i64().unwrap_or(0) {
            return Err(invalid(
                "insufficient_funds",
                "The source transaction has insufficient funds for this transfer",
                Some("amount"),
            ));
        }
    }
    let id = new_id("tr");
    let transfer = json!({
        "id": id, "object": "transfer", "amount": amount, "amount_reversed": 0, "currency": currency,
        "destination": destination, "source_transaction": source, "transfer_group": param(params, "transfer_group"),
        "metadata": submap(params, "metadata"), "reversed": false, "created": now(), "livemode": false,
    });
    state.transfers.insert(id, transfer.clone());
    Ok(transfer)
}

fn create_reversal(
    state: &mut State,
    transfer_id: &str,
    params: &Params,
) -> Result<Value, ApiError> {
    let transfer = state
        .transfers
        .get_mut(transfer_id)
        .ok_or_else(|| missing("transfer", transfer_id))?;
    let left = transfer["amount"].as_i64().unwrap_or(0)
        - transfer["amount_reversed"].as_i64().unwrap_or(0);
    let amount: i64 = param(params, "amount")
        .and_then(|a| a.parse().ok())
        .unwrap_or(left);
    if amount <= 0 || amount > left {
        return Err(invalid(
            "amount_too_large",
            format!("Only {left} can still be reversed"),
            Some("amount"),
        ));
    }
    transfer["amount_reversed"] = json!(transfer["amount_reversed"].as_i64().unwrap_or(0) + amount);
    transfer["reversed"] = json!(amount == left);
    Ok(
        json!({"id": new_id("trr"), "object": "transfer_reversal", "amount": amount, "transfer": transfer_id, "created": now()}),
    )
}

/// Refunds (part of) a payment: the refund and the charge as they are after it.
pub(crate) fn create_refund(
    state: &mut State,
    payment_intent: Option<&str>,
    amount: Option<i64>,
    metadata: Map<String, Value>,
) -> Result<(Value, Value), ApiError> {
    let intent_id = payment_intent.unwrap_or_default().to_owned();
    let intent = state
        .intents
        .get(&intent_id)
        .ok_or_else(|| missing("payment_intent", &intent_id))?;
    let charge_id = intent["latest_charge"]
        .as_str()
        .ok_or_else(|| {
            invalid(
                "charge_missing",
                "This payment has no charge to refund",
                None,
            )
        })?
        .to_owned();
    let charge = state
        .charges
        .get(&charge_id)
        .ok_or_else(|| missing("charge", &charge_id))?;
    let left = charge["amount"].as_i64().unwrap_or(0)
        - charge["amount_refunded"].as_i64().unwrap_or(0)
        - charge["x_sim_disputed"].as_i64().unwrap_or(0);
    let amount = amount.unwrap_or(left);
    if amount <= 0 || amount > left {
        return Err(invalid(
            "amount_too_large",
            format!("Refund amount ({amount}) is greater than what can be refunded ({left})"),
            Some("amount"),
        ));
    }
    let refund = json!({
        "id": new_id("re"), "object": "refund", "amount": amount, "charge": charge_id, "payment_intent": intent_id,
        "currency": charge["currency"], "status": "succeeded", "metadata": metadata, "created": now(), "reason": null,
    });
    let refund_id = refund["id"].as_str().unwrap_or_default().to_owned();
    state.refunds.insert(refund_id, refund.clone());
    let charge = state
        .charges
        .get_mut(&charge_id)
        .ok_or_else(|| missing("charge", &charge_id))?;
    let refunded = charge["amount_refunded"].as_i64().unwrap_or(0) + amount;
    charge["amount_refunded"] = json!(refunded);
    charge["refunded"] = json!(refunded == charge["amount"].as_i64().unwrap_or(0));
    if let Some(list) = charge["refunds"]["data"].as_array_mut() {
        list.insert(0, refund.clone());
    }
    Ok((refund, charge_public(charge)))
}

fn charge_public(charge: &Value) -> Value {
    let mut charge = charge.clone();
    if let Some(map) = charge.as_object_mut() {
        map.remove("x_sim_disputed");
    }
    charge
}

/// Serves `/_sim/…`: the controls tests use.
pub(crate) async fn control(sim: Arc<Sim>, mut request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let body: Value = request.take_body().into_json().await.unwrap_or(Value::Null);
    let parts = segments(&path);
    let ok = |body: Value| json_response(StatusCode::OK, &body);
    match (method.as_str(), parts.as_slice()) {
        ("POST", ["_sim", "faults"]) => {
            sim.state().faults.push(Fault {
                method: body["method"].as_str().map(str::to_owned),
                path_prefix: body["path_prefix"].as_str().unwrap_or("/v1/").to_owned(),
                kind: body["kind"].as_str().unwrap_or("500").to_owned(),
                remaining: u32::try_from(body["count"].as_u64().unwrap_or(1)).unwrap_or(1),
                should_retry: body["should_retry"].as_bool(),
                code: body["code"].as_str().map(str::to_owned),
            });
            ok(json!({"ok": true}))
        }
        ("DELETE", ["_sim", "faults"]) => {
            sim.state().faults.clear();
            ok(json!({"ok": true}))
        }
        ("GET", ["_sim", "requests"]) => ok(Value::Array(sim.state().requests.clone())),
        ("GET", ["_sim", "transfers"]) => ok(Value::Array(
            sim.state().transfers.values().cloned().collect(),
        )),
        ("GET", ["_sim", "webhooks"]) => ok(Value::Array(sim.state().deliveries.clone())),
        ("POST", ["_sim", "webhooks", "duplicate"]) => {
            sim.state().duplicate_next =
                u32::try_from(body["count"].as_u64().unwrap_or(1)).unwrap_or(1);
            ok(json!({"ok": true}))
        }
        ("POST", ["_sim", "webhooks", "hold"]) => {
            sim.state().hold = true;
            ok(json!({"ok": true}))
        }
        ("POST", ["_sim", "webhooks", "release"]) => {
            let held: Vec<PendingEvent> = {
                let mut state = sim.state();
                state.hold = false;
                std::mem::take(&mut state.held)
            };
            let ordered: Vec<PendingEvent> = if body["reverse"] == true {
                held.into_iter().rev().collect()
            } else {
                held
            };
            let count = ordered.len();
            // One after the other, so "reverse" really arrives in reverse.
            for pending in ordered {
                deliver(sim.clone(), pending).await;
            }
            ok(json!({"released": count}))
        }
        ("POST", ["_sim", "refunds"]) => {
            let result = {
                let mut state = sim.state();
                create_refund(
                    &mut state,
                    body["payment_intent"].as_str(),
                    body["amount"].as_i64(),
                    body["metadata"].as_object().cloned().unwrap_or_default(),
                )
            };
            match result {
                Ok((refund, charge)) => {
                    emit(&sim, "refund.created", refund.clone(), None);
                    emit(&sim, "charge.refunded", charge, None);
                    ok(refund)
                }
                Err(e) => json_response(e.status, &e.body),
            }
        }
        ("POST", ["_sim", "disputes"]) => dispute(&sim, &body),
        ("POST", ["_sim", "accounts", id]) => {
            let account = {
                let mut state = sim.state();
                let Some(account) = state.accounts.get_mut(*id) else {
                    let e = missing("account", id);
                    return json_response(e.status, &e.body);
                };
                for flag in ["details_submitted", "charges_enabled", "payouts_enabled"] {
                    if let Some(value) = body[flag].as_bool() {
                        account[flag] = json!(value);
                    }
                }
                account.clone()
            };
            emit(&sim, "account.updated", account.clone(), Some(id));
            ok(account)
        }
        ("POST", ["_sim", "checkout", id, "expire"]) => {
            let result = expire_session(&mut sim.state(), id);
            match result {
                Ok(session) => {
                    emit(&sim, "checkout.session.expired", session.clone(), None);
                    ok(session)
                }
                Err(e) => json_response(e.status, &e.body),
            }
        }
        ("POST", ["_sim", "checkout", id, "settle"]) => {
            super::pages::settle(&sim, id, body["outcome"].as_str() == Some("succeeded"))
        }
        _ => json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": {"message": format!("no simulator control {method} {path}")}}),
        ),
    }
}

/// A dispute opened on a payment and closed as `lost` or `won`, with its events.
fn dispute(sim: &Arc<Sim>, body: &Value) -> Response {
    let intent_id = body["payment_intent"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let outcome = body["status"].as_str().unwrap_or("lost").to_owned();
    let fee = body["fee"].as_i64().unwrap_or(1500);
    let (opened, closed) = {
        let mut state = sim.state();
        let Some(charge_id) = state
            .intents
            .get(&intent_id)
            .and_then(|i| i["latest_charge"].as_str().map(str::to_owned))
        else {
            let e = missing("payment_intent", &intent_id);
            return json_response(e.status, &e.body);
        };
        let Some(charge) = state.charges.get_mut(&charge_id) else {
            let e = missing("charge", &charge_id);
            return json_response(e.status, &e.body);
        };
        let left = charge["amount"].as_i64().unwrap_or(0)
            - charge["amount_refunded"].as_i64().unwrap_or(0);
        let amount = body["amount"].as_i64().unwrap_or(left).min(left);
        if outcome == "lost" {
            charge["x_sim_disputed"] =
                json!(charge["x_sim_disputed"].as_i64().unwrap_or(0) + amount);
        }
        let id = new_id("dp");
        let dispute = json!({
            "id": id, "object": "dispute", "amount": amount, "currency": charge["currency"], "charge": charge_id,
            "payment_intent": intent_id, "reason": "fraudulent", "status": "needs_response", "created": now(),
            "balance_transactions": [{"amount": -amount, "fee": fee, "type": "adjustment"}], "livemode": false,
        });
        let mut closed = dispute.clone();
        closed["status"] = json!(outcome);
        (dispute, closed)
    };
    emit(sim, "charge.dispute.created", opened, None);
    emit(sim, "charge.dispute.closed", closed.clone(), None);
    json_response(StatusCode::OK, &closed)
}
