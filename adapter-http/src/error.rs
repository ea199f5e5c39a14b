//! The one error response of the API: `{"error": {"code", "message", "fields"}}` with the status
//! that says what happened. Use-case errors map here by their kind (every kind has its status, so
//! no message is ever read to pick one); request parsing errors (bad JSON, wrong types, bad path
//! parameters, missing credentials) come through [`ApiError::from_request_error`], so no malformed
//! input ever yields a 500.

use std::collections::BTreeMap;

use marketplace_domain::validation::FieldErrors;
use marketplace_ports::use_cases::{ErrorKind, UseCaseError};
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
    /// Messages per input field, for validation errors (absent otherwise).
    #[oai(skip_serializing_if_is_empty, default)]
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

    /// 400 `invalid_parameter` naming a query or path parameter.
    pub fn bad_parameter(name: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = BTreeMap::new();
        fields.insert(name.to_owned(), vec![message.clone()]);
        ApiError::BadRequest(Json(ErrorBody {
            error: ErrorDetail {
                code: "invalid_parameter".to_owned(),
                message: format!("{name}: {message}"),
                fields,
            },
        }))
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
            StatusCode::SERVICE_UNAVAILABLE => ApiError::Unavailable(body("unavailable", message)),
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

impl<E: UseCaseError> From<E> for ApiError {
    /// Every use case's error, by its kind: the status and code come from the kind, the message
    /// from the error itself, except where the kind says the error is for the logs only.
    fn from(error: E) -> Self {
        match error.kind() {
            ErrorKind::NotFound => ApiError::not_found(error.to_string()),
            ErrorKind::BadRequest { code } => {
                tracing::warn!(%error, "request refused");
                ApiError::bad_request(code, error.to_string())
            }
            ErrorKind::Unauthenticated { code } => {
                ApiError::Unauthorized(body(code, error.to_string()))
            }
            ErrorKind::Forbidden { code } => ApiError::forbidden(code, error.to_string()),
            ErrorKind::Conflict { code } => ApiError::conflict(code, error.to_string()),
            ErrorKind::Invalid(fields) => ApiError::invalid(fields),
            ErrorKind::Unprocessable { code } => {
                ApiError::Unprocessable(body(code, error.to_string()))
            }
            ErrorKind::TooLarge => ApiError::too_large(error.to_string()),
            ErrorKind::Throttled {
                retry_after_seconds,
            } => {
                ApiError::TooManyRequests(body("throttled", error.to_string()), retry_after_seconds)
            }
            ErrorKind::Unavailable { code, message } => {
                tracing::warn!(%error, code, "a dependency is unavailable");
                ApiError::Unavailable(body(code, message))
            }
            ErrorKind::ProviderRejected => {
                tracing::error!(%error, "the payment provider rejected a request");
                ApiError::BadGateway(body(
                    "payment_provider_error",
                    "the payment provider refused the request; it has been logged",
                ))
            }
            ErrorKind::Internal => ApiError::internal(&error),
        }
    }
}

/// The result type of every operation.
pub type ApiResult<T> = Result<T, ApiError>;
