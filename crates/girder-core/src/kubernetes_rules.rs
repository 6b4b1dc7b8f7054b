//! The Kubernetes API's rules for label and annotation keys and values, in one place:
//! girder-k8s checks its constructs' metadata with them when they are added (the error
//! names the construct), and synth checks every object of the bundle with them (raw JSON,
//! k8s-openapi and CRD objects too). Each function returns why a value breaks the rule.
//!
//! The rules are those of `k8s.io/apimachinery/pkg/util/validation`:
//! - a label key or annotation key is a qualified name: an optional prefix (a DNS-1123
//!   subdomain of at most 253 characters) and `/`, then a name of 1-63 characters,
//!   alphanumeric at both ends with `-`, `_` and `.` inside. Annotation keys are checked
//!   lowercased (the API server does so), label keys as given;
//! - a label value is empty or 1-63 characters of the same shape as the name;
//! - annotation values are any text, but keys and values together are at most 256 KiB.

use std::collections::BTreeMap;

/// The API server's limit on the total size of an object's annotations (keys + values).
pub const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 characters.
fn is_qualified_name_part(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.ends_with(|c: char| c.is_ascii_alphanumeric())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A DNS-1123 subdomain: at most 253 characters, dot-separated labels of lowercase
/// letters, digits and '-', each alphanumeric at both ends
/// ([`crate::vocabulary::dns::is_dns_subdomain`], the one definition).
pub fn is_dns_subdomain(text: &str) -> bool {
    crate::vocabulary::dns::is_dns_subdomain(text)
}

fn qualified_name(key: &str) -> Result<(), String> {
    const SHAPE: &str = "an optional DNS subdomain prefix (at most 253 characters) and '/', \
                         then 1-63 letters, digits, '-', '_' or '.', starting and ending with \
                         a letter or digit (\"app.kubernetes.io/name\", \"tier\")";
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if !is_dns_subdomain(prefix) {
            return Err(format!(
                "the prefix {prefix:?} is not a DNS subdomain; a key is {SHAPE}"
            ));
        }
    }
    if !is_qualified_name_part(name) {
        return Err(format!("a key is {SHAPE}"));
    }
    Ok(())
}

/// Check a label key.
pub fn label_key(key: &str) -> Result<(), String> {
    qualified_name(key).map_err(|why| format!("label key {key:?}: {why}"))
}

/// Check the value of label `key`.
pub fn label_value(key: &str, value: &str) -> Result<(), String> {
    if value.is_empty() || is_qualified_name_part(value) {
        Ok(())
    } else {
        let length = if value.len() > 63 {
            format!(" ({} characters)", value.len())
        } else {
            String::new()
        };
        Err(format!(
            "label {key} value {value:?}{length}: a label value is empty or at most 63 \
             letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ))
    }
}

/// Check a map of labels (or a label selector's `matchLabels`).
pub fn labels<'a>(labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<(), String> {
    for (key, value) in labels {
        label_key(key)?;
        label_value(key, value)?;
    }
    Ok(())
}

/// Check an annotation key.
pub fn annotation_key(key: &str) -> Result<(), String> {
    qualified_name(&key.to_ascii_lowercase())
        .map_err(|why| format!("annotation key {key:?}: {why}"))
}

/// Check a map of annotations: every key, and the total size.
pub fn annotations<'a>(
    annotations: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), String> {
    let mut total = 0usize;
    for (key, value) in annotations {
        annotation_key(key)?;
        total = total.saturating_add(key.len()).saturating_add(value.len());
    }
    if total > ANNOTATIONS_MAX_BYTES {
        return Err(format!(
            "the annotations hold {total} bytes; Kubernetes allows {ANNOTATIONS_MAX_BYTES} \
             (256 KiB) for keys and values together"
        ));
    }
    Ok(())
}

/// [`labels`] over a `BTreeMap`, for constructs.
pub fn label_map(map: &BTreeMap<String, String>) -> Result<(), String> {
    labels(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// [`annotations`] over a `BTreeMap`, for constructs.
pub fn annotation_map(map: &BTreeMap<String, String>) -> Result<(), String> {
    annotations(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_keys() {
        for good in [
            "app",
            "app.kubernetes.io/name",
            "kubernetes.io/metadata.name",
            "A_b.c-D",
            "x/y",
            &"a".repeat(63),
            &format!("{0}.{0}.{0}.{1}/a", "b".repeat(63), "c".repeat(61)),
        ] {
            label_key(good).unwrap();
        }
        for bad in [
            "",
            "/x",
            "x/",
            "a/b/c",
            "-x",
            "x-",
            "has space",
            "App.Example.com/x",
            "under_score.io/x",
            &"a".repeat(64),
            &format!("{0}.{0}.{0}.{1}/a", "b".repeat(63), "c".repeat(62)),
            &format!("{}/a", "b".repeat(64)),
            "ünicode",
        ] {
            assert!(label_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn label_values() {
        for good in ["", "a", "shop", "v1.2.3", "A-b_c.d", &"a".repeat(63)] {
            label_value("k", good).unwrap();
        }
        for bad in ["-a", "a-", ".a", "a b", "a/b", "ü", &"a".repeat(64)] {
            assert!(label_value("k", bad).is_err(), "{bad}");
        }
        let err = label_value("app.kubernetes.io/part-of", &"a".repeat(64)).unwrap_err();
        assert!(
            err.starts_with("label app.kubernetes.io/part-of value \"aaa"),
            "{err}"
        );
        assert!(err.contains("(64 characters)"), "{err}");
    }

    #[test]
    fn annotation_keys_are_checked_lowercased_and_their_size_is_bounded() {
        annotation_key("Example.COM/Thing").unwrap();
        assert!(annotation_key("a b").is_err());
        let big = "x".repeat(ANNOTATIONS_MAX_BYTES);
        annotations([("a", &big[1..])]).unwrap();
        let err = annotations([("a", big.as_str())]).unwrap_err();
        assert!(err.contains("Kubernetes allows 262144 (256 KiB)"), "{err}");
    }
}
