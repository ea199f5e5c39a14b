//! The OpenAPI document is committed (`docs/openapi.json`) so that any change to the API shows up
//! in review as a diff of that file. This test fails when the served document and the committed
//! one differ; run it with `UPDATE_OPENAPI=1` to rewrite the file after an intended change.

use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{expect_json, spawn_app};

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

#[tokio::test]
async fn the_served_openapi_document_matches_the_committed_snapshot() {
    let app = spawn_app().await;
    let served = expect_json(app.get("/api/openapi.json", None).await, StatusCode::OK).await;
    let pretty = format!("{}\n", serde_json::to_string_pretty(&served).unwrap());
    let path = snapshot_path();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &pretty).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; run with UPDATE_OPENAPI=1 to create it",
            path.display()
        )
    });
    let committed: Value = serde_json::from_str(&committed).unwrap();
    if committed != served {
        let diff_hint = first_difference(&committed, &served, String::new())
            .unwrap_or_else(|| "(no difference found)".to_owned());
        panic!(
            "the OpenAPI document changed (first difference at {diff_hint}); if the change is \
             intended, run `UPDATE_OPENAPI=1 cargo test -p tests openapi` and commit docs/openapi.json"
        );
    }
}

/// The JSON pointer of the first place where two documents differ.
fn first_difference(a: &Value, b: &Value, at: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let path = format!("{at}/{key}");
                match (x.get(key), y.get(key)) {
                    (Some(l), Some(r)) => {
                        if let Some(found) = first_difference(l, r, path) {
                            return Some(found);
                        }
                    }
                    _ => return Some(path),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (l, r))| first_difference(l, r, format!("{at}/{i}"))),
        _ if a == b => None,
        _ => Some(if at.is_empty() { "/".to_owned() } else { at }),
    }
}
