//! Request body limits. A declared `Content-Length` over the limit is refused at once with 413; a
//! body without one is counted as it streams and cut off at the limit, so no client can make us
//! buffer or spool more than the limit.

use futures_util::StreamExt;
use poem::http::{StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response, Result};

/// The message carried by a cut-off body; error mapping recognises it and answers 413.
pub const BODY_TOO_LARGE: &str = "request body too large";

/// Limits for JSON and for multipart (upload) bodies.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit {
    /// Any body that is not `multipart/form-data`.
    pub other: u64,
    /// `multipart/form-data` uploads.
    pub multipart: u64,
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint {
            inner,
            limits: *self,
        }
    }
}

/// The endpoint wrapped by [`BodyLimit`].
pub struct BodyLimitEndpoint<E> {
    inner: E,
    limits: BodyLimit,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut request: Request) -> Result<Self::Output> {
        let is_multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("multipart/")
            });
        let limit = if is_multipart {
            self.limits.multipart
        } else {
            self.limits.other
        };
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit) {
            return Err(poem::Error::from_string(
                format!("{BODY_TOO_LARGE}: the limit is {limit} bytes"),
                StatusCode::PAYLOAD_TOO_LARGE,
            ));
        }
        let mut remaining = limit;
        let counted = request.take_body().into_bytes_stream().map(move |chunk| {
            let chunk = chunk?;
            let size = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
            remaining = remaining
                .checked_sub(size)
                .ok_or_else(|| std::io::Error::other(BODY_TOO_LARGE))?;
            Ok::<_, std::io::Error>(chunk)
        });
        request.set_body(Body::from_bytes_stream(counted));
        self.inner
            .call(request)
            .await
            .map(IntoResponse::into_response)
    }
}
