//! Forms: reading a posted form (text never carries a NUL character past this point), and
//! rendering labelled fields with their error messages tied to the input (`aria-describedby`),
//! so a form re-rendered after a refusal says what to fix, next to where to fix it.

use marketplace_domain::pagination::PageRequest;
use marketplace_domain::validation::FieldErrors;
use maud::{Markup, html};
use std::collections::HashMap;

use marketplace_ports::use_cases::UploadedFile;
use poem::web::Multipart;
use serde::de::DeserializeOwned;

use crate::error::WebError;
use crate::visitor::{CSRF_FIELD, Visitor};

/// Reads an `application/x-www-form-urlencoded` body and checks its CSRF token.
///
/// # Errors
/// [`WebError::BadRequest`] for a body no form of ours sends, or text holding a NUL character;
/// [`WebError::Forbidden`] for a missing or wrong token.
pub fn read<T: DeserializeOwned>(visitor: &Visitor, body: &str) -> Result<T, WebError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(body)
        .map_err(|_| WebError::BadRequest("The form was not understood.".to_owned()))?;
    if let Some((name, _)) = pairs
        .iter()
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
    {
        return Err(WebError::BadRequest(format!(
            "The field {:?} must not contain a NUL character.",
            name.replace('\0', "")
        )));
    }
    let token = pairs
        .iter()
        .find(|(name, _)| name == CSRF_FIELD)
        .map_or("", |(_, value)| value.as_str());
    visitor.check_csrf(token)?;
    serde_urlencoded::from_str(body)
        .map_err(|e| WebError::BadRequest(format!("The form was not understood: {e}.")))
}

/// Reads a page's query string into `T` (absent parameters take their defaults).
///
/// # Errors
/// [`WebError::BadRequest`] for parameters our pages do not send, or holding a NUL character.
pub fn query<T: DeserializeOwned + Default>(query: Option<&str>) -> Result<T, WebError> {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return Ok(T::default());
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|_| WebError::BadRequest("The address was not understood.".to_owned()))?;
    if pairs
        .iter()
        .any(|(name, value)| name.contains('\0') || value.contains('\0'))
    {
        return Err(WebError::BadRequest(
            "The address must not contain a NUL character.".to_owned(),
        ));
    }
    serde_urlencoded::from_str(query)
        .map_err(|e| WebError::BadRequest(format!("The address was not understood: {e}.")))
}

/// The page of a list a `page` parameter asks for, `per_page` rows each.
///
/// # Errors
/// [`WebError::BadRequest`] for a page number that is not one.
pub fn page_request(text: Option<&str>, per_page: i64) -> Result<PageRequest, WebError> {
    let page = match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| WebError::BadRequest("The page number is not a number.".to_owned()))?,
        ),
    };
    PageRequest::parse(page, Some(per_page))
        .map_err(|_| WebError::BadRequest("There is no such page.".to_owned()))
}

/// The id a path names: a path whose id is not a UUID names nothing, so it is a 404 page.
///
/// # Errors
/// [`WebError::NotFound`] when `text` is not a UUID.
pub fn path_id(text: &str) -> Result<uuid::Uuid, WebError> {
    uuid::Uuid::parse_str(text).map_err(|_| WebError::NotFound)
}

/// An optional choice from a list a page offers (a filter's state, a kind): blank is no choice,
/// anything `parse` does not know is a request our pages do not send.
///
/// # Errors
/// [`WebError::BadRequest`] with `problem` for a value `parse` refuses.
pub fn optional_choice<T>(
    text: Option<&str>,
    parse: impl FnOnce(&str) -> Option<T>,
    problem: &str,
) -> Result<Option<T>, WebError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => parse(text)
            .map(Some)
            .ok_or_else(|| WebError::BadRequest(problem.to_owned())),
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    let pair = serde_urlencoded::to_string([("v", value)]).unwrap_or_default();
    pair.strip_prefix("v=").unwrap_or_default().to_owned()
}

/// A local path to come back to after signing in: only paths of this site (`/…`, not `//host`),
/// so the sign-in page cannot send anyone elsewhere.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// The messages of one field.
pub fn messages<'a>(errors: &'a FieldErrors, field: &str) -> &'a [String] {
    errors.fields().get(field).map_or(&[], Vec::as_slice)
}

/// The `id` of a field's error message (`f-<field>-error`), when it has one: for
/// `aria-describedby` on inputs written by hand.
pub fn described_by(errors: &FieldErrors, field: &str) -> Option<String> {
    (!messages(errors, field).is_empty()).then(|| format!("f-{field}-error"))
}

/// A field's error message, with the id [`described_by`] names.
pub fn field_errors(errors: &FieldErrors, field: &str) -> Markup {
    let problems = messages(errors, field);
    html! {
        @if !problems.is_empty() {
            p.error id={"f-" (field) "-error"} { (problems.join(" ")) }
        }
    }
}

/// What one input looks like.
pub struct Input<'a> {
    /// The field's name (also its id, prefixed).
    pub name: &'a str,
    /// The visible label.
    pub label: &'a str,
    /// `text`, `email`, `password`, `number`, …
    pub kind: &'a str,
    /// The current value.
    pub value: &'a str,
    /// Required to submit.
    pub required: bool,
    /// `autocomplete` hint.
    pub autocomplete: Option<&'a str>,
    /// Help shown under the input.
    pub hint: Option<&'a str>,
}

