//! DNS-1123 names, the one definition girder uses: Kubernetes object names and
//! namespaces, stack and environment names, Helm release names, container names, Route53
//! zone names.

/// The longest DNS-1123 label.
pub const MAX_LABEL_LEN: usize = 63;
/// The longest DNS-1123 subdomain.
pub const MAX_SUBDOMAIN_LEN: usize = 253;

/// A DNS-1123 label: 1 to 63 of `[a-z0-9-]`, starting and ending with a letter or digit.
pub fn is_dns_label(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_LABEL_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
}

/// A DNS-1123 subdomain: at most 253 characters, DNS-1123 labels joined by `.`.
pub fn is_dns_subdomain(value: &str) -> bool {
    !value.is_empty() && value.len() <= MAX_SUBDOMAIN_LEN && value.split('.').all(is_dns_label)
}

/// A domain name of at least two DNS-1123 labels (`pixtools.internal`).
pub fn is_domain_name(value: &str) -> bool {
    is_dns_subdomain(value) && value.contains('.')
}

/// A DNS-1123 label of at most `max_len` characters that starts with a letter (RFC 1035
/// style): names that also become directory names, workspace names and label values.
pub fn is_short_label_starting_with_letter(value: &str, max_len: usize) -> bool {
    is_dns_label(value)
        && value.len() <= max_len
        && value.starts_with(|c: char| c.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for good in ["a", "web-1", "0abc", "a--b", &"a".repeat(63)] {
            assert!(is_dns_label(good), "{good}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "A",
            "a.b",
            "a_b",
            "a/b",
            "..",
            "é",
            &"a".repeat(64),
        ] {
            assert!(!is_dns_label(bad), "{bad}");
        }
    }

    #[test]
    fn subdomains_and_domains() {
        let long = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        assert_eq!(long.len(), 253);
        for good in ["a", "kube-root-ca.crt", "a.b.c", long.as_str()] {
            assert!(is_dns_subdomain(good), "{good}");
        }
        let too_long = format!("{long}x");
        for bad in [
            "", ".", "..", "a..b", ".a", "a.", "x/../y", "a\\b", "A.b", &too_long,
        ] {
            assert!(!is_dns_subdomain(bad), "{bad}");
        }
        assert!(is_domain_name("pixtools.internal"));
        for bad in ["internal", "Pix.internal", "a..b", ""] {
            assert!(!is_domain_name(bad), "{bad}");
        }
    }

    #[test]
    fn short_labels_starting_with_a_letter() {
        for good in ["pixtools", "its-camera2", &"a".repeat(40)] {
            assert!(is_short_label_starting_with_letter(good, 40), "{good}");
        }
        for bad in ["", "Pix", "1abc", "a_b", "abc-", &"a".repeat(41)] {
            assert!(!is_short_label_starting_with_letter(bad, 40), "{bad}");
        }
    }
}
