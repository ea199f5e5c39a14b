//! Transfers to connected accounts in the simulated API: creating one (funded by a charge, never
//! more than it holds), listing them by transfer group, and reversing them.

use serde_json::{Value, json};

use super::State;
use super::api::{ApiError, invalid, missing};
use super::params::{Params, param, submap};
use super::{new_id, now};

/// `POST /v1/transfers`: to a ready connected account, from a charge's remaining funds.
pub(crate) fn create_transfer(state: &mut State, params: &Params) -> Result<Value, ApiError> {
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
            .cloned()
            .ok_or_else(|| missing("charge", charge_id))?;
        if charge["currency"].as_str() != Some(currency.as_str()) {
            return Err(invalid(
                "currency_mismatch",
                "the transfer currency must match the source transaction",
                Some("currency"),
            ));
        }
        let already: i64 = state
            .transfers_where("source_transaction", charge_id)
            .iter()
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
    state.add_transfer(id, transfer.clone());
    Ok(transfer)
}

/// `GET /v1/transfers`: newest first, filtered by `transfer_group` and `destination` when given,
/// at most `limit` (default 10, at most 100).
pub(crate) fn list_transfers(state: &mut State, params: &Params) -> Value {
    let group = param(params, "transfer_group");
    let destination = param(params, "destination");
    let limit = param(params, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    // From an index when filtered (as the app always asks), else every transfer.
    let candidates: Vec<Value> = match (group, destination) {
        (Some(group), _) => state.transfers_where("transfer_group", group),
        (None, Some(destination)) => state.transfers_where("destination", destination),
        (None, None) => state.transfers.all().into_iter().cloned().collect(),
    };
    let mut found: Vec<&Value> = candidates
        .iter()
        .filter(|t| group.is_none_or(|g| t["transfer_group"].as_str() == Some(g)))
        .filter(|t| destination.is_none_or(|d| t["destination"].as_str() == Some(d)))
        .collect();
    found.sort_by(|a, b| {
        b["created"]
            .as_i64()
            .cmp(&a["created"].as_i64())
            .then_with(|| b["id"].as_str().cmp(&a["id"].as_str()))
    });
    let has_more = found.len() > limit;
    let data: Vec<Value> = found.into_iter().take(limit).cloned().collect();
    json!({"object": "list", "url": "/v1/transfers", "has_more": has_more, "data": data})
}

/// `POST /v1/transfers/{id}/reversals`: at most what is left of the transfer.
pub(crate) fn create_reversal(
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
