//! The one error response of the API: `{"error": {"code", "message", "fields"}}` with the status
//! that says what happened. Use-case errors map here exhaustively; request parsing errors (bad
//! JSON, wrong types, bad path parameters, missing credentials) come through
//! [`ApiError::from_request_error`], so no malformed input ever yields a 500.

use std::collections::BTreeMap;

use marketplace_domain::cart::CartError;
use marketplace_domain::files::UploadError;
use marketplace_domain::validation::FieldErrors;
use marketplace_ports::ports::{PaymentError, StoreError};
use marketplace_ports::use_cases::accounts::AccountError;
use marketplace_ports::use_cases::admin::AdminError;
use marketplace_ports::use_cases::cart::CartFailure;
use marketplace_ports::use_cases::catalog::CatalogError;
use marketplace_ports::use_cases::connect::ConnectFailure;
use marketplace_ports::use_cases::files::FileError;
use marketplace_ports::use_cases::listings::ListingError;
use marketplace_ports::use_cases::money::MoneyFailure;
use marketplace_ports::use_cases::orders::OrderFailure;
use marketplace_ports::use_cases::webhooks::WebhookFailure;
use poem::http::StatusCode;
use poem_openapi::error::{ParseMultipartError, ParseParamError};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use crate::json::JsonBodyError;

/// The error envelope.
#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, Object)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Messages per input field, for validation errors.
    #[oai(skip_serializing_if_is_empty)]
    pub fields: BTreeMap<String, Vec<String>>,
}

/// Every error status the API answers with.
#[derive(Debug, ApiResponse)]
#[oai(bad_request_handler = "ApiError::from_request_error")]
pub enum ApiError {
    /// The request is malformed (bad JSON, bad parameter syntax).
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Missing or invalid credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// Authenticated, but not allowed (where the thing's existence is not secret).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such thing — or not yours.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The state changed or the thing is in use.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The body or uploaded file is too large.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// Well-formed but invalid input; `fields` says which and why.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Too many attempts; retry after the given seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Our fault. Logged with its cause; the message stays generic.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The payment provider refused our request (logged; nothing was charged).
    #[oai(status = 502)]
    BadGateway(Json<ErrorBody>),
    /// A dependency (database, payment provider) is unavailable; retry shortly.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

fn body(code: &str, message: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message: message.into(),
            fields: BTreeMap::new(),
        },
    })
}

impl ApiError {
    /// 400 with a code.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        ApiError::BadRequest(body(code, message))
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::Unauthorized(body("unauthenticated", message))
    }

    /// 403 with a code.
    pub fn forbidden(code: &str, message: impl Into<String>) -> Self {
        ApiError::Forbidden(body(code, message))
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound(body("not_found", message))
    }

    /// 409 with a code.
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        ApiError::Conflict(body(code, message))
    }

    /// 413.
    pub fn too_large(message: impl Into<String>) -> Self {
        ApiError::PayloadTooLarge(body("payload_too_large", message))
    }

    /// 422 with per-field messages.
    pub fn invalid(fields: FieldErrors) -> Self {
        let message = if fields.is_empty() {
            "the request is invalid".to_owned()
        } else {
            format!("the request is invalid: {fields}")
        };
        ApiError::Unprocessable(Json(ErrorBody {
            error: ErrorDetail {
                code: "validation_failed".to_owned(),
                message,
                fields: fields.fields().clone(),
            },
        }))
    }

    /// 422 on one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(FieldErrors::single(field, message))
    }

    /// 500, logging the cause (never shown to the client).
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        ApiError::Internal(body(
            "internal_error",
            "something went wrong on our side; it has been logged",
        ))
    }

    /// The status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests(..) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Converts any error raised while extracting a request (payload, parameters, credentials,
    /// body limits) into the envelope, keeping its status meaning.
    pub fn from_request_error(error: poem::Error) -> Self {
        let message = error.to_string();
        match error.status() {
            StatusCode::UNAUTHORIZED => ApiError::unauthorized(
                "authentication required: send `Authorization: Bearer <token>` or the session cookie",
            ),
            StatusCode::FORBIDDEN => ApiError::forbidden("csrf_failed", message),
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(message),
            StatusCode::NOT_FOUND => ApiError::not_found(message),
            StatusCode::METHOD_NOT_ALLOWED => ApiError::bad_request("method_not_allowed", message),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ApiError::bad_request("unsupported_media_type", message)
            }
            _ if message.contains(crate::limits::BODY_TOO_LARGE) => {
                ApiError::too_large(crate::limits::BODY_TOO_LARGE)
            }
            _ => {
                if let Some(json) = error.downcast_ref::<JsonBodyError>() {
                    return match json {
                        JsonBodyError::Invalid { field, message } => {
                            ApiError::invalid_field(field, message.clone())
                        }
                        JsonBodyError::Malformed(_) => {
                            ApiError::bad_request("malformed_json", json.to_string())
                        }
                        JsonBodyError::NotJson => {
                            ApiError::bad_request("unsupported_media_type", json.to_string())
                        }
                    };
                }
                if let Some(param) = error.downcast_ref::<ParseParamError>() {
                    return ApiError::invalid_field(param.name, param.reason.clone());
                }
                if error.is::<ParseMultipartError>() {
                    return ApiError::invalid_field("body", message);
                }
                ApiError::bad_request("bad_request", message)
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::not_found("not found"),
            StoreError::Conflict { constraint } => ApiError::conflict(
                "conflict",
                format!("the change conflicts with existing data ({constraint})"),
            ),
            StoreError::Unavailable(cause) => {
                tracing::error!(%cause, "store unavailable");
                ApiError::Unavailable(body(
                    "unavailable",
                    "the database is unavailable; retry shortly",
                ))
            }
        }
    }
}

