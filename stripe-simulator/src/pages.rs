//! The simulator's hosted pages: checkout (pay, or pay with a delayed method) and Connect onboarding.

use std::sync::Arc;

use poem::http::{Method, StatusCode};
use poem::{Request, Response};
use serde_json::{Value, json};

use super::api::public;
use super::params::{param, parse_params};
use super::{Sim, emit, new_id, now};

const BANNER: &str = "<div style=\"background:#b91c1c;color:#fff;padding:10px;font:bold 15px sans-serif;text-align:center\">\
    STRIPE SIMULATOR — test mode, no real money moves. Run with STRIPE_SECRET_KEY to use Stripe.</div>";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> Response {
    html(StatusCode::OK, title, body)
}

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let document = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title></head>\
         <body style=\"margin:0;font-family:sans-serif\">{BANNER}<main style=\"max-width:560px;margin:24px auto;padding:0 16px\">{body}</main></body></html>",
        escape(title)
    );
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .body(document)
}

fn redirect(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header("Location", to)
        .finish()
}

fn money(cents: i64, currency: &str) -> String {
    format!(
        "{}.{:02} {}",
        cents / 100,
        cents % 100,
        currency.to_uppercase()
    )
}

/// Serves the hosted pages.
pub(crate) async fn handle(sim: Arc<Sim>, mut request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let form = parse_params(&request.take_body().into_string().await.unwrap_or_default());
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        (Method::GET, ["checkout", id]) => checkout_page(&sim, id),
        (Method::POST, ["checkout", id, "pay"]) => pay(&sim, id, &form),
        (Method::GET, ["connect", "onboard", link]) => onboarding_page(&sim, link),
        (Method::POST, ["connect", "onboard", link]) => complete_onboarding(&sim, link),
        _ => html(StatusCode::NOT_FOUND, "Not found", "<p>Nothing here.</p>"),
    }
}

fn checkout_page(sim: &Arc<Sim>, id: &str) -> Response {
    let Some(session) = sim.state().sessions.get(id).cloned() else {
        return html(
            StatusCode::NOT_FOUND,
            "Unknown session",
            "<p>This checkout session does not exist.</p>",
        );
    };
    if session["status"] != "open" {
        let status = session["status"].as_str().unwrap_or_default();
        return html(
            StatusCode::GONE,
            "Checkout closed",
            &format!("<p>This checkout session is {}.</p>", escape(status)),
        );
    }
    let currency = session["currency"].as_str().unwrap_or("usd");
    let mut rows = String::new();
    for line in session["x_sim"]["lines"].as_array().into_iter().flatten() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>× {}</td><td style=\"text-align:right\">{}</td></tr>",
            escape(line["name"].as_str().unwrap_or_default()),
            line["quantity"],
            money(
                line["unit_amount"].as_i64().unwrap_or(0) * line["quantity"].as_i64().unwrap_or(0),
                currency
            )
        ));
    }
    let shipping = match session["shipping_address_collection"]["allowed_countries"].as_array() {
        Some(countries) => {
            let options: String = countries
                .iter()
                .filter_map(Value::as_str)
                .map(|c| format!("<option>{}</option>", escape(c)))
                .collect();
            format!(
                "<fieldset><legend>Shipping address</legend>\
                 <p><input name=\"name\" value=\"Test Buyer\"> <input name=\"phone\" value=\"+15555550123\"></p>\
                 <p><input name=\"line1\" value=\"1 Test Street\"> <input name=\"city\" value=\"Springfield\"></p>\
                 <p><input name=\"state\" value=\"IL\"> <input name=\"postal_code\" value=\"62701\"> <select name=\"country\">{options}</select></p>\
                 </fieldset>"
            )
        }
        None => String::new(),
    };
    page(
        "Pay",
        &format!(
            "<h1>Checkout</h1><table style=\"width:100%\">{rows}</table><p><b>Total: {}</b></p>\
             <form method=\"post\" action=\"/checkout/{id}/pay\">{shipping}\
             <p><button name=\"method\" value=\"card\">Pay</button> \
             <button name=\"method\" value=\"delayed\">Pay by bank transfer (settles later)</button></p></form>\
             <p><a href=\"{}\">Cancel and return to the shop</a></p>",
            money(session["amount_total"].as_i64().unwrap_or(0), currency),
            escape(session["cancel_url"].as_str().unwrap_or_default())
        ),
    )
}

