//! Text enters once, and a NUL character never gets past the edge: PostgreSQL refuses it in text,
//! which would surface as "database unavailable". Query parameters and paths are checked here
//! (400 `invalid_parameter` naming the parameter), JSON bodies by [`crate::json::JsonBody`] (422
//! naming the field) and upload form fields by the upload handlers.

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

use crate::error::ApiError;

/// What a refused parameter is told.
pub const NUL_MESSAGE: &str = "must not contain a NUL character";

/// True when percent-encoded `text` decodes to something holding a NUL (a URI can carry one only
/// as `%00`).
fn encodes_nul(text: &str) -> bool {
    text.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// The parameter of a query string that carries a NUL, by name.
pub fn nul_parameter(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (encodes_nul(name) || encodes_nul(value)).then(|| name.replace("%00", "").to_owned())
    })
}

/// Checks a multipart form field (or an uploaded file's name).
///
/// # Errors
/// 422 naming `field` when it holds a NUL character.
pub fn form_text(field: &str, value: &str) -> Result<(), ApiError> {
    if value.contains('\0') {
        return Err(ApiError::invalid_field(field, NUL_MESSAGE));
    }
    Ok(())
}

/// Refuses requests whose path or query string carries a NUL character.
#[derive(Clone, Copy, Debug, Default)]
pub struct RejectNul;

impl<E: Endpoint> Middleware<E> for RejectNul {
    type Output = RejectNulEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RejectNulEndpoint { inner }
    }
}

/// The endpoint wrapped by [`RejectNul`].
pub struct RejectNulEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for RejectNulEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> Result<Self::Output> {
        if let Some(name) = request.uri().query().and_then(nul_parameter) {
            return Ok(ApiError::bad_parameter(&name, NUL_MESSAGE).into_response());
        }
        if encodes_nul(request.uri().path()) {
            return Ok(ApiError::bad_parameter("path", NUL_MESSAGE).into_response());
        }
        self.inner
            .call(request)
            .await
            .map(IntoResponse::into_response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameter_carrying_a_nul_is_named() {
        assert_eq!(nul_parameter("q=%00").as_deref(), Some("q"));
        assert_eq!(nul_parameter("page=1&q=a%00b").as_deref(), Some("q"));
        assert_eq!(nul_parameter("a%00=1").as_deref(), Some("a"));
        assert_eq!(
            nul_parameter("q=%2500&x=100"),
            None,
            "a literal %00 is text"
        );
        assert_eq!(nul_parameter("q=dragon"), None);
        assert!(encodes_nul("/api/v1/products/%00"));
        assert!(!encodes_nul("/api/v1/products/100"));
    }
}
