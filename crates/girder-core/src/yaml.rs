//! YAML rendering for Kubernetes manifests and Helm values (serde_norway, the maintained
//! serde_yaml successor). Key order is the order of the JSON object, so output is stable.
//!
//! serde_norway follows YAML 1.2, where `no` or `on` is a plain string. The readers of
//! girder's output do not: Kubernetes (sigs.k8s.io/yaml) and Helm parse YAML 1.1, where
//! those words are booleans, so a container argument `no` would arrive as `false`. Strings
//! that YAML 1.1 reads as booleans are therefore written single-quoted.

use serde_json::Value;

use crate::error::{Error, Result};

/// Words YAML 1.1 resolves to booleans that YAML 1.2 leaves as strings (`true` / `false`
/// are booleans in both, and serde_norway already quotes them).
const YAML11_BOOLEANS: [&str; 18] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF", "=", "<<",
];

/// Render `value` as a YAML document (no leading `---`) that YAML 1.1 readers (Kubernetes,
/// Helm) read back as `value`; `path` names what is rendered in errors. Use it for YAML
/// embedded in an object (K3s `valuesContent`, a ConfigMap holding values).
pub fn to_yaml(path: &str, value: &Value) -> Result<String> {
    let fail = |message: String| Error::Serialize {
        path: path.to_owned(),
        what: "YAML".into(),
        message,
    };
    // Each ambiguous string becomes a plain-scalar marker, swapped for the quoted word
    // after rendering. The marker prefix is chosen so that it occurs nowhere in the value.
    let mut prefix = String::from("girderYamlQuoted");
    let text = serde_json::to_string(value).map_err(|e| fail(e.to_string()))?;
    while text.contains(&prefix) {
        prefix.push('x');
    }
    let mut words = Vec::new();
    let marked = mark(value, &prefix, &mut words);
    let mut yaml = serde_norway::to_string(&marked).map_err(|e| fail(e.to_string()))?;
    // Highest index first, so `…1` never replaces the start of `…10`.
    for (index, word) in words.iter().enumerate().rev() {
        yaml = yaml.replace(&format!("{prefix}{index}E"), &format!("'{word}'"));
    }
    Ok(yaml)
}

fn mark(value: &Value, prefix: &str, words: &mut Vec<String>) -> Value {
    let mut marker = |s: &str| -> String {
        if YAML11_BOOLEANS.contains(&s) {
            words.push(s.to_owned());
            format!("{prefix}{}E", words.len() - 1)
        } else {
            s.to_owned()
        }
    };
    match value {
        Value::String(s) => Value::String(marker(s)),
        Value::Array(items) => Value::Array(items.iter().map(|v| mark(v, prefix, words)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = if YAML11_BOOLEANS.contains(&k.as_str()) {
                        words.push(k.clone());
                        format!("{prefix}{}E", words.len() - 1)
                    } else {
                        k.clone()
                    };
                    (key, mark(v, prefix, words))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn yaml11_booleans_are_quoted() {
        let value = json!({"args": ["--appendonly", "no", "on", "yes"], "y": "n", "plain": "none"});
        let yaml = to_yaml("t", &value).unwrap();
        assert_eq!(
            yaml,
            "args:\n- --appendonly\n- 'no'\n- 'on'\n- 'yes'\n'y': 'n'\nplain: none\n"
        );
        let back: Value = serde_norway::from_str(&yaml).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn a_value_containing_the_marker_still_round_trips() {
        let value = json!(["girderYamlQuoted0E", "no", "girderYamlQuotedx0E"]);
        let yaml = to_yaml("t", &value).unwrap();
        let back: Value = serde_norway::from_str(&yaml).unwrap();
        assert_eq!(back, value);
    }

    proptest! {
        #[test]
        fn any_strings_round_trip(items in proptest::collection::vec(
            prop_oneof![
                Just("no".to_owned()), Just("Off".to_owned()), Just("<<".to_owned()),
                "[a-zA-Z0-9 =<:'\"-]{0,12}",
            ],
            0..12,
        )) {
            let value = json!({"list": items.clone(), "map": items.iter().map(|s| (s.clone(), Value::String(s.clone()))).collect::<serde_json::Map<_, _>>()});
            let yaml = to_yaml("t", &value).unwrap();
            let back: Value = serde_norway::from_str(&yaml).unwrap();
            prop_assert_eq!(back, value);
            for line in yaml.lines() {
                let item = line.trim_start().strip_prefix("- ").unwrap_or(line.trim_start());
                let (key, value) = item.split_once(": ").unwrap_or(("", item));
                for part in [key, value] {
                    prop_assert!(!YAML11_BOOLEANS.contains(&part), "{} left bare in {}", part, yaml);
                }
            }
        }
    }
}