/// Completes a session: a payment intent and (unless the method is delayed) its charge, then
/// `checkout.session.completed` and a redirect to the success URL.
fn pay(sim: &Arc<Sim>, id: &str, form: &[(String, String)]) -> Response {
    let form: Vec<(String, String)> = form.to_vec();
    let delayed = param(&form, "method") == Some("delayed");
    let (session, success_url) = {
        let mut state = sim.state();
        let Some(session) = state.sessions.get(id).cloned() else {
            return html(
                StatusCode::NOT_FOUND,
                "Unknown session",
                "<p>This checkout session does not exist.</p>",
            );
        };
        if session["status"] != "open" {
            return html(
                StatusCode::GONE,
                "Checkout closed",
                "<p>This checkout session is no longer open.</p>",
            );
        }
        let amount = session["amount_total"].as_i64().unwrap_or(0);
        let currency = session["currency"].clone();
        let intent_id = new_id("pi");
        let charge_id = (!delayed).then(|| new_id("ch"));
        state.intents.insert(
            intent_id.clone(),
            json!({"id": intent_id, "object": "payment_intent", "amount": amount, "currency": currency,
                   "status": if delayed { "processing" } else { "succeeded" }, "latest_charge": charge_id,
                   "metadata": session["x_sim"]["payment_intent_metadata"],
                   "transfer_group": session["x_sim"]["transfer_group"], "created": now()}),
        );
        if let Some(charge_id) = &charge_id {
            state.charges.insert(
                charge_id.clone(),
                new_charge(charge_id, &intent_id, amount, &currency, &session),
            );
        }
        let shipping = param(&form, "line1").map(|line1| {
            json!({"name": param(&form, "name"), "address": {
                "line1": line1, "line2": null, "city": param(&form, "city"), "state": param(&form, "state"),
                "postal_code": param(&form, "postal_code"), "country": param(&form, "country")}})
        });
        let Some(stored) = state.sessions.get_mut(id) else {
            return html(
                StatusCode::NOT_FOUND,
                "Unknown session",
                "<p>This checkout session does not exist.</p>",
            );
        };
        stored["status"] = json!("complete");
        stored["payment_status"] = json!(if delayed { "unpaid" } else { "paid" });
        stored["payment_intent"] = json!(intent_id);
        stored["customer_details"] = json!({
            "email": session["customer_email"].as_str().unwrap_or("buyer@simulator.test"),
            "name": param(&form, "name"), "phone": param(&form, "phone"),
        });
        stored["collected_information"] = json!({"shipping_details": shipping});
        let success = session["success_url"]
            .as_str()
            .unwrap_or_default()
            .replace("{CHECKOUT_SESSION_ID}", id);
        (public(stored.clone()), success)
    };
    emit(sim, "checkout.session.completed", session, None);
    redirect(&success_url)
}

fn new_charge(
    charge_id: &str,
    intent_id: &str,
    amount: i64,
    currency: &Value,
    session: &Value,
) -> Value {
    json!({
        "id": charge_id, "object": "charge", "amount": amount, "amount_captured": amount, "amount_refunded": 0,
        "captured": true, "currency": currency, "paid": true, "refunded": false, "status": "succeeded",
        "payment_intent": intent_id, "transfer_group": session["x_sim"]["transfer_group"],
        "metadata": session["x_sim"]["payment_intent_metadata"], "created": now(), "livemode": false,
        "refunds": {"object": "list", "data": [], "has_more": false, "url": format!("/v1/charges/{charge_id}/refunds")},
    })
}

