//! The OpenAPI document, finished where poem-openapi cannot say enough.
//!
//! Two rules hold for every request and poem-openapi has no way to declare them, so the document
//! is finished here:
//! - every JSON request body is parsed with serde's `deny_unknown_fields` (see [`crate::json`]),
//!   and every upload form denies unknown fields too: a field the document does not name is
//!   refused with 422, so each object schema a request body reaches gets
//!   `additionalProperties: false`;
//! - text never carries a NUL character (see [`crate::input`]), so each free string a client
//!   sends (a parameter, or a field of a request body) gets the pattern [`NO_NUL`].
//!
//! The objects a request body reaches are only ever built by the API from their declared fields,
//! so the same schemas stay exact where a response shows them.

use std::collections::BTreeSet;

use serde_json::Value;

/// The pattern of text without a NUL character.
pub const NO_NUL: &str = "^[^\\u0000]*$";

/// `spec` (poem-openapi's document) with the rules above written into it.
pub fn finish(spec: &str) -> String {
    let Ok(mut document) = serde_json::from_str::<Value>(spec) else {
        return spec.to_owned();
    };
    let mut reached = BTreeSet::new();
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for operation in operation.values_mut() {
                let parameters = operation
                    .get_mut("parameters")
                    .and_then(Value::as_array_mut);
                for parameter in parameters.into_iter().flatten() {
                    if let Some(schema) = parameter.get_mut("schema") {
                        finish_schema(schema, &mut reached);
                    }
                }
                let bodies = operation
                    .pointer_mut("/requestBody/content")
                    .and_then(Value::as_object_mut);
                for (media, body) in bodies.into_iter().flatten() {
                    let accepted =
                        media.starts_with("application/json") || media == "multipart/form-data";
                    if let (true, Some(schema)) = (accepted, body.get_mut("schema")) {
                        finish_schema(schema, &mut reached);
                    }
                }
            }
        }
    }
    // Components reached through `$ref`, and the ones those reach, each once.
    let mut done = BTreeSet::new();
    while let Some(name) = reached.difference(&done).next().cloned() {
        done.insert(name.clone());
        if let Some(component) = document
            .pointer_mut("/components/schemas")
            .and_then(|schemas| schemas.get_mut(&name))
        {
            finish_schema(component, &mut reached);
        }
    }
    document.to_string()
}

/// Applies the rules to `schema` and the schemas written inside it; the names of the components
/// it refers to are added to `reached`.
fn finish_schema(schema: &mut Value, reached: &mut BTreeSet<String>) {
    let Some(fields) = schema.as_object_mut() else {
        return;
    };
    if let Some(name) = fields
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        reached.insert(name.to_owned());
        return;
    }
    match fields.get("type").and_then(Value::as_str) {
        Some("object") if fields.contains_key("properties") => {
            fields
                .entry("additionalProperties")
                .or_insert(Value::Bool(false));
        }
        Some("string")
            if !["enum", "format", "pattern"]
                .iter()
                .any(|key| fields.contains_key(*key)) =>
        {
            fields.insert("pattern".to_owned(), NO_NUL.into());
        }
        _ => {}
    }
    for (key, value) in fields.iter_mut() {
        match key.as_str() {
            "properties" => {
                for property in value
                    .as_object_mut()
                    .into_iter()
                    .flat_map(|p| p.values_mut())
                {
                    finish_schema(property, reached);
                }
            }
            "items" | "additionalProperties" => finish_schema(value, reached),
            "allOf" | "anyOf" | "oneOf" => {
                for inner in value.as_array_mut().into_iter().flatten() {
                    finish_schema(inner, reached);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_a_request_body_reaches_is_closed_and_free_of_nul_and_the_rest_left_alone() {
        let spec = json!({
            "paths": {"/a": {"post": {
                "requestBody": {"content": {"application/json; charset=utf-8": {
                    "schema": {"$ref": "#/components/schemas/Create"}
                }}},
                "responses": {"200": {"content": {"application/json; charset=utf-8": {
                    "schema": {"$ref": "#/components/schemas/Shown"}
                }}}}
            }}},
            "components": {"schemas": {
                "Create": {"type": "object", "properties": {
                    "inner": {"allOf": [{"$ref": "#/components/schemas/Inner"}], "nullable": true},
                    "name": {"type": "string"},
                    "kind": {"type": "string", "enum": ["a"]},
                    "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}}
                }},
                "Inner": {"type": "object", "properties": {"x": {"type": "integer"}}},
                "Tag": {"type": "object", "properties": {"name": {"type": "string"}}},
                "Shown": {"type": "object", "properties": {"y": {"type": "integer"}}}
            }}
        });
        let finished: Value = serde_json::from_str(&finish(&spec.to_string())).unwrap();
        let schemas = &finished["components"]["schemas"];
        for closed in ["Create", "Inner", "Tag"] {
            assert_eq!(
                schemas[closed]["additionalProperties"],
                json!(false),
                "{closed}"
            );
        }
        assert!(schemas["Shown"].get("additionalProperties").is_none());
        assert!(
            finished["paths"]["/a"]["post"].get("parameters").is_none(),
            "nothing added where nothing was"
        );
        let create = &schemas["Create"]["properties"];
        assert_eq!(create["name"]["pattern"], json!(NO_NUL));
        assert!(
            create["kind"].get("pattern").is_none(),
            "an enum says enough"
        );
        assert!(
            schemas["Tag"]["properties"]["name"]["pattern"] == json!(NO_NUL),
            "nested strings too"
        );
        assert!(schemas["Shown"]["properties"]["y"].get("pattern").is_none());
    }
}