impl From<UploadError> for ApiError {
    fn from(error: UploadError) -> Self {
        match error {
            UploadError::TooLarge { .. } => ApiError::too_large(error.to_string()),
            UploadError::Empty | UploadError::NotAnImage | UploadError::UnsupportedAsset { .. } => {
                ApiError::invalid_field("file", error.to_string())
            }
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Invalid(fields) => ApiError::invalid(fields),
            AccountError::InvalidCredentials => {
                ApiError::Unauthorized(body("invalid_credentials", error.to_string()))
            }
            AccountError::Throttled {
                retry_after_seconds,
            } => {
                ApiError::TooManyRequests(body("throttled", error.to_string()), retry_after_seconds)
            }
            AccountError::NotFound => ApiError::not_found(error.to_string()),
            AccountError::Upload(upload) => upload.into(),
            AccountError::Store(store) => store.into(),
            AccountError::Crypto(crypto) => ApiError::internal(&crypto),
        }
    }
}

impl From<CatalogError> for ApiError {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::Invalid(fields) => ApiError::invalid(fields),
            CatalogError::NotFound => ApiError::not_found(error.to_string()),
            CatalogError::Forbidden => ApiError::forbidden("forbidden", error.to_string()),
            CatalogError::InUse => ApiError::conflict("category_in_use", error.to_string()),
            CatalogError::Store(store) => store.into(),
        }
    }
}

impl From<ListingError> for ApiError {
    fn from(error: ListingError) -> Self {
        match error {
            ListingError::Invalid(fields) => ApiError::invalid(fields),
            ListingError::NotFound => ApiError::not_found(error.to_string()),
            ListingError::NotASeller => ApiError::forbidden("not_a_seller", error.to_string()),
            ListingError::ConnectNotReady => {
                ApiError::forbidden("connect_not_ready", error.to_string())
            }
            ListingError::Upload(upload) => upload.into(),
            ListingError::Store(store) => store.into(),
        }
    }
}

