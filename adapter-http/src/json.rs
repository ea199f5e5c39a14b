//! A JSON request body that says which field is wrong.
//!
//! poem-openapi's own `Json<T>` reports type errors without the field's name. [`JsonBody`]
//! documents exactly the same schema but parses with serde, tracking the path, so a client gets
//! `422 {"fields": {"physical.width_mm": ["invalid type: string \"x\", expected i32"]}}`, and JSON
//! that does not parse at all gets `400 malformed_json`.

use poem::error::ResponseError;
use poem::http::StatusCode;
use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde::de::DeserializeOwned;

/// A JSON request body of `T`.
pub struct JsonBody<T>(pub T);

/// Why a JSON body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonBodyError {
    /// Not JSON at all (syntax error, truncated).
    #[error("malformed JSON body: {0}")]
    Malformed(String),
    /// Valid JSON of the wrong shape: a field is missing, unknown or of the wrong type.
    #[error("{field}: {message}")]
    Invalid {
        /// Dotted path of the field (`body` for the document itself).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// Not sent as `application/json`.
    #[error("send the body as application/json")]
    NotJson,
}

impl ResponseError for JsonBodyError {
    fn status(&self) -> StatusCode {
        match self {
            JsonBodyError::Malformed(_) | JsonBodyError::NotJson => StatusCode::BAD_REQUEST,
            JsonBodyError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// serde_json appends " at line L column C"; the field path already says where.
fn without_position(message: &str) -> &str {
    message
        .rsplit_once(" at line ")
        .map_or(message, |(head, _)| head)
}

/// The field a serde message names (missing, unknown or duplicate field `x`), if any.
fn named_field(message: &str) -> Option<&str> {
    let rest = ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))?;
    rest.split_once('`').map(|(name, _)| name)
}

/// The dotted path of the first string (value or key) holding a NUL character, if any. PostgreSQL
/// refuses NUL in text, so such input is refused here, where text enters, naming the field.
fn nul_path(value: &serde_json::Value, path: &str) -> Option<String> {
    let at = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        serde_json::Value::String(text) if text.contains('\0') => Some(if path.is_empty() {
            "body".to_owned()
        } else {
            path.to_owned()
        }),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item, &at(&i.to_string()))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some(at(&key.replace('\0', "\\0")))
            } else {
                nul_path(item, &at(key))
            }
        }),
        _ => None,
    }
}

/// Parses `bytes` as `T`, classifying errors; a string with a NUL character is refused naming its
/// field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonBodyError> {
    // JSON can only carry a NUL escaped: look closer only when the escape is there.
    let escaped_nul = bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"));
    if let Some(field) = escaped_nul
        .then(|| serde_json::from_slice::<serde_json::Value>(bytes).ok())
        .flatten()
        .and_then(|value| nul_path(&value, ""))
    {
        return Err(JsonBodyError::Invalid {
            field,
            message: "must not contain a NUL character".to_owned(),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return JsonBodyError::Malformed(inner.to_string());
        }
        let full = inner.to_string();
        let message = without_position(&full).to_owned();
        let parent = if path == "." { None } else { Some(path) };
        let field = match (parent, named_field(&message)) {
            // An unknown field's path already ends with its name.
            (Some(parent), Some(name))
                if parent == name || parent.ends_with(&format!(".{name}")) =>
            {
                parent
            }
            (Some(parent), Some(name)) => format!("{parent}.{name}"),
            (None, Some(name)) => name.to_owned(),
            (Some(parent), None) => parent,
            (None, None) => "body".to_owned(),
        };
        JsonBodyError::Invalid { field, message }
    })?;
    deserializer
        .end()
        .map_err(|e| JsonBodyError::Malformed(e.to_string()))?;
    Ok(value)
}