/// Settles a delayed payment: succeeded creates the charge; failed leaves the session unpaid.
pub(crate) fn settle(sim: &Arc<Sim>, id: &str, succeeded: bool) -> Response {
    let session = {
        let mut state = sim.state();
        let Some(session) = state.sessions.get(id).cloned() else {
            return Response::builder()
                .status(StatusCode::NOT_FOUND)
                .body("unknown session");
        };
        let Some(intent_id) = session["payment_intent"].as_str().map(str::to_owned) else {
            return Response::builder()
                .status(StatusCode::BAD_REQUEST)
                .body("the session has no payment yet");
        };
        if succeeded {
            let charge_id = new_id("ch");
            let amount = session["amount_total"].as_i64().unwrap_or(0);
            let charge = new_charge(
                &charge_id,
                &intent_id,
                amount,
                &session["currency"],
                &session,
            );
            state.charges.insert(charge_id.clone(), charge);
            if let Some(intent) = state.intents.get_mut(&intent_id) {
                intent["status"] = json!("succeeded");
                intent["latest_charge"] = json!(charge_id);
            }
        } else if let Some(intent) = state.intents.get_mut(&intent_id) {
            intent["status"] = json!("requires_payment_method");
        }
        let Some(stored) = state.sessions.get_mut(id) else {
            return Response::builder()
                .status(StatusCode::NOT_FOUND)
                .body("unknown session");
        };
        if succeeded {
            stored["payment_status"] = json!("paid");
        }
        public(stored.clone())
    };
    let kind = if succeeded {
        "checkout.session.async_payment_succeeded"
    } else {
        "checkout.session.async_payment_failed"
    };
    emit(sim, kind, session.clone(), None);
    Response::builder()
        .status(StatusCode::OK)
        .content_type("application/json")
        .body(session.to_string())
}

fn onboarding_page(sim: &Arc<Sim>, link: &str) -> Response {
    let Some(found) = sim.state().links.get(link).cloned() else {
        return html(
            StatusCode::NOT_FOUND,
            "Unknown link",
            "<p>This onboarding link does not exist.</p>",
        );
    };
    if found["used"] == true || found["expires_at"].as_i64().unwrap_or(0) < now() {
        let refresh = found["refresh_url"].as_str().unwrap_or_default();
        return html(
            StatusCode::GONE,
            "Link expired",
            &format!(
                "<p>This onboarding link has expired. <a href=\"{}\">Get a new one</a>.</p>",
                escape(refresh)
            ),
        );
    }
    let account = found["account"].as_str().unwrap_or_default();
    page(
        "Onboarding",
        &format!(
            "<h1>Set up payouts</h1><p>Account <code>{}</code></p>\
             <p>The simulator skips identity checks and bank details.</p>\
             <form method=\"post\" action=\"/connect/onboard/{link}\"><button>Complete onboarding</button></form>\
             <p><a href=\"{}\">Leave without finishing and return to the shop</a></p>",
            escape(account),
            escape(found["return_url"].as_str().unwrap_or_default())
        ),
    )
}

/// Marks the link's account fully enabled, sends `account.updated` to the Connect endpoint and
/// returns the seller to the app.
fn complete_onboarding(sim: &Arc<Sim>, link: &str) -> Response {
    let (account, return_url) = {
        let mut state = sim.state();
        let Some(found) = state.links.get_mut(link) else {
            return html(
                StatusCode::NOT_FOUND,
                "Unknown link",
                "<p>This onboarding link does not exist.</p>",
            );
        };
        found["used"] = json!(true);
        let account_id = found["account"].as_str().unwrap_or_default().to_owned();
        let return_url = found["return_url"].as_str().unwrap_or_default().to_owned();
        let Some(account) = state.accounts.get_mut(&account_id) else {
            return html(
                StatusCode::NOT_FOUND,
                "Unknown account",
                "<p>The account is gone.</p>",
            );
        };
        for flag in ["details_submitted", "charges_enabled", "payouts_enabled"] {
            account[flag] = json!(true);
        }
        account["capabilities"] = json!({"card_payments": "active", "transfers": "active"});
        (account.clone(), return_url)
    };
    let id = account["id"].as_str().unwrap_or_default().to_owned();
    emit(sim, "account.updated", account, Some(&id));
    redirect(&return_url)
}
