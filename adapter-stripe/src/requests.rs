//! The requests we send to Stripe, built as plain data so a test can check every parameter against
//! the parameters Stripe accepts for that endpoint.

use marketplace_domain::money::Cents;
use marketplace_ports::ports::{NewCheckoutSession, NewRefund, NewTransfer};

use crate::form::{Form, FormValue};

/// HTTP method of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Reads.
    Get,
    /// Creates and changes.
    Post,
}

/// One request to Stripe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StripeRequest {
    /// Method.
    pub method: Method,
    /// Concrete path (`/v1/transfers/tr_1/reversals`).
    pub path: String,
    /// The endpoint as Stripe documents it (`POST /v1/transfers/{id}/reversals`).
    pub endpoint: &'static str,
    /// Parameters (form body for POST, query for GET).
    pub form: Form,
}

fn metadata(values: &std::collections::BTreeMap<String, String>) -> Form {
    values.iter().fold(Form::new(), |form, (key, value)| {
        form.text(key, value.as_str())
    })
}

/// `POST /v1/checkout/sessions`.
pub fn create_checkout_session(session: &NewCheckoutSession) -> StripeRequest {
    let lines = session
        .lines
        .iter()
        .map(|line| {
            FormValue::Map(
                Form::new()
                    .map(
                        "price_data",
                        Form::new()
                            .text("currency", session.currency.as_str())
                            .map("product_data", Form::new().text("name", line.name.as_str()))
                            .int("unit_amount", line.unit_amount.get()),
                    )
                    .int("quantity", i64::from(line.quantity)),
            )
        })
        .collect();
    let mut form = Form::new()
        .text("mode", "payment")
        .list("line_items", lines)
        .text("success_url", session.success_url.as_str())
        .text("cancel_url", session.cancel_url.as_str())
        .text("client_reference_id", session.client_reference_id.as_str())
        .map("metadata", metadata(&session.metadata))
        .map(
            "payment_intent_data",
            Form::new()
                .map("metadata", metadata(&session.metadata))
                .text("transfer_group", session.transfer_group.as_str()),
        )
        .text("billing_address_collection", "required")
        .text_opt("customer_email", session.customer_email.as_deref());
    if let Some(countries) = &session.shipping_countries {
        form = form
            .map(
                "shipping_address_collection",
                Form::new().list(
                    "allowed_countries",
                    countries
                        .iter()
                        .map(|c| FormValue::Text(c.clone()))
                        .collect(),
                ),
            )
            .map(
                "phone_number_collection",
                Form::new().boolean("enabled", true),
            );
    }
    StripeRequest {
        method: Method::Post,
        path: "/v1/checkout/sessions".to_owned(),
        endpoint: "POST /v1/checkout/sessions",
        form,
    }
}

/// `GET /v1/checkout/sessions/{id}`.
pub fn retrieve_checkout_session(id: &str) -> StripeRequest {
    StripeRequest {
        method: Method::Get,
        path: format!("/v1/checkout/sessions/{id}"),
        endpoint: "GET /v1/checkout/sessions/{id}",
        form: Form::new(),
    }
}

/// `GET /v1/payment_intents/{id}`.
pub fn retrieve_payment_intent(id: &str) -> StripeRequest {
    StripeRequest {
        method: Method::Get,
        path: format!("/v1/payment_intents/{id}"),
        endpoint: "GET /v1/payment_intents/{id}",
        form: Form::new(),
    }
}

/// `GET /v1/transfers` of one transfer group, as many as one page holds (100).
pub fn list_transfers_of_group(transfer_group: &str) -> StripeRequest {
    StripeRequest {
        method: Method::Get,
        path: "/v1/transfers".to_owned(),
        endpoint: "GET /v1/transfers",
        form: Form::new()
            .text("transfer_group", transfer_group)
            .int("limit", 100),
    }
}

/// `GET /v1/charges/{id}` with its refunds expanded.
pub fn retrieve_charge_with_refunds(id: &str) -> StripeRequest {
    StripeRequest {
        method: Method::Get,
        path: format!("/v1/charges/{id}"),
        endpoint: "GET /v1/charges/{id}",
        form: Form::new().list("expand", vec![FormValue::Text("refunds".to_owned())]),
    }
}

/// `POST /v1/transfers`.
pub fn create_transfer(transfer: &NewTransfer) -> StripeRequest {
    StripeRequest {
        method: Method::Post,
        path: "/v1/transfers".to_owned(),
        endpoint: "POST /v1/transfers",
        form: Form::new()
            .int("amount", transfer.amount.get())
            .text("currency", transfer.currency.as_str())
            .text("destination", transfer.destination.as_str())
            .text_opt("source_transaction", transfer.source_transaction.as_deref())
            .text("transfer_group", transfer.transfer_group.as_str())
            .map("metadata", metadata(&transfer.metadata)),
    }
}

/// `POST /v1/transfers/{id}/reversals`.
pub fn create_transfer_reversal(transfer_id: &str, amount: Cents) -> StripeRequest {
    StripeRequest {
        method: Method::Post,
        path: format!("/v1/transfers/{transfer_id}/reversals"),
        endpoint: "POST /v1/transfers/{id}/reversals",
        form: Form::new().int("amount", amount.get()),
    }
}

/// `POST /v1/refunds`.
pub fn create_refund(refund: &NewRefund) -> StripeRequest {
    StripeRequest {
        method: Method::Post,
        path: "/v1/refunds".to_owned(),
        endpoint: "POST /v1/refunds",
        form: Form::new()
            .text("payment_intent", refund.payment_intent.as_str())
            .int("amount", refund.amount.get())
            .map("metadata", metadata(&refund.metadata)),
    }
}

/// `POST /v1/accounts` for an Express account.
pub fn create_express_account(email: &str, country: &str) -> StripeRequest {
    StripeRequest {
        method: Method::Post,
        path: "/v1/accounts".to_owned(),
        endpoint: "POST /v1/accounts",
        form: Form::new()
            .text("type", "express")
            .text("country", country)
            .text("email", email)
            .map(
                "capabilities",
                Form::new()
                    .map("card_payments", Form::new().boolean("requested", true))
                    .map("transfers", Form::new().boolean("requested", true)),
            )
            .text("business_type", "individual"),
    }
}

/// `POST /v1/account_links` for onboarding.
pub fn create_account_link(account: &str, refresh_url: &str, return_url: &str) -> StripeRequest {
    StripeRequest {
        method: Method::Post,
        path: "/v1/account_links".to_owned(),
        endpoint: "POST /v1/account_links",
        form: Form::new()
            .text("account", account)
            .text("refresh_url", refresh_url)
            .text("return_url", return_url)
            .text("type", "account_onboarding"),
    }
}

/// `GET /v1/accounts/{id}`.
pub fn retrieve_account(id: &str) -> StripeRequest {
    StripeRequest {
        method: Method::Get,
        path: format!("/v1/accounts/{id}"),
        endpoint: "GET /v1/accounts/{id}",
        form: Form::new(),
    }
}