impl<'a, T: DeserializeOwned + Type + Send> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: "application/json; charset=utf-8",
                schema: T::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let content_type = request.content_type();
        let is_json = content_type
            .and_then(|ct| ct.split(';').next())
            .map(|ct| ct.trim().to_ascii_lowercase())
            .is_some_and(|ct| ct == "application/json" || ct.ends_with("+json"));
        if !is_json && content_type.is_some() {
            return Err(JsonBodyError::NotJson.into());
        }
        let bytes = body.take()?.into_vec().await?;
        if !is_json {
            // No body at all reads as `{}` (a `POST` with nothing to say); a body of another
            // kind is refused.
            if !bytes.is_empty() {
                return Err(JsonBodyError::NotJson.into());
            }
            return Ok(JsonBody(parse_json(b"{}")?));
        }
        Ok(JsonBody(parse_json(&bytes)?))
    }
}

/// A JSON request body kept as the exact bytes received (webhook signatures cover the raw
/// body). Any content type is accepted: the bytes are what counts.
pub struct RawJsonBody(pub Vec<u8>);

impl<'a> ApiExtractor<'a> for RawJsonBody {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        serde_json::Value::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: Some("A Stripe event, exactly as Stripe sent it."),
            content: vec![MetaMediaType {
                content_type: "application/json",
                schema: serde_json::Value::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        _request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        Ok(RawJsonBody(body.take()?.into_vec().await?))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        width_mm: Option<i32>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Option<Inner>,
    }

    fn error(json: &str) -> JsonBodyError {
        parse_json::<Outer>(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn a_nul_character_is_refused_naming_its_field() {
        let refused = |json: &str| match error(json) {
            JsonBodyError::Invalid { field, message } => {
                assert_eq!(message, "must not contain a NUL character");
                field
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(r#"{"name": "a\u0000b"}"#), "name");
        assert_eq!(
            refused(r#"{"name": "a", "inner": {"x": ["\u0000"]}}"#),
            "inner.x.0"
        );
        assert_eq!(refused(r#""\u0000""#), "body");
        // An escaped backslash before `u0000` is text, not a NUL.
        assert!(parse_json::<Outer>(br#"{"name": "a\\u0000"}"#).is_ok());
    }

    #[test]
    fn syntax_errors_are_malformed() {
        assert!(matches!(error("{bad"), JsonBodyError::Malformed(_)));
        assert!(matches!(
            error(r#"{"name": "a""#),
            JsonBodyError::Malformed(_)
        ));
        assert!(matches!(
            error(r#"{"name": "a"} trailing"#),
            JsonBodyError::Malformed(_)
        ));
    }

    #[test]
    fn shape_errors_name_the_field() {
        assert_eq!(
            error("{}"),
            JsonBodyError::Invalid {
                field: "name".into(),
                message: "missing field `name`".into()
            }
        );
        let JsonBodyError::Invalid { field, .. } = error(r#"{"name": 5}"#) else {
            panic!()
        };
        assert_eq!(field, "name");
        let JsonBodyError::Invalid { field, .. } =
            error(r#"{"name": "a", "inner": {"width_mm": "x"}}"#)
        else {
            panic!()
        };
        assert_eq!(field, "inner.width_mm");
        let JsonBodyError::Invalid { field, .. } = error(r#"{"name": "a", "is_owner": true}"#)
        else {
            panic!()
        };
        assert_eq!(field, "is_owner");
        let JsonBodyError::Invalid { field, .. } = error(r#"{"name": "a", "inner": {"depth": 1}}"#)
        else {
            panic!()
        };
        assert_eq!(field, "inner.depth");
        let JsonBodyError::Invalid { field, .. } =
            error(r#"{"name": "a", "inner": {"width_mm": 1, "width_mm": 2}}"#)
        else {
            panic!()
        };
        assert_eq!(field, "inner.width_mm");
        let JsonBodyError::Invalid { field, .. } = error("[]") else {
            panic!()
        };
        assert_eq!(field, "body");
    }
}
