//! A JSON Schema validator for the keywords the shared Helm values schemas use (type,
//! properties, patternProperties, additionalProperties, required, enum, const, minimum,
//! items, oneOf, if/then), and Helm's merge of a release's values over the chart's
//! defaults. A keyword or pattern it does not implement fails the test that meets it,
//! so a schema it cannot read is never passed silently.

use serde_json::{Map, Value};

/// Helm's coalescing: `values` over `defaults`, maps merged key by key, anything else
/// replaced, a `null` value removing the key.
pub(crate) fn merge(defaults: &Value, values: &Value) -> Value {
    match (defaults, values) {
        (Value::Object(base), Value::Object(over)) => {
            let mut out = base.clone();
            for (key, value) in over {
                if value.is_null() {
                    out.remove(key);
                    continue;
                }
                let merged = match base.get(key) {
                    Some(old) => merge(old, value),
                    None => value.clone(),
                };
                out.insert(key.clone(), merged);
            }
            Value::Object(out)
        }
        (_, over) => over.clone(),
    }
}

/// The problems of `value` against `schema`, each with its JSON path.
pub(crate) fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check(schema, value, "values", &mut problems);
    problems
}

/// The keywords implemented, and two a validator ignores as JSON Schema says: the
/// dask-gateway schema's misspelt `$schema"` and the `.*` it puts under
/// `gateway.extraConfig`'s `additionalProperties` (a pattern written as a keyword).
const KNOWN: &[&str] = &[
    "$schema",
    "$schema\"",
    ".*",
    "type",
    "properties",
    "patternProperties",
    "additionalProperties",
    "required",
    "enum",
    "const",
    "minimum",
    "items",
    "oneOf",
    "if",
    "then",
    "description",
];

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        other => panic!("schema type {other:?} is not implemented"),
    }
}

fn pattern_matches(pattern: &str, key: &str) -> bool {
    match pattern {
        ".*" => true,
        "^[A-Z].*$" => key.chars().next().is_some_and(|c| c.is_ascii_uppercase()),
        other => panic!("schema pattern {other:?} is not implemented"),
    }
}

fn check(schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            problems.push(format!("{at}: not allowed"));
        }
        return;
    };
    for keyword in schema.keys() {
        assert!(
            KNOWN.contains(&keyword.as_str()),
            "schema keyword {keyword:?} at {at} is not implemented"
        );
    }
    if let Some(types) = schema.get("type") {
        let names: Vec<&str> = match types {
            Value::String(name) => vec![name.as_str()],
            Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
            other => panic!("type {other} at {at}"),
        };
        if !names.iter().any(|name| type_matches(name, value)) {
            problems.push(format!("{at}: {value} is not of type {names:?}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            problems.push(format!("{at}: {value} is not one of {options:?}"));
        }
    }
    if let Some(constant) = schema.get("const") {
        if constant != value {
            problems.push(format!("{at}: {value} is not {constant}"));
        }
    }
    if let Some(minimum) = schema.get("minimum").and_then(Value::as_f64) {
        if value.as_f64().is_some_and(|v| v < minimum) {
            problems.push(format!("{at}: {value} is below {minimum}"));
        }
    }
    if let Some(condition) = schema.get("if") {
        let mut ignored = Vec::new();
        check(condition, value, at, &mut ignored);
        if ignored.is_empty() {
            if let Some(then) = schema.get("then") {
                check(then, value, at, problems);
            }
        }
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let passing = options
            .iter()
            .filter(|option| {
                let mut found = Vec::new();
                check(option, value, at, &mut found);
                found.is_empty()
            })
            .count();
        if passing != 1 {
            problems.push(format!("{at}: {passing} of oneOf's schemas match, not 1"));
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            check(items, item, &format!("{at}[{i}]"), problems);
        }
    }
    if let Some(object) = value.as_object() {
        check_object(schema, object, at, problems);
    }
}

fn check_object(
    schema: &Map<String, Value>,
    object: &Map<String, Value>,
    at: &str,
    problems: &mut Vec<String>,
) {
    for required in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !object.contains_key(required) {
            problems.push(format!("{at}: {required:?} is required"));
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    let patterns = schema.get("patternProperties").and_then(Value::as_object);
    for (key, item) in object {
        let path = format!("{at}.{key}");
        let mut matched = false;
        if let Some(property) = properties.and_then(|p| p.get(key)) {
            matched = true;
            check(property, item, &path, problems);
        }
        for (pattern, property) in patterns.into_iter().flatten() {
            if pattern_matches(pattern, key) {
                matched = true;
                check(property, item, &path, problems);
            }
        }
        if !matched {
            match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    problems.push(format!("{path}: not a key the schema allows"));
                }
                Some(additional @ Value::Object(_)) => check(additional, item, &path, problems),
                _ => {}
            }
        }
    }
}
