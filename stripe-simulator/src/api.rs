//! The simulated Stripe API (`/v1/…`): checkout sessions, payment intents and charges, transfers
//! and their reversals, refunds, Express accounts and account links.

use std::sync::Arc;
use std::time::Duration;

use poem::http::{Method, StatusCode};
use poem::{Request, Response};
use serde_json::{Map, Value, json};

use super::params::{Params, allowed, param, parse_params, submap};
use super::transfers::{create_reversal, create_transfer, list_transfers};
use super::{Fault, Remembered, Sim, State, emit, new_id, now};

/// The error JSON and status of a refused request.
pub(crate) struct ApiError {
    status: StatusCode,
    body: Value,
}

impl ApiError {
    /// The refusal as Stripe sends it.
    pub(crate) fn into_response(self) -> Response {
        json_response(self.status, &self.body)
    }
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

pub(crate) fn invalid(code: &str, message: impl Into<String>, param: Option<&str>) -> ApiError {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        code,
        message,
        param,
    )
}

pub(crate) fn missing(what: &str, id: &str) -> ApiError {
    error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        "resource_missing",
        format!("No such {what}: '{id}'"),
        Some("id"),
    )
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
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
        .and_then(|key| sim.state().remembered(key));
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
                let mut state = sim.state();
                let at = state.clock();
                state.remember(
                    key,
                    Remembered {
                        fingerprint,
                        status: status.as_u16(),
                        body: body.clone(),
                        at,
                    },
                );
            }
            (status, body)
        }
    };
    log(status.as_u16(), &sim);
    if timeout {
        // The work is done (and kept, as Stripe would have it even if the client goes away); the
        // answer comes too late for the client, who retries with the same key.
        sim.save().await;
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

pub(crate) fn segments(path: &str) -> Vec<&str> {
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
        ("GET", ["v1", "transfers"]) => "GET /v1/transfers",
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
            .get(id)
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
            .get(id)
            .cloned()
            .ok_or_else(|| missing("payment_intent", id)),
        ("GET", ["v1", "charges", id]) => state
            .charges
            .get(id)
            .map(charge_public)
            .ok_or_else(|| missing("charge", id)),
        ("GET", ["v1", "refunds", id]) => state
            .refunds
            .get(id)
            .cloned()
            .ok_or_else(|| missing("refund", id)),
        ("POST", ["v1", "transfers"]) => create_transfer(&mut state, params),
        ("GET", ["v1", "transfers"]) => Ok(list_transfers(&mut state, params)),
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
            .get(id)
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

pub(crate) fn charge_public(charge: &Value) -> Value {
    let mut charge = charge.clone();
    if let Some(map) = charge.as_object_mut() {
        map.remove("x_sim_disputed");
    }
    charge
}
