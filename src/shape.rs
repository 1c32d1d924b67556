//! The shape of a document against a JSON Schema: unknown keys, missing
//! keys, wrong types and values outside an enum, every one at once, each
//! with its JSON Pointer. serde stops at the first problem, so a config with
//! three typos took three runs to fix; this walks the whole document first.
//!
//! It understands what `schemars` writes for govops' own types: `type`
//! (one or a list), `enum`, `const`, `minimum`, `maximum`, `properties`, `required`,
//! `additionalProperties`, `items`, `$ref` into `$defs`, and `anyOf` /
//! `oneOf`. What it does not understand it lets pass: the typed parse that
//! follows still rejects it, one problem at a time.

use serde_json::Value;

/// One problem: where (a JSON Pointer) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

/// Every problem of `value` against `schema` (whose `$defs` resolve `$ref`s).
pub fn check(schema: &Value, value: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    Walk { root: schema }.node(schema, value, "", &mut out);
    out
}

struct Walk<'a> {
    root: &'a Value,
}

/// How a problem names a JSON value's type, in a YAML user's words.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn schema_type_name(name: &str) -> &str {
    match name {
        "null" => "null",
        "boolean" => "a boolean",
        "integer" => "an integer",
        "number" => "a number",
        "string" => "a string",
        "array" => "a list",
        "object" => "a mapping",
        other => other,
    }
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

