//! Stripe's form encoding of nested parameters: `metadata[order_id]=…`,
//! `line_items[0][price_data][currency]=usd`.

/// A parameter value: text, a list, or nested parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormValue {
    /// A scalar, already rendered (`true`, `1250`, `usd`).
    Text(String),
    /// `a[0]`, `a[1]`, …
    List(Vec<FormValue>),
    /// `a[key]`.
    Map(Form),
}

/// Ordered request parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, FormValue)>);

impl Form {
    /// No parameters.
    pub fn new() -> Form {
        Form::default()
    }

    /// Adds a text parameter.
    pub fn text(mut self, key: &str, value: impl Into<String>) -> Form {
        self.0.push((key.to_owned(), FormValue::Text(value.into())));
        self
    }

    /// Adds an integer parameter.
    pub fn int(self, key: &str, value: i64) -> Form {
        self.text(key, value.to_string())
    }

    /// Adds a boolean parameter (`true`/`false`).
    pub fn boolean(self, key: &str, value: bool) -> Form {
        self.text(key, if value { "true" } else { "false" })
    }

    /// Adds nested parameters.
    pub fn map(mut self, key: &str, value: Form) -> Form {
        self.0.push((key.to_owned(), FormValue::Map(value)));
        self
    }

    /// Adds a list.
    pub fn list(mut self, key: &str, values: Vec<FormValue>) -> Form {
        self.0.push((key.to_owned(), FormValue::List(values)));
        self
    }

    /// Adds text if present.
    pub fn text_opt(self, key: &str, value: Option<&str>) -> Form {
        match value {
            Some(value) => self.text(key, value),
            None => self,
        }
    }

    /// The flattened `(key, value)` pairs Stripe expects.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (key, value) in &self.0 {
            flatten(key, value, &mut out);
        }
        out
    }
}

fn flatten(prefix: &str, value: &FormValue, out: &mut Vec<(String, String)>) {
    match value {
        FormValue::Text(text) => out.push((prefix.to_owned(), text.clone())),
        FormValue::List(items) => {
            for (index, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{index}]"), item, out);
            }
        }
        FormValue::Map(form) => {
            for (key, value) in &form.0 {
                flatten(&format!("{prefix}[{key}]"), value, out);
            }
        }
    }
}

/// Splits a flattened key into its path: `a[b][0][c]` → `["a", "b", "0", "c"]`.
pub fn key_path(key: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (head, mut rest) = key.split_once('[').map_or((key, ""), |(h, r)| (h, r));
    parts.push(head.to_owned());
    while let Some((segment, tail)) = rest.split_once(']') {
        parts.push(segment.to_owned());
        rest = tail.strip_prefix('[').unwrap_or(tail);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_parameters_flatten_like_stripe_expects() {
        let form = Form::new()
            .text("mode", "payment")
            .list(
                "line_items",
                vec![FormValue::Map(
                    Form::new()
                        .map(
                            "price_data",
                            Form::new().text("currency", "usd").int("unit_amount", 1250),
                        )
                        .int("quantity", 2),
                )],
            )
            .map("metadata", Form::new().text("order_id", "o1"))
            .boolean("enabled", true);
        assert_eq!(
            form.pairs(),
            [
                ("mode".to_owned(), "payment".to_owned()),
                (
                    "line_items[0][price_data][currency]".to_owned(),
                    "usd".to_owned()
                ),
                (
                    "line_items[0][price_data][unit_amount]".to_owned(),
                    "1250".to_owned()
                ),
                ("line_items[0][quantity]".to_owned(), "2".to_owned()),
                ("metadata[order_id]".to_owned(), "o1".to_owned()),
                ("enabled".to_owned(), "true".to_owned()),
            ]
        );
    }

    #[test]
    fn keys_split_into_paths() {
        assert_eq!(key_path("a"), ["a"]);
        assert_eq!(
            key_path("line_items[0][price_data][currency]"),
            ["line_items", "0", "price_data", "currency"]
        );
    }
}