impl<'a> Input<'a> {
    /// A text input.
    pub fn text(name: &'a str, label: &'a str, value: &'a str) -> Input<'a> {
        Input {
            name,
            label,
            kind: "text",
            value,
            required: false,
            autocomplete: None,
            hint: None,
        }
    }

    /// Of another type.
    pub fn kind(mut self, kind: &'a str) -> Self {
        self.kind = kind;
        self
    }

    /// Required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// With an autocomplete hint.
    pub fn autocomplete(mut self, hint: &'a str) -> Self {
        self.autocomplete = Some(hint);
        self
    }

    /// With help text.
    pub fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }

    /// The label, the input and its messages.
    pub fn render(&self, errors: &FieldErrors) -> Markup {
        let id = format!("f-{}", self.name);
        let problems = messages(errors, self.name);
        let error_id = format!("{id}-error");
        let hint_id = format!("{id}-hint");
        let described = match (problems.is_empty(), self.hint.is_some()) {
            (false, true) => Some(format!("{error_id} {hint_id}")),
            (false, false) => Some(error_id.clone()),
            (true, true) => Some(hint_id.clone()),
            (true, false) => None,
        };
        html! {
            div.field {
                label for=(id) { (self.label) @if self.required { " " span.req aria-hidden="true" { "*" } } }
                input id=(id) name=(self.name) type=(self.kind) value=(self.value)
                    required[self.required]
                    autocomplete=[self.autocomplete]
                    aria-invalid=[(!problems.is_empty()).then_some("true")]
                    aria-describedby=[described];
                @if !problems.is_empty() {
                    p.error id=(error_id) { (problems.join(" ")) }
                }
                @if let Some(hint) = self.hint {
                    p.hint id=(hint_id) { (hint) }
                }
            }
        }
    }
}

/// The errors of a form that are not any one field's (shown above it).
pub fn summary(errors: &FieldErrors, fields_shown: &[&str]) -> Markup {
    let others: Vec<&String> = errors
        .fields()
        .iter()
        .filter(|(field, _)| !fields_shown.contains(&field.as_str()))
        .flat_map(|(_, messages)| messages)
        .collect();
    html! {
        @if !errors.is_empty() {
            div.flash.problem role="alert" {
                p { "Please correct the problems below." }
                @for message in others { p { (message) } }
            }
        }
    }
}

/// The fields and the one file of an upload form, its CSRF token checked.
pub struct UploadForm {
    /// The text fields, by name.
    pub fields: HashMap<String, String>,
    /// The file, when one was chosen.
    pub file: Option<UploadedFile>,
}

/// Reads a `multipart/form-data` form: its text fields and its one `file`, of at most
/// `max_file_bytes` (read no further), checking its CSRF token before any file byte is read.
///
/// # Errors
/// [`WebError::BadRequest`] for a form no page sends or text with a NUL character;
/// [`WebError::Forbidden`] for a missing or wrong token; [`WebError::TooLarge`] for a file or
/// body over the limit.
pub async fn read_upload_form(
    visitor: &Visitor,
    mut multipart: Multipart,
    max_file_bytes: u64,
) -> Result<UploadForm, WebError> {
    use tokio::io::AsyncReadExt as _;

    let mut fields = HashMap::new();
    let mut file = None;
    let mut token_checked = false;
    // A body over the site's limit is a 413; anything else unreadable is a form we never sent.
    let unreadable = |error: &dyn std::fmt::Display| {
        if error
            .to_string()
            .contains(adapter_http::limits::BODY_TOO_LARGE)
        {
            WebError::TooLarge
        } else {
            WebError::BadRequest("The upload was not understood.".to_owned())
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(|e| unreadable(&e))? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            // Our forms put the token first: nothing of a file is read before it is checked.
            if !token_checked {
                visitor.check_csrf("")?;
            }
            let file_name = field.file_name().unwrap_or_default().to_owned();
            if file_name.contains('\0') {
                return Err(WebError::BadRequest(
                    "The file name must not contain a NUL character.".to_owned(),
                ));
            }
            let mut bytes = Vec::new();
            field
                .into_async_read()
                .take(max_file_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
                .await
                .map_err(|e| unreadable(&e))?;
            if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > max_file_bytes {
                return Err(WebError::TooLarge);
            }
            if !file_name.is_empty() || !bytes.is_empty() {
                file = Some(UploadedFile { file_name, bytes });
            }
        } else {
            let value = field.text().await.map_err(|e| unreadable(&e))?;
            if value.contains('\0') || name.contains('\0') {
                return Err(WebError::BadRequest(
                    "Text must not contain a NUL character.".to_owned(),
                ));
            }
            if name == crate::visitor::CSRF_FIELD {
                visitor.check_csrf(&value)?;
                token_checked = true;
            }
            fields.insert(name, value);
        }
    }
    if !token_checked {
        visitor.check_csrf("")?;
    }
    Ok(UploadForm { fields, file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/orders/1?t=x")), "/orders/1?t=x");
        for outside in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "orders",
            "/a\nb",
        ] {
            assert_eq!(local_path(Some(outside)), "/", "{outside}");
        }
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn choices_are_optional_and_unknown_ones_refused() {
        let parse = |t: &str| (t == "open").then_some(1);
        assert_eq!(optional_choice(None, parse, "no"), Ok(None));
        assert_eq!(optional_choice(Some("  "), parse, "no"), Ok(None));
        assert_eq!(optional_choice(Some(" open "), parse, "no"), Ok(Some(1)));
        assert_eq!(
            optional_choice(Some("shut"), parse, "no"),
            Err(WebError::BadRequest("no".to_owned()))
        );
        assert_eq!(path_id("nope"), Err(WebError::NotFound));
        assert!(path_id("01a22f7a-e98b-75db-87ca-726e19e78914").is_ok());
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("/orders?a=1&b=2"), "%2Forders%3Fa%3D1%26b%3D2");
    }
}