impl From<FileError> for ApiError {
    fn from(error: FileError) -> Self {
        match error {
            FileError::NotFound => ApiError::not_found(error.to_string()),
            FileError::Store(store) => store.into(),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(error: AdminError) -> Self {
        match error {
            AdminError::Forbidden => ApiError::forbidden("forbidden", error.to_string()),
            AdminError::NotFound => ApiError::not_found(error.to_string()),
            AdminError::Invalid(fields) => ApiError::invalid(fields),
            AdminError::NotPaidOut => ApiError::conflict("not_paid_out", error.to_string()),
            AdminError::NothingToRecover => {
                ApiError::conflict("nothing_to_recover", error.to_string())
            }
            AdminError::Inconsistent(message) => {
                tracing::error!(%message, "an order's money does not add up");
                ApiError::conflict(
                    "order_money_inconsistent",
                    "this order's money does not add up; it needs a look before money moves",
                )
            }
            AdminError::Store(store) => store.into(),
        }
    }
}

impl From<PaymentError> for ApiError {
    fn from(error: PaymentError) -> Self {
        match error {
            PaymentError::Declined { message } => {
                ApiError::Conflict(body("payment_declined", message))
            }
            PaymentError::Transient { message } => {
                tracing::warn!(%message, "the payment provider is unavailable");
                ApiError::Unavailable(body(
                    "payment_provider_unavailable",
                    "the payment provider is unavailable; retry shortly",
                ))
            }
            PaymentError::Rejected { code, message } => {
                tracing::error!(%code, %message, "the payment provider rejected a request");
                ApiError::BadGateway(body(
                    "payment_provider_error",
                    "the payment provider refused the request; it has been logged",
                ))
            }
        }
    }
}

/// The 409 answer for a product that cannot be bought, with a code per reason.
fn cart_refusal(reason: &CartError, message: String) -> ApiError {
    let code = match reason {
        CartError::InvalidQuantity => {
            return ApiError::invalid_field("quantity", message);
        }
        CartError::Inactive => "listing_unavailable",
        CartError::SellerNotReady => "seller_not_ready",
        CartError::OwnListing => "own_listing",
    };
    ApiError::Conflict(body(code, message))
}

impl From<CartFailure> for ApiError {
    fn from(error: CartFailure) -> Self {
        match error {
            CartFailure::Invalid(fields) => ApiError::invalid(fields),
            CartFailure::Refused(reason) => {
                let message = reason.to_string();
                cart_refusal(&reason, message)
            }
            CartFailure::NotFound => ApiError::not_found("no such product in the catalog or cart"),
            CartFailure::Store(store) => store.into(),
            CartFailure::Crypto(crypto) => ApiError::internal(&crypto),
            CartFailure::Money(money) => ApiError::invalid_field("quantity", money.to_string()),
        }
    }
}

impl From<OrderFailure> for ApiError {
    fn from(error: OrderFailure) -> Self {
        match error {
            OrderFailure::Invalid(fields) => ApiError::invalid(fields),
            OrderFailure::EmptyCart => ApiError::conflict("cart_empty", error.to_string()),
            OrderFailure::Refused {
                ref title,
                ref reason,
            } => {
                let message = if title.is_empty() {
                    reason.to_string()
                } else {
                    error.to_string()
                };
                cart_refusal(reason, message)
            }
            OrderFailure::NotFound => ApiError::not_found(error.to_string()),
            OrderFailure::NotPayable(_) => {
                ApiError::conflict("order_not_payable", error.to_string())
            }
            OrderFailure::NotPaid => ApiError::forbidden("order_not_paid", error.to_string()),
            OrderFailure::PaymentInProgress => {
                ApiError::conflict("payment_in_progress", error.to_string())
            }
            OrderFailure::SellersNotReady(_) => {
                ApiError::conflict("sellers_not_ready", error.to_string())
            }
            OrderFailure::Payment(payment) => payment.into(),
            OrderFailure::Pricing(pricing) => {
                ApiError::Unprocessable(body("cannot_price_order", pricing.to_string()))
            }
            OrderFailure::Store(store) => store.into(),
            OrderFailure::Crypto(crypto) => ApiError::internal(&crypto),
            OrderFailure::Booking(booking) => ApiError::internal(&booking),
        }
    }
}

impl From<ConnectFailure> for ApiError {
    fn from(error: ConnectFailure) -> Self {
        match error {
            ConnectFailure::NotASeller => ApiError::forbidden("not_a_seller", error.to_string()),
            ConnectFailure::Invalid(fields) => ApiError::invalid(fields),
            ConnectFailure::NotStarted => {
                ApiError::conflict("onboarding_not_started", error.to_string())
            }
            ConnectFailure::Payment(payment) => payment.into(),
            ConnectFailure::Store(store) => store.into(),
        }
    }
}

impl From<MoneyFailure> for ApiError {
    fn from(error: MoneyFailure) -> Self {
        match error {
            MoneyFailure::NotASeller => ApiError::forbidden("not_a_seller", error.to_string()),
            MoneyFailure::Store(store) => store.into(),
        }
    }
}

impl From<WebhookFailure> for ApiError {
    fn from(error: WebhookFailure) -> Self {
        match error {
            WebhookFailure::Verification(verification) => {
                tracing::warn!(error = %verification, "webhook refused");
                ApiError::bad_request("webhook_verification_failed", verification.to_string())
            }
            // Whatever failed was rolled back: a 5xx makes Stripe deliver the event again.
            WebhookFailure::Store(store @ StoreError::Unavailable(_)) => store.into(),
            WebhookFailure::Store(store) => {
                tracing::warn!(error = %store, "webhook processing failed; Stripe will retry");
                ApiError::Unavailable(body(
                    "retry_later",
                    "the event could not be applied now; deliver it again",
                ))
            }
        }
    }
}

/// The result type of every operation.
pub type ApiResult<T> = Result<T, ApiError>;
