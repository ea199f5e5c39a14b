//! The simulator's test controls (`/_sim/…`): injected faults, held, duplicated and reordered
//! webhooks, refunds, disputes, account flags, settling or expiring checkouts on demand, and
//! advancing the clock (so idempotency keys are forgotten after 24 hours).

use std::sync::Arc;

use poem::http::StatusCode;
use poem::{Request, Response};
use serde_json::{Value, json};

use super::api::{create_refund, expire_session, json_response, missing, segments};
use super::{Fault, PendingEvent, Sim, deliver, emit, new_id, now};

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
        ("POST", ["_sim", "clock"]) => {
            let advance = body["advance_seconds"].as_i64().unwrap_or(0).max(0);
            let mut state = sim.state();
            state.clock_offset = state.clock_offset.saturating_add(advance);
            ok(json!({"clock": state.clock(), "offset_seconds": state.clock_offset}))
        }
        ("GET", ["_sim", "requests"]) => ok(Value::Array(sim.state().requests.clone())),
        ("GET", ["_sim", "transfers"]) => ok(Value::Array(
            sim.state().transfers.all().into_iter().cloned().collect(),
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
                Err(e) => e.into_response(),
            }
        }
        ("POST", ["_sim", "refunds", id, "fail"]) => {
            let result = fail_refund(&mut sim.state(), id);
            match result {
                Ok(refund) => {
                    emit(&sim, "refund.updated", refund.clone(), None);
                    ok(refund)
                }
                Err(e) => e.into_response(),
            }
        }
        ("POST", ["_sim", "disputes"]) => dispute(&sim, &body),
        ("POST", ["_sim", "disputes", id, "close"]) => close_dispute(&sim, id, &body),
        ("POST", ["_sim", "accounts", id]) => {
            let account = {
                let mut state = sim.state();
                let Some(account) = state.accounts.get_mut(id) else {
                    let e = missing("account", id);
                    return e.into_response();
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
                Err(e) => e.into_response(),
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

/// A dispute opened on a payment (`charge.dispute.created`, funds withdrawn with a fee), and closed
/// at once as `lost` or `won` unless `status` is `open` (then `POST /_sim/disputes/{id}/close`).
fn dispute(sim: &Arc<Sim>, body: &Value) -> Response {
    let intent_id = body["payment_intent"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let outcome = body["status"].as_str().unwrap_or("lost").to_owned();
    let fee = body["fee"].as_i64().unwrap_or(1500);
    let opened = {
        let mut state = sim.state();
        let Some(charge_id) = state
            .intents
            .get(&intent_id)
            .and_then(|i| i["latest_charge"].as_str().map(str::to_owned))
        else {
            let e = missing("payment_intent", &intent_id);
            return e.into_response();
        };
        let Some(charge) = state.charges.get(&charge_id) else {
            let e = missing("charge", &charge_id);
            return e.into_response();
        };
        let left = charge["amount"].as_i64().unwrap_or(0)
            - charge["amount_refunded"].as_i64().unwrap_or(0)
            - charge["x_sim_disputed"].as_i64().unwrap_or(0);
        let amount = body["amount"].as_i64().unwrap_or(left).min(left);
        let id = new_id("dp");
        let dispute = json!({
            "id": id, "object": "dispute", "amount": amount, "currency": charge["currency"], "charge": charge_id,
            "payment_intent": intent_id, "reason": "fraudulent", "status": "needs_response", "created": now(),
            "balance_transactions": [{"amount": -amount, "fee": fee, "type": "adjustment"}], "livemode": false,
        });
        state.disputes.insert(id, dispute.clone());
        dispute
    };
    emit(sim, "charge.dispute.created", opened.clone(), None);
    if outcome == "open" {
        return json_response(StatusCode::OK, &opened);
    }
    let id = opened["id"].as_str().unwrap_or_default().to_owned();
    close_dispute(sim, &id, body)
}

/// Closes an open dispute as `lost` or `won` (`status`), with its events: a won one has its funds
/// reinstated first (its fee returned only with `fee_returned: true`).
fn close_dispute(sim: &Arc<Sim>, id: &str, body: &Value) -> Response {
    let outcome = body["status"].as_str().unwrap_or("lost").to_owned();
    let closed = {
        let mut state = sim.state();
        let Some(mut dispute) = state.disputes.get(id).cloned() else {
            let e = missing("dispute", id);
            return e.into_response();
        };
        let amount = dispute["amount"].as_i64().unwrap_or(0);
        if outcome == "won" {
            let fee = dispute["balance_transactions"][0]["fee"]
                .as_i64()
                .unwrap_or(0);
            let returned = if body["fee_returned"] == true {
                -fee
            } else {
                0
            };
            if let Some(transactions) = dispute["balance_transactions"].as_array_mut() {
                transactions.push(json!({"amount": amount, "fee": returned, "type": "adjustment"}));
            }
        } else if let Some(charge) = dispute["charge"]
            .as_str()
            .map(str::to_owned)
            .and_then(|c| state.charges.get_mut(&c))
        {
            charge["x_sim_disputed"] =
                json!(charge["x_sim_disputed"].as_i64().unwrap_or(0) + amount);
        }
        dispute["status"] = json!(outcome);
        state.disputes.insert(id.to_owned(), dispute.clone());
        dispute
    };
    if outcome == "won" {
        emit(sim, "charge.dispute.funds_reinstated", closed.clone(), None);
    }
    emit(sim, "charge.dispute.closed", closed.clone(), None);
    json_response(StatusCode::OK, &closed)
}

/// A refund that Stripe reported succeeded fails after all (the card was closed, say): the money
/// comes back to the charge.
fn fail_refund(state: &mut super::State, id: &str) -> Result<Value, super::api::ApiError> {
    let refund = state
        .refunds
        .get_mut(id)
        .ok_or_else(|| missing("refund", id))?;
    refund["status"] = json!("failed");
    refund["failure_reason"] = json!("lost_or_stolen_card");
    let refund = refund.clone();
    let amount = refund["amount"].as_i64().unwrap_or(0);
    if let Some(charge) = refund["charge"]
        .as_str()
        .and_then(|c| state.charges.get_mut(c))
    {
        let refunded = charge["amount_refunded"].as_i64().unwrap_or(0) - amount;
        charge["amount_refunded"] = json!(refunded.max(0));
        charge["refunded"] = json!(false);
        if let Some(list) = charge["refunds"]["data"].as_array_mut() {
            for listed in list.iter_mut().filter(|r| r["id"] == id) {
                *listed = refund.clone();
            }
        }
    }
    Ok(refund)
}
