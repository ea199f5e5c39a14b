//! What a page answers when something goes wrong: a page in the site's style with the status
//! that says what happened (404 for what is absent or not the visitor's, 403, 503 to retry, 500).
//! Failures a form can explain are not errors here: the handler re-renders the form with the
//! field messages, or redirects with a flash message.

use marketplace_ports::use_cases::{ErrorKind, UseCaseError};
use maud::html;
use poem::Response;
use poem::error::{NotFoundError, ResponseError};
use poem::http::StatusCode;

use crate::page::bare_page;

/// A failure that ends a request with an error page (or a redirect to sign in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebError {
    /// 404: absent, or not the visitor's to see.
    NotFound,
    /// 303 to the sign-in page, coming back to `next` afterwards.
    SignIn {
        /// Where to come back to.
        next: String,
    },
    /// 403: known visitor, not allowed.
    Forbidden(String),
    /// 400: a request no form of ours sends (bad parameters, an expired form token).
    BadRequest(String),
    /// 413: a body larger than the site accepts.
    TooLarge,
    /// 429: too many attempts.
    Throttled,
    /// 503: a dependency is unavailable; retry shortly.
    Unavailable,
    /// 500: a bug; logged where it happened.
    Internal,
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.title())
    }
}

impl std::error::Error for WebError {}

impl WebError {
    /// The error page's heading.
    fn title(&self) -> &'static str {
        match self {
            WebError::NotFound => "Page not found",
            WebError::SignIn { .. } => "Please sign in",
            WebError::Forbidden(_) => "Not allowed",
            WebError::BadRequest(_) => "Something was wrong with that request",
            WebError::TooLarge => "That was too large",
            WebError::Throttled => "Too many attempts",
            WebError::Unavailable => "We are having trouble right now",
            WebError::Internal => "Something went wrong on our side",
        }
    }

    fn explanation(&self) -> String {
        match self {
            WebError::NotFound => {
                "There is nothing at this address, or it is not yours to see.".to_owned()
            }
            WebError::SignIn { .. } => "Sign in to see this page.".to_owned(),
            WebError::Forbidden(why) | WebError::BadRequest(why) => why.clone(),
            WebError::TooLarge => "The file or form you sent is larger than we accept.".to_owned(),
            WebError::Throttled => "Please wait a few minutes before trying again.".to_owned(),
            WebError::Unavailable => {
                "A service we depend on is not answering. Please try again in a moment.".to_owned()
            }
            WebError::Internal => {
                "The error has been logged. Please try again, or go back to the shop.".to_owned()
            }
        }
    }

    /// A use case's failure as a page, for handlers with no form to re-render: field errors and
    /// conflicts here mean a request our pages do not send.
    pub fn from_use_case(error: &dyn UseCaseError) -> WebError {
        match error.kind() {
            ErrorKind::NotFound => WebError::NotFound,
            ErrorKind::Unauthenticated { .. } => WebError::SignIn {
                next: "/".to_owned(),
            },
            ErrorKind::Forbidden { .. } => WebError::Forbidden(error.to_string()),
            ErrorKind::BadRequest { .. }
            | ErrorKind::Conflict { .. }
            | ErrorKind::Invalid(_)
            | ErrorKind::Unprocessable { .. } => WebError::BadRequest(error.to_string()),
            ErrorKind::TooLarge => WebError::TooLarge,
            ErrorKind::Throttled { .. } => WebError::Throttled,
            ErrorKind::Unavailable { .. } => {
                tracing::error!(%error, "a page failed: a dependency is unavailable");
                WebError::Unavailable
            }
            ErrorKind::ProviderRejected | ErrorKind::Internal => {
                tracing::error!(%error, "a page failed");
                WebError::Internal
            }
        }
    }
}

impl ResponseError for WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::SignIn { .. } => StatusCode::SEE_OTHER,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Throttled => StatusCode::TOO_MANY_REQUESTS,
            WebError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn as_response(&self) -> Response {
        if let WebError::SignIn { next } = self {
            let to = format!("/login?next={}", crate::form::encode(next));
            return crate::page::see_other(&to);
        }
        let body = html! {
            h1 { (self.title()) }
            p { (self.explanation()) }
            p { a href="/" { "Back to the shop" } }
        };
        bare_page(self.status(), self.title(), body)
    }
}

/// Converts a use case's result into a page result.
pub trait Failed<T> {
    /// The value, or the error page the failure calls for.
    ///
    /// # Errors
    /// The [`WebError`] the use case's error kind maps to.
    fn or_page(self) -> Result<T, WebError>;
}

impl<T, E: UseCaseError> Failed<T> for Result<T, E> {
    fn or_page(self) -> Result<T, WebError> {
        self.map_err(|e| WebError::from_use_case(&e))
    }
}

/// The storefront's 404 page, for paths no page has.
pub async fn not_found(_: NotFoundError) -> Response {
    WebError::NotFound.as_response()
}

/// An error that escaped a handler (a bad path parameter, a body over the limit…) as a page.
pub fn from_poem(error: poem::Error) -> Response {
    if error.is_from_response() {
        return error.into_response();
    }
    if let Some(web) = error.downcast_ref::<WebError>() {
        return web.as_response();
    }
    match error.status() {
        StatusCode::NOT_FOUND => WebError::NotFound.as_response(),
        StatusCode::PAYLOAD_TOO_LARGE => WebError::TooLarge.as_response(),
        StatusCode::METHOD_NOT_ALLOWED => {
            let mut response =
                WebError::BadRequest("This page cannot be used that way.".to_owned()).as_response();
            response.set_status(StatusCode::METHOD_NOT_ALLOWED);
            response
        }
        status if status.is_server_error() => {
            tracing::error!(%error, "a page failed");
            WebError::Internal.as_response()
        }
        _ => {
            WebError::BadRequest("The address or form was not understood.".to_owned()).as_response()
        }
    }
}

/// The 500 page for a handler that panicked.
pub fn panicked() -> Response {
    tracing::error!("a page handler panicked");
    WebError::Internal.as_response()
}

/// What a visitor is told when a use case refuses a request a page can recover from (a conflict,
/// invalid fields, a rule): the message for a flash, or `None` when the failure calls for an
/// error page instead.
pub fn refusal(error: &dyn UseCaseError) -> Option<String> {
    match error.kind() {
        ErrorKind::Conflict { .. }
        | ErrorKind::Unprocessable { .. }
        | ErrorKind::Forbidden { .. }
        | ErrorKind::BadRequest { .. } => Some(error.to_string()),
        ErrorKind::Invalid(fields) => Some(
            fields
                .fields()
                .values()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ErrorKind::NotFound
        | ErrorKind::Unauthenticated { .. }
        | ErrorKind::TooLarge
        | ErrorKind::Throttled { .. }
        | ErrorKind::Unavailable { .. }
        | ErrorKind::ProviderRejected
        | ErrorKind::Internal => None,
    }
}

/// The field errors of an invalid-input failure, to re-render its form; `None` for other kinds.
pub fn field_errors(
    error: &dyn UseCaseError,
) -> Option<marketplace_domain::validation::FieldErrors> {
    match error.kind() {
        ErrorKind::Invalid(fields) => Some(fields),
        _ => None,
    }
}
