//! Name and value rules of the Kubernetes API, checked when a construct is added so the
//! error names the construct path.

use girder_core::{Error, Result};

/// A DNS-1123 label: 1-63 lowercase letters, digits and '-', alphanumeric at both ends.
pub(crate) fn dns_label(at: &str, what: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            at,
            format!(
                "{what} {value:?} is not a DNS-1123 label: 1-63 lowercase letters, digits \
                 and '-', starting and ending with a letter or digit"
            ),
        ))
    }
}

/// An IANA service name (a named port): 1-15 lowercase letters, digits and '-', at least
/// one letter, no leading, trailing or double '-'.
pub(crate) fn port_name(at: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 15
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && value.chars().any(|c| c.is_ascii_lowercase())
        && !value.starts_with('-')
        && !value.ends_with('-')
        && !value.contains("--");
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            at,
            format!(
                "port name {value:?} is not an IANA service name: 1-15 lowercase letters, \
                 digits and '-', with a letter, no '--'"
            ),
        ))
    }
}

/// A Kubernetes quantity (`250m`, `1.5`, `512Mi`, `2Gi`, `1e3`).
pub(crate) fn quantity(at: &str, what: &str, value: &str) -> Result<()> {
    let number_end = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, suffix) = value.split_at(number_end);
    let number_ok = !number.is_empty()
        && number.chars().filter(|c| *c == '.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit());
    let suffix_ok = matches!(
        suffix,
        "" | "m" | "k" | "M" | "G" | "T" | "P" | "E" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei"
    ) || (suffix.starts_with(['e', 'E'])
        && suffix[1..]
            .trim_start_matches(['+', '-'])
            .chars()
            .all(|c| c.is_ascii_digit())
        && suffix.len() > 1);
    if number_ok && suffix_ok {
        Ok(())
    } else {
        Err(Error::invalid(
            at,
            format!(
                "{what} {value:?} is not a Kubernetes quantity (examples: 250m, 1, 512Mi, 2Gi)"
            ),
        ))
    }
}

/// A container image pinned by tag or digest: `repo:tag`, `repo@sha256:<64 hex>` or both.
/// `latest` and untagged images are refused: what runs must be what was reviewed.
pub(crate) fn image(at: &str, container: &str, value: &str) -> Result<()> {
    let fail = |why: &str| {
        Err(Error::invalid(
            at,
            format!(
                "container {container:?} image {value:?}: {why}; pin it as repo:tag or \
                 repo@sha256:<digest>"
            ),
        ))
    };
    if value.is_empty() || value.chars().any(char::is_whitespace) {
        return fail("not an image reference");
    }
    let (name, digest) = match value.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (value, None),
    };
    if let Some(digest) = digest {
        let hex = digest.strip_prefix("sha256:").unwrap_or_default();
        if hex.len() != 64
            || !hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        {
            return fail("the digest is not sha256:<64 lowercase hex digits>");
        }
    }
    // A tag is after the last ':' that follows the last '/' (a registry port is not a tag).
    let last_segment = name.rsplit('/').next().unwrap_or(name);
    let tag = last_segment.split_once(':').map(|(_, tag)| tag);
    let repository = &name[..name.len() - tag.map_or(0, |t| t.len() + 1)];
    if repository.is_empty() || repository.chars().any(|c| c.is_ascii_uppercase()) {
        return fail("the repository must be lowercase");
    }
    match (tag, digest) {
        (Some("latest"), None) => fail("`latest` is not a version"),
        (Some(tag), _) if tag.is_empty() || tag.len() > 128 => fail("the tag is empty or too long"),
        (None, None) => fail("it has no tag or digest"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_must_be_pinned() {
        let digest = format!("sha256:{}", "a".repeat(64));
        for good in [
            "nginx:1.27".to_owned(),
            "registry.example:5000/team/api:v1.2".to_owned(),
            format!("ghcr.io/acme/api@{digest}"),
            format!("ghcr.io/acme/api:1.0@{digest}"),
        ] {
            image("x", "c", &good).unwrap();
        }
        for bad in [
            "nginx",
            "nginx:latest",
            "registry.example:5000/api",
            "api@sha256:abc",
            "",
        ] {
            assert!(image("x", "c", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quantities() {
        for good in ["250m", "1", "0.5", "512Mi", "2Gi", "1e3", "100k"] {
            quantity("x", "cpu", good).unwrap();
        }
        for bad in ["", "Mi", "1.2.3", "12 Mi", "1mb", "-1"] {
            assert!(quantity("x", "cpu", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        dns_label("x", "name", "api-v2").unwrap();
        assert!(dns_label("x", "name", "Api").is_err());
        assert!(dns_label("x", "name", "-api").is_err());
        port_name("x", "http").unwrap();
        assert!(port_name("x", "8080").is_err());
        assert!(port_name("x", "a-very-long-port-name").is_err());
    }
}