/// A pointer token, escaped as RFC 6901 says.
fn token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl<'a> Walk<'a> {
    fn resolve(&self, mut schema: &'a Value) -> &'a Value {
        // A bounded number of hops: a schema whose refs loop is not ours.
        for _ in 0..32 {
            let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
                return schema;
            };
            let Some(target) = r
                .strip_prefix('#')
                .and_then(|pointer| self.root.pointer(pointer))
            else {
                return schema;
            };
            schema = target;
        }
        schema
    }

    fn node(&self, schema: &'a Value, value: &Value, at: &str, out: &mut Vec<Problem>) {
        let schema = self.resolve(schema);
        let problem = |out: &mut Vec<Problem>, message: String| {
            out.push(Problem {
                pointer: at.to_string(),
                message,
            });
        };
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                let mut best: Option<Vec<Problem>> = None;
                for branch in branches {
                    let mut found = Vec::new();
                    self.node(branch, value, at, &mut found);
                    if found.is_empty() {
                        best = None;
                        break;
                    }
                    // Report the branch that got furthest: the one whose
                    // problems lie deepest (a mapping with one bad key, not
                    // "expected null").
                    let depth = |p: &[Problem]| p.iter().map(|p| p.pointer.len()).max();
                    if best.as_ref().is_none_or(|b| depth(&found) > depth(b)) {
                        best = Some(found);
                    }
                }
                if let Some(found) = best {
                    out.extend(found);
                    return;
                }
            }
        }
        if let Some(types) = schema.get("type") {
            let names: Vec<&str> = match types {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if !names.is_empty() && !names.iter().any(|n| has_type(value, n)) {
                let expected: Vec<&str> = names
                    .iter()
                    .filter(|n| **n != "null")
                    .map(|n| schema_type_name(n))
                    .collect();
                let expected = if expected.is_empty() {
                    "null".to_string()
                } else {
                    expected.join(" or ")
                };
                problem(
                    out,
                    format!("expected {expected}, found {}", type_name(value)),
                );
                return;
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                let names: Vec<String> = allowed.iter().map(shown).collect();
                problem(
                    out,
                    format!("{} is not one of: {}", shown(value), names.join(", ")),
                );
                return;
            }
        }
        if let Some(n) = value.as_f64() {
            let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
            if let Some(min) = bound("minimum").filter(|min| n < *min) {
                problem(out, format!("{} is below the minimum, {min}", shown(value)));
                return;
            }
            if let Some(max) = bound("maximum").filter(|max| n > *max) {
                problem(out, format!("{} is over the maximum, {max}", shown(value)));
                return;
            }
        }
        if let Some(expected) = schema.get("const") {
            if expected != value {
                problem(
                    out,
                    format!("must be {}, found {}", shown(expected), shown(value)),
                );
                return;
            }
        }
        match value {
            Value::Object(map) => {
                let properties = schema.get("properties").and_then(Value::as_object);
                if let Some(required) = schema.get("required").and_then(Value::as_array) {
                    for key in required.iter().filter_map(Value::as_str) {
                        if !map.contains_key(key) {
                            // With the one value it can have, say it whole.
                            let value = properties
                                .and_then(|p| p.get(key))
                                .and_then(|s| s.get("const"))
                                .map(|c| format!(" (`{key}: {}`)", shown(c)))
                                .unwrap_or_default();
                            // Named by the missing key's own path: that is
                            // what a user must add.
                            out.push(Problem {
                                pointer: format!("{at}/{}", token(key)),
                                message: format!("the key `{key}` is required{value}"),
                            });
                        }
                    }
                }
                for (key, item) in map {
                    let here = format!("{at}/{}", token(key));
                    if let Some(sub) = properties.and_then(|p| p.get(key)) {
                        self.node(sub, item, &here, out);
                        continue;
                    }
                    match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            let known: Vec<&str> = properties
                                .map(|p| p.keys().map(String::as_str).collect())
                                .unwrap_or_default();
                            out.push(Problem {
                                pointer: here,
                                message: format!(
                                    "unknown key `{key}`; expected one of: {}",
                                    known.join(", ")
                                ),
                            });
                        }
                        Some(sub @ Value::Object(_)) => self.node(sub, item, &here, out),
                        _ => {}
                    }
                }
            }
            Value::Array(items) => {
                if let Some(sub) = schema.get("items").filter(|s| s.is_object()) {
                    for (i, item) in items.iter().enumerate() {
                        self.node(sub, item, &format!("{at}/{i}"), out);
                    }
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

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["version"],
            "additionalProperties": false,
            "properties": {
                "version": {"type": "integer", "const": 1},
                "tags": {"$ref": "#/$defs/Tags"},
                "severity": {"type": "object", "additionalProperties": {"$ref": "#/$defs/Level"}},
                "limit": {"type": ["integer", "null"]},
                "audit": {"anyOf": [{"$ref": "#/$defs/Audit"}, {"type": "null"}]},
            },
            "$defs": {
                "Tags": {"type": "object", "additionalProperties": false,
                         "properties": {"required": {"type": "array", "items": {"type": "string"}}}},
                "Level": {"type": "string", "enum": ["deny", "review"]},
                "Audit": {"type": "object", "additionalProperties": false,
                          "properties": {"log": {"type": ["string", "null"]}}},
            }
        })
    }

    #[test]
    fn every_problem_at_once_with_its_pointer() {
        let value = json!({
            "tags": {"required": "owner", "extra": 1},
            "severity": {"GOV-1": "loud", "GOV-2": "deny"},
            "limit": "ten",
            "audit": {"logg": "x"},
            "typo": true,
        });
        let found = check(&schema(), &value);
        let pairs: Vec<(&str, &str)> = found
            .iter()
            .map(|p| (p.pointer.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("/version", "the key `version` is required (`version: 1`)"),
                ("/tags/required", "expected a list, found a string"),
                (
                    "/tags/extra",
                    "unknown key `extra`; expected one of: required"
                ),
                ("/severity/GOV-1", "loud is not one of: deny, review"),
                ("/limit", "expected an integer, found a string"),
                ("/audit/logg", "unknown key `logg`; expected one of: log"),
                (
                    "/typo",
                    "unknown key `typo`; expected one of: version, tags, severity, limit, audit"
                ),
            ]
        );
    }

    #[test]
    fn numbers_within_their_bounds() {
        let schema = json!({"type": "object", "properties": {
            "n": {"type": "integer", "minimum": 0, "maximum": 10}}});
        assert_eq!(check(&schema, &json!({"n": 5})), vec![]);
        assert_eq!(
            check(&schema, &json!({"n": -1}))[0].message,
            "-1 is below the minimum, 0"
        );
        assert_eq!(
            check(&schema, &json!({"n": 11}))[0].message,
            "11 is over the maximum, 10"
        );
    }

    #[test]
    fn a_valid_document_has_no_problem() {
        let value =
            json!({"version": 1, "tags": {"required": ["a"]}, "limit": null, "audit": null});
        assert_eq!(check(&schema(), &value), vec![]);
        let wrong = check(&schema(), &json!({"version": 2}));
        assert_eq!(wrong[0].message, "must be 1, found 2");
    }
}
